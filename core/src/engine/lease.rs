//! Who holds a lease: for people waiting on another driver (R-6e).

use super::{EngineError, ReleaseManager};
use crate::ports::LeaseInfo;

impl ReleaseManager {
    /// Who holds the lease `name` (`release:shop-1.4.0`, `env:prod`), since
    /// when; `None` when nobody does or the store cannot say.
    pub async fn lease(&self, name: &str) -> Result<Option<LeaseInfo>, EngineError> {
        Ok(self.inner.store.lease(name).await?)
    }

    /// This manager's driver id: the start of the holder of every lease it takes.
    pub fn driver(&self) -> &str {
        &self.inner.driver
    }
}

/// A driver id that says who it is: host, process, and a random part that
/// keeps two managers of one process apart (`build-7:4242-9f3a1c2e`).
pub(crate) fn driver_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{host}:{}-{:08x}", std::process::id(), fastrand::u32(..))
}
