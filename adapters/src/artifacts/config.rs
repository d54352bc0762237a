//! `[artifacts]`: where artifacts are kept. `kind` is `fs` (the default:
//! `STATE_DIR/artifacts`) or `oci` (any OCI registry).

use std::sync::Arc;

use serde::{Deserialize, Deserializer};
use shipwarden::Problem;
use shipwarden::ports::ArtifactStore;

use crate::config::adapter::{AdapterConfig, Context, SecretRef, require};
use crate::config::{ConfigError, default_kind};

/// `[artifacts]`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(remote = "Self", tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ArtifactsConfig {
    /// A content-addressed folder in the state folder.
    #[cfg(feature = "fs")]
    Fs(FsArtifactsConfig),
    /// An OCI registry (Harbor, GHCR, ECR, Artifactory).
    #[cfg(feature = "oci")]
    Oci(OciArtifactsConfig),
}

impl<'de> Deserialize<'de> for ArtifactsConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        default_kind(deserializer, "fs", ArtifactsConfig::deserialize)
    }
}

#[cfg(feature = "fs")]
impl Default for ArtifactsConfig {
    fn default() -> Self {
        ArtifactsConfig::Fs(FsArtifactsConfig {})
    }
}

impl ArtifactsConfig {
    /// The one place the kinds are told apart.
    fn adapter(&self) -> &(dyn AdapterConfig<Port = dyn ArtifactStore> + Send + Sync) {
        match self {
            #[cfg(feature = "fs")]
            ArtifactsConfig::Fs(c) => c,
            #[cfg(feature = "oci")]
            ArtifactsConfig::Oci(c) => c,
        }
    }
}

impl AdapterConfig for ArtifactsConfig {
    type Port = dyn ArtifactStore;

    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        self.adapter().validate(at, problems);
    }

    fn secrets(&self, at: &str, found: &mut Vec<SecretRef>) {
        self.adapter().secrets(at, found);
    }

    fn build(&self, at: &str, cx: &Context) -> Result<Arc<dyn ArtifactStore>, ConfigError> {
        self.adapter().build(at, cx)
    }
}

/// `kind = "fs"`: nothing to set; the folder is `STATE_DIR/artifacts`.
#[cfg(feature = "fs")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FsArtifactsConfig {}

#[cfg(feature = "fs")]
impl AdapterConfig for FsArtifactsConfig {
    type Port = dyn ArtifactStore;

    fn build(&self, _at: &str, cx: &Context) -> Result<Arc<dyn ArtifactStore>, ConfigError> {
        Ok(Arc::new(super::fs::FsArtifactStore::new(cx.state_dir().join("artifacts"))))
    }
}

/// `kind = "oci"`.
#[cfg(feature = "oci")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OciArtifactsConfig {
    /// The registry (`ghcr.io`, `harbor.example.com`, `127.0.0.1:5000`).
    pub registry: Option<String>,
    /// The namespace repositories live under (`acme/releases`; default: the project's name).
    pub namespace: Option<String>,
    /// Plain HTTP (a registry on loopback or a private network).
    #[serde(default)]
    pub insecure_http: bool,
    /// The user to sign in as.
    pub user: Option<String>,
    /// The environment variable holding the password or token.
    pub password_env: Option<String>,
    /// The layer's media type.
    pub media_type: Option<String>,
}

#[cfg(feature = "oci")]
impl AdapterConfig for OciArtifactsConfig {
    type Port = dyn ArtifactStore;

    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        require(at, &[("registry", self.registry.is_some())], "name the OCI registry (`ghcr.io`)", problems);
        if self.user.is_some() != self.password_env.is_some() {
            problems.push(Problem {
                path: at.to_owned(),
                message: "give both `user` and `password_env`, or neither".into(),
            });
        }
    }

    fn secrets(&self, at: &str, found: &mut Vec<SecretRef>) {
        found.extend(self.password_env.iter().map(|var| SecretRef::new(at, "password_env", var)));
    }

    fn build(&self, at: &str, cx: &Context) -> Result<Arc<dyn ArtifactStore>, ConfigError> {
        use super::oci::{OciArtifactStore, OciAuth, OciOptions};
        let auth = match (&self.user, &self.password_env) {
            (Some(user), Some(var)) => {
                OciAuth::Basic { user: user.clone(), password: cx.secret(var, &format!("{at}.password_env"))? }
            }
            (None, None) => OciAuth::Anonymous,
            _ => return Err(ConfigError::invalid(format!("{at}: give both `user` and `password_env`, or neither"))),
        };
        let mut options = OciOptions { insecure_http: self.insecure_http, ..OciOptions::default() };
        if let Some(media_type) = &self.media_type {
            options.layer_media_type = media_type.clone();
        }
        let registry = self.registry.clone().unwrap_or_default();
        let namespace = self.namespace.clone().unwrap_or_else(|| cx.project().to_owned());
        Ok(Arc::new(OciArtifactStore::new(registry, namespace, auth, options)?))
    }
}
