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
        .replace("[users.quinn]\n", "[users.quinn]\nemail = \"quinn@example.com\"\n");
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
    let source: SecretSource = Arc::new(|var: &str| (var == KEY_VAR).then(|| KEY.to_owned()));
    let loaded = Loaded::read(config).expect("config").with_secrets(source).defer_secrets();
    let (manager, _) = loaded.manager(None).await.expect("manager");
    let links = loaded.approval_link_key().expect("the link key").map(Arc::new);
    let settings = loaded.config.server.clone();
    let mut state = AppState::new(vec![Project { name: "shop".into(), loaded, manager }], settings);
    state.links = links;
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

/// The mail aiosmtpd saved for `to` whose Message-ID contains `key`, as text with
/// quoted-printable soft line breaks joined.
fn mail_to(maildir: &std::path::Path, to: &str, key: &str) -> Option<String> {
    for entry in std::fs::read_dir(maildir.join("new")).ok()?.flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let to_header = text.lines().any(|l| l.eq_ignore_ascii_case(&format!("To: {to}")));
        if to_header && text.contains(key) {
            return Some(text.replace("=\r\n", "").replace("=\n", "").replace("=3D", "="));
        }
    }
    None
}

#[tokio::test]
async fn the_mailed_request_carries_each_approvers_own_link_which_records_the_approval_r2b_r2c() {
    let Some(issuer) = issuer() else { return };
    let (Some(port), Some(maildir), Some(ca)) = (
        auth_common::server_env("SHIPWARDEN_TEST_SMTP_STARTTLS_PORT"),
        auth_common::server_env("SHIPWARDEN_TEST_SMTP_MAILDIR"),
        auth_common::server_env("SHIPWARDEN_TEST_SMTP_CA"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let smtp = format!(
        "\n[policy.duties]\napproval_requests = true\n\n[[notify.smtp]]\nhost = \"localhost\"\nport = {port}\n\
         from = \"Releases <releases@example.com>\"\nca_file = \"{ca}\"\nto = {{ teams = [\"eng@example.com\"] }}\n"
    );
    let path = config(dir.path(), &issuer, &smtp);
    let (s, state) = serve(&path).await;
    let rita = api_token(&path, "rita", &["write"], None).await;
    plan(&s, &rita).await;
    let manager = &state.projects["shop"].manager;
    let done = manager.run_due(jiff::Timestamp::now()).await.expect("due duties");
    assert!(done.iter().any(|r| r.duty.kind == shipwarden::duties::DutyKind::ApprovalRequest), "{done:?}");

    // paul (product_owner, the `scope` approval) has his own mail with his own links.
    let mail =
        mail_to(std::path::Path::new(&maildir), "paul@example.com", "shop-1.4.0").expect("paul's mail with his links");
    assert!(mail.contains("Approve as paul: https://releases.example.com/console/confirm?t="), "{mail}");
    let token: String = mail
        .split("Approve as paul: https://releases.example.com/console/confirm?t=")
        .nth(1)
        .expect("the approve link")
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
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
