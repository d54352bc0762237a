//! The engine's half of the identity rule (issue #19, R-2d): a signed
//! statement names the chain head its signer saw, and only the release's head
//! at the moment of the append will do, so an old statement cannot be
//! replayed; and it is dated, so one kept unused cannot be presented long
//! after (`[identity] statement_max_age`). Checked under the release's lock,
//! just before `decide` (and by a preview); the append's expected version then
//! keeps the head from moving in between.

use jiff::{SignedDuration, Timestamp};

use crate::audit::Envelope;
use crate::machine::{Refusal, ReleaseState, Requirement, Unmet};
use crate::model::{Actor, Statement};
use crate::rule::RuleId;

impl super::ReleaseManager {
    /// Refuses `actor`'s signed statement unless it names `loaded`'s head and
    /// is fresh at `now` (`[identity] statement_max_age`); the real call and
    /// its preview both ask here.
    pub(super) fn check_statement(
        &self,
        actor: &Actor,
        loaded: &super::Loaded,
        now: Timestamp,
    ) -> Result<(), super::EngineError> {
        let max_age = self.inner.policy.identity.statement_max_age;
        match stale_statement(actor, loaded.last.as_ref(), &loaded.state, now, max_age) {
            Some(refusal) => Err(super::EngineError::Refused(refusal)),
            None => Ok(()),
        }
    }
}

/// How far ahead of the engine's clock a statement may be dated (clock skew).
const FUTURE_SKEW: SignedDuration = SignedDuration::from_mins(5);

/// The refusal when `actor` brings a statement signed over another head than
/// `last`'s, or dated outside `max_age` before `now` (or ahead of it).
fn stale_statement(
    actor: &Actor,
    last: Option<&Envelope>,
    state: &ReleaseState,
    now: Timestamp,
    max_age: SignedDuration,
) -> Option<Refusal> {
    let seen = actor.proof.seen_head()?;
    let head =
        last.map_or_else(|| crate::audit::ChainHash::genesis().as_str().to_owned(), |e| e.hash.as_str().to_owned());
    let problem = if seen != head {
        Some(format!(
            "names chain head {}…, but the release's head is {}…: it was signed before later events (a replay, or a race); sign a new one",
            seen.get(..12).unwrap_or(seen),
            head.get(..12).unwrap_or(&head)
        ))
    } else {
        actor.proof.statement().and_then(|text| dated_problem(text, now, max_age))
    };
    problem.map(|problem| {
        Refusal::new(
            state.stage.clone(),
            "record a signed statement",
            vec![Unmet::new(RuleId::R_2D, Requirement::Statement { user: actor.user.clone(), problem })],
        )
    })
}

/// Why a statement's date is not accepted at `now`, if it is not.
fn dated_problem(text: &str, now: Timestamp, max_age: SignedDuration) -> Option<String> {
    let Ok(statement) = Statement::parse(text) else {
        return Some("cannot be read as a statement".to_owned());
    };
    let Ok(at) = statement.at.parse::<Timestamp>() else {
        return Some(format!("is dated `{}`, which is not a time (RFC 3339)", statement.at));
    };
    let age = now.duration_since(at);
    if age > max_age {
        Some(format!(
            "was signed at {at}, {:#} ago, older than [identity] statement_max_age ({max_age:#}); sign a new one",
            age.round(jiff::Unit::Second).unwrap_or(age)
        ))
    } else if age < -FUTURE_SKEW {
        Some(format!("is dated {at}, ahead of the engine's clock ({now}) by more than {FUTURE_SKEW:#}"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dated(at: &str) -> String {
        Statement {
            action: crate::model::IdentityAction::Rollback,
            project: "shop".into(),
            release: "shop-1.2.0".into(),
            approval: String::new(),
            role: "cto".into(),
            user: "casey".into(),
            head: "0".repeat(64),
            at: at.into(),
            channel: "cli".into(),
            comment: "incident".into(),
        }
        .text()
    }

    #[test]
    fn a_statement_is_accepted_only_while_fresh_r2d() {
        let now: Timestamp = "2026-12-02T12:00:00Z".parse().expect("time");
        let max = SignedDuration::from_mins(15);
        assert_eq!(dated_problem(&dated("2026-12-02T11:50:00Z"), now, max), None);
        assert_eq!(dated_problem(&dated("2026-12-02T12:03:00Z"), now, max), None, "small skew is fine");
        let old = dated_problem(&dated("2026-12-02T11:00:00Z"), now, max).expect("an hour old");
        assert!(old.contains("statement_max_age (15m)") && old.contains("1h"), "{old}");
        let ahead = dated_problem(&dated("2026-12-02T13:00:00Z"), now, max).expect("an hour ahead");
        assert!(ahead.contains("ahead of the engine's clock"), "{ahead}");
        assert!(dated_problem(&dated("yesterday"), now, max).is_some_and(|p| p.contains("not a time")));
    }
}
