//! Contract tests of GitHub Issues as ticketing: a local server plays the
//! GitHub REST API, checks each request's method, path, headers and body as
//! documented, and answers with the documented shapes (R-4b, R-4d, R-7b, R-9d).
//!
//! - Issues: <https://docs.github.com/en/rest/issues/issues> (`GET /repos/{o}/{r}/issues/{n}`,
//!   `POST /repos/{o}/{r}/issues`, `PATCH …/issues/{n}` with `state`, `state_reason`, list with
//!   `milestone`, `state`, `labels`, `per_page`, `page`).
//! - Comments: <https://docs.github.com/en/rest/issues/comments> (`POST …/issues/{n}/comments`).
//! - Milestones: <https://docs.github.com/en/rest/issues/milestones>.
//! - Reviews: <https://docs.github.com/en/rest/pulls/reviews> (`GET …/pulls/{n}/reviews`, `state`
//!   `APPROVED` / `CHANGES_REQUESTED` / `COMMENTED` / `DISMISSED`).
//! - Headers: `Accept: application/vnd.github+json`, `X-GitHub-Api-Version: 2022-11-28`,
//!   `Authorization: Bearer`; rate limits: <https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api>.

mod common;

use std::sync::{Arc, Mutex};

use common::http::{Seen, server};
use secrecy::SecretString;
use serde_json::{Value, json};
use shipwarden::ports::{ErrorKind, Lookup, Ticketing};
use shipwarden::{Plan, ReleaseKind, TicketKey, Version};
use shipwarden_adapters::ticketing::github::{GithubIssues, RELEASE_LABEL};

const TOKEN: &str = "ghp_test_token_0123456789";

fn issue(number: u64, title: &str, state: &str, labels: &[&str]) -> Value {
    json!({
        "number": number, "title": title, "state": state,
        "labels": labels.iter().map(|l| json!({ "name": l })).collect::<Vec<_>>(),
    })
}

#[derive(Default)]
struct Hub {
    created: Vec<Value>,
    comments: Vec<Value>,
    patched: Vec<Value>,
}

fn route(hub: Arc<Mutex<Hub>>) -> common::http::Route {
    Arc::new(move |seen: &Seen| {
        assert_eq!(seen.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
        assert_eq!(seen.header("accept"), Some("application/vnd.github+json"));
        assert_eq!(seen.header("x-github-api-version"), Some("2022-11-28"));
        let body: Value = serde_json::from_str(&seen.body).unwrap_or(Value::Null);
        let mut hub = hub.lock().expect("lock");
        let ok = |v: Value| (200, v.to_string(), vec![]);
        let path = seen.path.strip_prefix("/repos/acme/shop").expect("the repository's path");
        match (seen.method.as_str(), path) {
            ("GET", "/issues/45") => ok(issue(45, "Login fails", "open", &["bug", "severity: critical"])),
            ("GET", "/issues/46") => ok(issue(46, "Typo", "open", &["bug", "severity: low"])),
            ("GET", "/issues/47") => ok(issue(47, "Search", "closed", &["enhancement"])),
            ("GET", "/milestones?state=all&per_page=100&page=1") => ok(json!([
                { "number": 3, "title": "v1.3.0" }, { "number": 4, "title": "v1.4.0" },
            ])),
            ("GET", "/issues?milestone=4&state=open&labels=bug&per_page=100&page=1") => ok(json!([
                issue(50, "Cart empties", "open", &["bug", "priority: high"]),
                issue(51, "Colour", "open", &["bug", "priority: low"]),
            ])),
            ("GET", p) if p.starts_with(&format!("/issues?state=all&labels={RELEASE_LABEL}")) => {
                ok(Value::Array(hub.created.clone()))
            }
            ("POST", "/issues") => {
                assert!(body["title"].is_string() && body["body"].is_string(), "{body}");
                assert_eq!(body["labels"][0], RELEASE_LABEL);
                let created = issue(60, body["title"].as_str().unwrap_or_default(), "open", &[RELEASE_LABEL]);
                hub.created.push(created.clone());
                (201, created.to_string(), vec![])
            }
            ("POST", "/issues/60/comments") => {
                assert!(body["body"].is_string());
                hub.comments.push(body);
                (201, json!({ "id": 1 }).to_string(), vec![])
            }
            ("PATCH", "/issues/60") => {
                hub.patched.push(body);
                ok(issue(60, "Release shop 1.4.0", "closed", &[RELEASE_LABEL]))
            }
            ("GET", "/pulls/7/reviews?per_page=100&page=1") => ok(json!([
                { "id": 1, "user": { "login": "ana" }, "state": "APPROVED" },
                { "id": 2, "user": { "login": "bo" }, "state": "COMMENTED" },
            ])),
            ("GET", "/pulls/8/reviews?per_page=100&page=1") => ok(json!([
                { "id": 3, "user": { "login": "ana" }, "state": "APPROVED" },
                { "id": 4, "user": { "login": "ana" }, "state": "CHANGES_REQUESTED" },
            ])),
            ("GET", "/issues/403") => (
                403,
                r#"{"message":"API rate limit exceeded for installation ID 1."}"#.into(),
                vec![("x-ratelimit-remaining".into(), "0".into()), ("retry-after".into(), "60".into())],
            ),
            (method, path) => panic!("a request this test does not expect: {method} {path}"),
        }
    })
}

fn github(base: &str) -> GithubIssues {
    GithubIssues::new(base, "acme", "shop", SecretString::from(TOKEN.to_owned())).expect("github")
}

fn plan() -> Plan {
    let mut plan = Plan::new("shop-1.4.0".parse().expect("id"), "shop", Version::new(1, 4, 0), ReleaseKind::Minor);
    plan.scope = vec![TicketKey::Issue(45), TicketKey::Issue(46), TicketKey::Issue(47)];
    plan
}

#[tokio::test]
async fn issues_labels_and_milestones_give_the_open_critical_and_high_bugs_r7b() {
    let hub = Arc::new(Mutex::new(Hub::default()));
    let (base, _) = server(route(hub)).await;
    let gh = github(&base);
    let t = gh.get(&TicketKey::Issue(45)).await.expect("get");
    assert_eq!((t.kind.as_str(), t.status.as_str(), t.severity.as_deref()), ("Bug", "Open", Some("critical")));
    let bugs = gh.open_bugs_for(&plan(), &["critical".into(), "high".into()]).await.expect("bugs");
    let keys: Vec<String> = bugs.iter().map(|b| b.key.to_string()).collect();
    assert_eq!(keys, ["#45", "#50"], "scope's critical bug and the milestone's high bug");
    let err = gh.get(&"SHOP-1".parse().expect("key")).await.expect_err("not an issue");
    assert_eq!(err.kind, ErrorKind::Invalid);
}

#[tokio::test]
async fn the_release_ticket_is_created_once_commented_and_closed_as_completed_r9d() {
    let hub = Arc::new(Mutex::new(Hub::default()));
    let (base, _) = server(route(hub.clone())).await;
    let gh = github(&base);
    let key = gh.create_release_ticket(&plan()).await.expect("create");
    assert_eq!(key, TicketKey::Issue(60));
    gh.comment(&key, "shop 1.4.0 released\n\n## Fixes\n- login #45").await.expect("comment");
    gh.transition(&key, "Done").await.expect("close");
    assert_eq!(gh.create_release_ticket(&plan()).await.expect("again"), TicketKey::Issue(60), "found, not made twice");
    let hub = hub.lock().expect("lock");
    assert_eq!(hub.created.len(), 1);
    assert_eq!(hub.patched[0], json!({ "state": "closed", "state_reason": "completed" }));
    assert!(hub.comments[0]["body"].as_str().expect("body").contains("## Fixes"));
}

#[tokio::test]
async fn approving_reviewers_are_counted_by_each_users_latest_review_r4d() {
    let hub = Arc::new(Mutex::new(Hub::default()));
    let (base, _) = server(route(hub)).await;
    let gh = github(&base);
    assert_eq!(gh.reviewers(7).await.expect("reviews"), Lookup::Done(1), "a comment is not an approval");
    assert_eq!(gh.reviewers(8).await.expect("reviews"), Lookup::Done(0), "approval withdrawn by changes requested");
}

#[tokio::test]
async fn the_secondary_rate_limit_is_retryable_and_the_token_never_shown() {
    let hub = Arc::new(Mutex::new(Hub::default()));
    let (base, _) = server(route(hub)).await;
    let gh = github(&base);
    let err = gh.get(&TicketKey::Issue(403)).await.expect_err("rate limited");
    assert_eq!((err.kind, err.retryable), (ErrorKind::RateLimited, true), "{err}");
    assert_eq!(err.retry_after, Some(std::time::Duration::from_secs(60)));
    assert!(!format!("{err} {err:?} {gh:?}").contains(TOKEN));
}
