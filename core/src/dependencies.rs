//! External dependencies (R-7f, R-8d): version constraints as teams write
//! them, and the drift between what an environment runs, what staging was
//! verified with and what the plan asks for.
//!
//! Versions are dotted numbers with an optional `v` and an optional
//! pre-release (`-rc.1`) or build (`+linux`) suffix: `2.4.1`, `16.4`,
//! `v1.2.0-rc.1`. Constraints are comma-separated clauses, every one of
//! which must hold:
//!
//! | clause   | meaning                                              |
//! |----------|------------------------------------------------------|
//! | `2.4.1`  | the components written are equal (`2.4` is any 2.4.x) |
//! | `=2.4.1` | the same                                              |
//! | `>=2.4`, `>`, `<=`, `<`, `!=` | compared component by component, a missing one is 0 |
//! | `^1.2.3` | at least 1.2.3, below 2.0.0 (`^0.2.3`: below 0.3.0)   |
//! | `~1.2.3` | at least 1.2.3, below 1.3.0                           |
//! | `*`      | any version                                           |
//!
//! A version that is not dotted numbers (`latest`, a commit) satisfies only
//! a bare constraint equal to it.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::model::{Dependency, ParseError};

/// A version as dependency probes report it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Dotted {
    parts: Vec<u64>,
    pre: Option<String>,
}

fn dotted(text: &str) -> Option<Dotted> {
    let text = text.trim();
    let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
    let text = text.split_once('+').map_or(text, |(v, _build)| v);
    let (numbers, pre) = match text.split_once('-') {
        Some((n, p)) if !p.is_empty() => (n, Some(p.to_owned())),
        Some(_) => return None,
        None => (text, None),
    };
    let parts: Option<Vec<u64>> = numbers.split('.').map(|p| p.parse().ok()).collect();
    let parts = parts.filter(|p| !p.is_empty() && p.len() <= 8)?;
    Some(Dotted { parts, pre })
}

/// Compares component by component (a missing one is 0); a pre-release is
/// older than its release.
fn compare(a: &Dotted, b: &Dotted) -> Ordering {
    let n = a.parts.len().max(b.parts.len());
    for i in 0..n {
        let (x, y) = (a.parts.get(i).copied().unwrap_or(0), b.parts.get(i).copied().unwrap_or(0));
        match x.cmp(&y) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    match (&a.pre, &b.pre) {
        (None, None) => Ordering::Equal,
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (Some(x), Some(y)) => x.cmp(y),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Prefix,
    Eq,
    Ne,
    Ge,
    Gt,
    Le,
    Lt,
    Caret,
    Tilde,
}

/// A parsed version constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    text: String,
    clauses: Vec<Clause>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Clause {
    Any,
    /// A bare word that is not a dotted version: equal strings only.
    Exact(String),
    Cmp(Op, Dotted),
}

const EXPECTED: &str = "comma-separated clauses like `2.4.1`, `>=2.4, <3`, `^1.2`, `~1.2.3` or `*`";

impl std::str::FromStr for Constraint {
    type Err = ParseError;
    fn from_str(text: &str) -> Result<Self, ParseError> {
        let mut clauses = Vec::new();
        for raw in text.split(',') {
            let c = raw.trim();
            if c == "*" {
                clauses.push(Clause::Any);
                continue;
            }
            let (op, rest) = [
                (">=", Op::Ge),
                ("<=", Op::Le),
                ("==", Op::Eq),
                ("!=", Op::Ne),
                (">", Op::Gt),
                ("<", Op::Lt),
                ("=", Op::Eq),
                ("^", Op::Caret),
                ("~", Op::Tilde),
            ]
            .into_iter()
            .find_map(|(p, op)| c.strip_prefix(p).map(|rest| (op, rest.trim())))
            .unwrap_or((Op::Prefix, c));
            if rest.is_empty() {
                return Err(ParseError::new("version constraint", text, EXPECTED));
            }
            match dotted(rest) {
                Some(v) => clauses.push(Clause::Cmp(op, v)),
                None if op == Op::Prefix && !rest.contains(char::is_whitespace) => {
                    clauses.push(Clause::Exact(rest.to_owned()))
                }
                None => return Err(ParseError::new("version constraint", text, EXPECTED)),
            }
        }
        Ok(Constraint { text: text.trim().to_owned(), clauses })
    }
}

impl std::fmt::Display for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Constraint {
    /// True when `version` satisfies every clause.
    pub fn matches(&self, version: &str) -> bool {
        let parsed = dotted(version);
        self.clauses.iter().all(|clause| match (clause, &parsed) {
            (Clause::Any, _) => true,
            (Clause::Exact(want), _) => want == version.trim(),
            (Clause::Cmp(..), None) => false,
            (Clause::Cmp(op, want), Some(v)) => {
                let ord = compare(v, want);
                match op {
                    Op::Prefix => {
                        v.parts.len() >= want.parts.len()
                            && v.parts.iter().zip(&want.parts).all(|(a, b)| a == b)
                            && (want.pre.is_none() || v.pre == want.pre)
                    }
                    Op::Eq => ord == Ordering::Equal,
                    Op::Ne => ord != Ordering::Equal,
                    Op::Ge => ord != Ordering::Less,
                    Op::Gt => ord == Ordering::Greater,
                    Op::Le => ord != Ordering::Greater,
                    Op::Lt => ord == Ordering::Less,
                    Op::Caret | Op::Tilde => {
                        if ord == Ordering::Less {
                            return false;
                        }
                        // The component that may not change: the first non-zero one for `^`
                        // (`^0.2.3` stays 0.2.x), the minor for `~` (or the major when only it is written).
                        let fixed = match op {
                            Op::Caret => want.parts.iter().position(|p| *p != 0).unwrap_or(want.parts.len() - 1),
                            _ => (want.parts.len() - 1).min(1),
                        };
                        (0..=fixed).all(|i| v.parts.get(i).copied().unwrap_or(0) == want.parts[i])
                    }
                }
            }
        })
    }
}

/// What differs about the dependencies an environment runs: the plan's
/// dependencies missing there or outside their constraint, and each version
/// that differs from what staging was verified with (`staging`), for the
/// plan's dependencies (every dependency staging reported when the plan
/// lists none). Each finding is one sentence; none means no drift.
pub fn drift(
    plan: &[Dependency],
    staging: Option<&BTreeMap<String, String>>,
    environment: &str,
    runs: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut findings = Vec::new();
    for d in plan {
        match runs.get(&d.name) {
            None => findings.push(format!("{} is not present in {environment} (plan: {})", d.name, d.version)),
            Some(v) => match d.version.parse::<Constraint>() {
                Ok(c) if !c.matches(v) => {
                    findings.push(format!("{} {v} in {environment} does not satisfy the plan's {c}", d.name))
                }
                Ok(_) => {}
                Err(e) => findings.push(format!("{}: the plan's constraint is invalid: {e}", d.name)),
            },
        }
    }
    if let Some(staging) = staging {
        let names: Vec<&String> =
            if plan.is_empty() { staging.keys().collect() } else { plan.iter().map(|d| &d.name).collect() };
        for name in names {
            match (staging.get(name), runs.get(name)) {
                (Some(s), Some(r)) if s != r => {
                    findings.push(format!("{name}: {environment} runs {r}, staging was verified with {s}"))
                }
                (Some(s), None) if plan.is_empty() => {
                    findings.push(format!("{name}: staging was verified with {s}, {environment} does not run it"))
                }
                _ => {}
            }
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(c: &str, v: &str) -> bool {
        c.parse::<Constraint>().expect("constraint").matches(v)
    }

    #[test]
    fn constraints_read_as_teams_write_them_r7f() {
        assert!(ok("2.4.1", "2.4.1") && !ok("2.4.1", "2.4.2") && ok("2.4", "2.4.9") && !ok("2.4", "2.5.0"));
        assert!(ok(">=2.4, <3", "2.9.1") && !ok(">=2.4, <3", "3.0.0") && !ok(">=2.4, <3", "2.3.9"));
        assert!(ok("^1.2.3", "1.9.0") && !ok("^1.2.3", "2.0.0") && !ok("^1.2.3", "1.2.2"));
        assert!(ok("^0.2.3", "0.2.9") && !ok("^0.2.3", "0.3.0"));
        assert!(ok("~1.2.3", "1.2.9") && !ok("~1.2.3", "1.3.0") && ok("~1", "1.7.0") && !ok("~1", "2.0.0"));
        assert!(ok("*", "anything") && ok("v16.4", "16.4") && ok("16", "v16.4.1"));
        assert!(ok(">=1.0.0", "1.0.0+linux") && !ok(">=1.0.0", "1.0.0-rc.1") && ok("<1.0.0", "1.0.0-rc.1"));
        assert!(ok("latest", "latest") && !ok(">=1", "latest") && ok("!=2.0", "2.0.1"));
    }

    #[test]
    fn bad_constraints_name_what_is_expected() {
        for bad in ["", ">=", ">= two", "^x.y", "1.2, "] {
            let e = bad.parse::<Constraint>().expect_err(bad);
            assert_eq!(e.what, "version constraint");
            assert!(e.expected.contains(">=2.4, <3"), "{e:?}");
        }
    }

    #[test]
    fn drift_names_missing_outside_and_changed_dependencies_r7f_r8d() {
        let plan = vec![
            Dependency { name: "payments".into(), version: ">=2.4, <3".into() },
            Dependency { name: "search".into(), version: "8".into() },
        ];
        let staging = BTreeMap::from([("payments".to_owned(), "2.4.1".to_owned()), ("search".into(), "8.1".into())]);
        let same = staging.clone();
        assert!(drift(&plan, Some(&staging), "prod", &same).is_empty());
        let prod = BTreeMap::from([("payments".to_owned(), "2.5.0".to_owned())]);
        let found = drift(&plan, Some(&staging), "prod", &prod);
        assert_eq!(
            found,
            ["search is not present in prod (plan: 8)", "payments: prod runs 2.5.0, staging was verified with 2.4.1",]
        );
        let old = BTreeMap::from([("payments".to_owned(), "2.3.0".to_owned()), ("search".into(), "8.1".into())]);
        assert_eq!(drift(&plan, None, "prod", &old), ["payments 2.3.0 in prod does not satisfy the plan's >=2.4, <3"]);
        // Without listed dependencies, everything staging reported is compared.
        assert_eq!(drift(&[], Some(&staging), "prod", &prod).len(), 2);
    }

    proptest! {
        #[test]
        fn parsing_never_panics(text in "\\PC{0,40}", version in "\\PC{0,20}") {
            if let Ok(c) = text.parse::<Constraint>() {
                let _ = c.matches(&version);
            }
        }

        #[test]
        fn comparisons_agree_with_ordering(a in proptest::collection::vec(0u64..20, 1..4), b in proptest::collection::vec(0u64..20, 1..4)) {
            let (va, vb) = (a.iter().map(u64::to_string).collect::<Vec<_>>().join("."), b.iter().map(u64::to_string).collect::<Vec<_>>().join("."));
            let ge = ok(&format!(">={vb}"), &va);
            let lt = ok(&format!("<{vb}"), &va);
            prop_assert!(ge != lt, "exactly one of >= and < holds for {} vs {}", va, vb);
            prop_assert_eq!(ok(&format!("={vb}"), &va), ge && ok(&format!("<={vb}"), &va));
            // A version always satisfies itself, bare, with = and with ^ and ~.
            for op in ["", "=", "^", "~", ">=", "<="] {
                prop_assert!(ok(&format!("{op}{va}"), &va), "{}{} vs {}", op, va, va);
            }
        }
    }
}
