//! Publishes release notes as a GitHub release (R-9b), through the REST API
//! (`POST /repos/{owner}/{repo}/releases`, or `PATCH .../releases/{id}` when
//! the tag's release exists). The token lives in a `secrecy` type, is sent
//! only as the `Authorization` header, and is never in errors or `Debug`.

use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;

use crate::github_api::GithubRepo;
use shipwarden::ports::{ErrorKind, NotesPublisher, PortError};
use shipwarden::{ReleaseId, Version};

const PORT: &str = "notes github";

/// GitHub releases of one repository.
#[derive(Debug)]
pub struct GithubReleases {
    github: GithubRepo,
    tag_prefix: String,
}

fn fail(operation: &str, kind: ErrorKind, message: impl Into<String>) -> PortError {
    PortError::new(PORT, operation, kind, message)
}

impl GithubReleases {
    /// Releases of `owner/repo` at `api` (`https://api.github.com`, or a GitHub Enterprise `/api/v3`).
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(
        api: impl Into<String>,
        owner: impl Into<String>,
        repo: impl Into<String>,
        token: SecretString,
    ) -> Result<Self, PortError> {
        Ok(Self { github: GithubRepo::new(PORT, api, owner, repo, token)?, tag_prefix: "v".into() })
    }

    /// Release tags are this prefix plus the version.
    pub fn with_tag_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.tag_prefix = prefix.into();
        self
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.github.request(method, path)
    }

    async fn send(
        &self,
        operation: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<(u16, serde_json::Value), PortError> {
        let response = request.send().await.map_err(|e| {
            let kind = if e.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Unavailable };
            // reqwest's error text holds the URL, never the token.
            fail(operation, kind, e.to_string())
        })?;
        let status = response.status().as_u16();
        let retry_after =
            response.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
        let remaining =
            response.headers().get("x-ratelimit-remaining").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = response.bytes().await.map_err(|e| fail(operation, ErrorKind::Unavailable, e.to_string()))?;
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        let message = body["message"].as_str().unwrap_or_default().to_owned();
        match status {
            200..=299 | 404 => Ok((status, body)),
            429 => Err(rate_limited(operation, retry_after, message)),
            403 if remaining.as_deref() == Some("0") || retry_after.is_some() => {
                Err(rate_limited(operation, retry_after, message))
            }
            401 | 403 => Err(fail(operation, ErrorKind::Rejected, format!("GitHub answered {status}: {message}"))),
            422 => {
                Err(fail(operation, ErrorKind::Invalid, format!("GitHub answered 422: {message} {}", body["errors"])))
            }
            500..=599 => Err(fail(operation, ErrorKind::Unavailable, format!("GitHub answered {status}"))),
            _ => Err(fail(operation, ErrorKind::Other, format!("GitHub answered {status}: {message}"))),
        }
    }
}

fn rate_limited(operation: &str, retry_after: Option<u64>, message: String) -> PortError {
    let mut e = fail(operation, ErrorKind::RateLimited, format!("GitHub rate limit: {message}"));
    e.retry_after = retry_after.map(Duration::from_secs);
    e
}

#[async_trait]
impl NotesPublisher for GithubReleases {
    async fn publish(&self, _release: &ReleaseId, version: &Version, markdown: &str) -> Result<String, PortError> {
        let tag = version.tag(&self.tag_prefix);
        let name = format!("{} {version}", self.github.repo);
        let (status, existing) =
            self.send("find", self.request(reqwest::Method::GET, &format!("/releases/tags/{tag}"))).await?;
        let (operation, request) = if status == 200 {
            let id =
                existing["id"].as_u64().ok_or_else(|| fail("find", ErrorKind::Invalid, "a release without an id"))?;
            let body = serde_json::json!({ "name": name, "body": markdown });
            ("update", self.request(reqwest::Method::PATCH, &format!("/releases/{id}")).json_body(&body))
        } else {
            let body = serde_json::json!({
                "tag_name": tag, "name": name, "body": markdown, "draft": false, "prerelease": version.is_prerelease()
            });
            ("create", self.request(reqwest::Method::POST, "/releases").json_body(&body))
        };
        let (status, created) = self.send(operation, request).await?;
        if status == 404 {
            return Err(fail(
                operation,
                ErrorKind::NotFound,
                format!("{}/{} not found, or the token cannot see it", self.github.owner, self.github.repo),
            ));
        }
        Ok(created["html_url"].as_str().map_or_else(|| format!("github release {tag}"), str::to_owned))
    }
}

trait JsonBody {
    fn json_body(self, value: &serde_json::Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, value: &serde_json::Value) -> Self {
        self.header("Content-Type", "application/json").body(value.to_string())
    }
}
