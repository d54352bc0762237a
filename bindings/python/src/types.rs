//! The typed Python classes: each wraps the Rust value it shows, compares
//! by value, prints a short `repr`, and gives its whole JSON shape with
//! `to_dict()`.

use pyo3::basic::CompareOp;
use pyo3::prelude::*;
use pyo3::types::PyString;
use shipwarden::audit::{Checkpoint as RCheckpoint, Envelope};
use shipwarden::changes::Change;
use shipwarden::engine::{ReleaseStatus as RStatus, RunOutcome as ROutcome, StepError as RStepError};
use shipwarden::ports::{
    BackupRef as RBackupRef, DeployRequest as RDeployRequest, Measurement as RMeasurement, Notice as RNotice,
    ReleaseSummary as RSummary, RollbackRequest as RRollbackRequest, Ticket as RTicket,
};
use shipwarden::{
    Actor as RActor, Approval as RApproval, ArtifactRef as RArtifactRef, GateResult as RGateResult, Hotfix as RHotfix,
    Plan as RPlan, Proof, Refusal as RRefusal, ReleaseKind, ReleaseState, Requirement, Role, Stage as RStage,
    StepOutcome as ROutcomeStep, Unmet as RUnmet, Version,
};

use crate::convert::{parse, timestamp_to_py, to_py, value_to_py};
use crate::exceptions::invalid;

/// A stage of the release procedure (`planned` … `closed`), or one a policy adds.
#[pyclass(module = "shipwarden", frozen, from_py_object)]
#[derive(Clone, PartialEq)]
pub struct Stage(pub RStage);

/// Reads a `Stage` or its name.
pub fn stage_arg(obj: &Bound<'_, PyAny>) -> PyResult<RStage> {
    if let Ok(s) = obj.cast::<Stage>() {
        return Ok(s.get().0.clone());
    }
    let text: String = obj.extract().map_err(|_| invalid("expected a Stage or a stage name"))?;
    parse(&text)
}

#[pymethods]
#[allow(non_snake_case)]
impl Stage {
    /// A built-in stage by name; any other name is refused naming the
    /// built-in stages (a typo must not pass): a stage the policy adds is
    /// `Stage.custom(name)`.
    #[new]
    #[pyo3(text_signature = "(name)")]
    fn new(name: &str) -> PyResult<Self> {
        let stage: RStage = parse(name)?;
        if RStage::BUILT_IN.contains(&stage) {
            return Ok(Stage(stage));
        }
        let known: Vec<&str> = RStage::BUILT_IN.iter().map(RStage::as_str).collect();
        Err(invalid(format!(
            "unknown stage `{name}`: the built-in stages are {}; for a stage your policy adds, use Stage.custom('{name}')",
            known.join(", ")
        )))
    }

    /// A stage the policy adds (`[[policy.stages]]`), by name; the engine
    /// refuses it when the policy in force does not declare it.
    #[staticmethod]
    fn custom(name: &str) -> PyResult<Stage> {
        Ok(Stage(parse(name)?))
    }

    /// The stage's name.
    #[getter]
    fn name(&self) -> &str {
        self.0.as_str()
    }

    /// Every stage the procedure defines, in order.
    #[staticmethod]
    fn built_in() -> Vec<Stage> {
        RStage::BUILT_IN.iter().cloned().map(Stage).collect()
    }

    fn __str__(&self) -> &str {
        self.0.as_str()
    }

    fn __repr__(&self) -> String {
        format!("Stage('{}')", self.0)
    }

    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        PyString::new(py, self.0.as_str()).hash()
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let theirs = if let Ok(s) = other.cast::<Stage>() {
            Some(s.get().0.as_str().to_owned())
        } else {
            other.extract::<String>().ok()
        };
        let Some(theirs) = theirs else { return Ok(py.NotImplemented()) };
        let equal = theirs == self.0.as_str();
        Ok(match op {
            CompareOp::Eq => equal.into_pyobject(py)?.to_owned().into_any().unbind(),
            CompareOp::Ne => (!equal).into_pyobject(py)?.to_owned().into_any().unbind(),
            _ => py.NotImplemented(),
        })
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }

    #[classattr]
    fn PLANNED() -> Stage {
        Stage(RStage::Planned)
    }
    #[classattr]
    fn SCOPE_APPROVED() -> Stage {
        Stage(RStage::ScopeApproved)
    }
    #[classattr]
    fn BUILT() -> Stage {
        Stage(RStage::Built)
    }
    #[classattr]
    fn STAGING_DEPLOYED() -> Stage {
        Stage(RStage::StagingDeployed)
    }
    #[classattr]
    fn QA_VERIFIED() -> Stage {
        Stage(RStage::QaVerified)
    }
    #[classattr]
    fn INTEGRATION_TESTED() -> Stage {
        Stage(RStage::IntegrationTested)
    }
    #[classattr]
    fn TEST_DEPLOYED() -> Stage {
        Stage(RStage::TestDeployed)
    }
    #[classattr]
    fn ACCEPTED() -> Stage {
        Stage(RStage::Accepted)
    }
    #[classattr]
    fn PROD_READY() -> Stage {
        Stage(RStage::ProdReady)
    }
    #[classattr]
    fn DEPLOYING() -> Stage {
        Stage(RStage::Deploying)
    }
    #[classattr]
    fn VERIFYING() -> Stage {
        Stage(RStage::Verifying)
    }
    #[classattr]
    fn RELEASED() -> Stage {
        Stage(RStage::Released)
    }
    #[classattr]
    fn ROLLING_BACK() -> Stage {
        Stage(RStage::RollingBack)
    }
    #[classattr]
    fn ROLLED_BACK() -> Stage {
        Stage(RStage::RolledBack)
    }
    #[classattr]
    fn CANCELLED() -> Stage {
        Stage(RStage::Cancelled)
    }
    #[classattr]
    fn CLOSED() -> Stage {
        Stage(RStage::Closed)
    }
}

/// A proof an embedding platform verified itself, read from a dict (issue #19).
fn platform_proof(obj: &Bound<'_, PyAny>) -> PyResult<Proof> {
    let value = crate::convert::py_to_value(obj, "proof")?;
    match value.get("kind").and_then(|k| k.as_str()) {
        Some("ssh_signature") => {
            return Err(invalid(
                "proof: an SSH signature is verified against the configured keys: pass approve(signature=…, statement=…)",
            ));
        }
        Some("rejected") => return Err(invalid("proof: `rejected` is not a proof")),
        _ => {}
    }
    let proof: Proof = serde_json::from_value(value.clone()).map_err(|e| {
        invalid(format!(
            "proof: {e}; expected {{'kind': 'token', 'id': …}}, {{'kind': 'oidc', 'issuer': …, 'subject': …}}, \
             {{'kind': 'chat', 'platform': …, 'user_id': …}} or {{'kind': 'local'}}"
        ))
    })?;
    crate::convert::no_unknown_keys(&value, &proof, "proof", "kind")?;
    Ok(proof)
}

/// Someone acting on a release: a user name and the roles they hold.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct Actor(pub RActor);

#[pymethods]
impl Actor {
    /// `proof` is how the embedding platform established who this is (issue
    /// #19): `{"kind": "token", "id": …}`, `{"kind": "oidc", "issuer": …,
    /// "subject": …}`, `{"kind": "chat", "platform": …, "user_id": …}` or
    /// `{"kind": "local", "os_user": …}` (the default). An SSH signature is
    /// not given here: pass it to `approve(signature=…, statement=…)`.
    #[new]
    #[pyo3(signature = (user, roles = Vec::new(), *, proof = None), text_signature = "(user, roles=(), *, proof=None)")]
    fn new(user: String, roles: Vec<String>, proof: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        if user.trim().is_empty() {
            return Err(invalid("an actor needs a user name"));
        }
        let roles = roles.iter().map(|r| parse::<Role>(r)).collect::<PyResult<Vec<_>>>()?;
        let actor = RActor::new(user, roles);
        Ok(Actor(match proof {
            Some(p) => actor.with_proof(platform_proof(p)?),
            None => actor,
        }))
    }

    /// How the actor was established, as a dict with its `kind` (`local`,
    /// `ssh_signature`, `token`, `oidc`, `chat`) and who or what proved it.
    #[getter]
    fn proof<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.proof)
    }

    /// The user name recorded in the audit trail.
    #[getter]
    fn user(&self) -> &str {
        &self.0.user
    }

    /// The roles held.
    #[getter]
    fn roles(&self) -> Vec<String> {
        self.0.roles.iter().map(ToString::to_string).collect()
    }

    fn __repr__(&self) -> String {
        format!("Actor('{}', {:?})", self.0.user, self.roles())
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// The emergency details of a hotfix (R-5b): its ticket, summary and justification.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct Hotfix(pub RHotfix);

#[pymethods]
impl Hotfix {
    #[new]
    fn new(ticket: &str, summary: String, justification: String) -> PyResult<Self> {
        Ok(Hotfix(RHotfix { ticket: parse(ticket)?, summary, justification }))
    }

    /// The hotfix ticket's key.
    #[getter]
    fn ticket(&self) -> String {
        self.0.ticket.to_string()
    }

    /// The ticket's summary (carries the policy's prefix, `HOTFIX`).
    #[getter]
    fn summary(&self) -> &str {
        &self.0.summary
    }

    /// Why it cannot wait for a normal release.
    #[getter]
    fn justification(&self) -> &str {
        &self.0.justification
    }

    fn __repr__(&self) -> String {
        format!("Hotfix('{}', {:?})", self.0.ticket, self.0.summary)
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// A release plan (R-1a): project, version, kind, scope, date, dependencies.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct Plan(pub RPlan);

#[pymethods]
impl Plan {
    #[new]
    #[pyo3(signature = (project, version, kind = "minor", *, release = None, scope = Vec::new(), target_date = None, dependencies = None, hotfix = None), text_signature = "(project, version, kind='minor', *, release=None, scope=(), target_date=None, dependencies=None, hotfix=None)")]
    #[allow(clippy::too_many_arguments)]
    fn new(
        project: &str,
        version: &str,
        kind: &str,
        release: Option<&str>,
        scope: Vec<String>,
        target_date: Option<&Bound<'_, PyAny>>,
        dependencies: Option<std::collections::BTreeMap<String, String>>,
        hotfix: Option<Hotfix>,
    ) -> PyResult<Self> {
        if project.trim().is_empty() {
            return Err(invalid("a plan needs a project"));
        }
        let version: Version = parse(version)?;
        let kind: ReleaseKind = parse(kind)?;
        let release = match release {
            Some(r) => parse(r)?,
            None => shipwarden::ReleaseId::for_version(project, &version).map_err(invalid)?,
        };
        let mut plan = RPlan::new(release, project, version, kind);
        plan.scope = scope.iter().map(|k| parse(k)).collect::<PyResult<_>>()?;
        if let Some(date) = target_date {
            let text = date.str()?.to_string();
            plan.target_date =
                Some(text.parse().map_err(|e| invalid(format!("target_date `{text}` is not a date: {e}")))?);
        }
        plan.dependencies = dependencies
            .unwrap_or_default()
            .into_iter()
            .map(|(name, version)| shipwarden::Dependency { name, version })
            .collect();
        plan.hotfix = hotfix.map(|h| h.0);
        Ok(Plan(plan))
    }

    /// The release id (`shop-1.4.0` unless given).
    #[getter]
    fn release(&self) -> String {
        self.0.release.to_string()
    }

    /// The project.
    #[getter]
    fn project(&self) -> &str {
        &self.0.project
    }

    /// The version.
    #[getter]
    fn version(&self) -> String {
        self.0.version.to_string()
    }

    /// `major`, `minor`, `patch` or `emergency`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.kind.as_str()
    }

    /// The ticket keys in scope.
    #[getter]
    fn scope(&self) -> Vec<String> {
        self.0.scope.iter().map(ToString::to_string).collect()
    }

    /// The target date, as `YYYY-MM-DD`.
    #[getter]
    fn target_date(&self) -> Option<String> {
        self.0.target_date.map(|d| d.to_string())
    }

    /// External dependencies: name to version constraint.
    #[getter]
    fn dependencies(&self) -> std::collections::BTreeMap<String, String> {
        self.0.dependencies.iter().map(|d| (d.name.clone(), d.version.clone())).collect()
    }

    /// The hotfix details of an emergency release.
    #[getter]
    fn hotfix(&self) -> Option<Hotfix> {
        self.0.hotfix.clone().map(Hotfix)
    }

    fn __repr__(&self) -> String {
        format!("Plan('{}', '{}', '{}')", self.0.project, self.0.version, self.0.kind.as_str())
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// An approval given (R-2c): which, by whom in which role, when, through
/// which channel; also the record of a rejection of one, its comment the reason.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct Approval(pub RApproval);

#[pymethods]
impl Approval {
    /// Which approval (`scope`, `qa_signoff`, `acceptance`, `emergency`).
    #[getter]
    fn approval(&self) -> String {
        self.0.approval.to_string()
    }

    /// The role it was given in.
    #[getter]
    fn role(&self) -> String {
        self.0.role.to_string()
    }

    /// Who gave it.
    #[getter]
    fn user(&self) -> &str {
        &self.0.user
    }

    /// When.
    #[getter]
    fn at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        timestamp_to_py(py, self.0.at)
    }

    /// The channel (`ticket_comment`, `email`, `chat`, `cli`, `api`).
    #[getter]
    fn channel(&self) -> &'static str {
        self.0.channel.as_str()
    }

    /// The comment.
    #[getter]
    fn comment(&self) -> &str {
        &self.0.comment
    }

    /// How the approver was established (issue #19), as a dict with its
    /// `kind` and who or what proved it; None for approvals recorded before proofs were.
    #[getter]
    fn proof<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.proof)
    }

    fn __repr__(&self) -> String {
        format!("Approval('{}', role='{}', user='{}')", self.0.approval, self.0.role, self.0.user)
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// A judged gate (R-7g): value, threshold, verdict, evidence, producer, time.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct GateResult(pub RGateResult);

#[pymethods]
impl GateResult {
    /// The gate.
    #[getter]
    fn gate(&self) -> String {
        self.0.gate.to_string()
    }

    /// The environment measured, for per-environment checks.
    #[getter]
    fn environment(&self) -> Option<String> {
        self.0.environment.as_ref().map(ToString::to_string)
    }

    /// The target measured, if any.
    #[getter]
    fn target(&self) -> Option<String> {
        self.0.target.clone()
    }

    /// The measured value.
    #[getter]
    fn value(&self) -> f64 {
        self.0.measured.value
    }

    /// The measured value as people read it (`92.0 %`).
    #[getter]
    fn measured(&self) -> String {
        self.0.measured.to_string()
    }

    /// The threshold it was judged against (`>= 90.0 %`).
    #[getter]
    fn threshold(&self) -> String {
        self.0.threshold.describe(self.0.measured.unit)
    }

    /// The verdict.
    #[getter]
    fn passed(&self) -> bool {
        self.0.passed
    }

    /// Where the value came from.
    #[getter]
    fn source(&self) -> &str {
        &self.0.source
    }

    /// Who or what produced it.
    #[getter]
    fn produced_by(&self) -> &str {
        &self.0.produced_by
    }

    /// When it was recorded.
    #[getter]
    fn at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        timestamp_to_py(py, self.0.at)
    }

    fn __repr__(&self) -> String {
        let verdict = if self.0.passed { "passed" } else { "failed" };
        format!("GateResult('{}', {}, {verdict})", self.0.gate, self.0.measured)
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// An artifact: name, version, SHA-256 and size.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct ArtifactRef(pub RArtifactRef);

#[pymethods]
impl ArtifactRef {
    #[new]
    fn new(name: String, version: &str, sha256: &str, size: u64) -> PyResult<Self> {
        Ok(ArtifactRef(RArtifactRef::new(name, parse(version)?, parse(sha256)?, size)))
    }

    /// The artifact's name.
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }

    /// Its version.
    #[getter]
    fn version(&self) -> String {
        self.0.version.to_string()
    }

    /// The SHA-256 of its content, in hex.
    #[getter]
    fn sha256(&self) -> String {
        self.0.sha256.to_string()
    }

    /// Its size in bytes.
    #[getter]
    fn size(&self) -> u64 {
        self.0.size
    }

    fn __repr__(&self) -> String {
        format!("ArtifactRef('{}', '{}', sha256='{}')", self.0.name, self.0.version, self.0.sha256)
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// A step's record: kind, environment, target, when, how it ended, its log.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct Step(pub shipwarden::machine::StepRecord);

#[pymethods]
impl Step {
    /// The idempotency key.
    #[getter]
    fn key(&self) -> &str {
        &self.0.key
    }

    /// The kind of step (`build`, `deploy`, `smoke_test`).
    #[getter]
    fn step(&self) -> String {
        self.0.step.to_string()
    }

    /// Its environment.
    #[getter]
    fn environment(&self) -> Option<String> {
        self.0.environment.as_ref().map(ToString::to_string)
    }

    /// Its target.
    #[getter]
    fn target(&self) -> Option<String> {
        self.0.target.clone()
    }

    /// True when it succeeded, False when it failed, None while it runs.
    #[getter]
    fn ok(&self) -> Option<bool> {
        self.0.outcome.as_ref().map(ROutcomeStep::succeeded)
    }

    /// What it did, or what went wrong.
    #[getter]
    fn detail(&self) -> Option<String> {
        self.0.outcome.as_ref().map(|o| match o {
            ROutcomeStep::Succeeded { detail, .. } => detail.clone(),
            ROutcomeStep::Failed { error, .. } => error.clone(),
        })
    }

    /// Its log lines.
    #[getter]
    fn log(&self) -> Vec<String> {
        self.0.log.iter().map(|l| l.text.clone()).collect()
    }

    /// Why nobody knew how it ended, once it was found in doubt (its driver stopped and the target could
    /// not tell); None for a step never in doubt. While `ok` is None it waits for a person
    /// (`ReleaseManager.resolve`, R-9d); once resolved, `ok` says how it ended and this keeps the why.
    #[getter]
    fn in_doubt(&self) -> Option<String> {
        self.0.in_doubt.clone()
    }

    fn __repr__(&self) -> String {
        let state = match self.ok() {
            Some(true) => "ok",
            Some(false) => "failed",
            None if self.0.in_doubt.is_some() => "in doubt",
            None => "running",
        };
        format!("Step('{}', {state})", self.0.key)
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// A release: the fold of its audit events.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct Release(pub ReleaseState);

#[pymethods]
impl Release {
    /// The release id.
    #[getter]
    fn id(&self) -> Option<String> {
        self.0.plan.as_ref().map(|p| p.release.to_string())
    }

    /// The plan.
    #[getter]
    fn plan(&self) -> Option<Plan> {
        self.0.plan.clone().map(Plan)
    }

    /// The project.
    #[getter]
    fn project(&self) -> Option<String> {
        self.0.plan.as_ref().map(|p| p.project.clone())
    }

    /// The version.
    #[getter]
    fn version(&self) -> Option<String> {
        self.0.plan.as_ref().map(|p| p.version.to_string())
    }

    /// The current stage.
    #[getter]
    fn stage(&self) -> Option<Stage> {
        self.0.stage.clone().map(Stage)
    }

    /// Every stage entered, in order.
    #[getter]
    fn path(&self) -> Vec<Stage> {
        self.0.path.iter().cloned().map(Stage).collect()
    }

    /// Who planned it.
    #[getter]
    fn author(&self) -> Option<String> {
        self.0.author.clone()
    }

    /// Every approval given.
    #[getter]
    fn approvals(&self) -> Vec<Approval> {
        self.0.approvals.iter().cloned().map(Approval).collect()
    }

    /// Every rejection of an approval (R-2c), standing or lifted, oldest
    /// first: the same `Approval` records, `comment` being the reason. One
    /// stands until its author approves (R-2b).
    #[getter]
    fn rejections(&self) -> Vec<Approval> {
        self.0.rejections.iter().cloned().map(Approval).collect()
    }

    /// Every gate result, oldest first.
    #[getter]
    fn gate_results(&self) -> Vec<GateResult> {
        self.0.gate_results.iter().cloned().map(GateResult).collect()
    }

    /// The artifacts recorded.
    #[getter]
    fn artifacts(&self) -> Vec<ArtifactRef> {
        self.0.artifacts.iter().cloned().map(ArtifactRef).collect()
    }

    /// Every step, in start order.
    #[getter]
    fn steps(&self) -> Vec<Step> {
        self.0.steps.iter().cloned().map(Step).collect()
    }

    /// The steps in doubt, in start order: started, no outcome, their driver gone; each waits for a
    /// person to resolve it (`ReleaseManager.resolve`, R-9d).
    #[getter]
    fn in_doubt(&self) -> Vec<Step> {
        self.0.in_doubt().cloned().map(Step).collect()
    }

    /// Environments the release was deployed to.
    #[getter]
    fn deployed_to(&self) -> Vec<String> {
        self.0.deployed_to.iter().map(ToString::to_string).collect()
    }

    /// Why a rollback began, if one did.
    #[getter]
    fn rollback_reason(&self) -> Option<String> {
        self.0.rollback_reason.clone()
    }

    /// Why it was cancelled, if it was.
    #[getter]
    fn cancel_reason(&self) -> Option<String> {
        self.0.cancel_reason.clone()
    }

    /// The closing summary, once closed.
    #[getter]
    fn close_summary(&self) -> Option<String> {
        self.0.close_summary.clone()
    }

    /// The number of events folded (the stream version).
    #[getter]
    fn stream_version(&self) -> u64 {
        self.0.version
    }

    fn __repr__(&self) -> String {
        let id = self.id().unwrap_or_else(|| "-".into());
        let stage = self.0.stage.as_ref().map_or("-".to_owned(), ToString::to_string);
        format!("Release('{id}', stage='{stage}')")
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// One unmet requirement of a refusal, with the rule it comes from.
#[pyclass(module = "shipwarden", frozen, from_py_object)]
#[derive(Clone)]
pub struct Unmet {
    inner: RUnmet,
    fields: serde_json::Value,
}

impl Unmet {
    /// Wraps an unmet requirement.
    pub fn new(inner: RUnmet) -> Self {
        let fields = serde_json::to_value(&inner).unwrap_or_default();
        Unmet { inner, fields }
    }

    fn field(&self, name: &str) -> Option<String> {
        self.fields.get(name).and_then(|v| v.as_str()).map(str::to_owned)
    }
}

impl PartialEq for Unmet {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}

#[pymethods]
impl Unmet {
    /// The rule (`R-5a`).
    #[getter]
    fn rule(&self) -> String {
        self.inner.rule.to_string()
    }

    /// What kind of requirement (`approval`, `gate`, `step`, `window`, …).
    #[getter]
    fn requirement(&self) -> String {
        self.field("requirement").unwrap_or_default()
    }

    /// The requirement as people read it.
    #[getter]
    fn message(&self) -> String {
        self.inner.requirement.to_string()
    }

    /// The approval missing, for `approval` requirements.
    #[getter]
    fn approval(&self) -> Option<String> {
        self.field("approval")
    }

    /// The roles that may give it, for `approval` requirements.
    #[getter]
    fn roles(&self) -> Vec<String> {
        match self.fields.get("roles") {
            Some(serde_json::Value::Array(items)) => {
                items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The gate, for `gate` requirements.
    #[getter]
    fn gate(&self) -> Option<String> {
        self.field("gate")
    }

    /// Who: the person who rejected the approval, for `rejected`
    /// requirements (R-2b); the person concerned, for `duplicate_approval`,
    /// `duplicate_rejection` and `separation_of_duties` ones.
    #[getter]
    fn user(&self) -> Option<String> {
        self.field("user")
    }

    /// Why the approval was rejected, for `rejected` requirements (R-2b).
    #[getter]
    fn reason(&self) -> Option<String> {
        self.field("reason")
    }

    /// The step: its kind for `step` requirements, its key for `step_in_doubt` ones.
    #[getter]
    fn step(&self) -> Option<String> {
        match &self.inner.requirement {
            Requirement::StepInDoubt { key, .. } => Some(key.clone()),
            _ => self.field("step"),
        }
    }

    /// What is known, for `step_in_doubt` requirements.
    #[getter]
    fn detail(&self) -> Option<String> {
        match &self.inner.requirement {
            Requirement::StepInDoubt { detail, .. } => Some(detail.clone()),
            _ => None,
        }
    }

    /// The environment concerned, if any.
    #[getter]
    fn environment(&self) -> Option<String> {
        self.field("environment")
    }

    fn __eq__(&self, other: &Self) -> bool {
        self == other
    }

    fn __repr__(&self) -> String {
        format!("Unmet('{}', {:?})", self.inner.rule, self.message())
    }

    fn __str__(&self) -> String {
        self.inner.to_string()
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &self.fields)
    }
}

/// Why the policy refused: the first rule, the stage, what was attempted, every unmet requirement.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct Refusal(pub RRefusal);

#[pymethods]
impl Refusal {
    /// The rule of the first unmet requirement.
    #[getter]
    fn rule(&self) -> String {
        self.0.rule.to_string()
    }

    /// The stage the release was in.
    #[getter]
    fn stage(&self) -> Option<Stage> {
        self.0.stage.clone().map(Stage)
    }

    /// What was attempted (`advance built -> staging_deployed`).
    #[getter]
    fn attempted(&self) -> &str {
        &self.0.attempted
    }

    /// Every unmet requirement.
    #[getter]
    fn unmet(&self) -> Vec<Unmet> {
        self.0.unmet.iter().cloned().map(Unmet::new).collect()
    }

    /// The rules of the unmet requirements, in order, without repeats.
    #[getter]
    fn rules(&self) -> Vec<String> {
        let mut rules: Vec<String> = Vec::new();
        for u in &self.0.unmet {
            let r = u.rule.to_string();
            if !rules.contains(&r) {
                rules.push(r);
            }
        }
        rules
    }

    fn __repr__(&self) -> String {
        format!("Refusal('{}', unmet={})", self.0.rule, self.0.unmet.len())
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// A release's state and, for each stage it may go to next, the refusal advancing would meet.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct ReleaseStatus(pub RStatus);

#[pymethods]
impl ReleaseStatus {
    /// The release.
    #[getter]
    fn release(&self) -> Release {
        Release(self.0.state.clone())
    }

    /// The current stage.
    #[getter]
    fn stage(&self) -> Option<Stage> {
        self.0.state.stage.clone().map(Stage)
    }

    /// Each next stage with its refusal (None: advancing would succeed now).
    #[getter]
    fn next(&self) -> Vec<(Stage, Option<Refusal>)> {
        self.0.next.iter().map(|(s, r)| (Stage(s.clone()), r.clone().map(Refusal))).collect()
    }

    fn __repr__(&self) -> String {
        let stage = self.0.state.stage.as_ref().map_or("-".to_owned(), ToString::to_string);
        format!("ReleaseStatus(stage='{stage}', next={})", self.0.next.len())
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// The step a run stopped on, with the port error that failed it (issue #20).
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct StepError(pub RStepError);

#[pymethods]
impl StepError {
    /// The kind of step (`build`, `deploy`, …).
    #[getter]
    fn step(&self) -> String {
        self.0.step.to_string()
    }

    /// Its environment, if any.
    #[getter]
    fn environment(&self) -> Option<String> {
        self.0.environment.as_ref().map(ToString::to_string)
    }

    /// Its target, if any.
    #[getter]
    fn target(&self) -> Option<String> {
        self.0.target.clone()
    }

    /// The port or adapter that failed (`deploy-target web-1`), or `engine`.
    #[getter]
    fn port(&self) -> String {
        self.0.port.clone()
    }

    /// The operation that failed (`deploy`).
    #[getter]
    fn operation(&self) -> String {
        self.0.operation.clone()
    }

    /// What happened.
    #[getter]
    fn cause(&self) -> String {
        self.0.cause.clone()
    }

    /// True when trying again can help.
    #[getter]
    fn retryable(&self) -> bool {
        self.0.retryable
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }

    fn __repr__(&self) -> String {
        format!(
            "StepError(port='{}', operation='{}', cause='{}', retryable={})",
            self.0.port,
            self.0.operation,
            self.0.cause,
            if self.0.retryable { "True" } else { "False" }
        )
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// Where a run stopped: `reached`, `waiting` (with the refusal), `failed`
/// (with the step's port error and the refusal), `rolled_back` (with the
/// reason, and the port error when one caused it) or `final`.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct RunOutcome(pub ROutcome);

#[pymethods]
impl RunOutcome {
    /// `reached`, `waiting`, `failed`, `rolled_back` or `final`.
    #[getter]
    fn outcome(&self) -> &'static str {
        match &self.0 {
            ROutcome::Reached { .. } => "reached",
            ROutcome::Waiting(_) => "waiting",
            ROutcome::Failed(_) => "failed",
            ROutcome::RolledBack { .. } => "rolled_back",
            ROutcome::Final { .. } => "final",
        }
    }

    /// The stage reached, waited in, or final.
    #[getter]
    fn stage(&self) -> Option<Stage> {
        match &self.0 {
            ROutcome::Reached { stage } | ROutcome::Final { stage } => Some(Stage(stage.clone())),
            ROutcome::Waiting(w) => Some(Stage(w.stage.clone())),
            ROutcome::Failed(f) => Some(Stage(f.waiting.stage.clone())),
            ROutcome::RolledBack { .. } => Some(Stage(RStage::RolledBack)),
        }
    }

    /// What the release waits for, when waiting or failed.
    #[getter]
    fn refusal(&self) -> Option<Refusal> {
        self.0.waiting().map(|w| Refusal(w.refusal.clone()))
    }

    /// The failed step's port error (port, operation, cause, retryable), when
    /// the run failed, or when a port's error caused a rollback.
    #[getter]
    fn error(&self) -> Option<StepError> {
        match &self.0 {
            ROutcome::Failed(f) => Some(StepError(f.error.clone())),
            ROutcome::RolledBack { error, .. } => error.clone().map(StepError),
            _ => None,
        }
    }

    /// Why it was rolled back, when it was.
    #[getter]
    fn reason(&self) -> Option<String> {
        match &self.0 {
            ROutcome::RolledBack { reason, .. } => Some(reason.clone()),
            _ => None,
        }
    }

    fn __repr__(&self) -> String {
        let stage = self.stage().map_or("-".to_owned(), |s| s.0.to_string());
        let why = match (self.error(), self.reason()) {
            (Some(e), _) => format!(", error='{}'", e.0),
            (None, Some(reason)) => format!(", reason='{reason}'"),
            (None, None) => String::new(),
        };
        format!("RunOutcome('{}', stage='{stage}'{why})", self.outcome())
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// One entry of the audit trail: who did what when under which rule, hash-chained.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct AuditEvent(pub Envelope);

#[pymethods]
impl AuditEvent {
    /// The release stream.
    #[getter]
    fn stream(&self) -> &str {
        &self.0.stream
    }

    /// Its position in the stream, from 1.
    #[getter]
    fn sequence(&self) -> u64 {
        self.0.sequence
    }

    /// When it was appended.
    #[getter]
    fn at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        timestamp_to_py(py, self.0.at)
    }

    /// Who did it.
    #[getter]
    fn actor(&self) -> &str {
        &self.0.actor
    }

    /// The rule it was done under.
    #[getter]
    fn rule(&self) -> String {
        self.0.rule.to_string()
    }

    /// The event's name (`planned`, `approved`, `step_finished`, …).
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.event.name()
    }

    /// The event's fields.
    #[getter]
    fn event<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.event)
    }

    /// The hash of the previous entry.
    #[getter]
    fn prev_hash(&self) -> String {
        self.0.prev_hash.to_string()
    }

    /// This entry's hash.
    #[getter]
    fn hash(&self) -> String {
        self.0.hash.to_string()
    }

    fn __repr__(&self) -> String {
        format!(
            "AuditEvent({}, '{}', actor='{}', rule='{}')",
            self.0.sequence,
            self.0.event.name(),
            self.0.actor,
            self.0.rule
        )
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// A signed checkpoint of a release's audit chain (R-9d): the head hash at a
/// sequence and the stage reached there, signed with the project's key.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct Checkpoint(pub RCheckpoint);

#[pymethods]
impl Checkpoint {
    /// The release stream.
    #[getter]
    fn stream(&self) -> &str {
        &self.0.stream
    }

    /// The sequence of the event whose hash is `head`.
    #[getter]
    fn sequence(&self) -> u64 {
        self.0.sequence
    }

    /// The chain's head hash at `sequence`.
    #[getter]
    fn head(&self) -> String {
        self.0.head.to_string()
    }

    /// The stage the release reached there.
    #[getter]
    fn stage(&self) -> Stage {
        Stage(self.0.stage.clone())
    }

    /// When it was signed.
    #[getter]
    fn at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        timestamp_to_py(py, self.0.at)
    }

    /// The signature algorithm (`ed25519`).
    #[getter]
    fn algorithm(&self) -> &str {
        &self.0.algorithm
    }

    /// The signer's public key, hex.
    #[getter]
    fn public_key(&self) -> &str {
        &self.0.public_key
    }

    /// The signature, hex.
    #[getter]
    fn signature(&self) -> &str {
        &self.0.signature
    }

    fn __repr__(&self) -> String {
        format!("Checkpoint({}, '{}', stage='{}')", self.0.sequence, self.0.head, self.0.stage)
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// What a verified audit trail says (R-9d): its head, how many events and
/// checkpoints, the newest checkpoint's sequence, and what no signature covers yet.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct AuditReport(pub shipwarden::audit::AnchorReport);

#[pymethods]
impl AuditReport {
    /// Always True: a trail that does not verify raises `IntegrityError`.
    #[getter]
    fn ok(&self) -> bool {
        true
    }

    /// The chain's head hash.
    #[getter]
    fn head(&self) -> String {
        self.0.head.to_string()
    }

    /// How many events the chain holds.
    #[getter]
    fn events(&self) -> u64 {
        self.0.events
    }

    /// How many checkpoints verified.
    #[getter]
    fn checkpoints(&self) -> usize {
        self.0.checkpoints
    }

    /// The newest checkpoint's sequence; None when the chain is unanchored.
    #[getter]
    fn anchored_at(&self) -> Option<u64> {
        self.0.anchored_at
    }

    /// Events after the newest checkpoint, which no signature vouches for yet.
    #[getter]
    fn unanchored_events(&self) -> u64 {
        self.0.unanchored_events
    }

    fn __repr__(&self) -> String {
        format!("AuditReport(events={}, head='{}', checkpoints={})", self.0.events, self.0.head, self.0.checkpoints)
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// A release as the store lists it.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct ReleaseSummary(pub RSummary);

#[pymethods]
impl ReleaseSummary {
    /// The release id.
    #[getter]
    fn release(&self) -> String {
        self.0.release.to_string()
    }

    /// The project.
    #[getter]
    fn project(&self) -> &str {
        &self.0.project
    }

    /// The version.
    #[getter]
    fn version(&self) -> String {
        self.0.version.to_string()
    }

    /// The kind.
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.kind.as_str()
    }

    /// The stage.
    #[getter]
    fn stage(&self) -> Stage {
        Stage(self.0.stage.clone())
    }

    fn __repr__(&self) -> String {
        format!("ReleaseSummary('{}', stage='{}')", self.0.release, self.0.stage)
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// The policy: stages, transitions, gates, windows, roles.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct Policy(pub shipwarden::Policy);

#[pymethods]
impl Policy {
    /// The procedure's own policy.
    #[staticmethod]
    fn default() -> Self {
        Policy(shipwarden::Policy::default())
    }

    /// The default policy with the overrides in this TOML text.
    #[staticmethod]
    fn from_toml(text: &str) -> PyResult<Self> {
        shipwarden::Policy::from_toml_str(text).map(Policy).map_err(invalid)
    }

    /// The whole policy as TOML.
    fn to_toml(&self) -> String {
        self.0.to_toml()
    }

    /// The stages and transitions as a Mermaid diagram.
    fn to_mermaid(&self) -> String {
        self.0.to_mermaid()
    }

    /// The stages, in order.
    #[getter]
    fn stages(&self) -> Vec<Stage> {
        self.0.stages.iter().map(|s| Stage(s.name.clone())).collect()
    }

    /// The gates and their thresholds (`coverage` -> `>= 90.0 %`).
    #[getter]
    fn gates(&self) -> std::collections::BTreeMap<String, String> {
        self.0.gates.iter().map(|(id, g)| (id.to_string(), g.threshold.describe(g.unit))).collect()
    }

    fn __repr__(&self) -> String {
        format!("Policy(stages={}, gates={})", self.0.stages.len(), self.0.gates.len())
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// A commit read as a change: conventional type and scope, tickets, breaking, hotfix, revert, merge.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct Commit(pub Change);

#[pymethods]
impl Commit {
    /// The full commit id.
    #[getter]
    fn sha(&self) -> &str {
        &self.0.sha
    }

    /// The subject as written.
    #[getter]
    fn subject(&self) -> &str {
        &self.0.subject
    }

    /// The conventional type (`feat`, `fix`), if any.
    #[getter]
    fn kind(&self) -> Option<String> {
        self.0.kind.clone()
    }

    /// The conventional scope, if any.
    #[getter]
    fn scope(&self) -> Option<String> {
        self.0.scope.clone()
    }

    /// The description without type, scope and ticket keys.
    #[getter]
    fn description(&self) -> &str {
        &self.0.description
    }

    /// True for a breaking change (`!` or `BREAKING CHANGE:`).
    #[getter]
    fn breaking(&self) -> bool {
        self.0.breaking
    }

    /// The ticket keys it names.
    #[getter]
    fn tickets(&self) -> Vec<String> {
        self.0.tickets.iter().map(ToString::to_string).collect()
    }

    /// True for a hotfix.
    #[getter]
    fn hotfix(&self) -> bool {
        self.0.hotfix
    }

    /// The commit it reverts, if it is a revert.
    #[getter]
    fn revert(&self) -> Option<String> {
        self.0.revert.clone()
    }

    /// True for a merge commit.
    #[getter]
    fn merge(&self) -> bool {
        self.0.merge
    }

    /// The author.
    #[getter]
    fn author(&self) -> &str {
        &self.0.author
    }

    /// The notes section it belongs to (`Features`, `Fixes`, …).
    #[getter]
    fn group(&self) -> &'static str {
        self.0.group().title()
    }

    fn __repr__(&self) -> String {
        let kind = self.0.kind.as_deref().map_or("None".to_owned(), |k| format!("'{k}'"));
        format!("Commit({:?}, kind={kind}, tickets={:?})", self.0.subject, self.tickets())
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// Release notes: sections of entries, known issues, contributors.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct ReleaseNotes(pub shipwarden::notes::ReleaseNotes);

#[pymethods]
impl ReleaseNotes {
    /// The project.
    #[getter]
    fn project(&self) -> &str {
        &self.0.project
    }

    /// The version, if the notes are for one.
    #[getter]
    fn version(&self) -> Option<String> {
        self.0.version.as_ref().map(ToString::to_string)
    }

    /// The section titles, in order.
    #[getter]
    fn sections(&self) -> Vec<String> {
        self.0.sections.iter().map(|s| s.title.clone()).collect()
    }

    /// Who contributed.
    #[getter]
    fn contributors(&self) -> Vec<String> {
        self.0.contributors.clone()
    }

    /// The notes as Markdown.
    fn to_markdown(&self) -> String {
        self.0.to_markdown()
    }

    fn __repr__(&self) -> String {
        let version = self.0.version.as_ref().map_or("unreleased".to_owned(), ToString::to_string);
        format!("ReleaseNotes('{}', '{version}', sections={})", self.0.project, self.0.sections.len())
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// What a deploy target is asked to deploy.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct DeployRequest(pub RDeployRequest);

#[pymethods]
impl DeployRequest {
    /// The release.
    #[getter]
    fn release(&self) -> String {
        self.0.release.to_string()
    }

    /// Its version.
    #[getter]
    fn version(&self) -> String {
        self.0.version.to_string()
    }

    /// The environment.
    #[getter]
    fn environment(&self) -> String {
        self.0.environment.to_string()
    }

    /// The artifacts to install.
    #[getter]
    fn artifacts(&self) -> Vec<ArtifactRef> {
        self.0.artifacts.iter().cloned().map(ArtifactRef).collect()
    }

    /// The idempotency key of this deployment of this target.
    #[getter]
    fn key(&self) -> &str {
        &self.0.key
    }

    fn __repr__(&self) -> String {
        format!("DeployRequest('{}', '{}', key='{}')", self.0.release, self.0.environment, self.0.key)
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// What a deploy target is asked to roll back.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct RollbackRequest(pub RRollbackRequest);

#[pymethods]
impl RollbackRequest {
    /// The release being rolled back.
    #[getter]
    fn release(&self) -> String {
        self.0.release.to_string()
    }

    /// The environment.
    #[getter]
    fn environment(&self) -> String {
        self.0.environment.to_string()
    }

    /// The previous working release's artifacts, if known.
    #[getter]
    fn previous(&self) -> Vec<ArtifactRef> {
        self.0.previous.iter().cloned().map(ArtifactRef).collect()
    }

    /// The idempotency key of this rollback of this target.
    #[getter]
    fn key(&self) -> &str {
        &self.0.key
    }

    fn __repr__(&self) -> String {
        format!("RollbackRequest('{}', '{}', key='{}')", self.0.release, self.0.environment, self.0.key)
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// A message about a release, for a notifier.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct Notice(pub RNotice);

#[pymethods]
impl Notice {
    /// The idempotency key (receivers drop repeats).
    #[getter]
    fn key(&self) -> &str {
        &self.0.key
    }

    /// The release.
    #[getter]
    fn release(&self) -> String {
        self.0.release.to_string()
    }

    /// One line.
    #[getter]
    fn subject(&self) -> &str {
        &self.0.subject
    }

    /// The text.
    #[getter]
    fn body(&self) -> &str {
        &self.0.body
    }

    /// Who it is for (`teams`, `stakeholders`, `clients`, or a group's name).
    #[getter]
    fn audience(&self) -> Vec<String> {
        self.0.audience.iter().map(|a| a.as_str().to_owned()).collect()
    }

    /// The approval it asks for (an approval request, reminder or expiry), as
    /// plain data: approval, roles, needed, have, stage, project, version,
    /// kind, tickets, gates, missing; `None` for other notices.
    #[getter]
    fn ask<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0.ask)
    }

    fn __repr__(&self) -> String {
        format!("Notice({:?}, audience={:?})", self.0.subject, self.audience())
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// A value a probe measured, for a gate.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct Measurement(pub RMeasurement);

#[pymethods]
impl Measurement {
    #[new]
    #[pyo3(signature = (gate, value, *, target = None, source = String::new()), text_signature = "(gate, value, *, target=None, source='')")]
    fn new(gate: &str, value: f64, target: Option<String>, source: String) -> PyResult<Self> {
        Ok(Measurement(RMeasurement { gate: parse(gate)?, value, target, source }))
    }

    /// The gate it is evidence for.
    #[getter]
    fn gate(&self) -> String {
        self.0.gate.to_string()
    }

    /// The value, in the gate's unit.
    #[getter]
    fn value(&self) -> f64 {
        self.0.value
    }

    /// The target measured, if any.
    #[getter]
    fn target(&self) -> Option<String> {
        self.0.target.clone()
    }

    /// Where it was measured.
    #[getter]
    fn source(&self) -> &str {
        &self.0.source
    }

    fn __repr__(&self) -> String {
        format!("Measurement('{}', {})", self.0.gate, self.0.value)
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// A ticket as a ticketing system reports it.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct Ticket(pub RTicket);

#[pymethods]
impl Ticket {
    #[new]
    #[pyo3(signature = (key, summary, status = "Open".to_owned(), kind = "Story".to_owned(), severity = None), text_signature = "(key, summary, status='Open', kind='Story', severity=None)")]
    fn new(key: &str, summary: String, status: String, kind: String, severity: Option<String>) -> PyResult<Self> {
        Ok(Ticket(RTicket { key: parse(key)?, summary, status, kind, severity }))
    }

    /// Its key.
    #[getter]
    fn key(&self) -> String {
        self.0.key.to_string()
    }

    /// Its summary.
    #[getter]
    fn summary(&self) -> &str {
        &self.0.summary
    }

    /// Its status (`Open`, `Done`).
    #[getter]
    fn status(&self) -> &str {
        &self.0.status
    }

    /// Its type (`Bug`, `Story`).
    #[getter]
    fn kind(&self) -> &str {
        &self.0.kind
    }

    /// Its severity, for bugs.
    #[getter]
    fn severity(&self) -> Option<String> {
        self.0.severity.clone()
    }

    fn __repr__(&self) -> String {
        format!("Ticket('{}', {:?}, status='{}')", self.0.key, self.0.summary, self.0.status)
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// A backup that was taken.
#[pyclass(module = "shipwarden", frozen, from_py_object, eq)]
#[derive(Clone, PartialEq)]
pub struct BackupRef(pub RBackupRef);

#[pymethods]
impl BackupRef {
    #[new]
    #[pyo3(signature = (id, environment, *, size = 0, sha256 = None, at = None))]
    fn new(
        id: String,
        environment: &str,
        size: u64,
        sha256: Option<&str>,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let at = match at {
            Some(at) => crate::convert::py_to_timestamp(at)?,
            None => jiff::Timestamp::now(),
        };
        let sha256 = sha256.map(parse).transpose()?;
        Ok(BackupRef(RBackupRef { id, environment: parse(environment)?, sha256, size, at }))
    }

    /// The backup's id in its system.
    #[getter]
    fn id(&self) -> &str {
        &self.0.id
    }

    /// The environment backed up.
    #[getter]
    fn environment(&self) -> String {
        self.0.environment.to_string()
    }

    /// Its size in bytes.
    #[getter]
    fn size(&self) -> u64 {
        self.0.size
    }

    /// Its SHA-256, if known.
    #[getter]
    fn sha256(&self) -> Option<String> {
        self.0.sha256.as_ref().map(ToString::to_string)
    }

    /// When it was taken.
    #[getter]
    fn at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        timestamp_to_py(py, self.0.at)
    }

    fn __repr__(&self) -> String {
        format!("BackupRef('{}', '{}')", self.0.id, self.0.environment)
    }

    /// The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.0)
    }
}

/// Parses a commit message into a [`Commit`] (conventional commits, ticket keys, hotfix, revert).
#[pyfunction]
#[pyo3(signature = (subject, body = String::new(), *, sha = String::new(), author = String::new(), parents = 1), text_signature = "(subject, body='', *, sha='', author='', parents=1)")]
pub fn parse_commit(subject: String, body: String, sha: String, author: String, parents: usize) -> Commit {
    Commit(shipwarden::changes::parse_owned(shipwarden::ports::Commit { sha, subject, body, author, parents }))
}

/// Release notes for these commits (oldest first), grouped and linked as the policy says.
#[pyfunction]
#[pyo3(signature = (project, commits, *, version = None, date = None, policy = None))]
pub fn release_notes(
    project: &str,
    commits: Vec<Commit>,
    version: Option<&str>,
    date: Option<String>,
    policy: Option<Policy>,
) -> PyResult<ReleaseNotes> {
    let version = version.map(parse::<Version>).transpose()?;
    let policy = policy.map(|p| p.0).unwrap_or_default();
    let links = shipwarden::notes::Links::from_policy(&policy);
    let changes = shipwarden::changes::for_notes(commits.into_iter().map(|c| c.0).collect(), &policy.vcs);
    Ok(ReleaseNotes(shipwarden::notes::ReleaseNotes::from_changes(project, version, date, changes, Vec::new(), &links)))
}

/// Registers the classes and functions.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Stage>()?;
    m.add_class::<Actor>()?;
    m.add_class::<Hotfix>()?;
    m.add_class::<Plan>()?;
    m.add_class::<Approval>()?;
    m.add_class::<GateResult>()?;
    m.add_class::<ArtifactRef>()?;
    m.add_class::<Step>()?;
    m.add_class::<Release>()?;
    m.add_class::<Unmet>()?;
    m.add_class::<Refusal>()?;
    m.add_class::<ReleaseStatus>()?;
    m.add_class::<RunOutcome>()?;
    m.add_class::<StepError>()?;
    m.add_class::<AuditEvent>()?;
    m.add_class::<Checkpoint>()?;
    m.add_class::<AuditReport>()?;
    m.add_class::<ReleaseSummary>()?;
    m.add_class::<Policy>()?;
    m.add_class::<Commit>()?;
    m.add_class::<ReleaseNotes>()?;
    m.add_class::<DeployRequest>()?;
    m.add_class::<RollbackRequest>()?;
    m.add_class::<Notice>()?;
    m.add_class::<Measurement>()?;
    m.add_class::<Ticket>()?;
    m.add_class::<BackupRef>()?;
    m.add_function(wrap_pyfunction!(parse_commit, m)?)?;
    m.add_function(wrap_pyfunction!(release_notes, m)?)?;
    Ok(())
}
