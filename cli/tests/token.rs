//! `shipwarden token create/list/revoke` through the real binary (issue #21):
//! the token is printed once, only its digest is stored (SQLite, and
//! PostgreSQL when `SHIPWARDEN_TEST_POSTGRES_URL` is set), it verifies until
//! revoked, and the listing never shows a secret.

mod common;

use common::Project;
use shipwarden_adapters::tokens::{TokenRejection, TokenStore};

const BASE: &str = r#"
[project]
name = "shop"
ticket_prefix = "SHOP"
repository = "repo"

[users.rita]
roles = ["release_manager"]
[users.ci]
roles = ["deployment_engineer"]
"#;

async fn lifecycle(p: &Project, store: TokenStore) {
    let out =
        p.cmd(&["--as", "rita", "token", "create", "--user", "ci", "--scopes", "read,write", "--expires", "30d"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).expect("utf-8").trim().to_owned();
    assert!(token.starts_with("swt_") && token.len() == 4 + 12 + 1 + 64, "{token}");
    let (id, secret) = token["swt_".len()..].split_once('_').expect("id and secret");

    // Listed without the secret, with who made it, the user, the scopes and the expiry.
    let listed = p.stdout(&["token", "list"]);
    assert!(listed.contains(id) && listed.contains("ci") && listed.contains("read,write"), "{listed}");
    assert!(listed.contains("by rita") && listed.contains("expires 20"), "{listed}");
    assert!(!listed.contains(secret), "the secret is listed");
    let json = p.json(&["--json", "token", "list"]);
    assert!(!json.to_string().contains(secret));
    assert_eq!(json[0]["id"], id);

    // It verifies against the store the server reads.
    let now = jiff::Timestamp::now();
    let info = store.check(&token, now).await.expect("check").expect("an API token").expect("valid");
    assert_eq!((info.user.as_str(), info.scopes.clone()), ("ci", vec!["read".to_owned(), "write".to_owned()]));

    p.ok(&["--as", "rita", "token", "revoke", id]);
    let refused = store.check(&token, now).await.expect("check").expect("an API token");
    assert!(matches!(refused, Err(TokenRejection::Revoked { .. })), "{refused:?}");
    let listed = p.stdout(&["token", "list"]);
    assert!(listed.contains("revoked"), "{listed}");

    // Bad input is a usage error (2) and creates nothing.
    p.expect(2, &["token", "create", "--user", "mallory"]);
    p.expect(2, &["token", "create", "--user", "ci", "--scopes", "root"]);
    p.expect(2, &["token", "create", "--user", "ci", "--expires", "soon"]);
    assert_eq!(p.json(&["--json", "token", "list"]).as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn token_create_list_revoke_on_sqlite_stores_only_a_digest() {
    let p = Project::with_commits(&[("a.txt", "SHOP-1: checkout")]);
    p.write_config(BASE);
    p.ok(&["token", "list"]);
    let loaded = shipwarden_adapters::config::Loaded::read(&p.path().join("shipwarden.toml")).expect("read");
    lifecycle(&p, TokenStore::open(&loaded).await.expect("tokens")).await;
    // The secret is nowhere in the store's files.
    for entry in std::fs::read_dir(p.path().join(".shipwarden")).expect("state folder") {
        let bytes = std::fs::read(entry.expect("entry").path()).unwrap_or_default();
        assert!(!bytes.windows(4).any(|w| w == b"swt_"), "a token is stored in clear");
    }
}

#[tokio::test]
async fn token_create_list_revoke_on_postgres() {
    let Some(url) = std::env::var("SHIPWARDEN_TEST_POSTGRES_URL").ok() else {
        if std::env::var_os("SHIPWARDEN_REQUIRE_SERVERS").is_some() {
            panic!("SHIPWARDEN_TEST_POSTGRES_URL is required (scripts/test starts PostgreSQL)");
        }
        eprintln!("NOTE: not run: set SHIPWARDEN_TEST_POSTGRES_URL (scripts/test starts PostgreSQL)");
        return;
    };
    // A database of its own, so that the listing holds this test's tokens only.
    let name = format!("sw_tokens_{}", fastrand::u64(..));
    let admin = sqlx::PgPool::connect(&url).await.expect("connect");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.expect("create database");
    let (base, _) = url.rsplit_once('/').expect("a database in the URL");
    let mut p = Project::with_commits(&[("a.txt", "SHOP-1: checkout")]);
    p.write_config(&format!("{BASE}\n[store]\nkind = \"postgres\"\nurl_env = \"SW_TOKENS_PG\"\n"));
    p.set_env("SW_TOKENS_PG", &format!("{base}/{name}"));
    p.ok(&["token", "list"]);
    let pool = sqlx::PgPool::connect(&format!("{base}/{name}")).await.expect("connect");
    lifecycle(&p, TokenStore::postgres(pool).await.expect("tokens")).await;
}
