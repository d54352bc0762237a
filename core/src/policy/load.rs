//! Reading a policy from TOML: a team's file is merged over the default
//! policy, then every section is read on its own, so that one run reports
//! every problem with its TOML path.

use std::fmt;

use serde::de::DeserializeOwned;
use toml::{Table, Value};

use super::Policy;

/// One problem in a policy, with the TOML path where it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Problem {
    /// Dotted TOML path, e.g. `transitions.build.gates[0].gate`.
    pub path: String,
    /// What is wrong and what would be right.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A policy that could not be used, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyError {
    /// Every problem, in file order as far as known.
    pub problems: Vec<Problem>,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the policy has {} problem{}:",
            self.problems.len(),
            if self.problems.len() == 1 { "" } else { "s" }
        )?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

pub(super) struct Problems(pub(super) Vec<Problem>);

impl Problems {
    pub(super) fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem { path: path.into(), message: message.into() });
    }
}

/// Deep-merges `overlay` into `base`: tables merge key by key, anything
/// else (arrays included) is replaced.
fn merge(base: &mut Table, overlay: Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            // A threshold is one comparison (`{ below = 80 }`): a team's replaces the default's.
            (Some(Value::Table(_)), value) if key == "threshold" => {
                base.insert(key, value);
            }
            (Some(Value::Table(base_table)), Value::Table(over_table)) => merge(base_table, over_table),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Reads `value` as `T`; on failure records the problem at `path` and returns `None`.
fn read<T: DeserializeOwned>(path: &str, value: Value, problems: &mut Problems) -> Option<T> {
    match value.try_into::<T>() {
        Ok(v) => Some(v),
        Err(e) => {
            let message = e.to_string().trim().replace('\n', " ");
            problems.push(path, message);
            None
        }
    }
}

/// Reads a table-valued section entry by entry, so each bad entry is reported.
fn read_entries<T: DeserializeOwned>(section: &str, value: Value, problems: &mut Problems) -> Option<Value> {
    let Value::Table(table) = value else {
        problems.push(section, format!("expected a table of entries, found {}", value.type_str()));
        return None;
    };
    let mut ok = true;
    for (key, entry) in &table {
        ok &= read::<T>(&format!("{section}.{key}"), entry.clone(), problems).is_some();
    }
    ok.then_some(Value::Table(table))
}

/// Reads an array-valued field element by element.
fn read_elements<T: DeserializeOwned>(path: &str, value: &Value, problems: &mut Problems) -> bool {
    let Value::Array(items) = value else {
        problems.push(path, format!("expected an array, found {}", value.type_str()));
        return false;
    };
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        ok &= read::<T>(&format!("{path}[{i}]"), item.clone(), problems).is_some();
    }
    ok
}

impl Policy {
    /// Reads a policy from TOML text: every key given overrides the default
    /// policy (tables merge, arrays replace); then the result is validated.
    /// All problems are reported at once, each with its TOML path.
    pub fn from_toml_str(text: &str) -> Result<Policy, PolicyError> {
        let table: Table = text.parse().map_err(|e: toml::de::Error| PolicyError {
            problems: vec![Problem { path: "(syntax)".into(), message: e.to_string().trim().replace('\n', " ") }],
        })?;
        Policy::from_toml_table(table)
    }

    /// Like [`Policy::from_toml_str`], from an already parsed table (e.g. the
    /// `[policy]` table of `shipwarden.toml`).
    pub fn from_toml_table(overrides: Table) -> Result<Policy, PolicyError> {
        let mut problems = Problems(Vec::new());
        let mut merged = match Value::try_from(Policy::default()) {
            Ok(Value::Table(t)) => t,
            _ => Table::new(),
        };
        for key in overrides.keys() {
            if !merged.contains_key(key) {
                let known: Vec<&str> = merged.keys().map(String::as_str).collect();
                problems.push(key.clone(), format!("unknown section; expected one of {}", known.join(", ")));
            }
        }
        merge(&mut merged, overrides);

        // Read section by section so that every broken part is reported. Each
        // reader records its own problems; the whole policy is read below.
        for (key, value) in merged.clone() {
            use super::*;
            use crate::model::{ApprovalId, GateId};
            match key.as_str() {
                "transitions" => read_entries::<Transition>("transitions", value, &mut problems).is_some(),
                "approvals" => read_entries::<ApprovalRule>("approvals", value, &mut problems)
                    .and_then(|v| read::<std::collections::BTreeMap<ApprovalId, Value>>("approvals", v, &mut problems))
                    .is_some(),
                "gates" => read_entries::<GateRule>("gates", value, &mut problems)
                    .and_then(|v| read::<std::collections::BTreeMap<GateId, Value>>("gates", v, &mut problems))
                    .is_some(),
                "environments" => read_elements::<EnvironmentPolicy>("environments", &value, &mut problems),
                "stages" => read_elements::<StageDef>("stages", &value, &mut problems),
                "calendar" => {
                    let mut ok = true;
                    if let Value::Table(cal) = &value {
                        for (field, reader) in [
                            ("blackouts", read_elements::<WeeklyWindow> as fn(&str, &Value, &mut Problems) -> bool),
                            ("maintenance", read_elements::<WeeklyWindow>),
                            ("freezes", read_elements::<Freeze>),
                        ] {
                            if let Some(v) = cal.get(field) {
                                ok &= reader(&format!("calendar.{field}"), v, &mut problems);
                            }
                        }
                    }
                    ok && read::<CalendarPolicy>("calendar", value, &mut problems).is_some()
                }
                "lifecycle" => read::<Lifecycle>("lifecycle", value, &mut problems).is_some(),
                "emergency" => read::<EmergencyPolicy>("emergency", value, &mut problems).is_some(),
                "deadlines" => read::<Deadlines>("deadlines", value, &mut problems).is_some(),
                "vcs" => read::<VcsPolicy>("vcs", value, &mut problems).is_some(),
                "retry" => read::<RetryPolicy>("retry", value, &mut problems).is_some(),
                "tickets" => read::<TicketPolicy>("tickets", value, &mut problems).is_some(),
                "monitoring" => read::<MonitoringPolicy>("monitoring", value, &mut problems).is_some(),
                "duties" => read::<DutyPolicy>("duties", value, &mut problems).is_some(),
                "identity" => read::<IdentityPolicy>("identity", value, &mut problems).is_some(),
                "roles" => read::<Vec<crate::model::Role>>("roles", value, &mut problems).is_some(),
                "separation_of_duties" => read::<bool>("separation_of_duties", value, &mut problems).is_some(),
                _ => true,
            };
        }
        if !problems.0.is_empty() {
            return Err(PolicyError { problems: problems.0 });
        }
        let policy = read::<Policy>("(policy)", Value::Table(merged), &mut problems);
        match policy {
            Some(policy) => policy.validate().map(|()| policy),
            None => Err(PolicyError { problems: problems.0 }),
        }
    }

    /// The policy as TOML, e.g. to show the default policy's numbers.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# the policy could not be printed as TOML: {e}\n"))
    }
}
