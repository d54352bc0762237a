//! Listings derived from the chain (R-9d): the store's listing rows (stage,
//! environments, bookings) sit outside the hash chain, so someone who can
//! write the store could list a closed release as cancelled. The engine uses
//! no row to find or filter releases: it finds them from the chains' heads,
//! derives each summary from its verified chain, filters on what the chain
//! says, and reports a row that disagrees or is missing.

use std::collections::HashMap;

use crate::audit::Envelope;
use crate::machine::ReleaseState;
use crate::model::ReleaseId;
use crate::ports::{ReleaseQuery, ReleaseSummary, StreamHead};

use super::{EngineError, ReleaseManager};

/// A stored listing row that does not say what the release's chain says,
/// or a release whose chain has no row at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingMismatch {
    /// The row as stored; `None` when the release has events but no row (it was deleted).
    pub stored: Option<ReleaseSummary>,
    /// The summary the chain gives.
    pub derived: ReleaseSummary,
}

impl ListingMismatch {
    /// The fields that differ, for people (`stage: cancelled (stored) ≠ closed (chain)`).
    pub fn describe(&self) -> String {
        let Some(s) = &self.stored else {
            return format!(
                "the release has {} chained events but no listing row (it was deleted)",
                self.derived.events
            );
        };
        let d = &self.derived;
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

/// What [`ReleaseManager::list_checked`] found: the releases as their chains
/// say, and the listing rows that disagree with them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// The releases matching the query, derived from their chains, newest planned first.
    pub releases: Vec<ReleaseSummary>,
    /// Every release whose listing row is edited or missing, listed or not.
    pub mismatches: Vec<ListingMismatch>,
}

/// The part of a summary both the row and the chain must agree on: without
/// the per-event fields (filled in by stores when listing) and the holds
/// (which follow the current policy, not the chain alone).
fn comparable(summary: &ReleaseSummary) -> ReleaseSummary {
    ReleaseSummary { holds: Vec::new(), ..summary.listing() }
}

impl ReleaseManager {
    /// The summary a verified chain gives; `None` when it has no plan.
    fn summary_of(&self, envelopes: &[Envelope]) -> Option<ReleaseSummary> {
        let last = envelopes.last()?;
        let state = ReleaseState::from_events(envelopes.iter().map(|e| &e.event));
        ReleaseSummary::of(&state, last.at).map(|s| s.holding(&state, &self.inner.policy))
    }

    /// The summary of the chain ending at `head`, from this manager's copy of
    /// the release when it already holds that head; otherwise the envelopes
    /// after the ones it holds are read and verified as their continuation,
    /// or the stream is loaded and verified whole. `None` when it has no plan.
    ///
    /// # Notes
    /// The copy held is one this manager verified (or wrote); the store's head
    /// is compared by sequence *and* hash, so a rewrite (whose hashes differ
    /// from the first rewritten event on) is loaded whole, never taken from the copy.
    async fn summary_at(&self, head: &StreamHead) -> Result<Option<ReleaseSummary>, EngineError> {
        let entry = self.entry(&head.stream);
        let mut loaded = entry.lock().await;
        let holds = |loaded: &super::Loaded| {
            loaded.last.as_ref().is_some_and(|l| l.sequence == head.sequence && l.hash == head.hash)
        };
        if !holds(&loaded) {
            let behind = loaded.last.as_ref().is_some_and(|l| l.sequence < head.sequence);
            if !behind {
                loaded.forget();
            }
            self.reload(&head.stream, &mut loaded).await?;
            if !holds(&loaded) {
                // Written meanwhile, or the incremental read did not reach the head: load it whole.
                loaded.forget();
                self.reload(&head.stream, &mut loaded).await?;
            }
        }
        let Some(last) = &loaded.last else { return Ok(None) };
        Ok(ReleaseSummary::of(&loaded.state, last.at).map(|s| s.holding(&loaded.state, &self.inner.policy)))
    }

    /// Checks the release's stored listing row against `history`, its chain as
    /// [`history`](Self::history) returned it (R-9d): `None` when they agree;
    /// a mismatch without a stored row when the row is missing.
    pub async fn listing(
        &self,
        release: &ReleaseId,
        history: &[Envelope],
    ) -> Result<Option<ListingMismatch>, EngineError> {
        let Some(derived) = self.summary_of(history) else {
            return Ok(None);
        };
        // The row where the chain says it is (the store's index on project and planning time);
        // every row only when it is not there.
        let query = ReleaseQuery {
            project: Some(derived.project.clone()),
            planned_after: Some(derived.planned_at),
            planned_before: derived.planned_at.checked_add(jiff::SignedDuration::from_micros(1)).ok(),
            ..ReleaseQuery::default()
        };
        let rows = self.inner.store.list(&query).await?;
        let stored = match rows.into_iter().find(|r| &r.release == release) {
            Some(row) => row,
            // A row moved to another project, or deleted: look through every row.
            None => {
                match self.inner.store.list(&ReleaseQuery::default()).await?.into_iter().find(|r| &r.release == release)
                {
                    Some(row) => row,
                    None => return Ok(Some(ListingMismatch { stored: None, derived })),
                }
            }
        };
        Ok((comparable(&stored) != comparable(&derived)).then_some(ListingMismatch { stored: Some(stored), derived }))
    }

    /// Lists releases as their chains say, with the listing rows that disagree (R-9d).
    ///
    /// # Behavior
    /// Releases are found from the store's chain heads
    /// ([`EventStore::heads`](crate::ports::EventStore::heads)), not from its
    /// listing rows, so a deleted row hides no release. Every filter of
    /// `query` (project, stage, environment, planning time) and its limit
    /// apply to the summaries derived from the chains, so an edited row
    /// neither hides a release from a listing nor adds one to it. With a
    /// project, only the chains whose first event (the plan, checked by its
    /// hash) names it are read, and only their rows are compared.
    ///
    /// # Notes
    /// Each release's chain is read and verified once per manager; later
    /// listings read only the heads and the events appended since (see
    /// `summary_at`), so a long-lived manager (a server, a binding) lists in
    /// O(releases + new events). A chain that does not verify fails the listing.
    pub async fn list_checked(&self, query: &ReleaseQuery) -> Result<Listing, EngineError> {
        let mut heads = self.inner.store.heads().await?;
        if let Some(project) = &query.project {
            // Only the chains whose plan (their first event, checked by its hash) names the project;
            // a first event that does not verify keeps its chain in, to fail or show below.
            let of_project: std::collections::HashSet<ReleaseId> = self
                .inner
                .store
                .first_events()
                .await?
                .into_iter()
                .filter(|first| match (crate::audit::verify(std::slice::from_ref(first)), &first.event) {
                    (Ok(_), crate::machine::Event::Planned { plan, .. }) => &plan.project == project,
                    _ => true,
                })
                .filter_map(|first| first.stream.parse().ok())
                .collect();
            heads.retain(|h| of_project.contains(&h.stream));
        }
        let mut rows: HashMap<ReleaseId, ReleaseSummary> = self
            .inner
            .store
            .list(&ReleaseQuery::default())
            .await?
            .into_iter()
            .map(|row| (row.release.clone(), row))
            .collect();
        let mut listing = Listing::default();
        for head in &heads {
            let Some(derived) = self.summary_at(head).await? else {
                continue;
            };
            let stored = rows.remove(&head.stream);
            if stored.as_ref().is_none_or(|row| comparable(row) != comparable(&derived)) {
                let mismatch = ListingMismatch { stored, derived: derived.clone() };
                tracing::warn!(release = %head.stream, differs = %mismatch.describe(), "a listing row does not match its chain; listing what the chain says (R-9d)");
                listing.mismatches.push(mismatch);
            }
            if query.matches(&derived) {
                listing.releases.push(derived);
            }
        }
        listing.releases.sort_by(|a, b| b.planned_at.cmp(&a.planned_at).then_with(|| a.release.cmp(&b.release)));
        listing.mismatches.sort_by(|a, b| a.derived.release.cmp(&b.derived.release));
        if let Some(limit) = query.limit {
            listing.releases.truncate(limit as usize);
        }
        Ok(listing)
    }
}
