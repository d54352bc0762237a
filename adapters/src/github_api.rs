//! One GitHub repository's REST API, as the GitHub adapters (releases,
//! issues) reach it: the API root, the repository, the token (sent only as
//! the `Authorization` header) and the documented headers
//! (`Accept: application/vnd.github+json`, `X-GitHub-Api-Version`).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use shipwarden::ports::{ErrorKind, PortError};

use crate::rest::{Reply, send, status_error};

/// A repository on GitHub or GitHub Enterprise.
pub(crate) struct GithubRepo {
    port: String,
    pub api: String,
    pub owner: String,
    pub repo: String,
    token: SecretString,
    client: reqwest::Client,
}

impl std::fmt::Debug for GithubRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubRepo")
            .field("api", &self.api)
            .field("owner", &self.owner)
            .field("repo", &self.repo)
            .finish_non_exhaustive()
    }
}

impl GithubRepo {
    /// `owner/repo` at `api`; `port` names the adapter in a setup error.
    pub fn new(
        port: &str,
        api: impl Into<String>,
        owner: impl Into<String>,
        repo: impl Into<String>,
        token: SecretString,
    ) -> Result<Self, PortError> {
        let client = crate::tls_client::http_client(Duration::from_secs(30))
            .map_err(|e| PortError::new(port, "setup", ErrorKind::Invalid, e))?;
        Ok(Self {
            port: port.to_owned(),
            api: api.into().trim_end_matches('/').to_owned(),
            owner: owner.into(),
            repo: repo.into(),
            token,
            client,
        })
    }

    /// A request to `/repos/{owner}/{repo}{path}` with GitHub's headers and the token.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}/repos/{}/{}{path}", self.api, self.owner, self.repo))
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .bearer_auth(self.token.expose_secret())
    }

    /// Sends `request`; fails unless GitHub answers 2xx, with GitHub's `message` (and `errors`) in the error.
    /// GitHub's secondary rate limit (403 saying so, or with `Retry-After`) is rate limited, like 429.
    pub async fn call(&self, operation: &str, request: reqwest::RequestBuilder) -> Result<Reply, PortError> {
        let reply = send(&self.port, operation, request).await?;
        if reply.ok() {
            return Ok(reply);
        }
        let body = reply.json();
        let mut message = body["message"].as_str().unwrap_or_default().to_owned();
        if reply.status == 403 && (message.contains("rate limit") || reply.retry_after.is_some()) {
            let mut e = PortError::new(
                &self.port,
                operation,
                ErrorKind::RateLimited,
                format!("GitHub answered 403: {message}"),
            );
            e.retry_after = reply.retry_after;
            return Err(e);
        }
        if body["errors"].is_array() {
            message.push_str(&format!(" {}", body["errors"]));
        }
        Err(status_error(&self.port, operation, "GitHub", &reply, &message))
    }
}
