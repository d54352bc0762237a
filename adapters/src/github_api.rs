//! One GitHub repository's REST API, as the GitHub adapters (releases,
//! issues) reach it: the API root, the repository, the token (sent only as
//! the `Authorization` header) and the documented headers
//! (`Accept: application/vnd.github+json`, `X-GitHub-Api-Version`).

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use shipwarden::ports::{ErrorKind, PortError};

/// A repository on GitHub or GitHub Enterprise.
pub(crate) struct GithubRepo {
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
}
