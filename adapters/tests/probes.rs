//! Probes against real sockets and databases (R-8a).

use shipwarden::ports::Probe;
use shipwarden::{EnvName, GateId};
use shipwarden_adapters::probes::db::DbProbe;
use shipwarden_adapters::probes::tcp::TcpProbe;

fn prod() -> EnvName {
    "prod".parse().expect("env")
}

#[tokio::test]
async fn tcp_reachability_is_measured_not_thrown_r8a() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let open = listener.local_addr().expect("addr").to_string();
    let up = TcpProbe::new(&open).for_target("web-1").check(&prod()).await.expect("check");
    assert_eq!((up[0].gate.clone(), up[0].value, up[0].target.as_deref()), (GateId::Network, 1.0, Some("web-1")));
    drop(listener);
    let down = TcpProbe::new(&open).check(&prod()).await.expect("a refused connection is a measurement");
    assert_eq!(down[0].value, 0.0);
    assert!(down[0].source.contains("refused"), "{}", down[0].source);
}

#[tokio::test]
async fn sqlite_connectivity_by_a_test_query_r8a() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("app.db");
    shipwarden_adapters::store::sqlite::SqliteStore::open(&path).await.expect("create a database");
    let ok = DbProbe::new("app", format!("sqlite:{}", path.display())).check(&prod()).await.expect("check");
    assert_eq!((ok[0].gate.clone(), ok[0].value), (GateId::DbConnectivity, 1.0));
    let bad_query = DbProbe::new("app", format!("sqlite:{}", path.display()))
        .with_query("SELECT * FROM missing")
        .check(&prod())
        .await
        .expect("check");
    assert_eq!(bad_query[0].value, 0.0);
    let missing = DbProbe::new("app", format!("sqlite:{}", dir.path().join("none.db").display()))
        .check(&prod())
        .await
        .expect("check");
    assert_eq!(missing[0].value, 0.0);
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_connectivity_and_no_password_in_the_evidence_r8a() {
    let url = match std::env::var("SHIPWARDEN_TEST_POSTGRES_URL") {
        Ok(url) => url,
        Err(_) if std::env::var_os("SHIPWARDEN_REQUIRE_POSTGRES").is_some() => {
            panic!("SHIPWARDEN_TEST_POSTGRES_URL is required")
        }
        Err(_) => return,
    };
    let ok = DbProbe::new("orders", &url).check(&prod()).await.expect("check");
    assert_eq!(ok[0].value, 1.0, "{}", ok[0].source);
    let secret_url = url
        .replacen("postgres://postgres@", "postgres://postgres:hunter2-secret@", 1)
        .replace("/shipwarden_test", "/no_such_db");
    let probe = DbProbe::new("orders", &secret_url);
    let bad = probe.check(&prod()).await.expect("check");
    assert_eq!(bad[0].value, 0.0);
    assert!(!bad[0].source.contains("hunter2-secret"), "{}", bad[0].source);
    assert!(!format!("{probe:?}").contains("hunter2-secret"));
}
