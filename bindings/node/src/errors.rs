//! How Rust errors reach JavaScript: a napi error whose message is a marker
//! and a JSON document with the code and the facts; `index.cjs` turns it into
//! the matching `ShipwardenError` subclass with those facts as properties.

use serde_json::{Value, json};
use shipwarden::engine::EngineError;
use shipwarden_adapters::config::ConfigError;

use crate::types::Unmet;

/// The first character of an encoded error's message.
pub const MARKER: char = '\u{1}';

fn causes(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = Vec::new();
    let mut next = e.source();
    while let Some(s) = next {
        out.push(s.to_string());
        next = s.source();
    }
    out
}

fn encode(doc: Value) -> napi::Error {
    napi::Error::new(napi::Status::GenericFailure, format!("{MARKER}{doc}"))
}

/// A bad argument.
pub fn invalid(message: impl std::fmt::Display) -> napi::Error {
    encode(json!({"code": "INVALID_INPUT", "message": message.to_string(), "retryable": false}))
}

fn unmet_json(u: &shipwarden::Unmet) -> Value {
    let u = Unmet::from(u);
    json!({
        "rule": u.rule, "requirement": u.requirement, "message": u.message, "approval": u.approval,
        "roles": u.roles, "gate": u.gate, "step": u.step, "detail": u.detail, "environment": u.environment,
    })
}

fn port(e: &shipwarden::ports::PortError) -> Value {
    json!({
        "code": "ADAPTER", "message": e.to_string(), "port": e.port, "operation": e.operation,
        "kind": e.kind.to_string(), "retryable": e.retryable, "causes": causes(e),
    })
}

/// An engine error.
pub fn engine(e: EngineError) -> napi::Error {
    let doc = match &e {
        EngineError::Refused(r) => json!({
            "code": "REFUSED", "message": r.to_string(), "rule": r.rule.to_string(),
            "stage": r.stage.as_ref().map(ToString::to_string), "attempted": r.attempted,
            "unmet": r.unmet.iter().map(unmet_json).collect::<Vec<_>>(), "retryable": false,
        }),
        EngineError::Conflict(_) | EngineError::Busy(_) => {
            json!({"code": "CONFLICT", "message": e.to_string(), "retryable": true})
        }
        EngineError::NotFound(_) => json!({"code": "NOT_FOUND", "message": e.to_string(), "retryable": false}),
        EngineError::Port(p) => port(p),
        EngineError::Store(s) => json!({
            "code": "ADAPTER", "message": s.to_string(), "port": "event-store", "operation": "store",
            "kind": "store", "retryable": s.is_retryable(), "causes": causes(s),
        }),
        other => json!({"code": "ADAPTER", "message": other.to_string(), "retryable": other.is_retryable()}),
    };
    encode(doc)
}

/// A configuration error.
pub fn config(e: ConfigError) -> napi::Error {
    let doc = match &e {
        ConfigError::Problems(problems) => json!({
            "code": "CONFIG", "message": e.to_string(), "retryable": false,
            "problems": problems.iter().map(|p| json!({"path": p.path, "message": p.message})).collect::<Vec<_>>(),
        }),
        ConfigError::Invalid(m) => json!({
            "code": "CONFIG", "message": m, "retryable": false, "problems": [{"path": "", "message": m}],
        }),
        ConfigError::Port(p) => port(p),
        other => json!({"code": "CONFIG", "message": other.to_string(), "retryable": false, "problems": []}),
    };
    encode(doc)
}

/// A parse error of a name, version or key.
pub fn parse(e: shipwarden::ParseError) -> napi::Error {
    invalid(e)
}

/// An audit trail that does not verify (R-9d), or the engine error that kept it from being read.
pub fn verify(e: shipwarden_adapters::anchor::VerifyError) -> napi::Error {
    use shipwarden_adapters::anchor::VerifyError;
    match e {
        VerifyError::Engine(e) => engine(e),
        VerifyError::Integrity { ref release, sequence, .. } => encode(json!({
            "code": "INTEGRITY", "message": e.to_string(), "release": release.to_string(), "sequence": sequence,
            "retryable": false,
        })),
        other => encode(json!({"code": "INTEGRITY", "message": other.to_string(), "retryable": false})),
    }
}

/// An evidence bundle that does not verify (R-9d): an integrity failure, as `shipwarden evidence verify` says.
pub fn bundle(e: shipwarden::bundle::BundleError, release: Option<&str>) -> napi::Error {
    encode(json!({
        "code": "INTEGRITY", "message": format!("the evidence bundle does not verify (R-9d): {e}"),
        "release": release, "sequence": null, "retryable": false,
    }))
}

/// A trail that does not agree with what is known of it from elsewhere (R-9d).
pub fn integrity(release: &shipwarden::ReleaseId, e: impl std::fmt::Display) -> napi::Error {
    encode(json!({
        "code": "INTEGRITY", "message": format!("the audit trail of {release} does not verify (R-9d): {e}"),
        "release": release.to_string(), "sequence": null, "retryable": false,
    }))
}
