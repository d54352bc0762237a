//! `shipwarden evidence`: evidence for a release's gates (a value, a report
//! file, a measurement; R-7), and its signed evidence bundles (R-9d).

use std::path::{Path, PathBuf};

use anstream::println;
use clap::{Args, Subcommand};
use shipwarden::machine::{Action, Evidence};
use shipwarden::{EnvName, GateId, ReleaseId};
use shipwarden_adapters::probes::http::{HttpProbe, percentile};

use crate::CliError;
use crate::ctx::{Ctx, parse, write_or_print};
use crate::dry_run;
use crate::output::{self, GOOD, WAIT, paint};

/// `evidence`: record evidence for a release's gates, or make and verify evidence bundles.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct EvidenceCmd {
    /// Bundles.
    #[command(subcommand)]
    pub verb: Option<EvidenceVerb>,
    /// Evidence for a gate.
    #[command(flatten)]
    pub record: EvidenceArgs,
}

/// `evidence bundle|verify|keygen`.
#[derive(Subcommand, Debug)]
pub enum EvidenceVerb {
    /// Write a release's signed evidence bundle: plan, approvals, gates, artifacts, commits, steps, audit chain (R-9d).
    Bundle {
        /// The release.
        release: String,
        /// Write it here (default: stdout).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Check a bundle's signature, its audit chain, and that it says what the chain says (R-9d).
    Verify {
        /// The bundle (`shop-1.4.0.evidence.json`).
        file: PathBuf,
        /// The public key (hex) it must be signed with (default: `[evidence] public_key`).
        #[arg(long)]
        key: Option<String>,
    },
    /// Make a new Ed25519 signing key: the seed for a secret store, and its public key.
    Keygen,
}

/// Evidence for a gate.
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("measure").required(true).multiple(true).args(["value", "lcov", "http", "coverage", "junit", "perf"])))]
pub struct EvidenceArgs {
    /// The release.
    #[arg(required = true)]
    pub release: Option<String>,
    /// The gate (`coverage`, `p95_latency`, `critical_bugs`, `docs_reviewed`, ...), for --value, --lcov, --http.
    pub gate: Option<String>,
    /// Coverage report (LCOV, Cobertura XML, JaCoCo XML): evidence for `coverage`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["value", "lcov", "http"])]
    pub coverage: Option<PathBuf>,
    /// JUnit XML report: evidence for `test_failures`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["value", "lcov", "http"])]
    pub junit: Option<PathBuf>,
    /// Performance results (JMeter .jtl as CSV or XML, k6 JSON summary): evidence for `p95_latency` and `error_rate`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["value", "lcov", "http"])]
    pub perf: Option<PathBuf>,
    /// The measured value, in the gate's unit.
    #[arg(long)]
    pub value: Option<f64>,
    /// Read line coverage from this LCOV file.
    #[arg(long, value_name = "FILE")]
    pub lcov: Option<PathBuf>,
    /// Measure the p95 latency of this URL.
    #[arg(long, value_name = "URL")]
    pub http: Option<String>,
    /// Requests for --http.
    #[arg(long, default_value_t = 50)]
    pub requests: u32,
    /// The environment measured.
    #[arg(long)]
    pub env: Option<String>,
    /// Where the value comes from (default: the file or URL).
    #[arg(long)]
    pub source: Option<String>,
}

/// The evidence in CI's report files (`--coverage`, `--junit`, `--perf`), read as every surface reads them.
fn imported(a: &EvidenceArgs, policy: &shipwarden::Policy) -> Result<Vec<Evidence>, CliError> {
    use shipwarden_adapters::evidence::gates::{Reports, from_reports};
    let reports = Reports { coverage: a.coverage.clone(), junit: a.junit.clone(), perf: a.perf.clone() };
    from_reports(&reports, policy).map_err(|e| CliError::usage(e.to_string()))
}

/// `evidence bundle`: writes the release's signed evidence bundle (R-9d).
pub async fn bundle(ctx: &Ctx, verb: EvidenceVerb) -> Result<(), CliError> {
    match verb {
        EvidenceVerb::Bundle { release, output } => {
            let release: ReleaseId = parse(&release)?;
            let signed = ctx.manager.evidence_bundle(&release).await?;
            let text = serde_json::to_string_pretty(&signed).map_err(|e| CliError::Outside(e.to_string()))?;
            write_or_print(&output, &format!("{text}\n"))?;
            if signed.signature.is_none() {
                eprintln!("{} not signed: set [evidence] signing_key_env to sign bundles", paint(WAIT, "!"));
            }
            Ok(())
        }
        EvidenceVerb::Verify { .. } | EvidenceVerb::Keygen => {
            Err(CliError::usage("internal: dispatched before loading"))
        }
    }
}

/// `evidence verify`: the config is read only for `[evidence] public_key`, when there is one.
pub fn verify_bundle(config: &Path, file: &Path, key: Option<String>, json: bool) -> Result<(), CliError> {
    use shipwarden_adapters::bundle::verify;
    let text = shipwarden_adapters::files::read_text(file, shipwarden_adapters::files::BUNDLE_LIMIT)
        .map_err(|e| CliError::usage(format!("{}: {e}", file.display())))?;
    let signed: shipwarden::bundle::SignedBundle = serde_json::from_str(&text)
        .map_err(|e| CliError::usage(format!("{}: not an evidence bundle: {e}", file.display())))?;
    let pinned = if config.exists() { crate::config::read(config)?.config.evidence.public_key } else { None };
    let expected = key.or(pinned);
    match verify(&signed, expected.as_deref()) {
        Ok(v) => {
            if json {
                output::json(&serde_json::json!({
                    "verified": true, "release": v.release, "head": v.head, "events": v.events,
                    "public_key": v.public_key, "checkpoints": v.checkpoints, "approvals": v.approvals,
                    "rejections": v.rejections,
                }));
            } else {
                println!(
                    "{} {} verified: {} events, chain head {}, signed by ed25519 {}; {} signed checkpoints match the chain",
                    paint(GOOD, "✓"),
                    v.release,
                    v.events,
                    v.head,
                    v.public_key,
                    v.checkpoints
                );
                for a in &v.approvals {
                    let proof = match &a.fingerprint {
                        Some(f) => format!("ssh signature by {f} verified over its statement"),
                        None => format!("{} (no signature to check)", a.proof),
                    };
                    println!("  {:>4} {} by {} as {}: {proof}", a.sequence, a.approval, a.user, a.role);
                }
                for r in &v.rejections {
                    let proof = match &r.fingerprint {
                        Some(f) => format!("ssh signature by {f} verified over its statement"),
                        None => format!("{} (no signature to check)", r.proof),
                    };
                    println!("  {:>4} {} rejected by {} as {}: {proof}", r.sequence, r.approval, r.user, r.role);
                }
            }
            Ok(())
        }
        // A bundle that does not say what its signature and chain say is an integrity failure (exit 6).
        Err(e) => {
            Err(CliError::Integrity(format!("{}: the evidence bundle does not verify (R-9d): {e}", file.display())))
        }
    }
}

/// `evidence keygen`: the seed on stdout (for a secret store), the public key on stderr.
pub fn keygen() -> Result<(), CliError> {
    use shipwarden_adapters::bundle::Ed25519Signer;
    let outside = |e: shipwarden::ports::PortError| CliError::Outside(e.to_string());
    let seed = Ed25519Signer::generate_seed_hex().map_err(outside)?;
    let signer = Ed25519Signer::from_seed_hex(&seed).map_err(outside)?;
    println!("{}", secrecy::ExposeSecret::expose_secret(&seed));
    eprintln!(
        "the line above is the signing key: keep it in a secret store and name its variable in [evidence] signing_key_env\npublic key (for [evidence] public_key): {}",
        shipwarden::ports::Signer::public_key(&signer)
    );
    Ok(())
}

/// Records evidence for a gate, from a value, a file or a measurement.
pub async fn run(ctx: &Ctx, a: EvidenceArgs) -> Result<(), CliError> {
    let actor = ctx.actor()?;
    let release: ReleaseId = parse(a.release.as_deref().unwrap_or_default())?;
    if a.coverage.is_some() || a.junit.is_some() || a.perf.is_some() {
        if a.gate.is_some() {
            return Err(CliError::usage("--coverage, --junit and --perf name their gates: leave out the gate"));
        }
        let env: Option<EnvName> = a.env.as_deref().map(parse).transpose()?;
        let mut state = ctx.state(&release).await?;
        let mut lines = Vec::new();
        for mut evidence in imported(&a, ctx.manager.policy())? {
            if let Some(e) = &env {
                evidence = evidence.in_env(e.clone());
            }
            if let Some(source) = &a.source {
                evidence.source = source.clone();
            }
            if ctx.dry_run {
                dry_run::action(ctx, &release, &actor, Action::RecordEvidence(evidence)).await?;
                continue;
            }
            state = (*ctx.manager.record_evidence(&release, &actor, evidence).await?).clone();
            if let Some(g) = state.gate_results.last() {
                lines.push(
                    output::event_line(
                        &shipwarden::machine::Event::EvidenceRecorded(g.clone()),
                        &mut Default::default(),
                    )
                    .unwrap_or_default(),
                );
            }
        }
        if !ctx.dry_run {
            ctx.done(&state, lines.join("\n"));
        }
        return Ok(());
    }
    let Some(gate) = &a.gate else { return Err(CliError::usage("name the gate for --value, --lcov or --http")) };
    let gate: GateId = parse(gate)?;
    let (value, source) = if let Some(v) = a.value {
        (v, a.source.clone().unwrap_or_else(|| format!("reported by {}", actor.user)))
    } else if let Some(file) = &a.lcov {
        // Streamed and bounded (issue #18): `/dev/zero` or a binary is an error naming the file and line.
        let opened = std::fs::File::open(file).map_err(|e| CliError::usage(format!("{}: {e}", file.display())))?;
        let reader = std::io::BufReader::with_capacity(1 << 20, opened);
        let c =
            shipwarden_adapters::evidence::coverage::lcov(file, reader).map_err(|e| CliError::usage(e.to_string()))?;
        let ratio = (c.ratio() * 10_000.0).round() / 10_000.0;
        (
            ratio,
            a.source.clone().unwrap_or_else(|| format!("lcov {}: {} of {} lines", file.display(), c.covered, c.lines)),
        )
    } else if let Some(url) = &a.http {
        let mut samples = HttpProbe::new(url).with_requests(a.requests).sample().await.map_err(CliError::outside)?;
        let p95 = (percentile(&mut samples, 0.95).unwrap_or_default() * 10.0).round() / 10.0;
        (p95, a.source.clone().unwrap_or_else(|| format!("GET {url}: p95 of {} requests", a.requests)))
    } else {
        return Err(CliError::usage("give --value, --lcov or --http"));
    };
    let mut evidence = Evidence::new(gate, value, source);
    if let Some(e) = &a.env {
        evidence = evidence.in_env(parse(e)?);
    }
    if ctx.dry_run {
        return dry_run::action(ctx, &release, &actor, Action::RecordEvidence(evidence)).await;
    }
    let state = ctx.manager.record_evidence(&release, &actor, evidence).await?;
    let line = state
        .gate_results
        .last()
        .and_then(|g| {
            output::event_line(&shipwarden::machine::Event::EvidenceRecorded(g.clone()), &mut Default::default())
        })
        .unwrap_or_default();
    ctx.done(&state, line);
    Ok(())
}
