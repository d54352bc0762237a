//! `shipwarden env diff`: environment settings that differ (R-9c).

use anstream::println;
use clap::Subcommand;
use shipwarden::EnvName;

use crate::CliError;
use crate::ctx::{Ctx, parse};
use crate::output::{self, BOLD, GOOD, paint};

/// `env`.
#[derive(Subcommand, Debug)]
pub enum EnvVerb {
    /// Keys only in one environment, and keys whose values differ; secret values are never shown (R-9c).
    Diff {
        /// The first environment (`staging`).
        from: String,
        /// The second environment (`prod`).
        to: String,
    },
}

/// Compares two environments' settings.
pub async fn run(ctx: &Ctx, verb: EnvVerb) -> Result<(), CliError> {
    use shipwarden::ports::SettingsSource;
    let EnvVerb::Diff { from, to } = verb;
    let mut read = Vec::new();
    for name in [&from, &to] {
        let env: EnvName = parse(name)?;
        let settings = ctx.loaded.config.environments.get(name.as_str()).and_then(|e| e.settings.as_ref());
        let Some(c) = settings else {
            return Err(CliError::usage(format!("environment `{name}` has no [environments.{name}.settings]")));
        };
        let source = shipwarden_adapters::settings::EnvFileSettings::new(ctx.loaded.path(&c.file))
            .secret_keys(c.secret_keys.clone());
        let values = source.settings(&env).await.map_err(CliError::outside)?;
        read.push((source, values));
    }
    let ((a_src, a), (b_src, b)) = (&read[0], &read[1]);
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let mut rows = Vec::new();
    for k in keys {
        let secret = a_src.is_secret(k) || b_src.is_secret(k);
        let show = |v: Option<&String>| match v {
            None => "(not set)".to_owned(),
            Some(_) if secret => "(secret)".to_owned(),
            Some(v) => v.clone(),
        };
        let (va, vb) = (a.get(k), b.get(k));
        if va != vb {
            rows.push(
                serde_json::json!({ "key": k, "secret": secret, from.as_str(): show(va), to.as_str(): show(vb) }),
            );
        }
    }
    if ctx.json {
        output::json(&rows);
        return Ok(());
    }
    if rows.is_empty() {
        println!("{} {from} and {to} have the same settings", paint(GOOD, "✓"));
        return Ok(());
    }
    println!("{}", paint(BOLD, format!("{:<28} {:<30} {}", "KEY", from, to)));
    for r in &rows {
        let cell = |name: &str| r[name].as_str().unwrap_or_default().to_owned();
        let key = r["key"].as_str().unwrap_or_default();
        let mark = if r["secret"].as_bool().unwrap_or(false) { " (values differ)" } else { "" };
        println!("{key:<28} {:<30} {}{mark}", cell(&from), cell(&to));
    }
    Ok(())
}
