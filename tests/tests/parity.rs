//! Parity of the bindings with the Rust API (issue #20): every public
//! operation of `ReleaseManager` (each `pub fn` / `pub async fn` in an
//! `impl ReleaseManager` block of `core/src/engine/*.rs`) is listed in each
//! binding's `parity.toml`, with its name there or the reason it has none;
//! and nothing listed there is gone from Rust.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The public method names inside `impl ReleaseManager { … }` blocks of
/// `source` (`impl super::ReleaseManager` too), by brace depth: a method is
/// public when its line, at the block's top level, starts with `pub fn` or
/// `pub async fn` (not `pub(crate)` or `pub(super)`).
fn public_operations(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    // The depth at which the current `impl ReleaseManager` block's items are, if inside one.
    let mut inside: Option<i32> = None;
    let mut depth = 0i32;
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or("");
        let trimmed = code.trim_start();
        if inside.is_none() && depth == 0 {
            let head = trimmed.trim_end_matches('{').trim();
            let is_impl =
                head == "impl ReleaseManager" || head.ends_with("::ReleaseManager") && head.starts_with("impl ");
            if is_impl && trimmed.ends_with('{') {
                inside = Some(1);
            }
        } else if inside == Some(depth) {
            let rest = trimmed.strip_prefix("pub async fn ").or_else(|| trimmed.strip_prefix("pub fn "));
            if let Some(rest) = rest {
                let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                names.push(name);
            }
        }
        for c in code.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
        }
        if inside.is_some() && depth == 0 {
            inside = None;
        }
    }
    names
}

/// Every public operation of the Rust `ReleaseManager`.
fn rust_operations() -> BTreeSet<String> {
    let dir = root().join("core/src/engine");
    let mut names = BTreeSet::new();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            names.extend(public_operations(&text));
        }
    }
    names
}

/// What a binding's `parity.toml` is missing and what it lists that is gone.
fn check(binding: &str) -> Result<(), String> {
    let path = root().join("bindings").join(binding).join("parity.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!("{}: {e}: every binding lists the Rust ReleaseManager's operations there (issue #20)", path.display())
    })?;
    let doc: toml::Table = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let operations = doc
        .get("operations")
        .and_then(toml::Value::as_table)
        .ok_or_else(|| format!("{}: no [operations] table", path.display()))?;
    let mut problems = Vec::new();
    for (name, entry) in operations {
        let stated = match entry {
            toml::Value::String(s) => !s.is_empty(),
            toml::Value::Table(t) => {
                t.get("reason").and_then(toml::Value::as_str).is_some_and(|r| !r.trim().is_empty())
            }
            _ => false,
        };
        if !stated {
            problems.push(format!("`{name}`: give its name in the binding, or {{ reason = \"…\" }}"));
        }
    }
    let rust = rust_operations();
    let listed: BTreeSet<String> = operations.keys().cloned().collect();
    for missing in rust.difference(&listed) {
        problems.push(format!("`{missing}` is a public ReleaseManager operation the file does not list"));
    }
    for gone in listed.difference(&rust) {
        problems.push(format!("`{gone}` is listed but ReleaseManager has no such public operation"));
    }
    if problems.is_empty() { Ok(()) } else { Err(format!("{}:\n  {}", path.display(), problems.join("\n  "))) }
}

#[test]
fn the_scanner_finds_public_methods_of_release_manager_impl_blocks_only() {
    let source = r#"
impl ReleaseManager {
    /// Doc.
    pub async fn run(&self) -> Result<(), E> {
        let x = { 1 };
        if x == 1 { inner() }
    }
    pub fn policy(&self) -> &Policy { &self.p }
    pub(crate) async fn commit(&self) {}
    fn private(&self) {}
}

impl Other {
    pub fn not_this(&self) {}
}

impl super::ReleaseManager {
    pub(super) fn check(&self) {}
    pub fn status_at(
        &self,
    ) {}
}
"#;
    assert_eq!(public_operations(source), ["run", "policy", "status_at"]);
}

#[test]
fn the_rust_api_is_found() {
    let ops = rust_operations();
    for name in ["run", "plan", "approve", "due", "run_due", "evidence_bundle", "preview", "resolve", "subscribe"] {
        assert!(ops.contains(name), "{name} not found in {ops:?}");
    }
}

#[test]
fn the_python_binding_lists_every_rust_operation() {
    if let Err(problems) = check("python") {
        panic!("{problems}");
    }
}

#[test]
fn the_node_binding_lists_every_rust_operation() {
    if let Err(problems) = check("node") {
        panic!("{problems}");
    }
}
