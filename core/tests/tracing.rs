//! Tracing: runs, deployments and steps carry release, version, stage,
//! environment and target. In its own test binary, because tracing caches
//! per call site whether anyone listens, and tests running beside it without
//! a subscriber would make this one see nothing.

use std::sync::{Arc, Mutex};

use shipwarden::engine::ReleaseManager;
use shipwarden::ports::memory::{MemoryStore, MemoryTarget};
use shipwarden::*;

/// A writer that keeps what the subscriber prints.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn runs_deployments_and_steps_are_traced_with_their_release_and_target() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let staging: EnvName = "staging".parse().expect("env");
        let manager = ReleaseManager::builder(Arc::new(MemoryStore::new()))
            .target(staging.clone(), Arc::new(MemoryTarget::new("web-1")))
            .build();
        let plan = Plan::new("shop-1.4.0".parse().expect("id"), "shop", Version::new(1, 4, 0), ReleaseKind::Minor);
        let id = plan.release.clone();
        manager.plan(&Actor::new("rita", [Role::ReleaseManager]), plan).await.expect("plan");
        manager.run(&id, None).await.expect("run");
        assert!(manager.deploy(&id, &staging).await.expect("deploy").succeeded());
    });
    let text = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(text.contains("run{release=shop-1.4.0 version=1.4.0 stage=planned}"), "{text}");
    assert!(text.contains("deploy{release=shop-1.4.0 environment=staging}"), "{text}");
    assert!(
        text.contains(
            "step{release=shop-1.4.0 step=deploy key=deploy:staging:web-1#1 environment=staging target=web-1}"
        ),
        "{text}"
    );
}
