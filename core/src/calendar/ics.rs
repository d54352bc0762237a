//! The calendar as events (R-6a, R-6d): every blackout, maintenance window,
//! freeze and booked deployment in a range, and their iCalendar (RFC 5545)
//! text, for the teams' shared calendars.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Booking, Calendar, Day, at_local};
use crate::model::EnvName;

/// What an occurrence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OccurrenceKind {
    /// No deployments (R-6b).
    Blackout,
    /// Deployments of some kinds only here (R-6c).
    Maintenance,
    /// A change freeze (R-6b).
    Freeze,
    /// A booked deployment (R-6a).
    Deployment,
}

/// One window or booking between two instants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    /// What it is.
    pub kind: OccurrenceKind,
    /// The window's name, or the release booked.
    pub name: String,
    /// The environments it is for.
    pub environments: Vec<EnvName>,
    /// Start, inclusive.
    pub start: Timestamp,
    /// End, exclusive.
    pub end: Timestamp,
    /// For a deployment: what it conflicts with (another booking of its
    /// environment, R-6e; a blackout or freeze of its environment, R-6b).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
}

impl Calendar<'_> {
    /// Every window occurrence and booking that overlaps `[from, to)`, by start.
    pub fn occurrences(&self, bookings: &[Booking], from: Timestamp, to: Timestamp) -> Vec<Occurrence> {
        let c = &self.policy.calendar;
        let mut out = Vec::new();
        let mut date = from.to_zoned_datetime(self.tz.clone()).date().yesterday().unwrap_or_default();
        let last = to.to_zoned_datetime(self.tz.clone()).date();
        while date <= last {
            let day = Day::of(date.weekday());
            let weekly = c
                .blackouts
                .iter()
                .map(|w| (OccurrenceKind::Blackout, w))
                .chain(c.maintenance.iter().map(|w| (OccurrenceKind::Maintenance, w)));
            for (kind, w) in weekly.filter(|(_, w)| w.days.contains(&day)) {
                let (Some(start), Some(end)) = (at_local(date, w.start, &self.tz), at_local(date, w.end, &self.tz))
                else {
                    continue;
                };
                if start < to && end > from {
                    out.push(Occurrence {
                        kind,
                        name: w.name.clone(),
                        environments: w.environments.clone(),
                        start,
                        end,
                        conflicts: Vec::new(),
                    });
                }
            }
            let Ok(next) = date.tomorrow() else { break };
            date = next;
        }
        for f in &c.freezes {
            let start = f.start.to_zoned_datetime(self.tz.clone()).ok().map(|z| z.timestamp());
            let end = f.end.to_zoned_datetime(self.tz.clone()).ok().map(|z| z.timestamp());
            if let (Some(start), Some(end)) = (start, end)
                && start < to
                && end > from
            {
                let environments = f.environments.clone();
                out.push(Occurrence {
                    kind: OccurrenceKind::Freeze,
                    name: f.name.clone(),
                    environments,
                    start,
                    end,
                    conflicts: Vec::new(),
                });
            }
        }
        let windows: Vec<Occurrence> = out.clone();
        for b in bookings.iter().filter(|b| b.start < to && b.end > from) {
            let mut conflicts: Vec<String> = bookings
                .iter()
                .filter(|o| o.release != b.release && o.conflicts_with(b))
                .map(|o| format!("R-6e: overlaps {} on {}", o.release, o.environment))
                .collect();
            conflicts.extend(
                windows
                    .iter()
                    .filter(|w| {
                        matches!(w.kind, OccurrenceKind::Blackout | OccurrenceKind::Freeze)
                            && w.environments.contains(&b.environment)
                            && w.start < b.end
                            && w.end > b.start
                    })
                    .map(|w| format!("R-6b: inside {} {}", format!("{:?}", w.kind).to_lowercase(), w.name)),
            );
            out.push(Occurrence {
                kind: OccurrenceKind::Deployment,
                name: b.release.to_string(),
                environments: vec![b.environment.clone()],
                start: b.start,
                end: b.end,
                conflicts,
            });
        }
        out.sort_by(|a, b| (a.start, a.end, &a.name).cmp(&(b.start, b.end, &b.name)));
        out
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '\\' | ';' | ',' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' => out.push_str("\\n"),
            '\r' => {}
            _ => out.push(ch),
        }
    }
    out
}

/// Folds a content line at 75 octets (RFC 5545 §3.1), never inside a character.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for ch in line.chars() {
        if width + ch.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(ch);
        width += ch.len_utf8();
    }
    out.push_str("\r\n");
}

fn stamp(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// The event's UID: the same for the same booking or window occurrence on
/// every export, so calendar clients update events instead of duplicating
/// them. A booking is one per release and environment (rescheduling it moves
/// the event); a window occurrence is its kind, name and start day.
pub fn uid(o: &Occurrence) -> String {
    let envs: Vec<&str> = o.environments.iter().map(EnvName::as_str).collect();
    let id = match o.kind {
        OccurrenceKind::Deployment => format!("deployment-{}-{}", o.name, envs.join("+")),
        kind => format!("{}-{}-{}", format!("{kind:?}").to_lowercase(), o.name, o.start.strftime("%Y%m%d")),
    };
    let safe: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '+' | '_') { c } else { '_' })
        .collect();
    format!("{safe}@shipwarden")
}

/// The occurrences as an iCalendar file; `now` is each event's `DTSTAMP`.
/// A deployment with conflicts says so in its summary, its description and
/// `X-SHIPWARDEN-CONFLICT` properties.
pub fn to_ics(occurrences: &[Occurrence], now: Timestamp) -> String {
    let mut out = String::new();
    for line in ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//shipwarden//release calendar//EN", "CALSCALE:GREGORIAN"] {
        fold(line, &mut out);
    }
    for o in occurrences {
        let envs: Vec<&str> = o.environments.iter().map(EnvName::as_str).collect();
        let (summary, category) = match o.kind {
            OccurrenceKind::Blackout => (format!("Blackout: {} ({})", o.name, envs.join(", ")), "BLACKOUT"),
            OccurrenceKind::Maintenance => {
                (format!("Maintenance window: {} ({})", o.name, envs.join(", ")), "MAINTENANCE")
            }
            OccurrenceKind::Freeze => (format!("Freeze: {} ({})", o.name, envs.join(", ")), "FREEZE"),
            OccurrenceKind::Deployment => (format!("Deploy {} to {}", o.name, envs.join(", ")), "DEPLOYMENT"),
        };
        let summary = if o.conflicts.is_empty() { summary } else { format!("CONFLICT: {summary}") };
        fold("BEGIN:VEVENT", &mut out);
        fold(&format!("UID:{}", escape(&uid(o))), &mut out);
        fold(&format!("DTSTAMP:{}", stamp(now)), &mut out);
        fold(&format!("DTSTART:{}", stamp(o.start)), &mut out);
        fold(&format!("DTEND:{}", stamp(o.end)), &mut out);
        fold(&format!("SUMMARY:{}", escape(&summary)), &mut out);
        fold(&format!("CATEGORIES:{category}"), &mut out);
        if !o.conflicts.is_empty() {
            fold(&format!("DESCRIPTION:{}", escape(&o.conflicts.join("\n"))), &mut out);
            for c in &o.conflicts {
                fold(&format!("X-SHIPWARDEN-CONFLICT:{}", escape(c)), &mut out);
            }
        }
        if o.kind != OccurrenceKind::Deployment {
            fold("TRANSP:TRANSPARENT", &mut out);
        }
        fold("END:VEVENT", &mut out);
    }
    fold("END:VCALENDAR", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Policy;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn a_week_of_the_default_calendar_r6b_r6c() {
        let policy = Policy::default();
        let calendar = Calendar::new(&policy);
        let booking = Booking {
            release: "shop-1.4.0".parse().expect("id"),
            environment: "prod".parse().expect("env"),
            start: ts("2026-11-28T10:00:00Z"),
            end: ts("2026-11-28T11:00:00Z"),
        };
        // Monday 2026-11-23 to Monday 2026-11-30.
        let all = calendar.occurrences(&[booking], ts("2026-11-23T00:00:00Z"), ts("2026-11-30T00:00:00Z"));
        let blackouts = all.iter().filter(|o| o.kind == OccurrenceKind::Blackout).count();
        let maintenance: Vec<&Occurrence> = all.iter().filter(|o| o.kind == OccurrenceKind::Maintenance).collect();
        assert_eq!(blackouts, 5, "Mon-Fri peak hours");
        assert_eq!(maintenance.len(), 1);
        assert_eq!(maintenance[0].start, ts("2026-11-29T02:00:00Z"));
        assert!(all.iter().any(|o| o.kind == OccurrenceKind::Deployment && o.name == "shop-1.4.0"));
        assert!(all.windows(2).all(|w| w[0].start <= w[1].start));
    }

    #[test]
    fn ics_is_rfc5545_text() {
        let o = Occurrence {
            kind: OccurrenceKind::Freeze,
            name: "year-end, with a very long name that goes past seventy-five octets; really".into(),
            environments: vec!["prod".parse().expect("env")],
            start: ts("2026-12-20T00:00:00Z"),
            end: ts("2027-01-04T00:00:00Z"),
            conflicts: Vec::new(),
        };
        let text = to_ics(&[o], ts("2026-11-26T12:00:00Z"));
        assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(text.contains("DTSTART:20261220T000000Z\r\n"));
        assert!(text.contains("year-end\\, with"), "{text}");
        assert!(text.split("\r\n").all(|l| l.len() <= 75), "{text}");
        assert!(text.contains("\r\n "), "long lines are folded");
    }
}
