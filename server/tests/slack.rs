//! Approvals and rejections from Slack (issue #23), against a real `serve`
//! and a local HTTP server standing in for Slack (the `response_url` and the
//! Web API's `views.open`). The requests sent to shipwarden are shaped as
//! Slack documents them, signed as Slack signs them, and what shipwarden
//! sends back is checked against Slack's documented shapes:
//! - signing: <https://api.slack.com/authentication/verifying-requests-from-slack>
//! - clicks: <https://api.slack.com/reference/interaction-payloads/block-actions>
//! - dialogs: <https://api.slack.com/reference/interaction-payloads/views>,
//!   <https://api.slack.com/methods/views.open>,
//!   <https://api.slack.com/surfaces/modals#displaying_errors>
//! - answers: <https://api.slack.com/interactivity/handling#message_responses>
//!   (and the 3-second acknowledgement).
//!
//! The signatures here are made with ring's HMAC directly, not with the
//! server's own code.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use common::{Names, Server};
use serde_json::{Value, json};
use shipwarden_adapters::config::Loaded;
use shipwarden_server::slack::SlackApp;
use shipwarden_server::{AppState, Project};

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const TOKEN: &str = "xoxb-test-token";
const TEAM: &str = "T0ACME";
const MESSAGE_TS: &str = "1712345678.000100";
const CHANNEL: &str = "C0RELEASES";

fn config(slack_api: &str) -> String {
    format!(
        r#"
[project]
name = "shop"
ticket_prefix = "SHOP"

[users.rita]
roles = ["release_manager", "product_owner"]
slack = "U0RITA"
[users.paul]
roles = ["product_owner"]
slack = "U0PAUL"
[users.quinn]
roles = ["qa_lead"]
slack = "U0QUINN"

[server.slack]
signing_secret_env = "SHIPWARDEN_TEST_SLACK_SECRET"
token_env = "SHIPWARDEN_TEST_SLACK_TOKEN"
team = "{TEAM}"
api = "{slack_api}"
response_hosts = ["127.0.0.1"]
"#
    )
}

/// One request Slack's stand-in received.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    authorization: Option<String>,
    body: Value,
}

/// The stand-in for Slack: `POST /response/{n}` (a `response_url`) and
/// `POST /api/views.open`; the `response_url` answers after `delay`.
#[derive(Clone, Default)]
struct Stand {
    received: Arc<Mutex<Vec<Received>>>,
    delay: Arc<Mutex<Duration>>,
    /// The `error` `views.open` answers with `ok: false`, if any.
    views_error: Arc<Mutex<Option<String>>>,
}

impl Stand {
    async fn start() -> (Stand, String) {
        let stand = Stand::default();
        let app = axum::Router::new()
            .route("/response/{n}", axum::routing::post(respond))
            .route("/api/views.open", axum::routing::post(views_open))
            .route("/api/chat.postMessage", axum::routing::post(post_message))
            .with_state(stand.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        (stand, base)
    }

    fn all(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// The requests to `path`, waiting up to 10 s for at least `n` of them.
    async fn wait_for(&self, path: &str, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found: Vec<Received> = self.all().into_iter().filter(|r| r.path.starts_with(path)).collect();
            if found.len() >= n || Instant::now() > deadline {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn respond(
    State(stand): State<Stand>,
    axum::extract::Path(n): axum::extract::Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> &'static str {
    let delay = *stand.delay.lock().expect("lock");
    tokio::time::sleep(delay).await;
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    stand.received.lock().expect("lock").push(Received { path: format!("/response/{n}"), authorization, body });
    "ok"
}

async fn post_message(State(stand): State<Stand>, headers: HeaderMap, Json(body): Json<Value>) -> Json<Value> {
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let channel = body["channel"].clone();
    stand.received.lock().expect("lock").push(Received { path: "/api/chat.postMessage".into(), authorization, body });
    Json(json!({"ok": true, "channel": channel, "ts": MESSAGE_TS}))
}

async fn views_open(State(stand): State<Stand>, headers: HeaderMap, Json(body): Json<Value>) -> Json<Value> {
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let view = body["view"].clone();
    stand.received.lock().expect("lock").push(Received { path: "/api/views.open".into(), authorization, body });
    if let Some(error) = stand.views_error.lock().expect("lock").clone() {
        return Json(json!({"ok": false, "error": error}));
    }
    Json(json!({"ok": true, "view": {"id": "V0REJECT", "type": "modal", "callback_id": view["callback_id"]}}))
}

/// A server of `config(stand)` whose secrets come from this test, not the environment.
async fn start() -> (Server, Stand, String) {
    start_with("").await
}

/// [`start`] with `extra` appended to the configuration (`SLACK_API` in it: the stand-in's Web API).
async fn start_with(extra: &str) -> (Server, Stand, String) {
    let (stand, base) = Stand::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .status()
            .expect("git");
        assert!(ok.success(), "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["commit", "-q", "--allow-empty", "-m", "SHOP-1: checkout"]);
    let path = dir.path().join("shipwarden.toml");
    let api = format!("{base}/api");
    std::fs::write(&path, config(&api) + &extra.replace("SLACK_API", &api)).expect("config");
    let source: shipwarden_adapters::config::SecretSource = Arc::new(|var: &str| match var {
        "SHIPWARDEN_TEST_SLACK_SECRET" => Some(SECRET.to_owned()),
        "SHIPWARDEN_TEST_SLACK_TOKEN" => Some(TOKEN.to_owned()),
        _ => None,
    });
    let loaded = Loaded::read(&path).expect("config").with_secrets(source);
    let (manager, _) = loaded.manager(None).await.expect("manager");
    let slack = SlackApp::from_config(loaded.config.server.slack.as_ref().expect("[server.slack]"), &loaded)
        .expect("the Slack app");
    let settings = loaded.config.server.clone();
    let project = Project { name: "shop".into(), loaded, manager };
    let mut state = AppState::new(vec![project], settings).with_verifier(Arc::new(Names));
    state.slack = Some(Arc::new(slack));
    let server = Server::serve(state, dir).await;
    (server, stand, base)
}

/// `v0=` HMAC-SHA256 of `v0:{timestamp}:{body}` under `secret`, as Slack signs.
fn sign(secret: &str, timestamp: &str, body: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = ring::hmac::sign(&key, format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", tag.as_ref().iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// The form Slack posts: `payload=<json>`, url-encoded.
fn form(payload: &Value) -> String {
    form_urlencoded::Serializer::new(String::new()).append_pair("payload", &payload.to_string()).finish()
}

/// A click on shipwarden's `action` button (`approve`, `reject`) by `user`, as Slack sends it.
fn click(base: &str, action: &str, user: &str, value: &str) -> Value {
    json!({
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": user, "username": user.to_lowercase(), "team_id": TEAM},
        "api_app_id": "A0SHIPWARDEN",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": MESSAGE_TS, "channel_id": CHANNEL, "is_ephemeral": false},
        "trigger_id": "12466734323.1395872398.2b3d2f2f2f",
        "channel": {"id": CHANNEL, "name": "releases"},
        "message": {"type": "message", "ts": MESSAGE_TS, "text": "shop 1.4.0 waits for your approval", "blocks": []},
        "response_url": format!("{base}/response/1"),
        "actions": [{
            "type": "button",
            "action_id": action,
            "block_id": "decide",
            "text": {"type": "plain_text", "text": action},
            "value": value,
            "action_ts": "1712345679.000200",
        }],
    })
}

fn scope_of(release: &str) -> String {
    json!({"release": release, "approval": "scope"}).to_string()
}

/// Posts `body` signed at `timestamp` with `secret`; the status, the body and how long the answer took.
async fn post_signed(server: &Server, body: &str, timestamp: i64, secret: Option<&str>) -> (u16, String, Duration) {
    let ts = timestamp.to_string();
    let mut request = server
        .client
        .post(format!("{}/slack/interactivity", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", &ts)
        .body(body.to_owned());
    if let Some(secret) = secret {
        request = request.header("x-slack-signature", sign(secret, &ts, body));
    }
    let started = Instant::now();
    let response = request.send().await.expect("send");
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"), elapsed)
}

async fn slack(server: &Server, payload: &Value) -> (u16, String, Duration) {
    post_signed(server, &form(payload), now(), Some(SECRET)).await
}

async fn plan(server: &Server, version: &str) -> String {
    let (code, body) = server
        .post("rita", "/v1/projects/shop/releases", json!({"version": version, "kind": "minor", "tickets": ["SHOP-1"]}))
        .await;
    assert_eq!(code, 201, "{body}");
    format!("shop-{version}")
}

/// The approvals and rejections recorded, as the engine reads them from the store.
async fn recorded(server: &Server, id: &str) -> (Vec<Value>, Vec<Value>) {
    let manager = &server.state.projects["shop"].manager;
    let state = manager.state(&id.parse().expect("release id")).await.expect("state");
    let state = serde_json::to_value(&*state).expect("json");
    let list = |key: &str| state[key].as_array().cloned().unwrap_or_default();
    (list("approvals"), list("rejections"))
}

/// The one answer posted to the `response_url`, waiting for it.
async fn answer(stand: &Stand) -> Value {
    let answers = stand.wait_for("/response/", 1).await;
    assert_eq!(answers.len(), 1, "one answer to the response_url: {answers:?}");
    stand.received.lock().expect("lock").clear();
    answers[0].body.clone()
}

fn assert_ephemeral(answer: &Value, needle: &str) {
    assert_eq!(answer["response_type"], "ephemeral", "{answer}");
    assert_eq!(answer["replace_original"], false, "{answer}");
    let text = answer["text"].as_str().unwrap_or_default();
    assert!(text.contains(needle), "`{needle}` in {text}");
}

#[tokio::test]
async fn an_approve_click_is_recorded_with_channel_chat_and_a_verified_slack_proof_r2c_r2d() {
    let (server, stand, base) = start().await;
    let id = plan(&server, "1.4.0").await;
    let (code, body, _) = slack(&server, &click(&base, "approve", "U0PAUL", &scope_of(&id))).await;
    assert_eq!((code, body.as_str()), (200, ""), "Slack is acknowledged with an empty 200");

    let answer = answer(&stand).await;
    assert_eq!(answer["replace_original"], true, "{answer}");
    let text = answer["text"].as_str().unwrap_or_default();
    assert!(text.contains("*paul* approved *scope* of *shop-1.4.0* as product_owner"), "{text}");
    assert_eq!(answer["blocks"][0]["type"], "section");
    assert_eq!(answer["blocks"][0]["text"]["type"], "mrkdwn");
    assert_eq!(answer["blocks"][1]["type"], "context");

    let (approvals, _) = recorded(&server, &id).await;
    assert_eq!(approvals.len(), 1, "{approvals:?}");
    let a = &approvals[0];
    assert_eq!(
        (a["user"].as_str(), a["channel"].as_str(), a["role"].as_str()),
        (Some("paul"), Some("chat"), Some("product_owner"))
    );
    let proof = &a["proof"];
    assert_eq!(
        proof,
        &json!({"kind": "chat", "platform": "slack", "user_id": "U0PAUL", "team_id": TEAM, "message": format!("{CHANNEL}/{MESSAGE_TS}")})
    );

    // The audit trail verifies and carries it; so does the evidence bundle.
    let (code, audit) = server.get("rita", &format!("/v1/releases/{id}/audit")).await;
    assert_eq!((code, &audit["verified"]), (200, &json!(true)), "{audit}");
    let (code, history) = server.get("rita", &format!("/v1/releases/{id}/history")).await;
    assert_eq!(code, 200, "{history}");
    let text = history.to_string();
    assert!(text.contains("\"U0PAUL\"") && text.contains(TEAM) && text.contains(MESSAGE_TS), "{text}");
    let (code, bundle) = server.get("rita", &format!("/v1/releases/{id}/evidence/bundle")).await;
    assert_eq!(code, 200, "{bundle}");
    let text = bundle.to_string();
    assert!(text.contains("\"chat\"") && text.contains("\"U0PAUL\"") && text.contains(TEAM), "{text}");
}

#[tokio::test]
async fn a_bad_missing_or_replayed_signature_is_refused_401_and_nothing_is_recorded_r2d() {
    let (server, stand, base) = start().await;
    let id = plan(&server, "1.4.0").await;
    let body = form(&click(&base, "approve", "U0PAUL", &scope_of(&id)));
    let cases = [
        ("another secret", post_signed(&server, &body, now(), Some("not-the-secret")).await),
        ("no signature", post_signed(&server, &body, now(), None).await),
        ("signed 6 minutes ago", post_signed(&server, &body, now() - 360, Some(SECRET)).await),
        ("signed 6 minutes ahead", post_signed(&server, &body, now() + 360, Some(SECRET)).await),
    ];
    for (what, (code, text, _)) in cases {
        assert_eq!(code, 401, "{what}: {text}");
        assert!(text.contains("UNAUTHENTICATED"), "{what}: {text}");
    }
    // A body changed after signing.
    let ts = now().to_string();
    let signature = sign(SECRET, &ts, &body);
    let tampered = body.replace("U0PAUL", "U0RITA");
    let response = server
        .client
        .post(format!("{}/slack/interactivity", server.base))
        .header("x-slack-request-timestamp", &ts)
        .header("x-slack-signature", signature)
        .body(tampered)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status().as_u16(), 401);

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(stand.all().is_empty(), "nothing is sent anywhere: {:?}", stand.all());
    assert_eq!(recorded(&server, &id).await, (vec![], vec![]));
}

#[tokio::test]
async fn a_request_from_another_workspace_or_an_unknown_slack_user_is_refused_r2d() {
    let (server, stand, base) = start().await;
    let id = plan(&server, "1.4.0").await;

    let mut elsewhere = click(&base, "approve", "U0PAUL", &scope_of(&id));
    elsewhere["team"]["id"] = json!("T0OTHER");
    let (code, text, _) = slack(&server, &elsewhere).await;
    assert_eq!(code, 403, "{text}");
    assert!(text.contains("R-2d") && text.contains("T0OTHER"), "{text}");

    let (code, _, _) = slack(&server, &click(&base, "approve", "U0STRANGER", &scope_of(&id))).await;
    assert_eq!(code, 200);
    assert_ephemeral(&answer(&stand).await, "`U0STRANGER` is not a shipwarden user");

    assert_eq!(recorded(&server, &id).await, (vec![], vec![]));
}

#[tokio::test]
async fn a_user_without_the_role_the_author_and_a_second_approval_are_refused_ephemerally_r2d() {
    let (server, stand, base) = start().await;
    let id = plan(&server, "1.4.0").await;

    // quinn is a QA lead: the scope needs a product owner.
    slack(&server, &click(&base, "approve", "U0QUINN", &scope_of(&id))).await;
    let refusal = answer(&stand).await;
    assert_ephemeral(&refusal, "refused by R-2d");
    assert!(refusal["text"].as_str().is_some_and(|t| t.contains("product_owner")), "{refusal}");

    // rita planned it: she may not approve it, whatever her roles.
    slack(&server, &click(&base, "approve", "U0RITA", &scope_of(&id))).await;
    assert_ephemeral(&answer(&stand).await, "refused by R-2d");
    assert_eq!(recorded(&server, &id).await, (vec![], vec![]));

    // paul approves; his second click is refused.
    slack(&server, &click(&base, "approve", "U0PAUL", &scope_of(&id))).await;
    assert_eq!(answer(&stand).await["replace_original"], true);
    slack(&server, &click(&base, "approve", "U0PAUL", &scope_of(&id))).await;
    assert_ephemeral(&answer(&stand).await, "refused by R-2d");
    assert_eq!(recorded(&server, &id).await.0.len(), 1);
}

#[tokio::test]
async fn a_hostile_button_value_or_response_url_records_nothing_r2d() {
    let (server, stand, base) = start().await;
    let id = plan(&server, "1.4.0").await;
    for value in [
        "shop-1.4.0".to_owned(),
        json!({"release": "../../etc/passwd", "approval": "scope"}).to_string(),
        json!({"release": id, "approval": "scope", "role": "cto"}).to_string(),
        json!({"release": id, "approval": "x".repeat(4000)}).to_string(),
    ] {
        let (code, _, _) = slack(&server, &click(&base, "approve", "U0PAUL", &value)).await;
        assert_eq!(code, 200);
        assert_ephemeral(&answer(&stand).await, "the button's value");
    }
    // A response_url on a host not listed is never called, and nothing is recorded.
    let mut elsewhere = click(&base, "approve", "U0PAUL", &scope_of(&id));
    elsewhere["response_url"] = json!("https://evil.example.com/hook");
    let (code, text, _) = slack(&server, &elsewhere).await;
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("response_hosts"), "{text}");
    assert_eq!(recorded(&server, &id).await, (vec![], vec![]));
}

#[tokio::test]
async fn the_reject_button_asks_why_in_a_dialog_and_records_the_rejection_with_the_reason_r2c() {
    let (server, stand, base) = start().await;
    let id = plan(&server, "1.4.0").await;
    let (code, body, _) = slack(&server, &click(&base, "reject", "U0PAUL", &scope_of(&id))).await;
    assert_eq!((code, body.as_str()), (200, ""));

    let opened = stand.wait_for("/api/views.open", 1).await;
    assert_eq!(opened.len(), 1, "{:?}", stand.all());
    let request = &opened[0];
    assert_eq!(request.authorization.as_deref(), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(request.body["trigger_id"], "12466734323.1395872398.2b3d2f2f2f");
    let view = &request.body["view"];
    assert_eq!((view["type"].as_str(), view["callback_id"].as_str()), (Some("modal"), Some("shipwarden_reject")));
    assert!(view["title"]["text"].as_str().is_some_and(|t| t.len() <= 24), "Slack's titles are at most 24 characters");
    let input = &view["blocks"][1];
    assert_eq!((input["type"].as_str(), input["element"]["type"].as_str()), (Some("input"), Some("plain_text_input")));
    let metadata = view["private_metadata"].as_str().expect("private_metadata").to_owned();
    assert!(metadata.len() <= 3000);
    stand.received.lock().expect("lock").clear();
    assert_eq!(recorded(&server, &id).await, (vec![], vec![]), "a click alone records nothing");

    let submission = |reason: &str| {
        json!({
            "type": "view_submission",
            "team": {"id": TEAM, "domain": "acme"},
            "user": {"id": "U0PAUL", "username": "paul", "team_id": TEAM},
            "api_app_id": "A0SHIPWARDEN",
            "trigger_id": "12466734323.1395872398.3c4e",
            "view": {
                "id": "V0REJECT",
                "type": "modal",
                "callback_id": "shipwarden_reject",
                "private_metadata": metadata,
                "state": {"values": {"reason": {"reason": {"type": "plain_text_input", "value": reason}}}},
            },
        })
    };
    // No reason: the dialog stays open with the error under the input.
    let (code, body, _) = slack(&server, &submission("   ")).await;
    assert_eq!(code, 200);
    let errors: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(errors["response_action"], "errors");
    assert!(errors["errors"]["reason"].as_str().is_some_and(|m| m.contains("R-2c")), "{errors}");
    assert_eq!(recorded(&server, &id).await, (vec![], vec![]));

    let (code, body, _) = slack(&server, &submission("SHOP-12 is not <b>ready</b>")).await;
    assert_eq!((code, body.as_str()), (200, ""), "an empty 200 closes the dialog");
    let outcome = answer(&stand).await;
    assert_eq!(outcome["replace_original"], true, "{outcome}");
    let text = outcome["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("*paul* rejected *scope*") && text.contains("SHOP-12 is not &lt;b&gt;ready&lt;/b&gt;"),
        "{text}"
    );

    let (approvals, rejections) = recorded(&server, &id).await;
    assert!(approvals.is_empty());
    assert_eq!(rejections.len(), 1, "{rejections:?}");
    let r = &rejections[0];
    assert_eq!(
        (r["user"].as_str(), r["channel"].as_str(), r["comment"].as_str()),
        (Some("paul"), Some("chat"), Some("SHOP-12 is not <b>ready</b>"))
    );
    assert_eq!(r["proof"]["team_id"], TEAM);
    assert_eq!(r["proof"]["message"], format!("{CHANNEL}/{MESSAGE_TS}"));
    let (_, bundle) = server.get("rita", &format!("/v1/releases/{id}/evidence/bundle")).await;
    assert!(bundle.to_string().contains("SHOP-12 is not"), "the bundle carries the rejection");

    // Rejecting again is refused, to paul alone.
    let (code, _, _) = slack(&server, &click(&base, "reject", "U0PAUL", &scope_of(&id))).await;
    assert_eq!(code, 200);
    stand.wait_for("/api/views.open", 1).await;
    slack(&server, &submission("still not ready")).await;
    assert_ephemeral(&answer(&stand).await, "refused by R-2d");
    assert_eq!(recorded(&server, &id).await.1.len(), 1);
}

#[tokio::test]
async fn slack_is_acknowledged_within_3_seconds_while_the_response_url_takes_5_r2c() {
    let (server, stand, base) = start().await;
    let id = plan(&server, "1.4.0").await;
    *stand.delay.lock().expect("lock") = Duration::from_secs(5);
    let (code, body, took) = slack(&server, &click(&base, "approve", "U0PAUL", &scope_of(&id))).await;
    assert_eq!((code, body.as_str()), (200, ""));
    assert!(took < Duration::from_secs(1), "acknowledged in {took:?}: Slack gives up after 3 s");
    // The approval is recorded while the answer is still on its way.
    let deadline = Instant::now() + Duration::from_secs(3);
    while recorded(&server, &id).await.0.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(recorded(&server, &id).await.0.len(), 1);
    assert!(stand.all().is_empty(), "the response_url is still sleeping");
    let answers = stand.wait_for("/response/", 1).await;
    assert_eq!(answers.len(), 1);
}

#[tokio::test]
async fn a_server_without_the_signing_secret_does_not_start_and_names_the_variable_r2a() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("shipwarden.toml");
    let text =
        config("https://slack.com/api").replace("SHIPWARDEN_TEST_SLACK_SECRET", "SHIPWARDEN_TEST_UNSET_SLACK_SECRET");
    std::fs::write(&path, text).expect("config");
    let Err(e) = AppState::open(&[&path]).await else { panic!("the server must not start without its secret") };
    let message = e.to_string();
    assert!(
        message.contains("SHIPWARDEN_TEST_UNSET_SLACK_SECRET") && message.contains("server.slack.signing_secret_env"),
        "{message}"
    );
    assert!(!message.contains(SECRET));
}

#[tokio::test]
async fn under_verified_trust_a_slack_click_counts_only_where_identity_accepts_chat_r2d() {
    let refusing = "\n[identity]\ntrust = \"verified\"\napprove = [\"ssh_signature\", \"oidc\"]\n";
    let (server, stand, base) = start_with(refusing).await;
    let id = plan(&server, "1.4.0").await;
    slack(&server, &click(&base, "approve", "U0PAUL", &scope_of(&id))).await;
    let refusal = answer(&stand).await;
    assert_ephemeral(&refusal, "refused by R-2d");
    assert!(refusal["text"].as_str().is_some_and(|t| t.contains("chat")), "{refusal}");
    assert_eq!(recorded(&server, &id).await, (vec![], vec![]));

    // The default under verified trust accepts chat for approvals.
    let (server, stand, base) = start_with("\n[identity]\ntrust = \"verified\"\n").await;
    let id = plan(&server, "1.4.0").await;
    slack(&server, &click(&base, "approve", "U0PAUL", &scope_of(&id))).await;
    assert_eq!(answer(&stand).await["replace_original"], true);
    assert_eq!(recorded(&server, &id).await.0.len(), 1);
}

#[tokio::test]
async fn a_reject_dialog_slack_will_not_open_is_explained_to_the_person_r2c() {
    let (server, stand, base) = start().await;
    let id = plan(&server, "1.4.0").await;
    *stand.views_error.lock().expect("lock") = Some("expired_trigger_id".into());
    let (code, _, _) = slack(&server, &click(&base, "reject", "U0PAUL", &scope_of(&id))).await;
    assert_eq!(code, 200);
    assert_ephemeral(&answer(&stand).await, "expired_trigger_id");
    assert_eq!(recorded(&server, &id).await, (vec![], vec![]));
}

#[tokio::test]
async fn the_request_shipwarden_posts_is_answered_by_a_click_on_its_own_button_r2b_r2c() {
    // The approvers are asked as the release enters a stage; the request goes to Slack with buttons.
    let asking = format!(
        "\n[policy.duties]\napproval_reminder = \"24h\"\napproval_expiry = \"168h\"\napproval_requests = true\n\
         [[notify.slack]]\nchannel = \"{CHANNEL}\"\ntoken_env = \"SHIPWARDEN_TEST_SLACK_TOKEN\"\napi = \"SLACK_API\"\n\
         console_url = \"https://releases.example.com\"\n"
    );
    let (server, stand, base) = start_with(&asking).await;
    let id = plan(&server, "1.4.0").await;
    let manager = &server.state.projects["shop"].manager;
    let done = manager.run_due(jiff::Timestamp::now()).await.expect("due duties");
    assert!(done.iter().any(|r| r.duty.kind == shipwarden::duties::DutyKind::ApprovalRequest), "{done:?}");
    let posted = stand.wait_for("/api/chat.postMessage", 1).await;
    let request = posted
        .iter()
        .find(|r| r.body["text"].as_str().is_some_and(|t| t.starts_with("Approval needed: `scope`")))
        .expect("the approval request was posted");
    assert_eq!(request.authorization.as_deref(), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(request.body["channel"], CHANNEL);
    let blocks = request.body["blocks"].as_array().expect("blocks");
    let actions = blocks.iter().find(|b| b["type"] == "actions").expect("buttons");
    let approve = actions["elements"]
        .as_array()
        .and_then(|e| e.iter().find(|b| b["action_id"] == "approve"))
        .expect("an Approve button");
    let value = approve["value"].as_str().expect("value").to_owned();
    stand.received.lock().expect("lock").clear();
    // paul clicks it in Slack: the approval is recorded with his chat proof, and the request is replaced.
    let (code, _, _) = slack(&server, &click(&base, "approve", "U0PAUL", &value)).await;
    assert_eq!(code, 200);
    assert_eq!(answer(&stand).await["replace_original"], true);
    let (approvals, _) = recorded(&server, &id).await;
    assert_eq!((approvals.len(), approvals[0]["channel"].as_str()), (1, Some("chat")));
    assert_eq!(approvals[0]["proof"]["kind"], "chat");
    // Asked once: the request is not posted again.
    manager.run_due(jiff::Timestamp::now()).await.expect("due duties");
    assert!(stand.all().iter().all(|r| r.path != "/api/chat.postMessage"), "asked once");
}
