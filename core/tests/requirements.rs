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

/// `R-5a`-shaped IDs inside string literals.
fn rule_ids(text: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
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
