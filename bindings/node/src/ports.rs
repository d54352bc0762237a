//! Ports implemented in JavaScript. `index.cjs` wraps each port object so
//! that every method returns a Promise (a value, a Promise, or a throw all
//! become one), is called with `this` bound to the object, and a thrown
//! error reaches Rust as JSON (`name`, `message`, `code`, `retryable`,
//! `retryAfter`). Here each method is a weak threadsafe function: it never
//! keeps the Node process alive by itself.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use napi::Either;
use napi::Status;
use napi::bindgen_prelude::{Function, JsObjectValue, Object, Promise};
use napi::threadsafe_function::ThreadsafeFunction;
use napi_derive::napi;
use serde_json::{Value, json};
use shipwarden::ports::{
    ArtifactStore, Backup, BackupRef, DeployRequest, DeployTarget, ErrorKind, LogLine, LogSink, LogStream, Lookup,
    Measurement, Notice, Notifier, PortError, Probe, RollbackRequest, Ticket, Ticketing,
};
use shipwarden::{ArtifactRef, EnvName, Plan, TicketKey, Version};
use tokio::sync::mpsc;

/// A port method as `index.cjs` hands it over: it answers a Promise when the
/// JavaScript method was async, and `{ v: value }` at once when it was not
/// (a sync answer then skips the Promise machinery: one hop less).
type Method = ThreadsafeFunction<Value, Either<Promise<Value>, SyncAnswer>, Value, Status, false, true>;

/// A port method's answer when it was not a Promise (internal to `index.cjs`).
#[napi(object)]
pub struct SyncAnswer {
    /// The value the method returned.
    pub v: Value,
}

static NEXT_LOG: AtomicU32 = AtomicU32::new(1);

fn logs() -> &'static Mutex<HashMap<u32, mpsc::UnboundedSender<LogLine>>> {
    static LOGS: OnceLock<Mutex<HashMap<u32, mpsc::UnboundedSender<LogLine>>>> = OnceLock::new();
    LOGS.get_or_init(Mutex::default)
}

/// Writes a line to the log of a running port call (used by `index.cjs`'s log objects).
#[napi]
pub fn port_log(id: u32, stream: String, text: String) -> napi::Result<()> {
    let stream: LogStream = stream.parse().map_err(crate::errors::parse)?;
    if let Some(tx) = logs().lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
        let _ = tx.send(LogLine { stream, text });
    }
    Ok(())
}

/// A JavaScript object serving as a port.
pub struct JsPort {
    name: String,
    role: &'static str,
    methods: HashMap<&'static str, Method>,
}

impl JsPort {
    /// Wraps `obj` (already normalized by `index.cjs`) as a port of kind `role`.
    pub fn new(
        obj: &Object<'_>,
        role: &'static str,
        required: &[&'static str],
        optional: &[&'static str],
    ) -> napi::Result<Self> {
        let name: String = obj.get_named_property::<Option<String>>("name")?.unwrap_or_else(|| role.to_owned());
        let mut methods = HashMap::new();
        for m in required.iter().chain(optional) {
            match obj.get_named_property::<Option<Function<'_, Value, Either<Promise<Value>, SyncAnswer>>>>(m)? {
                Some(f) => {
                    let tsfn = f.build_threadsafe_function().callee_handled::<false>().weak::<true>().build()?;
                    methods.insert(*m, tsfn);
                }
                None if required.contains(m) => {
                    return Err(crate::errors::invalid(format!(
                        "{name} cannot serve as a {role}: it has no {m} method"
                    )));
                }
                None => {}
            }
        }
        Ok(JsPort { name, role, methods })
    }

    fn label(&self) -> String {
        format!("{} {}", self.role, self.name)
    }

    fn error(&self, operation: &str, e: napi::Error) -> PortError {
        let text = e.reason.clone();
        let doc: Value =
            text.strip_prefix(crate::errors::MARKER).and_then(|t| serde_json::from_str(t).ok()).unwrap_or(Value::Null);
        let field = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_owned);
        let name = field("name").unwrap_or_else(|| "Error".into());
        let message = field("message").unwrap_or(text);
        let code = field("code").unwrap_or_default();
        let kind = match (name.as_str(), code.as_str()) {
            ("TimeoutError", _) | (_, "ETIMEDOUT") => ErrorKind::Timeout,
            (_, "ECONNREFUSED" | "ECONNRESET" | "EHOSTUNREACH" | "EAI_AGAIN") => ErrorKind::Unavailable,
            ("RangeError" | "TypeError" | "SyntaxError", _) => ErrorKind::Invalid,
            _ => ErrorKind::Other,
        };
        let mut error = PortError::new(self.label(), operation, kind, format!("{name}: {message}"));
        if let Some(retryable) = doc.get("retryable").and_then(Value::as_bool) {
            error = error.with_retryable(retryable);
        }
        if let Some(after) = doc.get("retryAfter").and_then(Value::as_f64).filter(|a| a.is_finite() && *a >= 0.0) {
            error = error.with_retry_after(Duration::from_secs_f64(after));
        }
        error
    }

    /// Calls `method` with `args`; `None` when the optional method is absent.
    async fn call(&self, method: &str, args: Value) -> Result<Option<Value>, PortError> {
        let Some(f) = self.methods.get(method) else { return Ok(None) };
        match f.call_async(args).await.map_err(|e| self.error(method, e))? {
            Either::A(promise) => promise.await.map(Some).map_err(|e| self.error(method, e)),
            Either::B(answer) => Ok(Some(answer.v)),
        }
    }

    async fn call_required(&self, method: &str, args: Value) -> Result<Value, PortError> {
        self.call(method, args)
            .await?
            .ok_or_else(|| PortError::permanent(self.label(), method, "the method is missing"))
    }

    /// Calls a method that writes a log, forwarding its lines as they come.
    async fn call_logged(&self, method: &str, sink: &LogSink, first: Value) -> Result<Value, PortError> {
        let id = NEXT_LOG.fetch_add(1, Ordering::Relaxed);
        let (tx, mut rx) = mpsc::unbounded_channel();
        logs().lock().unwrap_or_else(|e| e.into_inner()).insert(id, tx);
        let call = self.call_required(method, json!([first, id]));
        tokio::pin!(call);
        let out = loop {
            tokio::select! {
                biased;
                out = &mut call => break out,
                Some(line) = rx.recv() => sink.line(line.stream, line.text),
            }
        };
        logs().lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
        while let Ok(line) = rx.try_recv() {
            sink.line(line.stream, line.text);
        }
        out
    }

    fn invalid(&self, operation: &str, what: &str, got: &Value) -> PortError {
        PortError::new(self.label(), operation, ErrorKind::Invalid, format!("expected {what}, got {got}"))
    }

    fn text(&self, operation: &str, value: Value, default: String) -> Result<String, PortError> {
        match value {
            Value::Null => Ok(default),
            Value::String(s) => Ok(s),
            other => Err(self.invalid(operation, "a string or nothing", &other)),
        }
    }
}

fn artifact_json(a: &ArtifactRef) -> Value {
    json!({"name": a.name, "version": a.version.to_string(), "sha256": a.sha256.to_string(), "size": a.size})
}

fn backup_json(b: &BackupRef) -> Value {
    json!({"id": b.id, "environment": b.environment.to_string(), "size": b.size,
           "sha256": b.sha256.as_ref().map(ToString::to_string), "at": b.at.to_string()})
}

impl JsPort {
    fn artifact(&self, op: &str, v: &Value) -> Result<ArtifactRef, PortError> {
        let bad = || self.invalid(op, "an ArtifactRef {name, version, sha256, size}", v);
        let s = |k: &str| v.get(k).and_then(Value::as_str).ok_or_else(bad);
        Ok(ArtifactRef::new(
            s("name")?,
            s("version")?.parse().map_err(|_| bad())?,
            s("sha256")?.parse().map_err(|_| bad())?,
            v.get("size").and_then(Value::as_f64).ok_or_else(bad)? as u64,
        ))
    }

    fn backup_ref(&self, op: &str, v: &Value) -> Result<BackupRef, PortError> {
        let bad = || self.invalid(op, "a BackupRef {id, environment, size?, sha256?, at?}", v);
        let s = |k: &str| v.get(k).and_then(Value::as_str);
        Ok(BackupRef {
            id: s("id").ok_or_else(bad)?.to_owned(),
            environment: s("environment").ok_or_else(bad)?.parse().map_err(|_| bad())?,
            sha256: s("sha256").map(str::parse).transpose().map_err(|_| bad())?,
            size: v.get("size").and_then(Value::as_f64).unwrap_or(0.0) as u64,
            at: match s("at") {
                Some(at) => at.parse().map_err(|_| bad())?,
                None => jiff::Timestamp::now(),
            },
        })
    }

    fn ticket(&self, op: &str, v: &Value) -> Result<Ticket, PortError> {
        let bad = || self.invalid(op, "a Ticket {key, summary, status, kind, severity?}", v);
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok(Ticket {
            key: s("key").ok_or_else(bad)?.parse().map_err(|_| bad())?,
            summary: s("summary").unwrap_or_default(),
            status: s("status").unwrap_or_else(|| "Open".into()),
            kind: s("kind").unwrap_or_else(|| "Story".into()),
            severity: s("severity"),
        })
    }
}

#[async_trait]
impl DeployTarget for JsPort {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deploy(&self, request: &DeployRequest, log: &LogSink) -> Result<String, PortError> {
        let req = json!({
            "release": request.release.to_string(), "version": request.version.to_string(),
            "environment": request.environment.to_string(),
            "artifacts": request.artifacts.iter().map(artifact_json).collect::<Vec<_>>(), "key": request.key,
        });
        let v = self.call_logged("deploy", log, req).await?;
        self.text("deploy", v, format!("{} runs {}", self.name, request.version))
    }

    async fn status(&self, key: &str) -> Result<Lookup<String>, PortError> {
        match self.call("status", json!([key])).await? {
            None => Ok(Lookup::Unsupported),
            Some(Value::Null) => Ok(Lookup::NotFound),
            Some(Value::String(s)) => Ok(Lookup::Done(s)),
            Some(other) => Err(self.invalid("status", "a string (done) or null (not found)", &other)),
        }
    }

    async fn rollback(&self, request: &RollbackRequest, log: &LogSink) -> Result<String, PortError> {
        let req = json!({
            "release": request.release.to_string(), "environment": request.environment.to_string(),
            "previous": request.previous.iter().map(artifact_json).collect::<Vec<_>>(), "key": request.key,
        });
        let v = self.call_logged("rollback", log, req).await?;
        self.text("rollback", v, format!("{} rolled back", self.name))
    }
}

#[async_trait]
impl Notifier for JsPort {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, notice: &Notice) -> Result<(), PortError> {
        let audience: Vec<&str> = notice.audience.iter().map(|a| a.as_str()).collect();
        let n = json!({"key": notice.key, "release": notice.release.to_string(), "subject": notice.subject,
                       "body": notice.body, "audience": audience});
        self.call_required("send", json!([n])).await.map(|_| ())
    }
}

#[async_trait]
impl Probe for JsPort {
    fn name(&self) -> &str {
        &self.name
    }

    async fn check(&self, environment: &EnvName) -> Result<Vec<Measurement>, PortError> {
        let v = self.call_required("check", json!([environment.to_string()])).await?;
        let bad =
            || self.invalid("check", "an array of {gate, value, target?, source?} or an object of gate -> value", &v);
        let gate = |g: &str| g.parse().map_err(|_| bad());
        match &v {
            Value::Array(items) => items
                .iter()
                .map(|m| {
                    Ok(Measurement {
                        gate: gate(m.get("gate").and_then(Value::as_str).ok_or_else(bad)?)?,
                        value: m.get("value").and_then(Value::as_f64).ok_or_else(bad)?,
                        target: m.get("target").and_then(Value::as_str).map(str::to_owned),
                        source: m.get("source").and_then(Value::as_str).unwrap_or(&self.name).to_owned(),
                    })
                })
                .collect(),
            Value::Object(map) => map
                .iter()
                .map(|(g, value)| {
                    Ok(Measurement {
                        gate: gate(g)?,
                        value: value.as_f64().ok_or_else(bad)?,
                        target: None,
                        source: self.name.clone(),
                    })
                })
                .collect(),
            _ => Err(bad()),
        }
    }
}

#[async_trait]
impl Ticketing for JsPort {
    async fn get(&self, key: &TicketKey) -> Result<Ticket, PortError> {
        let v = self.call_required("get", json!([key.to_string()])).await?;
        self.ticket("get", &v)
    }

    async fn open_bugs(&self, scope: &[TicketKey], severities: &[String]) -> Result<Vec<Ticket>, PortError> {
        let scope: Vec<String> = scope.iter().map(ToString::to_string).collect();
        let v = self.call_required("openBugs", json!([scope, severities])).await?;
        match &v {
            Value::Array(items) => items.iter().map(|t| self.ticket("openBugs", t)).collect(),
            other => Err(self.invalid("openBugs", "an array of tickets", other)),
        }
    }

    async fn comment(&self, key: &TicketKey, body: &str) -> Result<(), PortError> {
        self.call_required("comment", json!([key.to_string(), body])).await.map(|_| ())
    }

    async fn transition(&self, key: &TicketKey, status: &str) -> Result<(), PortError> {
        self.call_required("transition", json!([key.to_string(), status])).await.map(|_| ())
    }

    async fn create_release_ticket(&self, plan: &Plan) -> Result<TicketKey, PortError> {
        let p = json!({"release": plan.release.to_string(), "project": plan.project, "version": plan.version.to_string(),
                       "kind": plan.kind.as_str(), "scope": plan.scope.iter().map(ToString::to_string).collect::<Vec<_>>()});
        let v = self.call_required("createReleaseTicket", json!([p])).await?;
        v.as_str().and_then(|k| k.parse().ok()).ok_or_else(|| self.invalid("createReleaseTicket", "a ticket key", &v))
    }
}

#[async_trait]
impl ArtifactStore for JsPort {
    async fn put(&self, name: &str, version: &Version, path: &Path) -> Result<ArtifactRef, PortError> {
        let v = self.call_required("put", json!([name, version.to_string(), path.to_string_lossy()])).await?;
        self.artifact("put", &v)
    }

    async fn get(&self, artifact: &ArtifactRef) -> Result<Vec<u8>, PortError> {
        let v = self.call_required("get", json!([artifact_json(artifact)])).await?;
        match &v {
            Value::Array(items) => items
                .iter()
                .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()).ok_or_else(|| self.invalid("get", "bytes", &v)))
                .collect(),
            other => Err(self.invalid("get", "bytes (a Buffer or Uint8Array)", other)),
        }
    }

    async fn exists(&self, artifact: &ArtifactRef) -> Result<bool, PortError> {
        let v = self.call_required("exists", json!([artifact_json(artifact)])).await?;
        v.as_bool().ok_or_else(|| self.invalid("exists", "a boolean", &v))
    }

    async fn versions(&self, name: &str) -> Result<Vec<Version>, PortError> {
        let v = self.call_required("versions", json!([name])).await?;
        let bad = || self.invalid("versions", "an array of version strings", &v);
        v.as_array().ok_or_else(bad)?.iter().map(|x| x.as_str().and_then(|s| s.parse().ok()).ok_or_else(bad)).collect()
    }
}

#[async_trait]
impl Backup for JsPort {
    async fn backup(&self, environment: &EnvName, key: &str) -> Result<BackupRef, PortError> {
        let v = self.call_required("backup", json!([environment.to_string(), key])).await?;
        self.backup_ref("backup", &v)
    }

    async fn verify(&self, backup: &BackupRef) -> Result<String, PortError> {
        let v = self.call_required("verify", json!([backup_json(backup)])).await?;
        self.text("verify", v, format!("backup {} restored to scratch", backup.id))
    }

    async fn restore(&self, backup: &BackupRef) -> Result<String, PortError> {
        let v = self.call_required("restore", json!([backup_json(backup)])).await?;
        self.text("restore", v, format!("backup {} restored", backup.id))
    }

    async fn find(&self, key: &str) -> Result<Lookup<BackupRef>, PortError> {
        match self.call("find", json!([key])).await? {
            None => Ok(Lookup::Unsupported),
            Some(Value::Null) => Ok(Lookup::NotFound),
            Some(v) => Ok(Lookup::Done(self.backup_ref("find", &v)?)),
        }
    }
}
