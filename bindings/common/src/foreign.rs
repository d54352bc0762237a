//! Ports written in another language: one [`ForeignPort`] implements every
//! port trait the bindings offer, over JSON values; the language's part is
//! the small [`ForeignCall`] trait.
//!
//! The method lists of each port kind ([`PortKind`]), the arguments each
//! method receives ([`Arg`]), the decoding of answers (with an error naming
//! the port, the operation and the expected shape), log forwarding, and the
//! classification of a foreign exception into an [`ErrorKind`] are defined
//! here once.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use shipwarden::ports::{
    ArtifactStore, Backup, BackupRef, DeployRequest, DeployTarget, ErrorKind, LogLine, LogSink, Lookup, Measurement,
    Notice, Notifier, PortError, Probe, RollbackRequest, Ticket, Ticketing,
};
use shipwarden::{ArtifactRef, EnvName, Plan, TicketKey, Version};
use tokio::sync::mpsc;

use crate::wire;

/// One method of a port kind.
#[derive(Debug, Clone, Copy)]
pub struct Method {
    /// Its name in snake_case (`open_bugs`); [`Naming`] gives the language's spelling.
    pub name: &'static str,
    /// Whether an object must have it to serve as the port.
    pub required: bool,
}

const fn required(name: &'static str) -> Method {
    Method { name, required: true }
}

const fn optional(name: &'static str) -> Method {
    Method { name, required: false }
}

/// A kind of port a script may implement, and its methods.
#[derive(Debug)]
pub struct PortKind {
    /// How errors name it: `deploy-target`, `notifier`, …
    pub role: &'static str,
    /// Its methods.
    pub methods: &'static [Method],
}

impl PortKind {
    /// A deploy target: `deploy`, `rollback`, optionally `status`.
    pub const TARGET: PortKind =
        PortKind { role: "deploy-target", methods: &[required("deploy"), required("rollback"), optional("status")] };
    /// A notifier: `send`.
    pub const NOTIFIER: PortKind = PortKind { role: "notifier", methods: &[required("send")] };
    /// A probe (pre-deployment checks, smoke tests): `check`.
    pub const PROBE: PortKind = PortKind { role: "probe", methods: &[required("check")] };
    /// A ticketing system.
    pub const TICKETING: PortKind = PortKind {
        role: "ticketing",
        methods: &[
            required("get"),
            required("open_bugs"),
            required("comment"),
            required("transition"),
            required("create_release_ticket"),
        ],
    };
    /// An artifact store.
    pub const ARTIFACTS: PortKind = PortKind {
        role: "artifact-store",
        methods: &[required("put"), required("get"), required("exists"), required("versions")],
    };
    /// Backups: `backup`, `verify`, `restore`, optionally `find`.
    pub const BACKUP: PortKind = PortKind {
        role: "backup",
        methods: &[required("backup"), required("verify"), required("restore"), optional("find")],
    };
}

/// How a language spells method names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// `open_bugs` (Python).
    Snake,
    /// `openBugs` (JavaScript).
    Camel,
}

impl Naming {
    /// `name` (snake_case) as this language spells it.
    pub fn spell(self, name: &'static str) -> &'static str {
        match (self, name) {
            (Naming::Camel, "open_bugs") => "openBugs",
            (Naming::Camel, "create_release_ticket") => "createReleaseTicket",
            _ => name,
        }
    }
}

/// An argument of a port method: the engine's own value, so a binding can
/// hand its typed object (Python's `DeployRequest`) or its JSON ([`Arg::to_json`]).
#[derive(Debug, Clone)]
pub enum Arg {
    /// A string: a key, an environment, a name, a version.
    Text(String),
    /// A list of strings.
    Texts(Vec<String>),
    /// A file path.
    Path(PathBuf),
    /// What to deploy.
    Deploy(DeployRequest),
    /// What to roll back.
    Rollback(RollbackRequest),
    /// A notice.
    Notice(Notice),
    /// A release plan.
    Plan(Plan),
    /// An artifact.
    Artifact(ArtifactRef),
    /// A backup.
    Backup(BackupRef),
}

impl Arg {
    /// The argument as JSON, as JavaScript ports receive it.
    pub fn to_json(&self) -> Value {
        match self {
            Arg::Text(s) => Value::String(s.clone()),
            Arg::Texts(list) => Value::from(list.clone()),
            Arg::Path(p) => Value::String(p.to_string_lossy().into_owned()),
            Arg::Deploy(r) => wire::deploy_request(r),
            Arg::Rollback(r) => wire::rollback_request(r),
            Arg::Notice(n) => wire::notice(n),
            Arg::Plan(p) => wire::plan(p),
            Arg::Artifact(a) => wire::artifact(a),
            Arg::Backup(b) => wire::backup(b),
        }
    }
}

/// An exception a foreign method raised, as the language describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ForeignError {
    /// The exception's class name and its ancestors', most specific first
    /// (`["ConnectionRefusedError", "ConnectionError", "OSError", …]`);
    /// JavaScript gives only the name.
    pub names: Vec<String>,
    /// Its message.
    pub message: String,
    /// A system error code (`ETIMEDOUT`), if any.
    pub code: Option<String>,
    /// An explicit `retryable` the exception carries.
    pub retryable: Option<bool>,
    /// An explicit `retry_after` / `retryAfter`, in seconds.
    pub retry_after: Option<f64>,
}

impl ForeignError {
    /// The kind of failure its class or code says (language-independent:
    /// timeouts and connection errors are retryable kinds).
    pub fn kind(&self) -> ErrorKind {
        if let Some(code) = &self.code {
            match code.as_str() {
                "ETIMEDOUT" | "ESOCKETTIMEDOUT" => return ErrorKind::Timeout,
                "ECONNREFUSED" | "ECONNRESET" | "EHOSTUNREACH" | "ENETUNREACH" | "EAI_AGAIN" | "EPIPE" => {
                    return ErrorKind::Unavailable;
                }
                "ENOENT" => return ErrorKind::NotFound,
                "EACCES" | "EPERM" => return ErrorKind::Rejected,
                _ => {}
            }
        }
        for name in &self.names {
            match name.as_str() {
                "TimeoutError" => return ErrorKind::Timeout,
                "ConnectionError" => return ErrorKind::Unavailable,
                "LookupError" => return ErrorKind::NotFound,
                "ValueError" | "RangeError" | "TypeError" | "SyntaxError" => return ErrorKind::Invalid,
                "PermissionError" => return ErrorKind::Rejected,
                _ => {}
            }
        }
        ErrorKind::Other
    }

    /// The port error it becomes.
    pub fn into_port_error(self, port: String, operation: &str) -> PortError {
        let name = self.names.first().map(String::as_str).unwrap_or("Error");
        let message = if self.message.is_empty() { name.to_owned() } else { format!("{name}: {}", self.message) };
        let mut error = PortError::new(port, operation, self.kind(), message);
        if let Some(retryable) = self.retryable {
            error = error.with_retryable(retryable);
        }
        if let Some(after) = self.retry_after.filter(|a| a.is_finite() && *a >= 0.0) {
            error = error.with_retry_after(Duration::from_secs_f64(after));
        }
        error
    }
}

/// Why a foreign call gave no usable answer.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// The method raised or rejected.
    Raised(ForeignError),
    /// It returned something that has no JSON form (described for the error message).
    Unreadable(String),
    /// The foreign runtime is shutting down or gone.
    Gone(String),
}

/// Where a port method writes its log lines while it runs.
pub type LogChannel = mpsc::UnboundedSender<LogLine>;

/// The language's part of a foreign port: call a method of the object.
#[async_trait]
pub trait ForeignCall: Send + Sync + 'static {
    /// Whether the object has `method` (spelled as the language spells it).
    fn has(&self, method: &str) -> bool;

    /// Calls `method` with `args`, and with `log` as a last argument for
    /// methods that write a log. `Ok(None)`: the object has no such method.
    async fn call(
        &self,
        method: &'static str,
        args: Vec<Arg>,
        log: Option<LogChannel>,
    ) -> Result<Option<Value>, CallError>;
}

/// An object of another language serving as a port of any kind.
pub struct ForeignPort<C> {
    name: String,
    kind: &'static PortKind,
    naming: Naming,
    caller: C,
}

impl<C: ForeignCall> ForeignPort<C> {
    /// Wraps `caller` as a port of `kind` named `name`; refused, naming them,
    /// when the object lacks a required method.
    pub fn new(caller: C, name: String, kind: &'static PortKind, naming: Naming) -> Result<Self, String> {
        let missing: Vec<&str> = kind
            .methods
            .iter()
            .filter(|m| m.required)
            .map(|m| naming.spell(m.name))
            .filter(|m| !caller.has(m))
            .collect();
        if !missing.is_empty() {
            return Err(format!("{name} cannot serve as a {}: it has no {} method", kind.role, missing.join(", ")));
        }
        Ok(ForeignPort { name, kind, naming, caller })
    }

    /// The port's name.
    pub fn port_name(&self) -> &str {
        &self.name
    }

    fn label(&self) -> String {
        format!("{} {}", self.kind.role, self.name)
    }

    fn fail(&self, operation: &str, e: CallError, expected: &str) -> PortError {
        match e {
            CallError::Raised(f) => f.into_port_error(self.label(), operation),
            CallError::Unreadable(got) => self.invalid(operation, expected, &got),
            CallError::Gone(why) => PortError::new(self.label(), operation, ErrorKind::Unavailable, why),
        }
    }

    fn invalid(&self, operation: &str, expected: &str, got: &str) -> PortError {
        PortError::new(self.label(), operation, ErrorKind::Invalid, format!("expected {expected}, got {got}"))
    }

    /// Calls an optional method: `None` when the object does not have it.
    async fn call(
        &self,
        method: &'static str,
        args: Vec<Arg>,
        log: Option<LogChannel>,
        expected: &str,
    ) -> Result<Option<Value>, PortError> {
        let spelled = self.naming.spell(method);
        self.caller.call(spelled, args, log).await.map_err(|e| self.fail(spelled, e, expected))
    }

    async fn call_required(&self, method: &'static str, args: Vec<Arg>, expected: &str) -> Result<Value, PortError> {
        self.call(method, args, None, expected).await?.ok_or_else(|| self.missing(method))
    }

    fn missing(&self, method: &'static str) -> PortError {
        PortError::permanent(self.label(), self.naming.spell(method), "the method is missing")
    }

    /// Calls a method that writes a log, forwarding its lines to `sink` as they come.
    async fn call_logged(
        &self,
        method: &'static str,
        args: Vec<Arg>,
        sink: &LogSink,
        expected: &str,
    ) -> Result<Value, PortError> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let call = self.call(method, args, Some(tx), expected);
        tokio::pin!(call);
        let out = loop {
            tokio::select! {
                biased;
                out = &mut call => break out,
                Some(line) = rx.recv() => sink.line(line.stream, line.text),
            }
        };
        while let Ok(line) = rx.try_recv() {
            sink.line(line.stream, line.text);
        }
        out?.ok_or_else(|| self.missing(method))
    }

    /// Decodes an answer with `decode`; a mismatch names what was expected and what came.
    fn decode<T>(
        &self,
        method: &'static str,
        value: &Value,
        expected: &str,
        decode: impl FnOnce(&Value) -> Option<T>,
    ) -> Result<T, PortError> {
        decode(value).ok_or_else(|| self.invalid(self.naming.spell(method), expected, &wire::describe(value)))
    }

    fn summary(&self, method: &'static str, value: &Value, default: String) -> Result<String, PortError> {
        self.decode(method, value, wire::SUMMARY, |v| match v {
            Value::Null => Some(default),
            Value::String(s) => Some(s.clone()),
            _ => None,
        })
    }
}

#[async_trait]
impl<C: ForeignCall> DeployTarget for ForeignPort<C> {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deploy(&self, request: &DeployRequest, log: &LogSink) -> Result<String, PortError> {
        let v = self.call_logged("deploy", vec![Arg::Deploy(request.clone())], log, wire::SUMMARY).await?;
        self.summary("deploy", &v, format!("{} runs {}", self.name, request.version))
    }

    async fn status(&self, key: &str) -> Result<Lookup<String>, PortError> {
        const EXPECTED: &str = "a string (done) or None/null (not found)";
        match self.call("status", vec![Arg::Text(key.to_owned())], None, EXPECTED).await? {
            None => Ok(Lookup::Unsupported),
            Some(v) => self.decode("status", &v, EXPECTED, |v| match v {
                Value::Null => Some(Lookup::NotFound),
                Value::String(s) => Some(Lookup::Done(s.clone())),
                _ => None,
            }),
        }
    }

    async fn rollback(&self, request: &RollbackRequest, log: &LogSink) -> Result<String, PortError> {
        let v = self.call_logged("rollback", vec![Arg::Rollback(request.clone())], log, wire::SUMMARY).await?;
        self.summary("rollback", &v, format!("{} rolled back", self.name))
    }
}

#[async_trait]
impl<C: ForeignCall> Notifier for ForeignPort<C> {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, notice: &Notice) -> Result<(), PortError> {
        self.call_required("send", vec![Arg::Notice(notice.clone())], "nothing").await.map(|_| ())
    }
}

#[async_trait]
impl<C: ForeignCall> Probe for ForeignPort<C> {
    fn name(&self) -> &str {
        &self.name
    }

    async fn check(&self, environment: &EnvName) -> Result<Vec<Measurement>, PortError> {
        let v = self.call_required("check", vec![Arg::Text(environment.to_string())], wire::MEASUREMENTS).await?;
        self.decode("check", &v, wire::MEASUREMENTS, |v| wire::measurements(v, &self.name))
    }
}

#[async_trait]
impl<C: ForeignCall> Ticketing for ForeignPort<C> {
    async fn get(&self, key: &TicketKey) -> Result<Ticket, PortError> {
        let v = self.call_required("get", vec![Arg::Text(key.to_string())], wire::TICKET).await?;
        self.decode("get", &v, wire::TICKET, wire::ticket_from)
    }

    async fn open_bugs(&self, scope: &[TicketKey], severities: &[String]) -> Result<Vec<Ticket>, PortError> {
        const EXPECTED: &str = "a list of tickets";
        let scope = scope.iter().map(ToString::to_string).collect();
        let v =
            self.call_required("open_bugs", vec![Arg::Texts(scope), Arg::Texts(severities.to_vec())], EXPECTED).await?;
        self.decode("open_bugs", &v, EXPECTED, |v| v.as_array()?.iter().map(wire::ticket_from).collect())
    }

    async fn comment(&self, key: &TicketKey, body: &str) -> Result<(), PortError> {
        self.call_required("comment", vec![Arg::Text(key.to_string()), Arg::Text(body.to_owned())], "nothing")
            .await
            .map(|_| ())
    }

    async fn transition(&self, key: &TicketKey, status: &str) -> Result<(), PortError> {
        self.call_required("transition", vec![Arg::Text(key.to_string()), Arg::Text(status.to_owned())], "nothing")
            .await
            .map(|_| ())
    }

    async fn create_release_ticket(&self, plan: &Plan) -> Result<TicketKey, PortError> {
        const EXPECTED: &str = "a ticket key (a string like `SHOP-12`)";
        let v = self.call_required("create_release_ticket", vec![Arg::Plan(plan.clone())], EXPECTED).await?;
        self.decode("create_release_ticket", &v, EXPECTED, |v| v.as_str()?.parse().ok())
    }
}

#[async_trait]
impl<C: ForeignCall> ArtifactStore for ForeignPort<C> {
    async fn put(&self, name: &str, version: &Version, path: &Path) -> Result<ArtifactRef, PortError> {
        let args = vec![Arg::Text(name.to_owned()), Arg::Text(version.to_string()), Arg::Path(path.to_path_buf())];
        let v = self.call_required("put", args, wire::ARTIFACT).await?;
        self.decode("put", &v, wire::ARTIFACT, wire::artifact_from)
    }

    async fn get(&self, artifact: &ArtifactRef) -> Result<Vec<u8>, PortError> {
        const EXPECTED: &str = "bytes";
        let v = self.call_required("get", vec![Arg::Artifact(artifact.clone())], EXPECTED).await?;
        self.decode("get", &v, EXPECTED, wire::bytes_from)
    }

    async fn exists(&self, artifact: &ArtifactRef) -> Result<bool, PortError> {
        const EXPECTED: &str = "a boolean";
        let v = self.call_required("exists", vec![Arg::Artifact(artifact.clone())], EXPECTED).await?;
        self.decode("exists", &v, EXPECTED, Value::as_bool)
    }

    async fn versions(&self, name: &str) -> Result<Vec<Version>, PortError> {
        const EXPECTED: &str = "a list of version strings";
        let v = self.call_required("versions", vec![Arg::Text(name.to_owned())], EXPECTED).await?;
        self.decode("versions", &v, EXPECTED, |v| v.as_array()?.iter().map(|x| x.as_str()?.parse().ok()).collect())
    }
}

#[async_trait]
impl<C: ForeignCall> Backup for ForeignPort<C> {
    async fn backup(&self, environment: &EnvName, key: &str) -> Result<BackupRef, PortError> {
        let args = vec![Arg::Text(environment.to_string()), Arg::Text(key.to_owned())];
        let v = self.call_required("backup", args, wire::BACKUP).await?;
        self.decode("backup", &v, wire::BACKUP, wire::backup_from)
    }

    async fn verify(&self, backup: &BackupRef) -> Result<String, PortError> {
        let v = self.call_required("verify", vec![Arg::Backup(backup.clone())], wire::SUMMARY).await?;
        self.summary("verify", &v, format!("backup {} restored to scratch", backup.id))
    }

    async fn restore(&self, backup: &BackupRef) -> Result<String, PortError> {
        let v = self.call_required("restore", vec![Arg::Backup(backup.clone())], wire::SUMMARY).await?;
        self.summary("restore", &v, format!("backup {} restored", backup.id))
    }

    async fn find(&self, key: &str) -> Result<Lookup<BackupRef>, PortError> {
        const EXPECTED: &str = "a backup ref or None/null (not found)";
        match self.call("find", vec![Arg::Text(key.to_owned())], None, EXPECTED).await? {
            None => Ok(Lookup::Unsupported),
            Some(Value::Null) => Ok(Lookup::NotFound),
            Some(v) => Ok(Lookup::Done(self.decode("find", &v, wire::BACKUP, wire::backup_from)?)),
        }
    }
}
