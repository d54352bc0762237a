//! The web console's server half (issue #22): sign-in through the real
//! OpenID provider (`oidc-provider`, started by `scripts/test`), driven as a
//! browser would through its own login and consent pages; the session
//! cookie and its CSRF token on the API; the embedded assets; and the routes
//! the console reads (`/v1/me`, `/v1/inbox`, `/v1/projects/{p}/policy`).

mod auth_common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use auth_common::{Answer, Browser, api_token, console_toml, issuer, project, serve};
use reqwest::header::HeaderValue;
use serde_json::{Value, json};

/// The approvals recorded in a release's status.
fn approvals(status: &Value) -> Vec<Value> {
    status["state"]["approvals"].as_array().cloned().unwrap_or_default()
}

/// `(approval or gate or step, to)` of each inbox item for `release`.
fn inbox_of(inbox: &Value, release: &str) -> Vec<(String, String)> {
    inbox["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["release"] == release)
        .map(|i| {
            let u = &i["unmet"];
            let what = u["approval"].as_str().or(u["gate"].as_str()).or(u["step"].as_str()).unwrap_or("?");
            (what.to_owned(), i["to"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

/// A project `ledger` whose users are the template's but quinn.
fn ledger(dir: &std::path::Path) -> PathBuf {
    let path = project(dir, "ledger", "");
    let text = std::fs::read_to_string(&path).expect("read").replace("[users.quinn]\nroles = [\"qa_lead\"]\n", "");
    assert!(!text.contains("[users.quinn]"), "the template changed: quinn is still a user of ledger");
    std::fs::write(&path, text).expect("write");
    path
}

#[tokio::test]
async fn quinn_signs_in_and_approves_through_the_cookie_with_its_csrf_token_recorded_with_an_oidc_proof() {
    let Some(issuer) = issuer() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let shop = project(dir.path(), "shop", &console_toml(&issuer));
    let s = serve(std::slice::from_ref(&shop), vec![]).await;
    let rita = api_token(&shop, "rita", &["write"], None).await;
    let planned = s
        .post("/v1/projects/shop/releases", &rita, json!({"version": "1.4.0", "kind": "minor", "tickets": ["SHOP-1"]}))
        .await;
    assert_eq!(planned.status, 201, "{}", planned.body);

    let mut quinn = Browser::new();
    let callback = quinn.sign_in(&s.base, "/console/inbox", "quinn").await;
    assert_eq!(callback.status().as_u16(), 303, "{:?}", callback.headers());
    assert_eq!(callback.headers()["location"], "/console/inbox");
    let cookie = quinn.set_cookie("sw_session").expect("the session cookie").clone();
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=28800"] {
        assert!(cookie.split(';').any(|a| a.trim() == attribute), "{attribute} in {cookie}");
    }
    assert!(quinn.set_cookie("sw_login").is_some_and(|l| l.contains("Max-Age=0")), "the sign-in is spent");

    let session = quinn.call(&s.base, "GET", "/console/session", &[], Value::Null).await;
    assert_eq!(session.status, 200, "{}", session.body);
    assert_eq!(session.body["user"], "quinn");
    assert_eq!(session.body["projects"], json!([{"name": "shop", "roles": ["qa_lead"]}]));
    let csrf = session.body["csrf"].as_str().expect("csrf").to_owned();
    assert_eq!(csrf.len(), 43);
    let expires = session.body["expires"].as_str().expect("expires");
    assert!(expires.ends_with('Z') && !expires.contains('.'), "whole seconds in UTC: {expires}");
    let expires: jiff::Timestamp = expires.parse().expect("a time");
    assert!(expires > jiff::Timestamp::now() + jiff::SignedDuration::from_hours(7));

    let me = quinn.call(&s.base, "GET", "/v1/me", &[], Value::Null).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["proof"], json!({"kind": "oidc", "issuer": issuer, "subject": "quinn"}));
    let inbox = quinn.call(&s.base, "GET", "/v1/inbox", &[], Value::Null).await;
    assert_eq!(
        inbox_of(&inbox.body, "shop-1.4.0"),
        vec![("qa_signoff".to_owned(), "qa_verified".to_owned())],
        "{}",
        inbox.body
    );

    let approve = json!({"approval": "qa_signoff", "comment": "tested"});
    let path = "/v1/releases/shop-1.4.0/approvals";
    let no_csrf = quinn.call(&s.base, "POST", path, &[], approve.clone()).await;
    assert_eq!(no_csrf.status, 403, "{}", no_csrf.body);
    assert_eq!(no_csrf.body["code"], "FORBIDDEN");
    assert!(no_csrf.body["detail"].as_str().is_some_and(|d| d.contains("CSRF")), "{}", no_csrf.body);
    let wrong = quinn.call(&s.base, "POST", path, &[("x-csrf-token", &"A".repeat(43))], approve.clone()).await;
    assert_eq!(wrong.status, 403, "{}", wrong.body);
    let foreign = quinn
        .call(&s.base, "POST", path, &[("x-csrf-token", &csrf), ("origin", "https://evil.example")], approve.clone())
        .await;
    assert_eq!(foreign.status, 403, "{}", foreign.body);
    assert!(foreign.body["detail"].as_str().is_some_and(|d| d.contains("CSRF")), "{}", foreign.body);
    let status = s.get("/v1/releases/shop-1.4.0", &rita).await;
    assert!(approvals(&status.body).is_empty(), "nothing was recorded: {}", status.body);

    let ok = quinn.call(&s.base, "POST", path, &[("x-csrf-token", &csrf), ("origin", &s.base)], approve).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let status = s.get("/v1/releases/shop-1.4.0", &rita).await;
    let given = approvals(&status.body);
    assert_eq!(given.len(), 1, "{}", status.body);
    assert_eq!(given[0]["user"], "quinn");
    assert_eq!(given[0]["approval"], "qa_signoff");
    assert_eq!(given[0]["channel"], "api", "given through the console: {}", given[0]);
    assert_eq!(given[0]["proof"], json!({"kind": "oidc", "issuer": issuer, "subject": "quinn"}));
    let inbox = quinn.call(&s.base, "GET", "/v1/inbox", &[], Value::Null).await;
    assert!(inbox_of(&inbox.body, "shop-1.4.0").is_empty(), "given, so no longer waiting: {}", inbox.body);

    // The live streams take the cookie (an EventSource sends it on the same origin).
    let cookies = quinn.cookie_header();
    let client = reqwest::Client::new();
    for path in ["/v1/releases/shop-1.4.0/events", "/v1/events"] {
        let stream = client.get(format!("{}{path}", s.base)).header("cookie", &cookies).send().await.expect("send");
        assert_eq!(stream.status().as_u16(), 200, "{path}");
        assert_eq!(stream.headers()["content-type"], "text/event-stream", "{path}");
    }

    // A bearer token wins over the cookie.
    let both = quinn.call(&s.base, "GET", "/v1/me", &[("authorization", &format!("Bearer {rita}"))], Value::Null).await;
    assert_eq!(both.body["user"], "rita", "{}", both.body);

    // Sign-out needs the CSRF token too; then the cookie no longer works.
    let kept = quinn.cookie_header();
    let refused = quinn.call(&s.base, "POST", "/console/logout", &[], Value::Null).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let out = quinn.call(&s.base, "POST", "/console/logout", &[("x-csrf-token", &csrf)], Value::Null).await;
    assert_eq!(out.status, 204, "{}", out.body);
    assert!(quinn.set_cookie("sw_session").is_some_and(|c| c.contains("Max-Age=0")), "{:?}", quinn.set_cookies);
    let client = reqwest::Client::new();
    for path in ["/console/session", "/v1/me"] {
        let after = client.get(format!("{}{path}", s.base)).header("cookie", &kept).send().await.expect("send");
        assert_eq!(after.status().as_u16(), 401, "{path} after sign-out");
        assert_eq!(after.headers()["content-type"], "application/problem+json");
    }
}

#[tokio::test]
async fn quinn_rejects_through_the_cookie_only_with_its_csrf_token_and_the_inbox_shows_the_rejection_r2b() {
    let Some(issuer) = issuer() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let shop = project(dir.path(), "shop", &console_toml(&issuer));
    let s = serve(std::slice::from_ref(&shop), vec![]).await;
    let rita = api_token(&shop, "rita", &["write"], None).await;
    let planned = s
        .post("/v1/projects/shop/releases", &rita, json!({"version": "1.4.0", "kind": "minor", "tickets": ["SHOP-1"]}))
        .await;
    assert_eq!(planned.status, 201, "{}", planned.body);
    let mut quinn = Browser::new();
    assert_eq!(quinn.sign_in(&s.base, "/console/", "quinn").await.status().as_u16(), 303);
    let csrf = quinn.call(&s.base, "GET", "/console/session", &[], Value::Null).await.body["csrf"]
        .as_str()
        .expect("csrf")
        .to_owned();
    let mut dana = Browser::new();
    assert_eq!(dana.sign_in(&s.base, "/console/", "dana").await.status().as_u16(), 303);
    let danas = dana.call(&s.base, "GET", "/console/session", &[], Value::Null).await.body["csrf"]
        .as_str()
        .expect("csrf")
        .to_owned();

    let reject = json!({"approval": "qa_signoff", "comment": "checkout fails on Safari"});
    let path = "/v1/releases/shop-1.4.0/rejections";
    for headers in [vec![], vec![("x-csrf-token", danas.as_str())]] {
        let a = quinn.call(&s.base, "POST", path, &headers, reject.clone()).await;
        assert_eq!(a.status, 403, "{headers:?}: {}", a.body);
        assert!(a.body["detail"].as_str().is_some_and(|d| d.contains("CSRF")), "{}", a.body);
    }
    let status = s.get("/v1/releases/shop-1.4.0", &rita).await;
    assert_eq!(status.body["state"]["rejections"], json!([]), "nothing was recorded: {}", status.body);

    let ok = quinn.call(&s.base, "POST", path, &[("x-csrf-token", &csrf), ("origin", &s.base)], reject).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let given = &ok.body["rejections"][0];
    assert_eq!(
        (&given["user"], &given["role"], &given["channel"], &given["comment"]),
        (&json!("quinn"), &json!("qa_lead"), &json!("api"), &json!("checkout fails on Safari")),
        "given through the console: {given}"
    );
    assert_eq!(given["proof"], json!({"kind": "oidc", "issuer": issuer, "subject": "quinn"}));

    // quinn may still give the sign-off (which lifts the rejection): the inbox item says who rejected it and why.
    let inbox = quinn.call(&s.base, "GET", "/v1/inbox", &[], Value::Null).await;
    let item = inbox.body["items"]
        .as_array()
        .and_then(|i| i.iter().find(|i| i["release"] == "shop-1.4.0" && i["unmet"]["approval"] == "qa_signoff"))
        .cloned()
        .unwrap_or_else(|| panic!("the sign-off waits for quinn: {}", inbox.body));
    assert_eq!(item["unmet"]["requirement"], "approval", "the item keeps its shape: {item}");
    let standing = item["rejections"].as_array().expect("rejections");
    assert_eq!(standing.len(), 1, "{item}");
    assert_eq!(
        (&standing[0]["user"], &standing[0]["role"], &standing[0]["reason"]),
        (&json!("quinn"), &json!("qa_lead"), &json!("checkout fails on Safari")),
        "{item}"
    );
    assert!(standing[0]["at"].as_str().is_some_and(|t| t.ends_with('Z')), "{item}");
    // An item that is no approval carries none.
    assert!(
        inbox.body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|i| i["unmet"]["requirement"] == "approval" || i.get("rejections").is_none()),
        "{}",
        inbox.body
    );

    let approved = quinn
        .call(
            &s.base,
            "POST",
            "/v1/releases/shop-1.4.0/approvals",
            &[("x-csrf-token", &csrf)],
            json!({"approval": "qa_signoff"}),
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    let inbox = quinn.call(&s.base, "GET", "/v1/inbox", &[], Value::Null).await;
    assert!(inbox_of(&inbox.body, "shop-1.4.0").is_empty(), "given, so no longer waiting: {}", inbox.body);
}

#[tokio::test]
async fn the_inbox_lists_what_each_user_can_give_in_the_projects_they_see() {
    let Some(issuer) = issuer() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let shop = project(dir.path(), "shop", &console_toml(&issuer));
    let ledger = ledger(dir.path());
    let s = serve(&[shop.clone(), ledger.clone()], vec![]).await;
    for (config, project) in [(&shop, "shop"), (&ledger, "ledger")] {
        let rita = api_token(config, "rita", &["write"], None).await;
        let body = json!({"version": "1.4.0", "kind": "minor", "tickets": ["SHOP-1"]});
        let planned = s.post(&format!("/v1/projects/{project}/releases"), &rita, body).await;
        assert_eq!(planned.status, 201, "{}", planned.body);
    }

    let mut paul = Browser::new();
    assert_eq!(paul.sign_in(&s.base, "/console/", "paul").await.status().as_u16(), 303);
    let inbox = paul.call(&s.base, "GET", "/v1/inbox", &[], Value::Null).await;
    assert_eq!(inbox.status, 200, "{}", inbox.body);
    for release in ["shop-1.4.0", "ledger-1.4.0"] {
        let mine = inbox_of(&inbox.body, release);
        assert!(mine.contains(&("scope".to_owned(), "scope_approved".to_owned())), "{release}: {mine:?}");
        assert!(mine.iter().any(|(what, _)| what == "acceptance"), "{release}: {mine:?}");
        assert!(!mine.iter().any(|(what, _)| what == "qa_signoff"), "{release}: {mine:?}");
    }
    let item =
        inbox.body["items"].as_array().expect("items").iter().find(|i| i["unmet"]["approval"] == "scope").cloned();
    let item = item.expect("the scope approval");
    assert_eq!(item["stage"], "planned");
    assert_eq!(item["kind"], "minor");
    assert_eq!(item["unmet"]["rule"], "R-2b", "{item}");
    assert_eq!(item["unmet"]["requirement"], "approval", "{item}");

    let mut quinn = Browser::new();
    assert_eq!(quinn.sign_in(&s.base, "/console/", "quinn").await.status().as_u16(), 303);
    let inbox = quinn.call(&s.base, "GET", "/v1/inbox", &[], Value::Null).await;
    assert_eq!(inbox_of(&inbox.body, "shop-1.4.0"), vec![("qa_signoff".to_owned(), "qa_verified".to_owned())]);
    assert!(!inbox.body.to_string().contains("ledger"), "quinn does not see ledger: {}", inbox.body);
    let policy = quinn.call(&s.base, "GET", "/v1/projects/ledger/policy", &[], Value::Null).await;
    assert_eq!(policy.status, 404, "{}", policy.body);

    // olga belongs to no project: she signs in, and sees nothing.
    let mut olga = Browser::new();
    assert_eq!(olga.sign_in(&s.base, "/console/", "olga").await.status().as_u16(), 303);
    let session = olga.call(&s.base, "GET", "/console/session", &[], Value::Null).await;
    assert_eq!(session.body["projects"], json!([]), "{}", session.body);
    let inbox = olga.call(&s.base, "GET", "/v1/inbox", &[], Value::Null).await;
    assert_eq!(inbox.body, json!({"items": []}));
}

#[tokio::test]
async fn a_bad_or_replayed_state_or_hostile_callback_opens_no_session() {
    let Some(issuer) = issuer() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let shop = project(dir.path(), "shop", &console_toml(&issuer));
    let s = serve(std::slice::from_ref(&shop), vec![]).await;

    let mut b = Browser::new();
    let callback = b.through_provider(&s.base, "/console/", "quinn").await;
    let url = reqwest::Url::parse(&callback).expect("url");
    let q: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
    let with = |state: &str, code: &str| format!("{}/console/callback?code={code}&state={state}", s.base);
    let failed = |answer: &Answer, b: &Browser| {
        assert_eq!(answer.status, 400, "{}", answer.body);
        assert!(answer.headers["content-type"].to_str().is_ok_and(|c| c.starts_with("text/html")));
        assert!(answer.body.as_str().is_some_and(|t| t.contains("sign-in failed") && t.contains("/console/login")));
        assert!(b.set_cookie("sw_session").is_none(), "no session: {:?}", b.set_cookies);
    };
    // A state that is not this browser's: refused, and the sign-in is spent.
    let forged = format!("{}/console/callback?code={}&state={}", s.base, q["code"], "B".repeat(43));
    let a = b.call(&s.base, "GET", &forged.replace(&s.base, ""), &[], Value::Null).await;
    failed(&a, &b);
    let a = b.call(&s.base, "GET", &callback.replace(&s.base, ""), &[], Value::Null).await;
    failed(&a, &b);
    assert!(a.body.as_str().is_some_and(|t| t.contains("used already")), "{}", a.body);

    // A completed sign-in's callback, replayed: refused.
    let mut c = Browser::new();
    let callback = c.through_provider(&s.base, "/console/", "quinn").await;
    let first = c.go("GET", &callback, None).await;
    assert_eq!(first.status().as_u16(), 303);
    let a = c.call(&s.base, "GET", &callback.replace(&s.base, ""), &[], Value::Null).await;
    failed(&a, &c);

    // Hostile values: huge, garbage, control characters; no pending sign-in, none made.
    let mut d = Browser::new();
    let huge = "x".repeat(10_000);
    for path in [
        with(&huge, "abc"),
        with("abc", &huge),
        with("%01%02", "abc"),
        with("abc", "%00%0a"),
        with("", ""),
        format!("{}/console/callback", s.base),
        format!("{}/console/callback?error=%3Cscript%3E", s.base),
    ] {
        let a = d.call(&s.base, "GET", &path.replace(&s.base, ""), &[], Value::Null).await;
        assert!((400..500).contains(&a.status), "{path}: {}", a.status);
        assert!(!a.body.to_string().contains("<script>"), "escaped: {}", a.body);
        assert!(d.set_cookie("sw_session").is_none());
    }
    let session = d.call(&s.base, "GET", "/console/session", &[], Value::Null).await;
    assert_eq!(session.status, 401, "{}", session.body);
}

#[tokio::test]
async fn next_outside_the_console_lands_on_the_console() {
    let Some(issuer) = issuer() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let shop = project(dir.path(), "shop", &console_toml(&issuer));
    let s = serve(std::slice::from_ref(&shop), vec![]).await;
    for next in ["https://evil.example", "//evil.example/console/", "/v1/releases", "/console/../v1/me"] {
        let mut b = Browser::new();
        let encoded: String = next.bytes().map(|c| format!("%{c:02X}")).collect();
        let done = b.sign_in(&s.base, &encoded, "paul").await;
        assert_eq!(done.status().as_u16(), 303, "{next}");
        assert_eq!(done.headers()["location"], "/console/", "{next}");
    }
    let mut b = Browser::new();
    let done = b.sign_in(&s.base, "/console/releases/shop-1.4.0", "paul").await;
    assert_eq!(done.headers()["location"], "/console/releases/shop-1.4.0");
}

#[tokio::test]
async fn hostile_cookies_are_a_clear_4xx() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shop = project(dir.path(), "shop", "");
    let s = serve(std::slice::from_ref(&shop), vec![]).await;
    let client = reqwest::Client::new();
    for cookie in [
        format!("sw_session={}", "A".repeat(10 * 1024)),
        format!("sw_session={}", "A".repeat(43)),
        "sw_session=".to_owned(),
        "sw_session=é".to_owned(),
    ] {
        let value = HeaderValue::from_bytes(cookie.as_bytes()).expect("header");
        let a = client.get(format!("{}/v1/me", s.base)).header("cookie", value.clone()).send().await.expect("send");
        assert_eq!(a.status().as_u16(), 401, "{}", &cookie[..cookie.len().min(20)]);
        let a = client
            .post(format!("{}/v1/releases/shop-1.4.0/approvals", s.base))
            .header("cookie", value)
            .json(&json!({"approval": "scope"}))
            .send()
            .await
            .expect("send");
        assert_eq!(a.status().as_u16(), 401);
    }
    // A control character in a header does not even reach the routes.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut raw = tokio::net::TcpStream::connect(s.base.trim_start_matches("http://")).await.expect("connect");
    raw.write_all(b"GET /v1/me HTTP/1.1\r\nHost: x\r\nCookie: sw_session=ab\x01cd\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut answer = Vec::new();
    let _ = raw.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}

/// The first asset of `console/dist/assets/` with a `.gz` twin (names carry a content hash).
fn gzipped_asset() -> Option<(String, Vec<u8>, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../console/dist/assets");
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).ok()?.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    let name = names.iter().find(|n| n.ends_with(".js") && names.contains(&format!("{n}.gz")))?.clone();
    let plain = std::fs::read(dir.join(&name)).ok()?;
    let gz = std::fs::read(dir.join(format!("{name}.gz"))).ok()?;
    Some((name, plain, gz))
}

#[tokio::test]
async fn the_console_is_served_from_the_binary_with_its_caching_and_csp() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shop = project(dir.path(), "shop", "");
    let s = serve(std::slice::from_ref(&shop), vec![]).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let get = |path: &str, gzip: bool| {
        let mut r = client.get(format!("{}{path}", s.base));
        if gzip {
            r = r.header("accept-encoding", "gzip, deflate, br");
        }
        r.send()
    };
    let a = get("/console", false).await.expect("send");
    assert_eq!(a.status().as_u16(), 308);
    assert_eq!(a.headers()["location"], "/console/");

    let index =
        std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../console/dist/index.html")).expect("index");
    let csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
    for path in ["/console/", "/console/inbox", "/console/calendar", "/console/releases/shop-1.4.0"] {
        let a = get(path, false).await.expect("send");
        assert_eq!(a.status().as_u16(), 200, "{path}");
        assert_eq!(a.headers()["content-type"], "text/html; charset=utf-8", "{path}");
        assert_eq!(a.headers()["cache-control"], "no-cache", "{path}");
        assert_eq!(a.headers()["content-security-policy"], csp, "{path}");
        assert_eq!(a.bytes().await.expect("body").as_ref(), index.as_slice(), "{path}");
    }

    let (name, plain, gz) = gzipped_asset().expect("console/dist/assets holds a .js with its .js.gz");
    let a = get(&format!("/console/assets/{name}"), true).await.expect("send");
    assert_eq!(a.status().as_u16(), 200);
    assert_eq!(a.headers()["content-encoding"], "gzip");
    assert_eq!(a.headers()["vary"], "Accept-Encoding");
    assert_eq!(a.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(a.headers()["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(a.bytes().await.expect("body").as_ref(), gz.as_slice());
    let a = get(&format!("/console/assets/{name}"), false).await.expect("send");
    assert!(a.headers().get("content-encoding").is_none());
    assert_eq!(a.bytes().await.expect("body").as_ref(), plain.as_slice());
    for missing in [
        "/console/assets/",
        "/console/assets/missing-12345678.js",
        &format!("/console/assets/{name}.gz"),
        "/console/assets/..%2Findex.html",
    ] {
        let a = get(missing, true).await.expect("send");
        assert_eq!(a.status().as_u16(), 404, "{missing}");
        assert_eq!(a.headers()["content-type"], "application/problem+json", "{missing}");
    }

    // Without [server.console], nobody can sign in: a page that says so.
    let a = get("/console/login", false).await.expect("send");
    assert_eq!(a.status().as_u16(), 503);
    assert!(a.text().await.expect("body").contains("[server.console]"));
    let a = get("/console/session", false).await.expect("send");
    assert_eq!(a.status().as_u16(), 401);
}

#[tokio::test]
async fn the_policy_route_draws_the_stage_graph_for_those_who_see_the_project() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shop = project(dir.path(), "shop", "");
    let s = serve(std::slice::from_ref(&shop), vec![]).await;
    let paul = api_token(&shop, "paul", &["read"], None).await;
    let a = s.get("/v1/projects/shop/policy", &paul).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["project"], "shop");
    let stages: Vec<&str> = a.body["stages"].as_array().expect("stages").iter().filter_map(Value::as_str).collect();
    assert_eq!(stages.first(), Some(&"planned"), "{stages:?}");
    let at = |s: &str| stages.iter().position(|x| *x == s).expect(s);
    assert!(at("planned") < at("scope_approved") && at("scope_approved") < at("released"), "{stages:?}");
    let transitions = a.body["transitions"].as_array().expect("transitions");
    let qa = transitions.iter().find(|t| t["to"] == "qa_verified").expect("qa_verification");
    assert_eq!(qa["from"], "staging_deployed");
    assert_eq!(qa["approvals"], json!(["qa_signoff"]));
    assert!(qa["gates"].as_array().expect("gates").contains(&json!("coverage")));
    let emergency = transitions.iter().find(|t| t["name"] == "emergency_fast_track").expect("emergency");
    assert_eq!(emergency["kinds"], json!(["emergency"]));
    assert_eq!(transitions[0]["from"], "planned", "in the order a release goes");
    assert!(a.body["time_zone"].is_string());
    assert!(a.body["environments"].as_array().expect("envs").contains(&json!({"name": "prod", "production": true})));
    let a = s.get("/v1/projects/elsewhere/policy", &paul).await;
    assert_eq!(a.status, 404);
}
