//! The town's recorded announcement, one service for the web's staff page and the voice
//! line: which one plays today, storing an upload or a phone recording, dates and switch.
//!
//! Staff upload a WAV on the web; it is checked and converted once
//! ([`crate::media::upload`]) and stored with its validity dates and an on/off switch. The
//! voice line asks for [`active_id`] at each call, so a new recording is used by the next
//! call without restart.

use chrono::NaiveDate;
use thiserror::Error;

use crate::store::{AnnouncementId, NewAnnouncement, Store, StoreError, Validity};

/// Why an announcement could not be stored or changed.
#[derive(Debug, Error)]
pub enum AnnouncementRefused {
    /// The last day comes before the first.
    #[error("la date de fin précède la date de début")]
    EndBeforeStart,
    /// There is no such announcement.
    #[error("cette annonce n'existe pas")]
    Unknown,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Refuses dates that end before they start.
fn check(validity: &Validity) -> Result<(), AnnouncementRefused> {
    match (validity.from, validity.until) {
        (Some(f), Some(u)) if f > u => Err(AnnouncementRefused::EndBeforeStart),
        _ => Ok(()),
    }
}

/// Stores a converted announcement (an upload or a phone recording) and returns its id.
pub async fn add(
    store: &Store,
    new: &NewAnnouncement<'_>,
) -> Result<AnnouncementId, AnnouncementRefused> {
    check(&new.validity)?;
    Ok(store.insert_announcement(new).await?)
}

/// Changes an announcement's dates and switch.
pub async fn set_validity(
    store: &Store,
    id: AnnouncementId,
    validity: Validity,
) -> Result<(), AnnouncementRefused> {
    check(&validity)?;
    if store.set_announcement_validity(id, validity).await? {
        Ok(())
    } else {
        Err(AnnouncementRefused::Unknown)
    }
}

/// The announcement the voice line plays on `today` (the town's local date): the newest
/// one whose [`Validity::plays_on`] that day; `None` when none is active. The one
/// statement of that choice, used by the staff pages and by the voice line.
pub async fn active_id(
    store: &Store,
    today: NaiveDate,
) -> Result<Option<AnnouncementId>, StoreError> {
    Ok(store
        .enabled_announcement_validities()
        .await?
        .into_iter()
        .find(|(_, validity)| validity.plays_on(today))
        .map(|(id, _)| id))
}

/// The announcement active on `today` ([`active_id`]) with its 8 kHz mono 16-bit WAV.
pub async fn current(
    store: &Store,
    today: NaiveDate,
) -> Result<Option<(AnnouncementId, Vec<u8>)>, StoreError> {
    let Some(id) = active_id(store, today).await? else {
        return Ok(None);
    };
    // Deleted between the two reads: as if none were active.
    Ok(store.announcement_wav(id).await?.map(|wav| (id, wav)))
}
