//! `[build]`: the build command and the artifacts it leaves (R-8b).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use shipwarden::Problem;
use shipwarden::ports::Builder;

use crate::config::adapter::{argv, duration};

/// `[build]`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BuildConfig {
    /// The build command (argv).
    pub command: Vec<String>,
    /// Artifact name -> path the build leaves it at (relative to the repository).
    pub artifacts: BTreeMap<String, String>,
    /// How long the build may take (`30m`).
    pub timeout: Option<String>,
}

impl BuildConfig {
    /// Every problem, with its path under `at`.
    pub(crate) fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        argv(&self.command, format!("{at}.command"), "give the build command as an argv", problems);
        duration(&self.timeout, &format!("{at}.timeout"), problems);
    }

    /// The builder, run in the repository.
    pub(crate) fn build(&self, repository: &Path) -> Arc<dyn Builder> {
        let mut builder = super::command::CommandBuilder::new(self.command.clone()).with_workdir(repository);
        for (name, path) in &self.artifacts {
            builder = builder.artifact(name, path);
        }
        if let Some(t) = duration(&self.timeout, "", &mut Vec::new()) {
            builder = builder.with_timeout(t);
        }
        Arc::new(builder)
    }
}
