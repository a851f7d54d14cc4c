//! Property tests: the deadline is always on a working day of the office, and time only
//! ever closes cells.

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use proptest::prelude::*;

use super::*;
use crate::booking::calendar::{ActionScope, Override, ServiceScope};
use crate::booking::weekdays::Weekdays;

fn base() -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()
}

/// A service day between 2020 and 2035, one of the default services, and closures within
/// the month before it (the ones that can move its deadline).
fn cell() -> impl Strategy<Value = (NaiveDate, usize, Vec<u64>, bool)> {
    (
        0u64..(15 * 366),
        0usize..4,
        proptest::collection::vec(0u64..30, 0..8),
        any::<bool>(),
    )
        .prop_map(|(day, service, closures, cancel)| {
            (base() + Days::new(day), service, closures, cancel)
        })
}

fn calendar_with(date: NaiveDate, closures: &[u64]) -> Calendar {
    Calendar::default().with_closures(closures.iter().map(|back| date - Days::new(*back)))
}

fn action(cancel: bool) -> Action {
    if cancel { Action::Cancel } else { Action::Book }
}

proptest! {
    #[test]
    fn deadline_is_on_a_working_day(
        (date, service, closures, cancel) in cell(),
        office_mask in 1u8..128,
    ) {
        let rules = Rules::default();
        let mut cal = calendar_with(date, &closures);
        // Any office week, even one without the service's days (Saturday-only offices).
        cal.office_days = Weekdays::from_days(
            (0..7).filter(|bit| office_mask & (1 << bit) != 0).map(|bit| {
                chrono::Weekday::try_from(bit).expect("0 to 6 are weekdays")
            }),
        );
        let code = &rules.services()[service].code;
        if let Some(deadline) = deadline_for(&rules, &cal, date, code, action(cancel)) {
            let local_day = deadline.with_timezone(&rules.timezone()).date_naive();
            prop_assert!(cal.is_working_day(local_day), "{deadline} for {date} {code}");
            prop_assert!(local_day <= date);
        }
    }

    #[test]
    fn later_never_reopens(
        (date, service, closures, cancel) in cell(),
        minutes_before in -(40i64 * 24 * 60)..(2 * 24 * 60),
        later_by in 0i64..(10 * 24 * 60),
        override_at in proptest::option::of(-(10i64 * 24 * 60)..(24 * 60)),
    ) {
        let rules = Rules::default();
        let noon = |day: NaiveDate| -> DateTime<Utc> {
            day.and_hms_opt(12, 0, 0).unwrap().and_utc()
        };
        let mut cal = calendar_with(date, &closures);
        if let Some(offset) = override_at {
            cal = cal.with_overrides([Override {
                date,
                services: ServiceScope::All,
                actions: ActionScope::Both,
                deadline: noon(date) + TimeDelta::minutes(offset),
                message: "Délai modifié par la mairie.".to_owned(),
            }]);
        }
        let code = &rules.services()[service].code;
        let first = noon(date) + TimeDelta::minutes(minutes_before);
        let second = first + TimeDelta::minutes(later_by);
        let a = decide(&rules, &cal, date, code, action(cancel), first);
        let b = decide(&rules, &cal, date, code, action(cancel), second);
        if !a.is_open() {
            prop_assert!(!b.is_open(), "{date} {code}: closed at {first}, open at {second}");
        }
        // The deadline itself does not depend on the instant.
        prop_assert_eq!(a.deadline(), b.deadline());
    }
}
