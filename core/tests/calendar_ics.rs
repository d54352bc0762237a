//! The release calendar as iCalendar (R-6a, R-6e, R-6b), parsed back with an
//! iCalendar library: stable UIDs, so calendar clients update events instead
//! of duplicating them, and conflicts flagged.

use jiff::Timestamp;
use shipwarden::Policy;
use shipwarden::calendar::{Booking, Calendar, to_ics};

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn booking(release: &str, start: &str, end: &str) -> Booking {
    Booking {
        release: release.parse().expect("id"),
        environment: "prod".parse().expect("env"),
        start: ts(start),
        end: ts(end),
    }
}

/// (UID, DTSTART, SUMMARY, conflicts) of every event.
fn events(text: &str) -> Vec<(String, String, String, Vec<String>)> {
    let mut parser = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()));
    let calendar = parser.next().expect("one calendar").expect("parses");
    assert!(parser.next().is_none());
    calendar
        .events
        .iter()
        .map(|e| {
            let get = |name: &str| {
                e.properties.iter().find(|p| p.name == name).and_then(|p| p.value.clone()).unwrap_or_default()
            };
            let conflicts = e
                .properties
                .iter()
                .filter(|p| p.name == "X-SHIPWARDEN-CONFLICT")
                .filter_map(|p| p.value.clone())
                .collect();
            (get("UID"), get("DTSTART"), get("SUMMARY"), conflicts)
        })
        .collect()
}

#[test]
fn the_ics_round_trips_with_stable_uids_and_flagged_conflicts_r6a_r6e() {
    let policy = Policy::default();
    let calendar = Calendar::new(&policy);
    let (from, to) = (ts("2026-11-28T00:00:00Z"), ts("2026-12-05T00:00:00Z"));
    let mut bookings = vec![
        booking("shop-1.4.0", "2026-11-28T10:00:00Z", "2026-11-28T11:00:00Z"),
        booking("shop-1.5.0", "2026-11-28T10:30:00Z", "2026-11-28T11:30:00Z"),
        booking("api-2.0.0", "2026-11-30T10:00:00Z", "2026-11-30T11:00:00Z"),
    ];
    let first = events(&to_ics(&calendar.occurrences(&bookings, from, to), ts("2026-11-27T12:00:00Z")));
    let occurrences = calendar.occurrences(&bookings, from, to);
    assert_eq!(first.len(), occurrences.len());
    let mut uids: Vec<&String> = first.iter().map(|e| &e.0).collect();
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), first.len(), "every event has its own UID");
    let by_uid = |list: &[(String, String, String, Vec<String>)], uid: &str| {
        list.iter().find(|e| e.0 == uid).cloned().unwrap_or_else(|| panic!("{uid} missing"))
    };
    let shop = by_uid(&first, "deployment-shop-1.4.0-prod@shipwarden");
    assert_eq!((shop.1.as_str(), shop.2.as_str()), ("20261128T100000Z", "CONFLICT: Deploy shop-1.4.0 to prod"));
    assert_eq!(shop.3, ["R-6e: overlaps shop-1.5.0 on prod"]);
    let api = by_uid(&first, "deployment-api-2.0.0-prod@shipwarden");
    assert_eq!(api.3, ["R-6b: inside blackout peak-hours"]);
    assert!(by_uid(&first, "blackout-peak-hours-20261130@shipwarden").2.starts_with("Blackout: peak-hours"));

    // Rescheduled into the maintenance window and exported again: the same UIDs, the booking moved, no conflict.
    bookings[0] = booking("shop-1.4.0", "2026-11-29T02:00:00Z", "2026-11-29T03:00:00Z");
    let second = events(&to_ics(&calendar.occurrences(&bookings, from, to), ts("2026-11-27T13:00:00Z")));
    let mut a: Vec<&String> = first.iter().map(|e| &e.0).collect();
    let mut b: Vec<&String> = second.iter().map(|e| &e.0).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b, "a client updates the events it has; nothing is duplicated");
    let moved = by_uid(&second, "deployment-shop-1.4.0-prod@shipwarden");
    assert_eq!((moved.1.as_str(), moved.2.as_str()), ("20261129T020000Z", "Deploy shop-1.4.0 to prod"));
    assert!(moved.3.is_empty());
    assert!(by_uid(&second, "deployment-shop-1.5.0-prod@shipwarden").3.is_empty());
}
