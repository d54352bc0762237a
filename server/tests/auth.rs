//! Identity (issue #21, item 3): OIDC bearer tokens from a real OpenID
//! provider (`oidc-provider`, started by `scripts/test`) and API tokens from
//! the project's real store; each bad token is 401 naming why; the verified
//! identity becomes the approval's proof (R-2d).

mod auth_common;

use std::sync::Arc;
use std::time::Duration;

use auth_common::{api_token, b64, issuer, jwt_part, oidc_token, project, serve};
use shipwarden_server::auth::OidcVerifier;
use shipwarden_server::{AuthError, Verify};

fn oidc_toml(issuer: &str, leeway: Option<&str>) -> String {
    let leeway = leeway.map(|l| format!("leeway = \"{l}\"\n")).unwrap_or_default();
    format!(
        "[server.oidc]\nissuer = \"{issuer}\"\naudience = \"shipwarden\"\n{leeway}\n\
         [server.oidc.groups]\nrelease-managers = [\"release_manager\"]\n\n\
         [server.projects.shop]\nreaders = [\"group:release-managers\"]\n"
    )
}

fn plan_body(version: &str) -> serde_json::Value {
    serde_json::json!({"version": version, "kind": "minor", "tickets": ["SHOP-1"]})
}

/// The approvals recorded in a release's status.
fn approvals(status: &serde_json::Value) -> Vec<serde_json::Value> {
    let mut found = Vec::new();
    fn walk(v: &serde_json::Value, found: &mut Vec<serde_json::Value>) {
        match v {
            serde_json::Value::Object(map) => {
                if map.contains_key("approval") && map.contains_key("user") && map.contains_key("role") {
                    found.push(v.clone());
                }
                map.values().for_each(|x| walk(x, found));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|x| walk(x, found)),
            _ => {}
        }
    }
    walk(status, &mut found);
    found
}

fn assert_401(answer: &auth_common::Answer, why: &str, token: &str) {
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert_eq!(answer.headers["content-type"], "application/problem+json");
    assert!(answer.headers["www-authenticate"].to_str().is_ok_and(|h| h.starts_with("Bearer")));
    assert_eq!(answer.body["code"], "UNAUTHENTICATED", "{}", answer.body);
    let detail = answer.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(why), "`{detail}` should say `{why}`");
    let signature = token.rsplit('.').next().unwrap_or(token);
    assert!(signature.len() < 8 || !answer.body.to_string().contains(signature), "the token is echoed");
}

#[tokio::test]
async fn oidc_users_act_with_their_roles_and_the_approval_records_an_oidc_proof_r2d() {
    let Some(issuer) = issuer() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let config = project(dir.path(), "shop", &oidc_toml(&issuer, None));
    let s = serve(&[config], vec![]).await;
    let rita = oidc_token(&issuer, "rita", "urn:shipwarden", false).await;
    let paul = oidc_token(&issuer, "paul", "urn:shipwarden", false).await;
    // dana's token is signed with ES256, the others' with RS256.
    let dana = oidc_token(&issuer, "dana", "urn:shipwarden:es256", false).await;
    assert_eq!(jwt_part(&dana, 0)["alg"], "ES256");

    let a = s.post("/v1/projects/shop/releases", &rita, plan_body("1.4.0")).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let a = s.post("/v1/releases/shop-1.4.0/approvals", &paul, serde_json::json!({"approval": "scope"})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = s.get("/v1/releases/shop-1.4.0", &dana).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let scope = approvals(&a.body).into_iter().find(|x| x["approval"] == "scope").expect("the scope approval");
    assert_eq!(scope["user"], "paul", "{scope}");
    assert_eq!(scope["proof"], serde_json::json!({"kind": "oidc", "issuer": issuer, "subject": "paul"}), "{scope}");
}

#[tokio::test]
async fn a_group_grants_roles_and_visibility_and_a_user_of_no_project_sees_nothing() {
    let Some(issuer) = issuer() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let config = project(dir.path(), "shop", &oidc_toml(&issuer, None));
    let s = serve(&[config], vec![]).await;
    // gina is not in [users]: her group `release-managers` makes her a reader and a release manager.
    let gina = oidc_token(&issuer, "gina", "urn:shipwarden", false).await;
    assert_eq!(jwt_part(&gina, 1)["groups"], serde_json::json!(["release-managers"]));
    let a = s.post("/v1/projects/shop/releases", &gina, plan_body("1.5.0")).await;
    assert_eq!(a.status, 201, "{}", a.body);
    // olga belongs to no project: it does not exist for her.
    let olga = oidc_token(&issuer, "olga", "urn:shipwarden", false).await;
    let a = s.get("/v1/releases/shop-1.5.0", &olga).await;
    assert_eq!(a.status, 404, "{}", a.body);
    let a = s.post("/v1/projects/shop/releases", &olga, plan_body("1.6.0")).await;
    assert_eq!(a.status, 404, "{}", a.body);
}

#[tokio::test]
async fn each_bad_oidc_token_is_401_naming_why() {
    let Some(issuer) = issuer() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let config = project(dir.path(), "shop", &oidc_toml(&issuer, None));
    let s = serve(&[config], vec![]).await;
    let rita = oidc_token(&issuer, "rita", "urn:shipwarden", false).await;
    assert_eq!(s.get("/v1/releases/shop-9.9.9", &rita).await.status, 404);

    let elsewhere = oidc_token(&issuer, "rita", "urn:elsewhere", false).await;
    assert_401(&s.get("/v1/releases/shop-9.9.9", &elsewhere).await, "another audience", &elsewhere);

    let other = oidc_token(&issuer, "rita", "urn:shipwarden", true).await;
    assert_401(&s.get("/v1/releases/shop-9.9.9", &other).await, "another issuer", &other);

    // A signature changed in its middle.
    let (head, sig) = rita.rsplit_once('.').expect("jwt");
    let mut bytes = sig.as_bytes().to_vec();
    bytes[10] = if bytes[10] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{head}.{}", String::from_utf8(bytes).expect("ascii"));
    assert_401(&s.get("/v1/releases/shop-9.9.9", &tampered).await, "signature does not verify", &tampered);

    // Claims changed (rita becomes casey) under the original signature.
    let mut claims = jwt_part(&rita, 1);
    claims["sub"] = "casey".into();
    let parts: Vec<&str> = rita.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], b64(claims.to_string().as_bytes()), parts[2]);
    assert_401(&s.get("/v1/releases/shop-9.9.9", &forged).await, "signature does not verify", &forged);

    // `alg: none`, unsigned.
    let none = format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), parts[1]);
    assert_401(&s.get("/v1/releases/shop-9.9.9", &none).await, "unsigned", &none);

    // HS256 keyed with the provider's public key (the classic confusion attack).
    let kid = jwt_part(&rita, 0)["kid"].as_str().expect("kid").to_owned();
    let jwks = reqwest::get(format!("{issuer}/jwks")).await.expect("jwks").text().await.expect("text");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(kid);
    let hs =
        jsonwebtoken::encode(&header, &jwt_part(&rita, 1), &jsonwebtoken::EncodingKey::from_secret(jwks.as_bytes()))
            .expect("hs256");
    assert_401(&s.get("/v1/releases/shop-9.9.9", &hs).await, "shared secret", &hs);

    // A key the provider never published.
    let bogus = format!("{}.{}.{}", b64(br#"{"alg":"RS256","kid":"not-a-key-of-theirs"}"#), parts[1], parts[2]);
    assert_401(&s.get("/v1/releases/shop-9.9.9", &bogus).await, "unknown key", &bogus);

    // Not a JWT, not an API token.
    assert_401(&s.get("/v1/releases/shop-9.9.9", "hello").await, "not one this server accepts", "hello");
}

#[tokio::test]
async fn an_expired_token_is_401_and_the_leeway_bounds_the_clock_skew() {
    let Some(issuer) = issuer() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let strict = project(dir.path(), "shop", &oidc_toml(&issuer, Some("1s")));
    let s = serve(&[strict], vec![]).await;
    // Lives 2 s.
    let short = oidc_token(&issuer, "rita", "urn:shipwarden:short", false).await;
    assert_eq!(s.get("/v1/releases/shop-9.9.9", &short).await.status, 404);
    tokio::time::sleep(Duration::from_millis(4200)).await;
    assert_401(&s.get("/v1/releases/shop-9.9.9", &short).await, "expired", &short);
    // With the default 60 s of leeway, the same token is still accepted.
    let lenient = OidcVerifier::new(&issuer, "shipwarden").expect("verifier");
    let who = lenient.verify(&short).await.expect("within the leeway").expect("a JWT");
    assert_eq!(who.user, "rita");
    // A leeway beyond 5 minutes is refused when the server starts.
    let loose = project(dir.path(), "loose", &oidc_toml(&issuer, Some("10m")));
    let opened = shipwarden_server::AppState::open(&[loose]).await;
    let err = opened.err().expect("refused").to_string();
    assert!(err.contains("leeway"), "{err}");
}

#[tokio::test]
async fn unknown_kids_refetch_the_keys_at_most_once_per_interval() {
    let Some(issuer) = issuer() else { return };
    let verifier = OidcVerifier::new(&issuer, "shipwarden").expect("verifier");
    let rita = oidc_token(&issuer, "rita", "urn:shipwarden", false).await;
    verifier.verify(&rita).await.expect("valid").expect("a JWT");
    assert_eq!(verifier.fetches(), 1);
    let parts: Vec<&str> = rita.split('.').collect();
    for i in 0..50 {
        let header = format!(r#"{{"alg":"RS256","kid":"bogus-{i}"}}"#);
        let bogus = format!("{}.{}.{}", b64(header.as_bytes()), parts[1], parts[2]);
        match verifier.verify(&bogus).await {
            Err(AuthError::Invalid(why)) => assert!(why.contains("unknown key"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
    // One refetch at most for the whole flood (the interval is 10 s).
    assert!(verifier.fetches() <= 2, "{} fetches", verifier.fetches());
}

#[tokio::test]
async fn the_provider_unreachable_is_503_retryable() {
    let Some(issuer) = issuer() else { return };
    let rita = oidc_token(&issuer, "rita", "urn:shipwarden", false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    // Nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let config = project(dir.path(), "shop", &oidc_toml(&format!("http://{closed}"), None));
    let s = serve(&[config], vec![]).await;
    let a = s.get("/v1/releases/shop-9.9.9", &rita).await;
    assert_eq!(a.status, 503, "{}", a.body);
    assert_eq!(a.body["retryable"], true, "{}", a.body);
    // A provider that is down is asked once per interval, not once per request.
    let down = OidcVerifier::new(&format!("http://{closed}"), "shipwarden").expect("verifier");
    for _ in 0..20 {
        assert!(matches!(down.verify(&rita).await, Err(AuthError::Unavailable(_))));
    }
    assert_eq!(down.fetches(), 1);
}

#[tokio::test]
async fn api_tokens_act_as_their_user_within_their_scopes_and_record_a_token_proof() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = project(dir.path(), "shop", "");
    let s = serve(std::slice::from_ref(&config), vec![]).await;
    let rita = api_token(&config, "rita", &["write"], None).await;
    let paul = api_token(&config, "paul", &["read", "write"], None).await;
    let quinn_read = api_token(&config, "quinn", &["read"], None).await;

    let a = s.post("/v1/projects/shop/releases", &rita, plan_body("1.4.0")).await;
    assert_eq!(a.status, 201, "{}", a.body);
    // Read-only: may look, may not change.
    assert_eq!(s.get("/v1/releases/shop-1.4.0", &quinn_read).await.status, 200);
    let a =
        s.post("/v1/releases/shop-1.4.0/approvals", &quinn_read, serde_json::json!({"approval": "qa_signoff"})).await;
    assert_eq!(a.status, 403, "{}", a.body);
    assert_eq!(a.body["code"], "FORBIDDEN", "{}", a.body);

    let a = s.post("/v1/releases/shop-1.4.0/approvals", &paul, serde_json::json!({"approval": "scope"})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = s.get("/v1/releases/shop-1.4.0", &paul).await;
    let scope = approvals(&a.body).into_iter().find(|x| x["approval"] == "scope").expect("the scope approval");
    let id = paul.split('_').nth(1).expect("id");
    assert_eq!(scope["proof"], serde_json::json!({"kind": "token", "id": id}), "{scope}");

    // Revoked, expired, unknown, malformed: 401 naming why.
    let loaded = shipwarden_adapters::config::Loaded::read(&config).expect("read");
    let store = shipwarden_adapters::tokens::TokenStore::open(&loaded).await.expect("tokens");
    store.revoke(id, "tests").await.expect("revoke");
    assert_401(&s.get("/v1/releases/shop-1.4.0", &paul).await, "revoked", &paul);
    let soon = jiff::Timestamp::now() + jiff::SignedDuration::from_millis(800);
    let brief = api_token(&config, "quinn", &["read"], Some(soon)).await;
    assert_eq!(s.get("/v1/releases/shop-1.4.0", &brief).await.status, 200);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_401(&s.get("/v1/releases/shop-1.4.0", &brief).await, "expired", &brief);
    let forged = format!("{}{}", &rita[..rita.len() - 4], "0000");
    assert_401(&s.get("/v1/releases/shop-1.4.0", &forged).await, "unknown", &forged);
    assert_401(&s.get("/v1/releases/shop-1.4.0", "swt_nope").await, "malformed", "swt_nope");
    // The store keeps when each token was last used, never the secret.
    let listed = store.list().await.expect("list");
    let rita_id = rita.split('_').nth(1).expect("id");
    let row = listed.iter().find(|t| t.id == rita_id).expect("listed");
    assert!(row.last_used.is_some());
    let secret = rita.rsplit('_').next().expect("secret");
    assert!(!serde_json::to_string(&listed).expect("json").contains(secret));
}

#[tokio::test]
async fn verifiers_are_asked_in_order_and_a_token_of_another_kind_falls_through() {
    // An API token is not a JWT and a JWT is not an API token: each verifier passes on the other's.
    let dir = tempfile::tempdir().expect("tempdir");
    let config = project(dir.path(), "shop", "");
    let token = api_token(&config, "rita", &["read"], None).await;
    let oidc = OidcVerifier::new("http://127.0.0.1:9", "shipwarden").expect("verifier");
    assert!(matches!(oidc.verify(&token).await, Ok(None)));
    let s = serve(&[config], vec![Arc::new(oidc)]).await;
    assert_eq!(s.get("/v1/releases/shop-1.4.0", &token).await.status, 404);
}

#[tokio::test]
async fn api_tokens_in_postgresql_are_seen_by_every_replica() {
    let Some(_) = auth_common::server_env("SHIPWARDEN_TEST_POSTGRES_URL") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    // Two replicas: two folders, one PostgreSQL store (the test database; nothing is planned in it here).
    let configs: Vec<_> = ["a", "b"]
        .iter()
        .map(|replica| {
            let folder = dir.path().join(replica);
            std::fs::create_dir_all(&folder).expect("folder");
            let config = project(&folder, "shop", "");
            let text = std::fs::read_to_string(&config)
                .expect("read")
                .replace("kind = \"sqlite\"", "kind = \"postgres\"\nurl_env = \"SHIPWARDEN_TEST_POSTGRES_URL\"");
            std::fs::write(&config, text).expect("write");
            config
        })
        .collect();
    let a = serve(&configs[..1], vec![]).await;
    let b = serve(&configs[1..], vec![]).await;
    let token = api_token(&configs[0], "quinn", &["read"], None).await;
    let missing = format!("/v1/releases/shop-0.0.{}", std::process::id());
    assert_eq!(a.get(&missing, &token).await.status, 404, "verified by the replica that made it");
    assert_eq!(b.get(&missing, &token).await.status, 404, "verified by the other replica");
    let loaded = shipwarden_adapters::config::Loaded::read(&configs[1]).expect("read");
    let store = shipwarden_adapters::tokens::TokenStore::open(&loaded).await.expect("tokens");
    store.revoke(token.split('_').nth(1).expect("id"), "tests").await.expect("revoke");
    assert_401(&a.get(&missing, &token).await, "revoked", &token);
    assert_401(&b.get(&missing, &token).await, "revoked", &token);
}

#[tokio::test]
async fn verifying_asks_the_provider_once_and_costs_little_per_request() {
    // A JWT is verified in full once, then remembered until its `exp`; an API token is
    // looked up every time (revocation takes effect at once).
    let Some(issuer) = issuer() else { return };
    let verifier = OidcVerifier::new(&issuer, "shipwarden").expect("verifier");
    let rs = oidc_token(&issuer, "rita", "urn:shipwarden", false).await;
    let es = oidc_token(&issuer, "dana", "urn:shipwarden:es256", false).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = project(dir.path(), "shop", "");
    let api = api_token(&config, "quinn", &["read"], None).await;
    let loaded = shipwarden_adapters::config::Loaded::read(&config).expect("read");
    let tokens = shipwarden_server::auth::TokenVerifier::new(vec![
        shipwarden_adapters::tokens::TokenStore::open(&loaded).await.expect("tokens"),
    ]);
    const N: u32 = 1000;
    let mut figures = Vec::new();
    for (what, token, v) in [
        ("RS256 JWT", &rs, &verifier as &dyn Verify),
        ("ES256 JWT", &es, &verifier as &dyn Verify),
        ("API token (SQLite)", &api, &tokens as &dyn Verify),
    ] {
        let started = std::time::Instant::now();
        v.verify(token).await.expect("valid").expect("recognised");
        let first = started.elapsed();
        let started = std::time::Instant::now();
        for _ in 0..N {
            v.verify(token).await.expect("valid").expect("recognised");
        }
        let each = started.elapsed() / N;
        figures.push(format!("{what}: first {} µs, then {} µs each", first.as_micros(), each.as_micros()));
        assert!(each < Duration::from_millis(5), "{what}: {each:?} per verification");
    }
    eprintln!("one verification (this build's profile): {}", figures.join(", "));
    assert_eq!(verifier.fetches(), 1, "the keys were fetched once for all of them");
}
