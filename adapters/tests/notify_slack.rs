//! Contract tests of the Slack notifier: a local server checks each request
//! against Slack's documented shapes and answers as Slack documents,
//! errors included (R-9a).
//!
//! - Incoming webhooks: <https://api.slack.com/messaging/webhooks> (JSON
//!   `POST`, `200 ok`; errors as a status and a text like `invalid_payload`:
//!   <https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks>).
//! - `chat.postMessage`: <https://api.slack.com/methods/chat.postMessage>
//!   (`Authorization: Bearer`, JSON body with `channel`, `text`, `blocks`,
//!   `metadata`; `200 {"ok": true, "channel", "ts", "message"}` or `200
//!   {"ok": false, "error"}`; 429 with `Retry-After`:
//!   <https://api.slack.com/apis/rate-limits>).
//! - Block Kit: <https://api.slack.com/reference/block-kit/blocks> (header
//!   plain_text ≤ 150 characters, section mrkdwn ≤ 3000).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::http::{Seen, server};
use secrecy::SecretString;
use shipwarden::ports::{Audience, ErrorKind, Notice, Notifier};
use shipwarden_adapters::notify::slack::SlackNotifier;

const TOKEN: &str = "xoxb-1234-test-token";

/// A hotfix notice as the engine writes it.
fn hotfix() -> Notice {
    Notice {
        key: "shop-1.4.1:notify:released".into(),
        release: "shop-1.4.1".parse().expect("id"),
        subject: "Hotfix released: shop 1.4.1 (SHOP-99)".into(),
        body: "Hotfix 1.4.1 of shop for SHOP-99: HOTFIX: card payments fail\nJustification: checkout down for EU cards <all>\n\n## Fixes\n- payments (SHOP-99)".into(),
        audience: vec![Audience::Teams, Audience::Stakeholders],
        ask: None,
    }
}

fn json(seen: &Seen) -> serde_json::Value {
    serde_json::from_str(&seen.body).expect("the body is JSON")
}

/// Checks the Block Kit shape Slack documents; returns the message's whole text.
fn check_blocks(body: &serde_json::Value) -> String {
    assert_eq!(body["text"], "Hotfix released: shop 1.4.1 (SHOP-99)", "the notification fallback");
    let blocks = body["blocks"].as_array().expect("blocks");
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[0]["text"]["type"], "plain_text");
    assert!(blocks[0]["text"]["text"].as_str().expect("header").chars().count() <= 150);
    let mut text = String::new();
    for block in &blocks[1..blocks.len() - 1] {
        assert_eq!(block["type"], "section");
        assert_eq!(block["text"]["type"], "mrkdwn");
        let piece = block["text"]["text"].as_str().expect("mrkdwn");
        assert!(piece.chars().count() <= 3000);
        text.push_str(piece);
    }
    let context = &blocks[blocks.len() - 1];
    assert_eq!(context["type"], "context");
    assert!(context["elements"][0]["text"].as_str().expect("context").contains("shop-1.4.1"));
    text
}

#[tokio::test]
async fn a_hotfix_notice_through_an_incoming_webhook_names_version_ticket_and_justification_r9a() {
    let (base, seen) = server(Arc::new(|_: &Seen| (200, "ok".into(), vec![]))).await;
    let url = SecretString::from(format!("{base}/services/T000/B000/XXXXSECRETXXXX"));
    SlackNotifier::webhook(url, Duration::from_secs(5)).expect("slack").send(&hotfix()).await.expect("sent");
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("POST", "/services/T000/B000/XXXXSECRETXXXX"));
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    let text = check_blocks(&json(&seen[0]));
    for part in ["1.4.1", "SHOP-99", "Justification: checkout down for EU cards"] {
        assert!(text.contains(part), "{part} not in {text}");
    }
    assert!(text.contains("&lt;all&gt;"), "mrkdwn escapes <, > and &: {text}");
}

#[tokio::test]
async fn chat_post_message_sends_the_token_channel_blocks_and_metadata() {
    let (base, seen) = server(Arc::new(|_: &Seen| {
        (200, r#"{"ok":true,"channel":"C0123","ts":"1700000000.000100","message":{"text":"x"}}"#.into(), vec![])
    }))
    .await;
    let slack = SlackNotifier::api(&base, SecretString::from(TOKEN.to_owned()), "C0123", Duration::from_secs(5))
        .expect("slack");
    slack.send(&hotfix()).await.expect("sent");
    let seen = seen.lock().expect("lock").clone();
    assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("POST", "/chat.postMessage"));
    assert_eq!(seen[0].header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(seen[0].header("content-type"), Some("application/json; charset=utf-8"));
    let body = json(&seen[0]);
    assert_eq!(body["channel"], "C0123");
    check_blocks(&body);
    assert_eq!(body["metadata"]["event_type"], "shipwarden_notice");
    assert_eq!(body["metadata"]["event_payload"]["key"], "shop-1.4.1:notify:released");
}

#[tokio::test]
async fn slack_errors_say_whether_a_retry_can_help_and_never_show_the_token() {
    let reply = |status: u16, body: &'static str, headers: Vec<(String, String)>| {
        Arc::new(move |_: &Seen| (status, body.to_owned(), headers.clone()))
    };
    let cases: Vec<(common::http::Route, ErrorKind, bool)> = vec![
        (reply(200, r#"{"ok":false,"error":"channel_not_found"}"#, vec![]), ErrorKind::NotFound, false),
        (reply(200, r#"{"ok":false,"error":"invalid_auth"}"#, vec![]), ErrorKind::Rejected, false),
        (reply(200, r#"{"ok":false,"error":"internal_error"}"#, vec![]), ErrorKind::Unavailable, true),
        (
            reply(429, r#"{"ok":false,"error":"ratelimited"}"#, vec![("Retry-After".into(), "7".into())]),
            ErrorKind::RateLimited,
            true,
        ),
        (reply(503, "", vec![]), ErrorKind::Unavailable, true),
    ];
    for (route, kind, retryable) in cases {
        let (base, _) = server(route).await;
        let slack = SlackNotifier::api(&base, SecretString::from(TOKEN.to_owned()), "C0123", Duration::from_secs(5))
            .expect("slack");
        let err = slack.send(&hotfix()).await.expect_err("fails");
        assert_eq!((err.kind, err.retryable), (kind, retryable), "{err}");
        assert!(err.to_string().starts_with("slack C0123 send: "), "{err}");
        assert!(!format!("{err} {err:?} {slack:?}").contains(TOKEN));
        if kind == ErrorKind::RateLimited {
            assert_eq!(err.retry_after, Some(Duration::from_secs(7)));
        }
    }
    // Webhook errors come as a status and a text; the URL (a credential) is never shown.
    for (status, text, retryable) in [(404, "no_service", false), (400, "invalid_payload", false), (500, "", true)] {
        let (base, _) = server(Arc::new(move |_: &Seen| (status, text.to_owned(), vec![]))).await;
        let url = format!("{base}/services/T000/B000/XXXXSECRETXXXX");
        let slack = SlackNotifier::webhook(SecretString::from(url), Duration::from_secs(5)).expect("slack");
        let err = slack.send(&hotfix()).await.expect_err("fails");
        assert_eq!(err.retryable, retryable, "{err}");
        assert!(err.to_string().contains(&format!("Slack answered {status}")), "{err}");
        assert!(!format!("{err} {err:?} {slack:?}").contains("XXXXSECRETXXXX"));
    }
    // Nothing listening: retryable, and still no URL.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/services/T/B/XXXXSECRETXXXX", listener.local_addr().expect("addr"));
    drop(listener);
    let err = SlackNotifier::webhook(SecretString::from(url), Duration::from_secs(5))
        .expect("slack")
        .send(&hotfix())
        .await
        .expect_err("down");
    assert!(err.retryable && !format!("{err:?}").contains("XXXXSECRETXXXX"), "{err:?}");
}

#[tokio::test]
async fn a_channel_for_some_audiences_ignores_the_others() {
    let (base, seen) = server(Arc::new(|_: &Seen| (200, r#"{"ok":true}"#.into(), vec![]))).await;
    let slack = SlackNotifier::api(&base, SecretString::from(TOKEN.to_owned()), "#clients", Duration::from_secs(5))
        .expect("slack")
        .for_audiences(vec!["clients".into()]);
    slack.send(&hotfix()).await.expect("not for this channel");
    assert!(seen.lock().expect("lock").is_empty());
}

/// A request for the QA sign-off, as the engine's duty writes it (issue #23).
fn qa_request() -> Notice {
    let ask = shipwarden::ports::ApprovalAsk {
        approval: shipwarden::ApprovalId::QaSignoff,
        roles: vec![shipwarden::Role::QaLead],
        needed: 1,
        have: 0,
        stage: shipwarden::Stage::StagingDeployed,
        entered: None,
        project: "shop".into(),
        version: "1.4.0".into(),
        kind: shipwarden::ReleaseKind::Minor,
        tickets: vec!["SHOP-12".into(), "SHOP-14".into()],
        gates: vec![
            "coverage: 92 % (passed, required ≥ 80 %)".into(),
            "p95_latency [staging]: 420 ms (failed, required ≤ 300 ms)".into(),
        ],
        missing: vec!["staging_deployed → qa_verified: R-2b: approval `qa_signoff` needs 1 from qa_lead; has 0".into()],
    };
    Notice {
        key: "shop-1.4.0:duty:approval-request:qa_signoff#1".into(),
        release: "shop-1.4.0".parse().expect("id"),
        subject: "Approval needed: `qa_signoff` of shop 1.4.0".into(),
        body: "shop 1.4.0 waits in staging_deployed for the `qa_signoff` approval (0 of 1 from qa_lead).".into(),
        audience: vec![Audience::Teams],
        ask: Some(ask),
    }
}

#[tokio::test]
async fn an_approval_request_has_the_release_its_gates_what_is_missing_and_approve_reject_buttons_r2b() {
    let (base, seen) =
        server(Arc::new(|_: &Seen| (200, r#"{"ok":true,"channel":"C0123","ts":"1.2"}"#.into(), vec![]))).await;
    let slack = SlackNotifier::api(&base, SecretString::from(TOKEN.to_owned()), "C0123", Duration::from_secs(5))
        .expect("slack")
        .with_console("https://releases.example.com/");
    slack.send(&qa_request()).await.expect("sent");
    let seen = seen.lock().expect("lock").clone();
    let body = json(&seen[0]);
    assert_eq!(body["text"], "Approval needed: `qa_signoff` of shop 1.4.0", "the notification fallback");
    let blocks = body["blocks"].as_array().expect("blocks");
    // Section fields: at most 10, each at most 2000 characters (Block Kit's section block).
    let fields = blocks.iter().find_map(|b| b["fields"].as_array()).expect("a section with fields");
    assert!(fields.len() <= 10);
    let text: String = fields.iter().map(|f| f["text"].as_str().expect("mrkdwn").to_owned()).collect();
    for part in
        ["shop-1.4.0", "staging_deployed", "1.4.0", "minor", "SHOP-12, SHOP-14", "`qa_signoff` from qa_lead", "0 of 1"]
    {
        assert!(text.contains(part), "{part} not in {text}");
    }
    let sections: String = blocks.iter().filter_map(|b| b["text"]["text"].as_str()).collect();
    assert!(sections.contains("p95_latency [staging]: 420 ms (failed"), "{sections}");
    assert!(sections.contains("Still missing") && sections.contains("R-2b"), "{sections}");
    // The actions block: Approve (primary) and Reject (danger) carry the release and the approval; a link to the console.
    let actions = blocks.iter().find(|b| b["type"] == "actions").expect("an actions block");
    let buttons = actions["elements"].as_array().expect("elements");
    assert!(buttons.len() <= 25);
    let by_action = |id: &str| buttons.iter().find(|b| b["action_id"] == id).expect("button").clone();
    let (approve, reject, console) = (by_action("approve"), by_action("reject"), by_action("open_console"));
    assert_eq!((approve["type"].as_str(), approve["style"].as_str()), (Some("button"), Some("primary")));
    assert_eq!(reject["style"], "danger");
    for b in [&approve, &reject, &console] {
        assert_eq!(b["text"]["type"], "plain_text");
        assert!(b["text"]["text"].as_str().expect("label").chars().count() <= 75);
        assert!(b["action_id"].as_str().expect("id").len() <= 255);
    }
    let value: serde_json::Value = serde_json::from_str(approve["value"].as_str().expect("value")).expect("JSON");
    assert_eq!(value, serde_json::json!({"release": "shop-1.4.0", "approval": "qa_signoff"}));
    assert_eq!(approve["value"], reject["value"]);
    assert!(approve["value"].as_str().expect("value").len() <= 2000);
    assert_eq!(console["url"], "https://releases.example.com/console/releases/shop-1.4.0");
    assert!(console.get("value").is_none(), "a link button needs no value");
}

#[tokio::test]
async fn approval_requests_go_by_direct_message_to_each_approver_when_asked_to_r2b() {
    let (base, seen) =
        server(Arc::new(|_: &Seen| (200, r#"{"ok":true,"channel":"D1","ts":"1.2"}"#.into(), vec![]))).await;
    let people = vec![
        (vec![shipwarden::Role::QaLead], "U0QUINN".to_owned()),
        (vec![shipwarden::Role::QaLead, shipwarden::Role::Cto], "U0CASEY".to_owned()),
        (vec![shipwarden::Role::ProductOwner], "U0PAUL".to_owned()),
    ];
    let slack = SlackNotifier::api(&base, SecretString::from(TOKEN.to_owned()), "C0123", Duration::from_secs(5))
        .expect("slack")
        .direct_to(people);
    slack.send(&qa_request()).await.expect("sent");
    slack.send(&hotfix()).await.expect("sent");
    let seen = seen.lock().expect("lock").clone();
    let channels: Vec<String> =
        seen.iter().map(|s| json(s)["channel"].as_str().unwrap_or_default().to_owned()).collect();
    // Each QA lead privately (a user id as `channel` is the app's direct message); other notices to the channel.
    assert_eq!(channels, ["U0QUINN", "U0CASEY", "C0123"]);
    assert!(json(&seen[0])["blocks"].as_array().expect("blocks").iter().any(|b| b["type"] == "actions"));

    // No approver with a Slack id: the channel is asked, so the request is not lost.
    let (base, seen) = server(Arc::new(|_: &Seen| (200, r#"{"ok":true}"#.into(), vec![]))).await;
    let slack = SlackNotifier::api(&base, SecretString::from(TOKEN.to_owned()), "C0123", Duration::from_secs(5))
        .expect("slack")
        .direct_to(vec![(vec![shipwarden::Role::ProductOwner], "U0PAUL".to_owned())]);
    slack.send(&qa_request()).await.expect("sent");
    assert_eq!(json(&seen.lock().expect("lock")[0])["channel"], "C0123");
}
