//! Commit parsing and the next version, on messages in every format the procedure and teams use.

use proptest::prelude::*;

use super::*;
use crate::model::{ReleaseKind, Version};

fn commit(subject: &str, body: &str) -> Commit {
    Commit {
        sha: "0123456789abcdef".into(),
        subject: subject.into(),
        body: body.into(),
        author: "dev".into(),
        parents: 1,
    }
}

fn keys(c: &Change) -> Vec<String> {
    c.tickets.iter().map(ToString::to_string).collect()
}

#[test]
fn ticket_keys_in_both_formats_of_the_procedure_r4a() {
    assert_eq!(keys(&parse(&commit("JIRA-456: Add payment API", ""))), ["JIRA-456"]);
    assert_eq!(keys(&parse(&commit("Fix #123: login bug", ""))), ["#123"]);
    assert_eq!(keys(&parse(&commit("feat(api)!: refunds PAY-9", "Refs: OPS-12, PAY-9"))), ["PAY-9", "OPS-12"]);
    assert!(keys(&parse(&commit("bump deps to v1.2-3 and utf-8, sha A1B2C3D", ""))).is_empty());
    assert!(ticket_keys("ABC-12x and x#12 and a-b").is_empty());
}

#[test]
fn plain_subjects_are_grouped_by_their_verb_r4b() {
    let feature = parse(&commit("JIRA-456: Add payment API", ""));
    assert_eq!((feature.group(), feature.description.as_str()), (Group::Features, "Add payment API"));
    let fix = parse(&commit("Fix #123: login bug", ""));
    assert_eq!((fix.group(), fix.kind.as_deref(), fix.description.as_str()), (Group::Fixes, Some("fix"), "login bug"));
    let trailing = parse(&commit("fix: tidy up the cart (SHOP-3, #12)", ""));
    assert_eq!(trailing.description, "tidy up the cart");
    let other = parse(&commit("Update README for SHOP-7", ""));
    assert_eq!(other.group(), Group::Other);
    let bracket = parse(&commit("[OPS-1] Fixed the disk alarm", ""));
    assert_eq!((bracket.group(), bracket.description.as_str()), (Group::Fixes, "Fixed the disk alarm"));
}

#[test]
fn conventional_commits_r4e() {
    let c = parse(&commit("feat(api)!: drop v1 endpoints PAY-9", ""));
    assert_eq!((c.kind.as_deref(), c.scope.as_deref(), c.breaking), (Some("feat"), Some("api"), true));
    assert_eq!(c.group(), Group::Breaking);
    assert_eq!(c.description, "drop v1 endpoints");
    let footer =
        parse(&commit("refactor: new config loader (SHOP-3)", "Long text.\n\nBREAKING CHANGE: `port` is now `listen`"));
    assert!(footer.breaking);
    assert_eq!(footer.breaking_note.as_deref(), Some("`port` is now `listen`"));
    let perf = parse(&commit("perf(db): batch inserts SHOP-4", ""));
    assert_eq!(perf.group(), Group::Performance);
    let keyed = parse(&commit("fix: SHOP-5: cart rounding", ""));
    assert_eq!((keyed.group(), keyed.description.as_str()), (Group::Fixes, "cart rounding"));
    // Not conventional: a colon that is not a type.
    let prose = parse(&commit("Note to self: tidy up (SHOP-6)", ""));
    assert_eq!(prose.kind, None);
    let url = parse(&commit("docs(readme): see https://example.com SHOP-8", ""));
    assert_eq!(url.scope.as_deref(), Some("readme"));
}

#[test]
fn hotfix_revert_and_merge_r5b() {
    let h = parse(&commit("HOTFIX-7: payment provider timeout", ""));
    assert!(h.hotfix);
    assert_eq!(keys(&h), ["HOTFIX-7"]);
    assert_eq!(h.group(), Group::Fixes);
    let r = parse(&commit("Revert \"feat: PayPal SHOP-1\"", "This reverts commit abcdef1234567890.\n"));
    assert_eq!(r.revert.as_deref(), Some("abcdef1234567890"));
    let m = parse(&Commit { parents: 2, ..commit("Merge pull request #42 from dev/x", "") });
    assert!(m.merge);
    assert!(parse(&commit("Merge branch 'develop'", "")).merge);
}

#[test]
fn the_gate_lists_commits_without_keys_and_honours_exemptions_r4a() {
    let mut policy = crate::Policy::default().vcs;
    let changes: Vec<Change> = [
        commit("feat: PayPal SHOP-1", ""),
        commit("chore(deps): bump serde", ""),
        commit("chore: tidy", ""),
        Commit { parents: 2, ..commit("Merge branch 'x'", "") },
        Commit { author: "dependabot[bot]".into(), ..commit("build: bump tokio", "") },
    ]
    .iter()
    .map(parse)
    .collect();
    let subjects =
        |p: &crate::policy::VcsPolicy| untracked(&changes, p).iter().map(|c| c.subject.clone()).collect::<Vec<_>>();
    assert_eq!(subjects(&policy), ["chore(deps): bump serde", "chore: tidy", "build: bump tokio"]);
    policy.exempt_types = vec!["chore(deps)".into()];
    policy.exempt_authors = vec!["dependabot[bot]".into()];
    assert_eq!(subjects(&policy), ["chore: tidy"]);
    policy.merge_commits = crate::policy::MergeCommits::Check;
    assert_eq!(subjects(&policy), ["chore: tidy", "Merge branch 'x'"]);
}

#[test]
fn a_revert_and_what_it_reverts_leave_the_notes_together() {
    let a = Commit { sha: "aaaaaaa111".into(), ..commit("feat: PayPal SHOP-1", "") };
    let r = Commit {
        sha: "bbbbbbb222".into(),
        ..commit("Revert \"feat: PayPal SHOP-1\"", "This reverts commit aaaaaaa111.")
    };
    let b = Commit { sha: "ccccccc333".into(), ..commit("fix: rounding SHOP-2", "") };
    let notes = for_notes([r, a, b].iter().map(parse).collect(), &crate::Policy::default().vcs);
    assert_eq!(notes.iter().map(|c| c.subject.as_str()).collect::<Vec<_>>(), ["fix: rounding SHOP-2"]);
}

fn v(s: &str) -> Version {
    s.parse().expect("version")
}

#[test]
fn next_version_from_kind_and_commits_r4e() {
    let fix = [parse(&commit("fix: a SHOP-1", ""))];
    let feat = [parse(&commit("feat: b SHOP-2", "")), parse(&commit("fix: a SHOP-1", ""))];
    let breaking = [parse(&commit("feat!: c SHOP-3", ""))];
    let next = |last: &str, kind, changes: &[Change], pre| {
        next_version(Some(&v(last)), kind, changes, pre).expect("next").version.to_string()
    };
    assert_eq!(next("1.4.2", ReleaseKind::Patch, &fix, None), "1.4.3");
    assert_eq!(next("1.4.2", ReleaseKind::Patch, &feat, None), "1.5.0");
    assert_eq!(next("1.4.2", ReleaseKind::Patch, &breaking, None), "2.0.0");
    assert_eq!(next("1.4.2", ReleaseKind::Minor, &fix, None), "1.5.0");
    assert_eq!(next("1.4.2", ReleaseKind::Major, &fix, None), "2.0.0");
    assert_eq!(next("1.4.2", ReleaseKind::Emergency, &fix, None), "1.4.3");
    assert_eq!(next("1.4.2", ReleaseKind::Minor, &fix, Some("rc")), "1.5.0-rc.1");
    assert_eq!(next("1.5.0-rc.1", ReleaseKind::Minor, &fix, Some("rc")), "1.5.0-rc.2");
    assert_eq!(next("1.5.0-rc.2", ReleaseKind::Minor, &fix, None), "1.5.0");
    assert_eq!(next("1.5.0-rc.2", ReleaseKind::Minor, &breaking, None), "2.0.0");
    assert_eq!(next("1.5.0-beta.3", ReleaseKind::Minor, &fix, Some("rc")), "1.5.0-rc.1");
    let first = next_version(None, ReleaseKind::Minor, &fix, None).expect("first");
    assert_eq!(first.version.to_string(), "0.1.0");
    assert!(next_version(None, ReleaseKind::Minor, &fix, Some("r c")).is_err());
    let why = next_version(Some(&v("1.0.0")), ReleaseKind::Patch, &breaking, None).expect("next");
    assert_eq!(why.reason, "1 breaking change");
}

proptest! {
    #[test]
    fn parsing_never_panics(subject in ".{0,120}", body in ".{0,200}") {
        let c = parse(&commit(&subject, &body));
        prop_assert!(c.tickets.len() <= subject.len() + body.len());
    }

    #[test]
    fn the_next_version_is_always_greater_r4c(
        major in 0u64..5, minor in 0u64..5, patch in 0u64..5,
        kind in prop::sample::select(vec![ReleaseKind::Major, ReleaseKind::Minor, ReleaseKind::Patch, ReleaseKind::Emergency]),
        breaking in any::<bool>(), feature in any::<bool>(), pre in prop::option::of(prop::sample::select(vec!["rc", "beta"])),
        last_pre in prop::option::of(1u64..4),
    ) {
        let mut last = semver::Version::new(major, minor, patch);
        if let Some(n) = last_pre {
            last.pre = semver::Prerelease::new(&format!("rc.{n}")).expect("pre");
        }
        let last = Version::from(last);
        let mut changes = vec![parse(&commit("fix: x SHOP-1", ""))];
        if feature { changes.push(parse(&commit("feat: y SHOP-2", ""))); }
        if breaking { changes.push(parse(&commit("feat!: z SHOP-3", ""))); }
        let next = next_version(Some(&last), kind, &changes, pre).expect("next");
        prop_assert!(next.version > last, "{} after {}", next.version, last);
    }

    #[test]
    fn conventional_type_and_scope_round_trip(kind in "[a-z]{1,8}", scope in prop::option::of("[a-z0-9-]{1,10}"), bang in any::<bool>(), text in "[a-z][a-z ]{0,29}") {
        let subject = format!("{kind}{}{}: {text}", scope.as_ref().map(|s| format!("({s})")).unwrap_or_default(), if bang { "!" } else { "" });
        let c = parse(&commit(&subject, ""));
        prop_assert_eq!(c.kind.as_deref(), Some(kind.as_str()));
        prop_assert_eq!(c.scope, scope);
        prop_assert_eq!(c.breaking, bang);
    }
}

#[test]
fn pull_requests_are_read_from_merge_and_squash_subjects_r4d() {
    let commit = |subject: &str| Commit {
        sha: "0".repeat(40),
        subject: subject.into(),
        body: String::new(),
        author: "dev".into(),
        parents: 1,
    };
    let commits = [
        commit("Merge pull request #12 from acme/feature/cards"),
        commit("SHOP-7: pay by card (#15)"),
        commit("fix: typo (SHOP-9)"),
        commit("Merge pull request #12 from acme/feature/cards"),
        commit("feat: (#x)"),
    ];
    assert_eq!(super::pull_requests(&commits), vec![12, 15]);
}

#[test]
fn a_message_with_100000_distinct_keys_parses_quickly_r4a_r4b() {
    // Issue #18: de-duplication by `Vec::contains` made this quadratic (minutes).
    let body: String = (0..100_000).map(|i| format!("PAY-{i} ")).collect();
    let subject = "fix: many tickets PAY-0 PAY-1";
    let started = std::time::Instant::now();
    let change = parse(&commit(subject, &body));
    let elapsed = started.elapsed();
    assert_eq!(change.tickets.len(), 100_000);
    assert_eq!(change.tickets[0].to_string(), "PAY-0");
    assert_eq!(change.tickets[99_999].to_string(), "PAY-99999");
    assert!(elapsed < std::time::Duration::from_secs(5), "took {elapsed:?}");
}

#[test]
fn repeated_keys_keep_their_first_seen_order_r4b() {
    let change = parse(&commit("fix: BB-2 and AA-1", "Refs: AA-1, CC-3, BB-2, CC-3"));
    assert_eq!(keys(&change), ["BB-2", "AA-1", "CC-3"]);
}
