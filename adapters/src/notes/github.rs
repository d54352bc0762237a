//! Publishes release notes as a GitHub release (R-9b), through the REST API
//! (`POST /repos/{owner}/{repo}/releases`, or `PATCH .../releases/{id}` when
//! the tag's release exists). The token lives in a `secrecy` type, is sent
//! only as the `Authorization` header, and is never in errors or `Debug`.

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
}

#[async_trait]
impl NotesPublisher for GithubReleases {
    async fn publish(&self, _release: &ReleaseId, version: &Version, markdown: &str) -> Result<String, PortError> {
        let tag = version.tag(&self.tag_prefix);
        let name = format!("{} {version}", self.github.repo);
        let found =
            self.github.call("find", self.request(reqwest::Method::GET, &format!("/releases/tags/{tag}"))).await;
        let (operation, request) = match found {
            Ok(existing) => {
                let id = existing.json()["id"]
                    .as_u64()
                    .ok_or_else(|| fail("find", ErrorKind::Invalid, "a release without an id"))?;
                let body = serde_json::json!({ "name": name, "body": markdown });
                ("update", self.request(reqwest::Method::PATCH, &format!("/releases/{id}")).json_body(&body))
            }
            Err(e) if e.kind == ErrorKind::NotFound => {
                let body = serde_json::json!({
                    "tag_name": tag, "name": name, "body": markdown, "draft": false, "prerelease": version.is_prerelease()
                });
                ("create", self.request(reqwest::Method::POST, "/releases").json_body(&body))
            }
            Err(e) => return Err(e),
        };
        let created = self.github.call(operation, request).await.map_err(|e| {
            if e.kind == ErrorKind::NotFound {
                fail(
                    operation,
                    ErrorKind::NotFound,
                    format!("{}/{} not found, or the token cannot see it", self.github.owner, self.github.repo),
                )
            } else {
                e
            }
        })?;
        let created = created.json();
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
