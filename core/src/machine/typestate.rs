//! A typestate API over [`decide`] for the default lifecycle:
//! `Release<Planned>` → `approve_scope(..)` → `Release<ScopeApproved>` → …,
//! so that an illegal order does not compile. Every method runs the same
//! `decide` as the runtime API, so the rules are the same; a refusal hands
//! the release back unchanged beside the [`Refusal`].
//!
//! The types follow the default stage graph. A policy with its own graph
//! (`canary`, no `test`) is driven with [`decide`] and
//! [`Stage`] at run time.
//!
//! ```
//! use jiff::Timestamp;
//! use shipwarden::machine::typestate::Release;
//! use shipwarden::{Actor, Channel, Plan, Policy, ReleaseId, ReleaseKind, Role, Version};
//!
//! let policy = Policy::default();
//! let rm = Actor::new("rita", [Role::ReleaseManager]);
//! let po = Actor::new("paul", [Role::ProductOwner]);
//! let now: Timestamp = "2026-11-29T10:00:00Z".parse().unwrap();
//! let plan = Plan::new("shop-1.4.0".parse().unwrap(), "shop", Version::new(1, 4, 0), ReleaseKind::Minor);
//!
//! let release = Release::plan(&policy, &rm, plan, now).unwrap();
//! let release = release.approve_scope(&po, Channel::TicketComment, "scope ok", now).unwrap();
//! assert_eq!(release.state().stage, Some(shipwarden::Stage::ScopeApproved));
//! ```
//!
//! Skipping ahead does not compile: a planned release has no `start_prod_deployment`.
//!
//! ```compile_fail
//! use jiff::Timestamp;
//! use shipwarden::machine::typestate::Release;
//! use shipwarden::{Actor, Plan, Policy, ReleaseKind, Role, Version};
//!
//! let policy = Policy::default();
//! let rm = Actor::new("rita", [Role::ReleaseManager]);
//! let now = Timestamp::UNIX_EPOCH;
//! let plan = Plan::new("shop-1.4.0".parse().unwrap(), "shop", Version::new(1, 4, 0), ReleaseKind::Minor);
//! let release = Release::plan(&policy, &rm, plan, now).unwrap();
//! let deploying = release.start_prod_deployment(&rm, now);
//! ```

use std::fmt;
use std::marker::PhantomData;

use jiff::Timestamp;

use super::{Action, Command, Event, Refusal, ReleaseState, Requirement, Unmet, apply, decide};
use crate::model::{Actor, ApprovalId, Channel, Plan, Role, Stage};
use crate::policy::Policy;
use crate::rule::RuleId;

/// A stage as a type.
pub trait StageMarker {
    /// The runtime stage this type stands for.
    const STAGE: Stage;
}

macro_rules! markers {
    ($($name:ident),+ $(,)?) => {
        $(
            #[doc = concat!("The `", stringify!($name), "` stage as a type.")]
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
            impl StageMarker for $name {
                const STAGE: Stage = Stage::$name;
            }
        )+
    };
}

markers!(
    Planned,
    ScopeApproved,
    Built,
    StagingDeployed,
    QaVerified,
    IntegrationTested,
    TestDeployed,
    Accepted,
    ProdReady,
    Deploying,
    Verifying,
    Released,
    RollingBack,
    RolledBack,
    Cancelled,
    Closed
);

/// A release whose stage is known at compile time.
pub struct Release<'p, S> {
    policy: &'p Policy,
    state: ReleaseState,
    events: Vec<Event>,
    stage: PhantomData<S>,
}

impl<S> fmt::Debug for Release<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Release").field("stage", &self.state.stage).field("events", &self.events.len()).finish()
    }
}

/// A refused step: the release, unchanged since the last accepted command, and why.
#[derive(Debug)]
pub struct Refused<'p, S> {
    /// The release, as it was after its last accepted command.
    pub release: Box<Release<'p, S>>,
    /// Why the step was refused.
    pub refusal: Refusal,
}

impl<S> fmt::Display for Refused<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.refusal.fmt(f)
    }
}

impl<S: fmt::Debug> std::error::Error for Refused<'_, S> {}

impl<'p> Release<'p, Planned> {
    /// Plans a release (R-1a).
    pub fn plan(policy: &'p Policy, author: &Actor, plan: Plan, now: Timestamp) -> Result<Self, Refusal> {
        let empty = Release { policy, state: ReleaseState::default(), events: Vec::new(), stage: PhantomData };
        empty.run(author, Action::Plan { plan, last_release: None }, now).map_err(|r| r.refusal)
    }

    /// The product owner approves the scope, and the release moves on (R-2b).
    pub fn approve_scope(
        self,
        po: &Actor,
        channel: Channel,
        comment: &str,
        now: Timestamp,
    ) -> Result<Release<'p, ScopeApproved>, Refused<'p, Planned>> {
        self.approve_and_advance(po, ApprovalId::Scope, Role::ProductOwner, channel, comment, now)
    }
}

impl<'p, S: StageMarker> Release<'p, S> {
    /// The state so far.
    pub fn state(&self) -> &ReleaseState {
        &self.state
    }

    /// Every event so far, to store.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Takes the events out.
    pub fn into_events(self) -> Vec<Event> {
        self.events
    }

    fn run(mut self, actor: &Actor, action: Action, now: Timestamp) -> Result<Self, Refused<'p, S>> {
        match decide(&self.state, &Command::new(actor, action), self.policy, now) {
            Ok(events) => {
                for event in events {
                    self.state = apply(std::mem::take(&mut self.state), &event);
                    self.events.push(event);
                }
                Ok(self)
            }
            Err(refusal) => Err(Refused { release: Box::new(self), refusal }),
        }
    }

    fn retype<T>(self) -> Release<'p, T> {
        Release { policy: self.policy, state: self.state, events: self.events, stage: PhantomData }
    }

    /// Records anything that does not change the stage: an approval, evidence,
    /// an artifact, a step, a booking, an override. Stage changes have their
    /// own typed methods, and are refused here.
    pub fn record(self, actor: &Actor, action: Action, now: Timestamp) -> Result<Self, Refused<'p, S>> {
        let moves = matches!(
            action,
            Action::Advance { .. }
                | Action::BeginRollback { .. }
                | Action::FinishRollback { .. }
                | Action::Cancel { .. }
                | Action::Close { .. }
                | Action::Plan { .. }
        );
        if moves {
            let refusal = Refusal::new(
                self.state.stage.clone(),
                "record a stage change",
                vec![Unmet::new(
                    RuleId::R_3,
                    Requirement::Input {
                        field: "action".into(),
                        problem: "use the typed method for a stage change".into(),
                    },
                )],
            );
            return Err(Refused { release: Box::new(self), refusal });
        }
        self.run(actor, action, now)
    }

    fn advance<T: StageMarker>(self, actor: &Actor, now: Timestamp) -> Result<Release<'p, T>, Refused<'p, S>> {
        self.run(actor, Action::Advance { to: T::STAGE }, now).map(Release::retype)
    }

    fn approve_and_advance<T: StageMarker>(
        self,
        actor: &Actor,
        approval: ApprovalId,
        role: Role,
        channel: Channel,
        comment: &str,
        now: Timestamp,
    ) -> Result<Release<'p, T>, Refused<'p, S>> {
        self.run(actor, Action::Approve { approval, role, channel, comment: comment.to_owned() }, now)?
            .advance(actor, now)
    }

    /// Cancels the release from this stage (R-3).
    pub fn cancel(self, actor: &Actor, reason: &str, now: Timestamp) -> Result<Release<'p, Cancelled>, Refused<'p, S>> {
        self.run(actor, Action::Cancel { reason: reason.to_owned() }, now).map(Release::retype)
    }
}

macro_rules! advance_methods {
    ($($from:ident => $method:ident -> $to:ident : $doc:literal;)+) => {
        $(
            impl<'p> Release<'p, $from> {
                #[doc = $doc]
                pub fn $method(self, actor: &Actor, now: Timestamp) -> Result<Release<'p, $to>, Refused<'p, $from>> {
                    self.advance(actor, now)
                }
            }
        )+
    };
}

advance_methods! {
    ScopeApproved => mark_built -> Built: "Artifacts built, published and tagged (R-8b, R-4c).";
    Built => deploy_to_staging -> StagingDeployed: "Deployed to staging (R-3).";
    QaVerified => complete_integration -> IntegrationTested: "Integration tests passed (R-3).";
    IntegrationTested => deploy_to_test -> TestDeployed: "Deployed to test and demoed (R-3).";
    Accepted => mark_prod_ready -> ProdReady: "Pre-deployment checks and backups done (R-8a, R-8c).";
    ProdReady => start_prod_deployment -> Deploying: "Start the production deployment, inside an allowed window (R-6b).";
    Deploying => start_verification -> Verifying: "The production deployment finished (R-8e).";
    Verifying => release -> Released: "Smoke tests passed within the deadline (R-8f).";
}

impl<'p> Release<'p, Built> {
    /// Emergency path: a CTO or tech lead approves, and the release skips
    /// staging and test (R-5a, R-5b).
    pub fn fast_track(
        self,
        approver: &Actor,
        role: Role,
        channel: Channel,
        comment: &str,
        now: Timestamp,
    ) -> Result<Release<'p, ProdReady>, Refused<'p, Built>> {
        self.approve_and_advance(approver, ApprovalId::Emergency, role, channel, comment, now)
    }
}

impl<'p> Release<'p, StagingDeployed> {
    /// The QA lead signs off, and the QA gates are judged (R-2b, R-7a–c).
    pub fn sign_off_qa(
        self,
        qa: &Actor,
        channel: Channel,
        comment: &str,
        now: Timestamp,
    ) -> Result<Release<'p, QaVerified>, Refused<'p, StagingDeployed>> {
        self.approve_and_advance(qa, ApprovalId::QaSignoff, Role::QaLead, channel, comment, now)
    }
}

impl<'p> Release<'p, TestDeployed> {
    /// The product owner's formal acceptance (R-2b).
    pub fn accept(
        self,
        po: &Actor,
        channel: Channel,
        comment: &str,
        now: Timestamp,
    ) -> Result<Release<'p, Accepted>, Refused<'p, TestDeployed>> {
        self.approve_and_advance(po, ApprovalId::Acceptance, Role::ProductOwner, channel, comment, now)
    }
}

macro_rules! rollback_methods {
    ($($from:ident),+) => {
        $(
            impl<'p> Release<'p, $from> {
                /// Begins a rollback; it needs no gates (R-8g).
                pub fn begin_rollback(self, actor: &Actor, reason: &str, now: Timestamp) -> Result<Release<'p, RollingBack>, Refused<'p, $from>> {
                    self.run(actor, Action::BeginRollback { reason: reason.to_owned() }, now).map(Release::retype)
                }
            }
        )+
    };
}

rollback_methods!(Deploying, Verifying, Released);

impl<'p> Release<'p, RollingBack> {
    /// The previous release runs again (R-1d).
    pub fn finish_rollback(
        self,
        actor: &Actor,
        detail: &str,
        now: Timestamp,
    ) -> Result<Release<'p, RolledBack>, Refused<'p, RollingBack>> {
        self.run(actor, Action::FinishRollback { succeeded: true, detail: detail.to_owned() }, now).map(Release::retype)
    }
}

impl<'p> Release<'p, Released> {
    /// Closes the release with its log summary (R-9d).
    pub fn close(
        self,
        actor: &Actor,
        summary: &str,
        now: Timestamp,
    ) -> Result<Release<'p, Closed>, Refused<'p, Released>> {
        self.run(actor, Action::Close { summary: summary.to_owned() }, now).map(Release::retype)
    }
}
