//! Semantic checks of a policy that reads as valid TOML: every reference
//! resolves, every stage is reachable, thresholds are in range, windows do
//! not overlap. Every problem is reported, each with its TOML path.

use std::collections::{BTreeSet, VecDeque};

use crate::model::{EnvName, Role, Stage, Unit};

use super::load::{PolicyError, Problems};
use super::{Policy, WeeklyWindow};

impl Policy {
    /// Checks the policy and returns every problem found, each with its path.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let mut p = Problems(Vec::new());
        self.check_names(&mut p);
        self.check_lifecycle(&mut p);
        self.check_transitions(&mut p);
        self.check_reachability(&mut p);
        self.check_cycles(&mut p);
        self.check_approvals_and_gates(&mut p);
        self.check_calendar(&mut p);
        self.check_deadlines(&mut p);
        self.check_retry_and_rollout(&mut p);
        if p.0.is_empty() { Ok(()) } else { Err(PolicyError { problems: p.0 }) }
    }

    fn check_names(&self, p: &mut Problems) {
        let mut seen = BTreeSet::new();
        for (i, e) in self.environments.iter().enumerate() {
            if !seen.insert(&e.name) {
                p.push(format!("environments[{i}].name"), format!("environment `{}` is declared twice", e.name));
            }
        }
        if self.environments.is_empty() {
            p.push("environments", "at least one environment is needed");
        }
        let mut seen = BTreeSet::new();
        for (i, r) in self.roles.iter().enumerate() {
            if !seen.insert(r) {
                p.push(format!("roles[{i}]"), format!("role `{r}` is declared twice"));
            }
        }
        let mut seen = BTreeSet::new();
        for (i, s) in self.stages.iter().enumerate() {
            if !seen.insert(&s.name) {
                p.push(format!("stages[{i}].name"), format!("stage `{}` is declared twice", s.name));
            }
        }
        if !self.stages.iter().any(|s| s.terminal) {
            p.push("stages", "no stage is final: a release could never end");
        }
    }

    fn stage_ref(&self, p: &mut Problems, path: &str, stage: &Stage) -> bool {
        if self.stage(stage).is_none() {
            p.push(path, format!("unknown stage `{stage}`; declared stages: {}", self.stage_names()));
            return false;
        }
        true
    }

    fn stage_names(&self) -> String {
        self.stages.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
    }

    fn role_ref(&self, p: &mut Problems, path: &str, role: &Role) {
        if !self.roles.contains(role) {
            let known: Vec<&str> = self.roles.iter().map(Role::as_str).collect();
            p.push(path, format!("unknown role `{role}`; declared roles: {}", known.join(", ")));
        }
    }

    fn env_ref(&self, p: &mut Problems, path: &str, env: &EnvName) {
        if self.environment(env).is_none() {
            let known: Vec<&str> = self.environments.iter().map(|e| e.name.as_str()).collect();
            p.push(path, format!("unknown environment `{env}`; declared environments: {}", known.join(", ")));
        }
    }

    fn check_lifecycle(&self, p: &mut Problems) {
        let l = &self.lifecycle;
        self.stage_ref(p, "lifecycle.initial", &l.initial);
        if self.is_final(&l.initial) {
            p.push("lifecycle.initial", format!("the initial stage `{}` is final", l.initial));
        }
        for (path, stage, must_be_final) in [
            ("lifecycle.cancelled", &l.cancelled, true),
            ("lifecycle.rolling_back", &l.rolling_back, false),
            ("lifecycle.rolled_back", &l.rolled_back, true),
            ("lifecycle.closed", &l.closed, true),
        ] {
            if self.stage_ref(p, path, stage) && self.is_final(stage) != must_be_final {
                let want = if must_be_final { "final" } else { "not final" };
                p.push(path, format!("stage `{stage}` must be {want}"));
            }
        }
        for (field, stages) in [("rollback_from", &l.rollback_from), ("close_from", &l.close_from)] {
            for (i, s) in stages.iter().enumerate() {
                let path = format!("lifecycle.{field}[{i}]");
                if self.stage_ref(p, &path, s) && self.is_final(s) {
                    p.push(path, format!("stage `{s}` is final; nothing can leave it"));
                }
            }
        }
        for (field, roles) in
            [("plan_roles", &l.plan_roles), ("cancel_roles", &l.cancel_roles), ("rollback_roles", &l.rollback_roles)]
        {
            for (i, r) in roles.iter().enumerate() {
                self.role_ref(p, &format!("lifecycle.{field}[{i}]"), r);
            }
        }
    }

    fn check_transitions(&self, p: &mut Problems) {
        let mut pairs = BTreeSet::new();
        // A disabled transition is how a team drops a stage: it is not checked.
        for (name, t) in self.transitions.iter().filter(|(_, t)| t.enabled) {
            let at = |field: &str| format!("transitions.{name}.{field}");
            if self.stage_ref(p, &at("from"), &t.from) && self.is_final(&t.from) {
                p.push(at("from"), format!("stage `{}` is final; no transition may leave it", t.from));
            }
            self.stage_ref(p, &at("to"), &t.to);
            if t.from == t.to {
                p.push(at("to"), "a transition must lead to another stage");
            }
            if !pairs.insert((&t.from, &t.to)) {
                p.push(at("to"), format!("another enabled transition already leads from `{}` to `{}`", t.from, t.to));
            }
            for (i, r) in t.by.iter().enumerate() {
                self.role_ref(p, &at(&format!("by[{i}]")), r);
            }
            for (i, a) in t.approvals.iter().enumerate() {
                if !self.approvals.contains_key(a) {
                    p.push(
                        at(&format!("approvals[{i}]")),
                        format!("unknown approval `{a}`; define it under [approvals.{a}]"),
                    );
                }
            }
            for (i, g) in t.gates.iter().enumerate() {
                if !self.gates.contains_key(&g.gate) {
                    p.push(
                        at(&format!("gates[{i}].gate")),
                        format!("unknown gate `{}`; define it under [gates.{}]", g.gate, g.gate),
                    );
                }
                if let Some(env) = &g.environment {
                    self.env_ref(p, &at(&format!("gates[{i}].environment")), env);
                }
            }
            for (i, s) in t.steps.iter().enumerate() {
                if let Some(env) = &s.environment {
                    self.env_ref(p, &at(&format!("steps[{i}].environment")), env);
                }
            }
            if let Some(env) = &t.window {
                self.env_ref(p, &at("window"), env);
            }
            if let Some(d) = &t.deadline {
                if self.deadlines.get(d).is_none() {
                    p.push(
                        at("deadline"),
                        format!("unknown deadline `{d}`; expected one of {}", super::Deadlines::NAMES.join(", ")),
                    );
                } else if t.steps.is_empty() {
                    p.push(at("deadline"), "a deadline applies to the transition's steps, and it has none");
                }
            }
            if t.emergency && !t.approvals.contains(&self.emergency.approval) {
                p.push(
                    at("approvals"),
                    format!("an emergency transition must require the `{}` approval (R-5a)", self.emergency.approval),
                );
            }
        }
    }

    /// Every stage must be reachable from the initial stage, and every
    /// non-final stage must be able to reach a final one.
    fn check_reachability(&self, p: &mut Problems) {
        let l = &self.lifecycle;
        let mut edges: Vec<(&Stage, &Stage)> =
            self.transitions.values().filter(|t| t.enabled).map(|t| (&t.from, &t.to)).collect();
        for s in &l.rollback_from {
            edges.push((s, &l.rolling_back));
        }
        edges.push((&l.rolling_back, &l.rolled_back));
        for s in &l.close_from {
            edges.push((s, &l.closed));
        }
        for s in self.stages.iter().filter(|s| !s.terminal) {
            edges.push((&s.name, &l.cancelled));
        }
        let reach = |start: &Stage, forward: bool| -> BTreeSet<Stage> {
            let mut seen = BTreeSet::from([start.clone()]);
            let mut queue = VecDeque::from([start.clone()]);
            while let Some(s) = queue.pop_front() {
                for (a, b) in &edges {
                    let (here, next) = if forward { (*a, *b) } else { (*b, *a) };
                    if here == &s && seen.insert(next.clone()) {
                        queue.push_back(next.clone());
                    }
                }
            }
            seen
        };
        let reachable = reach(&l.initial, true);
        let mut can_finish = BTreeSet::new();
        for s in self.stages.iter().filter(|s| s.terminal) {
            can_finish.extend(reach(&s.name, false));
        }
        let describe = |s: &super::StageDef| {
            if s.terminal { format!("{} (final)", s.name) } else { s.name.to_string() }
        };
        let unreachable: Vec<String> =
            self.stages.iter().filter(|s| !reachable.contains(&s.name)).map(describe).collect();
        if !unreachable.is_empty() {
            p.push("stages", format!("cannot be reached from `{}`: {}", l.initial, unreachable.join(", ")));
        }
        let stuck: Vec<String> = self
            .stages
            .iter()
            .filter(|s| !s.terminal && reachable.contains(&s.name) && !can_finish.contains(&s.name))
            .map(describe)
            .collect();
        if !stuck.is_empty() {
            p.push("stages", format!("cannot reach any final stage: {}", stuck.join(", ")));
        }
    }

    /// the stage graph of enabled transitions has no cycle. Approvals,
    /// gates and steps stay satisfied once met, so `advance` would follow a
    /// transition back and forth for ever; a step back is a cancel and a new
    /// plan, or a rollback.
    fn check_cycles(&self, p: &mut Problems) {
        let enabled: Vec<(&str, &super::Transition)> =
            self.transitions.iter().filter(|(_, t)| t.enabled).map(|(n, t)| (n.as_str(), t)).collect();
        // Depth-first search; a back edge closes a cycle, reported once with its path.
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            Open,
            Done,
        }
        let mut marks: std::collections::BTreeMap<&Stage, Mark> = std::collections::BTreeMap::new();
        let mut reported: BTreeSet<Vec<&str>> = BTreeSet::new();
        let starts: Vec<&Stage> = enabled.iter().map(|(_, t)| &t.from).collect();
        for start in starts {
            if marks.contains_key(start) {
                continue;
            }
            // (stage, index of the next outgoing transition to try), and the transitions taken.
            let mut stack: Vec<(&Stage, usize)> = vec![(start, 0)];
            let mut taken: Vec<&str> = Vec::new();
            marks.insert(start, Mark::Open);
            while let Some((stage, next)) = stack.pop() {
                let out: Vec<&(&str, &super::Transition)> = enabled.iter().filter(|(_, t)| &t.from == stage).collect();
                let Some(&&(name, t)) = out.get(next) else {
                    marks.insert(stage, Mark::Done);
                    taken.pop();
                    continue;
                };
                stack.push((stage, next + 1));
                match marks.get(&t.to) {
                    Some(Mark::Open) => {
                        // The cycle: from where `t.to` sits on the stack to here, then `t`.
                        let from = stack.iter().position(|(s, _)| *s == &t.to).unwrap_or(0);
                        let mut cycle: Vec<&str> = taken[from.min(taken.len())..].to_vec();
                        cycle.push(name);
                        let mut key = cycle.clone();
                        key.sort_unstable();
                        if reported.insert(key) {
                            let mut stages: Vec<String> = stack[from..].iter().map(|(s, _)| s.to_string()).collect();
                            stages.push(t.to.to_string());
                            p.push(
                                format!("transitions.{name}"),
                                format!(
                                    "the transitions {} form a cycle ({}): `advance` would follow it for ever (R-3); disable one or lead it elsewhere",
                                    cycle.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", "),
                                    stages.join(" -> ")
                                ),
                            );
                        }
                    }
                    Some(Mark::Done) => {}
                    None => {
                        marks.insert(&t.to, Mark::Open);
                        taken.push(name);
                        stack.push((&t.to, 0));
                    }
                }
            }
        }
    }

    fn check_approvals_and_gates(&self, p: &mut Problems) {
        for (id, a) in &self.approvals {
            if a.roles.is_empty() {
                p.push(format!("approvals.{id}.roles"), "at least one role must be able to approve");
            }
            for (i, r) in a.roles.iter().enumerate() {
                self.role_ref(p, &format!("approvals.{id}.roles[{i}]"), r);
            }
            if a.count == 0 || a.count > 20 {
                p.push(format!("approvals.{id}.count"), format!("{} is out of range: 1 to 20 approvers", a.count));
            }
        }
        if !self.approvals.contains_key(&self.emergency.approval) {
            p.push("emergency.approval", format!("unknown approval `{}`", self.emergency.approval));
        }
        if self.emergency.ticket_prefix.trim().is_empty() {
            p.push("emergency.ticket_prefix", "an emergency ticket prefix is required (R-5b), e.g. `HOTFIX`");
        }
        for (id, g) in &self.gates {
            let (lo, hi, what) = match g.unit {
                Unit::Ratio => (0.0, 1.0, "a ratio between 0 and 1 (0.9 is 90 %)"),
                Unit::Percent => (0.0, 100.0, "a percentage between 0 and 100"),
                Unit::Flag => (0.0, 1.0, "a flag: 0 or 1"),
                Unit::Count | Unit::Millis | Unit::Days => (0.0, f64::MAX, "a non-negative number"),
            };
            let thresholds = std::iter::once((format!("gates.{id}.threshold"), g.threshold))
                .chain(g.targets.iter().map(|(t, th)| (format!("gates.{id}.targets.{t}"), *th)));
            for (path, threshold) in thresholds {
                let limit = threshold.limit();
                if !limit.is_finite() || limit < lo || limit > hi {
                    p.push(path, format!("{limit} is out of range: expected {what}"));
                }
            }
        }
    }

    fn check_calendar(&self, p: &mut Problems) {
        let c = &self.calendar;
        if jiff::tz::TimeZone::get(&c.time_zone).is_err() {
            p.push(
                "calendar.time_zone",
                format!("unknown IANA time zone `{}`, expected e.g. `Europe/Berlin`", c.time_zone),
            );
        }
        for (field, windows) in [("blackouts", &c.blackouts), ("maintenance", &c.maintenance)] {
            for (i, w) in windows.iter().enumerate() {
                let at = format!("calendar.{field}[{i}]");
                self.check_window(p, &at, w);
                for (j, other) in windows.iter().enumerate().skip(i + 1) {
                    if let Some((env, day)) = overlap(w, other) {
                        p.push(
                            format!("calendar.{field}[{j}]"),
                            format!("window `{}` overlaps `{}` for `{env}` on {day:?}; merge them", other.name, w.name),
                        );
                    }
                }
            }
        }
        for (i, f) in c.freezes.iter().enumerate() {
            let at = format!("calendar.freezes[{i}]");
            if f.start >= f.end {
                p.push(
                    format!("{at}.end"),
                    format!("freeze `{}` ends ({}) before it starts ({})", f.name, f.end, f.start),
                );
            }
            for (k, e) in f.environments.iter().enumerate() {
                self.env_ref(p, &format!("{at}.environments[{k}]"), e);
            }
            for (j, other) in c.freezes.iter().enumerate().skip(i + 1) {
                let shared = f.environments.iter().find(|e| other.environments.contains(e));
                if let Some(env) = shared
                    && f.start < other.end
                    && other.start < f.end
                {
                    p.push(
                        format!("calendar.freezes[{j}]"),
                        format!("freeze `{}` overlaps `{}` for `{env}`; merge them", other.name, f.name),
                    );
                }
            }
        }
        for (i, r) in c.override_roles.iter().enumerate() {
            self.role_ref(p, &format!("calendar.override_roles[{i}]"), r);
        }
    }

    fn check_window(&self, p: &mut Problems, at: &str, w: &WeeklyWindow) {
        if w.start >= w.end {
            p.push(
                format!("{at}.end"),
                format!("window `{}` must end after it starts; use two windows to span midnight", w.name),
            );
        }
        if w.days.is_empty() {
            p.push(format!("{at}.days"), format!("window `{}` applies on no day", w.name));
        }
        if w.environments.is_empty() {
            p.push(format!("{at}.environments"), format!("window `{}` applies to no environment", w.name));
        }
        for (k, e) in w.environments.iter().enumerate() {
            self.env_ref(p, &format!("{at}.environments[{k}]"), e);
        }
    }

    fn check_retry_and_rollout(&self, p: &mut Problems) {
        let r = &self.retry;
        if r.attempts == 0 || r.attempts > 20 {
            p.push("retry.attempts", format!("{} is out of range: 1 to 20 attempts", r.attempts));
        }
        if !r.multiplier.is_finite() || r.multiplier < 1.0 || r.multiplier > 10.0 {
            p.push("retry.multiplier", format!("{} is out of range: 1 to 10", r.multiplier));
        }
        if r.initial_backoff.is_negative() || r.max_backoff < r.initial_backoff {
            p.push("retry.max_backoff", "backoffs must be positive, and max_backoff at least initial_backoff");
        }
        for (i, e) in self.environments.iter().enumerate() {
            if e.rollout.concurrency == 0 {
                p.push(format!("environments[{i}].rollout.concurrency"), "at least one target must deploy at a time");
            }
        }
    }

    fn check_deadlines(&self, p: &mut Problems) {
        let m = &self.monitoring;
        if m.interval <= jiff::SignedDuration::ZERO {
            p.push("monitoring.interval", "the sampling interval must be positive");
        }
        for (name, d) in [
            ("monitoring.sustained", m.sustained),
            ("monitoring.verification_window", m.verification_window),
            ("duties.approval_reminder", self.duties.approval_reminder),
            ("duties.approval_expiry", self.duties.approval_expiry),
        ] {
            if d.is_negative() {
                p.push(name, "must not be negative");
            }
        }
        if self.duties.approval_link_ttl <= jiff::SignedDuration::ZERO {
            p.push("duties.approval_link_ttl", "an approval link must live a positive time (`24h`)");
        }
        for name in super::Deadlines::NAMES {
            if let Some(d) = self.deadlines.get(name)
                && (d.is_zero() || d.is_negative())
            {
                p.push(format!("deadlines.{name}"), "a deadline must be positive");
            }
        }
    }
}

/// The first environment and day on which two weekly windows overlap.
fn overlap<'a>(a: &'a WeeklyWindow, b: &WeeklyWindow) -> Option<(&'a EnvName, super::Day)> {
    let env = a.environments.iter().find(|e| b.environments.contains(e))?;
    let day = a.days.iter().find(|d| b.days.contains(d))?;
    (a.start < b.end && b.start < a.end).then_some((env, *day))
}
