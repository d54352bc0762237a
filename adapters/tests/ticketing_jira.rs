//! Contract tests of the Jira Cloud ticketing adapter: a local server plays
//! Jira, checks each request against the REST API v3's documented method,
//! path, headers and body, and answers with the documented shapes
//! (R-4b, R-7b, R-9d).
//!
//! - Issues: <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/>
//!   (`GET /rest/api/3/issue/{key}`, `POST /rest/api/3/issue` → 201 `{id, key, self}`,
//!   `GET`/`POST /rest/api/3/issue/{key}/transitions` → 204).
//! - Search: <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-post>
//!   (`POST /rest/api/3/search/jql` with `jql`, `fields`, `maxResults`, `nextPageToken`; replies
//!   `{issues, nextPageToken, isLast}`).
//! - Comments: <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/>
//!   (`body` in Atlassian Document Format: <https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/>).
//! - Versions: <https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-project-versions/>
//!   (`GET /rest/api/3/project/{key}/versions`, `POST /rest/api/3/version` with `projectId`,
//!   `PUT /rest/api/3/version/{id}` with `released`, `releaseDate`).
//! - Basic auth with e-mail and API token: <https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/>;
//!   errors `{errorMessages, errors}`; 429 with `Retry-After`: <https://developer.atlassian.com/cloud/jira/platform/rate-limiting/>.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::http::{Seen, server};
use secrecy::SecretString;
use serde_json::{Value, json};
use shipwarden::ports::{ErrorKind, Ticketing};
use shipwarden::{Plan, ReleaseKind, TicketKey, Version};
use shipwarden_adapters::ticketing::jira::{JiraTicketing, RELEASE_LABEL};

const EMAIL: &str = "release-bot@acme.example";
const TOKEN: &str = "ATATT3xFfGF0-jira-api-token";

fn base64(input: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The fake Jira's state: versions, issues, and what it was asked.
#[derive(Default)]
struct Jira {
    versions: Vec<Value>,
    created: Vec<Value>,
    comments: Vec<Value>,
    transitions: Vec<String>,
    released: Vec<Value>,
    searches: Vec<Value>,
}

fn bug(key: &str, priority: &str) -> Value {
    json!({ "id": "1", "key": key, "fields": {
        "summary": format!("{key} breaks checkout"), "status": { "name": "Open" },
        "issuetype": { "name": "Bug" }, "priority": { "name": priority },
    } })
}

fn route(state: Arc<Mutex<Jira>>) -> common::http::Route {
    Arc::new(move |seen: &Seen| {
        let auth = format!("Basic {}", base64(format!("{EMAIL}:{TOKEN}").as_bytes()));
        if seen.header("authorization") != Some(auth.as_str()) {
            return (401, r#"{"errorMessages":["You are not authenticated."],"errors":{}}"#.into(), vec![]);
        }
        assert_eq!(seen.header("accept"), Some("application/json"), "{} {}", seen.method, seen.path);
        if seen.method != "GET" {
            assert_eq!(seen.header("content-type"), Some("application/json"), "{} {}", seen.method, seen.path);
        }
        let body: Value = serde_json::from_str(&seen.body).unwrap_or(Value::Null);
        let mut jira = state.lock().expect("lock");
        let ok = |v: Value| (200, v.to_string(), vec![]);
        match (seen.method.as_str(), seen.path.as_str()) {
            ("GET", "/rest/api/3/issue/SHOP-7?fields=summary,status,issuetype,priority") => ok(json!({
                "id": "10007", "key": "SHOP-7", "self": "https://acme.atlassian.net/rest/api/3/issue/10007",
                "fields": { "summary": "Pay by card", "status": { "name": "In Progress" },
                            "issuetype": { "name": "Story" }, "priority": { "name": "Medium" } },
            })),
            ("GET", "/rest/api/3/issue/SHOP-404?fields=summary,status,issuetype,priority") => (
                404,
                r#"{"errorMessages":["Issue does not exist or you do not have permission to see it."],"errors":{}}"#
                    .into(),
                vec![],
            ),
            ("POST", "/rest/api/3/search/jql") => {
                assert!(
                    body["jql"].is_string() && body["fields"].is_array() && body["maxResults"].is_number(),
                    "{body}"
                );
                jira.searches.push(body.clone());
                let jql = body["jql"].as_str().unwrap_or_default();
                if jql.contains("labels = ") {
                    let found: Vec<Value> = jira.created.clone();
                    return ok(json!({ "issues": found, "isLast": true }));
                }
                // Two pages of bugs, as Jira pages them.
                if body["nextPageToken"].is_null() {
                    ok(json!({ "issues": [bug("SHOP-21", "Highest")], "nextPageToken": "page-2", "isLast": false }))
                } else {
                    assert_eq!(body["nextPageToken"], "page-2");
                    ok(json!({ "issues": [bug("SHOP-22", "High")], "isLast": true }))
                }
            }
            ("GET", "/rest/api/3/project/SHOP/versions") => ok(Value::Array(jira.versions.clone())),
            ("GET", "/rest/api/3/project/SHOP") => ok(json!({ "id": "10000", "key": "SHOP", "name": "Shop" })),
            ("POST", "/rest/api/3/version") => {
                assert_eq!(body["projectId"], 10000, "projectId is a number: {body}");
                assert!(body["name"].is_string() && body["released"] == false, "{body}");
                let version = json!({ "id": "10100", "name": body["name"], "released": false, "projectId": 10000 });
                jira.versions.push(version.clone());
                (201, version.to_string(), vec![])
            }
            ("POST", "/rest/api/3/issue") => {
                let fields = &body["fields"];
                assert_eq!(fields["project"]["key"], "SHOP");
                assert!(fields["summary"].is_string() && fields["issuetype"]["name"].is_string(), "{body}");
                assert_eq!(fields["description"]["type"], "doc", "the description is ADF");
                assert_eq!(fields["fixVersions"][0]["id"], "10100");
                let issue = json!({ "id": "10100", "key": "SHOP-100", "fields": {
                    "summary": fields["summary"], "labels": fields["labels"], "status": { "name": "To Do" },
                    "issuetype": fields["issuetype"], "fixVersions": [{ "id": "10100", "name": "1.4.0", "released": false }],
                } });
                jira.created.push(issue);
                (
                    201,
                    r#"{"id":"10100","key":"SHOP-100","self":"https://acme.atlassian.net/rest/api/3/issue/10100"}"#
                        .into(),
                    vec![],
                )
            }
            ("POST", "/rest/api/3/issue/SHOP-100/comment") => {
                assert_eq!(body["body"]["type"], "doc");
                assert_eq!(body["body"]["version"], 1);
                jira.comments.push(body["body"].clone());
                (201, json!({ "id": "1", "body": body["body"] }).to_string(), vec![])
            }
            ("GET", "/rest/api/3/issue/SHOP-100/transitions") => ok(json!({ "expand": "transitions", "transitions": [
                { "id": "21", "name": "Start", "to": { "name": "In Progress" } },
                { "id": "31", "name": "Finish", "to": { "name": "Done" } },
            ] })),
            ("POST", "/rest/api/3/issue/SHOP-100/transitions") => {
                jira.transitions.push(body["transition"]["id"].as_str().unwrap_or_default().to_owned());
                (204, String::new(), vec![])
            }
            ("GET", "/rest/api/3/issue/SHOP-100?fields=labels,fixVersions") => {
                ok(jira.created.first().cloned().unwrap_or(Value::Null))
            }
            ("PUT", "/rest/api/3/version/10100") => {
                assert_eq!(body["released"], true);
                assert!(body["releaseDate"].as_str().is_some_and(|d| d.len() == 10), "{body}");
                jira.released.push(body.clone());
                ok(json!({ "id": "10100", "released": true }))
            }
            (method, path) => panic!("a request Jira's API does not have here: {method} {path}"),
        }
    })
}

fn plan() -> Plan {
    let mut plan = Plan::new("shop-1.4.0".parse().expect("id"), "shop", Version::new(1, 4, 0), ReleaseKind::Minor);
    plan.scope = vec!["SHOP-7".parse().expect("key"), "SHOP-8".parse().expect("key")];
    plan
}

fn jira(base: &str) -> JiraTicketing {
    JiraTicketing::new(base, EMAIL, SecretString::from(TOKEN.to_owned()), "SHOP").expect("jira")
}

fn key(text: &str) -> TicketKey {
    text.parse().expect("key")
}

#[tokio::test]
async fn reads_tickets_and_finds_open_critical_and_high_bugs_in_the_fix_version_r7b() {
    let state = Arc::new(Mutex::new(Jira::default()));
    state.lock().expect("lock").versions.push(json!({ "id": "10100", "name": "1.4.0", "released": false }));
    let (base, _) = server(route(state.clone())).await;
    let jira = jira(&base);
    let ticket = jira.get(&key("SHOP-7")).await.expect("get");
    assert_eq!(
        (ticket.summary.as_str(), ticket.status.as_str(), ticket.kind.as_str()),
        ("Pay by card", "In Progress", "Story")
    );
    assert_eq!(ticket.severity.as_deref(), Some("medium"));
    let err = jira.get(&key("SHOP-404")).await.expect_err("missing");
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert!(err.to_string().contains("Jira answered 404: Issue does not exist"), "{err}");

    let bugs = jira.open_bugs_for(&plan(), &["critical".into(), "high".into()]).await.expect("bugs");
    let found: Vec<(String, Option<String>)> = bugs.iter().map(|b| (b.key.to_string(), b.severity.clone())).collect();
    assert_eq!(found, [("SHOP-21".into(), Some("critical".into())), ("SHOP-22".into(), Some("high".into()))]);
    let searches = state.lock().expect("lock").searches.clone();
    let jql = searches[0]["jql"].as_str().expect("jql");
    assert_eq!(
        jql,
        "issuetype = Bug AND statusCategory != Done AND priority in (\"Highest\", \"Critical\", \"Blocker\", \"High\") \
         AND (fixVersion = \"1.4.0\" OR key in (SHOP-7, SHOP-8)) ORDER BY key"
    );
    assert_eq!(searches.len(), 2, "the second page was asked for with its token");
}

#[tokio::test]
async fn closing_a_release_creates_its_ticket_and_version_comments_in_adf_transitions_and_releases_r9d() {
    let state = Arc::new(Mutex::new(Jira::default()));
    let (base, _) = server(route(state.clone())).await;
    let jira = jira(&base);
    // What the engine does at close-out.
    let ticket = jira.create_release_ticket(&plan()).await.expect("create");
    assert_eq!(ticket, key("SHOP-100"));
    jira.comment(&ticket, "Released to prod in 3 steps.\n\n## Features\n- Pay by card (SHOP-7)")
        .await
        .expect("comment");
    jira.transition(&ticket, "Done").await.expect("transition");
    // A retry after a crash finds the same ticket instead of making a second.
    assert_eq!(jira.create_release_ticket(&plan()).await.expect("again"), key("SHOP-100"));

    let jira_state = state.lock().expect("lock");
    assert_eq!(jira_state.versions.len(), 1, "the fixVersion was created once");
    assert_eq!(jira_state.created.len(), 1, "one release ticket");
    assert_eq!(jira_state.created[0]["fields"]["labels"][0], RELEASE_LABEL);
    let comment = &jira_state.comments[0];
    assert_eq!(comment["content"][1]["type"], "heading");
    assert_eq!(comment["content"][2]["content"][0]["content"][0]["content"][0]["text"], "Pay by card (SHOP-7)");
    assert_eq!(jira_state.transitions, ["31"], "the transition whose target is Done");
    assert_eq!(jira_state.released.len(), 1, "the fixVersion was released");
}

#[tokio::test]
async fn jira_failures_say_whether_a_retry_can_help_and_never_show_the_token() {
    let reply = |status: u16, body: &'static str, headers: Vec<(String, String)>| -> common::http::Route {
        Arc::new(move |_: &Seen| (status, body.to_owned(), headers.clone()))
    };
    let cases = [
        (reply(429, "", vec![("Retry-After".into(), "30".into())]), ErrorKind::RateLimited, true),
        (reply(503, "", vec![]), ErrorKind::Unavailable, true),
        (reply(401, r#"{"errorMessages":["You are not authenticated."]}"#, vec![]), ErrorKind::Rejected, false),
        (
            reply(400, r#"{"errorMessages":[],"errors":{"summary":"Field required"}}"#, vec![]),
            ErrorKind::Invalid,
            false,
        ),
    ];
    for (route, kind, retryable) in cases {
        let (base, _) = server(route).await;
        let jira = jira(&base);
        let err = jira.get(&key("SHOP-1")).await.expect_err("fails");
        assert_eq!((err.kind, err.retryable), (kind, retryable), "{err}");
        assert!(err.to_string().starts_with("ticketing jira get: "), "{err}");
        assert!(!format!("{err} {err:?} {jira:?}").contains(TOKEN));
        if kind == ErrorKind::RateLimited {
            assert_eq!(err.retry_after, Some(Duration::from_secs(30)));
        }
        if kind == ErrorKind::Invalid {
            assert!(err.to_string().contains("summary: Field required"), "{err}");
        }
    }
}

/// Every text node of an ADF document, in order, one line each.
fn adf_text(node: &Value, out: &mut Vec<String>) {
    if let Some(text) = node["text"].as_str() {
        out.push(text.to_owned());
    }
    for child in node["content"].as_array().into_iter().flatten() {
        adf_text(child, out);
    }
}

#[tokio::test]
async fn the_signed_head_of_a_closed_release_reaches_its_jira_ticket_readable_back_r9d() {
    use shipwarden::audit::{ChainHash, Checkpoint, PublishedHeads, ticket_comment};
    let state = Arc::new(Mutex::new(Jira::default()));
    let (base, _) = server(route(state.clone())).await;
    let jira = jira(&base);
    let ticket = jira.create_release_ticket(&plan()).await.expect("create");
    let head: ChainHash = "ab".repeat(32).parse().expect("hash");
    let checkpoint = Checkpoint {
        stream: "shop-1.4.0".into(),
        sequence: 57,
        head: head.clone(),
        stage: shipwarden::Stage::Closed,
        at: "2026-12-02T10:00:00Z".parse().expect("time"),
        algorithm: "ed25519".into(),
        public_key: "cd".repeat(32),
        signature: "ef".repeat(64),
    };
    jira.comment(&ticket, &ticket_comment(&checkpoint)).await.expect("comment");
    let comment = state.lock().expect("lock").comments[0].clone();
    let mut lines = Vec::new();
    adf_text(&comment, &mut lines);
    let text = lines.join("\n");
    assert!(text.contains(head.as_str()) && text.contains("--published"), "{comment}");
    // The checkpoint travels as a code block, which reads back as the signed head.
    let code = comment["content"].as_array().into_iter().flatten().find(|n| n["type"] == "codeBlock");
    let code = code.map(|n| n["content"][0]["text"].as_str().unwrap_or_default().to_owned()).expect("a code block");
    let read = PublishedHeads::read(&code).expect("the checkpoint reads back");
    assert_eq!(read.newest(), Some(&checkpoint));
}
