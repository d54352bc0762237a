//! One-time approve and reject links mailed with an approval request
//! (issue #23, R-2b, R-2c): a signed token naming the person, the approval,
//! the verdict and the release as the mail saw it.
//!
//! A token is `base64url(payload JSON) "." base64url(HMAC-SHA256(key, payload))`
//! (no padding), the key at least 32 bytes from `[approval_links] secret_env`.
//! The payload ([`LinkClaims`]) carries the release, the approval, the user
//! the link was mailed to, the verdict (`approve` or `reject`), the stage the
//! release waits in and when it entered it, an expiry (unix seconds) and a
//! 128-bit random id.
//!
//! **Bound to the release as the mail saw it, not to its chain head.** The
//! literal head of the audit chain cannot be bound: sending the mail is
//! itself a step of the duty that asked for the approval, and appends its
//! events after the token is made. So a link binds the stage and the time
//! the release entered it: a release that moved on (another stage, or the
//! same stage entered again) no longer accepts it.
//!
//! The token is parsed with bounds: at most [`MAX_TOKEN`] bytes, strict
//! base64 (no padding, no stray bits), the signature checked in constant
//! time (ring) *before* the payload is read, and the payload JSON with no
//! unknown field. Single use is not this module's: the server finds the id
//! in the approvals and rejections recorded. The key is never in `Debug`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// The largest token read, in bytes.
pub const MAX_TOKEN: usize = 2048;
/// The shortest key accepted, in bytes.
pub const MIN_KEY: usize = 32;
/// The payload's format version.
pub const VERSION: u8 = 1;

/// What a link does when confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Records the approval.
    Approve,
    /// Records a rejection (with the reason given on confirming).
    Reject,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Approve => "approve",
            Verdict::Reject => "reject",
        })
    }
}

/// What a link says, signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkClaims {
    /// The format version ([`VERSION`]).
    pub v: u8,
    /// The release (`shop-1.4.0`).
    pub release: String,
    /// The approval (`qa_signoff`).
    pub approval: String,
    /// The shipwarden user the link was mailed to: only they may use it.
    pub user: String,
    /// Approve or reject.
    pub verdict: Verdict,
    /// The stage the release waited in when the mail was made.
    pub stage: String,
    /// When the release entered that stage (RFC 3339).
    pub entered: jiff::Timestamp,
    /// When the link stops working (unix seconds).
    pub exp: i64,
    /// The link's id: 128 random bits as 32 hex digits, recorded with the
    /// approval or rejection so a second use is found.
    pub id: String,
}

impl LinkClaims {
    /// True when the link has expired at `now` (unix seconds).
    pub fn expired(&self, now: i64) -> bool {
        now >= self.exp
    }
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// Longer than [`MAX_TOKEN`].
    #[error("the link's token is longer than {MAX_TOKEN} bytes")]
    TooLong,
    /// Not two base64url parts.
    #[error("the link's token is malformed: {0}")]
    Malformed(&'static str),
    /// The signature does not match the payload under this key.
    #[error("the link's signature does not verify: it was not made by this shipwarden, or it was altered")]
    BadSignature,
    /// Signed, but the payload is not one this version reads.
    #[error("the link's payload is not understood: {0}")]
    Payload(String),
    /// The key is too short.
    #[error("the approval link key must be at least {MIN_KEY} bytes, it is {0}")]
    WeakKey(usize),
    /// The random id could not be drawn.
    #[error("no randomness for the link id")]
    Random,
}

/// The key links are signed and checked with (HMAC-SHA256).
pub struct LinkKey {
    key: hmac::Key,
}

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey(..)")
    }
}

impl LinkKey {
    /// The key of `secret`, which must be at least [`MIN_KEY`] bytes.
    ///
    /// # Errors
    /// [`LinkError::WeakKey`] for a shorter secret.
    pub fn new(secret: &SecretString) -> Result<LinkKey, LinkError> {
        let bytes = secret.expose_secret().as_bytes();
        if bytes.len() < MIN_KEY {
            return Err(LinkError::WeakKey(bytes.len()));
        }
        Ok(LinkKey { key: hmac::Key::new(hmac::HMAC_SHA256, bytes) })
    }

    /// The token of `claims`.
    pub fn sign(&self, claims: &LinkClaims) -> String {
        // Serializing a struct of strings and numbers cannot fail.
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        let tag = hmac::sign(&self.key, &payload);
        format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// The claims of `token` if this key signed it (expiry is the caller's
    /// to check, so an expired link can still be described).
    ///
    /// # Errors
    /// A [`LinkError`] saying what is wrong with the token.
    pub fn verify(&self, token: &str) -> Result<LinkClaims, LinkError> {
        if token.len() > MAX_TOKEN {
            return Err(LinkError::TooLong);
        }
        let (payload, tag) = token.split_once('.').ok_or(LinkError::Malformed("no `.` between its two parts"))?;
        if tag.contains('.') {
            return Err(LinkError::Malformed("more than two parts"));
        }
        let payload =
            URL_SAFE_NO_PAD.decode(payload).map_err(|_| LinkError::Malformed("the payload is not base64url"))?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| LinkError::Malformed("the signature is not base64url"))?;
        hmac::verify(&self.key, &payload, &tag).map_err(|_| LinkError::BadSignature)?;
        let claims: LinkClaims = serde_json::from_slice(&payload).map_err(|e| LinkError::Payload(e.to_string()))?;
        if claims.v != VERSION {
            return Err(LinkError::Payload(format!("version {} (this shipwarden reads {VERSION})", claims.v)));
        }
        Ok(claims)
    }
}

/// A fresh link id: 128 random bits as 32 hex digits.
///
/// # Errors
/// [`LinkError::Random`] when the system has no randomness to give.
pub fn new_id() -> Result<String, LinkError> {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new().fill(&mut bytes).map_err(|_| LinkError::Random)?;
    Ok(hex::encode(bytes))
}

/// What the comment of an approval or rejection recorded through link `id`
/// ends with; a second use finds it there.
pub fn comment_mark(id: &str) -> String {
    format!("(email link {id})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(text: &str) -> LinkKey {
        LinkKey::new(&SecretString::from(text.to_owned())).expect("key")
    }

    fn claims() -> LinkClaims {
        LinkClaims {
            v: VERSION,
            release: "shop-1.4.0".into(),
            approval: "qa_signoff".into(),
            user: "quinn".into(),
            verdict: Verdict::Approve,
            stage: "in_qa".into(),
            entered: "2026-12-01T10:00:00Z".parse().expect("time"),
            exp: 1_800_000_000,
            id: new_id().expect("id"),
        }
    }

    const K: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_signed_link_verifies_and_says_what_it_was_made_with() {
        let c = claims();
        let token = key(K).sign(&c);
        assert_eq!(key(K).verify(&token).expect("verifies"), c);
        assert!(!c.expired(c.exp - 1));
        assert!(c.expired(c.exp));
        assert_eq!(c.id.len(), 32);
        assert_ne!(new_id().expect("id"), new_id().expect("id"));
    }

    #[test]
    fn a_short_key_is_refused() {
        assert_eq!(LinkKey::new(&SecretString::from("short".to_owned())).err(), Some(LinkError::WeakKey(5)));
        assert_eq!(format!("{:?}", key(K)), "LinkKey(..)");
    }

    #[test]
    fn another_key_or_an_altered_payload_does_not_verify() {
        let token = key(K).sign(&claims());
        assert_eq!(key("another key that is long enough!!").verify(&token), Err(LinkError::BadSignature));
        let (payload, tag) = token.split_once('.').expect("two parts");
        let mut forged = claims();
        forged.user = "mallory".into();
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).expect("json"));
        assert_eq!(key(K).verify(&format!("{forged_payload}.{tag}")), Err(LinkError::BadSignature));
        assert!(matches!(key(K).verify(&format!("{payload}=.{tag}")), Err(LinkError::Malformed(_))));
        assert!(matches!(key(K).verify(&format!("{payload}.{tag}.x")), Err(LinkError::Malformed(_))));
        assert!(matches!(key(K).verify(payload), Err(LinkError::Malformed(_))));
        assert_eq!(key(K).verify(&"a".repeat(MAX_TOKEN + 1)), Err(LinkError::TooLong));
    }

    #[test]
    fn a_signed_payload_with_unknown_fields_or_version_is_refused() {
        let k = key(K);
        let mut value = serde_json::to_value(claims()).expect("json");
        value["extra"] = serde_json::json!(1);
        let payload = serde_json::to_vec(&value).expect("json");
        let tag = hmac::sign(&k.key, &payload);
        let token = format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(tag.as_ref()));
        assert!(matches!(k.verify(&token), Err(LinkError::Payload(_))));
        let mut old = claims();
        old.v = 9;
        assert!(matches!(k.verify(&k.sign(&old)), Err(LinkError::Payload(_))));
    }

    proptest! {
        #[test]
        fn any_text_is_refused_or_verified_never_a_panic(text in "\\PC{0,300}") {
            let _ = key(K).verify(&text);
        }

        #[test]
        fn any_change_to_a_token_breaks_it(at in 0usize..200, byte in any::<u8>()) {
            let token = key(K).sign(&claims());
            let mut bytes = token.clone().into_bytes();
            let at = at % bytes.len();
            prop_assume!(bytes[at] != byte);
            bytes[at] = byte;
            if let Ok(changed) = String::from_utf8(bytes) {
                prop_assert!(key(K).verify(&changed).is_err());
            }
        }

        #[test]
        fn claims_round_trip(user in "[a-z]{1,20}", release in "[a-z]{1,10}-[0-9]\\.[0-9]\\.[0-9]", exp in 0i64..4_000_000_000, reject in any::<bool>()) {
            let mut c = claims();
            c.user = user;
            c.release = release;
            c.exp = exp;
            c.verdict = if reject { Verdict::Reject } else { Verdict::Approve };
            prop_assert_eq!(key(K).verify(&key(K).sign(&c)).expect("verifies"), c);
        }
    }
}
