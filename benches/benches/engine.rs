//! criterion benches: a full release through the in-memory store, and one
//! durable append through the engine beside a raw sqlx insert on SQLite.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shipwarden::ports::memory::MemoryStore;
use shipwarden::*;

fn lifecycle(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let manager = shipwarden_benches::memory_manager(Arc::new(MemoryStore::new()), dir.path());
    let n = AtomicU64::new(0);
    let events = rt.block_on(shipwarden_benches::full_release(&manager, "warmup")) as u64;
    let mut group = c.benchmark_group("lifecycle");
    group.throughput(Throughput::Elements(events));
    group.bench_function("full_release_in_memory", |b| {
        b.iter(|| {
            rt.block_on(shipwarden_benches::full_release(&manager, &format!("p{}", n.fetch_add(1, Ordering::Relaxed))))
        });
    });
    group.finish();
}

fn sqlite_appends(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let (manager, id) = rt.block_on(async {
        let store =
            shipwarden_adapters::store::sqlite::SqliteStore::open(dir.path().join("engine.db")).await.expect("open");
        let manager = shipwarden::engine::ReleaseManager::builder(Arc::new(store)).build();
        let plan = Plan::new("bench-1.0.0".parse().expect("id"), "bench", Version::new(1, 0, 0), ReleaseKind::Minor);
        let id = plan.release.clone();
        manager.plan(&Actor::new("rita", [Role::ReleaseManager]), plan).await.expect("plan");
        (manager, id)
    });
    let raw = rt.block_on(shipwarden_benches::raw::RawSqlite::open(&dir.path().join("raw.db")));
    let ci = Actor::new("ci", []);
    let mut group = c.benchmark_group("sqlite_durable_append");
    group.throughput(Throughput::Elements(1));
    group.bench_function("engine_record_evidence", |b| {
        b.iter(|| {
            rt.block_on(manager.record_evidence(&id, &ci, Evidence::new(GateId::Coverage, 0.91, "lcov")))
                .expect("append")
        });
    });
    let seq = AtomicU64::new(0);
    group.bench_function("raw_sqlx_insert", |b| {
        b.iter(|| rt.block_on(raw.insert(seq.fetch_add(1, Ordering::Relaxed))));
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = lifecycle, sqlite_appends
}
criterion_main!(benches);
