//! One behaviour suite for the `ArtifactStore` contract, run against the
//! in-memory store, the filesystem store and an OCI registry (the real
//! registry `scripts/test` starts) (R-1c, R-8b, R-8c).

mod common;

use std::path::Path;

use shipwarden::ports::ArtifactMeta;
use shipwarden::ports::{ArtifactStore, ErrorKind};
use shipwarden::{Sha256, Version};
use shipwarden_adapters::artifacts::fs::FsArtifactStore;
use shipwarden_adapters::artifacts::oci::{self, OciArtifactStore, OciAuth, OciOptions};

fn file(dir: &Path, name: &str, content: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write");
    path
}

async fn suite(store: &dyn ArtifactStore, dir: &Path) {
    let v1 = Version::new(1, 0, 0);
    let v2 = Version::new(1, 1, 0);
    let a1 = store.put("shop.jar", &v1, &file(dir, "a1", b"version one")).await.expect("put");
    assert_eq!((a1.sha256.clone(), a1.size), (Sha256::of(b"version one"), 11));
    assert_eq!(store.get(&a1).await.expect("get"), b"version one");
    // Idempotent with the same content; refused with other content.
    assert_eq!(store.put("shop.jar", &v1, &file(dir, "a1-again", b"version one")).await.expect("again"), a1);
    let err = store.put("shop.jar", &v1, &file(dir, "a1-other", b"tampered")).await.expect_err("other content");
    assert_eq!(err.kind, ErrorKind::Rejected);
    // The previous version stays for rollback (R-8c).
    let a2 = store.put("shop.jar", &v2, &file(dir, "a2", b"version two")).await.expect("put");
    assert_eq!(store.versions("shop.jar").await.expect("versions"), vec![v1.clone(), v2]);
    assert!(store.exists(&a1).await.expect("exists") && store.exists(&a2).await.expect("exists"));
    let mut forged = a1.clone();
    forged.sha256 = Sha256::of(b"something else");
    assert!(!store.exists(&forged).await.expect("exists"));
    assert!(store.versions("other.jar").await.expect("none").is_empty());
    assert_eq!(store.put("missing.jar", &v1, &dir.join("nope")).await.expect_err("no file").kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn memory_store_behaves() {
    let dir = tempfile::tempdir().expect("tempdir");
    suite(&shipwarden::ports::memory::MemoryArtifacts::new(), dir.path()).await;
}

#[tokio::test]
async fn fs_store_behaves() {
    let dir = tempfile::tempdir().expect("tempdir");
    suite(&FsArtifactStore::new(dir.path().join("store")), dir.path()).await;
}

#[tokio::test]
async fn fs_store_checks_the_digest_on_every_read_r8c() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FsArtifactStore::new(dir.path().join("store"));
    let a = store.put("app.zip", &Version::new(2, 0, 0), &file(dir.path(), "a", b"the app")).await.expect("put");
    let blob = dir.path().join("store/blobs/sha256").join(a.sha256.as_str());
    std::fs::write(&blob, b"the app, changed on disk").expect("tamper");
    let err = store.get(&a).await.expect_err("corrupt");
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert!(err.to_string().contains("expected sha256:"), "{err}");
}

#[tokio::test]
async fn fs_store_refuses_names_that_are_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FsArtifactStore::new(dir.path().join("store"));
    let source = file(dir.path(), "a", b"x");
    for name in ["../escape", "a/b", ".hidden", ""] {
        assert_eq!(
            store.put(name, &Version::new(1, 0, 0), &source).await.expect_err(name).kind,
            ErrorKind::Invalid,
            "{name}"
        );
    }
    assert!(!dir.path().join("escape").exists());
}

#[tokio::test]
async fn fs_store_streams_a_large_file_without_reading_it_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FsArtifactStore::new(dir.path().join("store"));
    let big = dir.path().join("big.bin");
    let chunk = vec![7u8; 1 << 20];
    {
        use std::io::Write as _;
        let mut f = std::fs::File::create(&big).expect("create");
        for _ in 0..24 {
            f.write_all(&chunk).expect("write");
        }
    }
    let a = store.put("big.bin", &Version::new(1, 0, 0), &big).await.expect("put");
    assert_eq!(a.size, 24 << 20);
    assert_eq!(a.sha256, Sha256::of(&std::fs::read(&big).expect("read")));
}

fn oci_store(registry: &str, namespace: &str) -> OciArtifactStore {
    let options = OciOptions { insecure_http: true, ..OciOptions::default() };
    OciArtifactStore::new(registry, namespace, OciAuth::Anonymous, options).expect("store")
}

#[tokio::test]
async fn oci_registry_store_behaves_r8c() {
    let Some(registry) = common::server_env("SHIPWARDEN_TEST_OCI_REGISTRY") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    suite(&oci_store(&registry, &common::unique("behaves-")), dir.path()).await;
}

#[tokio::test]
async fn oci_artifacts_carry_their_type_and_annotations_r1c() {
    let Some(registry) = common::server_env("SHIPWARDEN_TEST_OCI_REGISTRY") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let namespace = common::unique("acme/annotated-");
    let store = oci_store(&registry, &namespace);
    let version: Version = "2.1.0+build.7".parse().expect("version");
    let meta = ArtifactMeta {
        release: Some("shop-2.1.0".parse().expect("release")),
        revision: Some("0123456789abcdef0123456789abcdef01234567".into()),
        tickets: vec!["SHOP-1".parse().expect("key"), "SHOP-2".parse().expect("key")],
    };
    let a = store
        .put_with("Shop-API.jar", &version, &file(dir.path(), "shop.jar", b"jar bytes"), &meta)
        .await
        .expect("put");
    assert_eq!(store.versions("Shop-API.jar").await.expect("versions"), vec![version.clone()]);
    // Read back with a plain OCI client, as any registry user would: tag = version (`+` as `_`).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = oci_client::Client::new(oci_client::client::ClientConfig {
        protocol: oci_client::client::ClientProtocol::Http,
        ..Default::default()
    });
    let reference: oci_client::Reference =
        format!("{registry}/{namespace}/shop-api.jar:2.1.0_build.7").parse().expect("reference");
    let (manifest, _) =
        client.pull_image_manifest(&reference, &oci_client::secrets::RegistryAuth::Anonymous).await.expect("manifest");
    assert_eq!(manifest.artifact_type.as_deref(), Some(oci::ARTIFACT_TYPE));
    assert_eq!(manifest.config.media_type, oci::CONFIG_MEDIA_TYPE);
    assert_eq!(manifest.layers.len(), 1);
    assert_eq!(manifest.layers[0].digest, format!("sha256:{}", a.sha256));
    assert_eq!(manifest.layers[0].media_type, oci::LAYER_MEDIA_TYPE);
    let annotations = manifest.annotations.expect("annotations");
    assert_eq!(annotations["org.opencontainers.image.version"], "2.1.0+build.7");
    assert_eq!(annotations["org.opencontainers.image.revision"], "0123456789abcdef0123456789abcdef01234567");
    assert_eq!(annotations["io.shipwarden.tickets"], "SHOP-1,SHOP-2");
    assert_eq!(annotations["io.shipwarden.release"], "shop-2.1.0");
}

#[tokio::test]
async fn oci_errors_name_the_registry_and_are_retryable_when_it_is_down() {
    // A port nothing listens on: connection refused is retryable, and the error names the system.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let store = oci_store(&format!("127.0.0.1:{port}"), "acme");
    let err = store.versions("app").await.expect_err("down");
    assert!(err.retryable, "{err}");
    assert!(err.to_string().contains("artifact-store oci 127.0.0.1"), "{err}");
    let secret = OciAuth::Basic { user: "robot".into(), password: "s3cr3t-token".to_owned().into() };
    let store =
        OciArtifactStore::new(format!("127.0.0.1:{port}"), "acme", secret, OciOptions::default()).expect("store");
    assert!(!format!("{store:?}").contains("s3cr3t"));
    let err = store.versions("app").await.expect_err("down");
    assert!(!format!("{err} {err:?}").contains("s3cr3t"));
}
