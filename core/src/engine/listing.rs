//! Listings derived from the chain (R-9d): the store's listing rows (stage,
//! environments, bookings) sit outside the hash chain, so someone who can
//! write the store could list a closed release as cancelled. The engine uses
//! a row only to find releases; what it returns is recomputed from each
//! release's verified chain, and a row that disagrees is reported.

use crate::audit::Envelope;
use crate::machine::ReleaseState;
use crate::model::ReleaseId;
use crate::ports::{ReleaseQuery, ReleaseSummary};

use super::{EngineError, ReleaseManager};

/// A stored listing row that does not say what the release's chain says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingMismatch {
    /// The row as stored.
    pub stored: ReleaseSummary,
    /// The summary the chain gives.
    pub derived: ReleaseSummary,
}

impl ListingMismatch {
    /// The fields that differ, for people (`stage: cancelled (stored) ≠ closed (chain)`).
    pub fn describe(&self) -> String {
        let (s, d) = (&self.stored, &self.derived);
        let mut parts = Vec::new();
        let mut differs = |name: &str, stored: String, derived: String| {
            if stored != derived {
                parts.push(format!("{name}: {stored} (stored) ≠ {derived} (chain)"));
            }
        };
        differs("project", s.project.clone(), d.project.clone());
        differs("version", s.version.to_string(), d.version.to_string());
        differs("kind", format!("{:?}", s.kind), format!("{:?}", d.kind));
        differs("stage", s.stage.to_string(), d.stage.to_string());
        differs("environments", format!("{:?}", s.environments), format!("{:?}", d.environments));
        differs("bookings", format!("{:?}", s.bookings), format!("{:?}", d.bookings));
        differs("planned_at", s.planned_at.to_string(), d.planned_at.to_string());
        if parts.is_empty() { "the stored row differs from the chain".to_owned() } else { parts.join(", ") }
    }
}

/// The part of a summary both the row and the chain must agree on: without
/// the per-event fields (filled in by stores when listing) and the holds
/// (which follow the current policy, not the chain alone).
fn comparable(summary: &ReleaseSummary) -> ReleaseSummary {
    ReleaseSummary { holds: Vec::new(), ..summary.listing() }
}

impl ReleaseManager {
    /// The release's summary as its verified chain says; `None` when it has no plan.
    pub(crate) async fn derived_summary(&self, release: &ReleaseId) -> Result<Option<ReleaseSummary>, EngineError> {
        let envelopes = self.inner.store.load(release).await?;
        Ok(self.summary_of(&envelopes))
    }

    /// The summary a verified chain gives; `None` when it has no plan.
    fn summary_of(&self, envelopes: &[Envelope]) -> Option<ReleaseSummary> {
        let last = envelopes.last()?;
        let state = ReleaseState::from_events(envelopes.iter().map(|e| &e.event));
        ReleaseSummary::of(&state, last.at).map(|s| s.holding(&state, &self.inner.policy))
    }

    /// Checks the release's stored listing row against `history`, its chain as
    /// [`history`](Self::history) returned it (R-9d): `None` when they agree or
    /// the store lists no row for it.
    pub async fn listing(
        &self,
        release: &ReleaseId,
        history: &[Envelope],
    ) -> Result<Option<ListingMismatch>, EngineError> {
        let Some(derived) = self.summary_of(history) else {
            return Ok(None);
        };
        let query = ReleaseQuery { project: Some(derived.project.clone()), ..ReleaseQuery::default() };
        let rows = self.inner.store.list(&query).await?;
        let stored = match rows.into_iter().find(|r| &r.release == release) {
            Some(row) => row,
            // A row moved to another project, or deleted: look through every row.
            None => {
                match self.inner.store.list(&ReleaseQuery::default()).await?.into_iter().find(|r| &r.release == release)
                {
                    Some(row) => row,
                    None => return Ok(None),
                }
            }
        };
        Ok((comparable(&stored) != comparable(&derived)).then_some(ListingMismatch { stored, derived }))
    }

    /// Lists releases: rows found by the store, each replaced by what its chain says.
    ///
    /// # Notes
    /// The stage and environment filters are applied to the derived summaries,
    /// so an edited row neither hides a release from nor adds it to such a
    /// listing; project and planning time are fixed at planning and filtered
    /// by the store (an edited row there is still recomputed and reported).
    pub(crate) async fn derived_list(&self, query: &ReleaseQuery) -> Result<Vec<ReleaseSummary>, EngineError> {
        let widened = query.stage.is_some() || query.environment.is_some();
        let wide = ReleaseQuery {
            stage: None,
            environment: None,
            limit: if widened { None } else { query.limit },
            ..query.clone()
        };
        let rows = self.inner.store.list(&wide).await?;
        let mut found = Vec::with_capacity(rows.len());
        for row in rows {
            let Some(derived) = self.derived_summary(&row.release).await? else {
                continue;
            };
            if comparable(&row) != comparable(&derived) {
                let mismatch = ListingMismatch { stored: row.clone(), derived: derived.clone() };
                tracing::warn!(release = %row.release, differs = %mismatch.describe(), "a listing row does not match its chain; listing what the chain says (R-9d)");
            }
            if query.matches(&derived) {
                found.push(derived);
            }
        }
        if let Some(limit) = query.limit {
            found.truncate(limit as usize);
        }
        Ok(found)
    }
}
