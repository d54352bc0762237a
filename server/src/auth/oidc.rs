//! OpenID Connect bearer tokens (JWT): the issuer's discovery document names
//! its JWKS; keys are cached by `kid`, and a token signed with a key not seen
//! yet makes the verifier fetch the JWKS again, at most once per
//! [`OidcVerifier::with_refetch_interval`] (key rotation, without letting a
//! flood of made-up `kid`s hammer the provider). `iss`, `aud`, `exp` and
//! `nbf` are checked with a bounded leeway; only asymmetric algorithms are
//! accepted (`alg: none` and `HS*` are refused before any key is looked up).
//! The identity becomes [`Proof::Oidc`] with the token's `iss` and `sub`.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use shipwarden::Proof;
use shipwarden_adapters::config::ServerConfig;

use super::{AuthError, Verified, Verify};

/// The default clock skew tolerated on `exp` and `nbf`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);
/// The largest clock skew `[server.oidc] leeway` may set.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);
/// The default least time between two JWKS fetches caused by unknown `kid`s.
pub const DEFAULT_REFETCH_INTERVAL: Duration = Duration::from_secs(10);

/// Why `[server.oidc]` cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OidcConfigError {
    /// `leeway` is not a duration, or exceeds [`MAX_LEEWAY`].
    #[error("server.oidc.leeway: {0}")]
    Leeway(String),
    /// The HTTP client cannot be built.
    #[error("server.oidc: {0}")]
    Client(String),
}

#[derive(Clone)]
struct Key {
    key: DecodingKey,
    alg: Option<Algorithm>,
}

#[derive(Default)]
struct Keys {
    by_kid: HashMap<String, Key>,
    /// The endpoints of the last discovery document read.
    endpoints: Option<Endpoints>,
    /// When the provider was last asked, and why that failed if it did.
    asked: Option<(Instant, Option<String>)>,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    end_session_endpoint: Option<String>,
}

/// Where the provider's discovery document says people sign in and codes
/// are exchanged (the console's sign-in, issue #22).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// `authorization_endpoint`.
    pub authorization: String,
    /// `token_endpoint`.
    pub token: String,
    /// `end_session_endpoint`, when the provider has one (RP-initiated logout).
    pub end_session: Option<String>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

/// Verifies the JWTs of one OpenID provider.
pub struct OidcVerifier {
    issuer: String,
    audience: String,
    user_claim: String,
    groups_claim: String,
    leeway: Duration,
    refetch_every: Duration,
    client: reqwest::Client,
    keys: RwLock<Arc<Keys>>,
    fetching: tokio::sync::Mutex<()>,
    fetches: std::sync::atomic::AtomicU64,
    /// Tokens already verified, by the SHA-256 of the token, until their `exp`
    /// (plus the leeway): a client repeating its token is not checked again.
    verified: std::sync::Mutex<HashMap<[u8; 32], (Verified, u64)>>,
}

/// The most verified tokens remembered; past it, the memory starts afresh.
const REMEMBERED: usize = 10_000;

impl std::fmt::Debug for OidcVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcVerifier").field("issuer", &self.issuer).field("audience", &self.audience).finish()
    }
}

/// `leeway` read: default 60 s, at most 5 min.
pub fn leeway(text: Option<&str>) -> Result<Duration, OidcConfigError> {
    let Some(text) = text else { return Ok(DEFAULT_LEEWAY) };
    let d = text
        .parse::<jiff::SignedDuration>()
        .ok()
        .and_then(|d| Duration::try_from(d).ok())
        .ok_or_else(|| OidcConfigError::Leeway(format!("`{text}` is not a duration (`60s`, `2m`)")))?;
    if d > MAX_LEEWAY {
        return Err(OidcConfigError::Leeway(format!("`{text}` exceeds the 5 minutes allowed")));
    }
    Ok(d)
}

impl OidcVerifier {
    /// A verifier for the provider `[server.oidc]` names, if any. Nothing is
    /// fetched until the first token arrives (the server starts while the
    /// provider is down; tokens are answered 503 meanwhile).
    pub fn from_settings(settings: &ServerConfig) -> Result<Option<Self>, OidcConfigError> {
        let Some(oidc) = &settings.oidc else { return Ok(None) };
        let mut v = OidcVerifier::new(&oidc.issuer, &oidc.audience)?.with_leeway(leeway(oidc.leeway.as_deref())?);
        if let Some(claim) = &oidc.user_claim {
            v.user_claim.clone_from(claim);
        }
        if let Some(claim) = &oidc.groups_claim {
            v.groups_claim.clone_from(claim);
        }
        Ok(Some(v))
    }

    /// A verifier of tokens from `issuer` for `audience`, with the defaults
    /// (`sub` names the user, `groups` their groups, 60 s leeway).
    pub fn new(issuer: &str, audience: &str) -> Result<Self, OidcConfigError> {
        let client = shipwarden_adapters::http_client(Duration::from_secs(10)).map_err(OidcConfigError::Client)?;
        Ok(OidcVerifier {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            user_claim: "sub".into(),
            groups_claim: "groups".into(),
            leeway: DEFAULT_LEEWAY,
            refetch_every: DEFAULT_REFETCH_INTERVAL,
            client,
            keys: RwLock::new(Arc::new(Keys::default())),
            fetching: tokio::sync::Mutex::new(()),
            fetches: std::sync::atomic::AtomicU64::new(0),
            verified: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// The same verifier tolerating `leeway` of clock skew (capped at [`MAX_LEEWAY`]).
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway.min(MAX_LEEWAY);
        self
    }

    /// The same verifier fetching the JWKS again for an unknown `kid` at most once per `every`.
    pub fn with_refetch_interval(mut self, every: Duration) -> Self {
        self.refetch_every = every;
        self
    }

    /// How many times the provider was asked for its keys (for tests and metrics).
    pub fn fetches(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The issuer tokens must name (`iss`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The HTTP client the verifier asks the provider with (rustls, a 10 s timeout).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The provider's sign-in endpoints, from the same discovery document the
    /// keys come from: read once, then again only as the keys are (at most once
    /// per refetch interval while the provider cannot be read).
    pub async fn endpoints(&self) -> Result<Endpoints, AuthError> {
        if let Some(e) = &self.cached().endpoints {
            return Ok(e.clone());
        }
        self.refresh().await?;
        self.cached().endpoints.clone().ok_or_else(|| {
            AuthError::Unavailable(
                "the provider's discovery document names no authorization_endpoint and token_endpoint".into(),
            )
        })
    }

    fn cached(&self) -> Arc<Keys> {
        self.keys.read().map(|k| Arc::clone(&k)).unwrap_or_default()
    }

    /// Fetches discovery and the JWKS, unless the provider was asked less
    /// than `refetch_every` ago (by another request this one waited for, or
    /// before): then that answer stands, a failure included, so that neither
    /// made-up `kid`s nor a provider that is down cause a fetch per request.
    async fn refresh(&self) -> Result<(), AuthError> {
        let _one = self.fetching.lock().await;
        let cached = self.cached();
        if let Some((at, error)) = &cached.asked
            && at.elapsed() < self.refetch_every
        {
            return error.clone().map_or(Ok(()), |e| Err(AuthError::Unavailable(e)));
        }
        match self.fetch().await {
            Ok((by_kid, endpoints)) => {
                tracing::debug!(issuer = %self.issuer, "fetched the OpenID provider's keys");
                self.store(Keys { by_kid, endpoints, asked: Some((Instant::now(), None)) });
                Ok(())
            }
            Err(e) => {
                let (AuthError::Unavailable(why) | AuthError::Invalid(why)) = &e;
                tracing::warn!(issuer = %self.issuer, "the OpenID provider's keys cannot be fetched: {why}");
                // The keys known so far stay usable.
                self.store(Keys {
                    by_kid: cached.by_kid.clone(),
                    endpoints: cached.endpoints.clone(),
                    asked: Some((Instant::now(), Some(why.clone()))),
                });
                Err(e)
            }
        }
    }

    fn store(&self, keys: Keys) {
        if let Ok(mut current) = self.keys.write() {
            *current = Arc::new(keys);
        }
    }

    /// The provider's signing keys by `kid`, from its discovery document's
    /// JWKS, and the sign-in endpoints the document names.
    async fn fetch(&self) -> Result<(HashMap<String, Key>, Option<Endpoints>), AuthError> {
        self.fetches.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let unavailable = |what: &str, e: &dyn std::fmt::Display| AuthError::Unavailable(format!("{what}: {e}"));
        let url = format!("{}/.well-known/openid-configuration", self.issuer.trim_end_matches('/'));
        let discovery: Discovery = self.get_json(&url).await.map_err(|e| unavailable("discovery", &e))?;
        if discovery.issuer != self.issuer {
            return Err(AuthError::Unavailable(format!(
                "the discovery document names the issuer `{}`, not `{}`",
                discovery.issuer, self.issuer
            )));
        }
        let set: JwkSet = self.get_json(&discovery.jwks_uri).await.map_err(|e| unavailable("jwks", &e))?;
        let endpoints = match (discovery.authorization_endpoint, discovery.token_endpoint) {
            (Some(authorization), Some(token)) => {
                Some(Endpoints { authorization, token, end_session: discovery.end_session_endpoint })
            }
            _ => None,
        };
        let keys = set
            .keys
            .iter()
            .filter(|jwk| !matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)))
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                let key = DecodingKey::from_jwk(jwk).ok()?;
                let alg = jwk.common.key_algorithm.and_then(|a| a.to_string().parse::<Algorithm>().ok());
                Some((kid, Key { key, alg }))
            })
            .collect();
        Ok((keys, endpoints))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let response = self.client.get(url).send().await.map_err(|e| e.without_url().to_string())?;
        if !response.status().is_success() {
            return Err(format!("{url} answered {}", response.status()));
        }
        let body = response.bytes().await.map_err(|e| e.without_url().to_string())?;
        serde_json::from_slice(&body).map_err(|e| format!("{url}: {e}"))
    }

    async fn key(&self, kid: &str) -> Result<Key, AuthError> {
        // The usual case takes no lock and asks nobody.
        if let Some(key) = self.cached().by_kid.get(kid) {
            return Ok(key.clone());
        }
        // The first token, or a key not seen yet: the provider may have rotated its keys.
        self.refresh().await?;
        self.cached()
            .by_kid
            .get(kid)
            .cloned()
            .ok_or_else(|| AuthError::Invalid(format!("the token is signed with an unknown key (kid `{kid}`)")))
    }
}

/// The header of what looks like a JWT; `None` when `token` is not one.
fn header(token: &str) -> Option<Result<Header, AuthError>> {
    let mut parts = token.split('.');
    let (Some(head), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    let bad = || AuthError::Invalid("the token's JWT header does not decode".into());
    Some(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(head)
            .map_err(|_| bad())
            .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|_| bad())),
    )
}

fn asymmetric(alg: &str) -> Result<Algorithm, AuthError> {
    let alg = match alg {
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        "none" | "None" | "NONE" => {
            return Err(AuthError::Invalid("the token is unsigned (`alg: none`), which is never accepted".into()));
        }
        other if other.to_ascii_uppercase().starts_with("HS") => {
            return Err(AuthError::Invalid(format!(
                "the token is signed with a shared secret (`{other}`); only the provider's public keys are accepted"
            )));
        }
        other => return Err(AuthError::Invalid(format!("the token's algorithm `{other}` is not accepted"))),
    };
    Ok(alg)
}

fn reason(e: &jsonwebtoken::errors::Error) -> String {
    match e.kind() {
        ErrorKind::ExpiredSignature => "the token has expired (`exp`)".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (`nbf`)".into(),
        ErrorKind::InvalidAudience => "the token is for another audience (`aud`)".into(),
        ErrorKind::InvalidIssuer => "the token is from another issuer (`iss`)".into(),
        ErrorKind::InvalidSignature => "the token's signature does not verify".into(),
        ErrorKind::InvalidAlgorithm => "the token's algorithm does not match its key".into(),
        ErrorKind::MissingRequiredClaim(c) => format!("the token has no `{c}` claim"),
        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
            "the token is malformed".into()
        }
        _ => "the token does not verify".into(),
    }
}

fn groups(value: Option<&serde_json::Value>) -> BTreeSet<String> {
    match value {
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(|g| g.as_str().map(str::to_owned)).collect(),
        Some(serde_json::Value::String(g)) => g.split_whitespace().map(str::to_owned).collect(),
        _ => BTreeSet::new(),
    }
}

#[async_trait::async_trait]
impl Verify for OidcVerifier {
    async fn verify(&self, token: &str) -> Result<Option<Verified>, AuthError> {
        let Some(header) = header(token) else { return Ok(None) };
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = jsonwebtoken::get_current_timestamp();
        if let Ok(mut memory) = self.verified.lock()
            && let Some((who, until)) = memory.get(&digest)
        {
            if now < *until {
                return Ok(Some(who.clone()));
            }
            memory.remove(&digest);
        }
        let header = header?;
        let alg = asymmetric(&header.alg)?;
        let kid = header.kid.ok_or_else(|| AuthError::Invalid("the token names no key (`kid`)".into()))?;
        let key = self.key(&kid).await?;
        if key.alg.is_some_and(|a| a != alg) {
            return Err(AuthError::Invalid("the token's algorithm does not match its key".into()));
        }
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = self.leeway.as_secs();
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(token, &key.key, &validation)
            .map_err(|e| AuthError::Invalid(reason(&e)))?;
        let claims = data.claims;
        let subject = claims.get("sub").and_then(|s| s.as_str()).unwrap_or_default().to_owned();
        let user = claims
            .get(&self.user_claim)
            .and_then(|u| u.as_str())
            .filter(|u| !u.is_empty())
            .ok_or_else(|| AuthError::Invalid(format!("the token has no `{}` claim naming the user", self.user_claim)))?
            .to_owned();
        let who = Verified {
            user,
            groups: groups(claims.get(&self.groups_claim)),
            proof: Proof::Oidc { issuer: self.issuer.clone(), subject },
            scopes: None,
        };
        if let (Some(exp), Ok(mut memory)) =
            (claims.get("exp").and_then(serde_json::Value::as_u64), self.verified.lock())
        {
            if memory.len() >= REMEMBERED {
                memory.clear();
            }
            memory.insert(digest, (who.clone(), exp.saturating_add(self.leeway.as_secs())));
        }
        Ok(Some(who))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header as JwtHeader};
    use ring::signature::{Ed25519KeyPair, KeyPair};

    /// A verifier that already holds one Ed25519 key `k1`, and the key to sign with.
    fn with_key() -> (OidcVerifier, EncodingKey) {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("key");
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("pair");
        let verifier =
            OidcVerifier::new("https://id.example", "shipwarden").expect("verifier").with_leeway(Duration::ZERO);
        let key = Key { key: DecodingKey::from_ed_der(pair.public_key().as_ref()), alg: Some(Algorithm::EdDSA) };
        verifier.store(Keys {
            by_kid: HashMap::from([("k1".to_owned(), key)]),
            endpoints: None,
            asked: Some((Instant::now(), None)),
        });
        (verifier, EncodingKey::from_ed_der(pkcs8.as_ref()))
    }

    fn sign(key: &EncodingKey, alg: Algorithm, kid: Option<&str>, claims: serde_json::Value) -> String {
        let mut header = JwtHeader::new(alg);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, &claims, key).expect("sign")
    }

    fn claims(extra: serde_json::Value) -> serde_json::Value {
        let now = jsonwebtoken::get_current_timestamp();
        let mut c =
            serde_json::json!({"iss": "https://id.example", "aud": "shipwarden", "sub": "u-17", "exp": now + 600});
        if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
            c.extend(extra.clone());
        }
        c
    }

    async fn refused(v: &OidcVerifier, token: &str) -> String {
        match v.verify(token).await {
            Err(AuthError::Invalid(why)) => why,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn eddsa_tokens_verify_and_a_token_not_valid_yet_is_refused_nbf() {
        let (v, key) = with_key();
        let now = jsonwebtoken::get_current_timestamp();
        let ok =
            sign(&key, Algorithm::EdDSA, Some("k1"), claims(serde_json::json!({"nbf": now - 5, "groups": ["qa"]})));
        let who = v.verify(&ok).await.expect("valid").expect("a JWT");
        assert_eq!(who.user, "u-17");
        assert_eq!(who.groups, BTreeSet::from(["qa".to_owned()]));
        assert_eq!(who.proof, Proof::Oidc { issuer: "https://id.example".into(), subject: "u-17".into() });
        let early = sign(&key, Algorithm::EdDSA, Some("k1"), claims(serde_json::json!({"nbf": now + 600})));
        assert!(refused(&v, &early).await.contains("not valid yet"));
        let stale = sign(&key, Algorithm::EdDSA, Some("k1"), claims(serde_json::json!({"exp": now - 5})));
        assert!(refused(&v, &stale).await.contains("expired"));
    }

    #[tokio::test]
    async fn the_header_is_judged_before_any_key_kid_alg_and_missing_claims() {
        let (v, key) = with_key();
        let no_kid = sign(&key, Algorithm::EdDSA, None, claims(serde_json::json!({})));
        assert!(refused(&v, &no_kid).await.contains("names no key"));
        let body = no_kid.split('.').nth(1).expect("claims");
        let head = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","kid":"k1"}"#);
        let mismatched = format!("{head}.{body}.c2ln");
        assert!(refused(&v, &mismatched).await.contains("does not match its key"));
        let head = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"HS512","kid":"k1"}"#);
        assert!(refused(&v, &format!("{head}.{body}.c2ln")).await.contains("shared secret"));
        assert!(refused(&v, "bm90IGpzb24.e30.c2ln").await.contains("does not decode"));
        let mut no_aud = claims(serde_json::json!({}));
        no_aud.as_object_mut().map(|c| c.remove("aud"));
        let token = sign(&key, Algorithm::EdDSA, Some("k1"), no_aud);
        assert!(refused(&v, &token).await.contains("`aud`"));
    }

    #[tokio::test]
    async fn the_user_and_groups_come_from_the_configured_claims() {
        let (mut v, key) = with_key();
        v.user_claim = "preferred_username".into();
        v.groups_claim = "roles".into();
        let token = sign(
            &key,
            Algorithm::EdDSA,
            Some("k1"),
            claims(serde_json::json!({"preferred_username": "paul", "roles": "product qa"})),
        );
        let who = v.verify(&token).await.expect("valid").expect("a JWT");
        assert_eq!(who.user, "paul");
        assert_eq!(who.groups, BTreeSet::from(["product".to_owned(), "qa".to_owned()]));
        let nameless = sign(&key, Algorithm::EdDSA, Some("k1"), claims(serde_json::json!({})));
        assert!(refused(&v, &nameless).await.contains("preferred_username"));
    }

    #[test]
    fn the_leeway_defaults_to_a_minute_and_is_at_most_five() {
        assert_eq!(leeway(None).expect("default"), DEFAULT_LEEWAY);
        assert_eq!(leeway(Some("2m")).expect("2m"), Duration::from_secs(120));
        assert!(leeway(Some("6m")).is_err());
        assert!(leeway(Some("soon")).is_err());
    }
}
