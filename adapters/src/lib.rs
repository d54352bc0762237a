//! Real implementations of shipwarden's ports, one cargo feature each.
//!
//! | feature | what |
//! |---|---|
//! | `sqlite` (default) | [`store::sqlite::SqliteStore`]: the event store in one SQLite file |
//! | `postgres` | [`store::postgres::PostgresStore`]: the event store in PostgreSQL |
//! | `fs` (default) | [`artifacts::fs::FsArtifactStore`]: artifacts in a folder, content-addressed |
//! | `command` (default) | [`targets::command::CommandTarget`]: deploy, roll back and ask status by running commands |
//! | `git` (default) | [`vcs::git::GitRepo`]: history and tags read with gix, annotated tags created and pushed with `git` |
//! | `probes` (default) | [`probes::tcp::TcpProbe`]; with `sqlite` or `postgres`, [`probes::db::DbProbe`] |
//! | `host` (default) | [`probes::host::HostProbe`]: CPU, memory and free disk of this machine (sysinfo) |
//! | `http` (default) | [`probes::http::HttpProbe`]: status and p95 latency over n requests (reqwest, rustls) |
//! | `tls` (default) | [`probes::tls::TlsProbe`]: handshake and days until the certificate expires (rustls) |
//! | `build` (default) | [`build::command::CommandBuilder`]: build by running a command, publish the files it declares |
//! | `local-tickets` (default) | [`ticketing::local::LocalTicketing`]: tickets in the SQLite store's file |
//! | `wiki` (default) | [`notes::wiki::WikiNotes`]: release notes pushed as pages of a wiki git repository |
//! | `github` (default) | [`notes::github::GithubReleases`]: release notes as GitHub releases (REST API) |
//! | `webhook` (default) | [`notify::webhook::WebhookNotifier`]: notices as JSON POSTs signed with HMAC-SHA256 |
//! | `oci` (default) | [`artifacts::oci::OciArtifactStore`]: artifacts as OCI artifacts in any registry (oci-client) |
//! | `ssh` (default) | [`targets::ssh::SshTarget`]: upload, deploy, roll back and ask status on a host over SSH |
//! | `smtp` (default) | [`notify::smtp::SmtpNotifier`]: notices by mail, STARTTLS or TLS, plain text and HTML (lettre) |
//! | `pg-backup` (default) | [`backup::postgres::PgBackup`]: `pg_dump`/`pg_restore` backups, restore-tested in a scratch database |
//! | `slack` (default) | [`notify::slack::SlackNotifier`]: notices to Slack by incoming webhook or `chat.postMessage` |
//! | `jira` (default) | [`ticketing::jira::JiraTicketing`]: Jira Cloud tickets, bugs by JQL, ADF comments, fixVersions |
//! | `github` (default) | also [`ticketing::github::GithubIssues`]: GitHub Issues as tickets, PR approvals (R-4d) |
//! | `prometheus` (default) | [`probes::prometheus::PrometheusProbe`]: gates measured by PromQL, instant and range queries |
//! | `migrations` (default) | [`migrate::postgres::PgMigrator`]: SQL migrations run on PostgreSQL, digests recorded; [`migrate::command::CommandMigrator`]: any migration tool |
//! | `bundle` (default) | [`bundle::Ed25519Signer`] and [`bundle::verify`]: evidence bundles signed and checked with Ed25519 (ring) |
//! | `confluence` (default) | [`notes::confluence::ConfluenceNotes`]: release notes as Confluence Cloud pages (REST v2, storage format) |
//! | `importers` (default) | [`evidence`]: coverage, JUnit and performance results read from CI's files, streaming |
//! | `config` (default) | [`config::Loaded`]: `shipwarden.toml` read and checked, and the `ReleaseManager` it describes, every adapter wired |
//! | `file` (default) | [`backup::file::FileBackup`], [`notify::file::FileNotifier`], [`notes::file::FileNotes`], [`settings::EnvFileSettings`]: backups, notices, notes and environment settings as files |
#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(feature = "bundle")]
pub mod anchor;
#[cfg(any(feature = "fs", feature = "oci"))]
pub mod artifacts;
#[cfg(any(feature = "fs", feature = "file"))]
mod atomic;
#[cfg(any(feature = "file", feature = "pg-backup"))]
pub mod backup;
#[cfg(feature = "build")]
pub mod build;
#[cfg(feature = "bundle")]
pub mod bundle;
#[cfg(feature = "config")]
pub mod config;
#[cfg(feature = "importers")]
pub mod evidence;
pub mod files;
#[cfg(feature = "github")]
mod github_api;
#[cfg(feature = "identity")]
pub mod identity;
#[cfg(feature = "links")]
pub mod links;
#[cfg(feature = "file")]
pub mod logs;
#[cfg(feature = "migrations")]
pub mod migrate;
#[cfg(any(feature = "file", feature = "wiki", feature = "github", feature = "confluence"))]
pub mod notes;
#[cfg(any(feature = "file", feature = "webhook", feature = "smtp", feature = "slack"))]
pub mod notify;
#[cfg(any(feature = "pg-backup", feature = "migrations", feature = "config"))]
mod pg_url;
#[cfg(feature = "probes")]
pub mod probes;
#[cfg(any(feature = "command", feature = "build", feature = "ssh", feature = "pg-backup", feature = "migrations"))]
mod process;
#[cfg(any(
    feature = "webhook",
    feature = "slack",
    feature = "jira",
    feature = "github",
    feature = "prometheus",
    feature = "confluence"
))]
mod rest;
#[cfg(feature = "file")]
pub mod settings;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod store;
#[cfg(any(feature = "command", feature = "ssh"))]
pub mod targets;
#[cfg(any(feature = "local-tickets", feature = "jira", feature = "github"))]
pub mod ticketing;
#[cfg(any(feature = "http", feature = "tls"))]
mod tls_client;
#[cfg(feature = "config")]
pub mod tokens;
#[cfg(feature = "git")]
pub mod vcs;

/// An HTTPS client as every adapter's (rustls with ring, the platform's trust
/// store) with a timeout per request: for the server's OpenID discovery (#21).
#[cfg(feature = "http")]
pub fn http_client(timeout: std::time::Duration) -> Result<reqwest::Client, String> {
    tls_client::http_client(timeout)
}
