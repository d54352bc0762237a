//! Sign-in and sign-out (OIDC authorization code with PKCE, RFC 7636; a
//! public client, RFC 8252): `/console/login` sends the browser to the
//! provider's `authorization_endpoint` (from its discovery document, see
//! [`crate::auth::OidcVerifier::endpoints`]); `/console/callback` checks the
//! `state` against the sign-in bound to the browser's `sw_login` cookie,
//! exchanges the code at the `token_endpoint`, verifies the access token with
//! the server's own verifiers and opens a session. A failed sign-in is an
//! HTML page (400) and opens nothing.

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::session::{self, LOGIN_COOKIE, LOGIN_TTL, Pending, SESSION_COOKIE, Session};
use crate::error::ApiError;
use crate::state::AppState;

/// The longest query string `/console/login` and `/console/callback` read.
const MAX_QUERY: usize = 4096;
/// The longest authorization code accepted.
const MAX_CODE: usize = 2048;

/// Why a sign-in failed: shown to the person on the failure page.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// `[server.console] client_id` or `[server.oidc]` is not configured.
    #[error("the console's sign-in is not configured: set [server.oidc] and [server.console] client_id")]
    NotConfigured,
    /// The request is not a callback this server can take.
    #[error("{0}")]
    BadRequest(String),
    /// The provider said no (`error=access_denied`, …).
    #[error("the identity provider answered `{0}`")]
    Provider(String),
    /// The provider could not be asked.
    #[error("the identity provider cannot be reached: {0}")]
    Unavailable(String),
    /// The tokens the provider gave do not do.
    #[error("the identity provider's tokens were not accepted: {0}")]
    Token(String),
}

impl SignInError {
    fn status(&self) -> StatusCode {
        match self {
            SignInError::NotConfigured => StatusCode::SERVICE_UNAVAILABLE,
            SignInError::Unavailable(_) => StatusCode::BAD_GATEWAY,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for SignInError {
    fn into_response(self) -> Response {
        let status = self.status();
        self.page(status)
    }
}

impl SignInError {
    /// The failure page, answered with `status`.
    fn page(self, status: StatusCode) -> Response {
        let why = escape(&self.to_string());
        let page = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in failed · shipwarden</title></head>\n\
             <body><h1>Sign-in failed</h1><p>sign-in failed: {why}</p><p><a href=\"/console/login\">Sign in again</a></p></body></html>\n"
        );
        let mut response = (status, page).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(super::assets::CSP));
        // The pending sign-in, if any, is spent.
        headers.append(header::SET_COOKIE, clear(LOGIN_COOKIE, "/console/"));
        response
    }
}

/// `text` with the HTML special characters escaped.
fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c if c.is_control() => " ".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// A `Set-Cookie` value that removes the cookie `name`.
fn clear(name: &str, path: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("{name}=; HttpOnly; Secure; SameSite=Lax; Path={path}; Max-Age=0"))
        .unwrap_or_else(|_| HeaderValue::from_static("sw_login=; Max-Age=0"))
}

/// A `Set-Cookie` value for `name=value` (HttpOnly, Secure, SameSite=Lax).
fn set(name: &str, value: &SecretString, path: &str, max_age: u64) -> Result<HeaderValue, SignInError> {
    HeaderValue::from_str(&format!(
        "{name}={}; HttpOnly; Secure; SameSite=Lax; Path={path}; Max-Age={max_age}",
        value.expose_secret()
    ))
    .map_err(|_| SignInError::BadRequest("cannot write the cookie".into()))
}

/// The query parameters of `raw` (URL-decoded), refusing an oversized query.
fn params(raw: Option<&str>) -> Result<Vec<(String, String)>, SignInError> {
    let raw = raw.unwrap_or_default();
    if raw.len() > MAX_QUERY {
        return Err(SignInError::BadRequest(format!("the query is longer than {MAX_QUERY} bytes")));
    }
    Ok(form_urlencoded::parse(raw.as_bytes()).into_owned().collect())
}

/// `fields` as `application/x-www-form-urlencoded`.
fn encode(fields: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish()
}

fn param<'a>(all: &'a [(String, String)], name: &str) -> Option<&'a str> {
    all.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The longest `next` kept: an emailed approval link's confirmation page
/// (`/console/confirm?t=…`, issue #23) carries a token of up to
/// [`shipwarden_adapters::links::MAX_TOKEN`] bytes.
pub const MAX_NEXT: usize = shipwarden_adapters::links::MAX_TOKEN + 64;

/// `next` when it is a path under `/console/` (no scheme, no host, no `//`,
/// no `..`, no backslash or control character, at most [`MAX_NEXT`] bytes);
/// `/console/` otherwise.
pub fn safe_next(next: Option<&str>) -> String {
    let fallback = || "/console/".to_owned();
    let Some(next) = next else { return fallback() };
    let ok = next.starts_with("/console/")
        && next.len() <= MAX_NEXT
        && !next.contains("//")
        && !next.contains('\\')
        && !next.split(['/', '?', '#']).any(|seg| seg == ".." || seg == "%2e%2e" || seg == "%2E%2E")
        && !next.chars().any(|c| c.is_control() || c.is_whitespace());
    if ok { next.to_owned() } else { fallback() }
}

/// The console's client settings, or why there are none.
fn client(state: &AppState) -> Result<(String, String, &Arc<crate::auth::OidcVerifier>), SignInError> {
    let oidc = state.oidc.as_ref().ok_or(SignInError::NotConfigured)?;
    let config = state.console.config().ok_or(SignInError::NotConfigured)?;
    let client_id = config.client_id.clone().ok_or(SignInError::NotConfigured)?;
    let base = state.console.base_url().ok_or(SignInError::NotConfigured)?;
    Ok((client_id, format!("{base}/console/callback"), oidc))
}

/// `GET /console/login?next=/console/…`: 302 to the provider's authorization
/// endpoint, with a new pending sign-in bound to the `sw_login` cookie.
pub async fn login(State(state): State<Arc<AppState>>, RawQuery(query): RawQuery) -> Result<Response, SignInError> {
    let query = params(query.as_deref())?;
    let next = safe_next(param(&query, "next"));
    let (client_id, redirect_uri, oidc) = client(&state)?;
    let endpoints = oidc.endpoints().await.map_err(|e| SignInError::Unavailable(e.to_string()))?;
    let config = state.console.config().ok_or(SignInError::NotConfigured)?;
    let pending = Pending::new(next).map_err(|_| SignInError::Unavailable("no randomness".into()))?;
    let login = session::random_token().map_err(|_| SignInError::Unavailable("no randomness".into()))?;
    let scopes = config.scopes.clone().unwrap_or_else(|| vec!["openid".to_owned()]).join(" ");
    let challenge = pending.challenge();
    let mut fields = vec![
        ("response_type", "code"),
        ("client_id", &client_id),
        ("redirect_uri", &redirect_uri),
        ("scope", &scopes),
        ("state", pending.state.expose_secret()),
        ("nonce", pending.nonce.expose_secret()),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    fields.extend(config.resource.as_deref().map(|r| ("resource", r)));
    let separator = if endpoints.authorization.contains('?') { '&' } else { '?' };
    let location = format!("{}{separator}{}", endpoints.authorization, encode(&fields));
    state.console.sessions.start(&login, pending);
    let mut response = StatusCode::FOUND.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::LOCATION,
        HeaderValue::from_str(&location).map_err(|_| SignInError::BadRequest("bad authorization URL".into()))?,
    );
    headers.append(header::SET_COOKIE, set(LOGIN_COOKIE, &login, "/console/", LOGIN_TTL.as_secs())?);
    Ok(response)
}

/// The token endpoint's answer (RFC 6749 §5.1).
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    id_token: Option<String>,
}

/// The claims of the ID token the console checks (the token comes straight
/// from the token endpoint over the server's own connection, OIDC Core §3.1.3.7).
#[derive(Deserialize)]
struct IdClaims {
    iss: String,
    aud: serde_json::Value,
    nonce: Option<String>,
}

/// `GET /console/callback?code=…&state=…`: the provider's redirect back.
/// Any failure is the failure page with 400 (the provider unreachable too:
/// the person can only start again), and opens no session.
pub async fn callback(State(state): State<Arc<AppState>>, parts: Parts) -> Response {
    match complete(&state, &parts).await {
        Ok(response) => response,
        Err(e) => {
            tracing::info!(target: "shipwarden_server::console", "a console sign-in failed: {e}");
            e.page(StatusCode::BAD_REQUEST)
        }
    }
}

/// The callback's work: the pending sign-in, the code exchanged, the session opened.
async fn complete(state: &Arc<AppState>, parts: &Parts) -> Result<Response, SignInError> {
    let query = params(parts.uri.query())?;
    // The pending sign-in is spent whatever follows: a replayed callback finds nothing.
    let pending = session::cookie(&parts.headers, LOGIN_COOKIE).and_then(|login| state.console.sessions.take(login));
    if let Some(error) = param(&query, "error") {
        let error: String = error.chars().filter(|c| c.is_ascii_graphic()).take(64).collect();
        return Err(SignInError::Provider(error));
    }
    let given_state = param(&query, "state").ok_or_else(|| SignInError::BadRequest("no `state`".into()))?;
    let code = param(&query, "code").ok_or_else(|| SignInError::BadRequest("no `code`".into()))?;
    if code.is_empty() || code.len() > MAX_CODE || code.chars().any(|c| !c.is_ascii_graphic()) {
        return Err(SignInError::BadRequest("the `code` is not one a provider gives".into()));
    }
    let pending = pending.ok_or_else(|| {
        SignInError::BadRequest(
            "no sign-in was started in this browser, or it took longer than 10 minutes, or it was used already".into(),
        )
    })?;
    if !session::well_formed(given_state) || !session::same(given_state, pending.state.expose_secret()) {
        return Err(SignInError::BadRequest("the `state` is not the one this browser's sign-in sent".into()));
    }
    let (client_id, redirect_uri, oidc) = client(state)?;
    let endpoints = oidc.endpoints().await.map_err(|e| SignInError::Unavailable(e.to_string()))?;
    let resource = state.console.config().and_then(|c| c.resource.as_deref());
    let mut fields = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", &redirect_uri),
        ("client_id", &client_id),
        ("code_verifier", pending.verifier.expose_secret()),
    ];
    fields.extend(resource.map(|r| ("resource", r)));
    let form = encode(&fields);
    let answer = oidc
        .client()
        .post(&endpoints.token)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(form)
        .send()
        .await
        .map_err(|e| SignInError::Unavailable(e.without_url().to_string()))?;
    let status = answer.status();
    let body = answer.bytes().await.map_err(|e| SignInError::Unavailable(e.without_url().to_string()))?;
    if !status.is_success() {
        #[derive(Deserialize)]
        struct OAuthError {
            error: String,
        }
        let error = serde_json::from_slice::<OAuthError>(&body).map(|e| e.error).unwrap_or_else(|_| status.to_string());
        let error: String = error.chars().filter(|c| c.is_ascii_graphic()).take(64).collect();
        return Err(SignInError::Provider(error));
    }
    let tokens: TokenResponse = serde_json::from_slice(&body)
        .map_err(|_| SignInError::Token("the token endpoint's answer is not a token response".into()))?;
    if let Some(id_token) = &tokens.id_token {
        check_id_token(id_token, oidc.issuer(), &client_id, pending.nonce.expose_secret())?;
    }
    let verified = state.verify(&tokens.access_token).await.map_err(|e| SignInError::Token(e.doc.message.clone()))?;
    let id = session::random_token().map_err(|_| SignInError::Unavailable("no randomness".into()))?;
    let csrf = session::random_token().map_err(|_| SignInError::Unavailable("no randomness".into()))?;
    let ttl = state.console.ttl();
    // Whole seconds, as the cookie's Max-Age counts them.
    let ttl_secs = i64::try_from(ttl.as_secs()).unwrap_or(8 * 3600);
    let now = jiff::Timestamp::now().as_second();
    let expires = jiff::Timestamp::from_second(now.saturating_add(ttl_secs)).unwrap_or_else(|_| jiff::Timestamp::now());
    tracing::info!(target: "shipwarden_server::console", user = %verified.user, "signed in to the console");
    state.console.sessions.insert(&id, Session { verified, csrf, expires });
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::LOCATION,
        HeaderValue::from_str(&pending.next).unwrap_or_else(|_| HeaderValue::from_static("/console/")),
    );
    headers.append(header::SET_COOKIE, set(SESSION_COOKIE, &id, "/", ttl.as_secs())?);
    headers.append(header::SET_COOKIE, clear(LOGIN_COOKIE, "/console/"));
    Ok(response)
}

/// The ID token names this issuer, this client and the sign-in's nonce.
fn check_id_token(token: &str, issuer: &str, client_id: &str, nonce: &str) -> Result<(), SignInError> {
    let bad = |why: &str| SignInError::Token(format!("the ID token {why}"));
    let claims = token.split('.').nth(1).ok_or_else(|| bad("is not a JWT"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims).map_err(|_| bad("does not decode"))?;
    let claims: IdClaims = serde_json::from_slice(&bytes).map_err(|_| bad("does not decode"))?;
    if claims.iss != issuer {
        return Err(bad("is from another issuer"));
    }
    let for_us = match &claims.aud {
        serde_json::Value::String(a) => a == client_id,
        serde_json::Value::Array(all) => all.iter().any(|a| a.as_str() == Some(client_id)),
        _ => false,
    };
    if !for_us {
        return Err(bad("is for another client"));
    }
    if !claims.nonce.as_deref().is_some_and(|n| session::same(n, nonce)) {
        return Err(bad("does not carry this sign-in's nonce"));
    }
    Ok(())
}

/// A project the signed-in user sees, with their roles in it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProjectRoles {
    /// The project.
    pub name: String,
    /// The user's roles there (their `[users]` roles and those their groups grant); empty for a reader.
    pub roles: Vec<String>,
}

/// `GET /console/session`.
#[derive(Debug, Serialize)]
pub struct SessionInfo {
    /// The user.
    pub user: String,
    /// The token to send as `X-CSRF-Token` on every state-changing request.
    pub csrf: String,
    /// When the session ends.
    pub expires: jiff::Timestamp,
    /// The projects the user sees, with their roles.
    pub projects: Vec<ProjectRoles>,
}

/// The projects `who` sees and their roles in each.
pub fn projects_of(state: &AppState, who: &crate::Verified) -> Vec<ProjectRoles> {
    state
        .visible(who)
        .map(|p| ProjectRoles {
            name: p.name.clone(),
            roles: p.actor(who, &state.settings).roles.iter().map(|r| r.as_str().to_owned()).collect(),
        })
        .collect()
}

/// `GET /console/session`: who is signed in, the CSRF token, the session's end; 401 without a session.
pub async fn session(State(state): State<Arc<AppState>>, parts: Parts) -> Result<Response, ApiError> {
    let session = state
        .console
        .session_of(&parts)?
        .ok_or_else(|| ApiError::unauthenticated("no console session: sign in at /console/login"))?;
    let info = SessionInfo {
        user: session.verified.user.clone(),
        csrf: session.csrf.expose_secret().to_owned(),
        expires: session.expires,
        projects: projects_of(&state, &session.verified),
    };
    Ok(Json(info).into_response())
}

/// `POST /console/logout` (the session cookie and its CSRF token): 204, the session ended, the cookie cleared.
pub async fn logout(State(state): State<Arc<AppState>>, parts: Parts) -> Result<Response, ApiError> {
    let session = state
        .console
        .session_of(&parts)?
        .ok_or_else(|| ApiError::unauthenticated("no console session to sign out of"))?;
    state.console.check_csrf(&parts, &session)?;
    if let Some(id) = session::cookie(&parts.headers, SESSION_COOKIE) {
        state.console.sessions.remove(id);
    }
    tracing::info!(target: "shipwarden_server::console", user = %session.verified.user, "signed out of the console");
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().append(header::SET_COOKIE, clear(SESSION_COOKIE, "/"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_kept_only_when_it_is_a_path_under_the_console() {
        assert_eq!(safe_next(Some("/console/inbox")), "/console/inbox");
        assert_eq!(safe_next(Some("/console/releases/shop-1.4.0?tab=audit")), "/console/releases/shop-1.4.0?tab=audit");
        for hostile in [
            "https://evil.example",
            "//evil.example/console/",
            "/console//evil.example",
            "/v1/releases",
            "/console/../v1",
            "/console/\\evil",
            "/console/a b",
            "javascript:alert(1)",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/console/", "{hostile}");
        }
        assert_eq!(safe_next(None), "/console/");
        let confirm = format!("/console/confirm?t={}.{}", "A".repeat(1900), "B".repeat(43));
        assert_eq!(safe_next(Some(&confirm)), confirm, "an approval link comes back after the sign-in");
        assert_eq!(safe_next(Some(&format!("/console/{}", "a".repeat(MAX_NEXT)))), "/console/");
    }

    #[test]
    fn the_failure_page_escapes_what_it_shows() {
        assert_eq!(escape("<script>\"x\"&'"), "&lt;script&gt;&quot;x&quot;&amp;&#39;");
    }
}
