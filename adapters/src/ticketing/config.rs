//! `[ticketing]`: shipwarden's own tickets (`kind = "local"`, the default),
//! Jira Cloud (`jira`) or GitHub Issues (`github`).

use std::sync::Arc;

use serde::{Deserialize, Deserializer};
use shipwarden::Problem;
use shipwarden::ports::Ticketing;

use crate::config::adapter::{AdapterConfig, Context, SecretRef, require};
use crate::config::{ConfigError, default_kind};

/// `[ticketing]`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(remote = "Self", tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TicketingConfig {
    /// Tickets in the SQLite store (keys `PREFIX-1`).
    Local(LocalTicketingConfig),
    /// Jira Cloud (REST v3).
    #[cfg(feature = "jira")]
    Jira(JiraConfig),
    /// GitHub Issues.
    #[cfg(feature = "github")]
    Github(GithubIssuesConfig),
}

impl<'de> Deserialize<'de> for TicketingConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        default_kind(deserializer, "local", TicketingConfig::deserialize)
    }
}

impl Default for TicketingConfig {
    fn default() -> Self {
        TicketingConfig::Local(LocalTicketingConfig {})
    }
}

impl TicketingConfig {
    /// The one place the kinds are told apart: the remote system, if any.
    fn adapter(&self) -> Option<&(dyn AdapterConfig<Port = dyn Ticketing> + Send + Sync)> {
        match self {
            TicketingConfig::Local(_) => None,
            #[cfg(feature = "jira")]
            TicketingConfig::Jira(c) => Some(c),
            #[cfg(feature = "github")]
            TicketingConfig::Github(c) => Some(c),
        }
    }

    /// The remote ticketing system; none for shipwarden's own tickets.
    pub(crate) fn remote(&self, at: &str, cx: &Context) -> Result<Option<Arc<dyn Ticketing>>, ConfigError> {
        match self.adapter() {
            None => Ok(None),
            Some(_) => cx.port(self, at).map(Some),
        }
    }
}

impl AdapterConfig for TicketingConfig {
    type Port = dyn Ticketing;

    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        if let Some(c) = self.adapter() {
            c.validate(at, problems);
        }
    }

    fn secrets(&self, at: &str, found: &mut Vec<SecretRef>) {
        if let Some(c) = self.adapter() {
            c.secrets(at, found);
        }
    }

    fn build(&self, at: &str, cx: &Context) -> Result<Arc<dyn Ticketing>, ConfigError> {
        self.adapter()
            .ok_or_else(|| ConfigError::invalid(format!("{at}: shipwarden's own tickets live in the SQLite store")))?
            .build(at, cx)
    }
}

/// `kind = "local"`: nothing to set; keys start with `project.ticket_prefix`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LocalTicketingConfig {}

const NEEDED: &str = "this ticketing system needs it";

/// `kind = "jira"`.
#[cfg(feature = "jira")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct JiraConfig {
    /// The site (`https://acme.atlassian.net`).
    pub url: Option<String>,
    /// The account's e-mail.
    pub email: Option<String>,
    /// The environment variable holding the API token.
    pub token_env: Option<String>,
    /// The project for release tickets and versions (`SHOP`).
    pub project: Option<String>,
    /// The issue type of release tickets (default `Task`).
    pub release_issue_type: Option<String>,
}

#[cfg(feature = "jira")]
impl AdapterConfig for JiraConfig {
    type Port = dyn Ticketing;

    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        require(
            at,
            &[
                ("url", self.url.is_some()),
                ("email", self.email.is_some()),
                ("token_env", self.token_env.is_some()),
                ("project", self.project.is_some()),
            ],
            NEEDED,
            problems,
        );
    }

    fn secrets(&self, at: &str, found: &mut Vec<SecretRef>) {
        found.extend(self.token_env.iter().map(|var| SecretRef::new(at, "token_env", var)));
    }

    fn build(&self, at: &str, cx: &Context) -> Result<Arc<dyn Ticketing>, ConfigError> {
        let token = cx.secret(self.token_env.as_deref().unwrap_or_default(), &format!("{at}.token_env"))?;
        let mut jira = super::jira::JiraTicketing::new(
            self.url.clone().unwrap_or_default(),
            self.email.clone().unwrap_or_default(),
            token,
            self.project.clone().unwrap_or_default(),
        )?;
        if let Some(kind) = &self.release_issue_type {
            jira = jira.with_release_issue_type(kind);
        }
        Ok(Arc::new(jira))
    }
}

/// `kind = "github"`.
#[cfg(feature = "github")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct GithubIssuesConfig {
    /// The API (default `https://api.github.com`).
    pub url: Option<String>,
    /// The repository's owner.
    pub owner: Option<String>,
    /// The repository.
    pub repo: Option<String>,
    /// The environment variable holding the API token.
    pub token_env: Option<String>,
}

#[cfg(feature = "github")]
impl AdapterConfig for GithubIssuesConfig {
    type Port = dyn Ticketing;

    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        require(
            at,
            &[("owner", self.owner.is_some()), ("repo", self.repo.is_some()), ("token_env", self.token_env.is_some())],
            NEEDED,
            problems,
        );
    }

    fn secrets(&self, at: &str, found: &mut Vec<SecretRef>) {
        found.extend(self.token_env.iter().map(|var| SecretRef::new(at, "token_env", var)));
    }

    fn build(&self, at: &str, cx: &Context) -> Result<Arc<dyn Ticketing>, ConfigError> {
        let token = cx.secret(self.token_env.as_deref().unwrap_or_default(), &format!("{at}.token_env"))?;
        Ok(Arc::new(super::github::GithubIssues::new(
            self.url.clone().unwrap_or_else(|| "https://api.github.com".into()),
            self.owner.clone().unwrap_or_default(),
            self.repo.clone().unwrap_or_default(),
            token,
        )?))
    }
}
