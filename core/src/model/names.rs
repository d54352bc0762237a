//! Names that are known to the procedure but extensible by policy: stages,
//! roles, gates, approvals and step kinds.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ParseError;

/// Checks a policy-defined name: lowercase ASCII letters, digits and `_`/`-`,
/// starting with a letter, 1 to 64 characters.
pub(crate) fn check_name(what: &'static str, text: &str) -> Result<(), ParseError> {
    let mut chars = text.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if first_ok && rest_ok && text.len() <= 64 {
        Ok(())
    } else {
        Err(ParseError::new(
            what,
            text,
            "expected a lowercase name like `qa_lead` (letters, digits, `_` or `-`, starting with a letter, at most 64 characters)",
        ))
    }
}

/// Defines an enum of names the procedure knows, plus `Custom` for names a
/// team's policy adds, with `Display`, `FromStr` and string serde.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A name defined by a team's policy rather than by the procedure.
            Custom(String),
        }

        impl $name {
            /// Every name the procedure itself defines, in procedure order.
            pub const BUILT_IN: &'static [$name] = &[$( $name::$variant ),+];

            /// The name as written in policy files and events.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )+
                    $name::Custom(text) => text,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ParseError;
            fn from_str(text: &str) -> Result<Self, ParseError> {
                match text {
                    $( $text => Ok($name::$variant), )+
                    other => {
                        check_name($what, other)?;
                        Ok($name::Custom(other.to_owned()))
                    }
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = Cow::<'de, str>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

named_enum! {
    /// A stage of a release. The default lifecycle uses the built-in
    /// stages; a policy may add its own (`canary`) or leave some out.
    Stage, "stage" {
        /// The release plan exists (scope, timeline, dependencies).
        Planned => "planned",
        /// The product owner approved the scope (R-2b).
        ScopeApproved => "scope_approved",
        /// Artifacts are built, published and tagged (R-8b, R-4c).
        Built => "built",
        /// Deployed to staging for QA.
        StagingDeployed => "staging_deployed",
        /// QA verified: gates passed and the QA lead signed off (R-7, R-2b).
        QaVerified => "qa_verified",
        /// Integration testing completed.
        IntegrationTested => "integration_tested",
        /// Deployed to the test environment and demoed to stakeholders.
        TestDeployed => "test_deployed",
        /// Formal acceptance by the product owner (R-2b).
        Accepted => "accepted",
        /// Ready for production: checks, backups and window (R-8a, R-8c, R-6b).
        ProdReady => "prod_ready",
        /// The production deployment is running (R-8e).
        Deploying => "deploying",
        /// Post-deployment verification: smoke tests (R-8f).
        Verifying => "verifying",
        /// Released to production.
        Released => "released",
        /// A rollback is running (R-8g).
        RollingBack => "rolling_back",
        /// The environment is back on the previous working release (R-1d).
        RolledBack => "rolled_back",
        /// The release was cancelled before it finished.
        Cancelled => "cancelled",
        /// The release ticket is closed with logs and notes (R-9d).
        Closed => "closed",
    }
}

named_enum! {
    /// A role an actor can hold (R-2a). Policies may define more.
    Role, "role" {
        /// Plans and tracks releases, coordinates approvals.
        ReleaseManager => "release_manager",
        /// Runs deployments and checks environments.
        DeploymentEngineer => "deployment_engineer",
        /// Verifies test results and signs off QA.
        QaLead => "qa_lead",
        /// Approves scope and gives formal acceptance.
        ProductOwner => "product_owner",
        /// Approves emergency releases (with or instead of the CTO).
        TechLead => "tech_lead",
        /// Approves emergency releases.
        Cto => "cto",
    }
}

named_enum! {
    /// A gate: a measured check judged against a policy threshold (R-7, R-8a, R-8f, R-4a).
    GateId, "gate" {
        /// Unit-test coverage, as a ratio (R-7a).
        Coverage => "coverage",
        /// Open critical or high-severity bugs in scope (R-7b).
        CriticalBugs => "critical_bugs",
        /// Performance test p95 latency in milliseconds (R-7c).
        P95Latency => "p95_latency",
        /// Share of performance-test requests that failed, as a ratio (R-7c).
        ErrorRate => "error_rate",
        /// Failing and erroring test cases in the test report (R-7a).
        TestFailures => "test_failures",
        /// Documentation updated and reviewed (R-7d).
        DocsReviewed => "docs_reviewed",
        /// Commits since the last release without a ticket key (R-4a).
        UntrackedCommits => "untracked_commits",
        /// Pull requests merged since the last release with fewer approving reviewers than the policy asks (R-4d).
        UnreviewedPulls => "unreviewed_pulls",
        /// Host CPU use in percent before deploying (R-8a).
        Cpu => "cpu",
        /// Host memory use in percent before deploying (R-8a).
        Memory => "memory",
        /// Free disk space in percent before deploying (R-8a).
        DiskFree => "disk_free",
        /// Days until the TLS certificate expires (R-8a).
        TlsDaysLeft => "tls_days_left",
        /// Database reachable by a test query (R-8a).
        DbConnectivity => "db_connectivity",
        /// Network reachability of the target (R-8a).
        Network => "network",
        /// Smoke-test response time in milliseconds (R-8f).
        ResponseTime => "response_time",
        /// The release's database migrations ran in staging with the same
        /// checksums, and their rollback scripts were tested there (R-7e).
        MigrationsRehearsed => "migrations_rehearsed",
        /// External dependencies missing in production, outside the plan's
        /// constraints, or not what staging was verified with (R-7f, R-8d).
        DependencyDrift => "dependency_drift",
        /// The artifacts' version equals the git tag, and the tag exists (R-8d).
        ArtifactVersion => "artifact_version",
    }
}

named_enum! {
    /// A kind of approval the policy asks for (R-2b).
    ApprovalId, "approval" {
        /// The product owner approves the release scope.
        Scope => "scope",
        /// The QA lead signs off the tests.
        QaSignoff => "qa_signoff",
        /// The product owner's formal acceptance before production.
        Acceptance => "acceptance",
        /// A CTO or tech lead approves an emergency release (R-5a).
        Emergency => "emergency",
    }
}

named_enum! {
    /// A kind of step the engine runs through a port.
    StepKind, "step" {
        /// Run the build (R-8b).
        Build => "build",
        /// Push artifacts to the artifact store (R-8b).
        PublishArtifact => "publish_artifact",
        /// Create and push the annotated release tag (R-4c).
        Tag => "tag",
        /// Pre-deployment checks on each target (R-8a).
        PreDeployChecks => "pre_deploy_checks",
        /// Back up databases and configuration (R-8c).
        Backup => "backup",
        /// Restore a backup into a scratch place to prove it is usable (R-8c).
        RestoreTest => "restore_test",
        /// Deploy to an environment's targets (R-8e).
        Deploy => "deploy",
        /// Integration tests.
        IntegrationTests => "integration_tests",
        /// Demo to stakeholders on the test environment.
        Demo => "demo",
        /// Post-deployment smoke tests (R-8f).
        SmokeTest => "smoke_test",
        /// Send notifications (R-9a).
        Notify => "notify",
        /// Publish release notes (R-9b).
        PublishNotes => "publish_notes",
        /// Close the release ticket with logs and notes (R-9d).
        CloseTicket => "close_ticket",
        /// Redeploy the previous artifact (R-8g).
        Rollback => "rollback",
        /// Restore the database from the last backup (R-8g).
        RestoreDatabase => "restore_database",
        /// Apply the release's database migrations (R-8b, R-7e).
        Migrate => "migrate",
        /// Revert the migrations with their rollback scripts and apply them
        /// again, in a non-production environment (R-7e).
        MigrationRollbackTest => "migration_rollback_test",
        /// Read the versions of the external dependencies an environment runs (R-7f).
        CheckDependencies => "check_dependencies",
        /// Sample monitoring probes while a deployment runs and through the
        /// verification window (R-8e).
        Monitor => "monitor",
        /// Write the signed evidence bundle beside the notes (R-9d).
        EvidenceBundle => "evidence_bundle",
        /// Record what a deployment changed in the environment's settings (R-9c).
        RecordSettings => "record_settings",
    }
}

impl Stage {
    /// Prints the stage graph of `policy` as a Mermaid `stateDiagram-v2`, so a
    /// UI or README can show the lifecycle the policy actually enforces.
    pub fn graph_mermaid(policy: &crate::policy::Policy) -> String {
        policy.to_mermaid()
    }
}
