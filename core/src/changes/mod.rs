//! Change tracking (R-4a, R-4b, R-4e, R-5b): what commits say. Ticket keys
//! anywhere in a message; conventional-commit type, scope, `!` and
//! `BREAKING CHANGE:` footers; `HOTFIX` prefixes; reverts and merges; the
//! R-4a gate with the policy's exemptions; the next version.
//!
//! Both formats of the procedure are understood: `JIRA-456: Add payment API`
//! is a feature of JIRA-456, `Fix #123: login bug` a fix of #123.

mod keys;
mod version;

pub use keys::ticket_keys;
pub use version::{Bump, NextVersion, next_version};

use serde::{Deserialize, Serialize};

use crate::model::TicketKey;
use crate::policy::{MergeCommits, VcsPolicy};
use crate::ports::Commit;

/// Where a change goes in the release notes (R-9b).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// Breaking changes (`!`, `BREAKING CHANGE:`).
    Breaking,
    /// Features (`feat`, "Add …").
    Features,
    /// Fixes (`fix`, "Fix …").
    Fixes,
    /// Performance (`perf`).
    Performance,
    /// Everything else.
    Other,
}

impl Group {
    /// The heading in release notes.
    pub fn title(self) -> &'static str {
        match self {
            Group::Breaking => "Breaking changes",
            Group::Features => "Features",
            Group::Fixes => "Fixes",
            Group::Performance => "Performance",
            Group::Other => "Other",
        }
    }
}

/// A commit, read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The full commit id.
    pub sha: String,
    /// The subject line as written.
    pub subject: String,
    /// The conventional type, lower case (`feat`), or the one the wording implies ("Add …" is `feat`).
    pub kind: Option<String>,
    /// The conventional scope (`api`).
    pub scope: Option<String>,
    /// The subject without its type, scope and leading ticket key.
    pub description: String,
    /// A breaking change (`!` or a `BREAKING CHANGE:` footer).
    pub breaking: bool,
    /// The text of the `BREAKING CHANGE:` footer.
    pub breaking_note: Option<String>,
    /// Every ticket key in subject and body, in order.
    pub tickets: Vec<TicketKey>,
    /// The subject starts with `HOTFIX` (R-5b).
    pub hotfix: bool,
    /// The commit this one reverts (its id, or its subject when the id is not given).
    pub revert: Option<String>,
    /// A merge commit.
    pub merge: bool,
    /// The author's name.
    pub author: String,
}

/// Verbs that make a plain subject a feature or a fix.
const FEATURE_VERBS: [&str; 8] = ["add", "adds", "added", "implement", "implements", "introduce", "support", "allow"];
const FIX_VERBS: [&str; 8] = ["fix", "fixes", "fixed", "resolve", "resolves", "correct", "corrects", "repair"];

/// `type(scope)!: rest` → (type, scope, bang, rest).
fn conventional(subject: &str) -> Option<(&str, Option<&str>, bool, &str)> {
    let colon = subject.find(": ")?;
    let head = &subject[..colon];
    let rest = subject[colon + 2..].trim_start();
    let (head, bang) = match head.strip_suffix('!') {
        Some(h) => (h, true),
        None => (head, false),
    };
    let (kind, scope) = match head.find('(') {
        Some(open) if head.ends_with(')') => (&head[..open], Some(&head[open + 1..head.len() - 1])),
        Some(_) => return None,
        None => (head, None),
    };
    let valid = !kind.is_empty() && kind.len() <= 20 && kind.bytes().all(|b| b.is_ascii_alphabetic());
    let scope_ok = scope.is_none_or(|s| !s.is_empty() && !s.contains(['(', ')']));
    (valid && scope_ok).then_some((kind, scope, bang, rest))
}

/// Strips a leading ticket key and separator: `JIRA-456: Add` → `Add`; `[OPS-1] Fix` → `Fix`.
fn strip_key(text: &str) -> &str {
    let t = text.trim_start_matches('[');
    let end = t.find([':', ']', ' ']).unwrap_or(t.len());
    let word = &t[..end];
    if is_key(word) { t[end..].trim_start_matches([':', ']', ' ', '-']) } else { text }
}

/// `Fix #123: login bug` → `login bug`; `drop v1 PAY-9` and `tidy up (#12)` lose their trailing keys.
fn tidy(text: &str) -> &str {
    let mut t = text.trim();
    if let Some((head, rest)) = t.split_once(": ") {
        let mut words = head.split_whitespace();
        if let (Some(_verb), Some(key), None) = (words.next(), words.next(), words.next())
            && is_key(key)
            && !rest.trim().is_empty()
        {
            t = rest.trim();
        }
    }
    while let Some((before, last)) = t.rsplit_once(' ') {
        let bare = last.trim_start_matches('(').trim_end_matches(')').trim_end_matches(',');
        if !is_key(bare) || before.trim().is_empty() {
            break;
        }
        t = before.trim_end();
    }
    t
}

fn is_key(word: &str) -> bool {
    ticket_keys(word).first().is_some_and(|k| k.to_string() == word)
}

fn first_word_lower(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or_default().to_ascii_lowercase()
}

/// Reads a commit.
pub fn parse(commit: &Commit) -> Change {
    parse_owned(commit.clone())
}

/// Reads a commit, keeping its strings (no copies: for long histories).
pub fn parse_owned(commit: Commit) -> Change {
    let Commit { sha, subject: raw_subject, body, author, parents } = commit;
    let commit = Body { body: &body, parents };
    let subject = raw_subject.trim();
    let mut change = Change {
        sha,
        subject: String::new(),
        kind: None,
        scope: None,
        description: String::new(),
        breaking: false,
        breaking_note: None,
        tickets: Vec::new(),
        hotfix: subject.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("hotfix")),
        revert: None,
        merge: commit.parents > 1 || subject.starts_with("Merge branch ") || subject.starts_with("Merge pull request "),
        author,
    };
    let (mut keys, mut seen) = (Vec::new(), std::collections::HashSet::new());
    keys::extend_keys(subject, &mut keys, &mut seen);
    keys::extend_keys(commit.body, &mut keys, &mut seen);
    change.tickets = keys;
    if let Some(inner) = subject.strip_prefix("Revert \"").and_then(|s| s.strip_suffix('"')) {
        let sha = commit
            .body
            .lines()
            .find_map(|l| l.trim().strip_prefix("This reverts commit "))
            .map(|s| s.trim_end_matches('.').trim().to_owned());
        change.revert = Some(sha.unwrap_or_else(|| inner.to_owned()));
        change.kind = Some("revert".into());
        change.description = inner.to_owned();
    } else if let Some((kind, scope, bang, rest)) = conventional(subject) {
        change.kind = Some(kind.to_ascii_lowercase());
        change.scope = scope.map(str::to_owned);
        change.breaking = bang;
        // Ticket keys around the wording are references (listed as links), not wording.
        change.description = tidy(strip_key(rest)).to_owned();
    } else {
        let rest = strip_key(subject);
        let verb = first_word_lower(rest);
        change.kind = if FEATURE_VERBS.contains(&verb.as_str()) {
            Some("feat".into())
        } else if FIX_VERBS.contains(&verb.as_str()) {
            Some("fix".into())
        } else {
            None
        };
        change.description = tidy(strip_key(rest)).to_owned();
    }
    if commit.body.contains("BREAKING") {
        for line in commit.body.lines() {
            let line = line.trim();
            if let Some(note) = line.strip_prefix("BREAKING CHANGE:").or_else(|| line.strip_prefix("BREAKING-CHANGE:"))
            {
                change.breaking = true;
                change.breaking_note = Some(note.trim().to_owned());
            }
        }
    }
    change.subject = if subject.len() == raw_subject.len() { raw_subject } else { subject.to_owned() };
    change
}

/// The parts of a commit the parser reads after taking its strings.
struct Body<'a> {
    body: &'a str,
    parents: usize,
}

impl Change {
    /// The note group.
    pub fn group(&self) -> Group {
        if self.breaking {
            return Group::Breaking;
        }
        match self.kind.as_deref() {
            Some("feat" | "feature") => Group::Features,
            Some("fix" | "bugfix" | "hotfix") => Group::Fixes,
            Some("perf") => Group::Performance,
            _ if self.hotfix => Group::Fixes,
            _ => Group::Other,
        }
    }

    /// The first 7 characters of the id.
    pub fn short(&self) -> &str {
        self.sha.get(..7).unwrap_or(&self.sha)
    }

    /// True when the policy lets this commit go without a ticket key (R-4a).
    pub fn exempt(&self, policy: &VcsPolicy) -> bool {
        if self.merge && policy.merge_commits == MergeCommits::Skip {
            return true;
        }
        if policy.exempt_authors.iter().any(|a| a == &self.author) {
            return true;
        }
        let Some(kind) = &self.kind else { return false };
        policy.exempt_types.iter().any(|t| match t.split_once('(') {
            Some((k, scope)) => k == kind && self.scope.as_deref() == Some(scope.trim_end_matches(')')),
            None => t == kind,
        })
    }
}

/// The newest release tag older than `version` (`prefix` + SemVer), with
/// its version: where "since the last release" starts. The release's own
/// tag may already exist (the tag step can run first), so it never counts.
pub fn last_release_tag(
    tags: &[crate::ports::Tag],
    prefix: &str,
    version: &crate::model::Version,
) -> Option<(crate::model::Version, String)> {
    tags.iter()
        .filter_map(|t| crate::model::Version::from_tag(&t.name, prefix).ok().map(|v| (v, t.name.clone())))
        .filter(|(v, _)| v < version)
        .max()
}

/// The pull requests the commits merged (R-4d), read from GitHub's merge
/// subjects (`Merge pull request #12 from …`) and squash subjects ending in
/// `(#12)`; each once, in the commits' order.
pub fn pull_requests(commits: &[Commit]) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for commit in commits {
        let subject = commit.subject.trim();
        let number = if let Some(rest) = subject.strip_prefix("Merge pull request #") {
            rest.split(|c: char| !c.is_ascii_digit()).next().and_then(|n| n.parse().ok())
        } else if let Some(open) = subject.strip_suffix(')').and_then(|s| s.rfind("(#").map(|i| &s[i + 2..])) {
            open.parse().ok()
        } else {
            None
        };
        if let Some(n) = number
            && seen.insert(n)
        {
            out.push(n);
        }
    }
    out
}

/// R-4a: the commits that should carry a ticket key and do not.
pub fn untracked<'a>(changes: &'a [Change], policy: &VcsPolicy) -> Vec<&'a Change> {
    changes.iter().filter(|c| c.tickets.is_empty() && !c.exempt(policy)).collect()
}

/// R-4a as a verdict: every commit in `changes` (since `since`, e.g. the
/// last release tag) that should carry a ticket key does, or a refusal
/// naming each commit that does not, with its subject.
pub fn check_tracked(changes: &[Change], policy: &VcsPolicy, since: &str) -> Result<(), crate::machine::Refusal> {
    let missing = untracked(changes, policy);
    if missing.is_empty() {
        return Ok(());
    }
    let unmet = missing
        .iter()
        .map(|c| {
            crate::machine::Unmet::new(
                crate::RuleId::R_4A,
                crate::machine::Requirement::UntrackedCommit {
                    commit: c.short().to_owned(),
                    subject: c.subject.clone(),
                },
            )
        })
        .collect();
    let attempted =
        format!("{} of {} commits since {since} carry a ticket key", changes.len() - missing.len(), changes.len());
    Err(crate::machine::Refusal::new(None, attempted, unmet))
}

/// R-4c as a verdict: `version` is newer than the last release (`last`,
/// its version and tag), or a refusal naming both.
pub fn check_newer(
    version: &crate::model::Version,
    last: Option<(&crate::model::Version, &str)>,
) -> Result<(), crate::machine::Refusal> {
    match last {
        Some((lv, tag)) if version <= lv => Err(crate::machine::Refusal::new(
            None,
            format!("set the version to {version}"),
            vec![crate::machine::Unmet::new(
                crate::RuleId::R_4C,
                crate::machine::Requirement::VersionNotNewer {
                    version: version.to_string(),
                    last: format!("{lv} ({tag})"),
                },
            )],
        )),
        _ => Ok(()),
    }
}

/// The changes that belong in notes: merges skipped (per policy), and a
/// commit and its revert both dropped when both are in the range.
pub fn for_notes(changes: Vec<Change>, policy: &VcsPolicy) -> Vec<Change> {
    let reverted: Vec<String> = changes.iter().filter_map(|c| c.revert.clone()).collect();
    let present = |r: &str| changes.iter().any(|c| c.sha.starts_with(r) || c.subject == r);
    let cancelled: Vec<String> = reverted.iter().filter(|r| present(r)).cloned().collect();
    changes
        .into_iter()
        .filter(|c| !(c.merge && policy.merge_commits == MergeCommits::Skip))
        .filter(|c| !cancelled.iter().any(|r| c.sha.starts_with(r.as_str()) || &c.subject == r))
        .filter(|c| !c.revert.as_ref().is_some_and(|r| cancelled.contains(r)))
        .collect()
}

#[cfg(test)]
mod tests;
