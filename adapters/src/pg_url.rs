//! Database URLs as the configuration gives them: never with a password,
//! which comes from an environment variable into a `secrecy` type instead.
//! This is the one check of it, used by the configuration, the PostgreSQL
//! backups and the migration runner.

/// True when the URL's authority holds `user:password@`.
pub(crate) fn holds_password(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    authority.rsplit_once('@').is_some_and(|(userinfo, _)| userinfo.contains(':'))
}
