//! Slack's request signature (`v0`), as
//! <https://api.slack.com/authentication/verifying-requests-from-slack>
//! describes it: `X-Slack-Signature: v0=<hex>` is HMAC-SHA256, keyed with the
//! app's signing secret, of `v0:{X-Slack-Request-Timestamp}:{raw body}`; a
//! timestamp more than five minutes from now is a replay. The comparison is
//! ring's constant-time [`ring::hmac::verify`].

use ring::hmac;
use secrecy::{ExposeSecret, SecretString};

/// The header with the signature.
pub const SIGNATURE_HEADER: &str = "x-slack-signature";
/// The header with the request's time, in seconds since the Unix epoch.
pub const TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";
/// How far a request's timestamp may be from now, in seconds (Slack's five minutes).
pub const REPLAY_WINDOW_SECONDS: i64 = 5 * 60;

/// Why a request is not Slack's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// A header is absent.
    #[error("the request has no `{0}` header: only Slack's signed requests are accepted")]
    Missing(&'static str),
    /// The timestamp is not a number of seconds.
    #[error("`X-Slack-Request-Timestamp` is not a number of seconds")]
    BadTimestamp,
    /// The timestamp is more than [`REPLAY_WINDOW_SECONDS`] from now.
    #[error("the request was signed {0} s away from now (more than 5 minutes): a replayed or delayed request")]
    Stale(i64),
    /// The signature is not `v0=` and hex.
    #[error("`X-Slack-Signature` is not `v0=` followed by hex")]
    Malformed,
    /// The signature does not match the body under the signing secret.
    #[error("the signature does not match the request: not signed with this app's signing secret")]
    Mismatch,
}

/// The app's signing secret, ready to check requests with.
pub struct SigningSecret {
    key: hmac::Key,
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(..)")
    }
}

impl SigningSecret {
    /// The key of `secret`.
    pub fn new(secret: &SecretString) -> Self {
        SigningSecret { key: hmac::Key::new(hmac::HMAC_SHA256, secret.expose_secret().as_bytes()) }
    }

    /// The `v0=<hex>` signature of `body` sent at `timestamp` (what Slack sends; for tests and tools).
    pub fn sign(&self, timestamp: &str, body: &[u8]) -> String {
        let tag = hmac::sign(&self.key, &base_string(timestamp, body));
        format!("v0={}", hex::encode(tag.as_ref()))
    }

    /// Checks the request's `timestamp` and `signature` headers against `body`, at `now` (Unix seconds).
    pub fn verify(
        &self,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<(), SignatureError> {
        let timestamp = timestamp.ok_or(SignatureError::Missing("X-Slack-Request-Timestamp"))?;
        let signature = signature.ok_or(SignatureError::Missing("X-Slack-Signature"))?;
        let sent: i64 = timestamp.trim().parse().map_err(|_| SignatureError::BadTimestamp)?;
        let skew = now.saturating_sub(sent);
        if skew.saturating_abs() > REPLAY_WINDOW_SECONDS {
            return Err(SignatureError::Stale(skew));
        }
        let tag = signature
            .strip_prefix("v0=")
            .and_then(|h| hex::decode(h).ok())
            .filter(|t| t.len() == 32)
            .ok_or(SignatureError::Malformed)?;
        hmac::verify(&self.key, &base_string(timestamp, body), &tag).map_err(|_| SignatureError::Mismatch)
    }
}

fn base_string(timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut base = Vec::with_capacity(body.len() + timestamp.len() + 4);
    base.extend_from_slice(b"v0:");
    base.extend_from_slice(timestamp.as_bytes());
    base.push(b':');
    base.extend_from_slice(body);
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> SigningSecret {
        // The example of Slack's page on verifying requests.
        SigningSecret::new(&SecretString::from("8f742231b10e8888abcd99yyyzzz85a5"))
    }

    const BODY: &[u8] = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";

    #[test]
    fn slacks_documented_example_verifies_and_any_change_does_not() {
        let s = secret();
        let good = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
        assert_eq!(s.sign("1531420618", BODY), good);
        assert_eq!(s.verify(Some("1531420618"), Some(good), BODY, 1_531_420_618 + 10), Ok(()));
        let mut other = BODY.to_vec();
        other[0] = b'T';
        assert_eq!(s.verify(Some("1531420618"), Some(good), &other, 1_531_420_618), Err(SignatureError::Mismatch));
        assert_eq!(s.verify(Some("1531420619"), Some(good), BODY, 1_531_420_618), Err(SignatureError::Mismatch));
        let flipped = good.replace("a2114d", "a2114e");
        assert_eq!(s.verify(Some("1531420618"), Some(&flipped), BODY, 1_531_420_618), Err(SignatureError::Mismatch));
    }

    #[test]
    fn a_missing_malformed_or_stale_signature_is_refused() {
        let s = secret();
        let now = 1_531_420_618;
        let good = s.sign("1531420618", BODY);
        assert!(matches!(s.verify(None, Some(&good), BODY, now), Err(SignatureError::Missing(_))));
        assert!(matches!(s.verify(Some("1531420618"), None, BODY, now), Err(SignatureError::Missing(_))));
        assert_eq!(s.verify(Some("soon"), Some(&good), BODY, now), Err(SignatureError::BadTimestamp));
        assert_eq!(s.verify(Some("1531420618"), Some("v1=00"), BODY, now), Err(SignatureError::Malformed));
        assert_eq!(s.verify(Some("1531420618"), Some("v0=zz"), BODY, now), Err(SignatureError::Malformed));
        assert_eq!(s.verify(Some("1531420618"), Some(&good), BODY, now + 301), Err(SignatureError::Stale(301)));
        assert_eq!(s.verify(Some("1531420618"), Some(&good), BODY, now - 301), Err(SignatureError::Stale(-301)));
        assert_eq!(s.verify(Some("1531420618"), Some(&good), BODY, now + 300), Ok(()));
        assert_eq!(format!("{s:?}"), "SigningSecret(..)");
    }
}
