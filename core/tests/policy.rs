//! The default policy is the procedure; a team's TOML overrides any part of
//! it; validation reports every problem at once with its TOML path.

use shipwarden::policy::Policy;
use shipwarden::{GateId, Role, Threshold};

#[test]
fn the_default_policy_is_valid() {
    Policy::default().validate().expect("the procedure is a valid policy");
}

#[test]
fn the_default_policy_printed_as_toml_shows_the_procedures_numbers() {
    let text = Policy::default().to_toml();
    for needle in [
        "[gates.coverage.threshold]\nat_least = 0.9",       // R-7a coverage
        "[gates.critical_bugs.threshold]\nat_most = 0.0",   // R-7b
        "[gates.p95_latency.threshold]\nbelow = 200.0",     // R-7c
        "[gates.response_time.threshold]\nbelow = 200.0",   // R-8f
        "[gates.cpu.threshold]\nbelow = 80.0",              // R-8a CPU
        "[gates.memory.threshold]\nbelow = 70.0",           // R-8a memory
        "[gates.tls_days_left.threshold]\nat_least = 14.0", // R-8a certificate days
        "smoke_tests = \"10m\"",                            // R-8f
        "emergency_notice = \"1h\"",                        // R-5c
        "advance_notice = \"24h\"",                         // R-6d
        "ticket_prefix = \"HOTFIX\"",                       // R-5b
        "start = \"09:00:00\"",                             // R-6b
        "end = \"17:00:00\"",
        "days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]",
        "start = \"02:00:00\"", // R-6c
        "required_for = [\"major\"]",
        "min_reviewers = 1",           // R-4d
        "separation_of_duties = true", // R-2d
    ] {
        assert!(text.contains(needle), "default policy TOML lacks `{needle}`:\n{text}");
    }
}

#[test]
fn the_printed_default_policy_reads_back_to_itself() {
    let text = Policy::default().to_toml();
    assert_eq!(Policy::from_toml_str(&text).expect("round trip"), Policy::default());
    assert_eq!(Policy::from_toml_str("").expect("empty file"), Policy::default());
}

#[test]
fn a_team_file_overrides_only_what_it_names() {
    let policy = Policy::from_toml_str(
        r#"
        separation_of_duties = false
        [gates.coverage]
        threshold = { at_least = 0.8 }
        [approvals.qa_signoff]
        roles = ["qa_lead", "tech_lead"]
        count = 2
        [calendar]
        time_zone = "Europe/Berlin"
        [deadlines]
        smoke_tests = "15m"
        "#,
    )
    .expect("valid overrides");
    assert!(!policy.separation_of_duties);
    let coverage = &policy.gates[&GateId::Coverage];
    assert_eq!(coverage.threshold, Threshold::AtLeast(0.8));
    assert_eq!(coverage.rule.as_str(), "R-7a", "fields not named keep their default");
    assert_eq!(policy.approvals[&shipwarden::ApprovalId::QaSignoff].roles, vec![Role::QaLead, Role::TechLead]);
    assert_eq!(policy.deadlines.smoke_tests, jiff::SignedDuration::from_mins(15));
    assert_eq!(policy.deadlines.advance_notice, jiff::SignedDuration::from_hours(24));
    assert_eq!(policy.calendar.blackouts.len(), 1, "the blackout stays");
}

#[test]
fn validation_reports_every_problem_at_once_with_its_path() {
    let err = Policy::from_toml_str(
        r#"
        [transitions.qa_verification]
        to = "qa_verifed"
        [transitions.prod_deployment]
        enabled = false
        [approvals.scope]
        roles = ["product_owner", "chief_vibes_officer"]
        [gates.coverage]
        threshold = { at_least = 90.0 }
        [calendar]
        time_zone = "Mars/Olympus"
        [[calendar.blackouts]]
        name = "peak"
        environments = ["prod"]
        days = ["mon"]
        start = "09:00"
        end = "17:00"
        [[calendar.blackouts]]
        name = "lunch"
        environments = ["prod"]
        days = ["mon", "tue"]
        start = "12:00"
        end = "13:00"
        "#,
    )
    .expect_err("a broken policy");
    let problems: Vec<String> = err.problems.iter().map(ToString::to_string).collect();
    let expect = [
        "transitions.qa_verification.to: unknown stage `qa_verifed`",
        "approvals.scope.roles[1]: unknown role `chief_vibes_officer`",
        "gates.coverage.threshold: 90 is out of range: expected a ratio between 0 and 1",
        "calendar.time_zone: unknown IANA time zone `Mars/Olympus`",
        "calendar.blackouts[1]: window `lunch` overlaps `peak` for `prod` on Mon",
        "stages: cannot be reached from `planned`: qa_verified, integration_tested, test_deployed, accepted, deploying, verifying, released, rolling_back, rolled_back (final), closed (final)",
    ];
    for needle in expect {
        assert!(problems.iter().any(|p| p.contains(needle)), "missing `{needle}` in:\n{}", problems.join("\n"));
    }
    assert!(err.to_string().starts_with(&format!("the policy has {} problems:", err.problems.len())));
}

#[test]
fn a_released_stage_that_is_not_final_but_unreachable_is_reported() {
    let err = Policy::from_toml_str("[transitions.release]\nenabled = false\n").expect_err("released unreachable");
    assert!(err.problems.iter().any(|p| p.path == "stages" && p.message.contains("released, closed (final)")), "{err}");
}

#[test]
fn type_errors_in_several_sections_are_all_reported_with_paths() {
    let err = Policy::from_toml_str(
        r#"
        separation_of_duties = "yes"
        unknown_section = 1
        [gates.coverage]
        threshold = { at_leest = 0.9 }
        [transitions.build]
        needs_artifact = 3
        [deadlines]
        smoke_tests = "ten minutes"
        [[calendar.freezes]]
        name = "x"
        "#,
    )
    .expect_err("type errors");
    let paths: Vec<&str> = err.problems.iter().map(|p| p.path.as_str()).collect();
    for path in [
        "separation_of_duties",
        "unknown_section",
        "gates.coverage",
        "transitions.build",
        "deadlines",
        "calendar.freezes[0]",
    ] {
        assert!(paths.contains(&path), "no problem at `{path}`: {err}");
    }
    let deadline = err.problems.iter().find(|p| p.path == "deadlines").expect("deadline problem");
    assert!(deadline.message.contains("invalid duration `ten minutes`"), "{deadline}");
}

#[test]
fn a_syntax_error_is_one_problem_not_a_panic() {
    let err = Policy::from_toml_str("[gates\ncoverage = ").expect_err("syntax");
    assert_eq!(err.problems.len(), 1);
    assert_eq!(err.problems[0].path, "(syntax)");
}

#[test]
fn the_graph_prints_as_mermaid() {
    let mermaid = shipwarden::Stage::graph_mermaid(&Policy::default());
    assert!(mermaid.starts_with("stateDiagram-v2\n    [*] --> planned\n"), "{mermaid}");
    assert!(mermaid.contains("built --> prod_ready: emergency_fast_track [R-5a] (emergency)"), "{mermaid}");
    assert!(mermaid.contains("verifying --> rolling_back: rollback [R-8g]"), "{mermaid}");
    assert!(mermaid.contains("closed --> [*]"), "{mermaid}");
}

#[test]
fn a_threshold_override_replaces_the_comparison_r2_r8a() {
    let policy = Policy::from_toml_str("[gates.cpu]\nthreshold = { at_most = 95.0 }\n").expect("policy");
    let cpu = policy.gates.get(&GateId::Cpu).expect("cpu gate");
    assert_eq!(cpu.threshold, Threshold::AtMost(95.0));
    let same = Policy::from_toml_str("[gates.cpu]\nthreshold = { below = 70.0 }\n").expect("policy");
    assert_eq!(same.gates.get(&GateId::Cpu).expect("cpu gate").threshold, Threshold::Below(70.0));
}

#[test]
fn per_label_thresholds_and_monitoring_are_read_from_the_team_file_r7c_r8e() {
    let policy = Policy::from_toml_str(
        r#"
        [gates.p95_latency.targets]
        "POST /checkout" = { below = 400.0 }

        [monitoring]
        interval = "10s"
        sustained = "2m"
        verification_window = "3m"
        "#,
    )
    .expect("valid");
    let p95 = policy.gates.get(&GateId::P95Latency).expect("p95");
    assert_eq!(p95.threshold_for(Some("POST /checkout")), Threshold::Below(400.0));
    assert_eq!(p95.threshold_for(Some("GET /")), Threshold::Below(200.0));
    assert_eq!(policy.monitoring.sustained, jiff::SignedDuration::from_mins(2));
    let err = Policy::from_toml_str(
        r#"
        [gates.coverage.targets]
        "core" = { at_least = 90.0 }
        [monitoring]
        interval = "0s"
        sustained = "1m"
        verification_window = "1m"
        "#,
    )
    .expect_err("invalid");
    let text = err.to_string();
    assert!(text.contains("gates.coverage.targets.core: 90 is out of range"), "{text}");
    assert!(text.contains("monitoring.interval: the sampling interval must be positive"), "{text}");
}
