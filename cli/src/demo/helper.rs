//! The demo's moving parts, run as `shipwarden demo-helper ...` by the
//! demo's build and deploy commands: the sample app (a tiny HTTP and HTTPS
//! service), the "hosts" it is deployed to (folders with a running process),
//! and the build that packages it. Nothing here is a shipwarden feature;
//! it stands in for your build script, your deploy script and your service.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Subcommand;
use serde::{Deserialize, Serialize};
use sha2::Digest;

/// The demo's helpers.
#[derive(Subcommand, Debug)]
pub enum HelperVerb {
    /// Package the sample app: read `app.toml` in the current folder, write a bundle.
    Build {
        /// The version.
        #[arg(long)]
        version: String,
        /// Where to write the bundle.
        #[arg(long)]
        out: PathBuf,
    },
    /// Serve a bundle over HTTP (and HTTPS).
    App {
        /// The bundle.
        #[arg(long)]
        bundle: PathBuf,
        /// HTTP port on 127.0.0.1.
        #[arg(long)]
        port: u16,
        /// HTTPS port on 127.0.0.1.
        #[arg(long)]
        tls_port: Option<u16>,
        /// Certificate and key PEM files for HTTPS.
        #[arg(long, num_args = 2, value_names = ["CERT", "KEY"])]
        tls: Vec<PathBuf>,
        /// The app's SQLite database.
        #[arg(long)]
        db: PathBuf,
        /// The app runs while this file holds its pid.
        #[arg(long)]
        pidfile: PathBuf,
    },
    /// A host: deploy, roll back, or say whether a key was done.
    Host {
        /// `deploy`, `rollback` or `status`.
        action: String,
        /// The host's folder.
        #[arg(long)]
        dir: PathBuf,
        /// The artifact store's folder (deploy).
        #[arg(long)]
        store: Option<PathBuf>,
        /// The app's HTTP port.
        #[arg(long)]
        port: u16,
        /// The app's HTTPS port and certificate/key files.
        #[arg(long)]
        tls_port: Option<u16>,
        /// Certificate and key PEM files.
        #[arg(long, num_args = 2, value_names = ["CERT", "KEY"])]
        tls: Vec<PathBuf>,
        /// The idempotency key (status).
        #[arg(long)]
        key: Option<String>,
    },
}

/// What the build packages: the app's settings from its repository.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bundle {
    /// The version.
    pub version: String,
    /// Whether `/health` answers 200.
    pub healthy: bool,
    /// How long `/health` takes.
    pub latency_ms: u64,
    /// A schema change run on start.
    #[serde(default)]
    pub migration: Option<String>,
}

#[derive(Deserialize)]
struct AppToml {
    healthy: bool,
    latency_ms: u64,
    migration: Option<String>,
}

/// Runs a helper; its exit code is the command's.
pub fn helper(verb: &HelperVerb) -> ExitCode {
    let result = match verb {
        HelperVerb::Build { version, out } => build(version, out),
        HelperVerb::App { bundle, port, tls_port, tls, db, pidfile } => {
            app(bundle, *port, tls_port.zip(pair(tls)), db, pidfile)
        }
        HelperVerb::Host { action, dir, store, port, tls_port, tls, key } => {
            let host = Host { dir: dir.clone(), port: *port, tls: tls_port.zip(pair(tls)) };
            match action.as_str() {
                "deploy" => host.deploy(store.as_deref()),
                "rollback" => host.rollback(),
                "status" => return host.status(key.as_deref().unwrap_or_default()),
                other => Err(format!("unknown host action `{other}`")),
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

fn pair(files: &[PathBuf]) -> Option<(PathBuf, PathBuf)> {
    match files {
        [cert, key] => Some((cert.clone(), key.clone())),
        _ => None,
    }
}

fn build(version: &str, out: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string("app.toml").map_err(|e| format!("app.toml: {e}"))?;
    let app: AppToml = toml::from_str(&text).map_err(|e| format!("app.toml: {e}"))?;
    let bundle = Bundle {
        version: version.to_owned(),
        healthy: app.healthy,
        latency_ms: app.latency_ms,
        migration: app.migration,
    };
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let json = serde_json::to_string_pretty(&bundle).map_err(|e| e.to_string())?;
    std::fs::write(out, json).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("compiling shop v{version} ... packaged {}", out.display());
    Ok(())
}

/// Writes a bundle (the demo's setup uses it for the version already running).
pub fn write_bundle(path: &Path, bundle: &Bundle) -> Result<(), String> {
    std::fs::write(path, serde_json::to_vec_pretty(bundle).map_err(|e| e.to_string())?).map_err(|e| e.to_string())
}

fn respond(mut stream: impl Read + Write, bundle: &Bundle) {
    let mut buffer = [0u8; 4096];
    let n = stream.read(&mut buffer).unwrap_or(0);
    let request = String::from_utf8_lossy(&buffer[..n]);
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    std::thread::sleep(Duration::from_millis(bundle.latency_ms));
    let (status, body) = match path {
        "/health" if bundle.healthy => ("200 OK", format!("ok shop {}\n", bundle.version)),
        "/health" => ("500 Internal Server Error", format!("shop {}: orders_v2 schema mismatch\n", bundle.version)),
        "/version" => ("200 OK", format!("{}\n", bundle.version)),
        _ => ("404 Not Found", "not found\n".to_owned()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
}

fn app(
    bundle: &Path,
    port: u16,
    tls: Option<(u16, (PathBuf, PathBuf))>,
    db: &Path,
    pidfile: &Path,
) -> Result<(), String> {
    let bundle: Bundle =
        serde_json::from_slice(&std::fs::read(bundle).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    if let Some(sql) = &bundle.migration {
        migrate(db, sql)?;
    }
    let me = std::process::id().to_string();
    let http = TcpListener::bind(("127.0.0.1", port)).map_err(|e| format!("port {port}: {e}"))?;
    let shared = Arc::new(bundle);
    {
        let b = shared.clone();
        std::thread::spawn(move || {
            for stream in http.incoming().flatten() {
                let b = b.clone();
                std::thread::spawn(move || respond(stream, &b));
            }
        });
    }
    if let Some((tls_port, (cert, key))) = tls {
        let config = server_config(&cert, &key)?;
        let listener = TcpListener::bind(("127.0.0.1", tls_port)).map_err(|e| format!("port {tls_port}: {e}"))?;
        let b = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (b, config) = (b.clone(), config.clone());
                std::thread::spawn(move || {
                    if let Ok(conn) = rustls::ServerConnection::new(config) {
                        respond(rustls::StreamOwned::new(conn, stream), &b);
                    }
                });
            }
        });
    }
    // Runs while the pid file names it, and never more than ten minutes.
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(600) {
        std::thread::sleep(Duration::from_millis(100));
        if std::fs::read_to_string(pidfile).map(|p| p.trim() != me).unwrap_or(true) {
            break;
        }
    }
    Ok(())
}

fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    let certs = rustls::pki_types::CertificateDer::pem_file_iter(cert)
        .map_err(|e| e.to_string())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(key).map_err(|e| e.to_string())?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(config))
}

fn migrate(db: &Path, sql: &str) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(crate::sql(db, sql))
}

struct Host {
    dir: PathBuf,
    port: u16,
    tls: Option<(u16, (PathBuf, PathBuf))>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", sha2::Sha256::digest(bytes))
}

fn up(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_ok()
}

impl Host {
    fn name(&self) -> String {
        self.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }

    /// Stops the running app: its pid file is removed, and it exits.
    fn stop(&self) -> Result<(), String> {
        let _ = std::fs::remove_file(self.dir.join("app.pid"));
        let deadline = Instant::now() + Duration::from_secs(5);
        while up(self.port) || self.tls.as_ref().is_some_and(|(p, _)| up(*p)) {
            if Instant::now() > deadline {
                return Err(format!("port {} still in use", self.port));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Starts the app on the current bundle and waits until it answers.
    fn start(&self) -> Result<(), String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut command = std::process::Command::new(exe);
        command.args(["demo-helper", "app", "--port", &self.port.to_string()]);
        command.arg("--bundle").arg(self.dir.join("current.app"));
        command.arg("--db").arg(self.dir.join("shop.db"));
        command.arg("--pidfile").arg(self.dir.join("app.pid"));
        if let Some((tls_port, (cert, key))) = &self.tls {
            command.args(["--tls-port", &tls_port.to_string(), "--tls"]).arg(cert).arg(key);
        }
        command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        let child = command.spawn().map_err(|e| e.to_string())?;
        std::fs::write(self.dir.join("app.pid"), child.id().to_string()).map_err(|e| e.to_string())?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !up(self.port) {
            if Instant::now() > deadline {
                return Err(format!("the app did not come up on port {}", self.port));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    fn version(&self) -> String {
        std::fs::read(self.dir.join("current.app"))
            .ok()
            .and_then(|b| serde_json::from_slice::<Bundle>(&b).ok())
            .map_or_else(|| "nothing".into(), |b| b.version)
    }

    fn mark(&self) -> Result<(), String> {
        if let Ok(key) = std::env::var("SHIPWARDEN_KEY") {
            let keys = self.dir.join("keys");
            std::fs::create_dir_all(&keys).map_err(|e| e.to_string())?;
            let name: String = key.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
            std::fs::write(keys.join(name), self.version()).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn deploy(&self, store: Option<&Path>) -> Result<(), String> {
        std::fs::create_dir_all(&self.dir).map_err(|e| e.to_string())?;
        let artifacts: Vec<serde_json::Value> =
            serde_json::from_str(&std::env::var("SHIPWARDEN_ARTIFACTS").unwrap_or_default())
                .map_err(|e| format!("SHIPWARDEN_ARTIFACTS: {e}"))?;
        let first = artifacts.first().ok_or("no artifact to deploy")?;
        let digest = first["sha256"].as_str().ok_or("artifact without sha256")?;
        let store = store.ok_or("--store is needed to deploy")?;
        let bytes =
            std::fs::read(store.join("blobs/sha256").join(digest)).map_err(|e| format!("artifact {digest}: {e}"))?;
        if sha256_hex(&bytes) != digest {
            return Err(format!("artifact {digest} is corrupt"));
        }
        println!("{}: fetched {} sha256:{}", self.name(), first["name"].as_str().unwrap_or("artifact"), &digest[..12]);
        let current = self.dir.join("current.app");
        if current.exists() {
            std::fs::copy(&current, self.dir.join("previous.app")).map_err(|e| e.to_string())?;
        }
        self.stop()?;
        std::fs::write(&current, &bytes).map_err(|e| e.to_string())?;
        self.start()?;
        self.mark()?;
        println!("{} now runs shop {} on 127.0.0.1:{}", self.name(), self.version(), self.port);
        Ok(())
    }

    fn rollback(&self) -> Result<(), String> {
        let previous = self.dir.join("previous.app");
        if !previous.exists() {
            return Err(format!("{}: no previous version to roll back to", self.name()));
        }
        self.stop()?;
        std::fs::copy(&previous, self.dir.join("current.app")).map_err(|e| e.to_string())?;
        self.start()?;
        self.mark()?;
        println!("{} back on shop {}", self.name(), self.version());
        Ok(())
    }

    fn status(&self, key: &str) -> ExitCode {
        let name: String = key.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
        match std::fs::read_to_string(self.dir.join("keys").join(name)) {
            Ok(version) => {
                println!("{} did {key}: runs {version}", self.name());
                ExitCode::SUCCESS
            }
            Err(_) => ExitCode::from(1),
        }
    }
}

/// Starts a host with a bundle, outside shipwarden (what ran before the demo).
pub fn install(dir: &Path, port: u16, tls: Option<(u16, (PathBuf, PathBuf))>, bundle: &Bundle) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    write_bundle(&dir.join("current.app"), bundle)?;
    let host = Host { dir: dir.to_path_buf(), port, tls };
    host.start()
}

/// Stops a host's app.
pub fn shutdown(dir: &Path, port: u16) {
    let host = Host { dir: dir.to_path_buf(), port, tls: None };
    let _ = host.stop();
}
