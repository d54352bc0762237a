//! Logs to standard error: `-v` info, `-vv` debug, `-vvv` trace for
//! shipwarden's own crates; without `-v`, `SHIPWARDEN_LOG` or else `RUST_LOG`
//! as `tracing` filter directives; without either, nothing.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

/// The crates `-v` turns on.
const OURS: [&str; 3] = ["shipwarden", "shipwarden_adapters", "shipwarden_cli"];

/// The filter for `verbose` (the count of `-v`) and the environment's
/// directives: an explicit flag wins, then `SHIPWARDEN_LOG`, then `RUST_LOG`.
/// Directives that do not parse are skipped, with a warning to print: a
/// `RUST_LOG` meant for another program must not stop a release.
pub fn filter(verbose: u8, shipwarden_log: Option<&str>, rust_log: Option<&str>) -> (EnvFilter, Vec<String>) {
    let level = match verbose {
        0 => None,
        1 => Some("info"),
        2 => Some("debug"),
        _ => Some("trace"),
    };
    if let Some(level) = level {
        let directives: Vec<String> = OURS.iter().map(|c| format!("{c}={level}")).collect();
        return (EnvFilter::new(directives.join(",")), Vec::new());
    }
    let mut warnings = Vec::new();
    for (name, value) in [("SHIPWARDEN_LOG", shipwarden_log), ("RUST_LOG", rust_log)] {
        let Some(v) = value.filter(|v| !v.trim().is_empty()) else { continue };
        match EnvFilter::try_new(v) {
            Ok(f) => return (f, warnings),
            Err(e) => warnings.push(format!("{name}=`{v}` is ignored: {e}")),
        }
    }
    (EnvFilter::new("off"), warnings)
}

/// Installs the subscriber for this process (once; later calls do nothing).
pub fn init(verbose: u8) {
    let env = |name: &str| std::env::var(name).ok();
    let (filter, warnings) = filter(verbose, env("SHIPWARDEN_LOG").as_deref(), env("RUST_LOG").as_deref());
    for w in warnings {
        anstream::eprintln!("warning: {w}");
    }
    // The engine mostly traces spans (a run, a deployment, a step): with `-v`, each is logged as it
    // closes, with its time, so that `-v` shows what happened even when nothing went wrong.
    let spans = if verbose > 0 { FmtSpan::CLOSE } else { FmtSpan::NONE };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(spans)
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_flag_wins_then_shipwarden_log_then_rust_log() {
        let (f, _) = filter(2, Some("off"), Some("off"));
        assert!(f.to_string().contains("shipwarden=debug"), "{f}");
        let (f, _) = filter(3, None, None);
        assert!(f.to_string().contains("shipwarden_adapters=trace"), "{f}");
        assert_eq!(filter(0, Some("shipwarden=trace"), Some("info")).0.to_string(), "shipwarden=trace");
        assert_eq!(filter(0, None, Some("warn")).0.to_string(), "warn");
        assert_eq!(filter(0, None, None).0.to_string(), "off");
        let (f, warnings) = filter(0, Some("shipwarden=loud"), Some("debug"));
        assert_eq!(f.to_string(), "debug");
        assert!(warnings.len() == 1 && warnings[0].contains("SHIPWARDEN_LOG"), "{warnings:?}");
    }
}
