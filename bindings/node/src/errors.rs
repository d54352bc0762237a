//! How Rust errors reach JavaScript: a napi error whose message is a marker
//! and the JSON of the shared error document ([`ErrorDoc`]: the code and the
//! facts); `index.cjs` turns it into the matching `ShipwardenError` subclass
//! with those facts as properties.

use shipwarden::engine::EngineError;
use shipwarden_adapters::config::ConfigError;
use shipwarden_bindings::ErrorDoc;

/// The first character of an encoded error's message.
pub const MARKER: char = '\u{1}';

/// The napi error carrying `doc`.
pub fn encode(doc: &ErrorDoc) -> napi::Error {
    napi::Error::new(napi::Status::GenericFailure, format!("{MARKER}{}", doc.to_json()))
}

/// A bad argument.
pub fn invalid(message: impl std::fmt::Display) -> napi::Error {
    encode(&ErrorDoc::invalid(message))
}

/// An engine error.
pub fn engine(e: EngineError) -> napi::Error {
    encode(&ErrorDoc::engine(e))
}

/// A configuration error.
pub fn config(e: ConfigError) -> napi::Error {
    encode(&ErrorDoc::config(e))
}

/// A parse error of a name, version or key.
pub fn parse(e: shipwarden::ParseError) -> napi::Error {
    invalid(e)
}

/// An audit trail that does not verify (R-9d), or the engine error that kept it from being read.
pub fn verify(e: shipwarden_adapters::anchor::VerifyError) -> napi::Error {
    encode(&ErrorDoc::verify(e))
}

/// An evidence bundle that does not verify (R-9d): an integrity failure, as `shipwarden evidence verify` says.
pub fn bundle(e: shipwarden::bundle::BundleError, release: Option<&str>) -> napi::Error {
    encode(&ErrorDoc::integrity(format!("the evidence bundle does not verify (R-9d): {e}"), release.map(str::to_owned)))
}

/// A trail that does not agree with what is known of it from elsewhere (R-9d).
pub fn integrity(release: &shipwarden::ReleaseId, e: impl std::fmt::Display) -> napi::Error {
    encode(&ErrorDoc::integrity(
        format!("the audit trail of {release} does not verify (R-9d): {e}"),
        Some(release.to_string()),
    ))
}
