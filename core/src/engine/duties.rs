//! Performing duties (R-5c, R-6d, R-2b): what is due across releases, and
//! each due duty performed exactly once as a notify step keyed
//! `duty:<key>#<attempt>` (a failed attempt is followed by a new one); a duty past its deadline is recorded as a finding first.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{EngineError, ReleaseManager};
use crate::duties::Duty;
use crate::machine::{Action, StepOutcome};
use crate::model::ReleaseId;
use crate::ports::{Notice, ReleaseQuery};

/// What [`ReleaseManager::run_due`] did about one duty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DutyReport {
    /// The release.
    pub release: ReleaseId,
    /// The duty.
    pub duty: Duty,
    /// The notify step's outcome (a failed one is tried again next time).
    pub outcome: StepOutcome,
    /// True when it was past its deadline: a finding was recorded (R-5c, R-6d).
    pub missed: bool,
}

impl ReleaseManager {
    /// Every duty due at `now` in every release that is not final, by due time.
    pub async fn due(&self, now: Timestamp) -> Result<Vec<(ReleaseId, Duty)>, EngineError> {
        let mut out = Vec::new();
        for summary in self.inner.store.list(&ReleaseQuery::default()).await? {
            if self.inner.policy.is_final(&summary.stage) {
                continue;
            }
            let duties = self.with_state(&summary.release, |s| crate::duties::due(s, &self.inner.policy, now)).await?;
            out.extend(duties.into_iter().map(|d| (summary.release.clone(), d)));
        }
        out.sort_by(|a, b| (a.1.due_at, &a.0, &a.1.key).cmp(&(b.1.due_at, &b.0, &b.1.key)));
        Ok(out)
    }

    /// Performs every duty due at `now`, each exactly once: a second call,
    /// or another process calling at the same time, finds it done. For cron,
    /// a systemd timer or `shipwarden watch`.
    pub async fn run_due(&self, now: Timestamp) -> Result<Vec<DutyReport>, EngineError> {
        let mut releases: Vec<ReleaseId> = self.due(now).await?.into_iter().map(|(r, _)| r).collect();
        releases.dedup();
        let mut out = Vec::new();
        for release in releases {
            self.invalidate(&release).await;
            out.extend(self.perform_due(&release, now).await?);
        }
        Ok(out)
    }

    /// Performs the duties of one release due at `now`.
    pub(crate) async fn perform_due(
        &self,
        release: &ReleaseId,
        now: Timestamp,
    ) -> Result<Vec<DutyReport>, EngineError> {
        let due = self.with_state(release, |s| crate::duties::due(s, &self.inner.policy, now)).await?;
        let mut out = Vec::new();
        for duty in due {
            // One performer per duty, across processes; inside, the step's key makes a repeat a no-op.
            let lease = format!("duty:{release}:{}", duty.key);
            let this = self.clone();
            let (release2, duty2) = (release.clone(), duty.clone());
            let report = self.with_lease(&lease, async move { this.perform_duty(&release2, duty2, now).await }).await?;
            out.push(report);
        }
        Ok(out)
    }

    async fn perform_duty(&self, release: &ReleaseId, duty: Duty, now: Timestamp) -> Result<DutyReport, EngineError> {
        self.invalidate(release).await;
        let (done, found, key) = self
            .with_state(release, |s| {
                let found = s.findings.iter().any(|f| f.key == duty.key);
                (crate::duties::done(s, &duty.key), found, Self::step_key(s, &duty.step_prefix()))
            })
            .await?;
        let missed = duty.missed(now);
        if done {
            let outcome = StepOutcome::ok("already done");
            return Ok(DutyReport { release: release.clone(), duty, outcome, missed });
        }
        if missed && !found {
            let deadline = duty.deadline.map(|d| d.to_string()).unwrap_or_default();
            let automation = self.inner.automation.clone();
            let action = Action::RecordFinding {
                key: duty.key.clone(),
                rule: duty.rule,
                detail: format!("not done by its deadline {deadline}; performed late at {now}: {}", duty.subject),
            };
            self.commit(release, &automation, vec![action]).await?;
        }
        let notice = Notice {
            key: super::steps::port_key(release, &key),
            release: release.clone(),
            subject: duty.subject.clone(),
            body: duty.body.clone(),
            audience: duty.audience.clone(),
            ask: duty.ask.clone(),
        };
        let outcome = self.send_notice(release, &key, notice).await?;
        Ok(DutyReport { release: release.clone(), duty, outcome, missed })
    }
}
