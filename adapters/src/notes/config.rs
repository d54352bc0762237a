//! `[notes]`: where release notes are published besides `STATE_DIR/notes`;
//! each publisher's configuration and its construction.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use shipwarden::ports::NotesPublisher;

use crate::config::ConfigError;
use crate::config::adapter::{AdapterConfig, Context, SecretRef};

/// `[notes]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NotesConfig {
    /// A Confluence Cloud space.
    #[cfg(feature = "confluence")]
    pub confluence: Option<ConfluenceConfig>,
    /// A wiki git repository.
    #[cfg(feature = "wiki")]
    pub wiki: Option<WikiConfig>,
    /// GitHub releases.
    #[cfg(feature = "github")]
    pub github: Option<GithubConfig>,
}

impl NotesConfig {
    /// The secrets the publishers name.
    pub(crate) fn secrets(&self, found: &mut Vec<SecretRef>) {
        #[cfg(feature = "confluence")]
        if let Some(c) = &self.confluence {
            c.secrets("notes.confluence", found);
        }
        #[cfg(feature = "github")]
        if let Some(c) = &self.github {
            c.secrets("notes.github", found);
        }
    }

    /// Where notes go: the state folder, then each configured publisher.
    #[cfg(feature = "file")]
    pub(crate) fn build(&self, cx: &Context) -> Result<Arc<dyn NotesPublisher>, ConfigError> {
        let mut all: Vec<Arc<dyn NotesPublisher>> =
            vec![Arc::new(super::file::FileNotes::new(cx.state_dir().join("notes")))];
        #[cfg(feature = "wiki")]
        if let Some(c) = &self.wiki {
            all.push(c.build("notes.wiki", cx)?);
        }
        #[cfg(feature = "github")]
        if let Some(c) = &self.github {
            all.push(cx.port(c, "notes.github")?);
        }
        #[cfg(feature = "confluence")]
        if let Some(c) = &self.confluence {
            all.push(cx.port(c, "notes.confluence")?);
        }
        Ok(if all.len() == 1 { all.remove(0) } else { Arc::new(super::AllNotes(all)) })
    }
}

/// `[notes.confluence]`.
#[cfg(feature = "confluence")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ConfluenceConfig {
    /// The site's wiki URL (`https://acme.atlassian.net/wiki`).
    pub url: String,
    /// The space key (`REL`).
    pub space: String,
    /// The page new pages go under, by id.
    pub parent_id: Option<String>,
    /// The account's email.
    pub email: String,
    /// The environment variable holding its API token.
    pub token_env: String,
}

#[cfg(feature = "confluence")]
impl AdapterConfig for ConfluenceConfig {
    type Port = dyn NotesPublisher;

    fn secrets(&self, at: &str, found: &mut Vec<SecretRef>) {
        found.push(SecretRef::new(at, "token_env", &self.token_env));
    }

    fn build(&self, at: &str, cx: &Context) -> Result<Arc<dyn NotesPublisher>, ConfigError> {
        let token = cx.secret(&self.token_env, &format!("{at}.token_env"))?;
        let mut confluence = super::confluence::ConfluenceNotes::new(
            &self.url,
            &self.space,
            &self.email,
            token,
            cx.project().to_owned(),
        )?;
        if let Some(parent) = &self.parent_id {
            confluence = confluence.with_parent(parent);
        }
        Ok(Arc::new(confluence))
    }
}

/// `[notes.wiki]`.
#[cfg(feature = "wiki")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct WikiConfig {
    /// The wiki's git URL (`git@github.com:acme/shop.wiki.git`) or path.
    pub remote: String,
    /// Its branch (default `master`).
    pub branch: Option<String>,
    /// The page name, with `{version}` and `{release}`.
    pub page: Option<String>,
}

#[cfg(feature = "wiki")]
impl AdapterConfig for WikiConfig {
    type Port = dyn NotesPublisher;

    fn build(&self, _at: &str, cx: &Context) -> Result<Arc<dyn NotesPublisher>, ConfigError> {
        let remote = if Path::new(&self.remote).exists() {
            cx.path(Path::new(&self.remote)).display().to_string()
        } else {
            self.remote.clone()
        };
        let mut wiki = super::wiki::WikiNotes::new(remote, cx.state_dir().join("wiki"));
        if let Some(b) = &self.branch {
            wiki = wiki.with_branch(b);
        }
        if let Some(p) = &self.page {
            wiki = wiki.with_page(p);
        }
        Ok(Arc::new(wiki))
    }
}

/// `[notes.github]`.
#[cfg(feature = "github")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct GithubConfig {
    /// The repository's owner.
    pub owner: String,
    /// The repository.
    pub repo: String,
    /// The environment variable holding the token.
    pub token_env: String,
    /// The API (default `https://api.github.com`).
    pub api: Option<String>,
}

#[cfg(feature = "github")]
impl AdapterConfig for GithubConfig {
    type Port = dyn NotesPublisher;

    fn secrets(&self, at: &str, found: &mut Vec<SecretRef>) {
        found.push(SecretRef::new(at, "token_env", &self.token_env));
    }

    fn build(&self, at: &str, cx: &Context) -> Result<Arc<dyn NotesPublisher>, ConfigError> {
        let token = cx.secret(&self.token_env, &format!("{at}.token_env"))?;
        let api = self.api.clone().unwrap_or_else(|| "https://api.github.com".into());
        let github = super::github::GithubReleases::new(api, &self.owner, &self.repo, token)?
            .with_tag_prefix(cx.policy().vcs.tag_prefix.clone());
        Ok(Arc::new(github))
    }
}
