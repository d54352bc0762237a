//! Console sessions and pending sign-ins, in the server's memory.
//!
//! A session id, a CSRF token, a sign-in's `state` and PKCE verifier are 256
//! random bits (ring's system random), base64url. The maps are keyed by the
//! SHA-256 of the id, so the raw secret is kept only by the browser; nothing
//! secret is in `Debug` output or in logs. Expired entries are swept as new
//! ones are made.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::auth::Verified;

/// The cookie holding the session id.
pub const SESSION_COOKIE: &str = "sw_session";
/// The cookie binding a pending sign-in to the browser that started it.
pub const LOGIN_COOKIE: &str = "sw_login";
/// How long a sign-in may take between `/console/login` and `/console/callback`.
pub const LOGIN_TTL: Duration = Duration::from_secs(600);
/// The most sessions and pending sign-ins kept; past it, the oldest are dropped.
const MAX_ENTRIES: usize = 100_000;

/// 256 random bits, base64url without padding (43 characters).
pub fn random_token() -> Result<SecretString, ring::error::Unspecified> {
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)?;
    Ok(SecretString::from(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)))
}

/// Whether `text` can be one of [`random_token`]'s values (43 base64url
/// characters): anything else is refused before any lookup.
pub fn well_formed(text: &str) -> bool {
    text.len() == 43 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Equality of two secrets in a time that tells nothing of where they
/// differ: their SHA-256 digests are compared whole (what a caller sends
/// cannot steer a digest's prefix toward the secret's).
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (digest(a), digest(b));
    a.iter().zip(b.iter()).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// A signed-in console user.
#[derive(Clone)]
pub struct Session {
    /// Who, as the provider's token said (user, groups, `Proof::Oidc`).
    pub verified: Verified,
    /// The token every state-changing request must send as `X-CSRF-Token`.
    pub csrf: SecretString,
    /// When the session ends.
    pub expires: jiff::Timestamp,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user", &self.verified.user)
            .field("csrf", &"[redacted]")
            .field("expires", &self.expires)
            .finish()
    }
}

/// A sign-in started at `/console/login`, waiting for the provider's redirect.
pub struct Pending {
    /// The `state` sent to the provider.
    pub state: SecretString,
    /// The PKCE `code_verifier`.
    pub verifier: SecretString,
    /// The `nonce` the ID token must carry.
    pub nonce: SecretString,
    /// Where to go once signed in (a path under `/console/`).
    pub next: String,
    created: Instant,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending").field("next", &self.next).finish_non_exhaustive()
    }
}

impl Pending {
    /// A pending sign-in with fresh `state`, verifier and nonce.
    pub fn new(next: String) -> Result<Self, ring::error::Unspecified> {
        Ok(Pending {
            state: random_token()?,
            verifier: random_token()?,
            nonce: random_token()?,
            next,
            created: Instant::now(),
        })
    }

    /// The PKCE `code_challenge` (S256) of the verifier.
    pub fn challenge(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(self.verifier.expose_secret()))
    }
}

/// The sessions and pending sign-ins of this server.
#[derive(Default)]
pub struct Sessions {
    sessions: Mutex<HashMap<[u8; 32], Session>>,
    pending: Mutex<HashMap<[u8; 32], Pending>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").field("sessions", &self.len()).finish_non_exhaustive()
    }
}

impl Sessions {
    /// Keeps `session` under `id` (a [`random_token`]), sweeping expired ones.
    pub fn insert(&self, id: &SecretString, session: Session) {
        let mut sessions = self.sessions.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = jiff::Timestamp::now();
        sessions.retain(|_, s| s.expires > now);
        if sessions.len() >= MAX_ENTRIES
            && let Some(oldest) = sessions.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| *k)
        {
            sessions.remove(&oldest);
        }
        sessions.insert(digest(id.expose_secret()), session);
    }

    /// The live session of `id`, if any (an expired one is dropped).
    pub fn get(&self, id: &str) -> Option<Session> {
        if !well_formed(id) {
            return None;
        }
        let key = digest(id);
        let mut sessions = self.sessions.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match sessions.get(&key) {
            Some(s) if s.expires > jiff::Timestamp::now() => Some(s.clone()),
            Some(_) => {
                sessions.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Ends the session of `id`; whether there was one.
    pub fn remove(&self, id: &str) -> bool {
        let mut sessions = self.sessions.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        sessions.remove(&digest(id)).is_some()
    }

    /// How many sessions are kept (expired ones not swept yet included).
    pub fn len(&self) -> usize {
        self.sessions.lock().map(|s| s.len()).unwrap_or_default()
    }

    /// Whether no session is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps `pending` under the value of the browser's `sw_login` cookie.
    pub fn start(&self, login: &SecretString, pending: Pending) {
        let mut all = self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        all.retain(|_, p| p.created.elapsed() < LOGIN_TTL);
        if all.len() >= MAX_ENTRIES
            && let Some(oldest) = all.iter().min_by_key(|(_, p)| p.created).map(|(k, _)| *k)
        {
            all.remove(&oldest);
        }
        all.insert(digest(login.expose_secret()), pending);
    }

    /// Takes the pending sign-in of the `sw_login` cookie `login` (once: a
    /// second callback with it finds nothing), if it is not older than [`LOGIN_TTL`].
    pub fn take(&self, login: &str) -> Option<Pending> {
        if !well_formed(login) {
            return None;
        }
        let mut all = self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        all.remove(&digest(login)).filter(|p| p.created.elapsed() < LOGIN_TTL)
    }
}

/// The value of the cookie `name` in a request's `Cookie` headers; `None`
/// when absent, or when the value is not one a session or sign-in can have
/// (hostile or stale values are treated as no cookie).
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| well_formed(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_base64url_characters_and_differ() {
        let a = random_token().expect("random");
        let b = random_token().expect("random");
        assert!(well_formed(a.expose_secret()) && well_formed(b.expose_secret()));
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert!(!well_formed("short") && !well_formed(&"a".repeat(44)) && !well_formed(&"+".repeat(43)));
    }

    #[test]
    fn a_session_is_found_by_its_id_only_until_it_ends_and_debug_shows_no_secret() {
        let sessions = Sessions::default();
        let id = random_token().expect("random");
        let session = Session {
            verified: Verified {
                user: "quinn".into(),
                groups: Default::default(),
                proof: shipwarden::Proof::Oidc { issuer: "https://id.example".into(), subject: "quinn".into() },
                scopes: None,
            },
            csrf: random_token().expect("random"),
            expires: jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1),
        };
        let csrf = session.csrf.expose_secret().to_owned();
        sessions.insert(&id, session);
        let found = sessions.get(id.expose_secret()).expect("found");
        assert!(!format!("{found:?} {sessions:?}").contains(&csrf));
        assert!(!format!("{found:?}").contains(id.expose_secret()));
        assert!(sessions.get(random_token().expect("random").expose_secret()).is_none());
        assert!(sessions.remove(id.expose_secret()));
        assert!(sessions.get(id.expose_secret()).is_none());
    }

    #[test]
    fn a_pending_sign_in_is_taken_once_and_its_challenge_is_s256() {
        let sessions = Sessions::default();
        let login = random_token().expect("random");
        let pending = Pending::new("/console/inbox".into()).expect("pending");
        let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(pending.verifier.expose_secret().as_bytes()));
        assert_eq!(pending.challenge(), expected);
        sessions.start(&login, pending);
        assert_eq!(sessions.take(login.expose_secret()).expect("pending").next, "/console/inbox");
        assert!(sessions.take(login.expose_secret()).is_none(), "a replay finds nothing");
    }

    #[test]
    fn cookies_with_odd_bytes_or_huge_values_are_no_cookie() {
        let mut headers = axum::http::HeaderMap::new();
        let id = random_token().expect("random");
        let value = format!("other=1; {SESSION_COOKIE}={}", id.expose_secret());
        headers.insert(axum::http::header::COOKIE, value.parse().expect("header"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some(id.expose_secret()));
        headers
            .insert(axum::http::header::COOKIE, format!("{SESSION_COOKIE}={}", "x".repeat(10_000)).parse().expect("h"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), None);
        headers.insert(
            axum::http::header::COOKIE,
            axum::http::HeaderValue::from_bytes(b"sw_session=ab\xffcd").expect("h"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), None);
    }
}
