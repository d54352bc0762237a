//! `audit --verify`: the chain, then its signed checkpoints, a head known from
//! elsewhere (`--head`, `--bundle`, `--published`), and the listing row
//! (R-9d). Every failure is an integrity failure (exit 6); an unanchored
//! chain is a warning. And `audit --publish`: the newest signed head
//! published again where `[evidence] publish_heads` says.

use std::path::{Path, PathBuf};

use anstream::{eprintln, println};
use shipwarden::ReleaseId;
use shipwarden::audit::{ChainHash, PublishedHeads, check_checkpoints, verify_head_at};
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

/// What is known about a release's trail from outside its store.
#[derive(Debug, Default)]
pub struct Known<'a> {
    /// A head hash the chain must end at (`--head`).
    pub head: Option<&'a str>,
    /// A signed evidence bundle whose head the chain must hold (`--bundle`).
    pub bundle: Option<&'a Path>,
    /// A published heads record whose checkpoints the chain must hold (`--published`).
    pub published: Option<PathBuf>,
}

/// Checks the chain against the signed heads published in `path` (R-9d):
/// each published checkpoint is signed by a trusted key and the chain holds
/// its head at its sequence. Gives how many matched.
fn verify_published(
    ctx: &Ctx,
    release: &ReleaseId,
    history: &[shipwarden::audit::Envelope],
    path: &Path,
    warnings: &mut Vec<String>,
) -> Result<usize, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::usage(format!(
            "--published {}: {e}; name the heads file kept by the notes (wiki) or a saved release-ticket comment",
            path.display()
        ))
    })?;
    let heads =
        PublishedHeads::read(&text).map_err(|e| CliError::usage(format!("--published {}: {e}", path.display())))?;
    if heads.release != release.as_str() {
        return Err(CliError::usage(format!(
            "--published {}: it holds the heads of {}",
            path.display(),
            heads.release
        )));
    }
    if heads.checkpoints.is_empty() {
        return Err(CliError::usage(format!("--published {}: it holds no signed head", path.display())));
    }
    let mut keys: Vec<String> = trusted_keys(ctx).into_iter().chain(ctx.manager.signing_key()).collect();
    keys.iter_mut().for_each(|k| *k = k.trim().to_ascii_lowercase());
    let report = check_checkpoints(history, &heads.checkpoints, &keys, &shipwarden_adapters::anchor::Ed25519Check)
        .map_err(|e| integrity(release, format!("against the heads published in {}: {e}", path.display())))?;
    for key in &report.unpinned_keys {
        warnings.push(format!(
            "the published heads are signed by key {key}, but no trusted key is configured: set [evidence] public_key"
        ));
    }
    Ok(report.checkpoints)
}

/// Publishes the release's newest signed checkpoint again (R-9d).
pub async fn publish(ctx: &Ctx, release: &ReleaseId) -> Result<(), CliError> {
    if ctx.loaded.config.evidence.publish_heads.is_empty() {
        return Err(CliError::usage(
            "nowhere to publish: set [evidence] publish_heads = [\"notes\", \"ticket\"] in shipwarden.toml",
        ));
    }
    let published = ctx.manager.publish_heads(release).await?;
    if ctx.json {
        output::json(&published);
        return Ok(());
    }
    if published.is_empty() {
        eprintln!("{} {release} has no signed checkpoint to publish (or no release ticket yet)", paint(WAIT, "!"));
    }
    for p in &published {
        println!(
            "{} signed head of {release} at sequence {} published to the {}: {}",
            paint(GOOD, "✓"),
            p.sequence,
            p.destination,
            p.at
        );
    }
    Ok(())
}

/// Verifies `release`'s trail against everything known about it: its
/// checkpoints, `head`, the listing row (through the adapters, as the
/// bindings do), then `bundle` and the `published` heads.
pub async fn verify(ctx: &Ctx, release: &ReleaseId, known: Known<'_>) -> Result<(), CliError> {
    let Known { head, bundle, published } = known;
    let mut warnings = Vec::new();
    // Heads published outside the store are the strongest witness: checked first, so that a rewrite or a
    // cut tail is named against them (a chain the store cannot even load is reported below).
    let mut matched = None;
    if let Some(path) = &published
        && let Ok(history) = ctx.manager.history(release).await
    {
        matched = Some(verify_published(ctx, release, &history, path, &mut warnings)?);
    }
    let head: Option<ChainHash> =
        head.map(str::parse).transpose().map_err(|e: shipwarden::ParseError| CliError::usage(e.to_string()))?;
    let (history, report) =
        verify_release(&ctx.manager, release, &trusted_keys(ctx), head.as_ref()).await.map_err(|e| match e {
            VerifyError::Engine(e) => CliError::from(e),
            other => CliError::Integrity(other.to_string()),
        })?;
    if let Some(path) = bundle {
        let text = shipwarden_adapters::files::read_text(path, shipwarden_adapters::files::BUNDLE_LIMIT)
            .map_err(|e| CliError::usage(format!("--bundle {}: {e}", path.display())))?;
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
            "published": matched,
            "warnings": warnings,
        }));
        return Ok(());
    }
    let anchored = match report.anchored_at {
        Some(at) => format!(", {} signed checkpoints, the newest at sequence {at}", report.checkpoints),
        None => String::new(),
    };
    let published = match (matched, &published) {
        (Some(n), Some(path)) => format!("; it holds the {n} signed heads published in {}", path.display()),
        _ => String::new(),
    };
    println!(
        "{} audit chain of {release} verified: {} events, head {}{anchored}{published}",
        paint(GOOD, "✓"),
        history.len(),
        report.head
    );
    for w in &warnings {
        eprintln!("{} {w}", paint(WAIT, "!"));
    }
    Ok(())
}
