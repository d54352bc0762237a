//! `shipwarden init`: a commented `shipwarden.toml`.

use std::path::Path;

use anstream::println;
use clap::Args;

use crate::CliError;
use crate::config;
use crate::output::{GOOD, paint};

/// `init`.
#[derive(Args, Debug)]
pub struct InitArgs {
    /// The project's name (default: this folder's name).
    #[arg(long)]
    pub project: Option<String>,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

/// Writes the template to `path` (with `--dry-run`, prints it).
pub fn run(path: &Path, args: InitArgs, dry_run: bool) -> Result<(), CliError> {
    let project = args.project.unwrap_or_else(|| {
        std::env::current_dir()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "app".into())
    });
    let text = config::template(&project);
    if dry_run {
        print!("{text}");
        return Ok(());
    }
    if path.exists() && !args.force {
        return Err(CliError::usage(format!("{} exists; pass --force to overwrite it", path.display())));
    }
    std::fs::write(path, &text).map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
    println!("{} wrote {}; check it with `shipwarden policy check`", paint(GOOD, "✓"), path.display());
    Ok(())
}
