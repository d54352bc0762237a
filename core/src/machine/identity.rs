//! The identity rule (issue #19, R-2d): an action's proof of who acts must be
//! one the policy's `[identity]` accepts, and a signed statement counts once.

use super::{ReleaseState, Requirement as Req, Unmet};
use crate::model::{Actor, Proof};
use crate::policy::{IdentityAction, Policy};
use crate::rule::RuleId;

/// The unmet requirement when `actor` presented a proof that did not verify:
/// refused whatever the trust, for every action.
pub(super) fn rejected_unmet(actor: &Actor) -> Option<Unmet> {
    let Proof::Rejected { presented, reason } = &actor.proof else { return None };
    Some(Unmet::new(
        RuleId::R_2D,
        Req::Statement { user: actor.user.clone(), problem: format!("did not verify ({presented}): {reason}") },
    ))
}

/// The unmet requirement when `actor`'s proof is not one `action` accepts.
pub(super) fn proof_unmet(actor: &Actor, policy: &Policy, action: IdentityAction) -> Option<Unmet> {
    let needed = policy.identity.accepted(action)?;
    let given = actor.proof.kind();
    (!needed.contains(&given)).then(|| {
        Unmet::new(
            RuleId::R_2D,
            Req::Proof { user: actor.user.clone(), action: action.as_str().to_owned(), needed: needed.to_vec(), given },
        )
    })
}

/// The unmet requirement when `actor`'s signed statement was recorded already.
pub(super) fn replay_unmet(state: &ReleaseState, actor: &Actor) -> Option<Unmet> {
    let digest = actor.proof.statement_digest()?;
    let recorded = state
        .approvals
        .iter()
        .chain(&state.rejections)
        .filter_map(|a| a.proof.as_ref())
        .any(|p| p.statement_digest() == Some(digest));
    recorded.then(|| {
        Unmet::new(
            RuleId::R_2D,
            Req::Statement {
                user: actor.user.clone(),
                problem: "was recorded already: a signed statement counts once (a replay)".to_owned(),
            },
        )
    })
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use proptest::prelude::*;

    use super::super::{Action, Command, decide};
    use super::*;
    use crate::model::{ApprovalId, Channel, ProofKind, Role};
    use crate::policy::Trust;

    fn proof_of(kind: ProofKind) -> Proof {
        match kind {
            ProofKind::Local => Proof::Local { os_user: Some("paul".into()) },
            ProofKind::SshSignature => Proof::SshSignature {
                fingerprint: "SHA256:x".into(),
                signature: "sig".into(),
                statement: "s".into(),
                statement_digest: "d".into(),
                head: "h".into(),
            },
            ProofKind::Token => Proof::Token { id: "t1".into() },
            ProofKind::Oidc => Proof::Oidc { issuer: "https://id".into(), subject: "paul".into() },
            _ => Proof::Chat { platform: "slack".into(), user_id: "U1".into(), team_id: None, message: None },
        }
    }

    fn planned() -> ReleaseState {
        let version: crate::model::Version = "1.2.0".parse().expect("version");
        let release = crate::model::ReleaseId::for_version("shop", &version).expect("release id");
        let plan = crate::model::Plan::new(release, "shop", version, crate::model::ReleaseKind::Minor);
        let rm = Actor::new("rita", [Role::ReleaseManager]);
        let events = decide(
            &ReleaseState::default(),
            &Command::new(&rm, Action::Plan { plan, last_release: None }),
            &Policy::default(),
            Timestamp::UNIX_EPOCH,
        )
        .expect("a plan by the release manager is accepted");
        events.iter().fold(ReleaseState::default(), super::super::apply)
    }

    fn approve(
        state: &ReleaseState,
        actor: &Actor,
        policy: &Policy,
    ) -> Result<Vec<super::super::Event>, super::super::Refusal> {
        let action = Action::Approve {
            approval: ApprovalId::Scope,
            role: Role::ProductOwner,
            channel: Channel::Cli,
            comment: String::new(),
        };
        decide(state, &Command::new(actor, action), policy, Timestamp::UNIX_EPOCH)
    }

    fn verified(kinds: Vec<ProofKind>) -> Policy {
        let mut policy = Policy::default();
        policy.identity.trust = Trust::Verified;
        policy.identity.approve = kinds;
        policy
    }

    #[test]
    fn an_unsigned_approval_is_refused_under_verified_trust_r2d() {
        let state = planned();
        let paul = Actor::new("paul", [Role::ProductOwner]);
        let refusal = approve(&state, &paul, &verified(vec![ProofKind::SshSignature]))
            .expect_err("an unsigned approval is refused");
        assert!(refusal.names_rule("R-2d"));
        assert!(refusal.to_string().contains("ssh_signature"), "{refusal}");
        // trust = "local": today's behaviour.
        assert!(approve(&state, &paul, &Policy::default()).is_ok());
    }

    #[test]
    fn a_signed_statement_counts_once_r2d() {
        let state = planned();
        let paul = Actor::new("paul", [Role::ProductOwner]).with_proof(proof_of(ProofKind::SshSignature));
        let events =
            approve(&state, &paul, &verified(vec![ProofKind::SshSignature])).expect("a signed approval is accepted");
        assert_eq!(events.len(), 1);
        let state = events.iter().fold(state, super::super::apply);
        assert_eq!(state.approvals[0].proof.as_ref().map(Proof::kind), Some(ProofKind::SshSignature));
        let mut policy = verified(vec![ProofKind::SshSignature]);
        policy.separation_of_duties = false;
        let replay = approve(&state, &paul, &policy).err().map(|r| r.unmet);
        assert!(
            replay.is_some_and(|u| u.iter().any(|u| matches!(u.requirement, Req::Statement { .. }))),
            "a replayed statement must be refused"
        );
    }

    #[test]
    fn a_signed_rejection_counts_once_too_r2d() {
        let state = planned();
        let paul = Actor::new("paul", [Role::ProductOwner]).with_proof(proof_of(ProofKind::SshSignature));
        let policy = verified(vec![ProofKind::SshSignature]);
        let reject = |approval: ApprovalId| Action::Reject {
            approval,
            role: Role::ProductOwner,
            channel: Channel::Cli,
            comment: "not ready".into(),
        };
        let events = decide(&state, &Command::new(&paul, reject(ApprovalId::Scope)), &policy, Timestamp::UNIX_EPOCH)
            .expect("a signed rejection is accepted");
        let state = events.iter().fold(state, super::super::apply);
        // The same signed statement presented again, for another approval: a replay.
        let replay =
            decide(&state, &Command::new(&paul, reject(ApprovalId::Acceptance)), &policy, Timestamp::UNIX_EPOCH)
                .expect_err("a replayed statement must be refused");
        assert!(replay.unmet.iter().any(|u| matches!(u.requirement, Req::Statement { .. })), "{replay}");
        // And an approval cannot reuse it either.
        let replay = approve(&state, &paul, &policy).expect_err("a replayed statement must be refused");
        assert!(replay.unmet.iter().any(|u| matches!(u.requirement, Req::Statement { .. })), "{replay}");
    }

    #[test]
    fn a_proof_that_did_not_verify_is_refused_even_under_local_trust_r2d() {
        let paul = Actor::new("paul", [Role::ProductOwner])
            .with_proof(Proof::Rejected { presented: ProofKind::SshSignature, reason: "bad signature".into() });
        let refusal = approve(&planned(), &paul, &Policy::default()).expect_err("a rejected proof is refused");
        assert!(refusal.names_rule("R-2d"));
        assert!(refusal.to_string().contains("bad signature"), "{refusal}");
    }

    proptest! {
        /// Under verified trust an approval passes the identity rule exactly
        /// when its proof is listed (an empty list accepts any); under local
        /// trust always.
        #[test]
        fn the_identity_rule_accepts_exactly_the_listed_proofs(
            given in 0usize..5,
            listed in proptest::collection::btree_set(0usize..5, 0..5),
            local in any::<bool>(),
        ) {
            let kinds: Vec<ProofKind> = listed.iter().map(|i| ProofKind::ALL[*i]).collect();
            let mut policy = verified(kinds.clone());
            if local { policy.identity.trust = Trust::Local; }
            let given = ProofKind::ALL[given];
            let actor = Actor::new("paul", [Role::ProductOwner]).with_proof(proof_of(given));
            let refused = proof_unmet(&actor, &policy, IdentityAction::Approve).is_some();
            let accepted = local || kinds.is_empty() || kinds.contains(&given);
            prop_assert_eq!(refused, !accepted);
            let decided = approve(&planned(), &actor, &policy);
            prop_assert_eq!(decided.is_ok(), accepted);
        }
    }
}
