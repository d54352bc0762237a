//! What the server serves: projects (one `shipwarden.toml` and its release
//! manager each), the verifiers of bearer tokens, and `[server]`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use shipwarden::engine::ReleaseManager;
use shipwarden::{Actor, ReleaseId, Role};
use shipwarden_adapters::config::{ConfigError, Loaded, ServerConfig};

use crate::auth::{Verified, Verify};
use crate::error::ApiError;

/// One project: its configuration and the manager built from it.
pub struct Project {
    /// `[project] name`.
    pub name: String,
    /// Its `shipwarden.toml`, read.
    pub loaded: Loaded,
    /// Its release manager.
    pub manager: ReleaseManager,
}

/// Everything a request handler reads.
pub struct AppState {
    /// The projects by name.
    pub projects: BTreeMap<String, Project>,
    /// The verifiers of bearer tokens, asked in order.
    pub verifiers: Vec<Arc<dyn Verify>>,
    /// `[server]` of the first configuration.
    pub settings: ServerConfig,
    /// The live feed of events and log lines (server-sent events).
    pub live: crate::live::Hub,
    /// The Prometheus metrics.
    pub metrics: crate::metrics::Metrics,
    /// The verifier of `[server.oidc]`, whose provider the console signs people in with.
    pub oidc: Option<Arc<crate::auth::OidcVerifier>>,
    /// The web console's sign-ins and sessions (`[server.console]`, issue #22).
    pub console: crate::console::Console,
    /// The Slack app whose buttons approve and reject (`[server.slack]`, issue #23).
    pub slack: Option<Arc<crate::slack::SlackApp>>,
    /// The key approval links are checked with (`[approval_links]`, issue #23).
    pub links: Option<Arc<shipwarden_adapters::links::LinkKey>>,
}

impl AppState {
    /// The state for `projects` with `settings`, no verifier yet.
    pub fn new(projects: Vec<Project>, settings: ServerConfig) -> Self {
        let console = crate::console::Console::new(settings.console.as_ref());
        AppState {
            projects: projects.into_iter().map(|p| (p.name.clone(), p)).collect(),
            verifiers: Vec::new(),
            settings,
            live: crate::live::Hub::default(),
            metrics: crate::metrics::Metrics::default(),
            oidc: None,
            console,
            slack: None,
            links: None,
        }
    }

    /// Reads each configuration and builds its manager; `[server]` comes from the first.
    pub async fn open(configs: &[impl AsRef<Path>]) -> Result<Self, ConfigError> {
        let mut projects = Vec::new();
        let mut settings = None;
        let mut slack = None;
        let mut links = None;
        for path in configs {
            let loaded = Loaded::read(path.as_ref())?.defer_secrets();
            let (manager, _) = loaded.manager(None).await?;
            if links.is_none() {
                // Read now: a server that cannot check the links its mails carry does not start.
                links = loaded.approval_link_key()?.map(Arc::new);
            }
            if settings.is_none()
                && let Some(config) = &loaded.config.server.slack
            {
                // Read now: a server that cannot verify Slack's requests does not start.
                slack = Some(Arc::new(crate::slack::SlackApp::from_config(config, &loaded)?));
            }
            settings.get_or_insert_with(|| loaded.config.server.clone());
            projects.push(Project { name: loaded.config.project.name.clone(), loaded, manager });
        }
        let mut state = AppState::new(projects, settings.unwrap_or_default());
        state.slack = slack;
        state.links = links;
        let verifiers = crate::auth::verifiers_from(&state).await?;
        let oidc = crate::auth::OidcVerifier::from_settings(&state.settings)
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let state = verifiers.into_iter().fold(state, AppState::with_verifier);
        Ok(match oidc {
            Some(oidc) => state.with_oidc(Arc::new(oidc)),
            None => state,
        })
    }

    /// The same state that also asks `verifier`.
    pub fn with_verifier(mut self, verifier: Arc<dyn Verify>) -> Self {
        self.verifiers.push(verifier);
        self
    }

    /// The same state that also accepts the tokens of `oidc`'s provider, and
    /// signs console users in there (`[server.console]`).
    pub fn with_oidc(mut self, oidc: Arc<crate::auth::OidcVerifier>) -> Self {
        self.verifiers.push(oidc.clone());
        self.oidc = Some(oidc);
        self
    }

    /// The project `name`, if `caller` may see it; otherwise 404 as for a project that does not exist.
    pub fn project(&self, name: &str, caller: &Verified) -> Result<&Project, ApiError> {
        self.projects
            .get(name)
            .filter(|p| p.visible_to(caller, &self.settings))
            .ok_or_else(|| ApiError::not_found(format!("no project `{name}`")))
    }

    /// The project a release belongs to (its id starts `<project>-`), if `caller` may see it.
    pub fn project_of(&self, release: &ReleaseId, caller: &Verified) -> Result<&Project, ApiError> {
        self.projects
            .values()
            .filter(|p| release.as_str().strip_prefix(p.name.as_str()).is_some_and(|rest| rest.starts_with('-')))
            .max_by_key(|p| p.name.len())
            .filter(|p| p.visible_to(caller, &self.settings))
            .ok_or_else(|| ApiError::not_found(format!("no release `{release}`")))
    }

    /// The projects `caller` may see.
    pub fn visible<'a>(&'a self, caller: &'a Verified) -> impl Iterator<Item = &'a Project> + 'a {
        self.projects.values().filter(move |p| p.visible_to(caller, &self.settings))
    }
}

impl Project {
    /// Whether `caller` may see this project: a user of it, or a reader
    /// (`[server.projects.NAME] readers`, by name or `group:NAME`).
    pub fn visible_to(&self, caller: &Verified, settings: &ServerConfig) -> bool {
        if self.loaded.config.users.contains_key(&caller.user) {
            return true;
        }
        settings.projects.get(&self.name).is_some_and(|access| {
            access.readers.iter().any(|r| match r.strip_prefix("group:") {
                Some(group) => caller.groups.contains(group),
                None => *r == caller.user,
            })
        })
    }

    /// The actor `caller` acts as here: their `[users]` roles and the roles
    /// their groups grant (`[server.oidc.groups]`), with the verified proof.
    pub fn actor(&self, caller: &Verified, settings: &ServerConfig) -> Actor {
        let mut roles: BTreeSet<Role> =
            self.loaded.config.users.get(&caller.user).map(|u| u.roles.iter().cloned().collect()).unwrap_or_default();
        if let Some(oidc) = &settings.oidc {
            for group in &caller.groups {
                roles.extend(oidc.groups.get(group).into_iter().flatten().cloned());
            }
        }
        Actor::new(caller.user.clone(), roles).with_proof(caller.proof.clone())
    }
}
