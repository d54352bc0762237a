//! `shipwarden serve`: the procedure as an HTTP service (issue #21).

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use crate::CliError;

/// `serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Where to listen (default: `[server] listen`, else 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// Another project's shipwarden.toml to serve beside --config (repeatable).
    #[arg(long = "project", value_name = "FILE")]
    pub projects: Vec<PathBuf>,
}

/// Serves until SIGTERM or Ctrl-C.
pub async fn run(config: &std::path::Path, a: ServeArgs) -> Result<(), CliError> {
    let mut configs = vec![config.to_path_buf()];
    configs.extend(a.projects);
    let state = shipwarden_server::AppState::open(&configs).await?;
    let listen = a.listen.or_else(|| state.settings.listen.clone()).unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    // TLS is read before listening, so a wrong file fails at once.
    let tls = match &state.settings.tls {
        Some(files) => {
            // Relative paths start at the folder of the configuration `[server]` comes from.
            let base = config.parent().unwrap_or(std::path::Path::new("."));
            let tls = shipwarden_server::hardening::tls_config(&base.join(&files.cert), &base.join(&files.key))
                .map_err(|e| CliError::usage(format!("[server.tls]: {e}")))?;
            Some(tls)
        }
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| CliError::outside(format!("cannot listen on {listen}: {e}")))?;
    let bound = listener.local_addr().map_err(|e| CliError::outside(format!("cannot listen on {listen}: {e}")))?;
    let names: Vec<&str> = state.projects.keys().map(String::as_str).collect();
    let names = names.join(", ");
    let scheme = if tls.is_some() { "https" } else { "http" };
    anstream::eprintln!("shipwarden serve: {names} on {scheme}://{bound}");
    let state = Arc::new(state);
    // The automatic work (drives, duties) stops with the server and lets running steps finish.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let background = shipwarden_server::background::spawn(state.clone(), stopped);
    let served = match tls {
        Some(tls) => shipwarden_server::serve_tls(listener, tls, state, shutdown()).await,
        None => shipwarden_server::serve(listener, state, shutdown()).await,
    };
    let _ = stop.send(true);
    if let Some(background) = background {
        let _ = background.await;
    }
    served.map_err(|e| CliError::outside(format!("serve: {e}")))
}

/// Completes on SIGTERM or Ctrl-C.
async fn shutdown() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = term => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
