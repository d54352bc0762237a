//! `audit --verify`: the chain, then its signed checkpoints, a head known from
//! elsewhere (`--head`, `--bundle`), and the listing row (R-9d). Every failure
//! is an integrity failure (exit 6); an unanchored chain is a warning.

use std::path::Path;

use anstream::{eprintln, println};
use shipwarden::ReleaseId;
use shipwarden::audit::{ChainHash, verify_head_at};
use shipwarden::bundle::SignedBundle;
use shipwarden_adapters::anchor::{VerifyError, verify_release};

use crate::CliError;
use crate::ctx::Ctx;
use crate::output::{self, GOOD, WAIT, paint};

/// The keys whose checkpoints are trusted: `[evidence] public_key` and `[evidence] trusted_keys`
/// (the adapters add the configured signing key's own public key).
fn trusted_keys(ctx: &Ctx) -> Vec<String> {
    let evidence = &ctx.loaded.config.evidence;
    evidence.public_key.iter().chain(&evidence.trusted_keys).cloned().collect()
}

fn integrity(release: &ReleaseId, e: impl std::fmt::Display) -> CliError {
    CliError::Integrity(format!("the audit trail of {release} does not verify (R-9d): {e}"))
}

/// Verifies `release`'s trail against everything known about it: its
/// checkpoints, `head`, the listing row (through the adapters, as the
/// bindings do), then `bundle`.
pub async fn verify(ctx: &Ctx, release: &ReleaseId, head: Option<&str>, bundle: Option<&Path>) -> Result<(), CliError> {
    let head: Option<ChainHash> =
        head.map(str::parse).transpose().map_err(|e: shipwarden::ParseError| CliError::usage(e.to_string()))?;
    let (history, report) =
        verify_release(&ctx.manager, release, &trusted_keys(ctx), head.as_ref()).await.map_err(|e| match e {
            VerifyError::Engine(e) => CliError::from(e),
            other => CliError::Integrity(other.to_string()),
        })?;
    if let Some(path) = bundle {
        let text =
            std::fs::read_to_string(path).map_err(|e| CliError::usage(format!("--bundle {}: {e}", path.display())))?;
        let signed: SignedBundle = serde_json::from_str(&text)
            .map_err(|e| CliError::Integrity(format!("{}: not an evidence bundle (R-9d): {e}", path.display())))?;
        let pinned = ctx.loaded.config.evidence.public_key.as_deref();
        let verified = shipwarden_adapters::bundle::verify(&signed, pinned)
            .map_err(|e| CliError::Integrity(format!("{}: {e} (R-9d)", path.display())))?;
        if &signed.bundle.release != release {
            return Err(CliError::usage(format!(
                "--bundle {}: it is the bundle of {}",
                path.display(),
                verified.release
            )));
        }
        let head: ChainHash = verified.head.parse().map_err(|e| integrity(release, e))?;
        verify_head_at(&history, verified.events, &head).map_err(|e| integrity(release, e))?;
    }
    let mut warnings = Vec::new();
    match report.anchored_at {
        None => warnings.push(
            "the chain is unanchored: no signed checkpoint; configure [evidence] signing_key_env so that a \
             rewrite of the store can be found"
                .to_owned(),
        ),
        Some(at) if report.unanchored_events > 0 => warnings.push(format!(
            "{} events after the newest checkpoint (sequence {at}) are not covered by a signature yet",
            report.unanchored_events
        )),
        Some(_) => {}
    }
    if !report.unanchored_stage_changes.is_empty() {
        let sequences: Vec<String> = report.unanchored_stage_changes.iter().map(u64::to_string).collect();
        warnings.push(format!(
            "the stage changes at sequence {} have no checkpoint and no signing key is configured to expect one",
            sequences.join(", ")
        ));
    }
    if !report.stage_changes_covered_later.is_empty() {
        let sequences: Vec<String> = report.stage_changes_covered_later.iter().map(u64::to_string).collect();
        warnings.push(format!(
            "the stage changes at sequence {} have no checkpoint of their own (a stop before signing, or a deleted \
             checkpoint); a later checkpoint covers them",
            sequences.join(", ")
        ));
    }
    for key in &report.unpinned_keys {
        warnings.push(format!(
            "checkpoints are signed by key {key}, but no trusted key is configured: set [evidence] public_key"
        ));
    }
    if ctx.json {
        output::json(&serde_json::json!({
            "verified": true,
            "events": history.len(),
            "head": report.head,
            "checkpoints": report.checkpoints,
            "anchored_at": report.anchored_at,
            "anchored": report.anchored_at.is_some(),
            "warnings": warnings,
        }));
        return Ok(());
    }
    let anchored = match report.anchored_at {
        Some(at) => format!(", {} signed checkpoints, the newest at sequence {at}", report.checkpoints),
        None => String::new(),
    };
    println!(
        "{} audit chain of {release} verified: {} events, head {}{anchored}",
        paint(GOOD, "✓"),
        history.len(),
        report.head
    );
    for w in &warnings {
        eprintln!("{} {w}", paint(WAIT, "!"));
    }
    Ok(())
}
