use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::PortError;
use crate::model::{EnvName, GateId};

/// A value a probe measured, for a gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// The gate it is evidence for (`cpu`, `tls_days_left`, `response_time`).
    pub gate: GateId,
    /// The value, in the gate's unit.
    pub value: f64,
    /// The target measured, if any.
    pub target: Option<String>,
    /// Where it was measured (a URL, a host).
    pub source: String,
}

/// Measures something about an environment: host health, HTTP latency,
/// certificate expiry, database connectivity (R-8a), smoke tests (R-8f).
#[async_trait]
pub trait Probe: Send + Sync {
    /// The probe's name (`host`, `https://shop.example.com/health`).
    fn name(&self) -> &str;

    /// Measures; an error means the probe could not measure at all, or a
    /// smoke test failed outright.
    async fn check(&self, environment: &EnvName) -> Result<Vec<Measurement>, PortError>;
}
