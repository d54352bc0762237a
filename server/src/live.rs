//! Live: every appended audit event and every step log line as server-sent
//! events (issue #21, item 5).
//!
//! - `GET /v1/releases/{id}/events`: one release's envelopes, each with the id
//!   `"{sequence}"`;
//! - `GET /v1/events`: the envelopes of every release of the projects the
//!   caller may see, each with a [`Cursor`] as its id.
//!
//! Both resume exactly with `Last-Event-ID` (or `?after=` for clients that
//! cannot set headers): the stored envelopes after the id are replayed first,
//! then the live ones follow, without a gap or a duplicate (both are numbered
//! per release, so a subscriber drops what it already sent).
//!
//! One [`Hub`] per server feeds every subscriber. It learns of appends two
//! ways: at once from this process's managers
//! ([`ReleaseManager::subscribe`](shipwarden::engine::ReleaseManager::subscribe)),
//! and by reading the store's release rows (their event counts) every
//! [`POLL`] for the appends of other replicas sharing the store (PostgreSQL);
//! it publishes each envelope once, in sequence per release, filling a gap
//! from the store. The feed is a view: the audit trail, verified, is
//! `history`/`audit --verify`.
//!
//! Step log lines (`event: log`) are live only and only from the replica
//! running the step: the store keeps a step's log in its `step_finished`
//! event, which every subscriber gets.
//!
//! A slow subscriber never blocks the others: each reads a shared ring of
//! [`CAPACITY`] items at its own pace; one that falls further behind gets an
//! `event: lagged` and the stream ends, and it resumes with its last id.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::routing::get;
use futures_util::Stream;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use shipwarden::ReleaseId;
use shipwarden::audit::Envelope;
use shipwarden::engine::{EngineError, ReleaseManager};
use shipwarden::ports::{EventStore, ReleaseQuery};
use tokio::sync::{OnceCell, broadcast, mpsc};
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// How often the hub reads the store's release rows for other replicas' appends.
pub const POLL: Duration = Duration::from_millis(250);
/// How long an append may take from its envelope's time to being readable in
/// the store (commit, clock skew between replicas, [`POLL`]): the `/v1/events`
/// cursor names each release with an envelope younger than this.
pub const SETTLE: Duration = Duration::from_secs(5);
/// How many items a subscriber may fall behind before it is told it lagged.
pub const CAPACITY: usize = 1024;
/// How often an idle stream sends a keep-alive comment.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The streaming routes (no request timeout applies to them: mount them
/// outside the timeout layer).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/v1/events", get(events)).route("/v1/releases/{id}/events", get(release_events))
}

/// One item of the live feed, serialized once for every subscriber.
#[derive(Debug)]
pub enum Item {
    /// An appended envelope (`event: audit`).
    Audit {
        /// The release's project.
        project: String,
        /// The release.
        release: ReleaseId,
        /// The envelope's sequence.
        sequence: u64,
        /// The envelope's time.
        at: Timestamp,
        /// The envelope as JSON.
        data: String,
    },
    /// A step's log line (`event: log`).
    Log {
        /// The release's project.
        project: String,
        /// The release.
        release: ReleaseId,
        /// `{"release", "step", "stream", "text"}` as JSON.
        data: String,
    },
}

impl Item {
    fn project(&self) -> &str {
        match self {
            Item::Audit { project, .. } | Item::Log { project, .. } => project,
        }
    }

    fn release(&self) -> &ReleaseId {
        match self {
            Item::Audit { release, .. } | Item::Log { release, .. } => release,
        }
    }
}

/// The live feed of one server: started at the first use.
pub struct Hub {
    feed: OnceCell<Feed>,
    poll: Duration,
    /// True once the server stops: every stream ends (with `event: shutdown`), so a
    /// graceful shutdown is not held open by subscribers, who resume elsewhere.
    closing: tokio::sync::watch::Sender<bool>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new(POLL)
    }
}

impl Hub {
    /// A hub that polls the store every `poll`.
    pub fn new(poll: Duration) -> Self {
        Hub { feed: OnceCell::new(), poll, closing: tokio::sync::watch::Sender::new(false) }
    }

    /// Ends every stream, now and for those that open later (the server is stopping).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// The feed, started for `state`'s projects if it is not yet.
    pub async fn feed(&self, state: &AppState) -> Result<&Feed, ApiError> {
        self.feed.get_or_try_init(|| Feed::start(state, self.poll)).await
    }
}

/// A started feed: the ring subscribers read, and the stores they replay from.
pub struct Feed {
    tx: broadcast::Sender<Arc<Item>>,
    stores: BTreeMap<String, Arc<dyn EventStore>>,
}

/// A project as the hub's task sees it.
struct Source {
    name: String,
    store: Arc<dyn EventStore>,
}

impl Source {
    fn query(&self) -> ReleaseQuery {
        ReleaseQuery { project: Some(self.name.clone()), ..ReleaseQuery::default() }
    }
}

/// What the managers' forwarders tell the hub's task.
enum Local {
    /// An envelope this process appended.
    Appended(Box<Envelope>),
    /// A forwarder lagged: read the store.
    Resync,
}

impl Feed {
    async fn start(state: &AppState, poll: Duration) -> Result<Feed, ApiError> {
        let (tx, _) = broadcast::channel(CAPACITY);
        let (local_tx, local_rx) = mpsc::channel(CAPACITY);
        let mut sources = Vec::new();
        let mut stores = BTreeMap::new();
        // Projects on one store (one PostgreSQL, usually) share one handle of it.
        let mut opened: HashMap<String, Arc<dyn EventStore>> = HashMap::new();
        for project in state.projects.values() {
            // Subscribed before the release rows are read: nothing appended after is missed.
            forward(&project.name, &project.manager, local_tx.clone(), tx.clone(), state.metrics.clone());
            // The store's kind and the variable naming its URL (never the URL), or the SQLite file's folder.
            let config = &project.loaded.config;
            let key = match format!("{:?}", config.store) {
                postgres if postgres.starts_with("Postgres") => postgres,
                sqlite => format!("{sqlite} {} {}", project.loaded.base.display(), config.project.state_dir.display()),
            };
            let store = match opened.get(&key) {
                Some(store) => store.clone(),
                None => {
                    let (store, _) = project.loaded.store().await?;
                    opened.insert(key, store.clone());
                    store
                }
            };
            stores.insert(project.name.clone(), store.clone());
            sources.push(Source { name: project.name.clone(), store });
        }
        let mut known = HashMap::new();
        for source in &sources {
            for row in source.store.list(&source.query()).await.map_err(EngineError::from)? {
                known.insert(row.release.to_string(), row.events);
            }
        }
        let task = Publisher { sources, known, tx: tx.clone() };
        tokio::spawn(task.run(local_rx, poll));
        Ok(Feed { tx, stores })
    }

    /// The store of `project`.
    fn store(&self, project: &str) -> Result<&Arc<dyn EventStore>, ApiError> {
        self.stores.get(project).ok_or_else(|| ApiError::not_found(format!("no project `{project}`")))
    }
}

/// Hands this process's appends to the hub's task, and its log lines straight to subscribers.
fn forward(
    project: &str,
    manager: &ReleaseManager,
    local: mpsc::Sender<Local>,
    tx: broadcast::Sender<Arc<Item>>,
    metrics: crate::metrics::Metrics,
) {
    let mut events = manager.subscribe();
    tokio::spawn(async move {
        loop {
            let message = match events.recv().await {
                Ok(envelope) => {
                    metrics.observe(&envelope);
                    Local::Appended(Box::new(envelope))
                }
                Err(broadcast::error::RecvError::Lagged(_)) => Local::Resync,
                Err(broadcast::error::RecvError::Closed) => break,
            };
            if local.send(message).await.is_err() {
                break;
            }
        }
    });
    let mut logs = manager.subscribe_logs();
    let project = project.to_owned();
    tokio::spawn(async move {
        loop {
            match logs.recv().await {
                Ok((release, step, line)) => {
                    let data =
                        serde_json::json!({"release": release, "step": step, "stream": line.stream, "text": line.text});
                    let _ = tx.send(Arc::new(Item::Log { project: project.clone(), release, data: data.to_string() }));
                }
                Err(broadcast::error::RecvError::Lagged(n)) => tracing::debug!(lines = n, "live log lines dropped"),
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}

/// The hub's task: publishes every envelope once, in sequence per release.
struct Publisher {
    sources: Vec<Source>,
    /// The last sequence published per release.
    known: HashMap<String, u64>,
    tx: broadcast::Sender<Arc<Item>>,
}

impl Publisher {
    async fn run(mut self, mut local: mpsc::Receiver<Local>, poll: Duration) {
        let mut tick = tokio::time::interval(poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                message = local.recv() => match message {
                    Some(Local::Appended(envelope)) => self.accept(*envelope).await,
                    Some(Local::Resync) => self.poll().await,
                    None => break,
                },
                _ = tick.tick() => self.poll().await,
            }
        }
    }

    fn source_of(&self, release: &str) -> Option<usize> {
        self.sources
            .iter()
            .enumerate()
            .filter(|(_, s)| release.strip_prefix(s.name.as_str()).is_some_and(|rest| rest.starts_with('-')))
            .max_by_key(|(_, s)| s.name.len())
            .map(|(i, _)| i)
    }

    /// An envelope this process appended: published if it is the next of its
    /// release; the envelopes before it are read from the store first.
    async fn accept(&mut self, envelope: Envelope) {
        let Some(source) = self.source_of(&envelope.stream) else { return };
        let last = self.known.get(&envelope.stream).copied().unwrap_or(0);
        if envelope.sequence <= last {
            return;
        }
        if envelope.sequence > last + 1 {
            self.catch_up(source, &envelope.stream, last).await;
            if self.known.get(&envelope.stream).copied().unwrap_or(0) >= envelope.sequence {
                return;
            }
        }
        self.publish(source, envelope);
    }

    /// Reads every source's releases (with their event counts) and publishes what is new.
    ///
    /// One query per project on the store's release rows (O(releases)), not
    /// on its events.
    async fn poll(&mut self) {
        for source in 0..self.sources.len() {
            let rows = match self.sources[source].store.list(&self.sources[source].query()).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(project = %self.sources[source].name, "live: cannot list the store's releases: {e}");
                    continue;
                }
            };
            for row in rows {
                let stream = row.release.as_str();
                if self.source_of(stream) != Some(source) {
                    continue;
                }
                let last = self.known.get(stream).copied().unwrap_or(0);
                if row.events > last {
                    self.catch_up(source, stream, last).await;
                }
            }
        }
    }

    async fn catch_up(&mut self, source: usize, stream: &str, last: u64) {
        let Ok(release) = stream.parse::<ReleaseId>() else { return };
        match self.sources[source].store.load_after(&release, last).await {
            Ok(tail) => {
                for envelope in tail {
                    if envelope.sequence == self.known.get(stream).copied().unwrap_or(0) + 1 {
                        self.publish(source, envelope);
                    }
                }
            }
            Err(e) => tracing::warn!(release = %release, "live: cannot read the store: {e}"),
        }
    }

    fn publish(&mut self, source: usize, envelope: Envelope) {
        let Ok(release) = envelope.stream.parse::<ReleaseId>() else { return };
        self.known.insert(envelope.stream.clone(), envelope.sequence);
        let item = audit_item(self.sources[source].name.clone(), release, &envelope);
        // No subscriber now is no error.
        let _ = self.tx.send(Arc::new(item));
    }
}

fn audit_item(project: String, release: ReleaseId, envelope: &Envelope) -> Item {
    Item::Audit {
        project,
        release,
        sequence: envelope.sequence,
        at: envelope.at,
        data: serde_json::to_string(envelope).unwrap_or_default(),
    }
}

/// Where to resume: `?after=` for clients that cannot set `Last-Event-ID`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Resume {
    /// The id of the last event received (as `Last-Event-ID`, which wins).
    pub after: Option<String>,
}

fn resume_from(headers: &HeaderMap, query: &Resume) -> Result<Option<String>, ApiError> {
    match headers.get("last-event-id") {
        Some(value) => {
            value.to_str().map(|v| Some(v.trim().to_owned())).map_err(|_| ApiError::invalid("Last-Event-ID: not text"))
        }
        None => Ok(query.after.clone()),
    }
    .map(|id| id.filter(|id| !id.is_empty()))
}

/// A release's audit events and step log lines, live (server-sent events).
///
/// Each audit event (`event: audit`) carries the envelope (stream, sequence,
/// at, actor, rule, event, prev_hash, hash) and the id `"{sequence}"`; with
/// `Last-Event-ID: 7` (or `?after=7`) the stored events after 7 come first,
/// then the live ones. Log lines (`event: log`) are live only. A subscriber
/// that falls behind gets `event: lagged` and reconnects with its last id.
#[utoipa::path(
    get,
    path = "/v1/releases/{id}/events",
    tag = "live",
    params(("id" = String, Path, description = "The release"), Resume,
           ("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received")),
    responses(
        (status = 200, description = "The events, as they are appended", content_type = "text/event-stream", body = String),
        (status = 404, description = "No such project the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn release_events(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Query(query): Query<Resume>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let release: ReleaseId = crate::api::releases::parse("id", &id)?;
    let project = state.project_of(&release, &caller)?;
    let after = match resume_from(&headers, &query)? {
        Some(id) => {
            id.parse::<u64>().map_err(|_| ApiError::invalid(format!("`{id}` is not an event id of this release")))?
        }
        None => u64::MAX,
    };
    let feed = state.live.feed(&state).await?;
    let rx = feed.tx.subscribe();
    let stored = project.manager.history(&release).await?;
    let head = stored.last().map_or(0, |e| e.sequence);
    // Without an id: only what comes next.
    let after = after.min(head);
    let mut sub = Subscriber::new(rx, Filter::Release(release.clone()), None);
    sub.closing = Some(state.live.closing.subscribe());
    sub.sent.insert(release.to_string(), after);
    for envelope in stored.iter().filter(|e| e.sequence > after) {
        let item = audit_item(project.name.clone(), release.clone(), envelope);
        if let Some(event) = sub.accept(&item) {
            sub.pending.push_back(event);
        }
    }
    Ok(sub.into_sse())
}

/// Every audit event and step log line of the projects the caller may see, live.
///
/// Each audit event's id is a cursor (see the `live` module); with it as
/// `Last-Event-ID` (or `?after=`) the stored events after it come first, in
/// time order, then the live ones, none twice. Log lines are live only.
#[utoipa::path(
    get,
    path = "/v1/events",
    tag = "live",
    params(Resume, ("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received")),
    responses(
        (status = 200, description = "The events, as they are appended", content_type = "text/event-stream", body = String),
        (status = 401, description = "No verified identity", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn events(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Query(query): Query<Resume>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let resume = resume_from(&headers, &query)?.map(|id| Cursor::parse(&id)).transpose()?;
    let visible: BTreeSet<String> = state.visible(&caller).map(|p| p.name.clone()).collect();
    let feed = state.live.feed(&state).await?;
    let rx = feed.tx.subscribe();
    let now = Timestamp::now();
    let mut cursor = resume.unwrap_or_else(|| Cursor::fresh(now));
    let fresh = cursor.fresh;
    let mut replay = Vec::new();
    let mut sent = HashMap::new();
    for name in &visible {
        let store = feed.store(name)?;
        let query = ReleaseQuery { project: Some(name.clone()), ..ReleaseQuery::default() };
        let rows = store.list(&query).await.map_err(EngineError::from)?;
        let project = state.projects.get(name).ok_or_else(|| ApiError::not_found(format!("no project `{name}`")))?;
        for row in rows {
            let key = row.release.to_string();
            let listed = cursor.seen.get(&key).map(|(seq, _)| *seq);
            if listed.is_none() && row.updated_at < cursor.watermark {
                continue;
            }
            let stored = project.manager.history(&row.release).await?;
            let seen = match listed {
                Some(seq) => seq,
                // Fresh: everything stored counts as seen.
                None if fresh => stored.last().map_or(0, |e| e.sequence),
                None => stored.iter().filter(|e| e.at < cursor.watermark).map(|e| e.sequence).max().unwrap_or(0),
            };
            if let Some(e) = stored.iter().find(|e| e.sequence == seen)
                && (listed.is_some() || e.at >= cursor.watermark)
            {
                cursor.seen.insert(key.clone(), (seen, Some(e.at)));
            }
            sent.insert(key, seen);
            for envelope in stored.into_iter().filter(|e| e.sequence > seen) {
                replay.push(audit_item(name.clone(), row.release.clone(), &envelope));
            }
        }
    }
    cursor.fresh = false;
    // A release the cursor named that this caller does not see (or that does not exist) is dropped.
    cursor.seen.retain(|_, (_, at)| at.is_some());
    replay.sort_by(|a, b| match (a, b) {
        (
            Item::Audit { at: ta, release: ra, sequence: sa, .. },
            Item::Audit { at: tb, release: rb, sequence: sb, .. },
        ) => (ta, ra.as_str(), sa).cmp(&(tb, rb.as_str(), sb)),
        _ => std::cmp::Ordering::Equal,
    });
    let mut sub = Subscriber::new(rx, Filter::Projects(visible), Some(cursor));
    sub.closing = Some(state.live.closing.subscribe());
    sub.sent = sent;
    for item in &replay {
        if let Some(event) = sub.accept(item) {
            sub.pending.push_back(event);
        }
    }
    Ok(sub.into_sse())
}

/// The position of a `/v1/events` subscriber, exactly: a watermark and the
/// sequences of the releases with envelopes younger than [`SETTLE`] before it.
///
/// As text: `{watermark in unix ms}` then `,{release}={sequence}` for each
/// release named. A release not named counts as received up to its last
/// envelope older than the watermark. The watermark follows the envelopes
/// sent ([`SETTLE`] behind the newest), so the names stay few: the releases
/// active in the last seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    /// Envelopes older than this are received (for the releases not named).
    pub watermark: Timestamp,
    /// Per release named: the last sequence received and, when known, its time.
    pub seen: BTreeMap<String, (u64, Option<Timestamp>)>,
    fresh: bool,
}

impl Cursor {
    fn fresh(now: Timestamp) -> Cursor {
        Cursor { watermark: behind(now), seen: BTreeMap::new(), fresh: true }
    }

    /// Reads a cursor (`1733150000000,shop-1.4.0=7`).
    pub fn parse(text: &str) -> Result<Cursor, ApiError> {
        let bad = || ApiError::invalid(format!("`{text}` is not an event id of /v1/events"));
        let mut parts = text.split(',');
        let ms: i64 = parts.next().and_then(|w| w.parse().ok()).ok_or_else(bad)?;
        let watermark = Timestamp::from_millisecond(ms).map_err(|_| bad())?;
        let mut seen = BTreeMap::new();
        for part in parts {
            let (release, seq) = part.rsplit_once('=').ok_or_else(bad)?;
            let seq: u64 = seq.parse().map_err(|_| bad())?;
            release.parse::<ReleaseId>().map_err(|_| bad())?;
            seen.insert(release.to_owned(), (seq, None));
        }
        Ok(Cursor { watermark, seen, fresh: false })
    }

    /// The cursor as an event id.
    pub fn render(&self) -> String {
        let mut text = self.watermark.as_millisecond().to_string();
        for (release, (seq, _)) in &self.seen {
            text.push(',');
            text.push_str(release);
            text.push('=');
            text.push_str(&seq.to_string());
        }
        text
    }

    /// `release`'s envelope `sequence` of time `at` was sent.
    fn sent(&mut self, release: &str, sequence: u64, at: Timestamp) {
        let watermark = behind(at);
        if watermark > self.watermark {
            // Whole milliseconds, as rendered.
            self.watermark = Timestamp::from_millisecond(watermark.as_millisecond()).unwrap_or(self.watermark);
            let w = self.watermark;
            self.seen.retain(|_, (_, t)| t.is_none_or(|t| t >= w));
        }
        if at >= self.watermark {
            self.seen.insert(release.to_owned(), (sequence, Some(at)));
        } else {
            self.seen.remove(release);
        }
    }
}

fn behind(t: Timestamp) -> Timestamp {
    let settle = SignedDuration::try_from(SETTLE).unwrap_or(SignedDuration::from_secs(5));
    t.checked_sub(settle).unwrap_or(t)
}

enum Filter {
    Release(ReleaseId),
    Projects(BTreeSet<String>),
}

/// One subscriber: what it may see, what it was sent, what it is to be sent.
struct Subscriber {
    rx: broadcast::Receiver<Arc<Item>>,
    filter: Filter,
    /// The last sequence sent per release.
    sent: HashMap<String, u64>,
    cursor: Option<Cursor>,
    pending: VecDeque<SseEvent>,
    done: bool,
    /// The hub's shutdown signal, when the stream serves a client.
    closing: Option<tokio::sync::watch::Receiver<bool>>,
}

impl Subscriber {
    fn new(rx: broadcast::Receiver<Arc<Item>>, filter: Filter, cursor: Option<Cursor>) -> Self {
        Subscriber { rx, filter, sent: HashMap::new(), cursor, pending: VecDeque::new(), done: false, closing: None }
    }

    /// The event for `item`, if this subscriber sees it and has not been sent it.
    fn accept(&mut self, item: &Item) -> Option<SseEvent> {
        let visible = match &self.filter {
            Filter::Release(release) => item.release() == release,
            Filter::Projects(projects) => projects.contains(item.project()),
        };
        if !visible {
            return None;
        }
        match item {
            Item::Log { data, .. } => Some(SseEvent::default().event("log").data(data)),
            Item::Audit { release, sequence, at, data, .. } => {
                let sent = self.sent.entry(release.to_string()).or_insert(0);
                if *sequence <= *sent {
                    return None;
                }
                *sent = *sequence;
                let id = match &mut self.cursor {
                    Some(cursor) => {
                        cursor.sent(release.as_str(), *sequence, *at);
                        cursor.render()
                    }
                    None => sequence.to_string(),
                };
                Some(SseEvent::default().id(id).event("audit").data(data))
            }
        }
    }

    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            if self.done {
                return None;
            }
            let received = match &mut self.closing {
                Some(closing) => tokio::select! {
                    r = self.rx.recv() => r,
                    _ = closing.wait_for(|c| *c) => {
                        self.done = true;
                        let data = serde_json::json!({
                            "detail": "this server is stopping: reconnect (to another replica) with Last-Event-ID set to the last id received",
                        });
                        return Some(SseEvent::default().event("shutdown").data(data.to_string()));
                    }
                },
                None => self.rx.recv().await,
            };
            match received {
                Ok(item) => {
                    if let Some(event) = self.accept(&item) {
                        return Some(event);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    self.done = true;
                    let data = serde_json::json!({
                        "missed": missed,
                        "detail": "this subscriber fell behind: reconnect with Last-Event-ID set to the last id received",
                    });
                    return Some(SseEvent::default().event("lagged").data(data.to_string()));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    fn into_sse(self) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
        let stream = futures_util::stream::unfold(self, |mut sub| async move {
            let event = sub.next().await?;
            Some((Ok(event), sub))
        });
        Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(release: &str, sequence: u64, at: Timestamp) -> Arc<Item> {
        Arc::new(Item::Audit {
            project: "shop".into(),
            release: release.parse().expect("id"),
            sequence,
            at,
            data: format!("{{\"sequence\":{sequence}}}"),
        })
    }

    #[tokio::test]
    async fn a_lagging_subscriber_is_told_and_the_others_go_on() {
        let (tx, _) = broadcast::channel(4);
        let release: ReleaseId = "shop-1.4.0".parse().expect("id");
        let mut fast = Subscriber::new(tx.subscribe(), Filter::Release(release.clone()), None);
        let mut slow = Subscriber::new(tx.subscribe(), Filter::Release(release), None);
        let now = Timestamp::now();
        for seq in 1..=12 {
            tx.send(item("shop-1.4.0", seq, now)).expect("send");
            let event = fast.next().await.expect("the fast one keeps up");
            assert!(format!("{event:?}").contains(&format!("\"id: {seq}\\n")), "{event:?}");
        }
        // The slow one never read: told that it lagged, then its stream ends.
        let told = slow.next().await.expect("told");
        assert!(format!("{told:?}").contains("event: lagged"), "{told:?}");
        assert!(slow.next().await.is_none());
    }

    #[test]
    fn a_subscriber_sends_each_sequence_once_and_only_its_release() {
        let (tx, _) = broadcast::channel(4);
        let mut sub = Subscriber::new(tx.subscribe(), Filter::Release("shop-1.4.0".parse().expect("id")), None);
        let now = Timestamp::now();
        assert!(sub.accept(&item("shop-1.4.0", 1, now)).is_some());
        assert!(sub.accept(&item("shop-1.4.0", 1, now)).is_none(), "a duplicate");
        assert!(sub.accept(&item("shop-1.5.0", 2, now)).is_none(), "another release");
        assert!(sub.accept(&item("shop-1.4.0", 2, now)).is_some());
    }

    #[test]
    fn the_cursor_reads_what_it_writes_and_names_only_recent_releases() {
        let t0 = Timestamp::from_millisecond(1_800_000_000_000).expect("t");
        let mut cursor = Cursor::fresh(t0);
        assert_eq!(cursor.watermark, behind(t0));
        cursor.sent("shop-1.4.0", 3, t0);
        let later = t0.checked_add(SignedDuration::from_secs(10)).expect("t");
        cursor.sent("shop-1.5.0", 1, later);
        // Ten seconds on: shop-1.4.0's envelope is older than the watermark, so it is no longer named.
        assert_eq!(cursor.render(), format!("{},shop-1.5.0=1", behind(later).as_millisecond()));
        let read = Cursor::parse(&cursor.render()).expect("parse");
        assert_eq!(read.render(), cursor.render());
        assert_eq!(read.seen.get("shop-1.5.0").map(|(s, _)| *s), Some(1));
        for bad in ["", "x", "12,shop-1.4.0", "12,shop-1.4.0=x", "12,=3"] {
            assert!(Cursor::parse(bad).is_err(), "{bad}");
        }
    }
}
