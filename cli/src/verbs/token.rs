//! `shipwarden token`: API tokens for CI and bots calling `shipwarden serve`
//! (issue #21). A token is printed once when created; the store keeps only
//! the SHA-256 of its secret, with its user, scopes, creator, expiry and last
//! use, in the project's store database (so every replica sees it).

use anstream::{eprintln, println};
use clap::Subcommand;
use jiff::{Span, SpanRelativeTo, Timestamp};
use secrecy::ExposeSecret;
use shipwarden_adapters::tokens::{SCOPES, TokenError, TokenInfo, TokenStore};

use crate::CliError;
use crate::output::{BOLD, GOOD, paint};

/// `token ...`.
#[derive(Subcommand, Debug)]
pub enum TokenVerb {
    /// Create a token and print it once.
    Create {
        /// The user it acts as: a key of `users`, or a reader in `server.projects`.
        #[arg(
            long = "user",
            id = "token_user",
            value_name = "NAME",
            help = "The user it acts as (a key of [users], or a reader in [server.projects])"
        )]
        owner: String,
        /// What it may do: `read` (GET routes), `write` (changes; includes read), `admin`.
        #[arg(long, value_delimiter = ',', default_value = "read")]
        scopes: Vec<String>,
        /// How long it works (`30d`, `12h`, `1w`), or `never`.
        #[arg(long, default_value = "90d")]
        expires: String,
    },
    /// List the tokens (never their secrets).
    List,
    /// Revoke a token by its id.
    Revoke {
        /// The token's id (`token list`).
        id: String,
    },
}

fn store_error(e: TokenError) -> CliError {
    match e {
        TokenError::Invalid(m) => CliError::usage(m),
        other => CliError::outside(other),
    }
}

/// When a token created now with `--expires text` stops working.
fn expiry(text: &str) -> Result<Option<Timestamp>, CliError> {
    if text.eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    let bad =
        |e: &dyn std::fmt::Display| CliError::usage(format!("--expires `{text}`: {e} (e.g. `30d`, `12h`, `never`)"));
    let span: Span = text.parse().map_err(|e| bad(&e))?;
    let duration = span.to_duration(SpanRelativeTo::days_are_24_hours()).map_err(|e| bad(&e))?;
    Ok(Some(Timestamp::now().checked_add(duration).map_err(|e| bad(&e))?))
}

/// Who is creating or revoking: `--as`, else the operating system's user.
fn operator(user: Option<String>) -> String {
    user.or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty())).unwrap_or_else(|| "unknown".to_owned())
}

fn row(t: &TokenInfo) -> String {
    let state = match (t.revoked, t.expires) {
        (Some(at), _) => format!("revoked {at}"),
        (None, Some(at)) if at <= Timestamp::now() => format!("expired {at}"),
        (None, Some(at)) => format!("expires {at}"),
        (None, None) => "never expires".to_owned(),
    };
    let used = t.last_used.map_or_else(|| "never used".to_owned(), |at| format!("last used {at}"));
    format!("{}  {}  {}  {state}  {used}  created {} by {}", t.id, t.user, t.scopes.join(","), t.created, t.created_by)
}

/// Creates, lists or revokes API tokens.
pub async fn run(config: &std::path::Path, verb: TokenVerb, user: Option<String>, json: bool) -> Result<(), CliError> {
    let loaded = crate::config::read(config)?;
    let store = TokenStore::open(&loaded).await?;
    match verb {
        TokenVerb::Create { owner, scopes, expires } => {
            let known = loaded.config.users.contains_key(&owner)
                || loaded.config.server.projects.values().any(|p| p.readers.contains(&owner));
            if !known {
                return Err(CliError::usage(format!(
                    "`{owner}` is not in [users] of {} (nor a reader in [server.projects])",
                    config.display()
                )));
            }
            if let Some(bad) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
                return Err(CliError::usage(format!("unknown scope `{bad}`; expected {}", SCOPES.join(", "))));
            }
            let (info, token) =
                store.create(&owner, &scopes, expiry(&expires)?, &operator(user)).await.map_err(store_error)?;
            if json {
                let mut doc = serde_json::to_value(&info).unwrap_or_default();
                doc["token"] = token.expose_secret().into();
                println!("{doc}");
            } else {
                println!("{}", token.expose_secret());
                eprintln!(
                    "{} token {} for {} ({}); shown once, keep it in your CI's secrets",
                    paint(GOOD, "✓"),
                    paint(BOLD, &info.id),
                    info.user,
                    info.scopes.join(",")
                );
            }
        }
        TokenVerb::List => {
            let tokens = store.list().await.map_err(store_error)?;
            if json {
                println!("{}", serde_json::to_value(&tokens).unwrap_or_default());
            } else if tokens.is_empty() {
                println!("no API tokens");
            } else {
                for t in &tokens {
                    println!("{}", row(t));
                }
            }
        }
        TokenVerb::Revoke { id } => {
            let info = store.revoke(&id, &operator(user)).await.map_err(store_error)?;
            if json {
                println!("{}", serde_json::to_value(&info).unwrap_or_default());
            } else {
                println!("{} {}", paint(GOOD, "revoked"), row(&info));
            }
        }
    }
    Ok(())
}
