//! The webhook notifier against a local receiver: the request it sends
//! (method, headers, JSON body, HMAC-SHA256 signature the receiver can check)
//! and how each failure says whether a retry can help (R-9a).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::http::{Seen, server};
use hmac::{Hmac, Mac};
use secrecy::SecretString;
use sha2::Sha256;
use shipwarden::ports::{Audience, ErrorKind, Notice, Notifier};
use shipwarden_adapters::notify::webhook::WebhookNotifier;

const SECRET: &str = "whsec-very-secret";

fn notice() -> Notice {
    Notice {
        key: "notify:released#1".into(),
        release: "shop-1.4.1".parse().expect("id"),
        subject: "Hotfix shop 1.4.1 released".into(),
        body: "SHOP-99 HOTFIX: payments fail — customers cannot pay".into(),
        audience: vec![Audience::Teams, Audience::Stakeholders],
        ask: None,
    }
}

fn secret() -> Option<SecretString> {
    Some(SecretString::from(SECRET.to_owned()))
}

#[tokio::test]
async fn a_notice_is_posted_as_signed_json_that_the_receiver_can_verify_r9a() {
    let (base, seen) = server(Arc::new(|_: &Seen| (204, String::new(), vec![]))).await;
    let hook = WebhookNotifier::new(format!("{base}/hooks/releases"), secret(), Duration::from_secs(5)).expect("hook");

    hook.send(&notice()).await.expect("sent");

    let seen = seen.lock().expect("lock").clone();
    let [request] = seen.as_slice() else { panic!("one request, got {seen:?}") };
    assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/hooks/releases"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("x-shipwarden-event"), Some("notice"));
    assert_eq!(request.header("x-shipwarden-delivery"), Some("notify:released#1"));
    let body: serde_json::Value = serde_json::from_str(&request.body).expect("json");
    assert_eq!(body["release"], "shop-1.4.1");
    assert_eq!(body["subject"], "Hotfix shop 1.4.1 released");
    assert_eq!(body["audience"], serde_json::json!(["teams", "stakeholders"]));
    // What a receiver does: HMAC the raw body with the shared secret and compare.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(request.body.as_bytes());
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(request.header("x-shipwarden-signature"), Some(format!("sha256={expected}").as_str()));
}

#[tokio::test]
async fn without_a_secret_nothing_is_signed() {
    let (base, seen) = server(Arc::new(|_: &Seen| (200, "{}".into(), vec![]))).await;
    let hook = WebhookNotifier::new(base, None, Duration::from_secs(5)).expect("hook");
    hook.send(&notice()).await.expect("sent");
    assert_eq!(seen.lock().expect("lock")[0].header("x-shipwarden-signature"), None);
}

#[tokio::test]
async fn failures_say_whether_a_retry_can_help_and_never_show_the_secret() {
    // status, extra headers, then the error expected: kind, retryable, retry-after.
    type Case = (u16, Vec<(String, String)>, ErrorKind, bool, Option<Duration>);
    let cases: [Case; 5] = [
        (503, vec![], ErrorKind::Unavailable, true, None),
        (429, vec![("Retry-After".into(), "7".into())], ErrorKind::RateLimited, true, Some(Duration::from_secs(7))),
        // The receiver found the payload bad: invalid data, as every REST adapter reads a 400.
        (400, vec![], ErrorKind::Invalid, false, None),
        (401, vec![], ErrorKind::Rejected, false, None),
        (404, vec![], ErrorKind::NotFound, false, None),
    ];
    for (status, headers, kind, retryable, retry_after) in cases {
        let (base, _) = server(Arc::new(move |_: &Seen| (status, "{}".into(), headers.clone()))).await;
        let hook = WebhookNotifier::new(&base, secret(), Duration::from_secs(5)).expect("hook");
        let error = hook.send(&notice()).await.expect_err("refused");
        assert_eq!((error.kind, error.retryable, error.retry_after), (kind, retryable, retry_after), "{status}");
        assert_eq!(error.operation, "send");
        assert!(error.port.starts_with("webhook http://127.0.0.1:"), "{}", error.port);
        assert!(error.to_string().contains(&status.to_string()), "{error}");
        assert!(!format!("{error} {error:?} {hook:?}").contains(SECRET));
    }

    // Nobody listening: retryable.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let hook = WebhookNotifier::new(closed, secret(), Duration::from_secs(5)).expect("hook");
    let error = hook.send(&notice()).await.expect_err("down");
    assert!(error.retryable && error.kind == ErrorKind::Unavailable, "{error}");

    // Credentials belong in the secret, not the URL.
    let error =
        WebhookNotifier::new("https://user:pw@hooks.example.com/x", None, Duration::from_secs(5)).expect_err("refused");
    assert_eq!(error.kind, ErrorKind::Invalid);
    assert!(!error.to_string().contains("pw@"));
}
