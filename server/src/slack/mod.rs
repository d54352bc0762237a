//! Approvals and rejections from Slack (issue #23): `POST /slack/interactivity`,
//! the request URL of a Slack app's Interactivity, outside `/v1` and its
//! bearer tokens: Slack authenticates each request by signing it.
//!
//! What Slack documents, and what this module does about it:
//! - <https://api.slack.com/authentication/verifying-requests-from-slack>: each
//!   request is verified ([`signature`]): `v0` HMAC-SHA256 over the timestamp
//!   and the raw body, five minutes of replay window, a constant-time compare;
//!   a request that fails is answered 401 and nothing is recorded.
//! - <https://api.slack.com/interactivity/handling>: the body is a form with a
//!   `payload` of JSON ([`payload`]); the request must be acknowledged with a
//!   200 within 3 seconds, and the answer to a click goes to its
//!   `response_url` ([`messages`]). So every engine call and every call to
//!   Slack runs in a task of its own after the acknowledgement.
//! - <https://api.slack.com/reference/interaction-payloads/block-actions>: an
//!   Approve button (`action_id` `approve`) records the approval through the
//!   engine, with channel `chat` and a [`Proof::Chat`] naming the workspace,
//!   the Slack user and the message; the message is replaced by the outcome.
//!   A refusal (no role, the author approving their own release, an approval
//!   given already, a standing rejection) is answered to the person alone,
//!   with the rule and each unmet requirement.
//! - <https://api.slack.com/methods/views.open> and
//!   <https://api.slack.com/reference/interaction-payloads/views>: a Reject
//!   button carries no text, so it opens a dialog asking why; its
//!   `view_submission` records the rejection with that reason (an empty one
//!   keeps the dialog open with `response_action: "errors"`).
//!
//! Who clicked is the shipwarden user whose `[users.NAME] slack` is the
//! Slack user id; anyone else is told they are not a shipwarden user. A
//! request from another workspace than `[server.slack] team` is refused. The
//! outcome is posted only to a `response_url` on `[server.slack]
//! response_hosts` (never to any host a request names).

pub mod messages;
pub mod payload;
pub mod signature;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use secrecy::{ExposeSecret, SecretString};
use shipwarden::engine::{EngineError, ReleaseManager};
use shipwarden::{Actor, ApprovalId, Channel, Proof, ReleaseId, Role};
use shipwarden_adapters::config::{ConfigError, Loaded, SlackAppConfig};

use self::payload::{ButtonValue, Payload, RejectContext};
use self::signature::{SIGNATURE_HEADER, SigningSecret, TIMESTAMP_HEADER};
use crate::error::ApiError;
use crate::state::{AppState, Project};

/// The path of the interactivity endpoint.
pub const PATH: &str = "/slack/interactivity";
/// The largest request read (interaction payloads carry the whole message clicked on).
pub const MAX_BODY: usize = 256 * 1024;

/// The Slack app of `[server.slack]`, with its secrets read.
pub struct SlackApp {
    secret: SigningSecret,
    token: Option<SecretString>,
    api: String,
    team: String,
    response_hosts: Vec<String>,
    client: reqwest::Client,
}

impl std::fmt::Debug for SlackApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackApp")
            .field("api", &self.api)
            .field("team", &self.team)
            .field("response_hosts", &self.response_hosts)
            .field("token", &self.token.as_ref().map(|_| ".."))
            .finish_non_exhaustive()
    }
}

impl SlackApp {
    /// The app of `config`, its secrets read now from the variables it names
    /// (through `loaded`'s secret source): a variable not set is a
    /// configuration error naming it.
    pub fn from_config(config: &SlackAppConfig, loaded: &Loaded) -> Result<SlackApp, ConfigError> {
        let secret = loaded.secret(&config.signing_secret_env, "server.slack.signing_secret_env")?;
        if secret.expose_secret().trim().is_empty() {
            return Err(ConfigError::Invalid(format!(
                "server.slack.signing_secret_env: `{}` is empty; set it to the app's signing secret",
                config.signing_secret_env
            )));
        }
        let token = config.token_env.as_deref().map(|var| loaded.secret(var, "server.slack.token_env")).transpose()?;
        let client = shipwarden_adapters::http_client(std::time::Duration::from_secs(10))
            .map_err(|e| ConfigError::Invalid(format!("server.slack: cannot build the HTTP client: {e}")))?;
        Ok(SlackApp {
            secret: SigningSecret::new(&secret),
            token,
            api: config.api().to_owned(),
            team: config.team.clone(),
            response_hosts: config.response_hosts().into_iter().map(|h| h.to_ascii_lowercase()).collect(),
            client,
        })
    }

    /// `url` if it may be answered (see [`allowed_response_url`]).
    pub fn response_url(&self, url: &str) -> Result<reqwest::Url, String> {
        allowed_response_url(&self.response_hosts, url)
    }

    /// Posts `message` to a checked `response_url`; a failure is logged (the URL never is).
    async fn answer(&self, url: &reqwest::Url, message: serde_json::Value) {
        match self.client.post(url.clone()).json(&message).send().await {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => tracing::warn!(status = r.status().as_u16(), "slack: the response_url refused the answer"),
            Err(e) => tracing::warn!("slack: the answer was not delivered: {}", e.without_url()),
        }
    }

    /// Opens the Reject dialog with the click's `trigger_id` (`views.open`).
    async fn open_dialog(&self, trigger_id: &str, context: &RejectContext) -> Result<(), String> {
        let token = self
            .token
            .as_ref()
            .ok_or_else(|| "rejecting from Slack needs the app's bot token: set [server.slack] token_env".to_owned())?;
        let body = serde_json::json!({"trigger_id": trigger_id, "view": messages::reject_dialog(context)});
        let response = self
            .client
            .post(format!("{}/views.open", self.api))
            .bearer_auth(token.expose_secret())
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("Slack's views.open did not answer: {}", e.without_url()))?;
        let status = response.status();
        let answer: serde_json::Value =
            response.json().await.map_err(|e| format!("Slack's views.open answered {status}: {}", e.without_url()))?;
        if answer.get("ok").and_then(serde_json::Value::as_bool) == Some(true) {
            return Ok(());
        }
        let error = answer.get("error").and_then(serde_json::Value::as_str).unwrap_or("no error given");
        Err(format!("Slack's views.open refused to open the Reject dialog: {error}"))
    }
}

/// `url` if a click's answer may be posted there: an `https://` URL, without
/// credentials, on one of `hosts` (lowercase); plain `http://` only to a
/// loopback host listed there (tests). Never any host a request names.
pub fn allowed_response_url(hosts: &[String], url: &str) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("the response_url is not a URL: {e}"))?;
    let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
    let loopback = matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]");
    let scheme_ok = parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback);
    if !scheme_ok || !hosts.contains(&host) || !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!(
            "the response_url (host `{host}`) is not an https:// URL on one of [server.slack] response_hosts ({})",
            hosts.join(", ")
        ));
    }
    Ok(parsed)
}

/// The Slack route (answered only when `[server.slack]` is configured).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route(PATH, post(interactivity))
}

/// `POST /slack/interactivity`: verifies the request, acknowledges it at
/// once and does what it asks in a task of its own.
pub async fn interactivity(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    match accept(state, &headers, body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn accept(state: Arc<AppState>, headers: &HeaderMap, body: Body) -> Result<Response, ApiError> {
    let Some(app) = state.slack.clone() else {
        return Err(ApiError::not_found("Slack is not configured here: see [server.slack]"));
    };
    let body = read(body).await?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = jiff::Timestamp::now().as_second();
    if let Err(e) = app.secret.verify(header(TIMESTAMP_HEADER), header(SIGNATURE_HEADER), &body, now) {
        tracing::warn!("slack: a request refused: {e}");
        return Err(ApiError::http(StatusCode::UNAUTHORIZED, crate::error::UNAUTHENTICATED, e, false));
    }
    let text = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "payload")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| ApiError::invalid("the form has no `payload`"))?;
    let payload: Payload =
        serde_json::from_str(&text).map_err(|e| ApiError::invalid(format!("the payload is not Slack's: {e}")))?;
    let team = payload.team.as_ref().map(|t| t.id.as_str()).unwrap_or_default();
    if team != app.team {
        tracing::warn!(team, "slack: a request from another workspace refused");
        return Err(ApiError::forbidden(format!(
            "refused by R-2d: this request comes from Slack workspace `{team}`, not `{}` ([server.slack] team)",
            app.team
        )));
    }
    match payload.kind.as_str() {
        "block_actions" => clicked(&state, app, payload),
        "view_submission" => submitted(&state, app, payload),
        _ => Ok(StatusCode::OK.into_response()),
    }
}

/// The body, at most [`MAX_BODY`] bytes.
async fn read(body: Body) -> Result<axum::body::Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        crate::api::extract::status_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a Slack request is at most {MAX_BODY} bytes"),
        )
    })
}

/// The acknowledgement Slack waits for: 200, no body.
fn ack() -> Response {
    StatusCode::OK.into_response()
}

/// What an approval or rejection from Slack needs, all checked before the acknowledgement.
struct Decision {
    manager: ReleaseManager,
    actor: Actor,
    release: ReleaseId,
    approval: ApprovalId,
    role: Role,
}

/// The project a release belongs to (its id starts `<project>-`).
fn project_of<'a>(state: &'a AppState, release: &ReleaseId) -> Option<&'a Project> {
    state
        .projects
        .values()
        .filter(|p| release.as_str().strip_prefix(p.name.as_str()).is_some_and(|rest| rest.starts_with('-')))
        .max_by_key(|p| p.name.len())
}

/// The shipwarden user `slack_user` is in the release's project, acting with
/// `proof`, and the role they would act in: or what to tell them.
fn decision(
    state: &AppState,
    release: &ReleaseId,
    approval: &ApprovalId,
    slack_user: &str,
    proof: Proof,
) -> Result<Decision, String> {
    let project = project_of(state, release).ok_or_else(|| format!("there is no release `{release}` here"))?;
    let user = project
        .loaded
        .config
        .users
        .iter()
        .find(|(_, u)| u.slack.as_deref() == Some(slack_user))
        .map(|(name, _)| name.clone())
        .ok_or_else(|| {
            format!(
                "refused by R-2d: Slack user `{slack_user}` is not a shipwarden user of project `{}`: \
                 ask for `slack = \"{slack_user}\"` under your [users.NAME]",
                project.name
            )
        })?;
    let verified = crate::Verified { user, groups: Default::default(), proof, scopes: None };
    let actor = project.actor(&verified, &state.settings);
    let policy = project.manager.policy();
    // Without an accepted role the engine refuses, naming the roles the approval accepts (R-2d).
    let role = match policy.approval_role(&actor, approval, None) {
        Ok(role) => role,
        Err(e) => {
            e.accepted.first().cloned().ok_or_else(|| format!("`{approval}` is not an approval of the policy"))?
        }
    };
    Ok(Decision { manager: project.manager.clone(), actor, release: release.clone(), approval: approval.clone(), role })
}

fn chat_proof(app: &SlackApp, slack_user: &str, message: Option<String>) -> Proof {
    Proof::Chat { platform: "slack".into(), user_id: slack_user.to_owned(), team_id: Some(app.team.clone()), message }
}

/// A `block_actions` payload: an Approve or a Reject button.
fn clicked(state: &AppState, app: Arc<SlackApp>, payload: Payload) -> Result<Response, ApiError> {
    let Some(action) = payload.actions.first().filter(|a| matches!(a.action_id.as_str(), "approve" | "reject")) else {
        return Ok(ack());
    };
    let url = payload.response_url.as_deref().ok_or_else(|| ApiError::invalid("the click has no response_url"))?;
    let url = app.response_url(url).map_err(|e| {
        tracing::warn!("slack: {e}");
        ApiError::invalid(e)
    })?;
    let slack_user = payload.user.as_ref().map(|u| u.id.clone()).unwrap_or_default();
    let value = action.value.as_deref().unwrap_or_default();
    let chosen = ButtonValue::parse(value).and_then(|v| {
        let proof = chat_proof(&app, &slack_user, payload.message());
        decision(state, &v.release, &v.approval, &slack_user, proof).map(|d| (v, d))
    });
    let (value, decision) = match chosen {
        Ok(found) => found,
        Err(message) => {
            tokio::spawn(async move { app.answer(&url, messages::ephemeral(&message)).await });
            return Ok(ack());
        }
    };
    if action.action_id == "approve" {
        tokio::spawn(async move {
            let answer = approve(&decision).await;
            app.answer(&url, answer).await;
        });
        return Ok(ack());
    }
    let Some(trigger) = payload.trigger_id.clone() else {
        return Err(ApiError::invalid("the click has no trigger_id"));
    };
    let context = RejectContext {
        release: value.release,
        approval: value.approval,
        message: payload.message(),
        response_url: url.to_string(),
    };
    tokio::spawn(async move {
        if let Err(message) = app.open_dialog(&trigger, &context).await {
            tracing::warn!("slack: {message}");
            app.answer(&url, messages::ephemeral(&message)).await;
        }
    });
    Ok(ack())
}

/// A `view_submission` payload: the Reject dialog with its reason.
fn submitted(state: &AppState, app: Arc<SlackApp>, payload: Payload) -> Result<Response, ApiError> {
    let Some(view) = payload.view.as_ref().filter(|v| v.callback_id.as_deref() == Some(payload::REJECT_CALLBACK))
    else {
        return Ok(ack());
    };
    let context = RejectContext::parse(&view.private_metadata).map_err(ApiError::invalid)?;
    let url = app.response_url(&context.response_url).map_err(|e| {
        tracing::warn!("slack: {e}");
        ApiError::invalid(e)
    })?;
    let reason = payload.reason();
    let keep_open = |message: &str| axum::Json(messages::dialog_error(message)).into_response();
    if reason.is_empty() {
        return Ok(keep_open("Say why: a rejection needs a reason (R-2c)."));
    }
    if reason.chars().count() > payload::MAX_REASON {
        return Ok(keep_open(&format!("At most {} characters, please.", payload::MAX_REASON)));
    }
    let slack_user = payload.user.as_ref().map(|u| u.id.clone()).unwrap_or_default();
    let proof = chat_proof(&app, &slack_user, context.message.clone());
    let decision = match decision(state, &context.release, &context.approval, &slack_user, proof) {
        Ok(d) => d,
        Err(message) => return Ok(keep_open(&message)),
    };
    tokio::spawn(async move {
        let answer = reject(&decision, &reason).await;
        app.answer(&url, answer).await;
    });
    Ok(ack())
}

/// Records the approval; the message that says what happened.
async fn approve(d: &Decision) -> serde_json::Value {
    let recorded = d
        .manager
        .approve(&d.release, &d.actor, d.approval.clone(), d.role.clone(), Channel::Chat, "approved in Slack")
        .await;
    match recorded {
        Ok(after) => {
            let text = format!(
                ":white_check_mark: *{}* approved *{}* of *{}* as {}. The release is now *{}*.",
                messages::escape(&d.actor.user),
                d.approval,
                d.release,
                d.role,
                after.stage.as_ref().map_or_else(|| "unplanned".to_owned(), ToString::to_string),
            );
            messages::outcome(&text, &context_line(d))
        }
        Err(e) => refused(&e),
    }
}

/// Records the rejection with `reason`; the message that says what happened.
async fn reject(d: &Decision, reason: &str) -> serde_json::Value {
    let recorded =
        d.manager.reject(&d.release, &d.actor, d.approval.clone(), d.role.clone(), Channel::Chat, reason).await;
    match recorded {
        Ok(after) => {
            let text = format!(
                ":no_entry: *{}* rejected *{}* of *{}* as {}: {}. The release is now *{}*.",
                messages::escape(&d.actor.user),
                d.approval,
                d.release,
                d.role,
                messages::escape(reason),
                after.stage.as_ref().map_or_else(|| "unplanned".to_owned(), ToString::to_string),
            );
            messages::outcome(&text, &context_line(d))
        }
        Err(e) => refused(&e),
    }
}

fn context_line(d: &Decision) -> String {
    format!("Recorded by shipwarden: channel `chat`, proof {}", messages::escape(&d.actor.proof.to_string()))
}

/// A refusal (its rule and every unmet requirement), or a failure, to the person alone.
fn refused(e: &EngineError) -> serde_json::Value {
    match e {
        EngineError::Refused(refusal) => messages::ephemeral(&refusal.to_string()),
        other => {
            tracing::warn!("slack: the engine call failed: {other}");
            messages::ephemeral(&format!("shipwarden could not record it: {other}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_listed_https_host_is_answered() {
        let slack = vec!["hooks.slack.com".to_owned()];
        assert!(allowed_response_url(&slack, "https://hooks.slack.com/actions/T1/123/abc").is_ok());
        assert!(allowed_response_url(&slack, "https://HOOKS.slack.com/actions/T1/123/abc").is_ok());
        for bad in [
            "http://hooks.slack.com/actions/T1/123/abc",
            "https://hooks.slack.com.evil.example/actions",
            "https://evil.example/?https://hooks.slack.com/",
            "https://user:pw@hooks.slack.com/actions",
            "https://127.0.0.1/actions",
            "file:///etc/passwd",
            "hooks.slack.com/actions",
        ] {
            assert!(allowed_response_url(&slack, bad).is_err(), "{bad}");
        }
        let tests = vec!["127.0.0.1".to_owned()];
        assert!(allowed_response_url(&tests, "http://127.0.0.1:4000/response/1").is_ok());
        assert!(allowed_response_url(&tests, "http://127.0.0.2:4000/response/1").is_err());
    }
}
