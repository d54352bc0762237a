//! What people read: stages and checks in colour (when the terminal takes
//! it; `NO_COLOR` is honoured), a spinner with elapsed time on long steps,
//! and JSON for scripts.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::{Duration, Instant};

use anstream::{eprintln, println};
use anstyle::{AnsiColor, Style};
use shipwarden::audit::Envelope;
use shipwarden::engine::{ReleaseManager, ReleaseStatus, RunOutcome};
use shipwarden::machine::{Event, ReleaseState, StepOutcome};
use shipwarden::ports::LeaseInfo;
use shipwarden::{Refusal, ReleaseId};

use crate::CliError;

/// Bold.
pub const BOLD: Style = Style::new().bold();
/// Passed, done.
pub const GOOD: Style = AnsiColor::Green.on_default();
/// Refused, failed.
pub const BAD: Style = AnsiColor::Red.on_default().bold();
/// Waiting, warnings.
pub const WAIT: Style = AnsiColor::Yellow.on_default();
/// Stages.
pub const STAGE: Style = AnsiColor::Cyan.on_default().bold();
/// Details.
pub const DIM: Style = Style::new().dimmed();

/// `text` in `style`.
pub fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}

/// Prints a value as JSON.
pub fn json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("error: {e}"),
    }
}

/// Prints a refusal: the rule, the stage, and every unmet requirement.
///
/// Text from outside (commit subjects in R-4a refusals) is printed through [`shown`]: escapes and bidi
/// overrides are written visibly, never passed to the terminal.
pub fn refusal(r: &Refusal) {
    let stage = r.stage.as_ref().map(|s| format!(" in {}", paint(STAGE, s))).unwrap_or_default();
    println!("{} {} by {}{stage}", paint(BAD, "✗ refused:"), shown(&r.attempted), paint(BOLD, r.rule));
    for u in &r.unmet {
        println!("  {} {}: {}", paint(BAD, "•"), paint(BOLD, u.rule), shown(&u.requirement.to_string()));
    }
}

/// Text from commits, tickets or reports as it may reach a terminal (issue #18).
pub use shipwarden::notes::shown;

/// Prints an error the way the mode asks.
pub fn error(e: &CliError, as_json: bool) {
    if as_json {
        let (kind, code) = (e.kind(), e.code());
        let value = match e {
            CliError::Refused(r) => serde_json::json!({ "error": kind, "code": code, "refusal": r }),
            CliError::Problems(p) => serde_json::json!({
                "error": kind, "code": code,
                "problems": p.iter().map(|p| serde_json::json!({"path": p.path, "message": p.message})).collect::<Vec<_>>()
            }),
            CliError::Usage(m)
            | CliError::Conflict(m)
            | CliError::Outside(m)
            | CliError::Failed(m)
            | CliError::Integrity(m) => serde_json::json!({ "error": kind, "code": code, "message": m }),
        };
        json(&value);
        return;
    }
    match e {
        CliError::Refused(r) => refusal(r),
        CliError::Problems(problems) => {
            eprintln!(
                "{} {} problem{}:",
                paint(BAD, "error:"),
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            );
            for p in problems {
                eprintln!("  {} {}: {}", paint(BAD, "•"), paint(BOLD, &p.path), p.message);
            }
        }
        CliError::Usage(m) => eprintln!("{} {}", paint(BAD, "error:"), shown(m)),
        CliError::Conflict(m) => eprintln!("{} {}", paint(BAD, "conflict:"), shown(m)),
        CliError::Outside(m) | CliError::Failed(m) => eprintln!("{} {}", paint(BAD, "failed:"), shown(m)),
        CliError::Integrity(m) => eprintln!("{} {}", paint(BAD, "integrity failure:"), shown(m)),
    }
}

/// A step's key read out (`deploy:prod:prod-1#1/2` is `deploy prod-1 on prod
/// (deployment 1, attempt 2)`), for steps whose start this process did not see.
pub fn readable_key(key: &str) -> String {
    let (base, attempt) = match key.rsplit_once('/') {
        Some((b, a)) if a.parse::<u32>().is_ok() => (b, Some(a)),
        _ => (key, None),
    };
    let (path, run) = match base.rsplit_once('#') {
        Some((p, n)) => (p, Some(n)),
        None => (base, None),
    };
    let parts: Vec<&str> = path.split(':').collect();
    let what = match parts.as_slice() {
        [step @ ("deploy" | "rollback"), env, target] => format!("{step} {target} on {env}"),
        ["tag", tag @ ..] => format!("tag {}", tag.join(":")),
        [one] => (*one).to_owned(),
        [rest @ .., env] => format!("{} on {env}", rest.join(" ")),
        [] => key.to_owned(),
    };
    let mut notes = Vec::new();
    if let Some(n) = run {
        let deployment = matches!(parts.first(), Some(&("deploy" | "rollback")));
        notes.push(if deployment { format!("deployment {n}") } else { format!("run {n}") });
    }
    notes.push(format!("attempt {}", attempt.unwrap_or("1")));
    format!("{what} ({})", notes.join(", "))
}

/// A step's name for people: its kind, target and environment, and its attempt.
pub fn step_name(s: &shipwarden::machine::StepRecord) -> String {
    let mut what = s.step.to_string();
    if let Some(t) = &s.target {
        what.push_str(&format!(" {t}"));
    }
    if let Some(e) = &s.environment {
        what.push_str(&format!(" on {e}"));
    }
    let attempt = s.key.rsplit_once('/').and_then(|(_, a)| a.parse::<u32>().ok()).unwrap_or(1);
    format!("{what} (attempt {attempt})")
}

/// One line for an event, or none for events that need no line.
pub fn event_line(event: &Event, steps: &mut HashMap<String, (String, Instant)>) -> Option<String> {
    Some(match event {
        Event::Planned { plan, stage, proof, .. } => format!(
            "{} {} {} ({}) in {}{}",
            paint(GOOD, "✓"),
            plan.project,
            plan.version,
            plan.kind,
            paint(STAGE, stage),
            proof.as_ref().map(|p| format!(" [{p}]")).unwrap_or_default()
        ),
        Event::Approved(a) => format!(
            "{} {} approved by {} as {} via {}{}",
            paint(GOOD, "✓"),
            paint(BOLD, &a.approval),
            a.user,
            a.role,
            a.channel,
            a.proof.as_ref().map(|p| format!(" [{p}]")).unwrap_or_default()
        ),
        Event::Rejected(a) => format!(
            "{} {} rejected by {} as {} via {}{}: {}",
            paint(BAD, "✗"),
            paint(BOLD, &a.approval),
            a.user,
            a.role,
            a.channel,
            a.proof.as_ref().map(|p| format!(" [{p}]")).unwrap_or_default(),
            shown(&a.comment)
        ),
        Event::EvidenceRecorded(g) => {
            let place = match (&g.environment, &g.target) {
                (Some(e), Some(t)) => format!(" [{e}/{t}]"),
                (Some(e), None) => format!(" [{e}]"),
                _ => String::new(),
            };
            let mark = if g.passed { paint(GOOD, "✓") } else { paint(BAD, "✗") };
            format!(
                "{mark} gate {}{place} {} (required {})  {}",
                paint(BOLD, &g.gate),
                g.measured,
                g.threshold.describe(g.measured.unit),
                paint(DIM, &g.source)
            )
        }
        Event::ArtifactRecorded(a) => {
            format!("{} artifact {} {} sha256:{}", paint(GOOD, "✓"), a.name, a.version, &a.sha256.as_str()[..12])
        }
        Event::Advanced { to, rule, .. } => {
            format!("{} {} {}", paint(STAGE, "→"), paint(STAGE, to), paint(DIM, format!("({rule})")))
        }
        Event::Scheduled(b) => format!("{} booked {} {} – {}", paint(GOOD, "✓"), b.environment, b.start, b.end),
        Event::WindowOverridden(o) => format!(
            "{} window overridden by {}: {}{}",
            paint(WAIT, "!"),
            o.user,
            shown(&o.reason),
            o.proof.as_ref().map(|p| format!(" [{p}]")).unwrap_or_default()
        ),
        Event::StepStarted { key, step, environment, target, .. } => {
            let mut what = step.to_string();
            if let Some(e) = environment {
                what.push_str(&format!(" {e}"));
            }
            if let Some(t) = target {
                what.push_str(&format!(" {t}"));
            }
            steps.insert(key.clone(), (what, Instant::now()));
            return None;
        }
        Event::StepFinished { key, outcome, .. } => {
            // A step this process did not see start (resumed after a crash, or run by another driver).
            let took = match steps.remove(key) {
                Some((what, started)) => (what, paint(DIM, format!("{:.1}s", started.elapsed().as_secs_f64()))),
                None => (readable_key(key), paint(DIM, "resumed")),
            };
            let (what, took) = took;
            match outcome {
                StepOutcome::Succeeded { detail, .. } => {
                    format!("{} {} {took}  {}", paint(GOOD, "✓"), paint(BOLD, what), paint(DIM, shown(detail)))
                }
                StepOutcome::Failed { error, .. } => {
                    format!("{} {} {took}  {}", paint(BAD, "✗"), paint(BOLD, what), shown(error))
                }
            }
        }
        Event::StepInDoubt { key, detail, .. } => {
            format!("{} {} in doubt: {}", paint(WAIT, "?"), paint(BOLD, readable_key(key)), shown(detail))
        }
        Event::RollbackStarted { reason, proof, .. } => format!(
            "{} rolling back: {}{}",
            paint(BAD, "↺"),
            shown(reason),
            proof.as_ref().map(|p| format!(" [{p}]")).unwrap_or_default()
        ),
        Event::RollbackFinished { succeeded, detail, to, .. } => {
            let mark = if *succeeded { paint(GOOD, "✓") } else { paint(BAD, "✗") };
            let to = to.as_ref().map(|s| format!(" → {}", paint(STAGE, s))).unwrap_or_default();
            format!("{mark} rollback finished{to}: {}", shown(detail))
        }
        Event::Cancelled { reason, to, .. } => {
            format!("{} cancelled → {}: {}", paint(WAIT, "✗"), paint(STAGE, to), shown(reason))
        }
        Event::Closed { summary, to, .. } => {
            format!("{} {} {}", paint(GOOD, "✓"), paint(STAGE, to), paint(DIM, shown(summary)))
        }
        _ => return None,
    })
}

/// Shows what the manager does while `work` runs: a line per finished step,
/// stage and gate, and a spinner with the running step and elapsed time.
pub async fn watch<T>(
    manager: &ReleaseManager,
    release: &ReleaseId,
    quiet: bool,
    work: impl std::future::Future<Output = T>,
) -> T {
    if quiet {
        return work.await;
    }
    let mut events = manager.subscribe();
    let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let release_name = release.clone();
    let release = release.clone();
    let printer = {
        let bar = bar.clone();
        tokio::spawn(async move {
            let mut steps = HashMap::new();
            while let Ok(envelope) = events.recv().await {
                let envelope: Envelope = envelope;
                if envelope.stream != release.as_str() {
                    continue;
                }
                if let Event::StepStarted { step, environment, target, .. } = &envelope.event {
                    let place = [environment.as_ref().map(ToString::to_string), target.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>();
                    bar.set_message(format!("{step} {}", place.join(" ")));
                    bar.reset_elapsed();
                }
                if let Some(line) = event_line(&envelope.event, &mut steps) {
                    bar.suspend(|| println!("  {line}"));
                }
            }
        })
    };
    // The release's lease, and every environment's (a deployment waits on the one it deploys to).
    let leases: Vec<String> = std::iter::once(format!("release:{release_name}"))
        .chain(manager.policy().environments.iter().map(|e| format!("env:{}", e.name)))
        .collect();
    let out = tokio::select! {
        out = work => out,
        never = lease_waits(manager, &leases, &bar) => match never {},
    };
    // Let the printer catch up with the last events before it stops.
    tokio::time::sleep(Duration::from_millis(20)).await;
    printer.abort();
    bar.finish_and_clear();
    out
}

/// Tells who holds a lease this command waits on (R-6e): a line on standard
/// error when a holder is first seen, and the spinner's message while it holds.
async fn lease_waits(manager: &ReleaseManager, names: &[String], bar: &indicatif::ProgressBar) -> Infallible {
    let mine = format!("{}-", manager.driver());
    let mut told: HashMap<&str, String> = HashMap::new();
    tokio::time::sleep(Duration::from_millis(300)).await;
    loop {
        for name in names {
            let now = jiff::Timestamp::now();
            // A store that cannot say is no reason to stop the work: say nothing.
            let held = manager.lease(name).await.ok().flatten();
            match held.filter(|l| !l.holder.starts_with(&mine) && l.expires_at > now) {
                Some(l) => {
                    let line = lease_line(name, &l, now);
                    if told.get(name.as_str()) != Some(&l.holder) {
                        bar.suspend(|| eprintln!("{} {line}", paint(WAIT, "…")));
                        told.insert(name, l.holder.clone());
                    }
                    bar.set_message(line);
                }
                None => {
                    if told.remove(name.as_str()).is_some() {
                        bar.set_message(format!("{name} is free"));
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// `waiting for `release:shop-1.4.0`: held by build-7:4242-9f3a1c2e-0 since 2026-12-02 07:20:01 UTC (12s)`.
pub fn lease_line(name: &str, lease: &LeaseInfo, now: jiff::Timestamp) -> String {
    let since = match lease.since {
        Some(t) => {
            format!(" since {} ({}s)", t.strftime("%Y-%m-%d %H:%M:%S UTC"), now.duration_since(t).as_secs().max(0))
        }
        None => format!(" (its lease runs until {})", lease.expires_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
    };
    format!("waiting for `{name}`: held by {}{since}", lease.holder)
}

/// Prints where a run stopped.
pub fn outcome(o: &RunOutcome) {
    match o {
        RunOutcome::Reached { stage } => println!("{} reached {}", paint(GOOD, "✓"), paint(STAGE, stage)),
        RunOutcome::Final { stage } => println!("{} {} (final)", paint(GOOD, "✓"), paint(STAGE, stage)),
        RunOutcome::RolledBack { reason, error } => {
            println!("{} rolled back: {reason}", paint(BAD, "↺"));
            if let Some(e) = error {
                println!("  {} {} {}: {}", paint(BAD, "•"), paint(BOLD, &e.port), e.operation, e.cause);
            }
        }
        RunOutcome::Failed(f) => {
            println!("{} failed in {}: {}", paint(BAD, "✗"), paint(STAGE, &f.waiting.stage), f.error);
            for u in &f.waiting.refusal.unmet {
                println!("  {} {}: {}", paint(WAIT, "•"), paint(BOLD, u.rule), u.requirement);
            }
        }
        RunOutcome::Waiting(w) => {
            println!("{} waiting in {} for:", paint(WAIT, "…"), paint(STAGE, &w.stage));
            for u in &w.refusal.unmet {
                println!("  {} {}: {}", paint(WAIT, "•"), paint(BOLD, u.rule), u.requirement);
            }
        }
    }
}

/// Prints a release's status.
pub fn status(s: &ReleaseStatus, duties: &[shipwarden::duties::Duty], now: jiff::Timestamp) {
    let st: &ReleaseState = &s.state;
    if let Some(plan) = &st.plan {
        println!(
            "{} {} {} ({}){}",
            paint(BOLD, &plan.release),
            plan.project,
            plan.version,
            plan.kind,
            st.stage.as_ref().map(|x| format!(" in {}", paint(STAGE, x))).unwrap_or_default()
        );
        if !plan.scope.is_empty() {
            println!("  scope: {}", plan.scope.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "));
        }
        if let Some(h) = &plan.hotfix {
            println!("  hotfix {}: {} ({})", h.ticket, h.summary, h.justification);
        }
    }
    println!("  path: {}", st.path.iter().map(ToString::to_string).collect::<Vec<_>>().join(" → "));
    for a in &st.approvals {
        println!(
            "  {} {} by {} ({}) {}",
            paint(GOOD, "✓"),
            a.approval,
            a.user,
            a.role,
            paint(DIM, a.at.strftime("%Y-%m-%d %H:%M:%S"))
        );
    }
    for a in &st.rejections {
        println!(
            "  {} {} rejected by {} ({}) {}: {}",
            paint(BAD, "✗"),
            a.approval,
            a.user,
            a.role,
            paint(DIM, a.at.strftime("%Y-%m-%d %H:%M:%S")),
            shown(&a.comment)
        );
    }
    let mut seen = std::collections::BTreeMap::new();
    for g in &st.gate_results {
        seen.insert((g.gate.to_string(), g.environment.clone(), g.target.clone()), g);
    }
    for g in seen.values() {
        let mark = if g.passed { paint(GOOD, "✓") } else { paint(BAD, "✗") };
        let place = g.environment.as_ref().map(|e| format!(" [{e}]")).unwrap_or_default();
        println!("  {mark} gate {}{place} {} (required {})", g.gate, g.measured, g.threshold.describe(g.measured.unit));
    }
    for a in &st.artifacts {
        println!("  artifact {} {} sha256:{}", a.name, a.version, &a.sha256.as_str()[..12]);
    }
    if let Some(r) = &st.rollback_reason {
        println!("  {} rollback: {r}", paint(BAD, "↺"));
    }
    for f in &st.findings {
        println!("  {} finding {}: {}", paint(BAD, "!"), paint(BOLD, f.rule), f.detail);
    }
    for d in duties {
        let when = if d.due_at <= now { "due now".to_owned() } else { format!("due {}", d.due_at) };
        println!("  {} duty [{}] {}: {}", paint(WAIT, "◷"), d.rule, when, d.subject);
    }
    for (to, refusal) in &s.next {
        match refusal {
            None => println!("  {} {} is open", paint(GOOD, "→"), paint(STAGE, to)),
            Some(r) => {
                println!("  {} {} needs:", paint(WAIT, "→"), paint(STAGE, to));
                for u in &r.unmet {
                    println!(
                        "      {} {}: {}",
                        paint(WAIT, "•"),
                        paint(BOLD, u.rule),
                        shown(&u.requirement.to_string())
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::readable_key;

    #[test]
    fn resumed_steps_keys_read_as_words_r9d() {
        assert_eq!(readable_key("deploy:prod:prod-1#1"), "deploy prod-1 on prod (deployment 1, attempt 1)");
        assert_eq!(readable_key("deploy:prod:prod-1#2/3"), "deploy prod-1 on prod (deployment 2, attempt 3)");
        assert_eq!(readable_key("deploy:staging#1"), "deploy on staging (deployment 1, attempt 1)");
        assert_eq!(readable_key("monitor:verify:prod#1"), "monitor verify on prod (run 1, attempt 1)");
        assert_eq!(readable_key("build#2/2"), "build (run 2, attempt 2)");
        assert_eq!(readable_key("tag:v1.4.0"), "tag v1.4.0 (attempt 1)");
    }
}
