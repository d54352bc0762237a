//! Every requirement ID the core enforces has a test whose name carries it
//! (`…_r5a`), so a reader can go from a rule to the test that proves it.

use std::collections::BTreeSet;
use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `R-5a`-shaped IDs inside string literals, and `RuleId::R_5A` constants (as `5a`).
fn rule_ids(text: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for (i, _) in text.match_indices("RuleId::R_") {
        let rest = &text[i + "RuleId::R_".len()..];
        let id: String = rest.chars().take_while(char::is_ascii_alphanumeric).collect();
        if !id.is_empty() && id.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            ids.insert(id.to_ascii_lowercase());
        }
    }
    for (i, _) in text.match_indices("\"R-") {
        let rest = &text[i + 3..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let letters: String = rest[digits.len()..].chars().take_while(char::is_ascii_lowercase).collect();
        if !digits.is_empty() && rest[digits.len() + letters.len()..].starts_with('"') {
            ids.insert(format!("{digits}{letters}"));
        }
    }
    ids
}

#[test]
fn every_enforced_requirement_has_a_test_that_names_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources = Vec::new();
    rust_files(&root.join("src"), &mut sources);
    // The closed set of rule IDs names every rule; what counts is where a rule is used.
    sources.retain(|p| !p.ends_with("rule.rs"));
    let enforced: BTreeSet<String> =
        sources.iter().flat_map(|p| rule_ids(&std::fs::read_to_string(p).expect("source"))).collect();
    assert!(enforced.len() > 20, "found only {enforced:?}");

    let mut tests = Vec::new();
    rust_files(&root.join("tests"), &mut tests);
    let mut named = BTreeSet::new();
    for path in tests {
        for line in std::fs::read_to_string(&path).expect("test").lines() {
            let line = line.trim_start();
            let line = line.strip_prefix("async ").unwrap_or(line);
            let Some(name) = line.strip_prefix("fn ").and_then(|r| r.split('(').next()) else {
                continue;
            };
            for part in name.split('_').filter(|p| p.starts_with('r')) {
                named.insert(part[1..].to_owned());
            }
        }
    }
    let untested: Vec<String> = enforced.iter().filter(|id| !named.contains(*id)).map(|id| format!("R-{id}")).collect();
    assert!(untested.is_empty(), "requirements enforced in core/src without a test named after them: {untested:?}");
}

/// Every rule of the procedure's requirements is in the closed set of
/// `RuleId`s (read from `../shared/REQUIREMENTS.md` beside the repository,
/// where the project keeps it).
#[test]
fn every_requirement_of_the_procedure_is_a_rule_id() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Ok(text) = std::fs::read_to_string(root.join("../../shared/REQUIREMENTS.md")) else {
        eprintln!("../shared/REQUIREMENTS.md is not beside this checkout; the closed set is checked against it in CI");
        return;
    };
    let mut missing = Vec::new();
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
        let Some(rest) = word.strip_prefix("R-") else { continue };
        if rest.chars().next().is_some_and(|c| c.is_ascii_digit()) && word.parse::<shipwarden::RuleId>().is_err() {
            missing.push(word.to_owned());
        }
    }
    assert!(missing.is_empty(), "rules of REQUIREMENTS.md missing from RuleId: {missing:?}");
}

/// No rule is decided outside the core: the CLI, the adapters, the bindings,
/// the examples and the benchmarks never call `decide` (they ask the engine,
/// `ReleaseManager::preview` for a dry run) nor build a refusal of their own.
#[test]
fn no_refusal_is_decided_outside_the_core_r3() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["cli/src", "adapters/src", "bindings/python/src", "bindings/node/src", "examples/src", "benches/src"] {
        if root.join(dir).is_dir() {
            rust_files(&root.join(dir), &mut files);
        }
    }
    assert!(files.len() > 20, "found only {} files", files.len());
    let mut found = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("source");
        let own_types = text.contains("struct Refusal") || text.contains("struct Unmet");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let calls_decide = code.contains("decide(") && !code.contains("fn decide(");
            let builds = ["machine::Refusal {", "machine::Unmet {", "shipwarden::Refusal {", "shipwarden::Unmet {"]
                .iter()
                .any(|p| code.contains(p))
                || (!own_types && (code.contains("Refusal {") || code.contains("Unmet {")) && !code.contains("impl"));
            if calls_decide || builds {
                found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "rules decided outside the core:\n{}", found.join("\n"));
}
