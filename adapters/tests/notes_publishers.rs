//! Release notes publishers against a real local wiki repository and a local
//! server speaking GitHub's documented releases API (R-9b).

mod common;

use common::git;
use common::http::{Seen, server};
use std::sync::Arc;

use secrecy::SecretString;
use shipwarden::notes::{Links, ReleaseNotes};
use shipwarden::ports::{ErrorKind, NotesPublisher};
use shipwarden::{ReleaseId, Version};
use shipwarden_adapters::notes::github::GithubReleases;
use shipwarden_adapters::notes::wiki::WikiNotes;
use shipwarden_adapters::vcs::git::{GitRepo, HistoryOptions};

fn id() -> ReleaseId {
    "shop-1.4.0".parse().expect("id")
}

fn v140() -> Version {
    Version::new(1, 4, 0)
}

#[tokio::test]
async fn notes_of_a_real_repository_are_pushed_to_a_wiki_repository_r9b() {
    let root = tempfile::tempdir().expect("tempdir");
    // The project: three commits, a release tag, two more.
    let app = root.path().join("app");
    git(root.path(), &["init", "-q", "-b", "main", app.to_str().expect("utf-8")]);
    for m in ["feat: cart SHOP-1", "fix: rounding SHOP-2"] {
        git(&app, &["commit", "-q", "--allow-empty", "-m", m]);
    }
    git(&app, &["tag", "-a", "v1.3.0", "-m", "1.3.0"]);
    for m in ["JIRA-456: Add payment API", "Fix #123: login bug"] {
        git(&app, &["commit", "-q", "--allow-empty", "-m", m]);
    }
    git(&app, &["tag", "-a", "v1.4.0", "-m", "1.4.0"]);
    let history = GitRepo::new(&app)
        .history_blocking(&HistoryOptions { tag_prefix: "v".into(), from: Some("v1.3.0".into()), ..Default::default() })
        .expect("history");
    let commits: Vec<_> = history.releases[0].commits.iter().rev().map(shipwarden::changes::parse).collect();
    let notes = ReleaseNotes::build(
        "shop",
        Some(v140()),
        history.releases[0].date.clone(),
        &commits,
        Vec::new(),
        &Links::default(),
    );
    let markdown = notes.to_markdown();

    // The wiki: a bare repository, as GitHub and GitLab keep theirs.
    let wiki = root.path().join("shop.wiki.git");
    git(root.path(), &["init", "-q", "--bare", "-b", "master", wiki.to_str().expect("utf-8")]);
    let publisher = WikiNotes::new(wiki.display().to_string(), root.path().join("work/wiki"));
    let at = publisher.publish(&id(), &v140(), &markdown).await.expect("publish");
    assert!(at.ends_with("Release-notes-1.4.0.md"), "{at}");
    let check = root.path().join("check");
    git(root.path(), &["clone", "-q", wiki.to_str().expect("utf-8"), check.to_str().expect("utf-8")]);
    let page = std::fs::read_to_string(check.join("Release-notes-1.4.0.md")).expect("page");
    assert!(page.contains("### Features\n\n- Add payment API JIRA-456"), "{page}");
    assert!(page.contains("### Fixes\n\n- login bug #123"), "{page}");
    // The same notes again: nothing to commit.
    assert!(publisher.publish(&id(), &v140(), &markdown).await.expect("again").contains("unchanged"));
    // Someone else edits the wiki meanwhile; new notes still land on top.
    git(&check, &["commit", "-q", "--allow-empty", "-m", "Home page edit"]);
    git(&check, &["push", "-q", "origin", "master"]);
    publisher.publish(&id(), &v140(), &format!("{markdown}\nAmended.\n")).await.expect("update");
    git(&check, &["pull", "-q", "origin", "master"]);
    let log = git(&check, &["log", "--format=%s"]);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        ["Release notes shop-1.4.0 (1.4.0)", "Home page edit", "Release notes shop-1.4.0 (1.4.0)"]
    );
    assert!(std::fs::read_to_string(check.join("Release-notes-1.4.0.md")).expect("page").contains("Amended."));
    // An unreachable wiki is a retryable failure.
    let gone = WikiNotes::new(root.path().join("missing.git").display().to_string(), root.path().join("work/gone"));
    assert!(gone.publish(&id(), &v140(), "x").await.expect_err("no wiki").retryable);
}

fn token() -> SecretString {
    SecretString::from("t0k3n-very-secret".to_owned())
}

#[tokio::test]
async fn a_new_github_release_is_created_with_the_documented_request_r9b() {
    let (base, seen) = server(Arc::new(|r: &Seen| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/repos/acme/shop/releases/tags/v1.4.0") => (404, r#"{"message":"Not Found"}"#.into(), vec![]),
        ("POST", "/repos/acme/shop/releases") => {
            (201, r#"{"id":1,"html_url":"https://github.com/acme/shop/releases/tag/v1.4.0"}"#.into(), vec![])
        }
        _ => (400, "{}".into(), vec![]),
    }))
    .await;
    let github = GithubReleases::new(&base, "acme", "shop", token()).expect("client");
    assert!(!format!("{github:?}").contains("t0k3n"));
    let at = github.publish(&id(), &v140(), "## shop 1.4.0\n").await.expect("publish");
    assert_eq!(at, "https://github.com/acme/shop/releases/tag/v1.4.0");
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 2);
    for r in &seen {
        assert_eq!(r.header("authorization"), Some("Bearer t0k3n-very-secret"));
        assert_eq!(r.header("accept"), Some("application/vnd.github+json"));
        assert_eq!(r.header("x-github-api-version"), Some("2022-11-28"));
        assert!(r.header("user-agent").is_some_and(|u| u.starts_with("shipwarden/")));
    }
    let post = &seen[1];
    assert_eq!(post.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_str(&post.body).expect("json body");
    assert_eq!(body["tag_name"], "v1.4.0");
    assert_eq!(body["name"], "shop 1.4.0");
    assert_eq!(body["body"], "## shop 1.4.0\n");
    assert_eq!((body["draft"].as_bool(), body["prerelease"].as_bool()), (Some(false), Some(false)));
}

#[tokio::test]
async fn an_existing_github_release_is_updated_not_duplicated_r9b() {
    let (base, seen) = server(Arc::new(|r: &Seen| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/repos/acme/shop/releases/tags/v2.0.0-rc.1") => (200, r#"{"id":77}"#.into(), vec![]),
        ("PATCH", "/repos/acme/shop/releases/77") => (200, r#"{"id":77,"html_url":"https://x/77"}"#.into(), vec![]),
        _ => (400, "{}".into(), vec![]),
    }))
    .await;
    let github = GithubReleases::new(&base, "acme", "shop", token()).expect("client");
    let v: Version = "2.0.0-rc.1".parse().expect("v");
    assert_eq!(github.publish(&id(), &v, "notes").await.expect("publish"), "https://x/77");
    let seen = seen.lock().expect("lock").clone();
    let body: serde_json::Value = serde_json::from_str(&seen[1].body).expect("json");
    assert_eq!(body, serde_json::json!({ "name": "shop 2.0.0-rc.1", "body": "notes" }));
}

#[tokio::test]
async fn github_failures_say_whether_a_retry_can_help_and_never_show_the_token() {
    let (base, _) = server(Arc::new(|r: &Seen| match r.path.as_str() {
        p if p.contains("/rate/") => {
            (429, r#"{"message":"slow down"}"#.into(), vec![("Retry-After".into(), "30".into())])
        }
        p if p.contains("/down/") => (502, "{}".into(), vec![]),
        _ => (401, r#"{"message":"Bad credentials"}"#.into(), vec![]),
    }))
    .await;
    let denied = GithubReleases::new(&base, "acme", "shop", token())
        .expect("client")
        .publish(&id(), &v140(), "x")
        .await
        .expect_err("401");
    assert!(!denied.retryable);
    assert!(denied.to_string().contains("Bad credentials") && !denied.to_string().contains("t0k3n"), "{denied}");
    let limited = GithubReleases::new(&base, "acme", "rate", token())
        .expect("client")
        .publish(&id(), &v140(), "x")
        .await
        .expect_err("429");
    assert_eq!((limited.kind, limited.retry_after), (ErrorKind::RateLimited, Some(std::time::Duration::from_secs(30))));
    assert!(limited.retryable);
    let down = GithubReleases::new(&base, "acme", "down", token())
        .expect("client")
        .publish(&id(), &v140(), "x")
        .await
        .expect_err("502");
    assert!(down.retryable);
}
