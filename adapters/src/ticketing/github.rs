//! GitHub Issues as tickets (R-4b, R-4d, R-7b, R-9d), through the REST API
//! (<https://docs.github.com/en/rest/issues/issues>).
//!
//! Tickets are issues (`#123`). Their kind and severity come from labels:
//! a `bug` label makes a `Bug`; `severity: critical`, `severity:high`,
//! `priority: high`, `P1` or a bare `critical` give the severity.
//!
//! - [`Ticketing::get`]: `GET /repos/{owner}/{repo}/issues/{n}`.
//! - [`Ticketing::open_bugs_for`]: the scope's open bugs, and the open bugs
//!   of the milestone named after the version
//!   (`GET /repos/{owner}/{repo}/milestones`, then
//!   `GET /repos/{owner}/{repo}/issues?milestone=N&state=open&labels=bug`,
//!   page by page).
//! - [`Ticketing::comment`]: `POST /repos/{owner}/{repo}/issues/{n}/comments`.
//! - [`Ticketing::transition`]: `Done`/`Closed` closes the issue as completed
//!   (`PATCH`, `state: closed`, `state_reason: completed`), `Open` reopens it;
//!   other statuses become a `status: <name>` label.
//! - [`Ticketing::create_release_ticket`]: an issue labelled
//!   `shipwarden-release`, found again by its title on a retry.
//! - [`Ticketing::reviewers`] (R-4d): the distinct users whose latest review
//!   of a pull request approves it
//!   (`GET /repos/{owner}/{repo}/pulls/{n}/reviews`,
//!   <https://docs.github.com/en/rest/pulls/reviews>).
//!
//! The token lives in a `secrecy` type and is sent only as the
//! `Authorization` header. Failures follow the shared rules, with GitHub's
//! secondary rate limit (403 with `x-ratelimit-remaining: 0` or
//! `Retry-After`) read as rate limited.

use async_trait::async_trait;
use secrecy::SecretString;
use serde_json::{Value, json};
use shipwarden::ports::{ErrorKind, Lookup, PortError, Ticket, Ticketing};
use shipwarden::{Plan, TicketKey};
use std::collections::BTreeMap;

use crate::github_api::GithubRepo;
use crate::rest::Reply;

const PORT: &str = "ticketing github";
/// The label on release tickets shipwarden creates.
pub const RELEASE_LABEL: &str = "shipwarden-release";
const PAGE: usize = 100;

/// The issues of one GitHub repository.
#[derive(Debug)]
pub struct GithubIssues {
    github: GithubRepo,
}

fn fail(operation: &str, kind: ErrorKind, message: impl Into<String>) -> PortError {
    PortError::new(PORT, operation, kind, message)
}

/// The severity a label names, if any.
fn severity_of_label(label: &str) -> Option<String> {
    let label = label.trim().to_ascii_lowercase();
    let value = label
        .strip_prefix("severity")
        .or_else(|| label.strip_prefix("priority"))
        .map(|rest| rest.trim_start_matches([':', '/', '-', ' ']).trim())
        .unwrap_or(&label);
    match value {
        "critical" | "blocker" | "p0" => Some("critical".into()),
        "high" | "p1" => Some("high".into()),
        "medium" | "p2" => Some("medium".into()),
        "low" | "p3" => Some("low".into()),
        _ => None,
    }
}

impl GithubIssues {
    /// Issues of `owner/repo` at `api` (`https://api.github.com`, or GitHub Enterprise's `/api/v3`).
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(
        api: impl Into<String>,
        owner: impl Into<String>,
        repo: impl Into<String>,
        token: SecretString,
    ) -> Result<Self, PortError> {
        Ok(Self { github: GithubRepo::new(PORT, api, owner, repo, token)? })
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.github.request(method, path)
    }

    fn with_json(request: reqwest::RequestBuilder, body: &Value) -> reqwest::RequestBuilder {
        request.header("Content-Type", "application/json").body(body.to_string())
    }

    async fn call(&self, operation: &str, request: reqwest::RequestBuilder) -> Result<Reply, PortError> {
        self.github.call(operation, request).await
    }

    fn number(operation: &str, key: &TicketKey) -> Result<u64, PortError> {
        match key {
            TicketKey::Issue(n) => Ok(*n),
            other => Err(fail(operation, ErrorKind::Invalid, format!("{other} is not a GitHub issue (#123)"))),
        }
    }

    fn ticket(issue: &Value) -> Result<Ticket, PortError> {
        let number =
            issue["number"].as_u64().ok_or_else(|| fail("read", ErrorKind::Invalid, "an issue without a number"))?;
        let labels: Vec<String> = issue["labels"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l["name"].as_str().map(str::to_owned))
            .collect();
        let kind = if issue["pull_request"].is_object() {
            "Pull request"
        } else if labels.iter().any(|l| l.eq_ignore_ascii_case("bug")) {
            "Bug"
        } else {
            "Issue"
        };
        let status = match issue["state"].as_str() {
            Some("closed") => "Closed",
            _ => "Open",
        };
        Ok(Ticket {
            key: TicketKey::Issue(number),
            summary: issue["title"].as_str().unwrap_or_default().to_owned(),
            status: status.to_owned(),
            kind: kind.to_owned(),
            severity: labels.iter().find_map(|l| severity_of_label(l)),
        })
    }

    /// Every page of a list (`per_page=100&page=N` until a short page).
    async fn list(&self, operation: &str, path_and_query: &str) -> Result<Vec<Value>, PortError> {
        let mut all = Vec::new();
        let separator = if path_and_query.contains('?') { '&' } else { '?' };
        for page in 1..=100 {
            let path = format!("{path_and_query}{separator}per_page={PAGE}&page={page}");
            let items = self.call(operation, self.request(reqwest::Method::GET, &path)).await?.json();
            let items = items.as_array().cloned().unwrap_or_default();
            let n = items.len();
            all.extend(items);
            if n < PAGE {
                break;
            }
        }
        Ok(all)
    }

    fn open_bug(ticket: &Ticket, severities: &[String]) -> bool {
        ticket.kind == "Bug"
            && ticket.status == "Open"
            && ticket.severity.as_ref().is_some_and(|s| severities.iter().any(|w| w.eq_ignore_ascii_case(s)))
    }
}

#[async_trait]
impl Ticketing for GithubIssues {
    async fn get(&self, key: &TicketKey) -> Result<Ticket, PortError> {
        let n = Self::number("get", key)?;
        let reply = self.call("get", self.request(reqwest::Method::GET, &format!("/issues/{n}"))).await?;
        Self::ticket(&reply.json())
    }

    async fn open_bugs(&self, scope: &[TicketKey], severities: &[String]) -> Result<Vec<Ticket>, PortError> {
        let mut bugs = Vec::new();
        for key in scope.iter().filter(|k| matches!(k, TicketKey::Issue(_))) {
            let ticket = self.get(key).await?;
            if Self::open_bug(&ticket, severities) {
                bugs.push(ticket);
            }
        }
        Ok(bugs)
    }

    async fn open_bugs_for(&self, plan: &Plan, severities: &[String]) -> Result<Vec<Ticket>, PortError> {
        let mut bugs: BTreeMap<u64, Ticket> = BTreeMap::new();
        for bug in self.open_bugs(&plan.scope, severities).await? {
            if let TicketKey::Issue(n) = bug.key {
                bugs.insert(n, bug);
            }
        }
        let version = plan.version.to_string();
        let milestones = self.list("open bugs", "/milestones?state=all").await?;
        let milestone = milestones.iter().find(|m| {
            m["title"].as_str().is_some_and(|t| t == version || t.strip_prefix('v') == Some(version.as_str()))
        });
        if let Some(number) = milestone.and_then(|m| m["number"].as_u64()) {
            for issue in self.list("open bugs", &format!("/issues?milestone={number}&state=open&labels=bug")).await? {
                let ticket = Self::ticket(&issue)?;
                if let (true, TicketKey::Issue(n)) = (Self::open_bug(&ticket, severities), &ticket.key) {
                    bugs.insert(*n, ticket);
                }
            }
        }
        Ok(bugs.into_values().collect())
    }

    async fn comment(&self, key: &TicketKey, body: &str) -> Result<(), PortError> {
        let n = Self::number("comment", key)?;
        let request = self.request(reqwest::Method::POST, &format!("/issues/{n}/comments"));
        self.call("comment", Self::with_json(request, &json!({ "body": body }))).await.map(|_| ())
    }

    async fn transition(&self, key: &TicketKey, status: &str) -> Result<(), PortError> {
        let n = Self::number("transition", key)?;
        let body = match status.to_ascii_lowercase().as_str() {
            "done" | "closed" | "resolved" | "released" => json!({ "state": "closed", "state_reason": "completed" }),
            "open" | "reopened" | "to do" => json!({ "state": "open" }),
            _ => {
                let request = self.request(reqwest::Method::POST, &format!("/issues/{n}/labels"));
                let labels = json!({ "labels": [format!("status: {status}")] });
                return self.call("transition", Self::with_json(request, &labels)).await.map(|_| ());
            }
        };
        let request = self.request(reqwest::Method::PATCH, &format!("/issues/{n}"));
        self.call("transition", Self::with_json(request, &body)).await.map(|_| ())
    }

    async fn create_release_ticket(&self, plan: &Plan) -> Result<TicketKey, PortError> {
        let title = format!("Release {} {}", plan.project, plan.version);
        let existing = self.list("create release ticket", &format!("/issues?state=all&labels={RELEASE_LABEL}")).await?;
        if let Some(issue) = existing.iter().find(|i| i["title"].as_str() == Some(title.as_str())) {
            return Self::ticket(issue).map(|t| t.key);
        }
        let scope: Vec<String> = plan.scope.iter().map(ToString::to_string).collect();
        let body = json!({
            "title": title,
            "body": format!(
                "Release {} of {} ({:?}).\n\nScope: {}",
                plan.version,
                plan.project,
                plan.kind,
                if scope.is_empty() { "-".to_owned() } else { scope.join(", ") }
            ),
            "labels": [RELEASE_LABEL],
        });
        let reply = self
            .call("create release ticket", Self::with_json(self.request(reqwest::Method::POST, "/issues"), &body))
            .await?;
        Self::ticket(&reply.json()).map(|t| t.key)
    }

    async fn reviewers(&self, pull: u64) -> Result<Lookup<u32>, PortError> {
        let reviews = self.list("reviewers", &format!("/pulls/{pull}/reviews")).await?;
        // A user's latest review counts (an approval can be followed by "changes requested").
        let mut latest: BTreeMap<String, String> = BTreeMap::new();
        for review in &reviews {
            let (Some(user), Some(state)) = (review["user"]["login"].as_str(), review["state"].as_str()) else {
                continue;
            };
            if matches!(state, "APPROVED" | "CHANGES_REQUESTED" | "DISMISSED") {
                latest.insert(user.to_owned(), state.to_owned());
            }
        }
        Ok(Lookup::Done(latest.values().filter(|s| *s == "APPROVED").count() as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_are_read_from_common_label_styles() {
        for (label, severity) in [
            ("severity: critical", Some("critical")),
            ("Severity/High", Some("high")),
            ("priority:P1", Some("high")),
            ("critical", Some("critical")),
            ("P0", Some("critical")),
            ("enhancement", None),
        ] {
            assert_eq!(severity_of_label(label).as_deref(), severity, "{label}");
        }
    }
}
