//! Verbs over the repository's history (R-4a, R-4e, R-9b): release notes for
//! a range or the whole history, the ticket-key check, the next version.
//! They read `shipwarden.toml` when there is one, and work without it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anstream::println;
use clap::{Args, Subcommand};
use shipwarden::changes::{self, Change};
use shipwarden::notes::{Links, ReleaseNotes};
use shipwarden::{Policy, ReleaseKind, Version};
use shipwarden_adapters::vcs::git::{GitRepo, History, HistoryOptions};

use crate::CliError;
use crate::output::{self, BOLD, DIM, GOOD, WAIT, paint};

/// `notes`.
#[derive(Args, Debug)]
pub struct NotesArgs {
    /// A planned release (`shop-1.4.0`): its notes as published. Without it, notes from git history.
    pub release: Option<String>,
    /// Start after this tag or revision (default: the first commit).
    #[arg(long)]
    pub from: Option<String>,
    /// End at this revision (default: HEAD).
    #[arg(long)]
    pub to: Option<String>,
    /// Only commits that change these paths (a monorepo package).
    #[arg(long = "path", value_name = "PATH")]
    pub paths: Vec<String>,
    /// Release tags are this prefix plus the version (default: the policy's, `v`).
    #[arg(long)]
    pub tag_prefix: Option<String>,
    /// `md` or `json`.
    #[arg(long, default_value = "md")]
    pub format: String,
    /// Render this minijinja template with `releases` (and `project`) instead.
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    /// Write here instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Publish a release's notes again to the configured places (state folder, wiki, GitHub).
    #[arg(long, requires = "release")]
    pub publish: bool,
}

/// `changes ...`.
#[derive(Subcommand, Debug)]
pub enum ChangesVerb {
    /// R-4a: every commit since the last release tag must carry a ticket key (exit 3 lists those that do not).
    Check {
        /// Start after this tag or revision (default: the newest release tag).
        #[arg(long)]
        from: Option<String>,
    },
}

/// `version ...`.
#[derive(Subcommand, Debug)]
pub enum VersionVerb {
    /// R-4e: the next version from the kind and the commits since the last release tag.
    Next {
        /// `major`, `minor`, `patch` or `emergency`: the least bump.
        #[arg(long, default_value = "patch")]
        kind: String,
        /// A pre-release (`rc` gives `-rc.1`, then `-rc.2`).
        #[arg(long)]
        pre: Option<String>,
        /// Use this version instead; it must be newer than the last release (R-4c).
        #[arg(long, requires = "reason")]
        set: Option<String>,
        /// Why the computed version is overridden.
        #[arg(long)]
        reason: Option<String>,
    },
}

/// The configuration when there is one; defaults in the current folder when not.
struct Setup {
    repo: PathBuf,
    project: String,
    policy: Policy,
}

fn setup(config: &Path) -> Result<Setup, CliError> {
    if config.exists() {
        let l = crate::config::read(config)?;
        return Ok(Setup {
            repo: l.path(&l.config.project.repository),
            project: l.config.project.name.clone(),
            policy: l.policy,
        });
    }
    let repo = std::env::current_dir().map_err(CliError::outside)?;
    let project = repo.file_name().map_or_else(|| "project".to_owned(), |n| n.to_string_lossy().into_owned());
    Ok(Setup { repo, project, policy: Policy::default() })
}

/// The project's repository, when it is one.
fn repository(s: &Setup) -> Result<GitRepo, CliError> {
    if !s.repo.join(".git").exists() && !s.repo.join("HEAD").exists() {
        return Err(CliError::usage(format!("{} is not a git repository", s.repo.display())));
    }
    Ok(GitRepo::new(&s.repo))
}

fn history(s: &Setup, options: HistoryOptions) -> Result<History, CliError> {
    repository(s)?.history_blocking(&options).map_err(|e| CliError::usage(e.to_string()))
}

/// The newest release tag, and the changes after it.
type SinceLast = (Option<(String, Version)>, Vec<Change>);

/// The newest release tag's name and version, and the commits after it.
fn since_last_release(s: &Setup, from: Option<String>) -> Result<SinceLast, CliError> {
    let prefix = s.policy.vcs.tag_prefix.clone();
    let h = history(s, HistoryOptions { tag_prefix: prefix, from, ..Default::default() })?;
    let mut releases = h.releases.into_iter();
    let (last, commits) = match releases.next() {
        Some(r) if r.tag.is_none() => {
            let last = releases.next().and_then(|n| n.tag.zip(n.version));
            (last, r.commits)
        }
        Some(r) => (r.tag.zip(r.version), Vec::new()),
        None => (None, Vec::new()),
    };
    Ok((last, commits.iter().map(changes::parse).collect()))
}

fn write_out(output: &Option<PathBuf>, text: &str) -> Result<(), CliError> {
    match output {
        Some(p) => std::fs::write(p, text).map_err(|e| CliError::usage(format!("{}: {e}", p.display()))),
        None => match std::io::stdout().lock().write_all(text.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::outside(e)),
            _ => Ok(()),
        },
    }
}

/// `notes` without a release: the history's releases, newest first.
pub fn notes(config: &Path, a: &NotesArgs) -> Result<(), CliError> {
    if !matches!(a.format.as_str(), "md" | "markdown" | "json") {
        return Err(CliError::usage(format!("--format {}: use md or json", a.format)));
    }
    let mut s = setup(config)?;
    if let Some(p) = &a.tag_prefix {
        s.policy.vcs.tag_prefix = p.clone();
    }
    let options = HistoryOptions {
        tag_prefix: s.policy.vcs.tag_prefix.clone(),
        from: a.from.clone(),
        to: a.to.clone(),
        paths: a.paths.clone(),
    };
    // The walk runs on its own thread and hands over each release as it
    // passes it; this thread reads and groups the commits meanwhile.
    let repo = repository(&s)?;
    let (tx, rx) = std::sync::mpsc::sync_channel(8);
    let walker =
        std::thread::spawn(move || repo.history_streaming(&options, &mut |r| tx.send(r).map_err(|e| e.to_string())));
    let links = Links::from_policy(&s.policy);
    let notes_of = |r: shipwarden_adapters::vcs::git::ReleaseCommits| {
        // Oldest first within a release reads as the story of the release.
        let parsed: Vec<Change> = r.commits.into_iter().rev().map(changes::parse_owned).collect();
        let kept = changes::for_notes(parsed, &s.policy.vcs);
        ReleaseNotes::from_changes(&s.project, r.version, r.date, kept, Vec::new(), &links)
    };
    let markdown = a.template.is_none() && matches!(a.format.as_str(), "md" | "markdown");
    let mut releases: Vec<ReleaseNotes> = Vec::new();
    if markdown {
        // Markdown is written release by release, as the walk hands them over.
        let mut out: Box<dyn std::io::Write> = match &a.output {
            Some(p) => {
                Box::new(std::fs::File::create(p).map_err(|e| CliError::usage(format!("{}: {e}", p.display())))?)
            }
            None => Box::new(std::io::stdout().lock()),
        };
        let mut out = std::io::BufWriter::with_capacity(1 << 16, &mut out);
        let mut text = format!("# {} release notes\n\n", s.project);
        for r in rx {
            notes_of(r).write_markdown(&mut text);
            if let Err(e) = out.write_all(text.as_bytes()) {
                // A reader that has seen enough (`| head`) is not a failure.
                return if e.kind() == std::io::ErrorKind::BrokenPipe { Ok(()) } else { Err(CliError::outside(e)) };
            }
            text.clear();
        }
        match out.flush() {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(CliError::outside(e)),
            _ => {}
        }
    } else {
        releases = rx.into_iter().map(notes_of).collect();
    }
    let ignored = walker
        .join()
        .map_err(|_| CliError::outside("the history walk stopped"))?
        .map_err(|e| CliError::usage(e.to_string()))?;
    for t in &ignored {
        anstream::eprintln!("{} tag {t} is not {}<SemVer>: ignored", paint(WAIT, "note:"), s.policy.vcs.tag_prefix);
    }
    if let Some(template) = &a.template {
        let source = shipwarden_adapters::files::read_text(template, shipwarden_adapters::files::CONFIG_LIMIT)
            .map_err(|e| CliError::usage(format!("{}: {e}", template.display())))?;
        let text = render(&source, &s.project, &releases)?;
        return write_out(&a.output, &text);
    }
    if !markdown {
        let text = serde_json::to_string_pretty(&releases).map_err(CliError::outside)?;
        return write_out(&a.output, &(text + "\n"));
    }
    Ok(())
}

/// Renders a user's minijinja template; errors name the template's line.
pub fn render(source: &str, project: &str, releases: &[ReleaseNotes]) -> Result<String, CliError> {
    let mut env = minijinja::Environment::new();
    env.add_template("notes", source).map_err(|e| CliError::usage(format!("template: {e}")))?;
    let template = env.get_template("notes").map_err(|e| CliError::usage(format!("template: {e}")))?;
    template
        .render(minijinja::context! { project => project, releases => releases })
        .map_err(|e| CliError::usage(format!("template: {e}")))
}

/// `changes check`.
pub fn check(config: &Path, from: Option<String>, json: bool) -> Result<(), CliError> {
    let s = setup(config)?;
    let (last, changes) = since_last_release(&s, from)?;
    let since = last.as_ref().map_or("the first commit".to_owned(), |(t, _)| t.clone());
    changes::check_tracked(&changes, &s.policy.vcs, &since).map_err(CliError::Refused)?;
    {
        if json {
            output::json(&serde_json::json!({ "ok": true, "since": since, "commits": changes.len() }));
        } else {
            println!("{} {} commits since {since}, all with ticket keys (R-4a)", paint(GOOD, "✓"), changes.len());
        }
    }
    Ok(())
}

/// `version next`.
pub fn next(config: &Path, verb: &VersionVerb, json: bool) -> Result<(), CliError> {
    let VersionVerb::Next { kind, pre, set, reason } = verb;
    let s = setup(config)?;
    let kind: ReleaseKind = kind.parse()?;
    let (last, changes) = since_last_release(&s, None)?;
    let computed = changes::next_version(last.as_ref().map(|(_, v)| v), kind, &changes, pre.as_deref())?;
    let (version, why) = match set {
        Some(v) => {
            let v: Version = v.parse()?;
            changes::check_newer(&v, last.as_ref().map(|(tag, lv)| (lv, tag.as_str()))).map_err(CliError::Refused)?;
            (v, format!("set by hand: {} (computed {})", reason.clone().unwrap_or_default(), computed.version))
        }
        None => (computed.version.clone(), computed.reason.clone()),
    };
    let after = last.as_ref().map_or("no release yet".to_owned(), |(t, _)| format!("after {t}"));
    if json {
        output::json(&serde_json::json!({
            "version": version, "bump": computed.bump, "reason": why, "last": last.map(|(t, _)| t), "commits": changes.len()
        }));
    } else {
        println!("{}", paint(BOLD, &version));
        println!("{}", paint(DIM, format!("{after}; {} commits; {why}", changes.len())));
    }
    Ok(())
}
