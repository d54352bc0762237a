use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{EnvName, GateId};

/// The unit of a measured value, so that values print as people expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A ratio between 0 and 1, printed as a percentage.
    Ratio,
    /// A percentage between 0 and 100.
    Percent,
    /// A count of things.
    Count,
    /// Milliseconds.
    Millis,
    /// Days.
    Days,
    /// A yes/no flag: 1 is yes, 0 is no.
    Flag,
}

/// A measured value with its unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    /// The number.
    pub value: f64,
    /// Its unit.
    pub unit: Unit,
}

impl Measure {
    /// A measured value.
    pub fn new(value: f64, unit: Unit) -> Self {
        Self { value, unit }
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.value;
        match self.unit {
            Unit::Ratio => write!(f, "{:.1} %", v * 100.0),
            Unit::Percent => write!(f, "{v:.1} %"),
            Unit::Count => write!(f, "{v}"),
            Unit::Millis => write!(f, "{v:.0} ms"),
            Unit::Days => write!(f, "{v:.1} days"),
            Unit::Flag => f.write_str(if v >= 0.5 { "yes" } else { "no" }),
        }
    }
}

/// How a gate judges a measured value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Threshold {
    /// Passes when value ≥ limit (coverage ≥ 0.90).
    AtLeast(f64),
    /// Passes when value ≤ limit (critical bugs ≤ 0).
    AtMost(f64),
    /// Passes when value < limit (p95 < 200 ms, CPU < 80 %).
    Below(f64),
    /// Passes when value > limit.
    Above(f64),
    /// Passes when value = limit (a flag equal to 1).
    Equals(f64),
}

impl Threshold {
    /// The limit the value is compared with.
    pub fn limit(self) -> f64 {
        match self {
            Threshold::AtLeast(l)
            | Threshold::AtMost(l)
            | Threshold::Below(l)
            | Threshold::Above(l)
            | Threshold::Equals(l) => l,
        }
    }

    /// True when `value` passes. NaN never passes.
    pub fn passes(self, value: f64) -> bool {
        match self {
            Threshold::AtLeast(l) => value >= l,
            Threshold::AtMost(l) => value <= l,
            Threshold::Below(l) => value < l,
            Threshold::Above(l) => value > l,
            Threshold::Equals(l) => value == l,
        }
    }

    /// Prints the threshold in the gate's unit (`≥ 90.0 %`).
    pub fn describe(self, unit: Unit) -> String {
        let limit = Measure::new(self.limit(), unit);
        match self {
            Threshold::AtLeast(_) => format!(">= {limit}"),
            Threshold::AtMost(_) => format!("<= {limit}"),
            Threshold::Below(_) => format!("< {limit}"),
            Threshold::Above(_) => format!("> {limit}"),
            Threshold::Equals(_) => format!("= {limit}"),
        }
    }
}

/// A judged gate (R-7g): the measured value, the threshold it was judged
/// against, the verdict, the evidence, who or what produced it, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateResult {
    /// Which gate.
    pub gate: GateId,
    /// The environment measured, for per-environment checks (R-8a).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<EnvName>,
    /// The target measured, for per-target checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The measured value.
    pub measured: Measure,
    /// The threshold in force when it was judged.
    pub threshold: Threshold,
    /// The verdict.
    pub passed: bool,
    /// Where the value came from: a report path, a URL, a probe name.
    pub source: String,
    /// What the value counted, by name (open bug tickets, commits without a
    /// key, pull requests short of reviewers), when the measurement named them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
    /// Who or what produced the value (user name, probe, CI job).
    pub produced_by: String,
    /// When it was recorded.
    pub at: Timestamp,
}
