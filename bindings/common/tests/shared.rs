//! The shared layer of the bindings: foreign ports decode answers once (with
//! errors naming port, operation and the expected shape), classify foreign
//! exceptions once, forward logs; every error maps to its stable code; the
//! default approval role is chosen by the policy (R-2c).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{Value, json};
use shipwarden::engine::{EngineError, ErrorCode, ReleaseManager};
use shipwarden::ports::memory::MemoryStore;
use shipwarden::ports::{
    ArtifactStore, Backup, DeployTarget, ErrorKind, LogLine, LogSink, LogStream, Lookup, PortError, Probe, StoreError,
    Ticketing,
};
use shipwarden::{Actor, ApprovalId, Policy, Problem, ReleaseId, Role};
use shipwarden_adapters::config::ConfigError;
use shipwarden_bindings::foreign::LogChannel;
use shipwarden_bindings::{Arg, CallError, ErrorDoc, ForeignCall, ForeignError, ForeignPort, Naming, PortKind};

/// A foreign object whose methods answer what the test says.
#[derive(Default)]
struct Fake {
    answers: HashMap<&'static str, Result<Value, CallError>>,
    calls: Mutex<Vec<(String, Vec<Value>)>>,
    log: Vec<&'static str>,
}

impl Fake {
    fn answer(mut self, method: &'static str, value: Value) -> Self {
        self.answers.insert(method, Ok(value));
        self
    }

    fn raise(mut self, method: &'static str, error: ForeignError) -> Self {
        self.answers.insert(method, Err(CallError::Raised(error)));
        self
    }
}

#[async_trait]
impl ForeignCall for Fake {
    fn has(&self, method: &str) -> bool {
        self.answers.contains_key(method)
    }

    async fn call(
        &self,
        method: &'static str,
        args: Vec<Arg>,
        log: Option<LogChannel>,
    ) -> Result<Option<Value>, CallError> {
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((method.into(), args.iter().map(Arg::to_json).collect()));
        if let Some(tx) = log {
            for text in &self.log {
                let _ = tx.send(LogLine { stream: LogStream::Stdout, text: (*text).into() });
            }
        }
        self.answers.get(method).cloned().transpose()
    }
}

fn port(fake: Fake, kind: &'static PortKind, naming: Naming) -> ForeignPort<Fake> {
    match ForeignPort::new(fake, "fake".into(), kind, naming) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn target(fake: Fake) -> ForeignPort<Fake> {
    port(fake.answer("deploy", Value::Null).answer("rollback", Value::Null), &PortKind::TARGET, Naming::Snake)
}

fn ticketing(fake: Fake, naming: Naming) -> ForeignPort<Fake> {
    let fake =
        ["get", "comment", "transition", "open_bugs", "openBugs", "create_release_ticket", "createReleaseTicket"]
            .into_iter()
            .fold(fake, |f, m| if f.answers.contains_key(m) { f } else { f.answer(m, Value::Null) });
    port(fake, &PortKind::TICKETING, naming)
}

fn expect_invalid(e: PortError, port: &str, operation: &str, expected: &str, got: &str) {
    assert_eq!((e.port.as_str(), e.operation.as_str(), e.kind), (port, operation, ErrorKind::Invalid), "{e}");
    assert!(e.to_string().contains(&format!("expected {expected}")), "{e}");
    assert!(e.to_string().contains(&format!("got {got}")), "{e}");
    assert!(!e.retryable);
}

#[test]
fn an_object_without_a_required_method_is_refused_naming_it() {
    let only_deploy = Fake::default().answer("deploy", Value::Null);
    let Err(e) = ForeignPort::new(only_deploy, "web-1".into(), &PortKind::TARGET, Naming::Snake) else {
        panic!("accepted a target without rollback")
    };
    assert_eq!(e, "web-1 cannot serve as a deploy-target: it has no rollback method");
    let js = Fake::default().answer("get", Value::Null);
    let Err(e) = ForeignPort::new(js, "jira".into(), &PortKind::TICKETING, Naming::Camel) else { panic!("accepted") };
    assert!(e.contains("openBugs, comment, transition, createReleaseTicket"), "{e}");
}

#[tokio::test]
async fn a_bad_answer_names_port_operation_and_expected_shape() {
    let t = ticketing(Fake::default().answer("get", json!(5)), Naming::Snake);
    let e = Ticketing::get(&t, &"SHOP-1".parse().expect("key")).await.expect_err("5 is no ticket");
    expect_invalid(e, "ticketing fake", "get", "a Ticket {key", "5");

    let t = ticketing(Fake::default().answer("openBugs", json!({"key": "SHOP-1"})), Naming::Camel);
    let e = t.open_bugs(&[], &[]).await.expect_err("an object is no list");
    expect_invalid(e, "ticketing fake", "openBugs", "a list of tickets", r#"{"key":"SHOP-1"}"#);

    let p = port(Fake::default().answer("check", json!("fine")), &PortKind::PROBE, Naming::Snake);
    let e = p.check(&"prod".parse().expect("env")).await.expect_err("a string is no measurement");
    expect_invalid(e, "probe fake", "check", "a list of {gate, value", r#""fine""#);

    let t = target(Fake::default().answer("status", json!(true)));
    let e = t.status("k").await.expect_err("true is no status");
    expect_invalid(e, "deploy-target fake", "status", "a string (done) or None/null", "true");

    let a = port(
        Fake::default()
            .answer("put", json!({"name": "app", "version": "1.0.0", "sha256": "nope", "size": 3}))
            .answer("get", json!([1, 300]))
            .answer("exists", json!("yes"))
            .answer("versions", json!(["1.0.0", "one"])),
        &PortKind::ARTIFACTS,
        Naming::Snake,
    );
    let e = a.put("app", &"1.0.0".parse().expect("v"), std::path::Path::new("/x")).await.expect_err("bad digest");
    expect_invalid(e, "artifact-store fake", "put", "an ArtifactRef {name, version, sha256, size}", r#"{"name""#);
    let artifact = shipwarden::ArtifactRef::new("app", "1.0.0".parse().expect("v"), shipwarden::Sha256::of(b"app"), 3);
    expect_invalid(
        ArtifactStore::get(&a, &artifact).await.expect_err("300 is no byte"),
        "artifact-store fake",
        "get",
        "bytes",
        "[1,300]",
    );
    expect_invalid(
        a.exists(&artifact).await.expect_err("no bool"),
        "artifact-store fake",
        "exists",
        "a boolean",
        "\"yes\"",
    );
    let e = a.versions("app").await.expect_err("`one` is no version");
    expect_invalid(e, "artifact-store fake", "versions", "a list of version strings", r#"["1.0.0","one"]"#);

    let t = target(Fake::default());
    let fake = Fake::default().answer("deploy", json!(42)).answer("rollback", Value::Null);
    let t2 = port(fake, &PortKind::TARGET, Naming::Snake);
    let request = shipwarden::ports::DeployRequest {
        release: "shop-1.0.0".parse().expect("id"),
        version: "1.0.0".parse().expect("v"),
        environment: "prod".parse().expect("env"),
        artifacts: Vec::new(),
        key: "k".into(),
    };
    let e = t2.deploy(&request, &LogSink::default()).await.expect_err("42 is no summary");
    expect_invalid(e, "deploy-target fake", "deploy", "a string or None/null", "42");
    assert_eq!(t.deploy(&request, &LogSink::default()).await.expect("null is the default summary"), "fake runs 1.0.0");
}

#[tokio::test]
async fn good_answers_decode_with_their_defaults() {
    let t = ticketing(
        Fake::default()
            .answer("get", json!({"key": "SHOP-1"}))
            .answer("openBugs", json!([{"key": "SHOP-2", "kind": "Bug", "severity": "high"}]))
            .answer("createReleaseTicket", json!("REL-9")),
        Naming::Camel,
    );
    let ticket = Ticketing::get(&t, &"SHOP-1".parse().expect("key")).await.expect("a ticket");
    assert_eq!((ticket.status.as_str(), ticket.kind.as_str()), ("Open", "Story"));
    let bugs = t.open_bugs(&["SHOP-2".parse().expect("key")], &["high".into()]).await.expect("bugs");
    assert_eq!(bugs[0].severity.as_deref(), Some("high"));

    let p = port(Fake::default().answer("check", json!({"coverage": 0.93})), &PortKind::PROBE, Naming::Snake);
    let m = p.check(&"prod".parse().expect("env")).await.expect("a mapping of gate -> number");
    assert_eq!((m[0].gate.to_string().as_str(), m[0].value, m[0].source.as_str()), ("coverage", 0.93, "fake"));

    // JavaScript numbers may come as floats.
    let a = port(
        Fake::default()
            .answer("put", json!({"name": "app", "version": "1.0.0", "sha256": "07".repeat(32), "size": 3.0}))
            .answer("get", json!([1, 2]))
            .answer("exists", json!(true))
            .answer("versions", json!(["1.0.0"])),
        &PortKind::ARTIFACTS,
        Naming::Snake,
    );
    let artifact = a.put("app", &"1.0.0".parse().expect("v"), std::path::Path::new("/x")).await.expect("an artifact");
    assert_eq!(artifact.size, 3);

    let b = port(
        Fake::default()
            .answer("backup", json!({"id": "b1", "environment": "prod"}))
            .answer("verify", Value::Null)
            .answer("restore", json!("restored"))
            .answer("find", Value::Null),
        &PortKind::BACKUP,
        Naming::Snake,
    );
    let backup = b.backup(&"prod".parse().expect("env"), "k").await.expect("a backup ref");
    assert_eq!((backup.id.as_str(), backup.size), ("b1", 0));
    assert_eq!(b.verify(&backup).await.expect("default summary"), "backup b1 restored to scratch");
    assert!(matches!(b.find("k").await.expect("null"), Lookup::NotFound));

    // An optional method the object lacks: the port cannot tell.
    assert!(matches!(target(Fake::default()).status("k").await.expect("unsupported"), Lookup::Unsupported));
}

#[tokio::test]
async fn deploy_receives_the_request_and_its_log_lines_reach_the_sink() {
    let mut fake = Fake::default().answer("deploy", json!("done")).answer("rollback", Value::Null);
    fake.log = vec!["pulling", "started"];
    let t = port(fake, &PortKind::TARGET, Naming::Snake);
    let request = shipwarden::ports::DeployRequest {
        release: "shop-1.0.0".parse().expect("id"),
        version: "1.0.0".parse().expect("v"),
        environment: "prod".parse().expect("env"),
        artifacts: Vec::new(),
        key: "deploy:prod:fake#1".into(),
    };
    let seen = Arc::new(Mutex::new(Vec::new()));
    let tap = seen.clone();
    let sink = LogSink::with_tap(move |line| tap.lock().unwrap_or_else(|e| e.into_inner()).push(line.text.clone()));
    assert_eq!(t.deploy(&request, &sink).await.expect("deployed"), "done");
    assert_eq!(*seen.lock().unwrap_or_else(|e| e.into_inner()), ["pulling", "started"]);
    assert_eq!(sink.written().0, 2);
}

fn raised(names: &[&str], code: Option<&str>) -> ForeignError {
    ForeignError {
        names: names.iter().map(|n| (*n).to_owned()).collect(),
        message: "boom".into(),
        code: code.map(str::to_owned),
        ..ForeignError::default()
    }
}

#[test]
fn foreign_exceptions_are_classified_once_for_both_languages() {
    let cases = [
        (raised(&["TimeoutError", "OSError"], None), ErrorKind::Timeout, true),
        (raised(&["ConnectionRefusedError", "ConnectionError", "OSError"], None), ErrorKind::Unavailable, true),
        (raised(&["Error"], Some("ETIMEDOUT")), ErrorKind::Timeout, true),
        (raised(&["Error"], Some("ECONNREFUSED")), ErrorKind::Unavailable, true),
        (raised(&["KeyError", "LookupError", "Exception"], None), ErrorKind::NotFound, false),
        (raised(&["RangeError"], None), ErrorKind::Invalid, false),
        (raised(&["ValueError", "Exception"], None), ErrorKind::Invalid, false),
        (raised(&["PermissionError", "OSError"], None), ErrorKind::Rejected, false),
        (raised(&["RuntimeError", "Exception"], None), ErrorKind::Other, false),
    ];
    for (error, kind, retryable) in cases {
        let e = error.clone().into_port_error("deploy-target web-1".into(), "deploy");
        assert_eq!((e.kind, e.retryable), (kind, retryable), "{error:?}");
        assert!(e.to_string().contains(&format!("{}: boom", error.names[0])), "{e}");
    }
    // What the exception says itself wins.
    let e = ForeignError { retryable: Some(false), retry_after: Some(2.0), ..raised(&["TimeoutError"], None) }
        .into_port_error("p".into(), "op");
    assert!(!e.retryable);
}

#[tokio::test]
async fn a_raised_exception_becomes_the_port_error_of_its_operation() {
    let t = ticketing(Fake::default().raise("openBugs", raised(&["Error"], Some("ECONNRESET"))), Naming::Camel);
    let e = t.open_bugs(&[], &[]).await.expect_err("raised");
    assert_eq!(
        (e.port.as_str(), e.operation.as_str(), e.kind, e.retryable),
        ("ticketing fake", "openBugs", ErrorKind::Unavailable, true)
    );
}

// ---- error codes ----

async fn refusal() -> EngineError {
    let manager =
        ReleaseManager::builder(Arc::new(MemoryStore::new())).ports(shipwarden_bindings::default_ports("test")).build();
    let rita = Actor::new("rita", ["release_manager".parse::<Role>().expect("role")]);
    let version: shipwarden::Version = "1.0.0".parse().expect("v");
    let id = ReleaseId::for_version("shop", &version).expect("id");
    let plan = shipwarden::Plan::new(id.clone(), "shop", version, "minor".parse().expect("kind"));
    manager.plan(&rita, plan).await.expect("planned");
    manager.advance(&id, &rita, "scope_approved".parse().expect("stage")).await.expect_err("no scope approval")
}

#[tokio::test]
async fn every_failure_maps_to_its_stable_code() {
    let id: ReleaseId = "shop-1.0.0".parse().expect("id");

    let doc = ErrorDoc::engine(refusal().await);
    assert_eq!(doc.code, ErrorCode::Refused);
    let json = doc.to_json();
    assert_eq!(
        (json["code"].as_str(), json["rule"].as_str(), json["retryable"].as_bool()),
        (Some("REFUSED"), Some("R-2b"), Some(false))
    );
    assert_eq!(json["stage"], "planned");
    assert_eq!(json["unmet"][0]["approval"], "scope");
    assert!(doc.refusal.is_some());

    for e in [EngineError::Conflict(id.clone()), EngineError::Busy("lease".into())] {
        let doc = ErrorDoc::engine(e);
        assert_eq!((doc.code, doc.retryable), (ErrorCode::Conflict, true));
    }

    let doc = ErrorDoc::engine(EngineError::NotFound(id.clone()));
    assert_eq!((doc.code, doc.to_json()["code"].as_str()), (ErrorCode::NotFound, Some("NOT_FOUND")));

    let port = PortError::temporary("deploy-target web-1", "deploy", "connection refused");
    let json = ErrorDoc::engine(EngineError::Port(port)).to_json();
    assert_eq!(
        (&json["code"], &json["port"], &json["operation"], &json["retryable"]),
        (&json!("ADAPTER"), &json!("deploy-target web-1"), &json!("deploy"), &json!(true))
    );
    let store = StoreError::Backend(PortError::permanent("sqlite", "append", "disk full"));
    let json = ErrorDoc::engine(EngineError::Store(store)).to_json();
    assert_eq!((&json["code"], &json["port"]), (&json!("ADAPTER"), &json!("event-store")));

    let corrupt =
        StoreError::Corrupt { stream: id.clone(), error: shipwarden::audit::AuditError::Edited { sequence: 3 } };
    let engine = EngineError::Store(corrupt);
    assert_eq!(engine.code(), ErrorCode::Integrity);
    let json = ErrorDoc::engine(engine).to_json();
    assert_eq!((&json["code"], &json["release"]), (&json!("INTEGRITY"), &json!("shop-1.0.0")));
    let verify = shipwarden_adapters::anchor::VerifyError::Integrity {
        release: id.clone(),
        sequence: Some(4),
        message: "the head differs".into(),
    };
    let json = ErrorDoc::verify(verify).to_json();
    assert_eq!((&json["code"], &json["sequence"]), (&json!("INTEGRITY"), &json!(4)));

    let problems = ConfigError::Problems(vec![Problem {
        path: "environments.prod.targets[0].deploy".into(),
        message: "missing".into(),
    }]);
    let json = ErrorDoc::config(problems).to_json();
    assert_eq!(
        (&json["code"], &json["problems"][0]["path"]),
        (&json!("CONFIG"), &json!("environments.prod.targets[0].deploy"))
    );

    let parse = "no spaces".parse::<ReleaseId>().expect_err("bad id");
    assert_eq!(ErrorDoc::invalid(parse).to_json()["code"], "INVALID_INPUT");
}

// ---- the default approval role (R-2c) ----

fn actor(roles: &[&str]) -> Actor {
    Actor::new("x", roles.iter().map(|r| r.parse::<Role>().expect("role")))
}

#[test]
fn default_role_is_the_first_the_policy_accepts_r2c() {
    let policy = Policy::default();
    let scope: ApprovalId = "scope".parse().expect("approval");
    let role = policy.approval_role(&actor(&["release_manager", "product_owner"]), &scope, None).expect("a role");
    assert_eq!(role.as_str(), "product_owner");
    // One role, not accepted: it is used, and the engine refuses naming the accepted roles.
    assert_eq!(policy.approval_role(&actor(&["qa_lead"]), &scope, None).expect("the only role").as_str(), "qa_lead");
    // An explicit role is taken as given.
    let explicit: Role = "cto".parse().expect("role");
    assert_eq!(policy.approval_role(&actor(&["qa_lead"]), &scope, Some(explicit.clone())), Ok(explicit));
}

#[test]
fn several_roles_none_accepted_is_an_error_naming_the_accepted_roles_r2c() {
    let policy = Policy::default();
    let scope: ApprovalId = "scope".parse().expect("approval");
    let e = policy.approval_role(&actor(&["qa_lead", "cto"]), &scope, None).expect_err("must say which");
    let text = e.to_string();
    assert!(text.contains("several roles") && text.contains("product_owner") && text.contains("cto"), "{text}");
    assert_eq!(ErrorDoc::role(&e).code, ErrorCode::InvalidInput);
    let e = policy.approval_role(&actor(&[]), &scope, None).expect_err("no role");
    assert!(e.to_string().contains("holds no role"), "{e}");
}
