//! Ports implemented in JavaScript. `index.cjs` wraps each port object so
//! that every method returns a Promise (a value, a Promise, or a throw all
//! become one), is called with `this` bound to the object, and a thrown
//! error reaches Rust as JSON (`name`, `message`, `code`, `retryable`,
//! `retryAfter`). Here each method is a weak threadsafe function: it never
//! keeps the Node process alive by itself.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

use async_trait::async_trait;
use napi::Either;
use napi::Status;
use napi::bindgen_prelude::{Function, JsObjectValue, Object, Promise};
use napi::threadsafe_function::ThreadsafeFunction;
use napi_derive::napi;
use serde_json::Value;
use shipwarden::ports::{LogLine, LogStream};
use shipwarden_bindings::foreign::LogChannel;
use shipwarden_bindings::{Arg, CallError, ForeignCall, ForeignError, ForeignPort, Naming, PortKind};

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

fn logs() -> &'static Mutex<HashMap<u32, LogChannel>> {
    static LOGS: OnceLock<Mutex<HashMap<u32, LogChannel>>> = OnceLock::new();
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

/// A JavaScript object's methods, called from Rust (the per-language part of a [`ForeignPort`]).
pub struct JsCall {
    methods: HashMap<&'static str, Method>,
}

/// A JavaScript object serving as a port.
pub type JsPort = ForeignPort<JsCall>;

/// Wraps `obj` (already normalized by `index.cjs`) as a port of `kind`.
pub fn js_port(obj: &Object<'_>, kind: &'static PortKind) -> napi::Result<JsPort> {
    let name: String = obj.get_named_property::<Option<String>>("name")?.unwrap_or_else(|| kind.role.to_owned());
    let mut methods = HashMap::new();
    for m in kind.methods {
        let spelled = Naming::Camel.spell(m.name);
        if let Some(f) =
            obj.get_named_property::<Option<Function<'_, Value, Either<Promise<Value>, SyncAnswer>>>>(spelled)?
        {
            let tsfn = f.build_threadsafe_function().callee_handled::<false>().weak::<true>().build()?;
            methods.insert(spelled, tsfn);
        }
    }
    ForeignPort::new(JsCall { methods }, name, kind, Naming::Camel).map_err(crate::errors::invalid)
}

/// A JavaScript throw or rejection, as `index.cjs` encodes it.
fn raised(e: napi::Error) -> CallError {
    let text = e.reason.clone();
    let doc: Value =
        text.strip_prefix(crate::errors::MARKER).and_then(|t| serde_json::from_str(t).ok()).unwrap_or(Value::Null);
    let field = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_owned);
    CallError::Raised(ForeignError {
        names: vec![field("name").unwrap_or_else(|| "Error".into())],
        message: field("message").unwrap_or(text),
        code: field("code").filter(|c| !c.is_empty()),
        retryable: doc.get("retryable").and_then(Value::as_bool),
        retry_after: doc.get("retryAfter").and_then(Value::as_f64),
    })
}

/// Removes a log's entry when the call ends, however it ends.
struct LogEntry(u32);

impl Drop for LogEntry {
    fn drop(&mut self) {
        logs().lock().unwrap_or_else(|e| e.into_inner()).remove(&self.0);
    }
}

#[async_trait]
impl ForeignCall for JsCall {
    fn has(&self, method: &str) -> bool {
        self.methods.contains_key(method)
    }

    async fn call(
        &self,
        method: &'static str,
        args: Vec<Arg>,
        log: Option<LogChannel>,
    ) -> Result<Option<Value>, CallError> {
        let Some(f) = self.methods.get(method) else { return Ok(None) };
        let mut args: Vec<Value> = args.iter().map(Arg::to_json).collect();
        let _entry = log.map(|tx| {
            let id = NEXT_LOG.fetch_add(1, Ordering::Relaxed);
            logs().lock().unwrap_or_else(|e| e.into_inner()).insert(id, tx);
            args.push(Value::from(id));
            LogEntry(id)
        });
        match f.call_async(Value::Array(args)).await.map_err(raised)? {
            Either::A(promise) => promise.await.map(Some).map_err(raised),
            Either::B(answer) => Ok(Some(answer.v)),
        }
    }
}
