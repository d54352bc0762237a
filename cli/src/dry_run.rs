//! `--dry-run`, in one place: the decision an action would meet, shown, and
//! nothing recorded; `--at TIME` decides as if it were then. Every verb's
//! dry run comes here, so that it can move to the engine's preview in one edit.

use anstream::println;
use jiff::Timestamp;
use shipwarden::machine::Action;
use shipwarden::{Actor, EnvName, ReleaseId, Stage};

use crate::CliError;
use crate::ctx::Ctx;
use crate::output::{self, STAGE, WAIT, paint};

/// When the dry run decides: `--at`, or now.
pub fn now(ctx: &Ctx) -> Timestamp {
    ctx.at.unwrap_or_else(|| ctx.manager.clock().now())
}

/// The decision `action` on `release` would meet, shown; nothing is recorded.
/// The engine decides it ([`ReleaseManager::preview`](shipwarden::engine::ReleaseManager::preview)),
/// with the same context as the real command, at `--at` or now.
pub async fn action(ctx: &Ctx, release: &ReleaseId, actor: &Actor, action: Action) -> Result<(), CliError> {
    let events = ctx.manager.preview(release, actor, action, ctx.at).await?;
    if ctx.json {
        output::json(&serde_json::json!({ "dry_run": true, "would_record": events }));
    } else {
        println!("{} would record:", paint(WAIT, "dry run:"));
        let mut steps = Default::default();
        for e in &events {
            if let Some(line) = output::event_line(e, &mut steps) {
                println!("  {line}");
            }
        }
    }
    Ok(())
}

/// `advance --dry-run`: the path the engine would take from the release's
/// stage (the policy's, R-3), and what each way forward still needs, at
/// `--at` or now.
pub async fn advance(ctx: &Ctx, release: &ReleaseId) -> Result<(), CliError> {
    let at = now(ctx);
    let status = ctx.manager.status_at(release, at).await?;
    let policy = ctx.manager.policy();
    let stage = status.state.stage.clone().unwrap_or(Stage::Planned);
    if ctx.json {
        output::json(&serde_json::json!({ "dry_run": true, "stage": stage, "next": status.next }));
        return Ok(());
    }
    println!(
        "{} from {}, the path ahead (the engine stops at the first person it needs):",
        paint(WAIT, "dry run:"),
        paint(STAGE, &stage)
    );
    let kind = status.state.plan.as_ref().map_or(shipwarden::ReleaseKind::Minor, |p| p.kind);
    for (_, t) in policy.path_ahead(&stage, kind) {
        let mut needs: Vec<String> = Vec::new();
        if !t.approvals.is_empty() {
            needs.push(format!(
                "approvals {}",
                t.approvals.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            ));
        }
        if !t.gates.is_empty() {
            needs.push(format!("gates {}", t.gates.iter().map(|g| g.gate.to_string()).collect::<Vec<_>>().join(", ")));
        }
        if !t.steps.is_empty() {
            let steps: Vec<String> = t
                .steps
                .iter()
                .map(|s| format!("{}{}", s.step, s.environment.as_ref().map(|e| format!(" {e}")).unwrap_or_default()))
                .collect();
            needs.push(format!("steps {}", steps.join(", ")));
        }
        if let Some(w) = &t.window {
            needs.push(format!("a deployment window on {w}"));
        }
        println!(
            "  → {} ({}): {}",
            paint(STAGE, &t.to),
            t.rule,
            if needs.is_empty() { "nothing".into() } else { needs.join("; ") }
        );
    }
    output::status(&status, &[], at);
    Ok(())
}

/// `deploy --dry-run`: the targets and the rollout, from the release's stage.
pub async fn deploy(ctx: &Ctx, release: &ReleaseId, env: &EnvName) -> Result<(), CliError> {
    let state = ctx.state(release).await?;
    let targets: Vec<String> = ctx
        .loaded
        .config
        .environments
        .get(env.as_str())
        .map(|e| e.targets.iter().map(|t| format!("{} ({})", t.name(), t.deploy().join(" "))).collect())
        .unwrap_or_default();
    let rollout = ctx.manager.policy().environment(env).map(|e| e.rollout).unwrap_or_default();
    if ctx.json {
        output::json(
            &serde_json::json!({ "dry_run": true, "release": release, "environment": env, "stage": state.stage, "targets": targets }),
        );
    } else {
        println!(
            "{} would deploy {release} to {env} (canary {}, then {} at a time), from {}:",
            paint(WAIT, "dry run:"),
            rollout.canary,
            rollout.concurrency,
            paint(STAGE, state.stage.as_ref().map_or("-", |s| s.as_str()))
        );
        for t in targets {
            println!("  • {t}");
        }
    }
    Ok(())
}

/// `verify --dry-run`: how many smoke tests would run.
pub async fn verify(ctx: &Ctx, release: &ReleaseId) -> Result<(), CliError> {
    let state = ctx.state(release).await?;
    let smoke: usize = ctx.loaded.config.environments.values().map(|e| e.smoke.len()).sum();
    println!(
        "{} would run {smoke} smoke tests for {release} (in {}), then release it or roll it back",
        paint(WAIT, "dry run:"),
        paint(STAGE, state.stage.as_ref().map_or("-", |s| s.as_str()))
    );
    Ok(())
}

/// A dry run of something outside the release's rules (a ticket, the notes): one line.
pub fn would(what: impl std::fmt::Display) {
    println!("{} would {what}", paint(WAIT, "dry run:"));
}
