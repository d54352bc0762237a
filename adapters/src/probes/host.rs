//! The host's own health (R-8a "check server CPU, memory and disk"): CPU
//! and memory use in percent, and free space on the disk holding a path.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use shipwarden::ports::{ErrorKind, Measurement, PortError, Probe};
use shipwarden::{EnvName, GateId};
use sysinfo::{CpuRefreshKind, Disks, MemoryRefreshKind, RefreshKind, System};

/// Measures the machine it runs on: the `cpu`, `memory` and `disk_free` gates.
#[derive(Debug, Clone)]
pub struct HostProbe {
    name: String,
    disk_path: PathBuf,
    target: Option<String>,
}

impl Default for HostProbe {
    fn default() -> Self {
        Self::new()
    }
}

/// The disk whose mount point is the longest prefix of `path`.
fn disk_for(disks: &Disks, path: &Path) -> Option<(f64, String)> {
    disks
        .iter()
        .filter(|d| path.starts_with(d.mount_point()) && d.total_space() > 0)
        .max_by_key(|d| d.mount_point().as_os_str().len())
        .map(|d| {
            let free = d.available_space() as f64 / d.total_space() as f64 * 100.0;
            (free, d.mount_point().display().to_string())
        })
}

impl HostProbe {
    /// A probe of this host; free disk space is measured where the current folder is.
    pub fn new() -> Self {
        Self { name: "host".into(), disk_path: PathBuf::from("."), target: None }
    }

    /// Measures free space on the disk that holds `path` (the data folder).
    pub fn with_disk(mut self, path: impl Into<PathBuf>) -> Self {
        self.disk_path = path.into();
        self
    }

    /// The target the measurements are for.
    pub fn for_target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    fn measure(&self) -> Result<Vec<Measurement>, PortError> {
        let unavailable =
            |e: sysinfo::Error| PortError::new("probe host", "check", ErrorKind::Unavailable, e.to_string());
        let mut system = System::new_with_specifics(
            RefreshKind::nothing()
                .with_cpu(CpuRefreshKind::nothing().with_usage())
                .with_memory(MemoryRefreshKind::nothing().with_ram()),
        )
        .map_err(unavailable)?;
        // CPU use is the change between two samples.
        std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL.max(std::time::Duration::from_millis(250)));
        system.refresh_cpu_usage();
        let cpu = f64::from(system.global_cpu_usage());
        let total = system.total_memory();
        if total == 0 {
            return Err(PortError::new("probe host", "check", ErrorKind::Unavailable, "memory size unknown"));
        }
        let memory = system.used_memory() as f64 / total as f64 * 100.0;
        let path = std::fs::canonicalize(&self.disk_path).unwrap_or_else(|_| self.disk_path.clone());
        let disks = Disks::new_with_refreshed_list().map_err(unavailable)?;
        let (free, mount) = disk_for(&disks, &path).ok_or_else(|| {
            PortError::new("probe host", "check", ErrorKind::NotFound, format!("no disk holds {}", path.display()))
        })?;
        let m = |gate: GateId, value: f64, source: String| Measurement {
            gate,
            value: (value * 10.0).round() / 10.0,
            target: self.target.clone(),
            source,
        };
        Ok(vec![
            m(GateId::Cpu, cpu, format!("host: CPU {cpu:.1} % over {} cores", system.cpus().len())),
            m(GateId::Memory, memory, format!("host: memory {memory:.1} % of {} MiB used", total / (1024 * 1024))),
            m(GateId::DiskFree, free, format!("host: {free:.1} % free on {mount}")),
        ])
    }
}

#[async_trait]
impl Probe for HostProbe {
    fn name(&self) -> &str {
        &self.name
    }

    async fn check(&self, _environment: &EnvName) -> Result<Vec<Measurement>, PortError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.measure())
            .await
            .map_err(|e| PortError::new("probe host", "check", ErrorKind::Other, e.to_string()))?
    }
}
