//! What a scheduler or a UI asks of a manager beyond one release's steps
//! (issue #20 parity): the duties due and their performing, findings,
//! status as judged at a time, the listing checked against the chains, and
//! who holds a lease.

use napi_derive::napi;
use shipwarden::ports::ReleaseQuery;

use crate::errors;
use crate::manager::{ListQuery, ReleaseManager, id, parse, timestamp};
use crate::types::{Release, ReleaseStatus, ReleaseSummary};

fn ts(at: jiff::Timestamp) -> String {
    at.to_string()
}

/// A duty due in a release: a notice to send or a reminder (R-2b, R-5c, R-6d).
#[napi(object)]
pub struct Duty {
    /// The release.
    pub release: String,
    /// Stable across calls: the same duty always has the same key.
    pub key: String,
    /// `advance_notice`, `stakeholder_notice`, `emergency_notice`, `approval_reminder`, `approval_expired` or `approval_rejected`.
    pub kind: String,
    /// The requirement it fulfils.
    pub rule: String,
    /// From when it is due (RFC 3339).
    pub due_at: String,
    /// By when it must be done, if it has a deadline (RFC 3339).
    pub deadline: Option<String>,
    /// The notice's subject.
    pub subject: String,
    /// The notice's text.
    pub body: String,
    /// Who is told (`teams`, `stakeholders`, `clients`, or a group's name).
    pub audience: Vec<String>,
}

fn duty(release: &shipwarden::ReleaseId, d: &shipwarden::duties::Duty) -> Duty {
    let kind = serde_json::to_value(d.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    use shipwarden::ports::Audience;
    let audience = d
        .audience
        .iter()
        .map(|a| match a {
            Audience::Teams => "teams".to_owned(),
            Audience::Stakeholders => "stakeholders".to_owned(),
            Audience::Clients => "clients".to_owned(),
            Audience::Group(name) => name.clone(),
        })
        .collect();
    Duty {
        release: release.to_string(),
        key: d.key.clone(),
        kind,
        rule: d.rule.to_string(),
        due_at: ts(d.due_at),
        deadline: d.deadline.map(ts),
        subject: d.subject.clone(),
        body: d.body.clone(),
        audience,
    }
}

/// A duty performed by `runDue`.
#[napi(object)]
pub struct DutyReport {
    /// The duty.
    pub duty: Duty,
    /// Whether its notice went out (a failed one is tried again next time).
    pub ok: bool,
    /// What the notify step did, or what went wrong.
    pub detail: String,
    /// True when it was past its deadline: a finding was recorded (R-5c, R-6d).
    pub missed: bool,
}

/// Something the audit trail shows went wrong without stopping the release:
/// a notice sent after its deadline (R-5c, R-6d).
#[napi(object)]
pub struct Finding {
    /// The duty or check it is about.
    pub key: String,
    /// The requirement not met.
    pub rule: String,
    /// What happened.
    pub detail: String,
    /// When it was found (RFC 3339).
    pub at: String,
}

/// A listing row that disagrees with its release's chain (R-9d).
#[napi(object)]
pub struct ListingMismatch {
    /// The release.
    pub release: String,
    /// The row as stored; absent when the release has events but no row.
    pub stored: Option<ReleaseSummary>,
    /// The summary the chain gives.
    pub derived: ReleaseSummary,
}

/// Releases as their chains say, with the listing rows that disagree (R-9d).
#[napi(object)]
pub struct Listing {
    /// The releases, as their chains say.
    pub releases: Vec<ReleaseSummary>,
    /// Every release whose listing row is edited or missing.
    pub mismatches: Vec<ListingMismatch>,
}

/// Who holds a lease (R-6e).
#[napi(object)]
pub struct LeaseInfo {
    /// The holder: a driver (host, process, and the holding's number).
    pub holder: String,
    /// When this holder took it, if the store knows (RFC 3339).
    pub since: Option<String>,
    /// When it expires unless renewed (RFC 3339).
    pub expires_at: String,
}

pub(crate) fn summary(s: &shipwarden::ports::ReleaseSummary) -> ReleaseSummary {
    ReleaseSummary {
        release: s.release.to_string(),
        project: s.project.clone(),
        version: s.version.to_string(),
        kind: s.kind.as_str().to_owned(),
        stage: s.stage.to_string(),
    }
}

pub(crate) fn query(query: Option<ListQuery>) -> napi::Result<ReleaseQuery> {
    let mut q = ReleaseQuery::default();
    if let Some(query) = query {
        q.project = query.project;
        q.stage = query.stage.as_deref().map(parse).transpose()?;
        q.environment = query.environment.as_deref().map(parse).transpose()?;
        q.limit = query.limit;
    }
    Ok(q)
}

fn now_or(manager: &ReleaseManager, at: Option<&str>) -> napi::Result<jiff::Timestamp> {
    match at {
        Some(at) => timestamp(at),
        None => Ok(manager.inner.clock().now()),
    }
}

#[napi]
impl ReleaseManager {
    /// Every duty due at `at` (RFC 3339; default now) in every release that is
    /// not final, by due time: notices and reminders (R-2b, R-5c, R-6d).
    #[napi]
    pub async fn due(&self, at: Option<String>) -> napi::Result<Vec<Duty>> {
        let now = now_or(self, at.as_deref())?;
        let due = self.inner.due(now).await.map_err(errors::engine)?;
        Ok(due.iter().map(|(r, d)| duty(r, d)).collect())
    }

    /// Performs every duty due at `at` (default now), each exactly once: a
    /// second call, or another process calling at the same time, finds it done.
    #[napi]
    pub async fn run_due(&self, at: Option<String>) -> napi::Result<Vec<DutyReport>> {
        let now = now_or(self, at.as_deref())?;
        let reports = self.inner.run_due(now).await.map_err(errors::engine)?;
        Ok(reports
            .iter()
            .map(|r| DutyReport {
                duty: duty(&r.release, &r.duty),
                ok: r.outcome.succeeded(),
                detail: match &r.outcome {
                    shipwarden::StepOutcome::Succeeded { detail, .. } => detail.clone(),
                    shipwarden::StepOutcome::Failed { error, .. } => error.clone(),
                },
                missed: r.missed,
            })
            .collect())
    }

    /// The state of a planned release: `NotFoundError` for one never planned.
    async fn planned(&self, release: &str) -> napi::Result<std::sync::Arc<shipwarden::ReleaseState>> {
        let rid = id(release)?;
        let state = self.inner.state(&rid).await.map_err(errors::engine)?;
        if state.plan.is_none() {
            return Err(errors::engine(shipwarden::engine::EngineError::NotFound(rid)));
        }
        Ok(state)
    }

    /// The release's findings: what went wrong without stopping it (R-5c, R-6d).
    #[napi]
    pub async fn findings(&self, release: String) -> napi::Result<Vec<Finding>> {
        let state = self.planned(&release).await?;
        Ok(state
            .findings
            .iter()
            .map(|f| Finding { key: f.key.clone(), rule: f.rule.to_string(), detail: f.detail.clone(), at: ts(f.at) })
            .collect())
    }

    /// The release as the fold of its audit events.
    #[napi]
    pub async fn state(&self, release: String) -> napi::Result<Release> {
        let state = self.planned(&release).await?;
        Ok(Release::from(state.as_ref()))
    }

    /// `status` as it would be judged at `at` (RFC 3339): "would this be allowed then?".
    #[napi]
    pub async fn status_at(&self, release: String, at: String) -> napi::Result<ReleaseStatus> {
        let status = self.inner.status_at(&id(&release)?, timestamp(&at)?).await.map_err(errors::engine)?;
        Ok(ReleaseStatus::from(&status))
    }

    /// Lists releases as their chains say, with the listing rows that disagree (R-9d).
    #[napi]
    pub async fn list_checked(&self, query: Option<ListQuery>) -> napi::Result<Listing> {
        let listing = self.inner.list_checked(&self::query(query)?).await.map_err(errors::engine)?;
        Ok(Listing {
            releases: listing.releases.iter().map(summary).collect(),
            mismatches: listing
                .mismatches
                .iter()
                .map(|m| ListingMismatch {
                    release: m.derived.release.to_string(),
                    stored: m.stored.as_ref().map(summary),
                    derived: summary(&m.derived),
                })
                .collect(),
        })
    }

    /// Who holds the lease `name` (`release:shop-1.4.0`, `env:prod`), since when; null when nobody does.
    #[napi]
    pub async fn lease(&self, name: String) -> napi::Result<Option<LeaseInfo>> {
        let lease = self.inner.lease(&name).await.map_err(errors::engine)?;
        Ok(lease.map(|l| LeaseInfo { holder: l.holder, since: l.since.map(ts), expires_at: ts(l.expires_at) }))
    }

    /// This manager's driver id: the start of the holder of every lease it takes.
    #[napi]
    pub fn driver(&self) -> String {
        self.inner.driver().to_owned()
    }

    /// The ticket keys of the commits since the newest release tag older than
    /// `version` (R-4a): a plan's default scope; none without a repository.
    #[napi]
    pub async fn default_scope(&self, version: String) -> napi::Result<Vec<String>> {
        let version: shipwarden::Version = parse(&version)?;
        let keys = self.inner.default_scope(&version).await.map_err(errors::engine)?;
        Ok(keys.iter().map(ToString::to_string).collect())
    }
}
