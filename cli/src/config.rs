//! `shipwarden.toml` lives in the adapters crate (`shipwarden_adapters::config`),
//! so that the bindings open projects the same way; the CLI maps its errors.

pub use shipwarden_adapters::config::{ConfigError, Loaded, template};

use crate::CliError;

impl From<ConfigError> for CliError {
    fn from(e: ConfigError) -> Self {
        match e {
            ConfigError::Problems(p) => CliError::Problems(p),
            ConfigError::Invalid(m) => CliError::Usage(m),
            other => CliError::Outside(other.to_string()),
        }
    }
}
