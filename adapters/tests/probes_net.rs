//! Host, HTTP and TLS probes against this machine and real local servers (R-8a, R-8f).

use std::sync::Arc;

use shipwarden::ports::Probe;
use shipwarden::{EnvName, GateId};
use shipwarden_adapters::probes::host::HostProbe;
use shipwarden_adapters::probes::http::{HttpProbe, percentile};
use shipwarden_adapters::probes::tls::TlsProbe;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn prod() -> EnvName {
    "prod".parse().expect("env")
}

/// A plain HTTP/1.1 server that answers every request with `status`, after `delay_ms`.
async fn http_server(status: u16, delay_ms: u64) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0u8; 2048];
                let _ = socket.read(&mut buffer).await;
                tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
                let response = format!("HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    format!("http://{address}/health")
}

#[tokio::test]
async fn host_probe_measures_cpu_memory_and_disk_r8a() {
    let dir = tempfile::tempdir().expect("tempdir");
    let measured = HostProbe::new().with_disk(dir.path()).for_target("web-1").check(&prod()).await.expect("check");
    let gates: Vec<GateId> = measured.iter().map(|m| m.gate.clone()).collect();
    assert_eq!(gates, [GateId::Cpu, GateId::Memory, GateId::DiskFree]);
    for m in &measured {
        assert!((0.0..=100.0).contains(&m.value), "{m:?}");
        assert_eq!(m.target.as_deref(), Some("web-1"));
    }
    assert!(measured[2].source.contains("free on /"), "{}", measured[2].source);
}

#[tokio::test]
async fn http_probe_reports_p95_latency_r8f() {
    let url = http_server(200, 30).await;
    let measured = HttpProbe::new(&url).with_requests(5).check(&prod()).await.expect("check");
    assert_eq!(measured[0].gate, GateId::ResponseTime);
    assert!(measured[0].value >= 30.0 && measured[0].value < 2000.0, "{:?}", measured[0]);
    assert!(measured[0].source.contains("5 requests, all 200"), "{}", measured[0].source);
    let perf = HttpProbe::new(&url).with_requests(2).as_gate(GateId::P95Latency).check(&prod()).await.expect("check");
    assert_eq!(perf[0].gate, GateId::P95Latency);
}

#[tokio::test]
async fn http_probe_fails_on_a_wrong_status_r8f() {
    let url = http_server(500, 0).await;
    let e = HttpProbe::new(&url).check(&prod()).await.expect_err("a 500 fails the smoke test");
    assert!(e.retryable, "a 5xx may pass on a retry: {e}");
    assert!(e.to_string().contains("answered 500, expected 200"), "{e}");
    let url = http_server(404, 0).await;
    let e = HttpProbe::new(&url).check(&prod()).await.expect_err("a 404 fails the smoke test");
    assert!(!e.retryable, "{e}");
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let e = HttpProbe::new(format!("http://{closed}/")).check(&prod()).await.expect_err("nothing listens");
    assert!(e.retryable, "{e}");
}

#[test]
fn percentile_by_nearest_rank() {
    let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
    assert_eq!(percentile(&mut v, 0.95), Some(95.0));
    assert_eq!(percentile(&mut [7.0], 0.95), Some(7.0));
    assert_eq!(percentile(&mut [], 0.95), None);
    let mut w = vec![300.0, 10.0, 20.0];
    assert_eq!(percentile(&mut w, 0.5), Some(20.0));
}

/// A TLS server on loopback with a self-signed certificate for `localhost`
/// valid for `days`; returns its port and the certificate's PEM file.
async fn tls_server(days: i64, dir: &std::path::Path) -> (u16, std::path::PathBuf) {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    let now = std::time::SystemTime::now();
    params.not_before = (now - std::time::Duration::from_secs(86_400)).into();
    params.not_after = (now + std::time::Duration::from_secs(days as u64 * 86_400)).into();
    let cert = params.self_signed(&key).expect("certificate");
    let pem = dir.join("cert.pem");
    std::fs::write(&pem, cert.pem()).expect("write");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).expect("key der"),
        )
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(socket).await {
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    (port, pem)
}

#[tokio::test]
async fn tls_probe_reports_days_until_expiry_r8a() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (port, pem) = tls_server(30, dir.path()).await;
    let probe = TlsProbe::new("127.0.0.1", port).with_server_name("localhost").with_ca_file(&pem);
    let measured = probe.check(&prod()).await.expect("check");
    assert_eq!(measured[0].gate, GateId::TlsDaysLeft);
    assert!((29.0..=30.0).contains(&measured[0].value), "{:?}", measured[0]);
    assert!(measured[0].source.contains("valid until"), "{}", measured[0].source);
}

#[tokio::test]
async fn tls_probe_fails_the_gate_on_an_untrusted_certificate_r8a() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (port, _) = tls_server(30, dir.path()).await;
    // Trust a different self-signed certificate: the handshake fails, as a measurement.
    let other = tempfile::tempdir().expect("tempdir");
    let (_, other_pem) = tls_server(30, other.path()).await;
    let measured = TlsProbe::new("127.0.0.1", port)
        .with_server_name("localhost")
        .with_ca_file(&other_pem)
        .check(&prod())
        .await
        .expect("an untrusted certificate is a measurement");
    assert_eq!(measured[0].value, 0.0);
    assert!(measured[0].source.contains("handshake"), "{}", measured[0].source);
    let e = TlsProbe::new("127.0.0.1", port)
        .with_ca_file(dir.path().join("missing.pem"))
        .check(&prod())
        .await
        .expect("a missing CA file is a measurement");
    assert_eq!(e[0].value, 0.0);
}
