//! Drives one release to its end against a store, as a separate process:
//! `release-driver STORE_URL JOURNAL WORKDIR PROJECT [ABORT_AT]`.
//! Prints `stage=<stage> points=<n> events=<n>` when done.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [store_url, journal, workdir, project, rest @ ..] = args.as_slice() else {
        eprintln!("usage: release-driver STORE_URL JOURNAL WORKDIR PROJECT [ABORT_AT]");
        return ExitCode::from(2);
    };
    shipwarden_e2e::abort_at(rest.first().and_then(|k| k.parse().ok()).unwrap_or(0));
    let store = match shipwarden_e2e::open_store(store_url).await {
        Ok(store) => store,
        Err(e) => {
            eprintln!("cannot open the store: {e}");
            return ExitCode::from(5);
        }
    };
    let counted = std::sync::Arc::new(shipwarden_e2e::PointStore(store));
    let manager = shipwarden_e2e::manager(counted, Path::new(journal), Path::new(workdir), Duration::from_millis(400));
    match shipwarden_e2e::drive(&manager, project).await {
        Ok(stage) => {
            let events =
                manager.history(&shipwarden_e2e::release_id(project)).await.map(|h| h.len()).unwrap_or_default();
            println!("stage={stage} points={} events={events}", shipwarden_e2e::points());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("driver failed: {e}");
            ExitCode::from(1)
        }
    }
}
