//! The engine's futures stay small, so a binding's runtime threads (2 MiB of
//! stack) can drive a release: large parts are boxed where they nest.

use std::sync::Arc;

use shipwarden::engine::ReleaseManager;
use shipwarden::ports::memory::MemoryStore;

#[test]
fn the_engines_futures_fit_a_worker_threads_stack_r10b() {
    let manager = ReleaseManager::builder(Arc::new(MemoryStore::new())).build();
    let id: shipwarden::ReleaseId = "shop-1.0.0".parse().expect("id");
    let env: shipwarden::EnvName = "prod".parse().expect("env");
    let run = manager.run(&id, None);
    let deploy = manager.deploy(&id, &env);
    let verify = manager.verify(&id);
    let sizes = [std::mem::size_of_val(&run), std::mem::size_of_val(&deploy), std::mem::size_of_val(&verify)];
    println!("run {} B, deploy {} B, verify {} B", sizes[0], sizes[1], sizes[2]);
    assert!(sizes.iter().all(|s| *s < 64 * 1024), "{sizes:?}");
}
