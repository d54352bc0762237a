//! `shipwarden audit`: a release's audit trail; its hash chain verified, exported (R-9d).

use std::path::PathBuf;

use anstream::println;
use clap::Args;
use shipwarden::ReleaseId;

use crate::CliError;
use crate::ctx::{Ctx, parse, write_or_print};
use crate::output::{self, DIM, GOOD, paint};

/// `audit`.
#[derive(Args, Debug)]
pub struct AuditArgs {
    /// The release.
    pub release: String,
    /// Check the hash chain, its signed checkpoints and the listing row (R-9d).
    #[arg(long)]
    pub verify: bool,
    /// With `--verify`: the chain must end at this head hash, known from elsewhere (a ticket, the notes).
    #[arg(long, value_name = "HASH", requires = "verify")]
    pub head: Option<String>,
    /// With `--verify`: the chain must hold this signed evidence bundle's head at its sequence.
    #[arg(long, value_name = "FILE", requires = "verify")]
    pub bundle: Option<PathBuf>,
    /// With `--verify`: the chain must hold the signed heads published outside the store (R-9d): a
    /// `<release>.heads.json` from the notes folder or wiki, a checkpoint, or a saved release-ticket comment
    /// (default: `STATE_DIR/notes/<release>.heads.json`).
    #[arg(long, value_name = "FILE", requires = "verify")]
    pub published: Option<Option<PathBuf>>,
    /// Publish the newest signed checkpoint again where `[evidence] publish_heads` says (R-9d).
    #[arg(long, conflicts_with_all = ["verify", "export"])]
    pub publish: bool,
    /// Export the trail (`jsonl`).
    #[arg(long, value_name = "FORMAT")]
    pub export: Option<String>,
    /// Write the export here instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Prints, exports or verifies the trail; a chain that does not verify is exit 6.
pub async fn run(ctx: &Ctx, a: AuditArgs) -> Result<(), CliError> {
    let release: ReleaseId = parse(&a.release)?;
    let history = ctx.manager.history(&release).await?;
    if history.is_empty() {
        return Err(CliError::usage(format!("no release {release}")));
    }
    crate::signing::audit_flags(ctx, &history)?;
    if let Some(format) = &a.export {
        if format != "jsonl" {
            return Err(CliError::usage(format!("--export {format}: the format is `jsonl`")));
        }
        let mut text = String::new();
        for e in &history {
            text.push_str(&serde_json::to_string(e).map_err(|e| CliError::usage(e.to_string()))?);
            text.push('\n');
        }
        write_or_print(&a.output, &text)?;
        if let Some(path) = &a.output
            && !ctx.json
        {
            anstream::eprintln!("{} {} events written to {}", paint(GOOD, "✓"), history.len(), path.display());
        }
        if !a.verify {
            return Ok(());
        }
    }
    if a.publish {
        return super::anchor::publish(ctx, &release).await;
    }
    if a.verify {
        let published = a.published.map(|p| {
            p.unwrap_or_else(|| {
                let name = shipwarden::audit::PublishedHeads::file_name(release.as_str());
                ctx.loaded.state_dir().join("notes").join(name)
            })
        });
        let known = super::anchor::Known { head: a.head.as_deref(), bundle: a.bundle.as_deref(), published };
        return super::anchor::verify(ctx, &release, known).await;
    }
    if ctx.json {
        output::json(&history);
        return Ok(());
    }
    let mut steps = Default::default();
    for e in &history {
        let line = output::event_line(&e.event, &mut steps).unwrap_or_else(|| paint(DIM, e.event.name()));
        println!(
            "{:>4} {} {:<10} {:<6} {line}",
            e.sequence,
            paint(DIM, e.at.strftime("%Y-%m-%d %H:%M:%S")),
            e.actor,
            e.rule.to_string()
        );
    }
    Ok(())
}
