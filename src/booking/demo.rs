//! Demo data (`ivr demo --seed-only`, and the demo server): the town "Mezcalito" with the
//! seed's families, the Ascension bridge of the current school year, and a few bookings in
//! the current weeks. Running it again changes nothing that is already there.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, Utc};

use crate::booking::calendar::{ActionScope, Override, ServiceScope};
use crate::booking::deadline::{service_runs, town_instant};
use crate::booking::french::date_fr;
use crate::booking::holidays::easter_sunday;
use crate::booking::model::{Action, Channel, ChildCode, PayerCode, ServiceCode};
use crate::booking::service::{BookingError, BookingService};
use crate::store::{Closure, HistoryEntry, NewChild, NewPayer, Store};

/// The demo's families: (payer code, payer name, e-mail, opt-in, children as
/// (child code, first name, last name, school, class, teacher)).
type DemoFamily = (
    &'static str,
    &'static str,
    &'static str,
    bool,
    &'static [(
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    )],
);

/// The families of the demo; Laurence MARSONE's are the seed's.
pub const FAMILIES: &[DemoFamily] = &[
    (
        "770021",
        "Laurence MARSONE",
        "laurence.marsone@example.org",
        true,
        &[
            (
                "3011",
                "Angéline",
                "MARSONE",
                "École Jules Ferry",
                "CE1",
                "Mme Formatrice",
            ),
            (
                "3012",
                "Théo",
                "MARSONE",
                "École Jules Ferry",
                "CM2",
                "M. Lambert",
            ),
        ],
    ),
    (
        "770022",
        "Paul DURAND",
        "paul.durand@example.org",
        false,
        &[(
            "3021",
            "Léa",
            "DURAND",
            "École Jules Ferry",
            "CP",
            "Mme Petit",
        )],
    ),
    (
        "770023",
        "Jeanne MARTIN",
        "jeanne.martin@example.org",
        false,
        &[(
            "3031",
            "Inès",
            "MARTIN",
            "École du Centre",
            "CE2",
            "M. Moreau",
        )],
    ),
    (
        "770024",
        "Karim BENALI",
        "karim.benali@example.org",
        true,
        &[
            (
                "3041",
                "Yanis",
                "BENALI",
                "École du Centre",
                "GS",
                "Mme Roux",
            ),
            (
                "3042",
                "Lina",
                "BENALI",
                "École du Centre",
                "CM1",
                "Mme Garnier",
            ),
        ],
    ),
];

/// The demo bookings: child code and the services booked on each of its service days.
const BOOKINGS: &[(&str, &[&str])] = &[
    ("3011", &["REPAS", "SOIR"]),
    ("3012", &["REPAS"]),
    ("3021", &["MATIN", "REPAS"]),
    ("3031", &["REPAS", "MIDI"]),
    ("3041", &["REPAS"]),
];

/// Who the demo's history rows name.
const ACTOR: &str = "démo";

/// What a seeding did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DemoSummary {
    /// Payers created (0 when the demo families were already there).
    pub payers: usize,
    /// Children created.
    pub children: usize,
    /// Bookings added.
    pub bookings: usize,
    /// Closures and overrides added.
    pub calendar_entries: usize,
}

/// Seeds the demo at `now`: the town's name and message (when not set yet), the families,
/// the Ascension bridge of the current school year (a closure on the Friday and the seed's
/// override: cancellations for the following Monday closed since Wednesday 10:15), and
/// bookings on the service days of this week and the next. All of it in one transaction.
pub async fn seed(
    service: &BookingService,
    town_name: &str,
    town_message: &str,
    now: DateTime<Utc>,
) -> Result<DemoSummary, BookingError> {
    let store = service.store();
    let rules = service.rules();
    let tz = rules.timezone();
    let today = now.with_timezone(&tz).date_naive();
    let mut summary = DemoSummary::default();
    let mut tx = store.begin().await?;

    for (payer_code, name, email, opt_in, children) in FAMILIES {
        let code = PayerCode::parse(payer_code).expect("demo codes are digits");
        let payer = match tx.payer_id_by_code(&code).await? {
            Some(id) => id,
            None => {
                summary.payers += 1;
                tx.insert_payer(&NewPayer {
                    code,
                    name: (*name).into(),
                    email: (*email).into(),
                    invoice_email_opt_in: *opt_in,
                })
                .await?
            }
        };
        for (child_code, first, last, school, class, teacher) in *children {
            let code = ChildCode::parse(child_code).expect("demo codes are digits");
            if tx.child_id_by_code(&code).await?.is_none() {
                summary.children += 1;
                tx.insert_child(&NewChild {
                    code,
                    payer,
                    first_name: (*first).into(),
                    last_name: (*last).into(),
                    school: (*school).into(),
                    class_label: (*class).into(),
                    teacher: (*teacher).into(),
                })
                .await?;
            }
        }
    }

    // The Ascension bridge of the school year that holds `today`.
    let (bridge, monday) = ascension_bridge(today);
    let wednesday = monday - Days::new(5);
    if tx.closures_between(bridge, bridge).await?.is_empty() {
        tx.add_closure(&Closure {
            date: bridge,
            label: "Pont de l'Ascension".into(),
        })
        .await?;
        summary.calendar_entries += 1;
    }
    if tx.overrides_between(monday, monday).await?.is_empty() {
        let at = NaiveTime::from_hms_opt(10, 15, 0).expect("valid time");
        tx.add_override(&Override {
            date: monday,
            services: ServiceScope::All,
            actions: ActionScope::Cancel,
            deadline: town_instant(tz, wednesday, at),
            message: format!(
                "ATTENTION! En raison du week-end de l'Ascension, les annulations pour le {} \
                 NE SONT PLUS POSSIBLES depuis {} à 10H15.",
                date_fr(monday),
                date_fr(wednesday)
            ),
        })
        .await?;
        summary.calendar_entries += 1;
    }

    // Bookings on the service days of this week and the next, as the calendar (with the
    // database's closures, read in this transaction) has them.
    let this_monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
    let last = this_monday + Days::new(13);
    let back = this_monday - Days::new(400);
    let calendar = service.base_calendar().clone().with_closures(
        tx.closures_between(back, last)
            .await?
            .into_iter()
            .map(|c| c.date),
    );
    for (child_code, services) in BOOKINGS {
        let code = ChildCode::parse(child_code).expect("demo codes are digits");
        let Some(child) = tx.child_id_by_code(&code).await? else {
            continue;
        };
        for offset in 0..14 {
            let date = this_monday + Days::new(offset);
            for code in *services {
                let code = ServiceCode::parse(code).expect("demo service codes are valid");
                let Some(svc) = rules.service(&code) else {
                    continue;
                };
                if service_runs(&calendar, svc, date).is_err() {
                    continue;
                }
                if tx.insert_booking(child, date, &code, now).await? {
                    summary.bookings += 1;
                    tx.push_history(
                        child,
                        &HistoryEntry {
                            action: Action::Book,
                            date,
                            service: code.clone(),
                            channel: Channel::Staff,
                            actor: ACTOR.into(),
                            at: now,
                        },
                    )
                    .await?;
                }
            }
        }
    }
    tx.commit().await?;

    if store.setting(Store::TOWN_NAME).await?.is_none() {
        store.set_setting(Store::TOWN_NAME, town_name).await?;
    }
    if store.setting(Store::TOWN_MESSAGE).await?.is_none() {
        store.set_setting(Store::TOWN_MESSAGE, town_message).await?;
    }
    Ok(summary)
}

/// The dates of the demo's Ascension bridge for the school year holding `today`:
/// (the closed Friday, the Monday whose cancellations close early).
pub fn ascension_bridge(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let spring = if today.month() >= 8 {
        today.year() + 1
    } else {
        today.year()
    };
    let ascension = easter_sunday(spring) + Days::new(39);
    (ascension + Days::new(1), ascension + Days::new(4))
}
