//! Deployment windows (R-6b, R-6c, R-6e): whether a deployment may happen at
//! an instant, why not, and when it next may. Pure: the caller passes `now`.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::model::{EnvName, ReleaseId, ReleaseKind};
use crate::policy::{Day, Policy, WeeklyWindow};
use crate::rule::RuleId;

mod ics;
pub use ics::{Occurrence, OccurrenceKind, to_ics, uid};

/// Which windows a caller is allowed to ignore.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Ignore weekly blackout windows (an emergency approval, R-6b).
    pub blackout: bool,
    /// Ignore blackouts, freezes and maintenance requirements (an explicit override with a reason).
    pub all: bool,
}

/// A window that forbids a deployment at some instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowBlock {
    /// The requirement: R-6b for blackouts and freezes, R-6c for maintenance.
    pub rule: RuleId,
    /// The window's name.
    pub window: String,
    /// What the window is, e.g. `blackout Mon-Fri 09:00-17:00 Europe/Berlin`.
    pub description: String,
    /// The earliest instant at which this window no longer forbids the deployment.
    pub clears_at: Option<Timestamp>,
}

impl fmt::Display for WindowBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.description, self.window)
    }
}

/// A deployment booked into the calendar (R-6a).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    /// The release deploying.
    pub release: ReleaseId,
    /// Where.
    pub environment: EnvName,
    /// Start, inclusive.
    pub start: Timestamp,
    /// End, exclusive.
    pub end: Timestamp,
}

impl Booking {
    /// True when the two bookings share an environment and overlap in time (R-6e).
    pub fn conflicts_with(&self, other: &Booking) -> bool {
        self.environment == other.environment && self.start < other.end && other.start < self.end
    }
}

/// Reads the policy's windows in its time zone.
pub struct Calendar<'a> {
    policy: &'a Policy,
    tz: TimeZone,
}

fn at_local(date: Date, time: Time, tz: &TimeZone) -> Option<Timestamp> {
    date.to_datetime(time).to_zoned_datetime(tz.clone()).ok().map(|z| z.timestamp())
}

impl<'a> Calendar<'a> {
    /// The calendar of `policy`.
    pub fn new(policy: &'a Policy) -> Self {
        Self { policy, tz: policy.time_zone() }
    }

    fn applies(window: &WeeklyWindow, env: &EnvName) -> bool {
        window.environments.contains(env)
    }

    fn describe(&self, kind: &str, w: &WeeklyWindow) -> String {
        format!("{kind} {w} {}", self.policy.calendar.time_zone)
    }

    /// Every window that forbids deploying a `kind` release to `env` at `at`.
    pub fn blocks(&self, env: &EnvName, kind: ReleaseKind, at: Timestamp, overrides: Overrides) -> Vec<WindowBlock> {
        let mut blocks = Vec::new();
        if overrides.all {
            return blocks;
        }
        let zoned = at.to_zoned_datetime(self.tz.clone());
        let (date, time, day, local) = (zoned.date(), zoned.time(), Day::of(zoned.weekday()), zoned.datetime());
        if !overrides.blackout {
            for w in self.policy.calendar.blackouts.iter().filter(|w| Self::applies(w, env)) {
                if w.days.contains(&day) && w.start <= time && time < w.end {
                    blocks.push(WindowBlock {
                        rule: RuleId::R_6B,
                        window: w.name.clone(),
                        description: self.describe("blackout", w),
                        clears_at: at_local(date, w.end, &self.tz),
                    });
                }
            }
        }
        for f in self.policy.calendar.freezes.iter().filter(|f| f.environments.contains(env)) {
            if f.start <= local && local < f.end {
                blocks.push(WindowBlock {
                    rule: RuleId::R_6B,
                    window: f.name.clone(),
                    description: format!("freeze {} to {} {}", f.start, f.end, self.policy.calendar.time_zone),
                    clears_at: f.end.to_zoned_datetime(self.tz.clone()).ok().map(|z| z.timestamp()),
                });
            }
        }
        let required: Vec<&WeeklyWindow> = self
            .policy
            .calendar
            .maintenance
            .iter()
            .filter(|w| Self::applies(w, env) && w.required_for.contains(&kind))
            .collect();
        let inside = required.iter().any(|w| w.days.contains(&day) && w.start <= time && time < w.end);
        if !required.is_empty() && !inside {
            let names: Vec<String> = required.iter().map(|w| self.describe("maintenance", w)).collect();
            blocks.push(WindowBlock {
                rule: RuleId::R_6C,
                window: required.iter().map(|w| w.name.as_str()).collect::<Vec<_>>().join(", "),
                description: format!("{kind} releases deploy only inside {}", names.join(" or ")),
                clears_at: self.next_start(&required, at),
            });
        }
        blocks
    }

    /// The next start of any of `windows` at or after `at`, within 8 days.
    fn next_start(&self, windows: &[&WeeklyWindow], at: Timestamp) -> Option<Timestamp> {
        let mut date = at.to_zoned_datetime(self.tz.clone()).date();
        let mut best: Option<Timestamp> = None;
        for _ in 0..8 {
            let day = Day::of(date.weekday());
            for w in windows.iter().filter(|w| w.days.contains(&day)) {
                if let Some(start) = at_local(date, w.start, &self.tz).filter(|s| *s >= at) {
                    best = Some(best.map_or(start, |b| b.min(start)));
                }
            }
            if best.is_some() {
                return best;
            }
            date = date.tomorrow().ok()?;
        }
        best
    }

    /// The first instant at or after `at` when deploying a `kind` release to
    /// `env` is allowed, if one can be found within a year of windows.
    pub fn next_allowed(
        &self,
        env: &EnvName,
        kind: ReleaseKind,
        at: Timestamp,
        overrides: Overrides,
    ) -> Option<Timestamp> {
        let mut candidate = at;
        for _ in 0..500 {
            let blocks = self.blocks(env, kind, candidate, overrides);
            if blocks.is_empty() {
                return Some(candidate);
            }
            let next = blocks.iter().map(|b| b.clears_at).collect::<Option<Vec<_>>>()?.into_iter().max()?;
            if next <= candidate {
                return None;
            }
            candidate = next;
        }
        None
    }

    /// Every window that forbids a deployment at any instant in `[start, end)`,
    /// checked at the start and at every window edge inside the interval.
    pub fn blocks_during(
        &self,
        env: &EnvName,
        kind: ReleaseKind,
        start: Timestamp,
        end: Timestamp,
        overrides: Overrides,
    ) -> Vec<WindowBlock> {
        let mut found: Vec<WindowBlock> = Vec::new();
        let mut probe = start;
        for _ in 0..500 {
            for b in self.blocks(env, kind, probe, overrides) {
                if !found.iter().any(|f| f.window == b.window) {
                    found.push(b);
                }
            }
            match self.next_edge(env, probe) {
                Some(edge) if edge < end => probe = edge,
                _ => break,
            }
        }
        found
    }

    /// The next instant after `at` at which any window for `env` starts.
    fn next_edge(&self, env: &EnvName, at: Timestamp) -> Option<Timestamp> {
        let c = &self.policy.calendar;
        let weekly: Vec<&WeeklyWindow> =
            c.blackouts.iter().chain(c.maintenance.iter()).filter(|w| Self::applies(w, env)).collect();
        let after = at.checked_add(jiff::SignedDuration::from_secs(1)).ok()?;
        let mut next = self.next_start(&weekly, after);
        for f in c.freezes.iter().filter(|f| f.environments.contains(env)) {
            if let Some(s) = f.start.to_zoned_datetime(self.tz.clone()).ok().map(|z| z.timestamp()).filter(|s| *s > at)
            {
                next = Some(next.map_or(s, |n| n.min(s)));
            }
        }
        next
    }

    /// Formats an instant in the policy's time zone, e.g. `2026-11-28 17:00 Europe/Berlin`.
    pub fn local(&self, at: Timestamp) -> String {
        let z = at.to_zoned_datetime(self.tz.clone());
        format!("{} {}", z.strftime("%Y-%m-%d %H:%M"), self.policy.calendar.time_zone)
    }
}
