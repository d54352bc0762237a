//! Confluence Cloud notes (R-9b), contract-tested against a local server
//! speaking the documented REST v2 shapes
//! (<https://developer.atlassian.com/cloud/confluence/rest/v2/api-group-page/>):
//! the page is found by space and title, created the first time, updated as
//! its next version after; the body is storage format (XHTML).

mod common;

use std::sync::{Arc, Mutex};

use secrecy::SecretString;
use shipwarden::ports::{ErrorKind, NotesPublisher};
use shipwarden::{ReleaseId, Version};
use shipwarden_adapters::notes::confluence::{ConfluenceNotes, storage_format};

const NOTES: &str = "## shop 1.4.0 (2026-11-28)\n\n### Features\n\n- checkout with PayPal [SHOP-1](https://jira.example.com/browse/SHOP-1)\n\n### Fixes\n\n- cart total off by one cent & rounding\n";

#[tokio::test]
async fn the_page_is_created_then_updated_as_its_next_version_r9b() {
    let created = Arc::new(Mutex::new(false));
    let state = created.clone();
    let (base, seen) = common::http::server(Arc::new(move |r: &common::http::Seen| {
        let mut created = state.lock().expect("lock");
        match (r.method.as_str(), r.path.split('?').next().unwrap_or_default()) {
            ("GET", "/wiki/api/v2/spaces") => (200, r#"{"results":[{"id":"98304","key":"REL","name":"Releases"}],"_links":{}}"#.into(), vec![]),
            ("GET", "/wiki/api/v2/pages") if *created => (
                200,
                r#"{"results":[{"id":"557060","status":"current","title":"shop 1.4.0 release notes","spaceId":"98304","version":{"number":1}}],"_links":{}}"#.into(),
                vec![],
            ),
            ("GET", "/wiki/api/v2/pages") => (200, r#"{"results":[],"_links":{}}"#.into(), vec![]),
            ("POST", "/wiki/api/v2/pages") => {
                *created = true;
                (200, r#"{"id":"557060","status":"current","version":{"number":1},"_links":{"webui":"/spaces/REL/pages/557060"}}"#.into(), vec![])
            }
            ("PUT", "/wiki/api/v2/pages/557060") => (200, r#"{"id":"557060","version":{"number":2},"_links":{"webui":"/spaces/REL/pages/557060"}}"#.into(), vec![]),
            _ => (404, r#"{"errors":[{"status":404,"code":"NOT_FOUND","title":"Not Found"}]}"#.into(), vec![]),
        }
    }))
    .await;
    let confluence = ConfluenceNotes::new(
        format!("{base}/wiki"),
        "REL",
        "releases@example.com",
        SecretString::from("atl-s3cret"),
        "shop",
    )
    .expect("client")
    .with_parent("131073");
    let id: ReleaseId = "shop-1.4.0".parse().expect("id");
    let at = confluence.publish(&id, &Version::new(1, 4, 0), NOTES).await.expect("create");
    assert_eq!(at, format!("{base}/wiki/spaces/REL/pages/557060"));
    confluence.publish(&id, &Version::new(1, 4, 0), NOTES).await.expect("update");
    let seen = seen.lock().expect("lock").clone();
    let calls: Vec<String> = seen.iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(
        calls,
        [
            "GET /wiki/api/v2/spaces?keys=REL",
            "GET /wiki/api/v2/pages?space-id=98304&title=shop+1.4.0+release+notes&status=current",
            "POST /wiki/api/v2/pages",
            "GET /wiki/api/v2/spaces?keys=REL",
            "GET /wiki/api/v2/pages?space-id=98304&title=shop+1.4.0+release+notes&status=current",
            "PUT /wiki/api/v2/pages/557060",
        ]
    );
    // Basic auth: base64("releases@example.com:atl-s3cret").
    assert_eq!(seen[2].header("authorization"), Some("Basic cmVsZWFzZXNAZXhhbXBsZS5jb206YXRsLXMzY3JldA=="));
    let create: serde_json::Value = serde_json::from_str(&seen[2].body).expect("json");
    assert_eq!(create["spaceId"], "98304");
    assert_eq!(create["status"], "current");
    assert_eq!(create["title"], "shop 1.4.0 release notes");
    assert_eq!(create["parentId"], "131073");
    assert_eq!(create["body"]["representation"], "storage");
    let value = create["body"]["value"].as_str().expect("storage");
    assert!(
        value.contains("<h3>Features</h3>")
            && value.contains("<a href=\"https://jira.example.com/browse/SHOP-1\">SHOP-1</a>"),
        "{value}"
    );
    assert!(value.contains("&amp; rounding"), "XHTML escapes: {value}");
    let update: serde_json::Value = serde_json::from_str(&seen[5].body).expect("json");
    assert_eq!(update["id"], "557060");
    assert_eq!(update["version"]["number"], 2);
    assert_eq!(update["version"]["message"], "shipwarden: shop-1.4.0");
    assert_eq!(update["body"]["value"], create["body"]["value"]);
    assert!(!format!("{confluence:?}").contains("atl-s3cret"));
}

#[tokio::test]
async fn confluence_errors_name_the_status_and_its_titles() {
    let (base, _) =
        common::http::server(Arc::new(|r: &common::http::Seen| match r.path.split('?').next().unwrap_or_default() {
            "/wiki/api/v2/spaces" if r.path.contains("keys=GONE") => (200, r#"{"results":[]}"#.into(), vec![]),
            "/wiki/api/v2/spaces" => (200, r#"{"results":[{"id":"1"}]}"#.into(), vec![]),
            "/wiki/api/v2/pages" if r.method == "GET" => (200, r#"{"results":[]}"#.into(), vec![]),
            _ => (
                400,
                r#"{"errors":[{"status":400,"code":"INVALID_REQUEST_PARAMETER","title":"Page title already exists"}]}"#
                    .into(),
                vec![],
            ),
        }))
        .await;
    let id: ReleaseId = "shop-1.4.0".parse().expect("id");
    let gone = ConfluenceNotes::new(format!("{base}/wiki"), "GONE", "a@example.com", SecretString::from("t"), "shop")
        .expect("client");
    let e = gone.publish(&id, &Version::new(1, 4, 0), NOTES).await.expect_err("no space");
    assert_eq!(e.kind, ErrorKind::NotFound);
    assert!(e.message.contains("no space with key GONE"), "{e}");
    let bad = ConfluenceNotes::new(format!("{base}/wiki"), "REL", "a@example.com", SecretString::from("t"), "shop")
        .expect("client");
    let e = bad.publish(&id, &Version::new(1, 4, 0), NOTES).await.expect_err("400");
    assert!(!e.retryable && e.message.contains("Confluence answered 400: Page title already exists"), "{e}");
    assert_eq!(storage_format("a <b> & c"), "<p>a &lt;b&gt; &amp; c</p>\n");
}
