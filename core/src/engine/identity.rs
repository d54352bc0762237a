//! The engine's half of the identity rule (issue #19, R-2d): a signed
//! statement names the chain head its signer saw, and only the release's head
//! at the moment of the append will do, so an old statement cannot be
//! replayed. Checked under the release's lock, just before `decide`; the
//! append's expected version then keeps the head from moving in between.

use crate::audit::Envelope;
use crate::machine::{Refusal, ReleaseState, Requirement, Unmet};
use crate::model::Actor;
use crate::rule::RuleId;

/// The refusal when `actor` brings a statement signed over another head than `last`'s.
pub(super) fn stale_statement(actor: &Actor, last: Option<&Envelope>, state: &ReleaseState) -> Option<Refusal> {
    let seen = actor.proof.seen_head()?;
    let head =
        last.map_or_else(|| crate::audit::ChainHash::genesis().as_str().to_owned(), |e| e.hash.as_str().to_owned());
    (seen != head).then(|| {
        Refusal::new(
            state.stage.clone(),
            "record a signed statement",
            vec![Unmet::new(
                RuleId::R_2D,
                Requirement::Statement {
                    user: actor.user.clone(),
                    problem: format!(
                        "names chain head {}…, but the release's head is {}…: it was signed before later events (a replay, or a race); sign a new one",
                        seen.get(..12).unwrap_or(seen),
                        head.get(..12).unwrap_or(&head)
                    ),
                },
            )],
        )
    })
}
