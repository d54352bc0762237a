//! The published shapes of the configuration (issue #20): its JSON Schema,
//! the Python `TypedDict`s and the TypeScript interfaces, all generated from
//! the Rust types (`config::schema()`, derived with schemars). The committed
//! files must equal what the types generate: a field added in Rust and not
//! published fails here. `SHIPWARDEN_UPDATE_TYPES=1 cargo test -p
//! shipwarden-adapters --features schema --test config_types` rewrites them.
#![cfg(feature = "schema")]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::{Map, Value};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[derive(Clone, Copy, PartialEq)]
enum Lang {
    Python,
    TypeScript,
}

/// One object type to emit: its name, description, properties, required keys, and extra keys allowed.
struct Object {
    name: String,
    doc: String,
    props: Vec<(String, Value)>,
    required: Vec<String>,
    open: bool,
}

fn pascal(text: &str) -> String {
    text.split(['-', '_'])
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
        })
        .collect()
}

fn object(name: String, schema: &Value) -> Object {
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let required = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let doc = schema.get("description").and_then(Value::as_str).unwrap_or_default().to_owned();
    let open = schema.get("additionalProperties") == Some(&Value::Bool(true));
    Object { name, doc, props, required, open }
}

/// The type expression of `schema` in `lang`.
fn ty(schema: &Value, lang: Lang) -> String {
    let py = lang == Lang::Python;
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    if let Some(c) = schema.get("const") {
        return if py { format!("Literal[{c}]") } else { c.to_string() };
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let items: Vec<String> = values.iter().map(Value::to_string).collect();
        return if py { format!("Literal[{}]", items.join(", ")) } else { items.join(" | ") };
    }
    if let Some(any) = schema.get("anyOf").or_else(|| schema.get("oneOf")).and_then(Value::as_array) {
        let items: Vec<String> = any.iter().map(|s| ty(s, lang)).collect();
        return items.join(" | ");
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let mut out: Vec<String> = types
        .iter()
        .map(|t| match *t {
            "string" => if py { "str" } else { "string" }.to_owned(),
            "integer" => if py { "int" } else { "number" }.to_owned(),
            "number" => if py { "float" } else { "number" }.to_owned(),
            "boolean" => if py { "bool" } else { "boolean" }.to_owned(),
            "null" => if py { "None" } else { "null" }.to_owned(),
            "array" => {
                let item = schema.get("items").map(|i| ty(i, lang)).unwrap_or_else(|| "Any".into());
                if py {
                    format!("list[{item}]")
                } else if item.contains('|') {
                    format!("({item})[]")
                } else {
                    format!("{item}[]")
                }
            }
            "object" => match schema.get("additionalProperties") {
                Some(extra @ Value::Object(_)) => {
                    let value = ty(extra, lang);
                    if py { format!("dict[str, {value}]") } else { format!("{{ [key: string]: {value} }}") }
                }
                _ => {
                    assert!(schema.get("properties").is_none(), "an inline object needs a name: {schema}");
                    if py { "dict[str, Any]" } else { "{ [key: string]: unknown }" }.to_owned()
                }
            },
            other => panic!("a JSON Schema type this generator does not know: {other}"),
        })
        .collect();
    if out.is_empty() {
        out.push(if py { "Any" } else { "unknown" }.to_owned());
    }
    out.join(" | ")
}

/// Each union of variants by name: its description and its variants' names.
type Unions = BTreeMap<String, (String, Vec<String>)>;

/// Every object type of the schema in order (root first, then `$defs` by
/// name, each union's variants right before it), and the unions.
fn collect(schema: &Value) -> (Vec<Object>, Unions) {
    let mut objects = vec![object("Config".into(), schema)];
    let mut unions = BTreeMap::new();
    let defs: &Map<String, Value> = schema.get("$defs").and_then(Value::as_object).expect("$defs");
    for (name, def) in defs {
        if let Some(variants) = def.get("oneOf").and_then(Value::as_array) {
            let mut names = Vec::new();
            for v in variants {
                let kind = v.pointer("/properties/kind/const").and_then(Value::as_str).expect("a variant's kind");
                let variant = format!("{}{}", name.trim_end_matches("Config"), pascal(kind));
                let mut o = object(variant.clone(), v);
                o.doc = format!("`kind = \"{kind}\"`: {}", o.doc);
                objects.push(o);
                names.push(variant);
            }
            let doc = def.get("description").and_then(Value::as_str).unwrap_or_default().to_owned();
            unions.insert(name.clone(), (doc, names));
        } else {
            objects.push(object(name.clone(), def));
        }
    }
    (objects, unions)
}

fn is_identifier(key: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
        "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
        "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
    ];
    key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !KEYWORDS.contains(&key)
}

fn py_doc(doc: &str, indent: &str) -> String {
    let doc = doc.replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\"");
    let lines: Vec<String> = doc
        .lines()
        .enumerate()
        .map(|(i, l)| if i == 0 || l.is_empty() { l.to_owned() } else { format!("{indent}{l}") })
        .collect();
    format!("{indent}\"\"\"{}\"\"\"\n", lines.join("\n"))
}

fn python(schema: &Value) -> String {
    let (objects, unions) = collect(schema);
    let mut out = String::from(
        "\"\"\"The shape of `shipwarden.toml`, for a configuration built in code.\n\n\
         `ReleaseManager.open(config)` accepts a dict of this shape in place of the\n\
         file (relative paths are relative to `base_dir`; a `None` value means the\n\
         key is not given). `default_config()` returns the commented file\n\
         `shipwarden init` writes.\n\n\
         Generated from the Rust types by `adapters/tests/config_types.rs`: do not edit.\n\"\"\"\n\n\
         from __future__ import annotations\n\n\
         from typing import Any, Literal, TypedDict, Union\n\n\
         __all__ = [",
    );
    let mut names: Vec<&str> =
        objects.iter().map(|o| o.name.as_str()).chain(unions.keys().map(String::as_str)).collect();
    names.sort_unstable();
    let _ = writeln!(out, "{}]", names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", "));
    for o in &objects {
        out.push_str("\n\n");
        if o.open {
            // Extra keys are allowed (they pass to the policy): a TypedDict cannot say so.
            let _ = writeln!(out, "{} = dict[str, Any]", o.name);
            let _ = writeln!(
                out,
                "\"\"\"{}\n\nKnown keys: {}.\"\"\"",
                o.doc,
                o.props.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(", ")
            );
            continue;
        }
        let field = |(k, v): &(String, Value)| {
            (
                k.clone(),
                ty(v, Lang::Python),
                v.get("description").and_then(Value::as_str).unwrap_or_default().to_owned(),
            )
        };
        let required: Vec<_> = o.props.iter().filter(|(k, _)| o.required.contains(k)).map(field).collect();
        let optional: Vec<_> = o.props.iter().filter(|(k, _)| !o.required.contains(k)).map(field).collect();
        // A key that is no Python identifier (`from`) needs TypedDict's functional form, which cannot inherit.
        let functional_part = |fields: &[(String, String, String)]| fields.iter().any(|(k, _, _)| !is_identifier(k));
        let functional_optional = functional_part(&optional);
        let emit =
            |out: &mut String, name: &str, base: &str, total: bool, doc: &str, fields: &[(String, String, String)]| {
                if functional_part(fields) {
                    let items: Vec<String> = fields.iter().map(|(k, t, _)| format!("\"{k}\": \"{t}\"")).collect();
                    let base_note = if base.is_empty() { String::new() } else { format!(" (with the keys of {base})") };
                    let _ = writeln!(
                        out,
                        "{name} = TypedDict(\"{name}\", {{{}}}, total={})",
                        items.join(", "),
                        if total { "True" } else { "False" }
                    );
                    let keys: Vec<String> = fields.iter().map(|(k, _, d)| format!("- `{k}`: {d}")).collect();
                    let _ =
                        writeln!(out, "\"\"\"{doc}{base_note}\n\n{}\"\"\"", keys.join("\n").replace("\"\"\"", "'''"));
                    return;
                }
                let parent = if base.is_empty() { "TypedDict".to_owned() } else { base.to_owned() };
                let total = if total { String::new() } else { ", total=False".into() };
                let _ = writeln!(out, "class {name}({parent}{total}):");
                out.push_str(&py_doc(if doc.is_empty() { name } else { doc }, "    "));
                for (k, t, d) in fields {
                    let _ = writeln!(out, "\n    {k}: {t}");
                    if !d.is_empty() {
                        out.push_str(&py_doc(d, "    "));
                    }
                }
            };
        match (required.is_empty(), optional.is_empty()) {
            (false, false) => {
                let base = format!("_{}Required", o.name);
                if functional_optional {
                    let all: Vec<_> = required.iter().chain(&optional).cloned().collect();
                    emit(
                        &mut out,
                        &o.name,
                        "",
                        false,
                        &format!("{} (required: {})", o.doc, o.required.join(", ")),
                        &all,
                    );
                } else {
                    emit(&mut out, &base, "", true, &format!("The keys {} requires.", o.name), &required);
                    out.push_str("\n\n");
                    emit(&mut out, &o.name, &base, false, &o.doc, &optional);
                }
            }
            (false, true) => emit(&mut out, &o.name, "", true, &o.doc, &required),
            (true, _) => emit(&mut out, &o.name, "", false, &o.doc, &optional),
        }
        if let Some((union, (doc, variants))) = unions.iter().find(|(_, (_, v))| v.last() == Some(&o.name)) {
            let quoted: Vec<String> = variants.iter().map(|v| format!("\"{v}\"")).collect();
            let _ = write!(out, "\n\n{union} = Union[{}]\n", quoted.join(", "));
            let _ = writeln!(out, "\"\"\"{doc}\"\"\"");
        }
    }
    out
}

fn ts_doc(doc: &str, indent: &str) -> String {
    if doc.is_empty() {
        return String::new();
    }
    let doc = doc.replace("*/", "*\\/");
    let lines: Vec<String> =
        doc.lines().map(|l| if l.is_empty() { format!("{indent} *") } else { format!("{indent} * {l}") }).collect();
    format!("{indent}/**\n{}\n{indent} */\n", lines.join("\n"))
}

fn typescript(schema: &Value) -> String {
    let (objects, unions) = collect(schema);
    let mut out = String::from(
        "// The shape of `shipwarden.toml`, for a configuration built in code:\n\
         // `ReleaseManager.open(config)` accepts an object of this shape in place of\n\
         // the file (relative paths are relative to `baseDir`; `null` or `undefined`\n\
         // means the key is not given). `defaultConfig()` returns the commented file\n\
         // `shipwarden init` writes.\n\
         //\n\
         // Generated from the Rust types by adapters/tests/config_types.rs: do not edit.\n",
    );
    for o in &objects {
        out.push('\n');
        out.push_str(&ts_doc(&o.doc, ""));
        let _ = writeln!(out, "export interface {} {{", o.name);
        for (k, v) in &o.props {
            out.push_str(&ts_doc(v.get("description").and_then(Value::as_str).unwrap_or_default(), "  "));
            let opt = if o.required.contains(k) { "" } else { "?" };
            let key = if is_identifier(k) || k == "from" { k.clone() } else { format!("'{k}'") };
            let _ = writeln!(out, "  {key}{opt}: {}", ty(v, Lang::TypeScript));
        }
        if o.open {
            out.push_str("  /** Further keys pass to the policy. */\n  [key: string]: unknown\n");
        }
        out.push_str("}\n");
        if let Some((union, (doc, variants))) = unions.iter().find(|(_, (_, v))| v.last() == Some(&o.name)) {
            out.push('\n');
            out.push_str(&ts_doc(doc, ""));
            let _ = writeln!(out, "export type {union} = {}", variants.join(" | "));
        }
    }
    out
}

#[test]
fn the_published_config_shapes_are_generated_from_the_rust_types() {
    let schema = shipwarden_adapters::config::schema();
    let files = [
        ("adapters/shipwarden.schema.json", format!("{}\n", serde_json::to_string_pretty(&schema).expect("json"))),
        ("bindings/python/python/shipwarden/config.py", python(&schema)),
        ("bindings/node/config.d.ts", typescript(&schema)),
    ];
    let update = std::env::var_os("SHIPWARDEN_UPDATE_TYPES").is_some();
    let mut stale = Vec::new();
    for (path, text) in files {
        let path = root().join(path);
        if update {
            std::fs::write(&path, &text).expect("write");
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "the configuration's types changed and these files are stale: {stale:?}\n  regenerate them with \
         SHIPWARDEN_UPDATE_TYPES=1 cargo test -p shipwarden-adapters --features schema --test config_types"
    );
}

#[test]
fn every_section_and_kind_has_a_published_type() {
    let schema = shipwarden_adapters::config::schema();
    let py = python(&schema);
    let ts = typescript(&schema);
    for name in
        ["Config", "Project", "Environment", "TargetCommand", "TargetSsh", "StoreSqlite", "StorePostgres", "User"]
    {
        assert!(py.contains(&format!("{name}(")) || py.contains(&format!("{name} = ")), "python lacks {name}");
        assert!(ts.contains(&format!("export interface {name} ")), "typescript lacks {name}");
    }
    // A target's `kind` may be left out (the default, command); an SSH target must say it.
    assert!(ts.contains("export interface TargetCommand {") && ts.contains("  kind?: \"command\""), "{ts}");
    assert!(ts.contains("  kind: \"ssh\""));
}
