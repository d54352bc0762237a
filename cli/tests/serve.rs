//! `shipwarden serve` (issue #21): TLS from `[server.tls]` PEM files
//! (relative to the configuration), the address it listens on, and a clean
//! stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn serve_answers_over_tls_from_pem_files_and_stops_on_sigterm() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("tempdir");
    let ok = Command::new("git").args(["init", "-q"]).current_dir(dir.path()).status().expect("git");
    assert!(ok.success());
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("rcgen");
    std::fs::create_dir_all(dir.path().join("tls")).expect("mkdir");
    std::fs::write(dir.path().join("tls/cert.pem"), cert.cert.pem()).expect("cert");
    std::fs::write(dir.path().join("tls/key.pem"), cert.signing_key.serialize_pem()).expect("key");
    let config = format!(
        "{}\n[server]\n[server.tls]\ncert = \"tls/cert.pem\"\nkey = \"tls/key.pem\"\n",
        shipwarden_adapters::config::template("shop")
    );
    std::fs::write(dir.path().join("shipwarden.toml"), config).expect("config");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("shipwarden"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut line = String::new();
    BufReader::new(child.stderr.take().expect("stderr")).read_line(&mut line).expect("line");
    let addr = line.trim().rsplit("https://").next().unwrap_or_default().to_owned();
    assert!(line.contains("shop on https://127.0.0.1:"), "{line}");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).expect("root");
    let client = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(client)).connect(name, tcp).await.expect("handshake");
    tls.write_all(b"GET /v1/releases HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.expect("write");
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 401"), "no identity: {answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("strict-transport-security"), "{answer}");
    let ok = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(ok.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "a clean stop on SIGTERM: {status}");
}
