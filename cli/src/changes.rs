//! Verbs over the repository's history (R-4a, R-4e, R-9b): release notes for
//! a range or the whole history, the ticket-key check, the next version.
//! They read `shipwarden.toml` when there is one, and work without it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anstream::println;
use clap::{Args, Subcommand};
use shipwarden::changes::{self, Change};
use shipwarden::machine::{Requirement, Unmet};
use shipwarden::notes::{Links, ReleaseNotes};
use shipwarden::{Policy, Refusal, ReleaseKind, RuleId, Version};
use shipwarden_adapters::vcs::git::{GitRepo, History, HistoryOptions};

use crate::CliError;
use crate::config::Loaded;
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
        let l = Loaded::read(config)?;
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

fn history(s: &Setup, options: HistoryOptions) -> Result<History, CliError> {
    if !s.repo.join(".git").exists() && !s.repo.join("HEAD").exists() {
        return Err(CliError::usage(format!("{} is not a git repository", s.repo.display())));
    }
    GitRepo::new(&s.repo).history_blocking(&options).map_err(|e| CliError::usage(e.to_string()))
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
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes()).map_err(CliError::outside)
        }
    }
}

/// `notes` without a release: the history's releases, newest first.
pub fn notes(config: &Path, a: &NotesArgs) -> Result<(), CliError> {
    let mut s = setup(config)?;
    if let Some(p) = &a.tag_prefix {
        s.policy.vcs.tag_prefix = p.clone();
    }
    let h = history(
        &s,
        HistoryOptions {
            tag_prefix: s.policy.vcs.tag_prefix.clone(),
            from: a.from.clone(),
            to: a.to.clone(),
            paths: a.paths.clone(),
        },
    )?;
    for t in &h.ignored_tags {
        anstream::eprintln!("{} tag {t} is not {}<SemVer>: ignored", paint(WAIT, "note:"), s.policy.vcs.tag_prefix);
    }
    let links = Links::from_policy(&s.policy);
    let releases: Vec<ReleaseNotes> = h
        .releases
        .into_iter()
        .map(|r| {
            // Oldest first within a release reads as the story of the release.
            let parsed: Vec<Change> = r.commits.iter().rev().map(changes::parse).collect();
            let kept = changes::for_notes(parsed, &s.policy.vcs);
            ReleaseNotes::build(&s.project, r.version, r.date, &kept, Vec::new(), &links)
        })
        .collect();
    if let Some(template) = &a.template {
        let source =
            std::fs::read_to_string(template).map_err(|e| CliError::usage(format!("{}: {e}", template.display())))?;
        let text = render(&source, &s.project, &releases)?;
        return write_out(&a.output, &text);
    }
    match a.format.as_str() {
        "json" => {
            let text = serde_json::to_string_pretty(&releases).map_err(CliError::outside)?;
            write_out(&a.output, &(text + "\n"))
        }
        "md" | "markdown" => {
            let mut text = String::with_capacity(
                releases.iter().map(|r| r.sections.iter().map(|s| s.entries.len()).sum::<usize>()).sum::<usize>() * 100
                    + 64,
            );
            text.push_str(&format!("# {} release notes\n\n", s.project));
            for r in &releases {
                r.write_markdown(&mut text);
            }
            write_out(&a.output, &text)
        }
        other => Err(CliError::usage(format!("--format {other}: use md or json"))),
    }
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
    let missing = changes::untracked(&changes, &s.policy.vcs);
    let since = last.as_ref().map_or("the first commit".to_owned(), |(t, _)| t.clone());
    if missing.is_empty() {
        if json {
            output::json(&serde_json::json!({ "ok": true, "since": since, "commits": changes.len() }));
        } else {
            println!("{} {} commits since {since}, all with ticket keys (R-4a)", paint(GOOD, "✓"), changes.len());
        }
        return Ok(());
    }
    let unmet = missing
        .iter()
        .map(|c| Unmet {
            rule: RuleId::R_4A,
            requirement: Requirement::Input {
                field: c.short().to_owned(),
                problem: format!("`{}` has no ticket key", c.subject),
            },
        })
        .collect();
    Err(CliError::Refused(Refusal {
        rule: RuleId::R_4A,
        stage: None,
        attempted: format!(
            "{} of {} commits since {since} carry a ticket key",
            changes.len() - missing.len(),
            changes.len()
        ),
        unmet,
    }))
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
            if let Some((tag, lv)) = &last
                && &v <= lv
            {
                return Err(CliError::Refused(Refusal {
                    rule: RuleId::R_4C,
                    stage: None,
                    attempted: format!("set the version to {v}"),
                    unmet: vec![Unmet {
                        rule: RuleId::R_4C,
                        requirement: Requirement::VersionNotNewer {
                            version: v.to_string(),
                            last: format!("{lv} ({tag})"),
                        },
                    }],
                }));
            }
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
