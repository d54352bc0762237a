//! Network reachability: a TCP connection to `host:port` within a timeout
//! (R-8a "verify network connectivity").

use std::time::{Duration, Instant};

use async_trait::async_trait;
use shipwarden::ports::{Measurement, PortError, Probe};
use shipwarden::{EnvName, GateId};

/// Connects to an address and reports the `network` gate: 1 reached, 0 not.
#[derive(Debug, Clone)]
pub struct TcpProbe {
    name: String,
    address: String,
    timeout: Duration,
    target: Option<String>,
}

impl TcpProbe {
    /// A probe of `address` (`host:port`) with a 5 second timeout.
    pub fn new(address: impl Into<String>) -> Self {
        let address = address.into();
        Self { name: format!("tcp {address}"), address, timeout: Duration::from_secs(5), target: None }
    }

    /// How long a connection may take.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The target the measurement is for.
    pub fn for_target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }
}

#[async_trait]
impl Probe for TcpProbe {
    fn name(&self) -> &str {
        &self.name
    }

    async fn check(&self, _environment: &EnvName) -> Result<Vec<Measurement>, PortError> {
        let started = Instant::now();
        let outcome = tokio::time::timeout(self.timeout, tokio::net::TcpStream::connect(&self.address)).await;
        let (value, source) = match outcome {
            Ok(Ok(_)) => (1.0, format!("tcp {}: connected in {} ms", self.address, started.elapsed().as_millis())),
            Ok(Err(e)) => (0.0, format!("tcp {}: {e}", self.address)),
            Err(_) => (0.0, format!("tcp {}: no connection within {:?}", self.address, self.timeout)),
        };
        Ok(vec![Measurement { gate: GateId::Network, value, target: self.target.clone(), source }])
    }
}
