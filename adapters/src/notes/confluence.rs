//! Release notes as a Confluence Cloud page (R-9b), through the REST API v2:
//! the page titled `<project> <version> release notes` in a space is created,
//! or updated as its next version; the body is the notes rendered from
//! Markdown to Confluence's storage format (XHTML).
//!
//! Calls (<https://developer.atlassian.com/cloud/confluence/rest/v2/>):
//! `GET /wiki/api/v2/spaces?keys=KEY`, `GET /wiki/api/v2/pages?space-id=…&title=…`,
//! `POST /wiki/api/v2/pages`, `PUT /wiki/api/v2/pages/{id}`; basic auth with
//! an account's email and API token (from an environment variable).

use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use shipwarden::ports::{ErrorKind, NotesPublisher, PortError};
use shipwarden::{ReleaseId, Version};

use crate::rest::{Reply, send_ok};

const PORT: &str = "notes confluence";

/// Publishes notes as pages of a Confluence space.
pub struct ConfluenceNotes {
    base: String,
    space: String,
    parent: Option<String>,
    email: String,
    token: SecretString,
    project: String,
    client: reqwest::Client,
}

impl std::fmt::Debug for ConfluenceNotes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfluenceNotes")
            .field("base", &self.base)
            .field("space", &self.space)
            .field("email", &self.email)
            .field("token", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// The notes' Markdown as Confluence storage format (XHTML). Raw HTML in
/// the notes (a commit subject with `<b>`) is escaped as text: it could not
/// be trusted, and unbalanced tags would make the page invalid XHTML.
pub fn storage_format(markdown: &str) -> String {
    use pulldown_cmark::Event;
    let parser = pulldown_cmark::Parser::new_ext(markdown, pulldown_cmark::Options::ENABLE_TABLES).map(|e| match e {
        Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
        e => e,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, parser);
    html
}

impl ConfluenceNotes {
    /// Pages of `project` in the space with key `space` at `base`
    /// (`https://acme.atlassian.net/wiki`), as `email` with an API token.
    pub fn new(
        base: impl Into<String>,
        space: impl Into<String>,
        email: impl Into<String>,
        token: SecretString,
        project: impl Into<String>,
    ) -> Result<Self, PortError> {
        let client = crate::tls_client::http_client(Duration::from_secs(30))
            .map_err(|e| PortError::new(PORT, "setup", ErrorKind::Invalid, e))?;
        Ok(Self {
            base: base.into().trim_end_matches('/').to_owned(),
            space: space.into(),
            parent: None,
            email: email.into(),
            token,
            project: project.into(),
            client,
        })
    }

    /// New pages go under this page.
    pub fn with_parent(mut self, id: impl Into<String>) -> Self {
        self.parent = Some(id.into());
        self
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}/api/v2{path}", self.base))
            .basic_auth(&self.email, Some(self.token.expose_secret()))
            .header("Accept", "application/json")
    }

    /// Sends; fails unless the reply is a success, with Confluence's error titles in the message.
    async fn call(&self, operation: &str, request: reqwest::RequestBuilder) -> Result<Reply, PortError> {
        send_ok(PORT, operation, "Confluence", request, |body| {
            body["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["title"].as_str().map(str::to_owned))
                .collect()
        })
        .await
    }

    async fn space_id(&self) -> Result<String, PortError> {
        let reply = self
            .call("find space", self.request(reqwest::Method::GET, "/spaces").query(&[("keys", &self.space)]))
            .await?;
        reply.json()["results"][0]["id"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| reply.json()["results"][0]["id"].as_u64().map(|n| n.to_string()))
            .ok_or_else(|| {
                PortError::new(PORT, "find space", ErrorKind::NotFound, format!("no space with key {}", self.space))
            })
    }
}

#[async_trait]
impl NotesPublisher for ConfluenceNotes {
    async fn publish(&self, release: &ReleaseId, version: &Version, markdown: &str) -> Result<String, PortError> {
        let space = self.space_id().await?;
        let title = format!("{} {version} release notes", self.project);
        let found = self
            .call(
                "find page",
                self.request(reqwest::Method::GET, "/pages").query(&[
                    ("space-id", space.as_str()),
                    ("title", title.as_str()),
                    ("status", "current"),
                ]),
            )
            .await?
            .json();
        let body = json!({ "representation": "storage", "value": storage_format(markdown) });
        let page = &found["results"][0];
        let reply = match page["id"].as_str() {
            Some(id) => {
                let next = page["version"]["number"].as_u64().unwrap_or(1) + 1;
                let update = json!({
                    "id": id,
                    "status": "current",
                    "title": title,
                    "body": body,
                    "version": { "number": next, "message": format!("shipwarden: {release}") },
                });
                self.call("update page", self.request(reqwest::Method::PUT, &format!("/pages/{id}")).json(&update))
                    .await?
            }
            None => {
                let mut create = json!({ "spaceId": space, "status": "current", "title": title, "body": body });
                if let Some(parent) = &self.parent {
                    create["parentId"] = json!(parent);
                }
                self.call("create page", self.request(reqwest::Method::POST, "/pages").json(&create)).await?
            }
        };
        let page = reply.json();
        let link = page["_links"]["webui"].as_str().map(|w| format!("{}{w}", self.base));
        Ok(link.unwrap_or_else(|| format!("{}/pages/{}", self.base, page["id"].as_str().unwrap_or_default())))
    }
}
