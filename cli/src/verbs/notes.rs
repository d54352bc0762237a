//! `shipwarden notes RELEASE`: a planned release's notes (R-9b). Notes from
//! the repository's history are in [`crate::changes`].

use anstream::println;
use shipwarden::ReleaseId;

use crate::CliError;
use crate::ctx::{Ctx, parse, write_or_print};
use crate::dry_run;
use crate::output::{self, GOOD, paint};

/// A planned release's notes: printed, or published again.
pub async fn run(ctx: &Ctx, a: crate::changes::NotesArgs) -> Result<(), CliError> {
    let release: ReleaseId = parse(a.release.as_deref().unwrap_or_default())?;
    let notes = ctx.manager.notes(&release).await?;
    if a.publish {
        let version = ctx.state(&release).await?.plan.map(|p| p.version).ok_or_else(|| CliError::usage("no plan"))?;
        if ctx.dry_run {
            dry_run::would(format!("publish the notes of {release}"));
            return Ok(());
        }
        let at = ctx.loaded.publishers()?.publish(&release, &version, &notes).await.map_err(CliError::outside)?;
        println!("{} notes of {release} published: {at}", paint(GOOD, "✓"));
        return Ok(());
    }
    if ctx.json || a.format == "json" {
        output::json(&serde_json::json!({ "release": release, "markdown": notes }));
        return Ok(());
    }
    write_or_print(&a.output, &notes)
}
