//! Replays the fuzz corpora and every input a fuzz run ever crashed on (#18) on stable:
//! each file under `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/` goes
//! through the same function as the libFuzzer target (`fuzz/src/lib.rs`, included
//! here), so a fixed crash cannot come back unnoticed. `fuzz/pending/` (crashes
//! whose fix is not merged yet) is not replayed.

#[allow(dead_code, missing_docs)]
#[path = "../../fuzz/src/lib.rs"]
mod fuzz;

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `dir`, sorted; none when it does not exist. Dotfiles (`.gitkeep`) and READMEs are skipped.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| !n.starts_with('.') && n != "README.md"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_and_regression_input_runs_through_its_target_without_a_panic() {
    let mut replayed = 0;
    for (target, body) in fuzz::TARGETS {
        let corpus = inputs(&root().join("corpus").join(target));
        assert!(!corpus.is_empty(), "fuzz/corpus/{target}/ has no seed inputs");
        for file in corpus.iter().chain(&inputs(&root().join("regressions").join(target))) {
            let data = std::fs::read(file).expect("a readable input");
            eprintln!("{target}: {}", file.display());
            body(&data);
            replayed += 1;
        }
    }
    assert!(replayed >= fuzz::TARGETS.len());
}

#[test]
fn every_target_has_a_libfuzzer_entry_point_and_folders() {
    for (target, _) in fuzz::TARGETS {
        let source = std::fs::read_to_string(root().join("fuzz_targets").join(format!("{target}.rs")))
            .unwrap_or_else(|e| panic!("fuzz/fuzz_targets/{target}.rs: {e}"));
        assert!(source.contains(&format!("shipwarden_fuzz::{target}(data)")), "{target}.rs calls its body");
        assert!(root().join("regressions").join(target).is_dir(), "fuzz/regressions/{target}/ exists");
    }
}

#[test]
fn the_audit_target_starts_from_a_chain_that_verifies() {
    let chain = fuzz::sample_chain();
    assert!(chain.len() >= 3, "{} envelopes", chain.len());
    let head = shipwarden::audit::verify(chain).expect("the sample chain verifies");
    assert_eq!(chain.last().map(|e| &e.hash), Some(&head));
    if std::env::var_os("SHIPWARDEN_FUZZ_PRINT_CHAIN").is_some() {
        println!("{}", serde_json::to_string_pretty(chain).expect("json"));
    }
}
