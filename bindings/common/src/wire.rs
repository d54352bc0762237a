//! The JSON shapes of what ports receive and answer, defined once for both
//! languages. Decoders return `None` on a mismatch; [`ForeignPort`](crate::ForeignPort)
//! turns that into an error naming the expected shape.

use serde::Deserialize;
use serde_json::{Value, json};
use shipwarden::ports::{BackupRef, DeployRequest, Measurement, Notice, RollbackRequest, Ticket};
use shipwarden::{ArtifactRef, Plan};

/// The expected shape of a summary answer.
pub const SUMMARY: &str = "a string or None/null";
/// The expected shape of a probe's answer.
pub const MEASUREMENTS: &str = "a list of {gate, value, target?, source?} or a mapping of gate -> number";
/// The expected shape of a ticket.
pub const TICKET: &str = "a Ticket {key, summary?, status?, kind?, severity?}";
/// The expected shape of an artifact reference.
pub const ARTIFACT: &str = "an ArtifactRef {name, version, sha256, size}";
/// The expected shape of a backup reference.
pub const BACKUP: &str = "a BackupRef {id, environment, size?, sha256?, at?}";

/// A short description of a value, for error messages.
pub fn describe(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 { format!("{}…", text.chars().take(80).collect::<String>()) } else { text }
}

/// An artifact reference as JSON.
pub fn artifact(a: &ArtifactRef) -> Value {
    json!({"name": a.name, "version": a.version.to_string(), "sha256": a.sha256.to_string(), "size": a.size})
}

/// A backup reference as JSON.
pub fn backup(b: &BackupRef) -> Value {
    json!({"id": b.id, "environment": b.environment.to_string(), "size": b.size,
           "sha256": b.sha256.as_ref().map(ToString::to_string), "at": b.at.to_string()})
}

/// A ticket as JSON.
pub fn ticket(t: &Ticket) -> Value {
    json!({"key": t.key.to_string(), "summary": t.summary, "status": t.status, "kind": t.kind, "severity": t.severity})
}

/// A measurement as JSON.
pub fn measurement(m: &Measurement) -> Value {
    json!({"gate": m.gate.to_string(), "value": m.value, "target": m.target, "source": m.source})
}

/// A deploy request as JSON.
pub fn deploy_request(r: &DeployRequest) -> Value {
    json!({
        "release": r.release.to_string(), "version": r.version.to_string(), "environment": r.environment.to_string(),
        "artifacts": r.artifacts.iter().map(artifact).collect::<Vec<_>>(), "key": r.key,
    })
}

/// A rollback request as JSON.
pub fn rollback_request(r: &RollbackRequest) -> Value {
    json!({
        "release": r.release.to_string(), "environment": r.environment.to_string(),
        "previous": r.previous.iter().map(artifact).collect::<Vec<_>>(), "key": r.key,
    })
}

/// A notice as JSON.
pub fn notice(n: &Notice) -> Value {
    let audience: Vec<&str> = n.audience.iter().map(|a| a.as_str()).collect();
    let mut out = json!({"key": n.key, "release": n.release.to_string(), "subject": n.subject, "body": n.body,
                         "audience": audience});
    if let Some(ask) = &n.ask {
        // The approval asked for (issue #23): a port that lets people answer shows it.
        out["ask"] = serde_json::to_value(ask).unwrap_or_default();
    }
    out
}

/// A plan as JSON (what a ticketing port's `create_release_ticket` receives).
pub fn plan(p: &Plan) -> Value {
    json!({"release": p.release.to_string(), "project": p.project, "version": p.version.to_string(),
           "kind": p.kind.as_str(), "scope": p.scope.iter().map(ToString::to_string).collect::<Vec<_>>()})
}

/// JavaScript numbers may arrive as floats: a whole, non-negative one is a size.
fn size(value: Option<&Value>) -> Option<u64> {
    match value {
        None | Some(Value::Null) => Some(0),
        Some(v) => v.as_u64().or_else(|| v.as_f64().filter(|f| *f >= 0.0 && f.fract() == 0.0).map(|f| f as u64)),
    }
}

#[derive(Deserialize)]
struct TicketWire {
    key: String,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    severity: Option<String>,
}

/// A ticket from JSON; `status` defaults to `Open`, `kind` to `Story`.
pub fn ticket_from(value: &Value) -> Option<Ticket> {
    let t = TicketWire::deserialize(value).ok()?;
    Some(Ticket {
        key: t.key.parse().ok()?,
        summary: t.summary.unwrap_or_default(),
        status: t.status.unwrap_or_else(|| "Open".into()),
        kind: t.kind.unwrap_or_else(|| "Story".into()),
        severity: t.severity,
    })
}

#[derive(Deserialize)]
struct ArtifactWire {
    name: String,
    version: String,
    sha256: String,
    size: Value,
}

/// An artifact reference from JSON.
pub fn artifact_from(value: &Value) -> Option<ArtifactRef> {
    let a = ArtifactWire::deserialize(value).ok()?;
    Some(ArtifactRef::new(a.name, a.version.parse().ok()?, a.sha256.parse().ok()?, size(Some(&a.size))?))
}

#[derive(Deserialize)]
struct BackupWire {
    id: String,
    environment: String,
    #[serde(default)]
    size: Option<Value>,
    #[serde(default)]
    sha256: Option<String>,
    #[serde(default)]
    at: Option<String>,
}

/// A backup reference from JSON; `at` defaults to now.
pub fn backup_from(value: &Value) -> Option<BackupRef> {
    let b = BackupWire::deserialize(value).ok()?;
    Some(BackupRef {
        id: b.id,
        environment: b.environment.parse().ok()?,
        sha256: b.sha256.map(|s| s.parse()).transpose().ok()?,
        size: size(b.size.as_ref())?,
        at: match b.at {
            Some(at) => at.parse().ok()?,
            None => jiff::Timestamp::now(),
        },
    })
}

/// Bytes from a JSON array of numbers 0–255.
pub fn bytes_from(value: &Value) -> Option<Vec<u8>> {
    value.as_array()?.iter().map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok())).collect()
}

#[derive(Deserialize)]
struct MeasurementWire {
    gate: String,
    value: f64,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    source: Option<String>,
}

/// A probe's measurements: a list of measurements or a mapping of gate to
/// number; a measurement without a source is the probe's (`probe`).
pub fn measurements(value: &Value, probe: &str) -> Option<Vec<Measurement>> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|m| {
                let m = MeasurementWire::deserialize(m).ok()?;
                Some(Measurement {
                    gate: m.gate.parse().ok()?,
                    value: m.value,
                    target: m.target,
                    source: m.source.filter(|s| !s.is_empty()).unwrap_or_else(|| probe.to_owned()),
                })
            })
            .collect(),
        Value::Object(map) => map
            .iter()
            .map(|(gate, v)| {
                Some(Measurement {
                    gate: gate.parse().ok()?,
                    value: v.as_f64()?,
                    target: None,
                    source: probe.to_owned(),
                })
            })
            .collect(),
        _ => None,
    }
}
