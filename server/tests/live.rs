//! Live (issue #21, item 5): server-sent events of every appended audit
//! event, resumable exactly, across replicas sharing PostgreSQL; `/metrics`,
//! `/healthz`, `/readyz`. In-process servers on 127.0.0.1:0, real stores.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::{Server, postgres_config, server_env, unique_project};

const WAIT: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(700);

fn sequences(messages: &[common::Message]) -> Vec<u64> {
    messages.iter().map(|m| m.json()["sequence"].as_u64().expect("sequence")).collect()
}

#[tokio::test]
async fn a_subscriber_sees_plan_and_approve_live_r9d() {
    let s = Server::start().await;
    // Subscribed before the release exists: its project is visible.
    let mut one = s.subscribe("quinn", "/v1/releases/shop-1.4.0/events", None).await;
    let mut all = s.subscribe("quinn", "/v1/events", None).await;
    s.plan_and_approve("shop", "1.4.0").await;
    for stream in [&mut one, &mut all] {
        let planned = stream.audit(WAIT).await.expect("the planned event");
        let data = planned.json();
        assert_eq!(data["stream"], "shop-1.4.0", "{data}");
        assert_eq!(data["sequence"], 1, "{data}");
        assert_eq!(data["event"]["event"], "planned", "{data}");
        assert_eq!(data["actor"], "rita", "{data}");
        for field in ["at", "rule", "hash", "prev_hash"] {
            assert!(!data[field].is_null(), "{field} in {data}");
        }
        let mut rest = vec![planned];
        rest.extend(stream.audits_until_quiet(QUIET).await);
        let names: Vec<String> =
            rest.iter().map(|m| m.json()["event"]["event"].as_str().unwrap_or("").to_owned()).collect();
        assert!(names.contains(&"approved".to_owned()), "{names:?}");
        assert_eq!(sequences(&rest), (1..=rest.len() as u64).collect::<Vec<_>>(), "in order, none twice");
    }
    // Per release the id is the sequence.
    let (_, status) = s.get("quinn", "/v1/releases/shop-1.4.0").await;
    assert!(status["state"].is_object(), "{status}");
}

#[tokio::test]
async fn resume_with_last_event_id_gets_exactly_the_missed_ones_r9d() {
    let s = Server::start().await;
    let mut global = s.subscribe("quinn", "/v1/events", None).await;
    s.plan_and_approve("shop", "1.4.0").await;
    let first = global.audit(WAIT).await.expect("first event");
    let first_id = first.id.clone().expect("an id");
    let seen_then = global.audits_until_quiet(QUIET).await;
    let total = 1 + seen_then.len() as u64;
    drop(global);
    // Missed: another release, and more on the first.
    s.plan_and_approve("shop", "1.5.0").await;
    let (code, body) =
        s.post("quinn", "/v1/releases/shop-1.4.0/approvals", serde_json::json!({"approval": "qa_signoff"})).await;
    assert!(code == 200 || code == 422, "{code} {body}");
    let head_140 =
        s.state.projects["shop"].manager.history(&"shop-1.4.0".parse().expect("id")).await.expect("history").len()
            as u64;
    let head_150 =
        s.state.projects["shop"].manager.history(&"shop-1.5.0".parse().expect("id")).await.expect("history").len()
            as u64;

    // One release, resumed after its first event: exactly 2..=head, then live.
    let mut one = s.subscribe("quinn", "/v1/releases/shop-1.4.0/events", Some("1")).await;
    let replayed = one.audits_until_quiet(QUIET).await;
    assert_eq!(sequences(&replayed), (2..=head_140).collect::<Vec<_>>());
    assert_eq!(replayed.last().and_then(|m| m.id.clone()), Some(head_140.to_string()));
    // ?after= for clients that cannot set headers.
    let mut by_query = s.subscribe("quinn", "/v1/releases/shop-1.4.0/events?after=2", None).await;
    assert_eq!(sequences(&by_query.audits_until_quiet(QUIET).await), (3..=head_140).collect::<Vec<_>>());

    // Everything, resumed after the first event it got: every other event once.
    let mut resumed = s.subscribe("quinn", "/v1/events", Some(&first_id)).await;
    let replayed = resumed.audits_until_quiet(QUIET).await;
    let mut got: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for m in &replayed {
        let d = m.json();
        got.entry(d["stream"].as_str().expect("stream").to_owned())
            .or_default()
            .push(d["sequence"].as_u64().expect("seq"));
    }
    assert_eq!(got.get("shop-1.4.0").cloned().unwrap_or_default(), (2..=head_140).collect::<Vec<_>>(), "{got:?}");
    assert_eq!(got.get("shop-1.5.0").cloned().unwrap_or_default(), (1..=head_150).collect::<Vec<_>>(), "{got:?}");
    assert!(head_140 >= total, "the first connection saw {total} of {head_140}");
    // Then live ones, and a resume from the last id gets nothing again.
    let last_id = replayed.last().and_then(|m| m.id.clone()).expect("an id");
    s.plan_and_approve("shop", "1.6.0").await;
    let live = resumed.audit(WAIT).await.expect("a live event after the replay");
    assert_eq!(live.json()["stream"], "shop-1.6.0");
    let mut again = s.subscribe("quinn", "/v1/events", Some(&last_id)).await;
    let after = again.audits_until_quiet(QUIET).await;
    assert!(after.iter().all(|m| m.json()["stream"] == "shop-1.6.0"), "only the newer release: {after:?}");
}

#[tokio::test]
async fn identity_is_required_and_an_invisible_project_is_404() {
    let s = Server::start().await;
    let r = s.client.get(format!("{}/v1/events", s.base)).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 401);
    let r = s.client.get(format!("{}/v1/releases/shop-1.4.0/events", s.base)).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 401);
    let (code, body) = s.get("mallory", "/v1/releases/shop-1.4.0/events").await;
    assert_eq!(code, 404, "{body}");
    assert_eq!(body["code"], "NOT_FOUND", "{body}");
    let (code, body) = s.get("quinn", "/v1/releases/shop-1.4.0/events?after=banana").await;
    assert_eq!(code, 400, "{body}");
    let (code, body) = s.get("quinn", "/v1/events?after=banana").await;
    assert_eq!(code, 400, "{body}");
    // mallory sees no project: the feed shows nothing of shop.
    let mut outsider = s.subscribe("mallory", "/v1/events", None).await;
    s.plan_and_approve("shop", "1.4.0").await;
    assert!(outsider.next(QUIET).await.is_none(), "an invisible project's events leak");
}

#[tokio::test]
async fn an_event_appended_through_replica_a_reaches_a_subscriber_of_replica_b_postgres() {
    let Some(_url) = server_env("SHIPWARDEN_TEST_POSTGRES_URL") else { return };
    let project = unique_project();
    let config = postgres_config(&project);
    let a = Server::with_config(&config).await;
    let b = Server::with_config(&config).await;
    let mut on_b = b.subscribe("quinn", "/v1/events", None).await;
    let mut one_on_b = b.subscribe("quinn", &format!("/v1/releases/{project}-1.4.0/events"), None).await;
    let started = std::time::Instant::now();
    let release = a.plan_and_approve(&project, "1.4.0").await;
    let planned = on_b.audit(WAIT).await.expect("replica B sees replica A's append");
    eprintln!("replica A -> subscriber of B: {:?}", started.elapsed());
    assert_eq!(planned.json()["stream"], release.as_str());
    let mut all = vec![planned];
    all.extend(on_b.audits_until_quiet(Duration::from_secs(1)).await);
    let head = a.state.projects[&project].manager.history(&release.parse().expect("id")).await.expect("history").len();
    assert_eq!(sequences(&all), (1..=head as u64).collect::<Vec<_>>(), "each once, in order");
    let per_release = one_on_b.audits_until_quiet(Duration::from_secs(1)).await;
    assert_eq!(sequences(&per_release), (1..=head as u64).collect::<Vec<_>>());
    // An append through B itself is seen once by B's subscriber (local and polled: de-duplicated).
    let (code, body) = b
        .post("quinn", &format!("/v1/releases/{release}/approvals"), serde_json::json!({"approval": "qa_signoff"}))
        .await;
    assert!(code == 200 || code == 422, "{code} {body}");
    let more = on_b.audits_until_quiet(Duration::from_secs(1)).await;
    let head2 = b.state.projects[&project].manager.history(&release.parse().expect("id")).await.expect("history").len();
    assert_eq!(sequences(&more), ((head as u64 + 1)..=head2 as u64).collect::<Vec<_>>());
    // Disconnected from B, A appends (another release, and more on this one); resumed on B: exactly those.
    let last_id = more.last().or(all.last()).and_then(|m| m.id.clone()).expect("an id");
    drop(on_b);
    let other = a.plan_and_approve(&project, "1.5.0").await;
    // Evidence through A's manager (no route for it in this test's server).
    let a_project = &a.state.projects[&project];
    let quinn = a_project.actor(
        &shipwarden_server::Verified {
            user: "quinn".into(),
            groups: Default::default(),
            proof: shipwarden::Proof::Token { id: "test-quinn".into() },
            scopes: None,
        },
        &a.state.settings,
    );
    let evidence = shipwarden::machine::Evidence::new("coverage".parse().expect("gate"), 0.95, "lcov");
    a_project.manager.record_evidence(&release.parse().expect("id"), &quinn, evidence).await.expect("evidence");
    let mut resumed = b.subscribe("quinn", "/v1/events", Some(&last_id)).await;
    let replayed = resumed.audits_until_quiet(Duration::from_secs(1)).await;
    let history = |id: &str| {
        let manager = a.state.projects[&project].manager.clone();
        let id: shipwarden::ReleaseId = id.parse().expect("id");
        async move { manager.history(&id).await.expect("history").len() as u64 }
    };
    let (head3, other_head) = (history(&release).await, history(&other).await);
    let mut got: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for m in &replayed {
        let d = m.json();
        got.entry(d["stream"].as_str().expect("stream").to_owned())
            .or_default()
            .push(d["sequence"].as_u64().expect("seq"));
    }
    assert_eq!(got.remove(&other), Some((1..=other_head).collect::<Vec<_>>()), "{got:?}");
    assert!(head3 > head2 as u64, "evidence appended");
    assert_eq!(got.remove(&release).unwrap_or_default(), ((head2 as u64 + 1)..=head3).collect::<Vec<_>>());
    assert!(got.is_empty(), "nothing else: {got:?}");
}

/// A sample of the text format: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// Parses the Prometheus / OpenMetrics text format strictly: every line a
/// `# HELP`, `# TYPE`, `# UNIT` or `# EOF` comment or a sample.
fn parse_metrics(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut types = BTreeMap::new();
    let mut eof = false;
    for line in text.lines() {
        assert!(!eof, "a line after # EOF: {line}");
        if let Some(comment) = line.strip_prefix("# ") {
            let mut words = comment.splitn(3, ' ');
            match words.next() {
                Some("EOF") => eof = true,
                Some("TYPE") => {
                    let name = words.next().expect("a name").to_owned();
                    let kind = words.next().expect("a type");
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "unknown", "info", "stateset"].contains(&kind)
                    );
                    types.insert(name, kind.to_owned());
                }
                Some("HELP" | "UNIT") => {}
                other => panic!("an unknown comment {other:?}: {line}"),
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("`series value`");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("a number: {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').expect("labels end with }");
                let mut labels = BTreeMap::new();
                // Values are quoted and may hold commas: split on `",`.
                for pair in body.split("\",").filter(|p| !p.is_empty()) {
                    let (k, v) = pair.split_once("=\"").expect("label=\"value\"");
                    labels.insert(k.to_owned(), v.trim_end_matches('"').to_owned());
                }
                (name.to_owned(), labels)
            }
            None => (series.to_owned(), BTreeMap::new()),
        };
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'), "a metric name: {name}");
        assert!(types.keys().any(|family| name.starts_with(family.as_str())), "{name} has a # TYPE before it");
        samples.push((name, labels, value));
    }
    assert!(eof, "ends with # EOF");
    samples
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|(n, l, _)| n == name && labels.iter().all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v)))
        .map(|(_, _, v)| v)
        .sum()
}

#[tokio::test]
async fn metrics_parse_and_count_requests_by_route_and_refusals_by_rule() {
    let s = Server::start().await;
    s.plan_and_approve("shop", "1.4.0").await;
    let (code, _) = s.get("quinn", "/v1/releases/shop-1.4.0").await;
    assert_eq!(code, 200);
    // A refusal: an emergency release without its hotfix ticket and justification (R-5b).
    let (code, body) = s
        .post(
            "rita",
            "/v1/projects/shop/releases",
            serde_json::json!({"version": "1.4.1", "kind": "emergency", "tickets": ["SHOP-1"]}),
        )
        .await;
    assert_eq!((code, body["rule"].as_str()), (422, Some("R-5b")), "{body}");
    // No identity needed.
    let r = s.client.get(format!("{}/metrics", s.base)).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"].to_str().is_ok_and(|t| t.starts_with("application/openmetrics-text")));
    let text = r.text().await.expect("text");
    let samples = parse_metrics(&text);
    let status_route = [("route", "/v1/releases/{id}"), ("method", "GET"), ("status", "200")];
    assert_eq!(value(&samples, "shipwarden_http_requests_total", &status_route), 1.0, "{text}");
    assert_eq!(
        value(
            &samples,
            "shipwarden_http_request_duration_seconds_count",
            &[("route", "/v1/releases/{id}"), ("method", "GET")]
        ),
        1.0,
        "{text}"
    );
    let refused = [("route", "/v1/projects/{project}/releases"), ("status", "422")];
    assert_eq!(value(&samples, "shipwarden_http_requests_total", &refused), 1.0, "{text}");
    assert_eq!(value(&samples, "shipwarden_refusals_total", &[("rule", "R-5b")]), 1.0, "{text}");
    assert!(!text.contains("shop-1.4.0"), "a raw path in a label: {text}");
    assert_eq!(value(&samples, "shipwarden_releases", &[("project", "shop")]), 1.0, "{text}");
    assert!(samples.iter().any(|(n, l, _)| n == "shipwarden_leases_held" && l["kind"] == "env"), "{text}");
    // The scrape itself is counted by the next one.
    let text = s.client.get(format!("{}/metrics", s.base)).send().await.expect("send").text().await.expect("text");
    let samples = parse_metrics(&text);
    assert_eq!(value(&samples, "shipwarden_http_requests_total", &[("route", "/metrics")]), 1.0, "{text}");
}

#[tokio::test]
async fn healthz_and_readyz_need_no_identity() {
    let s = Server::start().await;
    for path in ["/healthz", "/readyz"] {
        let r = s.client.get(format!("{}{path}", s.base)).send().await.expect("send");
        assert_eq!(r.status().as_u16(), 200, "{path}");
    }
}

#[tokio::test]
async fn readyz_is_503_when_the_store_is_gone_postgres() {
    let Some(url) = server_env("SHIPWARDEN_TEST_POSTGRES_URL") else { return };
    // A database of its own, dropped under the server.
    let db = unique_project();
    let psql = |sql: &str| {
        let out = std::process::Command::new("psql").args([url.as_str(), "-q", "-c", sql]).output().expect("psql runs");
        assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
    };
    psql(&format!("CREATE DATABASE {db}"));
    let (base, _) = url.rsplit_once('/').expect("a database in the URL");
    let store =
        shipwarden_adapters::store::postgres::PostgresStore::connect(&format!("{base}/{db}")).await.expect("connect");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("shipwarden.toml");
    std::fs::write(&path, common::sqlite_config("shop")).expect("config");
    let loaded = shipwarden_adapters::config::Loaded::read(&path).expect("read");
    let manager = shipwarden::engine::ReleaseManager::builder(Arc::new(store)).build();
    let project = shipwarden_server::Project { name: "shop".into(), loaded, manager };
    let state = shipwarden_server::AppState::new(vec![project], Default::default());
    let s = Server::serve(state, dir).await;
    let r = s.client.get(format!("{}/readyz", s.base)).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 200);
    psql(&format!("DROP DATABASE {db} WITH (FORCE)"));
    let r = s.client.get(format!("{}/readyz", s.base)).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["code"], "ADAPTER", "{body}");
    assert_eq!(body["retryable"], true, "{body}");
    // Alive all the same.
    let r = s.client.get(format!("{}/healthz", s.base)).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn step_log_lines_stream_live_and_steps_are_timed_in_metrics() {
    let s = Server::start().await;
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(s.dir.path())
            .status()
            .expect("git");
        assert!(ok.success(), "git {args:?}");
    };
    git(&["commit", "-q", "--allow-empty", "-m", "SHOP-1 first"]);
    let mut one = s.subscribe("quinn", "/v1/releases/shop-1.4.0/events", None).await;
    let release = s.plan_and_approve("shop", "1.4.0").await;
    // The driver (the background work of `serve`) runs the steps; here called directly.
    let manager = &s.state.projects["shop"].manager;
    let outcome = manager.run(&release.parse().expect("id"), None).await.expect("run");
    eprintln!("run: {outcome:?}");
    let mut kinds = BTreeMap::<String, usize>::new();
    let mut logs = Vec::new();
    while let Some(m) = one.next(QUIET).await {
        if m.event == "log" {
            logs.push(m.json());
        } else {
            *kinds.entry(m.json()["event"]["event"].as_str().unwrap_or("").to_owned()).or_default() += 1;
        }
    }
    eprintln!("events: {kinds:?}\nlog lines: {logs:?}");
    assert!(kinds.get("step_finished").is_some_and(|n| *n > 0), "{kinds:?}");
    assert!(!logs.is_empty(), "no log line: {kinds:?}");
    for line in &logs {
        assert_eq!(line["release"], "shop-1.4.0", "{line}");
        assert!(line["step"].is_string() && line["text"].is_string() && line["stream"].is_string(), "{line}");
    }
    let text = s.client.get(format!("{}/metrics", s.base)).send().await.expect("send").text().await.expect("text");
    let samples = parse_metrics(&text);
    assert!(value(&samples, "shipwarden_step_duration_seconds_count", &[]) >= 1.0, "{text}");
}

#[tokio::test]
async fn the_feed_of_all_events_shows_only_the_projects_the_caller_may_see() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut paths = Vec::new();
    for (project, extra) in [("shop", "\n[users.alice]\nroles = [\"qa_lead\"]\n"), ("pay", "")] {
        let folder = dir.path().join(project);
        std::fs::create_dir_all(&folder).expect("mkdir");
        std::process::Command::new("git").args(["init", "-q"]).current_dir(&folder).status().expect("git init");
        let path = folder.join("shipwarden.toml");
        std::fs::write(&path, common::sqlite_config(project) + extra).expect("config");
        paths.push(path);
    }
    let state = shipwarden_server::AppState::open(&paths).await.expect("open").with_verifier(Arc::new(common::Names));
    let s = Server::serve(state, dir).await;
    let mut alice = s.subscribe("alice", "/v1/events", None).await;
    let mut quinn = s.subscribe("quinn", "/v1/events", None).await;
    s.plan_and_approve("pay", "2.0.0").await;
    s.plan_and_approve("shop", "1.4.0").await;
    let seen_by = |messages: Vec<common::Message>| {
        messages
            .iter()
            .map(|m| m.json()["stream"].as_str().unwrap_or("").to_owned())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let alice_saw = seen_by(alice.audits_until_quiet(QUIET).await);
    assert_eq!(alice_saw.into_iter().collect::<Vec<_>>(), ["shop-1.4.0"]);
    let quinn_saw = seen_by(quinn.audits_until_quiet(QUIET).await);
    assert_eq!(quinn_saw.into_iter().collect::<Vec<_>>(), ["pay-2.0.0", "shop-1.4.0"]);
    let (code, _) = s.get("alice", "/v1/releases/pay-2.0.0/events").await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn a_stopping_server_ends_its_streams_so_the_shutdown_is_not_held_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::process::Command::new("git").args(["init", "-q"]).current_dir(dir.path()).status().expect("git init");
    let path = dir.path().join("shipwarden.toml");
    std::fs::write(&path, common::sqlite_config("shop")).expect("config");
    let state = shipwarden_server::AppState::open(&[&path]).await.expect("open").with_verifier(Arc::new(common::Names));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let state = Arc::new(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(shipwarden_server::serve(listener, state.clone(), async {
        let _ = stopped.await;
    }));
    let server = Server { base, client: reqwest::Client::new(), state, dir };
    let mut events = server.subscribe("rita", "/v1/releases/shop-1.4.0/events", None).await;
    let _ = stop.send(());
    let last = events.next(Duration::from_secs(5)).await.expect("an event before the end");
    assert_eq!(last.event, "shutdown", "{last:?}");
    let ended = tokio::time::timeout(Duration::from_secs(5), served).await;
    assert!(ended.is_ok_and(|r| r.is_ok_and(|r| r.is_ok())), "serve returned after its streams ended");
}
