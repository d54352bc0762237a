//! One-time approve and reject links from mailed approval requests (issue
//! #23, R-2b, R-2c, R-2d), against the real OpenID provider and a console
//! session, and for the whole loop the real SMTP server (aiosmtpd, started by
//! `scripts/test`): the duty mails each approver their own links, the link
//! from the mail is described without a change, confirmed with the session's
//! CSRF token, and recorded with channel `email` and the OIDC proof. Every
//! refusal (a second use, an expired link, another signed-in user, a release
//! that moved on, a bad signature) records nothing.

mod auth_common;

use std::path::PathBuf;
use std::sync::Arc;

use auth_common::{Browser, Served, api_token, console_toml, issuer, project};
use secrecy::SecretString;
use serde_json::{Value, json};
use shipwarden_adapters::config::{Loaded, SecretSource};
use shipwarden_adapters::links::{LinkClaims, LinkKey, VERSION, Verdict, new_id};
use shipwarden_server::state::{AppState, Project};

const KEY: &str = "a link key for the tests, 32 bytes or more";
const KEY_VAR: &str = "SHIPWARDEN_TEST_LINK_KEY";
const SLACK_SECRET: &str = "the Slack app's signing secret for the tests";
const SLACK_VAR: &str = "SHIPWARDEN_TEST_SLACK_SECRET";
const TEAM: &str = "T0SHOP";

fn key() -> LinkKey {
    LinkKey::new(&SecretString::from(KEY.to_owned())).expect("key")
}

/// The template's project with the console, approval links and `extra`;
/// paul and quinn have addresses.
fn config(dir: &std::path::Path, issuer: &str, extra: &str) -> PathBuf {
    let links = format!(
        "\n[approval_links]\nsecret_env = \"{KEY_VAR}\"\nconsole_url = \"https://releases.example.com/\"\n{extra}"
    );
    let path = project(dir, "shop", &(console_toml(issuer) + &links));
    let text = std::fs::read_to_string(&path)
        .expect("read")
        .replace("[users.paul]\n", "[users.paul]\nemail = \"paul@example.com\"\n")
        .replace("[users.quinn]\n", "[users.quinn]\nemail = \"quinn@example.com\"\nslack = \"U0QUINN\"\n");
    std::fs::write(&path, text).expect("write");
    // A commit, so the evidence bundle has a history to read.
    let ok = std::process::Command::new("git")
        .args(["commit", "-q", "--allow-empty", "-m", "SHOP-1: checkout"])
        .current_dir(path.parent().expect("folder"))
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .status()
        .expect("git");
    assert!(ok.success(), "git commit");
    path
}

/// `serve` over `config`, its secrets (the link key) from the test, not the environment.
async fn serve(config: &std::path::Path) -> (Served, Arc<AppState>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let source: SecretSource = Arc::new(|var: &str| match var {
        KEY_VAR => Some(KEY.to_owned()),
        SLACK_VAR => Some(SLACK_SECRET.to_owned()),
        _ => None,
    });
    let loaded = Loaded::read(config).expect("config").with_secrets(source).defer_secrets();
    let (manager, _) = loaded.manager(None).await.expect("manager");
    let links = loaded.approval_link_key().expect("the link key").map(Arc::new);
    let slack = loaded
        .config
        .server
        .slack
        .as_ref()
        .map(|c| Arc::new(shipwarden_server::slack::SlackApp::from_config(c, &loaded).expect("the Slack app")));
    let settings = loaded.config.server.clone();
    let mut state = AppState::new(vec![Project { name: "shop".into(), loaded, manager }], settings);
    state.links = links;
    state.slack = slack;
    let verifiers = shipwarden_server::auth::verifiers_from(&state).await.expect("verifiers");
    let mut state = verifiers.into_iter().fold(state, AppState::with_verifier);
    if let Some(oidc) = shipwarden_server::auth::OidcVerifier::from_settings(&state.settings).expect("oidc") {
        state = state.with_oidc(Arc::new(oidc));
    }
    let state = Arc::new(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(shipwarden_server::serve(listener, state.clone(), std::future::pending()));
    (Served { base, client: reqwest::Client::new() }, state)
}

/// A link for `user` to give `verdict` on `approval` of the release as its status says it is now.
fn link(status: &Value, user: &str, approval: &str, verdict: Verdict) -> LinkClaims {
    let stage = status["state"]["stage"].as_str().expect("stage").to_owned();
    let entered = status["state"]["entered_at"][&stage].as_str().expect("entered").parse().expect("time");
    LinkClaims {
        v: VERSION,
        release: "shop-1.4.0".into(),
        approval: approval.into(),
        user: user.into(),
        verdict,
        stage,
        entered,
        exp: jiff::Timestamp::now().as_second() + 3600,
        id: new_id().expect("id"),
    }
}

/// Approvals and rejections recorded.
async fn recorded(s: &Served, token: &str) -> (Vec<Value>, Vec<Value>) {
    let status = s.get("/v1/releases/shop-1.4.0", token).await;
    let list = |k: &str| status.body["state"][k].as_array().cloned().unwrap_or_default();
    (list("approvals"), list("rejections"))
}

/// A signed-in console user and their CSRF token.
async fn signed_in(s: &Served, user: &str) -> (Browser, String) {
    let mut browser = Browser::new();
    let callback = browser.sign_in(&s.base, "/console/", user).await;
    assert_eq!(callback.status().as_u16(), 303);
    let session = browser.call(&s.base, "GET", "/console/session", &[], Value::Null).await;
    let csrf = session.body["csrf"].as_str().expect("csrf").to_owned();
    (browser, csrf)
}

async fn confirm(b: &mut Browser, s: &Served, csrf: &str, token: &str, body: Value) -> auth_common::Answer {
    b.call(&s.base, "POST", &format!("/v1/links/{token}"), &[("x-csrf-token", csrf), ("origin", &s.base)], body).await
}

async fn plan(s: &Served, rita: &str) -> Value {
    let planned = s
        .post("/v1/projects/shop/releases", rita, json!({"version": "1.4.0", "kind": "minor", "tickets": ["SHOP-1"]}))
        .await;
    assert_eq!(planned.status, 201, "{}", planned.body);
    s.get("/v1/releases/shop-1.4.0", rita).await.body
}

fn detail(answer: &auth_common::Answer) -> String {
    answer.body["detail"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_link_is_described_without_a_change_then_confirmed_once_with_channel_email_and_the_oidc_proof_r2c() {
    let Some(issuer) = issuer() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = config(dir.path(), &issuer, "");
    let (s, _) = serve(&path).await;
    let rita = api_token(&path, "rita", &["write"], None).await;
    let status = plan(&s, &rita).await;
    let claims = link(&status, "quinn", "qa_signoff", Verdict::Approve);
    let token = key().sign(&claims);
    let (mut quinn, csrf) = signed_in(&s, "quinn").await;

    // Described: what it does, and that it can be used; nothing changes.
    let described = quinn.call(&s.base, "GET", &format!("/v1/links/{token}"), &[], Value::Null).await;
    assert_eq!(described.status, 200, "{}", described.body);
    assert_eq!(described.body["user"], "quinn");
    assert_eq!(described.body["approval"], "qa_signoff");
    assert_eq!(described.body["verdict"], "approve");
    assert_eq!(described.body["usable"], true, "{}", described.body);
    assert_eq!(recorded(&s, &rita).await, (vec![], vec![]), "a GET changes nothing");
    // Not signed in: nothing is described.
    let anonymous = s.call("GET", &format!("/v1/links/{token}"), None, Value::Null).await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);

    // Without the session's CSRF token: refused like every change.
    let no_csrf = quinn.call(&s.base, "POST", &format!("/v1/links/{token}"), &[], json!({})).await;
    assert_eq!(no_csrf.status, 403, "{}", no_csrf.body);
    assert_eq!(recorded(&s, &rita).await, (vec![], vec![]));

    let ok = confirm(&mut quinn, &s, &csrf, &token, json!({})).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let (approvals, _) = recorded(&s, &rita).await;
    assert_eq!(approvals.len(), 1, "{approvals:?}");
    assert_eq!(approvals[0]["user"], "quinn");
    assert_eq!(approvals[0]["approval"], "qa_signoff");
    assert_eq!(approvals[0]["channel"], "email");
    assert_eq!(approvals[0]["proof"], json!({"kind": "oidc", "issuer": issuer, "subject": "quinn"}));
    assert!(
        approvals[0]["comment"].as_str().is_some_and(|c| c.ends_with(&format!("(email link {})", claims.id))),
        "{}",
        approvals[0]
    );

    // A second use is refused, and described as used.
    let again = confirm(&mut quinn, &s, &csrf, &token, json!({})).await;
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(detail(&again).contains("R-2c") && detail(&again).contains("used already"), "{}", again.body);
    assert_eq!((again.body["code"].as_str(), again.body["rule"].as_str()), (Some("REFUSED"), Some("R-2c")));
    let described = quinn.call(&s.base, "GET", &format!("/v1/links/{token}"), &[], Value::Null).await;
    assert_eq!(described.body["usable"], false);
    assert_eq!(described.body["refusal"]["status"], 409, "{}", described.body);
    assert_eq!(recorded(&s, &rita).await.0.len(), 1);

    // The audit trail and the evidence bundle carry the approval with its proof.
    for path in ["/v1/releases/shop-1.4.0/history", "/v1/releases/shop-1.4.0/evidence/bundle"] {
        let answer = s.get(path, &rita).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        let text = answer.body.to_string();
        assert!(text.contains("\"channel\":\"email\""), "{path}: {text}");
        assert!(text.contains("\"kind\":\"oidc\"") && text.contains("\"subject\":\"quinn\""), "{path}: {text}");
    }
}

#[tokio::test]
async fn expired_foreign_moved_on_and_forged_links_are_refused_and_record_nothing_r2c_r2d() {
    let Some(issuer) = issuer() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = config(dir.path(), &issuer, "");
    let (s, _) = serve(&path).await;
    let rita = api_token(&path, "rita", &["write"], None).await;
    let status = plan(&s, &rita).await;
    let (mut quinn, csrf) = signed_in(&s, "quinn").await;

    let mut expired = link(&status, "quinn", "qa_signoff", Verdict::Approve);
    expired.exp = jiff::Timestamp::now().as_second() - 1;
    let answer = confirm(&mut quinn, &s, &csrf, &key().sign(&expired), json!({})).await;
    assert_eq!(answer.status, 410, "{}", answer.body);
    assert!(detail(&answer).contains("R-2c") && detail(&answer).contains("expired"), "{}", answer.body);

    // paul's link, opened by quinn.
    let pauls = key().sign(&link(&status, "paul", "scope", Verdict::Approve));
    let answer = confirm(&mut quinn, &s, &csrf, &pauls, json!({})).await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(detail(&answer).contains("R-2d") && detail(&answer).contains("mailed to paul"), "{}", answer.body);
    let described = quinn.call(&s.base, "GET", &format!("/v1/links/{pauls}"), &[], Value::Null).await;
    assert_eq!((described.status, &described.body["usable"]), (200, &json!(false)), "{}", described.body);

    // The release as the mail saw it: the same stage entered at another time, or another stage.
    let mut earlier = link(&status, "quinn", "qa_signoff", Verdict::Approve);
    earlier.entered -= jiff::SignedDuration::from_secs(60);
    let answer = confirm(&mut quinn, &s, &csrf, &key().sign(&earlier), json!({})).await;
    assert_eq!(answer.status, 409, "{}", answer.body);
    assert!(detail(&answer).contains("moved on"), "{}", answer.body);
    let mut elsewhere = link(&status, "quinn", "qa_signoff", Verdict::Approve);
    elsewhere.stage = "staging_deployed".into();
    let answer = confirm(&mut quinn, &s, &csrf, &key().sign(&elsewhere), json!({})).await;
    assert_eq!(answer.status, 409, "{}", answer.body);

    // Signed with another key, altered, or not a token at all.
    let other = LinkKey::new(&SecretString::from("another key, also 32 bytes or longer".to_owned())).expect("key");
    let forged = other.sign(&link(&status, "quinn", "qa_signoff", Verdict::Approve));
    let answer = confirm(&mut quinn, &s, &csrf, &forged, json!({})).await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(detail(&answer).contains("signature"), "{}", answer.body);
    let described = quinn.call(&s.base, "GET", &format!("/v1/links/{forged}"), &[], Value::Null).await;
    assert_eq!(described.status, 403, "{}", described.body);
    let good = key().sign(&link(&status, "quinn", "qa_signoff", Verdict::Approve));
    let (payload, tag) = good.split_once('.').expect("two parts");
    let flipped = format!("{payload}.{}{}", if tag.starts_with('A') { "B" } else { "A" }, &tag[1..]);
    assert_eq!(confirm(&mut quinn, &s, &csrf, &flipped, json!({})).await.status, 403);
    assert_eq!(confirm(&mut quinn, &s, &csrf, "not-a-token", json!({})).await.status, 400);
    assert_eq!(confirm(&mut quinn, &s, &csrf, &"A".repeat(5000), json!({})).await.status, 400);

    assert_eq!(recorded(&s, &rita).await, (vec![], vec![]), "no refusal recorded anything");
}

#[tokio::test]
async fn a_reject_link_needs_a_reason_and_records_the_rejection_with_channel_email_r2c() {
    let Some(issuer) = issuer() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = config(dir.path(), &issuer, "");
    let (s, _) = serve(&path).await;
    let rita = api_token(&path, "rita", &["write"], None).await;
    let status = plan(&s, &rita).await;
    let (mut quinn, csrf) = signed_in(&s, "quinn").await;
    let token = key().sign(&link(&status, "quinn", "qa_signoff", Verdict::Reject));
    let answer = confirm(&mut quinn, &s, &csrf, &token, json!({"reason": "  "})).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(detail(&answer).contains("R-2c"), "{}", answer.body);
    assert_eq!(recorded(&s, &rita).await, (vec![], vec![]));
    let answer = confirm(&mut quinn, &s, &csrf, &token, json!({"reason": "checkout fails on Safari"})).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let (_, rejections) = recorded(&s, &rita).await;
    assert_eq!(rejections.len(), 1);
    assert_eq!(rejections[0]["channel"], "email");
    assert!(rejections[0]["comment"].as_str().is_some_and(|c| c.starts_with("checkout fails on Safari (email link ")));
    assert_eq!(rejections[0]["proof"]["kind"], "oidc");
}

/// The SMTP section sending to the local aiosmtpd, and its Maildir; `None` without it.
fn local_smtp() -> Option<(String, PathBuf)> {
    let port = auth_common::server_env("SHIPWARDEN_TEST_SMTP_STARTTLS_PORT")?;
    let maildir = auth_common::server_env("SHIPWARDEN_TEST_SMTP_MAILDIR")?;
    let ca = auth_common::server_env("SHIPWARDEN_TEST_SMTP_CA")?;
    let toml = format!(
        "\n[policy.duties]\napproval_requests = true\n\n[[notify.smtp]]\nhost = \"localhost\"\nport = {port}\n\
         from = \"Releases <releases@example.com>\"\nca_file = \"{ca}\"\nto = {{ teams = [\"eng@example.com\"] }}\n"
    );
    Some((toml, maildir.into()))
}

/// The token of `user`'s Approve link in `mail`.
fn approve_token(mail: &str, user: &str) -> String {
    let marker = format!("Approve as {user}: https://releases.example.com/console/confirm?t=");
    mail.split(&marker)
        .nth(1)
        .unwrap_or_else(|| panic!("no approve link for {user} in {mail}"))
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect()
}

/// The token of `user`'s Approve link for `approval` of the release as `status` shows it,
/// from the mail aiosmtpd saved (quoted-printable soft line breaks joined): other tests
/// mail the same people about releases of the same name, so the link must match this one.
fn mailed_link(maildir: &std::path::Path, user: &str, approval: &str, status: &Value) -> Option<String> {
    let stage = status["state"]["stage"].as_str()?;
    let entered: jiff::Timestamp = status["state"]["entered_at"][stage].as_str()?.parse().ok()?;
    for entry in std::fs::read_dir(maildir.join("new")).ok()?.flatten() {
        let raw = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let text = raw.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
        if !text.lines().any(|l| l.eq_ignore_ascii_case(&format!("To: {user}@example.com"))) {
            continue;
        }
        if !text.contains(&format!("Approve as {user}: ")) {
            continue;
        }
        let token = approve_token(&text, user);
        if let Ok(c) = key().verify(&token)
            && c.approval == approval
            && c.stage == stage
            && c.entered == entered
        {
            return Some(token);
        }
    }
    None
}

#[tokio::test]
async fn the_mailed_request_carries_each_approvers_own_link_which_records_the_approval_r2b_r2c() {
    let Some(issuer) = issuer() else { return };
    let Some((smtp, maildir)) = local_smtp() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = config(dir.path(), &issuer, &smtp);
    let (s, state) = serve(&path).await;
    let rita = api_token(&path, "rita", &["write"], None).await;
    let status = plan(&s, &rita).await;
    let manager = &state.projects["shop"].manager;
    let done = manager.run_due(jiff::Timestamp::now()).await.expect("due duties");
    assert!(done.iter().any(|r| r.duty.kind == shipwarden::duties::DutyKind::ApprovalRequest), "{done:?}");

    // paul (product_owner, the `scope` approval) has his own mail with his own links.
    let token = mailed_link(&maildir, "paul", "scope", &status).expect("paul's mail with his links");
    let claims = key().verify(&token).expect("a link shipwarden signed");
    assert_eq!((claims.user.as_str(), claims.approval.as_str(), claims.verdict), ("paul", "scope", Verdict::Approve));

    let (mut paul, csrf) = signed_in(&s, "paul").await;
    let described = paul.call(&s.base, "GET", &format!("/v1/links/{token}"), &[], Value::Null).await;
    assert_eq!(described.body["usable"], true, "{}", described.body);
    let ok = confirm(&mut paul, &s, &csrf, &token, json!({})).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let (approvals, _) = recorded(&s, &rita).await;
    assert_eq!(approvals.len(), 1, "{approvals:?}");
    assert_eq!((approvals[0]["user"].as_str(), approvals[0]["channel"].as_str()), (Some("paul"), Some("email")));
    assert_eq!(approvals[0]["proof"], json!({"kind": "oidc", "issuer": issuer, "subject": "paul"}));
}

/// `v0=` HMAC-SHA256 of `v0:{timestamp}:{body}`, as Slack signs a request.
fn slack_signature(timestamp: &str, body: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SLACK_SECRET.as_bytes());
    let tag = ring::hmac::sign(&key, format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", tag.as_ref().iter().map(|b| format!("{b:02x}")).collect::<String>())
}

#[tokio::test]
async fn one_release_approved_through_slack_by_one_person_and_an_email_link_by_another_both_proofs_in_the_audit_and_bundle()
 {
    let Some(issuer) = issuer() else { return };
    let Some((smtp, maildir)) = local_smtp() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let slack = format!(
        "\n[server.slack]\nsigning_secret_env = \"{SLACK_VAR}\"\nteam = \"{TEAM}\"\nresponse_hosts = [\"127.0.0.1\"]\n"
    );
    let path = config(dir.path(), &issuer, &(smtp + &slack));
    let (s, state) = serve(&path).await;
    let rita = api_token(&path, "rita", &["write"], None).await;
    let status = plan(&s, &rita).await;
    state.projects["shop"].manager.run_due(jiff::Timestamp::now()).await.expect("due duties");

    // quinn clicks Approve on the QA sign-off in Slack (a request Slack signs).
    let click = json!({
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": "U0QUINN"},
        "response_url": "http://127.0.0.1:9/response/1",
        "trigger_id": "1.2.3",
        "container": {"type": "message", "message_ts": "1712345678.000100", "channel_id": "C0RELEASES"},
        "channel": {"id": "C0RELEASES"},
        "actions": [{"action_id": "approve", "value": json!({"release": "shop-1.4.0", "approval": "qa_signoff"}).to_string()}],
    });
    let body = form_urlencoded::Serializer::new(String::new()).append_pair("payload", &click.to_string()).finish();
    let ts = jiff::Timestamp::now().as_second().to_string();
    let answer = s
        .client
        .post(format!("{}/slack/interactivity", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", &ts)
        .header("x-slack-signature", slack_signature(&ts, &body))
        .body(body)
        .send()
        .await
        .expect("send");
    assert_eq!(answer.status().as_u16(), 200);
    // The engine records the click after the acknowledgement.
    let mut approvals = Vec::new();
    for _ in 0..100 {
        approvals = recorded(&s, &rita).await.0;
        if !approvals.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(approvals.len(), 1, "quinn's Slack approval: {approvals:?}");

    // paul follows the Approve link of the mail asking him for the scope.
    let token = mailed_link(&maildir, "paul", "scope", &status).expect("paul's mail with his links");
    let (mut paul, csrf) = signed_in(&s, "paul").await;
    let ok = confirm(&mut paul, &s, &csrf, &token, json!({})).await;
    assert_eq!(ok.status, 200, "{}", ok.body);

    let (approvals, _) = recorded(&s, &rita).await;
    let by = |user: &str| approvals.iter().find(|a| a["user"] == user).cloned().expect("an approval");
    assert_eq!((by("quinn")["channel"].as_str(), by("quinn")["proof"]["kind"].as_str()), (Some("chat"), Some("chat")));
    assert_eq!(by("quinn")["proof"]["user_id"], "U0QUINN");
    assert_eq!(by("paul")["channel"], "email");
    assert_eq!(by("paul")["proof"], json!({"kind": "oidc", "issuer": issuer, "subject": "paul"}));
    for path in ["/v1/releases/shop-1.4.0/history", "/v1/releases/shop-1.4.0/evidence/bundle"] {
        let answer = s.get(path, &rita).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        let text = answer.body.to_string();
        for needle in
            ["\"channel\":\"chat\"", "\"user_id\":\"U0QUINN\"", "\"channel\":\"email\"", "\"subject\":\"paul\""]
        {
            assert!(text.contains(needle), "{path} carries {needle}: {text}");
        }
    }
}
