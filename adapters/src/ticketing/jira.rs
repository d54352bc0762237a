//! Jira Cloud tickets (R-4b, R-7b, R-9d) through the REST API v3
//! (<https://developer.atlassian.com/cloud/jira/platform/rest/v3/>).
//!
//! - [`Ticketing::get`]: `GET /rest/api/3/issue/{key}?fields=summary,status,issuetype,priority`.
//! - [`Ticketing::open_bugs_for`]: `POST /rest/api/3/search/jql` (the
//!   enhanced search; pages follow `nextPageToken` until `isLast`) with
//!   `issuetype = Bug AND statusCategory != Done AND priority in (…) AND
//!   (fixVersion = "<version>" OR key in (<scope>))`.
//! - [`Ticketing::comment`]: `POST /rest/api/3/issue/{key}/comment`, the body in
//!   Atlassian Document Format (headings, paragraphs, bullet lists).
//! - [`Ticketing::transition`]: `GET …/transitions`, then `POST …/transitions`
//!   with the id of the one that leads to the status. Moving a release ticket
//!   to Done also releases its fixVersion (`PUT /rest/api/3/version/{id}`,
//!   `released: true`, `releaseDate`).
//! - [`Ticketing::create_release_ticket`]: finds or creates the fixVersion
//!   (`GET /rest/api/3/project/{key}/versions`, `POST /rest/api/3/version`),
//!   then finds (by label and fixVersion, so a retry never makes a second)
//!   or creates the release ticket (`POST /rest/api/3/issue`).
//!
//! Severities map to Jira priorities (`critical` → Highest, Critical,
//! Blocker; `high` → High by default). Authentication is basic with the
//! account's e-mail and an API token from an environment variable, held in
//! a `secrecy` type and never in errors or `Debug`. Failures follow the
//! shared rules: 5xx, 429 (with `Retry-After`) and connection errors
//! retryable, other 4xx not, with Jira's `errorMessages` in the error.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use shipwarden::ports::{ErrorKind, PortError, Ticket, Ticketing};
use shipwarden::{Plan, TicketKey};

use crate::rest::{Reply, send_ok};

const PORT: &str = "ticketing jira";
/// The label on release tickets shipwarden creates.
pub const RELEASE_LABEL: &str = "shipwarden-release";
const PAGE: usize = 100;

/// Jira Cloud, one project for release tickets and versions.
pub struct JiraTicketing {
    base: String,
    email: String,
    token: SecretString,
    project: String,
    release_issue_type: String,
    priorities: BTreeMap<String, Vec<String>>,
    client: reqwest::Client,
}

impl std::fmt::Debug for JiraTicketing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JiraTicketing")
            .field("base", &self.base)
            .field("email", &self.email)
            .field("project", &self.project)
            .finish_non_exhaustive()
    }
}

fn fail(operation: &str, kind: ErrorKind, message: impl Into<String>) -> PortError {
    PortError::new(PORT, operation, kind, message)
}

/// A JQL string literal.
fn jql_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Markdown-ish text as an Atlassian Document Format document: `#` headings,
/// `-`/`*` bullet lists, paragraphs with hard breaks between their lines, and
/// ```` ``` ```` fenced code blocks kept verbatim (a signed chain head's JSON, R-9d).
pub fn adf(text: &str) -> Value {
    let mut content = Vec::new();
    let mut prose = String::new();
    let mut code: Option<(String, Vec<&str>)> = None;
    for line in text.lines() {
        match (&mut code, line.trim_start().strip_prefix("```")) {
            (None, Some(language)) => {
                adf_prose(&std::mem::take(&mut prose), &mut content);
                code = Some((language.trim().to_owned(), Vec::new()));
            }
            (Some(_), Some(_)) => {
                if let Some((language, lines)) = code.take() {
                    // ADF has no empty text nodes: an empty block has no content.
                    let text = lines.join("\n");
                    let inline = if text.is_empty() { json!([]) } else { json!([{ "type": "text", "text": text }]) };
                    let mut block = json!({ "type": "codeBlock", "content": inline });
                    if !language.is_empty() {
                        block["attrs"] = json!({ "language": language });
                    }
                    content.push(block);
                }
            }
            (Some((_, lines)), None) => lines.push(line),
            (None, None) => {
                prose.push_str(line);
                prose.push('\n');
            }
        }
    }
    // A fence never closed is prose, as it was written.
    if let Some((language, lines)) = code {
        prose.push_str(&format!("```{language}\n{}", lines.join("\n")));
    }
    adf_prose(&prose, &mut content);
    json!({ "type": "doc", "version": 1, "content": content })
}

/// The blocks of text without code fences: headings, bullet lists, paragraphs.
fn adf_prose(text: &str, content: &mut Vec<Value>) {
    for block in text.split("\n\n").map(str::trim_end).filter(|b| !b.trim().is_empty()) {
        let lines: Vec<&str> = block.lines().collect();
        let mut paragraph: Vec<&str> = Vec::new();
        let mut bullets: Vec<&str> = Vec::new();
        let flush_paragraph = |paragraph: &mut Vec<&str>, content: &mut Vec<Value>| {
            if paragraph.is_empty() {
                return;
            }
            let mut inline = Vec::new();
            for (i, line) in paragraph.iter().enumerate() {
                if i > 0 {
                    inline.push(json!({ "type": "hardBreak" }));
                }
                if !line.is_empty() {
                    inline.push(json!({ "type": "text", "text": line }));
                }
            }
            content.push(json!({ "type": "paragraph", "content": inline }));
            paragraph.clear();
        };
        let flush_bullets = |bullets: &mut Vec<&str>, content: &mut Vec<Value>| {
            if bullets.is_empty() {
                return;
            }
            let items: Vec<Value> = bullets
                .iter()
                .map(|b| {
                    json!({ "type": "listItem", "content": [
                        { "type": "paragraph", "content": [{ "type": "text", "text": b }] }
                    ] })
                })
                .collect();
            content.push(json!({ "type": "bulletList", "content": items }));
            bullets.clear();
        };
        for line in lines {
            let trimmed = line.trim_start();
            let hashes = trimmed.chars().take_while(|c| *c == '#').count();
            if (1..=6).contains(&hashes) && trimmed[hashes..].starts_with(' ') {
                flush_paragraph(&mut paragraph, content);
                flush_bullets(&mut bullets, content);
                let title = trimmed[hashes..].trim();
                content.push(json!({
                    "type": "heading", "attrs": { "level": hashes },
                    "content": [{ "type": "text", "text": title }],
                }));
            } else if let Some(item) = trimmed.strip_prefix("- ").or_else(|| trimmed.strip_prefix("* ")) {
                flush_paragraph(&mut paragraph, content);
                bullets.push(item);
            } else {
                flush_bullets(&mut bullets, content);
                paragraph.push(line);
            }
        }
        flush_paragraph(&mut paragraph, content);
        flush_bullets(&mut bullets, content);
    }
}

impl JiraTicketing {
    /// Jira at `base` (`https://acme.atlassian.net`), signed in as `email` with an API `token`;
    /// release tickets and versions live in `project` (`SHOP`).
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(
        base: impl Into<String>,
        email: impl Into<String>,
        token: SecretString,
        project: impl Into<String>,
    ) -> Result<Self, PortError> {
        let client = crate::tls_client::http_client(Duration::from_secs(30))
            .map_err(|e| fail("setup", ErrorKind::Invalid, e))?;
        let priorities = BTreeMap::from([
            ("critical".to_owned(), vec!["Highest".to_owned(), "Critical".to_owned(), "Blocker".to_owned()]),
            ("high".to_owned(), vec!["High".to_owned()]),
            ("medium".to_owned(), vec!["Medium".to_owned()]),
            ("low".to_owned(), vec!["Low".to_owned(), "Lowest".to_owned()]),
        ]);
        Ok(Self {
            base: base.into().trim_end_matches('/').to_owned(),
            email: email.into(),
            token,
            project: project.into(),
            release_issue_type: "Task".into(),
            priorities,
            client,
        })
    }

    /// The issue type of release tickets (default `Task`).
    pub fn with_release_issue_type(mut self, name: impl Into<String>) -> Self {
        self.release_issue_type = name.into();
        self
    }

    /// The Jira priorities that mean `severity` (`critical` → `["P1"]`).
    pub fn with_priorities(mut self, severity: impl Into<String>, names: Vec<String>) -> Self {
        self.priorities.insert(severity.into().to_ascii_lowercase(), names);
        self
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .basic_auth(&self.email, Some(self.token.expose_secret()))
            .header("Accept", "application/json")
    }

    /// Sends, and fails unless the reply is a success; Jira's error messages go into the error.
    async fn call(&self, operation: &str, request: reqwest::RequestBuilder) -> Result<Reply, PortError> {
        send_ok(PORT, operation, "Jira", request, |body| {
            let mut messages: Vec<String> = body["errorMessages"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m.as_str().map(str::to_owned))
                .collect();
            if let Some(errors) = body["errors"].as_object() {
                messages.extend(errors.iter().map(|(field, m)| format!("{field}: {}", m.as_str().unwrap_or_default())));
            }
            messages
        })
        .await
    }

    fn json(request: reqwest::RequestBuilder, body: &Value) -> reqwest::RequestBuilder {
        request.header("Content-Type", "application/json").body(body.to_string())
    }

    /// Our severity for a Jira priority name.
    fn severity_of(&self, priority: &str) -> Option<String> {
        self.priorities
            .iter()
            .find(|(_, names)| names.iter().any(|n| n.eq_ignore_ascii_case(priority)))
            .map(|(severity, _)| severity.clone())
            .or_else(|| (!priority.is_empty()).then(|| priority.to_ascii_lowercase()))
    }

    fn ticket(&self, issue: &Value) -> Result<Ticket, PortError> {
        let key = issue["key"].as_str().unwrap_or_default();
        let key: TicketKey =
            key.parse().map_err(|e| fail("read", ErrorKind::Invalid, format!("Jira issue key {key:?}: {e}")))?;
        let fields = &issue["fields"];
        Ok(Ticket {
            key,
            summary: fields["summary"].as_str().unwrap_or_default().to_owned(),
            status: fields["status"]["name"].as_str().unwrap_or_default().to_owned(),
            kind: fields["issuetype"]["name"].as_str().unwrap_or_default().to_owned(),
            severity: fields["priority"]["name"].as_str().and_then(|p| self.severity_of(p)),
        })
    }

    /// Every issue matching `jql`, following `nextPageToken`.
    async fn search(&self, operation: &str, jql: &str, fields: &[&str]) -> Result<Vec<Value>, PortError> {
        let mut issues = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..1000 {
            let mut body = json!({ "jql": jql, "fields": fields, "maxResults": PAGE });
            if let Some(token) = &token {
                body["nextPageToken"] = token.clone().into();
            }
            let reply = self
                .call(operation, Self::json(self.request(reqwest::Method::POST, "/rest/api/3/search/jql"), &body))
                .await?;
            let page = reply.json();
            issues.extend(page["issues"].as_array().cloned().unwrap_or_default());
            token = page["nextPageToken"].as_str().map(str::to_owned);
            if page["isLast"].as_bool().unwrap_or(true) || token.is_none() {
                return Ok(issues);
            }
        }
        Err(fail(operation, ErrorKind::Invalid, "Jira kept answering more pages"))
    }

    /// The project's version named `name`: (id, released).
    async fn version(&self, name: &str) -> Result<Option<(String, bool)>, PortError> {
        let path = format!("/rest/api/3/project/{}/versions", self.project);
        let reply = self.call("find version", self.request(reqwest::Method::GET, &path)).await?;
        Ok(reply.json().as_array().into_iter().flatten().find(|v| v["name"].as_str() == Some(name)).map(|v| {
            (
                v["id"].as_str().map_or_else(|| v["id"].to_string(), str::to_owned),
                v["released"].as_bool().unwrap_or(false),
            )
        }))
    }

    /// Finds or creates the project's version `name`; returns its id.
    async fn ensure_version(&self, name: &str) -> Result<String, PortError> {
        if let Some((id, _)) = self.version(name).await? {
            return Ok(id);
        }
        let project = self
            .call(
                "create version",
                self.request(reqwest::Method::GET, &format!("/rest/api/3/project/{}", self.project)),
            )
            .await?
            .json();
        let project_id: u64 = project["id"]
            .as_str()
            .and_then(|i| i.parse().ok())
            .or_else(|| project["id"].as_u64())
            .ok_or_else(|| fail("create version", ErrorKind::Invalid, "Jira's project has no id"))?;
        let body = json!({
            "name": name,
            "projectId": project_id,
            "released": false,
            "description": "Created by shipwarden for the release.",
        });
        let reply = self
            .call("create version", Self::json(self.request(reqwest::Method::POST, "/rest/api/3/version"), &body))
            .await?;
        let created = reply.json();
        created["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| fail("create version", ErrorKind::Invalid, "no version id"))
    }

    /// Marks the versions of a release ticket released (R-9d), when the ticket carries our label.
    async fn release_versions(&self, key: &TicketKey) -> Result<(), PortError> {
        let path = format!("/rest/api/3/issue/{key}?fields=labels,fixVersions");
        let issue = self.call("release version", self.request(reqwest::Method::GET, &path)).await?.json();
        let labelled =
            issue["fields"]["labels"].as_array().into_iter().flatten().any(|l| l.as_str() == Some(RELEASE_LABEL));
        if !labelled {
            return Ok(());
        }
        let today = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
        for version in issue["fields"]["fixVersions"].as_array().into_iter().flatten() {
            if version["released"].as_bool() == Some(true) {
                continue;
            }
            let Some(id) = version["id"].as_str() else { continue };
            let body = json!({ "released": true, "releaseDate": today });
            self.call(
                "release version",
                Self::json(self.request(reqwest::Method::PUT, &format!("/rest/api/3/version/{id}")), &body),
            )
            .await?;
        }
        Ok(())
    }

    fn fix_version(plan: &Plan) -> String {
        plan.version.to_string()
    }
}

#[async_trait]
impl Ticketing for JiraTicketing {
    async fn get(&self, key: &TicketKey) -> Result<Ticket, PortError> {
        let path = format!("/rest/api/3/issue/{key}?fields=summary,status,issuetype,priority");
        let reply = self.call("get", self.request(reqwest::Method::GET, &path)).await?;
        self.ticket(&reply.json())
    }

    async fn open_bugs(&self, scope: &[TicketKey], severities: &[String]) -> Result<Vec<Ticket>, PortError> {
        if scope.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = scope.iter().map(ToString::to_string).collect();
        self.bugs(&format!("key in ({})", keys.join(", ")), severities).await
    }

    async fn open_bugs_for(&self, plan: &Plan, severities: &[String]) -> Result<Vec<Ticket>, PortError> {
        let mut within = format!("fixVersion = {}", jql_string(&Self::fix_version(plan)));
        if !plan.scope.is_empty() {
            let keys: Vec<String> = plan.scope.iter().map(ToString::to_string).collect();
            within = format!("{within} OR key in ({})", keys.join(", "));
        }
        // The project must have the version for JQL to accept `fixVersion = …`.
        if self.version(&Self::fix_version(plan)).await?.is_none() {
            return self.open_bugs(&plan.scope, severities).await;
        }
        self.bugs(&within, severities).await
    }

    async fn comment(&self, key: &TicketKey, body: &str) -> Result<(), PortError> {
        let path = format!("/rest/api/3/issue/{key}/comment");
        self.call("comment", Self::json(self.request(reqwest::Method::POST, &path), &json!({ "body": adf(body) })))
            .await
            .map(|_| ())
    }

    async fn transition(&self, key: &TicketKey, status: &str) -> Result<(), PortError> {
        let path = format!("/rest/api/3/issue/{key}/transitions");
        let reply = self.call("transition", self.request(reqwest::Method::GET, &path)).await?;
        let transitions = reply.json()["transitions"].as_array().cloned().unwrap_or_default();
        let chosen = transitions.iter().find(|t| {
            t["to"]["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(status))
                || t["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case(status))
        });
        let Some(id) = chosen.and_then(|t| t["id"].as_str()) else {
            let names: Vec<&str> = transitions.iter().filter_map(|t| t["to"]["name"].as_str()).collect();
            // Already there: nothing to do (a repeat after a crash).
            let current = self.get(key).await?;
            if current.status.eq_ignore_ascii_case(status) {
                return self.release_versions(key).await;
            }
            return Err(fail(
                "transition",
                ErrorKind::Rejected,
                format!("{key} cannot move to {status} from {}: it can move to {}", current.status, names.join(", ")),
            ));
        };
        let body = json!({ "transition": { "id": id } });
        self.call("transition", Self::json(self.request(reqwest::Method::POST, &path), &body)).await?;
        if status.eq_ignore_ascii_case("done") {
            self.release_versions(key).await?;
        }
        Ok(())
    }

    async fn create_release_ticket(&self, plan: &Plan) -> Result<TicketKey, PortError> {
        let version = Self::fix_version(plan);
        let version_id = self.ensure_version(&version).await?;
        let jql = format!(
            "project = {} AND labels = {} AND fixVersion = {}",
            jql_string(&self.project),
            jql_string(RELEASE_LABEL),
            jql_string(&version)
        );
        if let Some(existing) = self.search("create release ticket", &jql, &["summary"]).await?.first() {
            return self.ticket(existing).map(|t| t.key);
        }
        let scope: Vec<String> = plan.scope.iter().map(ToString::to_string).collect();
        let description = format!(
            "Release {} of {} ({:?}).\n\nScope: {}",
            plan.version,
            plan.project,
            plan.kind,
            if scope.is_empty() { "-".to_owned() } else { scope.join(", ") }
        );
        let body = json!({ "fields": {
            "project": { "key": self.project },
            "summary": format!("Release {} {}", plan.project, plan.version),
            "issuetype": { "name": self.release_issue_type },
            "labels": [RELEASE_LABEL],
            "fixVersions": [{ "id": version_id }],
            "description": adf(&description),
        } });
        let reply = self
            .call("create release ticket", Self::json(self.request(reqwest::Method::POST, "/rest/api/3/issue"), &body))
            .await?;
        let key = reply.json()["key"].as_str().unwrap_or_default().to_owned();
        key.parse().map_err(|e| fail("create release ticket", ErrorKind::Invalid, format!("Jira key {key:?}: {e}")))
    }
}

impl JiraTicketing {
    async fn bugs(&self, within: &str, severities: &[String]) -> Result<Vec<Ticket>, PortError> {
        let priorities: Vec<String> = severities
            .iter()
            .flat_map(|s| self.priorities.get(&s.to_ascii_lowercase()).cloned().unwrap_or_else(|| vec![s.clone()]))
            .map(|p| jql_string(&p))
            .collect();
        if priorities.is_empty() {
            return Ok(Vec::new());
        }
        let jql = format!(
            "issuetype = Bug AND statusCategory != Done AND priority in ({}) AND ({within}) ORDER BY key",
            priorities.join(", ")
        );
        let issues = self.search("open bugs", &jql, &["summary", "status", "issuetype", "priority"]).await?;
        issues.iter().map(|i| self.ticket(i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jql_strings_are_quoted() {
        assert_eq!(jql_string(r#"1.0 "beta""#), r#""1.0 \"beta\"""#);
    }

    #[test]
    fn text_becomes_adf_headings_lists_and_paragraphs() {
        let doc = adf("Released.\nAll good.\n\n## Fixes\n- one\n- two");
        assert_eq!(doc["type"], "doc");
        let content = doc["content"].as_array().expect("content");
        assert_eq!(content[0]["type"], "paragraph");
        assert_eq!(content[0]["content"][1]["type"], "hardBreak");
        assert_eq!(content[1]["type"], "heading");
        assert_eq!(content[1]["attrs"]["level"], 2);
        assert_eq!(content[2]["type"], "bulletList");
        assert_eq!(content[2]["content"].as_array().expect("items").len(), 2);
    }
}
