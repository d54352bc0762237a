//! The release model: parsing with clear errors, and serde round
//! trips in JSON and TOML for every type.

mod common;

use common::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use shipwarden::policy::Policy;
use shipwarden::*;

fn json_round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) {
    let text = serde_json::to_string(value).expect("to json");
    assert_eq!(&serde_json::from_str::<T>(&text).expect("from json"), value, "{text}");
}

fn toml_round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) {
    let text = toml::to_string(value).expect("to toml");
    assert_eq!(&toml::from_str::<T>(&text).expect("from toml"), value, "{text}");
}

#[test]
fn ticket_keys_follow_the_procedures_two_formats_r4a() {
    assert_eq!(
        "JIRA-456".parse::<TicketKey>().expect("jira"),
        TicketKey::Project { project: "JIRA".into(), number: 456 }
    );
    assert_eq!("#123".parse::<TicketKey>().expect("issue"), TicketKey::Issue(123));
    assert_eq!("PAY2-9".parse::<TicketKey>().expect("digits").project(), Some("PAY2"));
    for bad in ["A-1", "abc-1", "JIRA-", "JIRA-4x", "#", "#12a", "JIRA456", "-1", "", "JIRA-99999999999999999999999"] {
        let err = bad.parse::<TicketKey>().expect_err(bad);
        assert_eq!(err.what, "ticket key");
        assert!(err.to_string().starts_with(&format!("invalid ticket key `{bad}`:")), "{err}");
    }
    let err = "JIRA-99999999999999999999999".parse::<TicketKey>().expect_err("overflow");
    assert!(err.to_string().contains("too large"), "{err}");
}

#[test]
fn versions_are_strict_semver_with_clear_errors_r1a_r4c() {
    assert!(Version::new(1, 2, 3) < "1.10.0".parse().expect("v"));
    assert!("2.0.0-rc.1".parse::<Version>().expect("pre") < Version::new(2, 0, 0));
    let err = "1.2".parse::<Version>().expect_err("short");
    assert!(
        err.to_string().starts_with("invalid version `1.2`: expected SemVer MAJOR.MINOR.PATCH like `1.2.3`"),
        "{err}"
    );
    assert_eq!(Version::from_tag("v1.2.3", "v").expect("tag"), Version::new(1, 2, 3));
    assert!(Version::from_tag("1.2.3", "v").expect_err("no prefix").to_string().contains("like `v1.2.3`"));
    assert!(Version::from_tag("v1.2", "v").is_err(), "a tag that is not valid SemVer is refused (R-4c)");
    assert_eq!(Version::new(1, 2, 3).tag("api-v"), "api-v1.2.3");
}

#[test]
fn names_errors_say_what_a_name_looks_like() {
    assert_eq!("qa_lead".parse::<Role>().expect("role"), Role::QaLead);
    assert_eq!("sre".parse::<Role>().expect("custom"), Role::Custom("sre".into()));
    let err = "QA Lead".parse::<Role>().expect_err("spaces");
    assert!(err.to_string().contains("expected a lowercase name like `qa_lead`"), "{err}");
    assert!("Prod".parse::<EnvName>().is_err());
    assert!("prod-eu".parse::<EnvName>().is_ok());
    assert!("email".parse::<Channel>().is_ok());
    assert!(
        "slack".parse::<Channel>().expect_err("chat").to_string().contains("ticket_comment, email, chat, cli, api")
    );
    assert!("hotfix".parse::<ReleaseKind>().expect_err("kind").to_string().contains("major, minor, patch, emergency"));
    assert!("shop 1.0".parse::<ReleaseId>().is_err());
    let digest = Sha256::of(b"artifact");
    assert_eq!(format!("sha256:{digest}").parse::<Sha256>().expect("prefixed"), digest);
    assert!("ABC".parse::<Sha256>().is_err());
}

#[test]
fn measures_print_in_their_units() {
    assert_eq!(Measure::new(0.905, Unit::Ratio).to_string(), "90.5 %");
    assert_eq!(Measure::new(199.6, Unit::Millis).to_string(), "200 ms");
    assert_eq!(Measure::new(1.0, Unit::Flag).to_string(), "yes");
    assert_eq!(Threshold::Below(200.0).describe(Unit::Millis), "< 200 ms");
    assert!(!Threshold::AtLeast(0.9).passes(f64::NAN), "NaN never passes");
}

#[test]
fn every_model_type_round_trips_through_json_and_toml() {
    let mut plan = plan(ReleaseKind::Emergency);
    plan.target_date = Some("2026-12-06".parse().expect("date"));
    plan.dependencies = vec![Dependency { name: "payments-gateway".into(), version: ">=2.4, <3".into() }];
    json_round_trip(&plan);
    toml_round_trip(&plan);
    let actor = Actor::new("rita", [Role::ReleaseManager, Role::Custom("sre".into())]);
    json_round_trip(&actor);
    toml_round_trip(&actor);
    let artifact = ArtifactRef::new("shop.jar", Version::new(1, 4, 0), Sha256::of(b"jar"), 1024);
    json_round_trip(&artifact);
    toml_round_trip(&artifact);
    json_round_trip(&EscalationContact {
        name: "Rita R".into(),
        email: "rita@example.com".into(),
        role: Role::ReleaseManager,
        phone: Some("+49 30 1234".into()),
    });
    for stage in Stage::BUILT_IN {
        json_round_trip(stage);
    }
    for kind in ReleaseKind::ALL {
        json_round_trip(&kind);
    }
    for channel in Channel::ALL {
        json_round_trip(&channel);
    }
    json_round_trip(&Policy::default());
}

#[test]
fn refusals_and_commands_round_trip_so_bindings_and_uis_can_carry_them() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::ScopeApproved });
    json_round_trip(&refusal);
    let command = Command::new(
        &po(),
        Action::Approve {
            approval: ApprovalId::Scope,
            role: Role::ProductOwner,
            channel: Channel::Cli,
            comment: "ok".into(),
        },
    );
    json_round_trip(&command);
    let json = serde_json::to_value(&refusal).expect("json");
    assert_eq!(json["rule"], "R-2b");
    assert_eq!(json["unmet"][0]["requirement"], "approval");
    assert_eq!(json["unmet"][0]["approval"], "scope");
}

#[test]
fn release_ids_that_would_hide_or_escape_their_files_are_refused_r1a_r9d() {
    // Issue #18: `.shop-1.0.0` planned fine and closed without its evidence bundle.
    for bad in [".shop-1.0.0", "-shop", "_x", "+x", "shop..1", "..", "a/b", "a\\b", "a\u{7}b", ""] {
        let err = bad.parse::<ReleaseId>().expect_err(bad);
        assert!(err.to_string().contains("starting with a letter or digit"), "{err}");
    }
    for good in ["shop-1.0.0", "0day-2.0.0+build.5", "Shop_1.4.0-rc.1"] {
        assert_eq!(good.parse::<ReleaseId>().expect(good).as_str(), good);
    }
}
