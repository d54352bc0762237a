//! The git adapter against real repositories: a work tree and a bare remote
//! made with the `git` command (R-4a, R-4c, R-4d).

mod common;

use common::git;
use std::path::Path;

use shipwarden::ports::{ErrorKind, Vcs};
use shipwarden_adapters::vcs::git::GitRepo;

fn commit(dir: &Path, message: &str) -> String {
    git(dir, &["commit", "--allow-empty", "-q", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}

/// A repository with a bare remote, three commits, an annotated and a lightweight tag.
fn repository(root: &Path) -> (std::path::PathBuf, String, String, String) {
    let (work, remote) = (root.join("app"), root.join("remote.git"));
    git(root, &["init", "-q", "--bare", "-b", "main", remote.to_str().expect("utf-8")]);
    git(root, &["init", "-q", "-b", "main", work.to_str().expect("utf-8")]);
    git(&work, &["remote", "add", "origin", remote.to_str().expect("utf-8")]);
    let c1 = commit(&work, "SHOP-1: checkout");
    git(&work, &["tag", "-a", "v1.0.0", "-m", "release 1.0.0"]);
    let c2 = commit(&work, "Fix #12: login bug\n\nRefs: OPS-3");
    git(&work, &["tag", "nightly"]);
    let c3 = commit(&work, "chore: tidy up");
    git(&work, &["branch", "release/v1.1.0"]);
    (work, c1, c2, c3)
}

#[tokio::test]
async fn reads_head_tags_commits_and_branches_r4a_r4d() {
    let root = tempfile::tempdir().expect("tempdir");
    let (work, c1, c2, c3) = repository(root.path());
    let repo = GitRepo::new(&work);
    assert_eq!(repo.head().await.expect("head"), c3);
    let mut tags: Vec<(String, String)> =
        repo.tags().await.expect("tags").into_iter().map(|t| (t.name, t.target)).collect();
    tags.sort();
    assert_eq!(
        tags,
        vec![("nightly".to_owned(), c2.clone()), ("v1.0.0".to_owned(), c1.clone())],
        "annotated tags peel to their commit"
    );
    let since: Vec<(String, String, String)> = repo
        .commits_since(Some("v1.0.0"))
        .await
        .expect("commits")
        .into_iter()
        .map(|c| (c.sha, c.subject, c.body))
        .collect();
    assert_eq!(
        since,
        vec![
            (c3, "chore: tidy up".to_owned(), String::new()),
            (c2, "Fix #12: login bug".to_owned(), "Refs: OPS-3\n".to_owned())
        ],
        "newest first, subject and body apart"
    );
    assert_eq!(repo.commits_since(None).await.expect("all").len(), 3);
    assert_eq!(repo.commits_since(Some("v9.9.9")).await.expect_err("no such tag").kind, ErrorKind::Other);
    assert!(repo.branch_exists("release/v1.1.0").await.expect("branch"));
    assert!(!repo.branch_exists("release/v2.0.0").await.expect("branch"));
}

#[tokio::test]
async fn creates_and_pushes_an_annotated_tag_once_and_never_moves_it_r4c() {
    let root = tempfile::tempdir().expect("tempdir");
    let (work, c1, _, c3) = repository(root.path());
    let repo = GitRepo::new(&work).with_remote("origin").with_identity("shipwarden", "shipwarden@example.com");
    repo.create_tag("v1.1.0", "shop 1.1.0 (minor)", &c3).await.expect("tag");
    assert_eq!(git(&work, &["cat-file", "-t", "v1.1.0"]), "tag", "an annotated tag");
    assert_eq!(git(&work, &["for-each-ref", "--format=%(taggername)", "refs/tags/v1.1.0"]), "shipwarden");
    let remote = root.path().join("remote.git");
    assert!(git(&remote, &["tag", "--list"]).lines().any(|t| t == "v1.1.0"), "pushed to the remote");
    repo.create_tag("v1.1.0", "shop 1.1.0 (minor)", &c3).await.expect("again: idempotent");
    let err = repo.create_tag("v1.1.0", "moved", &c1).await.expect_err("moving a tag");
    assert_eq!(err.kind, ErrorKind::Rejected);
    assert!(err.to_string().contains("never move"), "{err}");
}

#[tokio::test]
async fn an_unreachable_remote_is_a_retryable_failure() {
    let root = tempfile::tempdir().expect("tempdir");
    let (work, _, _, c3) = repository(root.path());
    git(&work, &["remote", "set-url", "origin", root.path().join("gone.git").to_str().expect("utf-8")]);
    let repo = GitRepo::new(&work).with_remote("origin").with_identity("shipwarden", "shipwarden@example.com");
    let err = repo.create_tag("v1.1.0", "m", &c3).await.expect_err("push fails");
    assert!(err.retryable, "{err}");
}

#[tokio::test]
async fn the_engine_counts_untracked_commits_from_real_history_r4a() {
    use shipwarden::engine::{Ports, ReleaseManager};
    use shipwarden::*;
    use std::sync::Arc;
    let root = tempfile::tempdir().expect("tempdir");
    let (work, ..) = repository(root.path());
    let ports = Ports {
        vcs: Some(Arc::new(GitRepo::new(&work).with_identity("shipwarden", "shipwarden@example.com"))),
        ..Ports::default()
    };
    let manager = ReleaseManager::builder(Arc::new(shipwarden::ports::memory::MemoryStore::new())).ports(ports).build();
    let plan = Plan::new("shop-1.1.0".parse().expect("id"), "shop", Version::new(1, 1, 0), ReleaseKind::Minor);
    let id = plan.release.clone();
    manager.plan(&Actor::new("rita", [Role::ReleaseManager]), plan).await.expect("plan");
    manager
        .approve(
            &id,
            &Actor::new("paul", [Role::ProductOwner]),
            ApprovalId::Scope,
            Role::ProductOwner,
            Channel::Cli,
            "ok",
        )
        .await
        .expect("approve");
    manager.run(&id, None).await.expect("run");
    let history = manager.history(&id).await.expect("history");
    let state = ReleaseState::from_events(history.iter().map(|e| &e.event));
    let untracked = state.gate_results.iter().find(|r| r.gate == GateId::UntrackedCommits).expect("measured");
    assert_eq!(untracked.measured.value, 1.0, "only `chore: tidy up` lacks a ticket key: {}", untracked.source);
    assert!(untracked.items.iter().any(|i| i.contains("chore: tidy up")), "the commit is named: {:?}", untracked.items);
    // The tag step ran through git: v1.1.0 exists, annotated, on HEAD.
    assert_eq!(git(&work, &["cat-file", "-t", "v1.1.0"]), "tag");
}

fn file_commit(dir: &Path, file: &str, message: &str) -> String {
    let path = dir.join(file);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::write(&path, format!("{old}{message}\n")).expect("write");
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}

#[test]
fn history_is_split_into_releases_in_one_walk_r4a_r9b() {
    use shipwarden_adapters::vcs::git::HistoryOptions;
    let root = tempfile::tempdir().expect("tempdir");
    let work = root.path().join("mono");
    git(root.path(), &["init", "-q", "-b", "main", work.to_str().expect("utf-8")]);
    file_commit(&work, "api/a.rs", "feat(api): first SHOP-1");
    git(&work, &["tag", "-a", "v1.0.0", "-m", "1.0.0"]);
    git(&work, &["tag", "api-v1.0.0"]);
    file_commit(&work, "web/b.rs", "fix(web): second SHOP-2");
    git(&work, &["tag", "v1.0.1"]); // lightweight
    git(&work, &["tag", "v-next"]); // not SemVer: ignored, with a note
    file_commit(&work, "api/a.rs", "feat(api)!: third SHOP-3");
    file_commit(&work, "web/b.rs", "docs: fourth SHOP-4");
    let repo = GitRepo::new(&work);
    let history =
        repo.history_blocking(&HistoryOptions { tag_prefix: "v".into(), ..Default::default() }).expect("history");
    let shape: Vec<(Option<String>, Vec<String>)> = history
        .releases
        .iter()
        .map(|r| (r.tag.clone(), r.commits.iter().map(|c| c.subject.clone()).collect()))
        .collect();
    assert_eq!(
        shape,
        vec![
            (None, vec!["docs: fourth SHOP-4".to_owned(), "feat(api)!: third SHOP-3".to_owned()]),
            (Some("v1.0.1".to_owned()), vec!["fix(web): second SHOP-2".to_owned()]),
            (Some("v1.0.0".to_owned()), vec!["feat(api): first SHOP-1".to_owned()]),
        ]
    );
    assert_eq!(history.ignored_tags, ["v-next"]);
    assert!(history.releases[1].date.as_deref().is_some_and(|d| d.len() == 10));
    // A monorepo package: its own tag prefix and path filter.
    let api = repo
        .history_blocking(&HistoryOptions {
            tag_prefix: "api-v".into(),
            paths: vec!["api".into()],
            ..Default::default()
        })
        .expect("history");
    let api_shape: Vec<(Option<String>, usize)> =
        api.releases.iter().map(|r| (r.tag.clone(), r.commits.len())).collect();
    assert_eq!(api_shape, vec![(None, 1), (Some("api-v1.0.0".to_owned()), 1)]);
    // A range: after v1.0.0 up to v1.0.1.
    let range = repo
        .history_blocking(&HistoryOptions {
            tag_prefix: "v".into(),
            from: Some("v1.0.0".into()),
            to: Some("v1.0.1".into()),
            ..Default::default()
        })
        .expect("range");
    assert_eq!(range.releases.len(), 1);
    assert_eq!(range.releases[0].tag.as_deref(), Some("v1.0.1"));
    assert!(repo.history_blocking(&HistoryOptions { from: Some("nope".into()), ..Default::default() }).is_err());
}
