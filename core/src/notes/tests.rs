//! Golden release notes (insta), R-9b and R-4b.

use super::*;
use crate::changes::{for_notes, parse};
use crate::ports::Commit;

fn commit(n: u32, subject: &str, body: &str, author: &str) -> Commit {
    Commit {
        sha: format!("{n:07x}{}", "0".repeat(33)),
        subject: subject.into(),
        body: body.into(),
        author: author.into(),
        parents: 1,
    }
}

fn sample() -> Vec<Change> {
    let commits = [
        commit(1, "JIRA-456: Add payment API", "", "Ada"),
        commit(2, "Fix #123: login bug", "", "Grace"),
        commit(3, "feat(api)!: drop v1 endpoints PAY-9", "BREAKING CHANGE: clients must call /v2", "Ada"),
        commit(4, "perf(db): batch inserts SHOP-4", "", "Linus"),
        commit(5, "docs: README SHOP-5", "Refs: OPS-12", "Grace"),
        commit(6, "Merge branch 'develop'", "", "Ada"),
        commit(7, "HOTFIX-7: payment provider timeout", "", "Ada"),
    ];
    for_notes(commits.iter().map(parse).collect(), &crate::Policy::default().vcs)
}

#[test]
fn markdown_with_links_r9b() {
    let mut policy = crate::Policy::default();
    policy.tickets.url = Some("https://jira.example.com/browse/{key}".into());
    policy.tickets.issue_url = Some("https://github.com/acme/shop/issues/{number}".into());
    policy.vcs.commit_url = Some("https://github.com/acme/shop/commit/{sha}".into());
    let known = vec![KnownIssue {
        ticket: Links::from_policy(&policy).ticket(&"SHOP-99".parse().expect("key")),
        summary: "Safari 15 shows the old cart badge".into(),
    }];
    let notes = ReleaseNotes::build(
        "shop",
        Some("2.0.0".parse().expect("version")),
        Some("2026-11-28".into()),
        &sample(),
        known,
        &Links::from_policy(&policy),
    );
    insta::assert_snapshot!("markdown_with_links", notes.to_markdown());
}

#[test]
fn markdown_without_links_r4b() {
    let notes = ReleaseNotes::build("shop", None, None, &sample(), Vec::new(), &Links::default());
    insta::assert_snapshot!("markdown_without_links", notes.to_markdown());
}

#[test]
fn json_form_r9b() {
    let notes = ReleaseNotes::build(
        "shop",
        Some("1.0.1".parse().expect("v")),
        None,
        &sample()[..2],
        Vec::new(),
        &Links::default(),
    );
    insta::assert_snapshot!("json", serde_json::to_string_pretty(&notes).expect("json"));
}

#[test]
fn empty_notes_say_so() {
    let notes =
        ReleaseNotes::build("shop", Some("1.0.1".parse().expect("v")), None, &[], Vec::new(), &Links::default());
    assert!(notes.to_markdown().contains("No changes."));
}

#[test]
fn ansi_escapes_and_bidi_overrides_are_shown_escaped_and_kept_in_the_data_r9b() {
    // Issue #18: a subject's escapes reached the notes (and the terminal) raw.
    let subject = "feat: pay \u{1b}[31mnow\u{1b}[0m \u{202E}gnp.exe SHOP-1";
    let changes = vec![parse(&commit(1, subject, "", "Eve\u{2066}"))];
    let notes = ReleaseNotes::build("shop", None, None, &changes, Vec::new(), &Links::default());
    let markdown = notes.to_markdown();
    assert!(!markdown.contains('\u{1b}') && !markdown.contains('\u{202E}') && !markdown.contains('\u{2066}'));
    assert!(markdown.contains(r"pay \u{1b}[31mnow\u{1b}[0m \u{202e}gnp.exe"), "{markdown}");
    assert!(markdown.contains(r"Eve\u{2066}"), "{markdown}");
    assert!(notes.sections[0].entries[0].description.contains("\u{1b}[31m"), "the data keeps the original");
    assert_eq!(shown("plain text\n\ttab"), "plain text\n\ttab");
}
