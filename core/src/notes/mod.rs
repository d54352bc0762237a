//! Release notes (R-9b, R-4b): the changes of a release grouped as
//! Breaking, Features, Fixes, Performance, Known issues and Other, each
//! entry linked to its tickets and commit, with the contributors. Pure:
//! the caller reads the commits and the tickets. Markdown here; JSON is the
//! serde form; the CLI renders a user's minijinja template from the same data.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::changes::{Change, Group};
use crate::model::{TicketKey, Version};
use crate::policy::Policy;

/// Whether `c` must not reach a terminal or a document raw: a control character other than a newline or
/// tab (ANSI escapes start with ESC), or a bidirectional override or isolate (U+202A–U+202E,
/// U+2066–U+2069, and the marks U+200E, U+200F, U+061C) that can make text read other than it is.
fn hidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// `text` as it may be shown (issue #18): each control character and bidi override written as a visible
/// escape (`\u{1b}`, `\u{202e}`), so commit text cannot colour a terminal or reorder what a reader sees.
/// The data keeps the original; only what is printed or rendered goes through this.
pub fn shown(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if hidden(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A link to a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketLink {
    /// The key (`SHOP-12`, `#123`).
    pub key: String,
    /// Where it can be read, when the policy has a URL template for it.
    pub url: Option<String>,
}

/// One change in the notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// What changed.
    pub description: String,
    /// The conventional scope.
    pub scope: Option<String>,
    /// The tickets it implements (R-4b).
    pub tickets: Vec<TicketLink>,
    /// The commit id.
    pub sha: String,
    /// Its link, when the policy has a commit URL template.
    pub commit_url: Option<String>,
    /// What breaks, for breaking changes.
    pub breaking_note: Option<String>,
    /// Who wrote it.
    pub author: String,
}

/// A group of entries under a heading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// Which group.
    pub group: Group,
    /// Its heading.
    pub title: String,
    /// Its entries, oldest first.
    pub entries: Vec<Entry>,
}

/// An open issue users should know about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownIssue {
    /// The ticket.
    pub ticket: TicketLink,
    /// Its summary.
    pub summary: String,
}

/// The notes of one release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseNotes {
    /// The project.
    pub project: String,
    /// The version, or none for unreleased changes.
    pub version: Option<Version>,
    /// The release date (`2026-11-28`).
    pub date: Option<String>,
    /// Non-empty groups, in the order Breaking, Features, Fixes, Performance, Other.
    pub sections: Vec<Section>,
    /// Open issues (after the groups in Markdown).
    pub known_issues: Vec<KnownIssue>,
    /// Authors, in order of first contribution.
    pub contributors: Vec<String>,
}

/// Turns ticket keys and commit ids into links with the policy's URL templates.
#[derive(Debug, Clone, Default)]
pub struct Links {
    ticket: Option<String>,
    issue: Option<String>,
    commit: Option<String>,
}

impl Links {
    /// The policy's templates (`tickets.url`, `tickets.issue_url`, `vcs.commit_url`).
    pub fn from_policy(policy: &Policy) -> Self {
        Self {
            ticket: policy.tickets.url.clone(),
            issue: policy.tickets.issue_url.clone(),
            commit: policy.vcs.commit_url.clone(),
        }
    }

    /// A ticket's link.
    pub fn ticket(&self, key: &TicketKey) -> TicketLink {
        let text = key.to_string();
        let url = match text.strip_prefix('#') {
            Some(n) => self.issue.as_ref().map(|t| t.replace("{number}", n)),
            None => self.ticket.as_ref().map(|t| t.replace("{key}", &text)),
        };
        TicketLink { key: text, url }
    }

    fn commit(&self, sha: &str) -> Option<String> {
        self.commit.as_ref().map(|t| t.replace("{sha}", sha))
    }
}

impl ReleaseNotes {
    /// Notes for `changes` (already filtered with [`crate::changes::for_notes`]), oldest first.
    pub fn build(
        project: &str,
        version: Option<Version>,
        date: Option<String>,
        changes: &[Change],
        known_issues: Vec<KnownIssue>,
        links: &Links,
    ) -> Self {
        Self::from_changes(project, version, date, changes.to_vec(), known_issues, links)
    }

    /// Like [`ReleaseNotes::build`], taking the changes (no copies: for long histories).
    pub fn from_changes(
        project: &str,
        version: Option<Version>,
        date: Option<String>,
        changes: Vec<Change>,
        known_issues: Vec<KnownIssue>,
        links: &Links,
    ) -> Self {
        let order = [Group::Breaking, Group::Features, Group::Fixes, Group::Performance, Group::Other];
        let mut sections: Vec<Section> =
            order.iter().map(|g| Section { group: *g, title: g.title().to_owned(), entries: Vec::new() }).collect();
        let mut contributors: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for c in changes {
            let i = order.iter().position(|g| *g == c.group()).unwrap_or(order.len() - 1);
            if !seen.contains(&c.author) {
                seen.insert(c.author.clone());
                contributors.push(c.author.clone());
            }
            let commit_url = links.commit(&c.sha);
            sections[i].entries.push(Entry {
                description: c.description,
                scope: c.scope,
                tickets: c.tickets.iter().map(|k| links.ticket(k)).collect(),
                sha: c.sha,
                commit_url,
                breaking_note: c.breaking_note,
                author: c.author,
            });
        }
        sections.retain(|s| !s.entries.is_empty());
        ReleaseNotes { project: project.to_owned(), version, date, sections, known_issues, contributors }
    }

    /// The notes as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = String::with_capacity(256 + self.sections.iter().map(|s| s.entries.len() * 96).sum::<usize>());
        self.write_markdown(&mut out);
        out
    }

    /// Appends the notes as Markdown to `out` (a changelog of many releases writes into one buffer).
    pub fn write_markdown(&self, out: &mut String) {
        match (&self.version, &self.date) {
            (Some(v), Some(d)) => {
                let _ = writeln!(out, "## {} {v} ({})\n", shown(&self.project), shown(d));
            }
            (Some(v), None) => {
                let _ = writeln!(out, "## {} {v}\n", shown(&self.project));
            }
            (None, _) => {
                let _ = writeln!(out, "## {} (unreleased)\n", shown(&self.project));
            }
        }
        if self.sections.is_empty() {
            out.push_str("No changes.\n\n");
        }
        for section in &self.sections {
            let _ = writeln!(out, "### {}\n", section.title);
            for e in &section.entries {
                out.push_str("- ");
                if let Some(scope) = &e.scope {
                    let _ = write!(out, "**{}:** ", shown(scope));
                }
                out.push_str(&shown(&e.description));
                for t in &e.tickets {
                    match &t.url {
                        Some(url) => {
                            let _ = write!(out, " [{}]({url})", t.key);
                        }
                        None => {
                            let _ = write!(out, " {}", t.key);
                        }
                    }
                }
                let short = e.sha.get(..7).unwrap_or(&e.sha);
                match &e.commit_url {
                    Some(url) => {
                        let _ = write!(out, " ([{short}]({url}))");
                    }
                    None => {
                        let _ = write!(out, " ({short})");
                    }
                }
                out.push('\n');
                if let Some(note) = &e.breaking_note {
                    let _ = writeln!(out, "  - {}", shown(note));
                }
            }
            out.push('\n');
        }
        if !self.known_issues.is_empty() {
            out.push_str("### Known issues\n\n");
            for k in &self.known_issues {
                match &k.ticket.url {
                    Some(url) => {
                        let _ = writeln!(out, "- [{}]({url}) {}", k.ticket.key, shown(&k.summary));
                    }
                    None => {
                        let _ = writeln!(out, "- {} {}", k.ticket.key, shown(&k.summary));
                    }
                }
            }
            out.push('\n');
        }
        if !self.contributors.is_empty() {
            let _ = writeln!(out, "### Contributors\n\n{}\n", shown(&self.contributors.join(", ")));
        }
    }
}

#[cfg(test)]
mod tests;
