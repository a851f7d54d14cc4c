//! The staff dashboard's figures for one day, from the call records and the booking
//! history: calls per quarter-hour (the 10:00 peak), how far calls got, changes by
//! channel over the week before, logins refused and lockouts, the day's head-counts.
//! The database holds the truth, so every node of a PostgreSQL installation shows the
//! same figures, and a restart loses none.

use chrono::{DateTime, Days, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;

use crate::service::booking::{BookingError, BookingService};
use crate::store::{CallOutcome, CallRecord, ChannelChanges, HeadCount, day_range};

/// Quarter-hours in a day (96; a day of a daylight-saving change is drawn on the same 96,
/// by the wall clock).
pub const QUARTERS: usize = 96;

/// Days of changes shown, the chosen day last.
pub const CHANGE_DAYS: u64 = 7;

/// The channels of the history, in the dashboard's order.
pub const CHANNELS: [&str; 3] = ["web", "phone", "staff"];

/// Bookings and cancellations of one day through each channel (in [`CHANNELS`] order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayChanges {
    /// The town's day.
    pub date: NaiveDate,
    /// Bookings per channel.
    pub booked: [u32; 3],
    /// Cancellations per channel.
    pub cancelled: [u32; 3],
}

/// One day's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayReport {
    /// The town's day.
    pub date: NaiveDate,
    /// Calls that started in each quarter-hour, town time (0 = 00:00-00:15).
    pub calls_per_quarter: [u32; QUARTERS],
    /// Calls by outcome, in [`CallOutcome::ALL`] order.
    pub outcomes: [(CallOutcome, u32); 5],
    /// Bookings and cancellations made on the phone by that day's calls.
    pub phone_booked: u32,
    /// See `phone_booked`.
    pub phone_cancelled: u32,
    /// Logins refused for wrong codes on the phone that day.
    pub logins_failed: u32,
    /// Calls that met the lockout that day.
    pub locked_calls: u32,
    /// Login counters (parents' and staff's, any channel) locked right now.
    pub locked_now: i64,
    /// Parents' refused logins that day: (channel, reason, count), channel `web` or
    /// `phone`, reason `wrong_codes` or `locked`.
    pub login_refusals: Vec<(String, String, i64)>,
    /// Calls the caller hung up before the flow ended, by the step they were at, most first.
    pub hung_up_at: Vec<(String, u32)>,
    /// Changes by channel, the [`CHANGE_DAYS`] days ending with `date`.
    pub changes: Vec<DayChanges>,
    /// The day's head-counts per school and service.
    pub head_counts: Vec<HeadCount>,
}

impl DayReport {
    /// Calls that day.
    pub fn calls(&self) -> u32 {
        self.calls_per_quarter.iter().sum()
    }
}

/// The figures of `date` (the town's day), with lockouts as of `now`.
pub async fn day_report(
    service: &BookingService,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<DayReport, BookingError> {
    let tz = service.rules().timezone();
    let store = service.store();
    let (from, to) = day_range(date, tz);
    let calls = store.call_records_between(from, to).await?;
    let first = date
        .checked_sub_days(Days::new(CHANGE_DAYS - 1))
        .unwrap_or(date);
    let (since, _) = day_range(first, tz);
    let changes = store.changes_between(since, to).await?;
    let locked_now = store.locked_login_counters(now).await?;
    let head_counts = service.head_counts(date).await?;
    let mut day = report(date, tz, &calls, &changes, locked_now, head_counts);
    day.login_refusals = store.login_refusals(date).await?;
    Ok(day)
}

/// The report from the rows (pure: the bucketing by the town's clock is tested here).
pub fn report(
    date: NaiveDate,
    tz: Tz,
    calls: &[CallRecord],
    changes: &[ChannelChanges],
    locked_now: i64,
    head_counts: Vec<HeadCount>,
) -> DayReport {
    let mut calls_per_quarter = [0u32; QUARTERS];
    let mut outcomes = CallOutcome::ALL.map(|o| (o, 0u32));
    let mut hung_up_at: Vec<(String, u32)> = Vec::new();
    let (mut phone_booked, mut phone_cancelled, mut logins_failed, mut locked_calls) = (0, 0, 0, 0);
    for c in calls {
        let local = c.started_at.with_timezone(&tz);
        if local.date_naive() != date {
            continue;
        }
        let quarter = (local.hour() * 4 + local.minute() / 15) as usize;
        calls_per_quarter[quarter.min(QUARTERS - 1)] += 1;
        if let Some(o) = outcomes.iter_mut().find(|(o, _)| *o == c.outcome) {
            o.1 += 1;
        }
        phone_booked += c.booked;
        phone_cancelled += c.cancelled;
        logins_failed += c.logins_failed;
        locked_calls += u32::from(c.outcome == CallOutcome::Locked);
        if c.ended_by == crate::store::EndedBy::Caller && !c.last_step.is_empty() {
            match hung_up_at.iter_mut().find(|(s, _)| *s == c.last_step) {
                Some(s) => s.1 += 1,
                None => hung_up_at.push((c.last_step.clone(), 1)),
            }
        }
    }
    hung_up_at.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let first = date
        .checked_sub_days(Days::new(CHANGE_DAYS - 1))
        .unwrap_or(date);
    let mut days: Vec<DayChanges> = first
        .iter_days()
        .take_while(|d| *d <= date)
        .map(|d| DayChanges {
            date: d,
            booked: [0; 3],
            cancelled: [0; 3],
        })
        .collect();
    for ch in changes {
        let day = ch.at.with_timezone(&tz).date_naive();
        let (Some(slot), Some(channel)) = (
            days.iter_mut().find(|d| d.date == day),
            CHANNELS.iter().position(|c| *c == ch.channel),
        ) else {
            continue;
        };
        match ch.action.as_str() {
            "inscription" => slot.booked[channel] += 1,
            _ => slot.cancelled[channel] += 1,
        }
    }
    DayReport {
        date,
        calls_per_quarter,
        outcomes,
        phone_booked,
        phone_cancelled,
        logins_failed,
        locked_calls,
        locked_now,
        login_refusals: Vec::new(),
        hung_up_at,
        changes: days,
        head_counts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EndedBy;

    fn call(at: &str, outcome: CallOutcome, ended_by: EndedBy, step: &str) -> CallRecord {
        let at: DateTime<Utc> = at.parse().unwrap();
        CallRecord {
            started_at: at,
            ended_at: at,
            line: "0476549985".into(),
            caller: String::new(),
            dialplan: "default".into(),
            outcome,
            logins_failed: u32::from(outcome == CallOutcome::LoginFailed),
            booked: u32::from(outcome == CallOutcome::Changed),
            cancelled: 0,
            refused: 0,
            failed: 0,
            last_step: step.into(),
            ended_by,
        }
    }

    fn change(at: &str, channel: &str, action: &str) -> ChannelChanges {
        ChannelChanges {
            channel: channel.into(),
            action: action.into(),
            at: at.parse().unwrap(),
        }
    }

    #[test]
    fn calls_fall_in_the_town_s_quarter_hours_and_outcomes_add_up() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        let tz = chrono_tz::Europe::Paris;
        let calls = [
            // 09:59 and 10:00 in Paris (UTC+1 in March before the change).
            call(
                "2026-03-09T08:59:30Z",
                CallOutcome::Changed,
                EndedBy::Line,
                "menu",
            ),
            call(
                "2026-03-09T09:00:00Z",
                CallOutcome::LoginFailed,
                EndedBy::Caller,
                "payer_code",
            ),
            call(
                "2026-03-09T09:14:59Z",
                CallOutcome::Locked,
                EndedBy::Caller,
                "payer_code",
            ),
            // 00:30 in Paris on the 9th, though the 8th in UTC.
            call(
                "2026-03-08T23:30:00Z",
                CallOutcome::NoLogin,
                EndedBy::Caller,
                "welcome",
            ),
            // The 10th in Paris: not this day.
            call(
                "2026-03-09T23:30:00Z",
                CallOutcome::NoLogin,
                EndedBy::Caller,
                "welcome",
            ),
        ];
        let r = report(day, tz, &calls, &[], 2, Vec::new());
        assert_eq!(r.calls(), 4);
        assert_eq!(r.calls_per_quarter[39], 1, "09:45-10:00");
        assert_eq!(r.calls_per_quarter[40], 2, "10:00-10:15");
        assert_eq!(r.calls_per_quarter[2], 1, "00:30");
        assert_eq!(
            r.outcomes,
            [
                (CallOutcome::Changed, 1),
                (CallOutcome::Consulted, 0),
                (CallOutcome::Locked, 1),
                (CallOutcome::LoginFailed, 1),
                (CallOutcome::NoLogin, 1),
            ]
        );
        assert_eq!(
            (
                r.phone_booked,
                r.logins_failed,
                r.locked_calls,
                r.locked_now
            ),
            (1, 1, 1, 2)
        );
        assert_eq!(
            r.hung_up_at,
            [("payer_code".to_owned(), 2), ("welcome".to_owned(), 1)],
            "only the calls the caller ended, by step, most first"
        );
    }

    #[test]
    fn changes_are_counted_per_town_day_and_channel_over_the_week() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        let tz = chrono_tz::Europe::Paris;
        let changes = [
            change("2026-03-09T08:00:00Z", "phone", "inscription"),
            change("2026-03-09T08:01:00Z", "phone", "annulation"),
            change("2026-03-09T08:02:00Z", "web", "inscription"),
            change("2026-03-03T10:00:00Z", "staff", "inscription"),
            // Before the week shown.
            change("2026-03-02T10:00:00Z", "web", "inscription"),
        ];
        let r = report(day, tz, &[], &changes, 0, Vec::new());
        assert_eq!(r.changes.len(), 7);
        assert_eq!(
            r.changes[0].date,
            NaiveDate::from_ymd_opt(2026, 3, 3).unwrap()
        );
        assert_eq!(r.changes[0].booked, [0, 0, 1]);
        let last = r.changes.last().unwrap();
        assert_eq!(last.date, day);
        assert_eq!((last.booked, last.cancelled), ([1, 1, 0], [0, 1, 0]));
    }
}
