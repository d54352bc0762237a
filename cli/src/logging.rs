//! Logs to standard error: `-v` info, `-vv` debug, `-vvv` trace for
//! shipwarden's own crates; without `-v`, `SHIPWARDEN_LOG` or `RUST_LOG` as
//! `tracing` filter directives; without either, nothing.

use tracing_subscriber::EnvFilter;

use crate::CliError;

/// The crates `-v` turns on.
const OURS: [&str; 3] = ["shipwarden", "shipwarden_adapters", "shipwarden_cli"];

/// The filter for `verbose` (-v count) and the environment's directives,
/// if any: an explicit flag wins, then `SHIPWARDEN_LOG`, then `RUST_LOG`.
pub fn filter(verbose: u8, shipwarden_log: Option<&str>, rust_log: Option<&str>) -> Result<EnvFilter, CliError> {
    let level = match verbose {
        0 => None,
        1 => Some("info"),
        2 => Some("debug"),
        _ => Some("trace"),
    };
    if let Some(level) = level {
        let directives: Vec<String> = OURS.iter().map(|c| format!("{c}={level}")).collect();
        return Ok(EnvFilter::new(directives.join(",")));
    }
    for (name, value) in [("SHIPWARDEN_LOG", shipwarden_log), ("RUST_LOG", rust_log)] {
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            return EnvFilter::try_new(v).map_err(|e| CliError::usage(format!("{name}=`{v}`: {e}")));
        }
    }
    Ok(EnvFilter::new("off"))
}

/// Installs the subscriber for this process (once; later calls do nothing).
pub fn init(verbose: u8) -> Result<(), CliError> {
    let env = |name: &str| std::env::var(name).ok();
    let filter = filter(verbose, env("SHIPWARDEN_LOG").as_deref(), env("RUST_LOG").as_deref())?;
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_flag_wins_over_the_environment() {
        let f = filter(2, Some("off"), Some("off")).expect("filter");
        assert!(f.to_string().contains("shipwarden=debug"), "{f}");
        let f = filter(0, Some("shipwarden=trace"), Some("info")).expect("filter");
        assert_eq!(f.to_string(), "shipwarden=trace");
        let f = filter(0, None, Some("warn")).expect("filter");
        assert_eq!(f.to_string(), "warn");
        assert_eq!(filter(0, None, None).expect("filter").to_string(), "off");
        assert!(filter(0, Some("shipwarden=loud"), None).is_err());
    }
}
