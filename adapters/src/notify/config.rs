//! `[notify]`: who is told besides `notices.jsonl`; each notifier's
//! configuration, its checks and its construction.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use shipwarden::Problem;
use shipwarden::ports::Notifier;

use crate::config::ConfigError;
use crate::config::adapter::{AdapterConfig, Context, SecretRef, duration, duration_or};

/// `[notify]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// `[[notify.webhooks]]`: notices POSTed as signed JSON.
    #[cfg(feature = "webhook")]
    #[serde(default)]
    pub webhooks: Vec<WebhookConfig>,
    /// `[[notify.smtp]]`: notices by mail.
    #[cfg(feature = "smtp")]
    #[serde(default)]
    pub smtp: Vec<SmtpConfig>,
    /// `[[notify.slack]]`: notices to Slack channels.
    #[cfg(feature = "slack")]
    #[serde(default)]
    pub slack: Vec<SlackConfig>,
}

impl NotifyConfig {
    /// Every notifier, with where the file configures it.
    pub(crate) fn each(&self) -> Vec<(String, &(dyn AdapterConfig<Port = dyn Notifier> + Send + Sync))> {
        let mut all: Vec<(String, &(dyn AdapterConfig<Port = dyn Notifier> + Send + Sync))> = Vec::new();
        #[cfg(feature = "webhook")]
        all.extend(self.webhooks.iter().enumerate().map(|(i, c)| (format!("notify.webhooks[{i}]"), c as _)));
        #[cfg(feature = "smtp")]
        all.extend(self.smtp.iter().enumerate().map(|(i, c)| (format!("notify.smtp[{i}]"), c as _)));
        #[cfg(feature = "slack")]
        all.extend(self.slack.iter().enumerate().map(|(i, c)| (format!("notify.slack[{i}]"), c as _)));
        all
    }

    /// Every notifier, built (or deferred until used, when it needs a secret).
    pub(crate) fn build(&self, cx: &Context) -> Result<Vec<Arc<dyn Notifier>>, ConfigError> {
        let mut all = Vec::new();
        #[cfg(feature = "webhook")]
        for (i, c) in self.webhooks.iter().enumerate() {
            all.push(cx.port(c, &format!("notify.webhooks[{i}]"))?);
        }
        #[cfg(feature = "smtp")]
        for (i, c) in self.smtp.iter().enumerate() {
            all.push(cx.port(c, &format!("notify.smtp[{i}]"))?);
        }
        #[cfg(feature = "slack")]
        for (i, c) in self.slack.iter().enumerate() {
            all.push(cx.port(c, &format!("notify.slack[{i}]"))?);
        }
        Ok(all)
    }
}

/// `[[notify.webhooks]]`.
#[cfg(feature = "webhook")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where to POST (no credentials in it).
    pub url: String,
    /// The environment variable holding the HMAC secret, if the receiver checks signatures.
    pub secret_env: Option<String>,
    /// How long one POST may take (`10s`).
    pub timeout: Option<String>,
}

#[cfg(feature = "webhook")]
impl AdapterConfig for WebhookConfig {
    type Port = dyn Notifier;

    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        duration(&self.timeout, &format!("{at}.timeout"), problems);
        if !(self.url.starts_with("https://") || self.url.starts_with("http://")) {
            problems
                .push(Problem { path: format!("{at}.url"), message: format!("`{}` is not an http(s) URL", self.url) });
        }
    }

    fn secrets(&self, at: &str, found: &mut Vec<SecretRef>) {
        found.extend(self.secret_env.iter().map(|var| SecretRef::new(at, "secret_env", var)));
    }

    fn build(&self, at: &str, cx: &Context) -> Result<Arc<dyn Notifier>, ConfigError> {
        let secret = self.secret_env.as_deref().map(|var| cx.secret(var, &format!("{at}.secret_env"))).transpose()?;
        let timeout = duration_or(&self.timeout, Duration::from_secs(10));
        Ok(Arc::new(super::webhook::WebhookNotifier::new(&self.url, secret, timeout)?))
    }
}

/// `[[notify.smtp]]`.
#[cfg(feature = "smtp")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// The server's host name.
    pub host: String,
    /// Its port (587 for `starttls`, 465 for `tls`).
    pub port: Option<u16>,
    /// `starttls` (default), `tls`, or `none` (a relay on loopback only).
    pub security: Option<String>,
    /// The sender (`Releases <releases@example.com>`).
    pub from: String,
    /// The user to sign in as, if the server asks.
    pub user: Option<String>,
    /// The environment variable holding the password.
    pub password_env: Option<String>,
    /// A PEM file of extra trusted CA certificates (a private relay).
    pub ca_file: Option<PathBuf>,
    /// How long an exchange may take (`30s`).
    pub timeout: Option<String>,
    /// Recipients by audience: `teams`, `stakeholders`, `clients` (sent as Bcc), or a group's name.
    #[serde(default)]
    pub to: BTreeMap<String, Vec<String>>,
}

#[cfg(feature = "smtp")]
impl AdapterConfig for SmtpConfig {
    type Port = dyn Notifier;

    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        duration(&self.timeout, &format!("{at}.timeout"), problems);
        if !matches!(self.security.as_deref(), None | Some("starttls" | "tls" | "none")) {
            problems
                .push(Problem { path: format!("{at}.security"), message: "use `starttls`, `tls` or `none`".into() });
        }
        if self.to.is_empty() {
            problems.push(Problem {
                path: format!("{at}.to"),
                message: "name the recipients by audience (`teams = [\"eng@example.com\"]`)".into(),
            });
        }
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

    fn build(&self, at: &str, cx: &Context) -> Result<Arc<dyn Notifier>, ConfigError> {
        use super::smtp::{SmtpNotifier, SmtpSecurity, SmtpSettings};
        let security = match self.security.as_deref() {
            Some("tls") => SmtpSecurity::Tls,
            Some("none") => SmtpSecurity::None,
            _ => SmtpSecurity::StartTls,
        };
        let credentials = match (&self.user, &self.password_env) {
            (Some(user), Some(var)) => Some((user.clone(), cx.secret(var, &format!("{at}.password_env"))?)),
            (None, None) => None,
            _ => return Err(ConfigError::invalid(format!("{at}: give both `user` and `password_env`, or neither"))),
        };
        let extra_roots_pem = match &self.ca_file {
            Some(file) => vec![std::fs::read(cx.path(file)).map_err(|e| {
                ConfigError::invalid(format!("{at}.ca_file: cannot read {}: {e}", cx.path(file).display()))
            })?],
            None => Vec::new(),
        };
        let settings = SmtpSettings {
            host: self.host.clone(),
            port: self.port.unwrap_or(if security == SmtpSecurity::Tls { 465 } else { 587 }),
            security,
            credentials,
            extra_roots_pem,
            timeout: duration_or(&self.timeout, Duration::from_secs(30)),
        };
        let mut notifier = SmtpNotifier::new(&self.from, settings)?;
        for (audience, addresses) in &self.to {
            notifier = notifier.with_recipients(audience, addresses)?;
        }
        if let Some(links) = cx.approval_links() {
            // Each approver is mailed their own one-time links (issue #23).
            let key = links.key_with(|var, path| cx.secret(var, path))?;
            let people: Vec<(String, Vec<shipwarden::Role>, String)> = cx
                .people()
                .iter()
                .filter_map(|p| p.email.clone().map(|email| (p.name.clone(), p.roles.clone(), email)))
                .collect();
            let ttl = cx.policy().duties.approval_link_ttl;
            notifier = notifier.with_approval_links(key, links.confirm_url(), ttl, &people)?;
        }
        Ok(Arc::new(notifier))
    }
}

/// `[[notify.slack]]`: an incoming webhook (`webhook_env`) or a channel with a bot token (`channel`, `token_env`).
#[cfg(feature = "slack")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// The environment variable holding the incoming webhook's URL (its path is a secret).
    pub webhook_env: Option<String>,
    /// The channel for `chat.postMessage` (`C0123` or `#releases`).
    pub channel: Option<String>,
    /// The environment variable holding the bot token (`xoxb-…`).
    pub token_env: Option<String>,
    /// The Web API (default `https://slack.com/api`).
    pub api: Option<String>,
    /// Send only notices for these audiences (default: all).
    pub audiences: Option<Vec<String>>,
    /// How long a POST may take (`10s`).
    pub timeout: Option<String>,
    /// The console's base URL (`https://releases.example.com`): approval
    /// requests link to the release's page there (issue #23).
    pub console_url: Option<String>,
    /// Where approval requests, reminders and expiries go: `channel` (the
    /// default) or `direct`, a direct message to each approver with a
    /// `[users.NAME] slack` id (needs `token_env`, the bot's `chat:write`).
    pub approvals: Option<String>,
}

#[cfg(feature = "slack")]
impl AdapterConfig for SlackConfig {
    type Port = dyn Notifier;

    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        duration(&self.timeout, &format!("{at}.timeout"), problems);
        match self.approvals.as_deref() {
            None | Some("channel") => {}
            Some("direct") if self.token_env.is_none() => problems.push(Problem {
                path: format!("{at}.approvals"),
                message: "direct messages need the Web API: give `channel` and `token_env`".into(),
            }),
            Some("direct") => {}
            Some(other) => problems.push(Problem {
                path: format!("{at}.approvals"),
                message: format!("`{other}`: expected `channel` or `direct`"),
            }),
        }
        let api = self.channel.is_some() || self.token_env.is_some();
        if self.webhook_env.is_some() == api || (api && (self.channel.is_none() || self.token_env.is_none())) {
            problems.push(Problem {
                path: at.to_owned(),
                message: "give `webhook_env`, or `channel` and `token_env`".into(),
            });
        }
    }

    fn secrets(&self, at: &str, found: &mut Vec<SecretRef>) {
        found.extend(self.webhook_env.iter().map(|var| SecretRef::new(at, "webhook_env", var)));
        found.extend(self.token_env.iter().map(|var| SecretRef::new(at, "token_env", var)));
    }

    fn build(&self, at: &str, cx: &Context) -> Result<Arc<dyn Notifier>, ConfigError> {
        use super::slack::SlackNotifier;
        let timeout = duration_or(&self.timeout, Duration::from_secs(10));
        let mut slack = match (&self.webhook_env, &self.channel, &self.token_env) {
            (Some(var), _, _) => SlackNotifier::webhook(cx.secret(var, &format!("{at}.webhook_env"))?, timeout)?,
            (None, Some(channel), Some(var)) => {
                let api = self.api.clone().unwrap_or_else(|| "https://slack.com/api".into());
                SlackNotifier::api(api, cx.secret(var, &format!("{at}.token_env"))?, channel, timeout)?
            }
            _ => return Err(ConfigError::invalid(format!("{at}: give `webhook_env`, or `channel` and `token_env`"))),
        };
        if let Some(audiences) = &self.audiences {
            slack = slack.for_audiences(audiences.clone());
        }
        if let Some(url) = &self.console_url {
            slack = slack.with_console(url.clone());
        }
        if self.approvals.as_deref() == Some("direct") {
            let approvers =
                cx.people().iter().filter_map(|p| p.slack.clone().map(|id| (p.roles.clone(), id))).collect();
            slack = slack.direct_to(approvers);
        }
        Ok(Arc::new(slack))
    }
}
