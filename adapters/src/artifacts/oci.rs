//! Artifacts in any OCI registry (R-1c, R-8b, R-8c): Harbor, GHCR, ECR,
//! Artifactory's OCI repositories, the CNCF distribution registry.
//!
//! Each artifact is pushed with [`oci_client`] as an OCI artifact: an image
//! manifest with `artifactType` [`ARTIFACT_TYPE`], a small JSON config of
//! media type [`CONFIG_MEDIA_TYPE`], and one layer holding the file, whose
//! media type is configurable (default [`LAYER_MEDIA_TYPE`]). The repository
//! is `<namespace>/<name>` and the tag is the version (`+` becomes `_`, which
//! tags cannot hold). Annotations on the manifest: the OCI pre-defined
//! `org.opencontainers.image.{title,version,revision,created}` and
//! `io.shipwarden.{release,tickets}`. Reads check the SHA-256 of what they
//! get (the client checks the registry's digest too), so a tampered blob is
//! refused. Every version stays in the registry, so the previous release is
//! there for a rollback (R-8c).
//!
//! The registry's password or token comes from an environment variable into a
//! `secrecy` type and is never in errors or `Debug`.
//!
//! Artifact manifests (`application/vnd.oci.artifact.manifest.v1+json`) were
//! withdrawn from the OCI spec before 1.1 and registries such as
//! distribution 2.8 refuse them: the image manifest with `artifactType` is
//! what the spec recommends.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::OciImageManifest;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use secrecy::{ExposeSecret, SecretString};
use shipwarden::ports::{ArtifactMeta, ArtifactStore, ErrorKind, PortError};
use shipwarden::{ArtifactRef, Sha256, Version};

/// The `artifactType` of every manifest shipwarden pushes.
pub const ARTIFACT_TYPE: &str = "application/vnd.shipwarden.artifact.v1";
/// The media type of the (small, JSON) config blob.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.shipwarden.artifact.config.v1+json";
/// The default media type of the layer that holds the file.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.shipwarden.artifact.layer.v1";

/// How to sign in to the registry.
pub enum OciAuth {
    /// No credentials (a public or local registry).
    Anonymous,
    /// A user name and a password or token (Harbor robot accounts, GHCR tokens, ECR passwords).
    Basic {
        /// The user.
        user: String,
        /// The password or token.
        password: SecretString,
    },
}

impl std::fmt::Debug for OciAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OciAuth::Anonymous => f.write_str("Anonymous"),
            OciAuth::Basic { user, .. } => f.debug_struct("Basic").field("user", user).finish_non_exhaustive(),
        }
    }
}

/// Artifacts as OCI artifacts in one registry, under one namespace.
pub struct OciArtifactStore {
    name: String,
    registry: String,
    namespace: String,
    layer_media_type: String,
    auth: OciAuth,
    client: Client,
}

impl std::fmt::Debug for OciArtifactStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OciArtifactStore")
            .field("registry", &self.registry)
            .field("namespace", &self.namespace)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// How the store talks to the registry.
#[derive(Debug, Clone)]
pub struct OciOptions {
    /// Plain HTTP instead of HTTPS (a registry on loopback or a private network).
    pub insecure_http: bool,
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// How long to wait for each read.
    pub read_timeout: Duration,
    /// The layer's media type.
    pub layer_media_type: String,
}

impl Default for OciOptions {
    fn default() -> Self {
        Self {
            insecure_http: false,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            layer_media_type: LAYER_MEDIA_TYPE.to_owned(),
        }
    }
}

/// A repository name as registries accept it: lowercase, `[a-z0-9]` separated by `.`, `_`, `-`, `/`.
fn repository_part(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        let after_alnum = out.chars().last().is_some_and(|l: char| l.is_ascii_alphanumeric());
        if c.is_ascii_alphanumeric() || (matches!(c, '.' | '_' | '-' | '/') && after_alnum) {
            out.push(c);
        } else if after_alnum {
            out.push('-');
        }
    }
    out.trim_end_matches(['.', '_', '-', '/']).to_owned()
}

/// The tag of a version: tags cannot hold `+` (build metadata), so it becomes `_`, as Helm does.
pub fn tag_of(version: &Version) -> String {
    version.to_string().replace('+', "_")
}

fn version_of_tag(tag: &str) -> Option<Version> {
    tag.replace('_', "+").parse().ok()
}

impl OciArtifactStore {
    /// A store in `registry` (`host[:port]`, e.g. `ghcr.io`, `127.0.0.1:5000`) under `namespace` (`acme/releases`).
    ///
    /// # Errors
    /// When the registry or namespace is empty or not a valid name.
    ///
    /// # Notes
    /// The client uses rustls with the *ring* provider; when the process has no default
    /// rustls provider yet, this installs *ring* as the default.
    pub fn new(
        registry: impl Into<String>,
        namespace: impl Into<String>,
        auth: OciAuth,
        options: OciOptions,
    ) -> Result<Self, PortError> {
        let registry = registry.into().trim_end_matches('/').to_owned();
        let registry = registry
            .strip_prefix("https://")
            .or_else(|| registry.strip_prefix("http://"))
            .unwrap_or(&registry)
            .to_owned();
        let namespace = repository_part(&namespace.into());
        let name = format!("artifact-store oci {registry}/{namespace}");
        if registry.is_empty() || registry.contains(['/', '@', ' ']) {
            return Err(PortError::new(name, "setup", ErrorKind::Invalid, "the registry must be `host[:port]`"));
        }
        // oci-client builds its own reqwest client, which takes the process's default provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let config = ClientConfig {
            protocol: if options.insecure_http { ClientProtocol::Http } else { ClientProtocol::Https },
            connect_timeout: Some(options.connect_timeout),
            read_timeout: Some(options.read_timeout),
            user_agent: concat!("shipwarden/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        };
        Ok(Self {
            name,
            registry,
            namespace,
            layer_media_type: options.layer_media_type,
            auth,
            client: Client::new(config),
        })
    }

    fn auth(&self) -> RegistryAuth {
        match &self.auth {
            OciAuth::Anonymous => RegistryAuth::Anonymous,
            OciAuth::Basic { user, password } => RegistryAuth::Basic(user.clone(), password.expose_secret().to_owned()),
        }
    }

    /// The repository that holds `name`'s versions.
    pub fn repository(&self, name: &str) -> String {
        let name = repository_part(name);
        if self.namespace.is_empty() { name } else { format!("{}/{name}", self.namespace) }
    }

    fn reference(&self, name: &str, version: &Version) -> Reference {
        Reference::with_tag(self.registry.clone(), self.repository(name), tag_of(version))
    }

    fn fail(&self, operation: &str, kind: ErrorKind, message: impl Into<String>) -> PortError {
        PortError::new(self.name.clone(), operation, kind, message)
    }

    /// Maps a client error to the port's kinds: connection errors and 5xx retryable, 429 rate limited,
    /// unknown names/manifests/blobs not found, 401/403 rejected.
    fn error(&self, operation: &str, e: OciDistributionError) -> PortError {
        let kind = match &e {
            OciDistributionError::RequestError(r) if r.is_timeout() => ErrorKind::Timeout,
            OciDistributionError::RequestError(r) => match r.status().map(|s| s.as_u16()) {
                Some(429) => ErrorKind::RateLimited,
                Some(404) => ErrorKind::NotFound,
                Some(401 | 403) => ErrorKind::Rejected,
                Some(400..=499) => ErrorKind::Rejected,
                _ => ErrorKind::Unavailable,
            },
            OciDistributionError::ServerError { code, .. } => match code {
                429 => ErrorKind::RateLimited,
                404 => ErrorKind::NotFound,
                408 => ErrorKind::Timeout,
                500..=599 => ErrorKind::Unavailable,
                _ => ErrorKind::Rejected,
            },
            OciDistributionError::RegistryError { envelope, .. } => {
                let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
                if codes.iter().any(|c| matches!(c, OciErrorCode::Toomanyrequests)) {
                    ErrorKind::RateLimited
                } else if codes.iter().any(|c| {
                    matches!(
                        c,
                        OciErrorCode::ManifestUnknown
                            | OciErrorCode::NameUnknown
                            | OciErrorCode::BlobUnknown
                            | OciErrorCode::NotFound
                    )
                }) {
                    ErrorKind::NotFound
                } else {
                    ErrorKind::Rejected
                }
            }
            OciDistributionError::ImageManifestNotFoundError(_) => ErrorKind::NotFound,
            OciDistributionError::AuthenticationFailure(_) | OciDistributionError::UnauthorizedError { .. } => {
                ErrorKind::Rejected
            }
            OciDistributionError::DigestError(_) => ErrorKind::Invalid,
            OciDistributionError::IoError(_) => ErrorKind::Unavailable,
            _ => ErrorKind::Other,
        };
        let message = match &e {
            // reqwest's text has the URL (never credentials: they go in headers).
            OciDistributionError::RequestError(r) => format!("{}: {r}", self.registry),
            other => other.to_string(),
        };
        self.fail(operation, kind, message).with_source(e)
    }

    /// The manifest tagged `version` in `name`'s repository, if any.
    async fn manifest(
        &self,
        operation: &str,
        name: &str,
        version: &Version,
    ) -> Result<Option<OciImageManifest>, PortError> {
        match self.client.pull_image_manifest(&self.reference(name, version), &self.auth()).await {
            Ok((manifest, _)) => Ok(Some(manifest)),
            Err(e) => {
                let e = self.error(operation, e);
                if e.kind == ErrorKind::NotFound { Ok(None) } else { Err(e) }
            }
        }
    }

    fn layer<'m>(manifest: &'m OciImageManifest, digest: &Sha256) -> Option<&'m oci_client::manifest::OciDescriptor> {
        let wanted = format!("sha256:{digest}");
        manifest.layers.iter().find(|l| l.digest == wanted)
    }
}

#[async_trait]
impl ArtifactStore for OciArtifactStore {
    async fn put(&self, name: &str, version: &Version, path: &Path) -> Result<ArtifactRef, PortError> {
        self.put_with(name, version, path, &ArtifactMeta::default()).await
    }

    async fn put_with(
        &self,
        name: &str,
        version: &Version,
        path: &Path,
        meta: &ArtifactMeta,
    ) -> Result<ArtifactRef, PortError> {
        let data = tokio::fs::read(path).await.map_err(|e| {
            let kind = if e.kind() == std::io::ErrorKind::NotFound { ErrorKind::NotFound } else { ErrorKind::Invalid };
            self.fail("put", kind, format!("cannot read {}: {e}", path.display())).with_source(e)
        })?;
        let sha256 = Sha256::of(&data);
        let artifact = ArtifactRef::new(name, version.clone(), sha256.clone(), data.len() as u64);
        if let Some(existing) = self.manifest("put", name, version).await? {
            return if Self::layer(&existing, &sha256).is_some() {
                Ok(artifact)
            } else {
                Err(self.fail(
                    "put",
                    ErrorKind::Rejected,
                    format!(
                        "{}:{} already holds different content; versions are immutable",
                        self.repository(name),
                        tag_of(version)
                    ),
                ))
            };
        }
        let title = path.file_name().map_or_else(|| name.to_owned(), |f| f.to_string_lossy().into_owned());
        let layer = ImageLayer::new(
            data,
            self.layer_media_type.clone(),
            Some(BTreeMap::from([("org.opencontainers.image.title".to_owned(), title)])),
        );
        let config_json = serde_json::json!({ "name": name, "version": version.to_string() }).to_string();
        let config = Config::new(config_json.into_bytes(), CONFIG_MEDIA_TYPE.to_owned(), None);
        let mut annotations = BTreeMap::from([
            ("org.opencontainers.image.title".to_owned(), name.to_owned()),
            ("org.opencontainers.image.version".to_owned(), version.to_string()),
            ("org.opencontainers.image.created".to_owned(), jiff::Timestamp::now().to_string()),
        ]);
        if let Some(revision) = &meta.revision {
            annotations.insert("org.opencontainers.image.revision".to_owned(), revision.clone());
        }
        if let Some(release) = &meta.release {
            annotations.insert("io.shipwarden.release".to_owned(), release.to_string());
        }
        if !meta.tickets.is_empty() {
            let keys: Vec<String> = meta.tickets.iter().map(ToString::to_string).collect();
            annotations.insert("io.shipwarden.tickets".to_owned(), keys.join(","));
        }
        let layers = [layer];
        let mut manifest = OciImageManifest::build(&layers, &config, Some(annotations));
        manifest.artifact_type = Some(ARTIFACT_TYPE.to_owned());
        self.client
            .push(&self.reference(name, version), &layers, config, &self.auth(), Some(manifest))
            .await
            .map_err(|e| self.error("put", e))?;
        Ok(artifact)
    }

    async fn get(&self, artifact: &ArtifactRef) -> Result<Vec<u8>, PortError> {
        let reference = self.reference(&artifact.name, &artifact.version);
        let Some(manifest) = self.manifest("get", &artifact.name, &artifact.version).await? else {
            return Err(self.fail("get", ErrorKind::NotFound, format!("{reference} not found")));
        };
        let Some(layer) = Self::layer(&manifest, &artifact.sha256) else {
            return Err(self.fail(
                "get",
                ErrorKind::Invalid,
                format!("{reference} holds other content than sha256:{}", artifact.sha256),
            ));
        };
        let mut out = Vec::with_capacity(usize::try_from(layer.size).unwrap_or(0));
        self.client.pull_blob(&reference, layer, &mut out).await.map_err(|e| self.error("get", e))?;
        if Sha256::of(&out) != artifact.sha256 {
            return Err(self.fail(
                "get",
                ErrorKind::Invalid,
                format!("{reference}: the content read does not match sha256:{}", artifact.sha256),
            ));
        }
        Ok(out)
    }

    async fn exists(&self, artifact: &ArtifactRef) -> Result<bool, PortError> {
        Ok(self
            .manifest("exists", &artifact.name, &artifact.version)
            .await?
            .is_some_and(|m| Self::layer(&m, &artifact.sha256).is_some()))
    }

    async fn versions(&self, name: &str) -> Result<Vec<Version>, PortError> {
        let any = Reference::with_tag(self.registry.clone(), self.repository(name), "latest".to_owned());
        let mut tags = Vec::new();
        let mut last: Option<String> = None;
        loop {
            let page = match self.client.list_tags(&any, &self.auth(), Some(100), last.as_deref()).await {
                Ok(page) => page,
                Err(e) => {
                    let e = self.error("versions", e);
                    if e.kind == ErrorKind::NotFound && tags.is_empty() {
                        return Ok(Vec::new());
                    }
                    return Err(e);
                }
            };
            let n = page.tags.len();
            last = page.tags.last().cloned();
            tags.extend(page.tags);
            if n < 100 {
                break;
            }
        }
        let mut versions: Vec<Version> = tags.iter().filter_map(|t| version_of_tag(t)).collect();
        versions.sort();
        versions.dedup();
        Ok(versions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_are_what_registries_accept() {
        assert_eq!(repository_part("Shop-API.jar"), "shop-api.jar");
        assert_eq!(repository_part("acme/Releases"), "acme/releases");
        assert_eq!(repository_part("my app!"), "my-app");
        assert_eq!(repository_part("--x"), "x");
    }

    #[test]
    fn tags_hold_build_metadata_with_an_underscore() {
        let v: Version = "1.2.3+build.7".parse().expect("version");
        assert_eq!(tag_of(&v), "1.2.3_build.7");
        assert_eq!(version_of_tag("1.2.3_build.7"), Some(v));
        assert_eq!(version_of_tag("latest"), None);
    }
}
