//! Key-feature checks as HTTP steps (R-8f), and dependency versions read
//! over HTTP (R-7f), against a local server speaking JSON.

mod common;

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use shipwarden::ports::{DependencyProbe, ErrorKind, Probe};
use shipwarden::{EnvName, GateId};
use shipwarden_adapters::probes::dependencies::HttpDependencies;
use shipwarden_adapters::probes::smoke::{Expect, HttpSmoke, SmokeStep};

fn prod() -> EnvName {
    "prod".parse().expect("env")
}

/// An API with a login: `POST /login` with the right password gives a token; `/orders` wants it.
async fn shop() -> (String, Arc<std::sync::Mutex<Vec<common::http::Seen>>>) {
    common::http::server(Arc::new(|req: &common::http::Seen| match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/login") if req.body.contains("\"password\":\"hunter2\"") => {
            (200, r#"{"token": "t0k3n", "user": {"id": 7}}"#.into(), vec![])
        }
        ("POST", "/login") => (401, r#"{"error": "bad password"}"#.into(), vec![]),
        ("GET", "/orders") if req.header("authorization") == Some("Bearer t0k3n") => {
            (200, r#"{"items": [{"id": 1, "status": "paid"}], "count": 1}"#.into(), vec![])
        }
        ("GET", "/orders") => (401, "{}".into(), vec![]),
        ("GET", "/slow") => {
            std::thread::sleep(Duration::from_millis(300));
            (200, "{}".into(), vec![])
        }
        ("GET", "/versions") => (200, r#"{"payments": "2.4.1", "search": 8}"#.into(), vec![]),
        _ => (404, "{}".into(), vec![]),
    }))
    .await
}

fn steps(base: &str) -> Vec<SmokeStep> {
    let mut login = SmokeStep::get("login", &format!("{base}/login"));
    login.method = "POST".into();
    login.body = Some(r#"{"user": "smoke", "password":"${password}"}"#.into());
    login.expect = vec![("$.user.id".into(), Expect::Equals(serde_json::json!(7)))];
    login.capture = vec![("token".into(), "$.token".into())];
    let mut orders = SmokeStep::get("orders", &format!("{base}/orders"));
    orders.headers = vec![("authorization".into(), "Bearer ${token}".into())];
    orders.expect = vec![
        ("$.items[0].status".into(), Expect::Equals(serde_json::json!("paid"))),
        ("/count".into(), Expect::Exists),
    ];
    orders.max_latency = Some(Duration::from_secs(5));
    vec![login, orders]
}

#[tokio::test]
async fn a_login_token_feeds_the_next_steps_and_each_latency_is_evidence_r8f() {
    let (base, seen) = shop().await;
    let smoke = HttpSmoke::new("shop", steps(&base)).secret("password", SecretString::from("hunter2"));
    let measured = smoke.check(&prod()).await.expect("smoke passes");
    let targets: Vec<Option<&str>> = measured.iter().map(|m| m.target.as_deref()).collect();
    assert_eq!(targets, [Some("login"), Some("orders")]);
    assert!(measured.iter().all(|m| m.gate == GateId::ResponseTime && m.value > 0.0 && m.value < 5000.0));
    assert!(
        measured[1].source.starts_with(&format!("shop: GET {base}/orders answered 200 in ")),
        "{}",
        measured[1].source
    );
    let seen = seen.lock().expect("lock");
    assert_eq!(seen[1].header("authorization"), Some("Bearer t0k3n"));
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    // Neither the password nor the token reaches evidence.
    assert!(measured.iter().all(|m| !m.source.contains("hunter2") && !m.source.contains("t0k3n")));
}

#[tokio::test]
async fn a_wrong_answer_fails_the_smoke_test_naming_the_step_and_value_r8f() {
    let (base, _) = shop().await;
    let smoke = HttpSmoke::new("shop", steps(&base)).secret("password", SecretString::from("wrong"));
    let e = smoke.check(&prod()).await.expect_err("login refused");
    assert_eq!(e.kind, ErrorKind::Rejected);
    assert!(e.to_string().contains("step `login`") && e.message.contains("answered 401, expected 200"), "{e}");
    assert!(!e.to_string().contains("wrong"), "the secret stays out of errors: {e}");

    let mut s = steps(&base);
    s[1].expect = vec![("$.items[0].status".into(), Expect::Equals(serde_json::json!("shipped")))];
    let smoke = HttpSmoke::new("shop", s).secret("password", SecretString::from("hunter2"));
    let e = smoke.check(&prod()).await.expect_err("assertion");
    assert!(e.message.contains("$.items[0].status is \"paid\", expected \"shipped\""), "{e}");

    let mut slow = SmokeStep::get("slow", &format!("{base}/slow"));
    slow.max_latency = Some(Duration::from_millis(100));
    let e = HttpSmoke::new("shop", vec![slow.clone()]).check(&prod()).await.expect_err("slow");
    assert!(e.message.contains("over its limit of 100 ms"), "{e}");
    slow.max_latency = None;
    let e = HttpSmoke::new("shop", vec![slow; 3]).deadline(Duration::from_millis(500)).check(&prod()).await;
    let e = e.expect_err("deadline");
    assert_eq!(e.kind, ErrorKind::Timeout);
    assert!(e.message.contains("did not finish within"), "{e}");
}

#[tokio::test]
async fn dependency_versions_are_read_from_an_endpoint_r7f() {
    let (base, seen) = shop().await;
    let probe = HttpDependencies::new(&format!("{base}/versions")).with_token(SecretString::from("dep-token"));
    let versions = probe.versions(&prod()).await.expect("versions");
    assert_eq!(versions.get("payments").map(String::as_str), Some("2.4.1"));
    assert_eq!(versions.get("search").map(String::as_str), Some("8"));
    assert_eq!(seen.lock().expect("lock")[0].header("authorization"), Some("Bearer dep-token"));
    assert!(!format!("{probe:?}").contains("dep-token"));
    let picked = HttpDependencies::new(&format!("{base}/versions")).pointer("payments", "/payments");
    assert_eq!(picked.versions(&prod()).await.expect("picked").len(), 1);
    let e = HttpDependencies::new(&format!("{base}/nowhere")).versions(&prod()).await.expect_err("404");
    assert!(e.message.contains("answered 404"), "{e}");
}
