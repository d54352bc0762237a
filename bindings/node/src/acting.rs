//! Acting with proof, and asking before acting (issue #20 parity): a dry run
//! of any command (`preview`), window overrides, and the statements an
//! approval, a rejection of one (issue #22), a rollback, a window override or
//! an emergency plan signs (issue #19, R-2d), verified through the adapters as
//! the CLI's `--signature` is.

use napi_derive::napi;
use shipwarden::machine::{Action, Evidence};
use shipwarden::{ApprovalId, Channel, IdentityAction, ReleaseId, Role};
use shipwarden_adapters::identity::{self, Acting, Approving};

use crate::errors;
use crate::manager::{ReleaseManager, id, parse, timestamp};
use crate::types::{Actor, Plan, Release};

/// A signature over the statement of a rollback, a window override or an
/// emergency plan (issue #19, R-2d): from `actionStatement`, signed with
/// `signStatement` or `ssh-keygen -Y sign -n shipwarden`.
#[napi(object)]
#[derive(Default)]
pub struct SignedOptions {
    /// An armored SSH signature (namespace `shipwarden`) over `statement`.
    pub signature: Option<String>,
    /// The statement `signature` signs, from `actionStatement`.
    pub statement: Option<String>,
}

/// A command to preview: `action` names it (`plan`, `approve`, `reject`,
/// `record_evidence`, `advance`, `schedule`, `override_window`,
/// `resolve_step`, `cancel`), the other fields are its arguments.
#[napi(object)]
pub struct PreviewAction {
    /// The command.
    pub action: String,
    /// `plan`: the plan.
    pub plan: Option<Plan>,
    /// `approve`, `reject`: what is approved or rejected.
    pub approval: Option<String>,
    /// `approve`, `reject`: the role (default: the first of the actor's roles the policy accepts).
    pub role: Option<String>,
    /// `approve`, `reject`: the channel (default `api`).
    pub channel: Option<String>,
    /// `approve`: a comment.
    pub comment: Option<String>,
    /// `record_evidence`: the gate.
    pub gate: Option<String>,
    /// `record_evidence`: the measured value.
    pub value: Option<f64>,
    /// `record_evidence`: where the value comes from.
    pub source: Option<String>,
    /// `record_evidence`, `schedule`: the environment.
    pub environment: Option<String>,
    /// `record_evidence`: the target measured.
    pub target: Option<String>,
    /// `advance`: the stage to enter.
    pub to: Option<String>,
    /// `schedule`: the window's start (RFC 3339).
    pub start: Option<String>,
    /// `schedule`: the window's end (RFC 3339).
    pub end: Option<String>,
    /// `resolve_step`: the step's key.
    pub key: Option<String>,
    /// `resolve_step`: whether its work is done.
    pub done: Option<bool>,
    /// `reject`, `override_window`, `resolve_step`, `cancel`: the reason.
    pub reason: Option<String>,
}

/// An event a previewed command would record.
#[napi(object)]
pub struct PreviewEvent {
    /// The event's name (`approved`, `stage_entered`, …).
    pub kind: String,
    /// The event's fields (snake_case, as stored).
    pub event: serde_json::Value,
}

fn needs<T>(value: Option<T>, action: &str, field: &str) -> napi::Result<T> {
    value.ok_or_else(|| errors::invalid(format!("action.{field}: `{action}` needs `{field}`")))
}

fn identity_action(action: &str) -> napi::Result<IdentityAction> {
    match parse::<IdentityAction>(action)? {
        IdentityAction::Approve => Err(errors::invalid(
            "action: an approval's statement comes from approvalStatement(release, actor, approval)",
        )),
        IdentityAction::Reject => Err(errors::invalid(
            "action: a rejection's statement comes from rejectionStatement(release, actor, approval, reason)",
        )),
        other => Ok(other),
    }
}

/// The release, approval, role, channel and comment of an approval or of its rejection.
pub(crate) type ApprovingParts<'a> = (&'a ReleaseId, &'a ApprovalId, &'a Role, Channel, &'a str);

impl ReleaseManager {
    /// `who`, with the proof `signed` gives for approving (`action`
    /// `Approve`) or rejecting (`Reject`) an approval: verified here, through
    /// the adapters, exactly as `shipwarden approve --signature` and
    /// `shipwarden reject --signature` do; `who` as it is without a signature.
    pub(crate) async fn approving(
        &self,
        who: shipwarden::Actor,
        action: IdentityAction,
        what: ApprovingParts<'_>,
        signed: SignedOptions,
    ) -> napi::Result<shipwarden::Actor> {
        match (&signed.signature, &signed.statement) {
            (None, None) => Ok(who),
            (Some(signature), Some(statement)) => {
                let expected = self.approving_statement(&who, action, what).await?;
                let signers = self.signing_config()?.signers().map_err(errors::config)?;
                let proof = identity::proof_of_signature(statement, signature, &signers, &expected);
                Ok(who.with_proof(proof))
            }
            _ => Err(errors::invalid("signature and statement go together: the signature and the statement it signs")),
        }
    }

    /// The statement approving (`Approve`) or rejecting (`Reject`) an
    /// approval signs: `shipwarden approval statement v1` or `shipwarden
    /// rejection statement v1`, so that neither stands for the other.
    pub(crate) async fn approving_statement(
        &self,
        who: &shipwarden::Actor,
        action: IdentityAction,
        (release, approval, role, channel, comment): ApprovingParts<'_>,
    ) -> napi::Result<shipwarden::Statement> {
        let config = self.signing_config()?;
        let what = Approving {
            project: &config.config.project.name,
            release,
            approval,
            role,
            user: &who.user,
            channel,
            comment,
        };
        let statement = match action {
            IdentityAction::Reject => identity::rejection_statement(&self.inner, &what).await,
            _ => identity::approval_statement(&self.inner, &what).await,
        };
        statement.map_err(errors::engine)
    }

    /// `who`, with the proof `options` give for `action` on `release` (the
    /// reason is the statement's comment): verified here, through the
    /// adapters, as `shipwarden rollback --signature` does; `who` as it is
    /// without a signature.
    pub(crate) async fn acting(
        &self,
        who: shipwarden::Actor,
        action: IdentityAction,
        release: &ReleaseId,
        reason: &str,
        options: Option<SignedOptions>,
    ) -> napi::Result<shipwarden::Actor> {
        let options = options.unwrap_or_default();
        match (&options.signature, &options.statement) {
            (None, None) => Ok(who),
            (Some(signature), Some(statement)) => {
                let expected = self.expected_statement(&who, action, release, reason).await?;
                let config = self.signing_config()?;
                let signers = config.signers().map_err(errors::config)?;
                let proof = identity::proof_of_signature(statement, signature, &signers, &expected);
                Ok(who.with_proof(proof))
            }
            _ => Err(errors::invalid("signature and statement go together: the signature and the statement it signs")),
        }
    }

    async fn expected_statement(
        &self,
        who: &shipwarden::Actor,
        action: IdentityAction,
        release: &ReleaseId,
        reason: &str,
    ) -> napi::Result<shipwarden::Statement> {
        let config = self.signing_config()?;
        let role = identity::acting_role(self.inner.policy(), who, action)
            .ok_or_else(|| errors::invalid(format!("{} holds no role", who.user)))?;
        let what =
            Acting { action, project: &config.config.project.name, release, role: &role, user: &who.user, reason };
        identity::action_statement(&self.inner, &what).await.map_err(errors::engine)
    }
}

#[napi]
impl ReleaseManager {
    /// The decision a command by `actor` would meet at `at` (RFC 3339;
    /// default now), made exactly as the real call makes it, with nothing
    /// recorded: the events it would record, or a `RefusedError`. A dry run.
    #[napi]
    pub async fn preview(
        &self,
        release: String,
        actor: napi::Either<Actor, String>,
        action: PreviewAction,
        at: Option<String>,
    ) -> napi::Result<Vec<PreviewEvent>> {
        let who = crate::manager::actor(&self.config, &actor)?;
        let at = at.as_deref().map(timestamp).transpose()?;
        let name = action.action.clone();
        let n = name.as_str();
        let action = match n {
            "plan" => Action::Plan { plan: crate::manager::plan(needs(action.plan, n, "plan")?)?, last_release: None },
            "approve" => {
                let approval: shipwarden::ApprovalId = parse(&needs(action.approval, n, "approval")?)?;
                let role = crate::manager::approval_role(self.inner.policy(), &who, &approval, action.role.as_deref())?;
                Action::Approve {
                    approval,
                    role,
                    channel: parse(action.channel.as_deref().unwrap_or("api"))?,
                    comment: action.comment.unwrap_or_default(),
                }
            }
            "reject" => {
                let approval: shipwarden::ApprovalId = parse(&needs(action.approval, n, "approval")?)?;
                let role = crate::manager::approval_role(self.inner.policy(), &who, &approval, action.role.as_deref())?;
                Action::Reject {
                    approval,
                    role,
                    channel: parse(action.channel.as_deref().unwrap_or("api"))?,
                    comment: needs(action.reason, n, "reason")?,
                }
            }
            "record_evidence" => {
                let mut evidence = Evidence::new(
                    parse(&needs(action.gate, n, "gate")?)?,
                    needs(action.value, n, "value")?,
                    action.source.unwrap_or_else(|| "preview".into()),
                );
                evidence.environment = action.environment.as_deref().map(parse).transpose()?;
                evidence.target = action.target;
                Action::RecordEvidence(evidence)
            }
            "advance" => Action::Advance { to: parse(&needs(action.to, n, "to")?)? },
            "schedule" => Action::Schedule {
                environment: parse(&needs(action.environment, n, "environment")?)?,
                start: timestamp(&needs(action.start, n, "start")?)?,
                end: timestamp(&needs(action.end, n, "end")?)?,
                busy: Vec::new(),
            },
            "override_window" => Action::OverrideWindow { reason: needs(action.reason, n, "reason")? },
            "resolve_step" => Action::ResolveStep {
                key: needs(action.key, n, "key")?,
                done: needs(action.done, n, "done")?,
                reason: needs(action.reason, n, "reason")?,
            },
            "cancel" => Action::Cancel { reason: needs(action.reason, n, "reason")? },
            other => {
                return Err(errors::invalid(format!(
                    "action.action: unknown command `{other}`; expected one of plan, approve, reject, \
                     record_evidence, advance, schedule, override_window, resolve_step, cancel"
                )));
            }
        };
        let events = self.inner.preview(&id(&release)?, &who, action, at).await.map_err(errors::engine)?;
        Ok(events
            .iter()
            .map(|e| PreviewEvent { kind: e.name().to_owned(), event: serde_json::to_value(e).unwrap_or_default() })
            .collect())
    }

    /// Overrides blackout windows and freezes for the release, with a reason,
    /// by a role the calendar policy names (R-6b); `{ signature, statement }`
    /// prove who acts where `[identity] override_window` asks for it (R-2d).
    #[napi]
    pub async fn override_window(
        &self,
        release: String,
        actor: napi::Either<Actor, String>,
        reason: String,
        options: Option<SignedOptions>,
    ) -> napi::Result<Release> {
        let rid = id(&release)?;
        let who = crate::manager::actor(&self.config, &actor)?;
        let who = self.acting(who, IdentityAction::OverrideWindow, &rid, &reason, options).await?;
        let state = self.inner.override_window(&rid, &who, &reason).await.map_err(errors::engine)?;
        Ok(Release::from(state.as_ref()))
    }

    /// The statement to sign for a rollback, a window override or an
    /// emergency plan (`action`: `rollback`, `override_window`,
    /// `emergency_plan`), naming the release's current chain head (issue #19,
    /// R-2d): the exact bytes for `ssh-keygen -Y sign -n shipwarden` or
    /// `signStatement`. `reason` is the one the action will give. Needs a configuration.
    #[napi]
    pub async fn action_statement(
        &self,
        release: String,
        actor: napi::Either<Actor, String>,
        action: String,
        reason: String,
    ) -> napi::Result<String> {
        let (rid, action) = (id(&release)?, identity_action(&action)?);
        let who = crate::manager::actor(&self.config, &actor)?;
        Ok(self.expected_statement(&who, action, &rid, &reason).await?.text())
    }
}
