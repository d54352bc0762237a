//! `[server]`: how `shipwarden serve` listens, whom it trusts and what it
//! lets through (issue #21). Read by the server crate; every key is optional.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use shipwarden::Role;

use super::Problem;
use super::adapter::duration;

/// `[server]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Where to listen (`127.0.0.1:8080`); `serve --listen` wins.
    pub listen: Option<String>,
    /// The largest request body accepted, in bytes (default 1 MiB; evidence files up to `max_upload_bytes`).
    pub max_body_bytes: Option<u64>,
    /// The largest evidence file accepted, in bytes (default 64 MiB).
    pub max_upload_bytes: Option<u64>,
    /// How long one request may take before it is answered 503 (`30s`); streams are exempt.
    pub request_timeout: Option<String>,
    /// Requests per second each identity may make (a token bucket with this burst; default 50).
    pub rate_limit: Option<u32>,
    /// Origins allowed to call the API from a browser (`https://console.example.com`); none by default.
    #[serde(default)]
    pub cors_origins: Vec<String>,
    /// TLS from certificate files (rustls); plain HTTP without.
    pub tls: Option<TlsFiles>,
    /// Whether this replica drives releases and performs due duties in the background (default true).
    pub background: Option<bool>,
    /// OpenID Connect bearer tokens (JWT).
    pub oidc: Option<OidcConfig>,
    /// Project visibility: `[server.projects.NAME] readers = ["alice", "group:qa"]`.
    #[serde(default)]
    pub projects: BTreeMap<String, ProjectAccess>,
    /// The web console at `/console/` and its sign-in (issue #22).
    pub console: Option<ConsoleConfig>,
    /// Approvals and rejections from Slack's Approve and Reject buttons (issue #23).
    pub slack: Option<SlackAppConfig>,
}

/// `[server.slack]`: the Slack app whose Approve and Reject buttons record
/// approvals and rejections through `POST /slack/interactivity` (issue #23).
///
/// Slack authenticates each request by signing it with the app's signing
/// secret; the server reads the secret from the environment variable named
/// here when it starts, and refuses to start without it.
///
/// ```toml
/// [server.slack]
/// signing_secret_env = "SLACK_SIGNING_SECRET"   # Basic Information → Signing Secret
/// token_env = "SLACK_BOT_TOKEN"                 # xoxb-…, for the Reject dialog (views.open)
/// team = "T0123ABC"                             # the workspace whose requests count
/// ```
#[derive(Debug, Clone, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SlackAppConfig {
    /// The environment variable holding the app's signing secret (never the secret itself).
    pub signing_secret_env: String,
    /// The environment variable holding the bot token (`xoxb-…`), with which the
    /// Reject button opens the dialog asking for the reason (`views.open`).
    pub token_env: Option<String>,
    /// The Web API's base URL (default `https://slack.com/api`).
    pub api: Option<String>,
    /// The Slack workspace (`team.id`, `T0123ABC`) whose requests count; a
    /// request from any other workspace is refused.
    pub team: String,
    /// The hosts a `response_url` may name (default `["hooks.slack.com"]`): the
    /// outcome of a click is posted there and nowhere else.
    pub response_hosts: Option<Vec<String>>,
}

impl SlackAppConfig {
    /// The Web API's default base URL.
    pub const DEFAULT_API: &str = "https://slack.com/api";

    /// The Web API's base URL, without a trailing `/`.
    pub fn api(&self) -> &str {
        self.api.as_deref().unwrap_or(Self::DEFAULT_API).trim_end_matches('/')
    }

    /// The hosts a `response_url` may name.
    pub fn response_hosts(&self) -> Vec<String> {
        self.response_hosts.clone().unwrap_or_else(|| vec!["hooks.slack.com".to_owned()])
    }

    fn validate(&self, problems: &mut Vec<Problem>) {
        for (field, var) in
            [("signing_secret_env", Some(&self.signing_secret_env)), ("token_env", self.token_env.as_ref())]
        {
            if let Some(var) = var
                && (var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            {
                problems.push(Problem {
                    path: format!("server.slack.{field}"),
                    message: format!("`{var}` is not the name of an environment variable (`SLACK_SIGNING_SECRET`)"),
                });
            }
        }
        let team_ok = self.team.starts_with(['T', 'E'])
            && self.team.len() >= 3
            && self.team.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !team_ok {
            problems.push(Problem {
                path: "server.slack.team".into(),
                message: format!("`{}` is not a Slack workspace id (`T0123ABC`)", self.team),
            });
        }
        if let Some(api) = &self.api {
            let plain = ["http://127.0.0.1", "http://localhost", "http://[::1]"];
            if !(api.starts_with("https://") || plain.iter().any(|p| api.starts_with(p))) || api.contains(['?', '#']) {
                problems.push(Problem {
                    path: "server.slack.api".into(),
                    message: format!("`{api}` must be an https:// base URL (plain http only on loopback)"),
                });
            }
        }
        for (i, host) in self.response_hosts.iter().flatten().enumerate() {
            let ok = !host.is_empty()
                && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
            if !ok {
                problems.push(Problem {
                    path: format!("server.slack.response_hosts[{i}]"),
                    message: format!("`{host}` is not a host name (`hooks.slack.com`)"),
                });
            }
        }
    }
}

/// `[server.console]`: the web console served at `/console/` (issue #22).
///
/// People sign in through the OpenID provider of `[server.oidc]` (authorization
/// code with PKCE, as a public client): the browser never holds a token, only
/// an HttpOnly session cookie, and every state-changing request carries the
/// session's CSRF token. Sessions live in the server's memory: run one console
/// replica (or sticky sessions); a restart signs everyone out.
///
/// ```toml
/// [server.console]
/// client_id = "shipwarden-console"          # registered at [server.oidc] issuer
/// url = "https://releases.example.com"      # redirect_uri = {url}/console/callback
/// resource = "urn:shipwarden"               # RFC 8707, when the provider needs it
/// session_ttl = "8h"
/// ```
#[derive(Debug, Clone, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// The OIDC client registered at `[server.oidc] issuer` for the console (a public
    /// client, PKCE, redirect URI `{url}/console/callback`); no console sign-in without it.
    pub client_id: Option<String>,
    /// The console's public base URL (`https://releases.example.com`), for the
    /// redirect URI and the origin state-changing requests must come from;
    /// default `http://<listen address>`.
    pub url: Option<String>,
    /// The RFC 8707 resource indicator sent on the authorization and token requests (`urn:shipwarden`).
    pub resource: Option<String>,
    /// The scopes asked for (default `["openid"]`).
    pub scopes: Option<Vec<String>>,
    /// How long a console session lasts (`8h`, the default; at most a week, `168h`).
    pub session_ttl: Option<String>,
}

/// `[server.tls]`: PEM files.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// The certificate chain (PEM).
    pub cert: PathBuf,
    /// The private key (PEM).
    pub key: PathBuf,
}

/// `[server.oidc]`: an OpenID provider whose access or ID tokens (JWT) the server accepts.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The issuer (`https://login.example.com`): its `/.well-known/openid-configuration` names the JWKS.
    pub issuer: String,
    /// The audience a token must name (`aud`).
    pub audience: String,
    /// The claim that names the shipwarden user (a key of `[users]`; default `sub`).
    pub user_claim: Option<String>,
    /// The claim with the user's groups (default `groups`).
    pub groups_claim: Option<String>,
    /// Roles each group grants, besides the user's own: `"release-managers" = ["release_manager"]`.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "BTreeMap<String, Vec<String>>"))]
    pub groups: BTreeMap<String, Vec<Role>>,
    /// How much clock skew `exp` and `nbf` tolerate (`60s`, at most `5m`).
    pub leeway: Option<String>,
}

/// `[server.projects.NAME]`: who may see a project.
#[derive(Debug, Clone, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ProjectAccess {
    /// Users (`alice`) and groups (`group:qa`) who may see the project besides its `[users]`.
    #[serde(default)]
    pub readers: Vec<String>,
}

impl ServerConfig {
    /// Every problem of `[server]`, with its path.
    pub(crate) fn validate(&self, problems: &mut Vec<Problem>) {
        duration(&self.request_timeout, "server.request_timeout", problems);
        if let Some(listen) = &self.listen
            && listen.parse::<std::net::SocketAddr>().is_err()
        {
            problems.push(Problem {
                path: "server.listen".into(),
                message: format!("`{listen}` is not an address and port (`127.0.0.1:8080`)"),
            });
        }
        if self.rate_limit == Some(0) {
            problems.push(Problem { path: "server.rate_limit".into(), message: "must be at least 1".into() });
        }
        if let Some(console) = &self.console {
            console.validate(self.oidc.is_some(), problems);
        }
        if let Some(slack) = &self.slack {
            slack.validate(problems);
        }
        if let Some(oidc) = &self.oidc {
            if duration(&oidc.leeway, "server.oidc.leeway", problems)
                .is_some_and(|d| d > std::time::Duration::from_secs(300))
            {
                problems.push(Problem {
                    path: "server.oidc.leeway".into(),
                    message: "at most 5 minutes of clock skew are tolerated (`5m`)".into(),
                });
            }
            let allowed = ["https://", "http://127.0.0.1", "http://localhost", "http://[::1]"];
            if !allowed.iter().any(|start| oidc.issuer.starts_with(start)) {
                problems.push(Problem {
                    path: "server.oidc.issuer".into(),
                    message: format!("`{}` must be an https:// URL (plain http only on loopback)", oidc.issuer),
                });
            }
        }
    }
}

impl ServerConfig {
    /// The secrets `[server]` names, with their paths.
    pub(crate) fn secrets(&self, found: &mut Vec<super::SecretRef>) {
        if let Some(slack) = &self.slack {
            found.push(super::SecretRef {
                path: "server.slack.signing_secret_env".into(),
                var: slack.signing_secret_env.clone(),
            });
            if let Some(var) = &slack.token_env {
                found.push(super::SecretRef { path: "server.slack.token_env".into(), var: var.clone() });
            }
        }
    }
}

impl ConsoleConfig {
    /// The longest session `session_ttl` may set.
    pub const MAX_SESSION_TTL: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

    fn validate(&self, oidc: bool, problems: &mut Vec<Problem>) {
        let ttl = duration(&self.session_ttl, "server.console.session_ttl", problems);
        if ttl.is_some_and(|d| d.is_zero() || d > Self::MAX_SESSION_TTL) {
            problems.push(Problem {
                path: "server.console.session_ttl".into(),
                message: "must be more than nothing and at most a week (`8h`, `168h`)".into(),
            });
        }
        if let Some(url) = &self.url {
            let plain = ["http://127.0.0.1", "http://localhost", "http://[::1]"];
            let ok = url.starts_with("https://") || plain.iter().any(|p| url.starts_with(p));
            if !ok || url.contains(['?', '#']) || url.chars().any(char::is_whitespace) {
                problems.push(Problem {
                    path: "server.console.url".into(),
                    message: format!(
                        "`{url}` must be an https:// base URL without query or fragment (plain http only on loopback)"
                    ),
                });
            }
        }
        if self.client_id.as_deref().is_some_and(|c| c.trim().is_empty()) {
            problems.push(Problem { path: "server.console.client_id".into(), message: "must not be empty".into() });
        }
        if self.client_id.is_some() && !oidc {
            problems.push(Problem {
                path: "server.console.client_id".into(),
                message: "the console signs in through [server.oidc]: configure its issuer and audience".into(),
            });
        }
        if self.scopes.as_ref().is_some_and(|s| !s.iter().any(|x| x == "openid")) {
            problems.push(Problem { path: "server.console.scopes".into(), message: "must include `openid`".into() });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(console: ConsoleConfig, oidc: bool) -> Vec<String> {
        let mut found = Vec::new();
        console.validate(oidc, &mut found);
        found.into_iter().map(|p| p.path).collect()
    }

    #[test]
    fn the_console_needs_oidc_a_sane_session_and_an_https_url_off_loopback() {
        let good = ConsoleConfig {
            client_id: Some("shipwarden-console".into()),
            url: Some("https://releases.example.com".into()),
            resource: Some("urn:shipwarden".into()),
            scopes: Some(vec!["openid".into(), "api".into()]),
            session_ttl: Some("8h".into()),
        };
        assert!(problems(good.clone(), true).is_empty());
        assert_eq!(problems(good.clone(), false), ["server.console.client_id"]);
        let loopback = ConsoleConfig { url: Some("http://127.0.0.1:8080".into()), ..good.clone() };
        assert!(problems(loopback, true).is_empty());
        let bad = ConsoleConfig {
            client_id: Some(" ".into()),
            url: Some("http://releases.example.com/?x".into()),
            resource: None,
            scopes: Some(vec!["api".into()]),
            session_ttl: Some("30d".into()),
        };
        assert_eq!(
            problems(bad, true),
            ["server.console.session_ttl", "server.console.url", "server.console.client_id", "server.console.scopes"]
        );
        let unreadable = ConsoleConfig { session_ttl: Some("soon".into()), ..good };
        assert_eq!(problems(unreadable, true), ["server.console.session_ttl"]);
    }
}
