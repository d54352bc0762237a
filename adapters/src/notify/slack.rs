//! Notices to Slack (R-9a), as Block Kit messages, through an incoming
//! webhook or the Web API's `chat.postMessage`.
//!
//! The message: a `header` block with the subject, `section` blocks with the
//! body as `mrkdwn` (split at 3000 characters, Slack's limit per section),
//! and a `context` block naming the release and the audiences; `text` holds
//! the subject as the notification fallback. With `chat.postMessage` the
//! notice's key and release go in the message `metadata` (event type
//! `shipwarden_notice`), so a repeat can be recognised.
//!
//! - Incoming webhooks (<https://api.slack.com/messaging/webhooks>): `POST`
//!   the JSON to the webhook URL; Slack answers `200 ok`, or a status with an
//!   error string (`invalid_payload`, `channel_is_archived`, …).
//! - `chat.postMessage` (<https://api.slack.com/methods/chat.postMessage>):
//!   `POST https://slack.com/api/chat.postMessage` with `Authorization:
//!   Bearer xoxb-…`; Slack answers `200 {"ok": true, …}` or `200 {"ok":
//!   false, "error": "channel_not_found"}`, and 429 with `Retry-After` when
//!   rate limited.
//!
//! Failures: 5xx, 429 and connection errors, and the Web API's
//! `ratelimited`, `internal_error`, `fatal_error`, `service_unavailable`,
//! `request_timeout` are retryable; the rest (`invalid_auth`,
//! `channel_not_found`, `invalid_blocks`…) are not. The webhook URL (its
//! path is a credential) and the bot token live in `secrecy` types and are
//! never in errors or `Debug`.

use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use shipwarden::ports::{ApprovalAsk, Audience, ErrorKind, Notice, Notifier, PortError};

use crate::rest::{Reply, send, status_error};

/// The most characters Slack takes in one section's text.
const SECTION_LIMIT: usize = 3000;
/// The most characters Slack takes in a header.
const HEADER_LIMIT: usize = 150;

enum Via {
    Webhook(SecretString),
    Api { base: String, token: SecretString, channel: String },
}

/// Sends notices to one Slack channel.
pub struct SlackNotifier {
    name: String,
    via: Via,
    audiences: Option<Vec<String>>,
    console: Option<String>,
    /// For approval requests by direct message: each approver's roles and Slack member id.
    direct: Option<Vec<(Vec<shipwarden::Role>, String)>>,
    client: reqwest::Client,
}

impl std::fmt::Debug for SlackNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackNotifier")
            .field("name", &self.name)
            .field("audiences", &self.audiences)
            .finish_non_exhaustive()
    }
}

/// Text for `mrkdwn` and `plain_text`: `&`, `<`, `>` escaped, as Slack asks.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn cut(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(limit - 1).collect();
    out.push('…');
    out
}

/// Splits `text` into pieces of at most `limit` characters, at line ends where it can.
fn pieces(text: &str, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        if current.chars().count() + line.chars().count() > limit && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        if line.chars().count() > limit {
            let chars: Vec<char> = line.chars().collect();
            for chunk in chars.chunks(limit) {
                out.push(chunk.iter().collect());
            }
        } else {
            current.push_str(line);
        }
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

/// The most characters of a section field (Slack: 2000).
const FIELD_LIMIT: usize = 2000;

/// The `action_id` of the Approve button (issue #23); the interactivity
/// endpoint of `shipwarden serve` records the approval.
pub const APPROVE_ACTION: &str = "approve";
/// The `action_id` of the Reject button; the endpoint asks for the reason.
pub const REJECT_ACTION: &str = "reject";

/// What the Approve and Reject buttons carry in their `value`: the release
/// and the approval, as JSON (Slack: at most 2000 characters).
pub fn ask_value(release: &str, approval: &str) -> String {
    serde_json::json!({ "release": release, "approval": approval }).to_string()
}

/// The blocks of an approval request (issue #23, R-2b): the release, its
/// version, kind and scope tickets, its gates with their values, what each
/// way forward still needs, and the Approve / Reject buttons, with a link to
/// the console when `console` is its base URL. Shapes and limits from Slack's
/// Block Kit reference: section `fields` (at most 10, 2000 characters each),
/// the `actions` block, and the button element (text ≤ 75, `action_id` ≤ 255,
/// `value` ≤ 2000, `url` ≤ 3000, `style` `primary` or `danger`):
/// <https://docs.slack.dev/reference/block-kit/blocks/section-block>,
/// <https://docs.slack.dev/reference/block-kit/blocks/actions-block>,
/// <https://docs.slack.dev/reference/block-kit/block-elements/button-element>.
pub fn ask_blocks(release: &str, ask: &ApprovalAsk, console: Option<&str>) -> Vec<serde_json::Value> {
    let field = |label: &str, text: String| serde_json::json!({ "type": "mrkdwn", "text": cut(&format!("*{label}*\n{}", escape(&text)), FIELD_LIMIT) });
    let roles = ask.roles.iter().map(ToString::to_string).collect::<Vec<_>>().join(" or ");
    let tickets = if ask.tickets.is_empty() { "none".to_owned() } else { ask.tickets.join(", ") };
    let mut blocks = vec![serde_json::json!({
        "type": "section",
        "fields": [
            field("Release", format!("{release} ({})", ask.stage)),
            field("Version", format!("{} {}", ask.project, ask.version)),
            field("Kind", ask.kind.to_string()),
            field("Scope", tickets),
            field("Approval", format!("`{}` from {roles}", ask.approval)),
            field("Given", format!("{} of {}", ask.have, ask.needed)),
        ],
    })];
    for (title, lines) in [("Gates", &ask.gates), ("Still missing", &ask.missing)] {
        if lines.is_empty() {
            continue;
        }
        let text =
            format!("*{title}*\n{}", lines.iter().map(|l| format!("• {}", escape(l))).collect::<Vec<_>>().join("\n"));
        for piece in pieces(&text, SECTION_LIMIT) {
            blocks.push(serde_json::json!({ "type": "section", "text": { "type": "mrkdwn", "text": piece } }));
        }
    }
    let value = ask_value(release, ask.approval.as_str());
    let mut buttons = vec![
        serde_json::json!({
            "type": "button",
            "action_id": APPROVE_ACTION,
            "text": { "type": "plain_text", "text": "Approve", "emoji": false },
            "style": "primary",
            "value": value,
        }),
        serde_json::json!({
            "type": "button",
            "action_id": REJECT_ACTION,
            "text": { "type": "plain_text", "text": "Reject", "emoji": false },
            "style": "danger",
            "value": value,
        }),
    ];
    if let Some(base) = console {
        buttons.push(serde_json::json!({
            "type": "button",
            "action_id": "open_console",
            "text": { "type": "plain_text", "text": "Open in the console", "emoji": false },
            "url": format!("{}/console/releases/{release}", base.trim_end_matches('/')),
        }));
    }
    blocks.push(serde_json::json!({ "type": "actions", "block_id": "shipwarden_approval", "elements": buttons }));
    blocks
}

/// The Block Kit message for a notice.
pub fn message(notice: &Notice) -> serde_json::Value {
    message_with(notice, None)
}

/// The Block Kit message for a notice, with the approval it asks for (if
/// any) and a link to the console at `console`.
pub fn message_with(notice: &Notice, console: Option<&str>) -> serde_json::Value {
    let mut blocks = vec![serde_json::json!({
        "type": "header",
        "text": { "type": "plain_text", "text": cut(&notice.subject, HEADER_LIMIT), "emoji": false },
    })];
    for piece in pieces(&escape(&notice.body), SECTION_LIMIT) {
        blocks.push(serde_json::json!({ "type": "section", "text": { "type": "mrkdwn", "text": piece } }));
    }
    if let Some(ask) = &notice.ask {
        blocks.extend(ask_blocks(notice.release.as_str(), ask, console));
    }
    let audiences: Vec<&str> = notice.audience.iter().map(Audience::as_str).collect();
    blocks.push(serde_json::json!({
        "type": "context",
        "elements": [{
            "type": "mrkdwn",
            "text": format!("release `{}` · for {} · shipwarden", escape(notice.release.as_str()), audiences.join(", ")),
        }],
    }));
    serde_json::json!({ "text": notice.subject, "blocks": blocks })
}

/// Web API errors a retry can help with.
const RETRYABLE: &[&str] = &["ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"];

impl SlackNotifier {
    /// Notices through an incoming webhook (`https://hooks.slack.com/services/…`; its path is a secret).
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn webhook(url: SecretString, timeout: Duration) -> Result<Self, PortError> {
        let name = "slack webhook".to_owned();
        let client = crate::tls_client::http_client(timeout)
            .map_err(|e| PortError::new(&name, "setup", ErrorKind::Invalid, e))?;
        Ok(Self { name, via: Via::Webhook(url), audiences: None, console: None, direct: None, client })
    }

    /// Notices posted with `chat.postMessage` to `channel` (an id like `C0123` or `#releases`) with a bot
    /// token; `api` is `https://slack.com/api`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn api(
        api: impl Into<String>,
        token: SecretString,
        channel: impl Into<String>,
        timeout: Duration,
    ) -> Result<Self, PortError> {
        let channel = channel.into();
        let name = format!("slack {channel}");
        let client = crate::tls_client::http_client(timeout)
            .map_err(|e| PortError::new(&name, "setup", ErrorKind::Invalid, e))?;
        let base = api.into().trim_end_matches('/').to_owned();
        Ok(Self { name, via: Via::Api { base, token, channel }, audiences: None, console: None, direct: None, client })
    }

    /// Sends only notices for one of these audiences (`teams`, `stakeholders`, `clients`, a group).
    pub fn for_audiences(mut self, audiences: Vec<String>) -> Self {
        self.audiences = Some(audiences);
        self
    }

    /// Links approval requests to the console at `url` (`https://releases.example.com`).
    pub fn with_console(mut self, url: impl Into<String>) -> Self {
        self.console = Some(url.into());
        self
    }

    /// Sends approval requests, reminders and expiries as direct messages
    /// to each approver (`(roles, Slack member id)`) holding one of the roles
    /// asked for, instead of to the channel; other notices still go to the
    /// channel, and so does a request no listed person can answer.
    pub fn direct_to(mut self, approvers: Vec<(Vec<shipwarden::Role>, String)>) -> Self {
        self.direct = Some(approvers);
        self
    }

    /// Where `notice` goes with `chat.postMessage`: the approvers' direct
    /// messages for an ask under [`SlackNotifier::direct_to`], else `channel`.
    fn destinations(&self, notice: &Notice, channel: &str) -> Vec<String> {
        if let (Some(approvers), Some(ask)) = (&self.direct, &notice.ask) {
            let mut ids: Vec<String> = approvers
                .iter()
                .filter(|(roles, _)| roles.iter().any(|r| ask.roles.contains(r)))
                .map(|(_, id)| id.clone())
                .collect();
            ids.dedup();
            if !ids.is_empty() {
                return ids;
            }
            tracing::warn!(notifier = %self.name, approval = %ask.approval, "no approver with a Slack id: asking the channel");
        }
        vec![channel.to_owned()]
    }

    fn fail(&self, kind: ErrorKind, message: impl Into<String>) -> PortError {
        PortError::new(self.name.clone(), "send", kind, message)
    }

    fn webhook_reply(&self, reply: &Reply) -> Result<(), PortError> {
        if reply.ok() {
            return Ok(());
        }
        Err(status_error(&self.name, "send", "Slack", reply, reply.text.trim()))
    }

    fn api_reply(&self, reply: &Reply) -> Result<(), PortError> {
        if !reply.ok() {
            let body = reply.json();
            return Err(status_error(&self.name, "send", "Slack", reply, body["error"].as_str().unwrap_or_default()));
        }
        let body = reply.json();
        if body["ok"].as_bool() == Some(true) {
            return Ok(());
        }
        let error = body["error"].as_str().unwrap_or("an unreadable reply").to_owned();
        let kind = match error.as_str() {
            "ratelimited" => ErrorKind::RateLimited,
            "request_timeout" => ErrorKind::Timeout,
            e if RETRYABLE.contains(&e) => ErrorKind::Unavailable,
            "channel_not_found" => ErrorKind::NotFound,
            "invalid_blocks" | "invalid_arguments" | "msg_too_long" | "no_text" => ErrorKind::Invalid,
            _ => ErrorKind::Rejected,
        };
        let mut e = self.fail(kind, format!("Slack answered ok=false: {error}"));
        e.retry_after = reply.retry_after;
        Err(e)
    }
}

#[async_trait]
impl Notifier for SlackNotifier {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, notice: &Notice) -> Result<(), PortError> {
        if let Some(wanted) = &self.audiences
            && !notice.audience.iter().any(|a| wanted.iter().any(|w| w == a.as_str()))
        {
            return Ok(());
        }
        let mut body = message_with(notice, self.console.as_deref());
        match &self.via {
            Via::Webhook(url) => {
                let request = self
                    .client
                    .post(url.expose_secret())
                    .header("Content-Type", "application/json")
                    .body(body.to_string());
                let reply = send(&self.name, "send", request).await?;
                self.webhook_reply(&reply)
            }
            Via::Api { base, token, channel } => {
                body["unfurl_links"] = false.into();
                body["metadata"] = serde_json::json!({
                    "event_type": "shipwarden_notice",
                    "event_payload": { "key": notice.key, "release": notice.release.as_str() },
                });
                // A user id as `channel` posts to the app's direct messages with that user
                // (<https://docs.slack.dev/reference/methods/chat.postMessage>).
                for to in self.destinations(notice, channel) {
                    body["channel"] = to.into();
                    let request = self
                        .client
                        .post(format!("{base}/chat.postMessage"))
                        .bearer_auth(token.expose_secret())
                        .header("Content-Type", "application/json; charset=utf-8")
                        .body(body.to_string());
                    let reply = send(&self.name, "send", request).await?;
                    self.api_reply(&reply)?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_bodies_are_split_at_line_ends_within_the_limit() {
        let text = "a".repeat(10) + "\n" + &"b".repeat(10) + "\n";
        assert_eq!(pieces(&text, 15), vec!["aaaaaaaaaa\n".to_owned(), "bbbbbbbbbb\n".to_owned()]);
        let long = "c".repeat(40);
        assert!(pieces(&long, 15).iter().all(|p| p.chars().count() <= 15));
        assert_eq!(cut("abcdef", 4), "abc…");
    }
}
