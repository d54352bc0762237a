//! Authorization (issue #21, item 4): every route of the OpenAPI document
//! (`shipwarden_server::openapi::ApiDoc`, so routes added later are covered
//! without touching this file), except the public ones
//! (`shipwarden_server::auth::PUBLIC_PATHS`), denies:
//! - a request without identity: 401, problem+json, `WWW-Authenticate: Bearer`;
//! - a verified user of another project: 404 for the project's resources;
//! - a read-only API token on a state-changing route: 403;
//! - a console session cookie that is no session: 401; a real session's
//!   cookie on a state-changing route without its `X-CSRF-Token`, with another
//!   session's, or from another `Origin`: 403 naming CSRF, nothing recorded (issue #22);
//!
//! and the policy's roles decide the rest: 403 for an approval or a rejection
//! of a role the caller does not hold (R-2b, R-2d).

mod auth_common;

use auth_common::{Answer, Browser, api_token, console_toml, issuer, project, serve};
use serde_json::{Value, json};
use shipwarden_server::auth::PUBLIC_PATHS;
use utoipa::OpenApi;

/// Every (method, path template, operation) of the API document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if ["get", "put", "post", "delete", "patch", "head"].contains(&method.as_str()) {
                found.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    found
}

/// `template` with each `{param}` filled: the project `shop`, its release `shop-1.4.0`, else a plausible value.
fn concrete(template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("closing brace") + start;
        let name = &rest[start + 1..end];
        out.push_str(match name {
            n if n.contains("project") => "shop",
            n if n == "id" || n.contains("release") => "shop-1.4.0",
            "env" | "environment" => "staging",
            "approval" => "scope",
            "ticket" | "key" => "SHOP-1",
            _ => "x",
        });
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Whether `template` names a project or a release: its resources exist only for their project's people.
fn scoped(template: &str) -> bool {
    template
        .split('{')
        .skip(1)
        .filter_map(|p| p.split('}').next())
        .any(|p| p == "id" || p.contains("project") || p.contains("release"))
}

/// Follows a `$ref` within `doc`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/")) {
        Some(pointer) => doc.pointer(&format!("/{pointer}")).unwrap_or(schema),
        None => schema,
    }
}

/// A value of the schema's shape (its required properties filled), so that
/// the body parses and the route's own checks decide the answer.
fn sample(doc: &Value, schema: &Value) -> Value {
    let schema = resolve(doc, schema);
    let kind = match &schema["type"] {
        Value::Array(types) => types.iter().find(|t| *t != "null").cloned().unwrap_or(Value::Null),
        other => other.clone(),
    };
    match kind.as_str() {
        Some("object") | None if schema.get("properties").is_some() => {
            let mut body = serde_json::Map::new();
            for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                body.insert(name.to_owned(), sample(doc, &schema["properties"][name]));
            }
            Value::Object(body)
        }
        Some("string") => schema["enum"].get(0).cloned().unwrap_or_else(|| json!("1.0.0")),
        Some("integer") | Some("number") => json!(1),
        Some("boolean") => json!(false),
        Some("array") => json!([]),
        _ => json!({}),
    }
}

struct Body {
    content_type: Option<String>,
    bytes: Vec<u8>,
}

/// A request body for `op`: JSON, or multipart form data with its required fields.
fn body(doc: &Value, op: &Value) -> Body {
    let Some(content) = op["requestBody"]["content"].as_object() else {
        return Body { content_type: None, bytes: Vec::new() };
    };
    let (media, spec) = content.iter().next().expect("a media type");
    let value = sample(doc, &spec["schema"]);
    if media.starts_with("multipart/") {
        let boundary = "shipwarden-authz-boundary";
        let mut bytes = Vec::new();
        for (name, v) in value.as_object().into_iter().flatten() {
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            bytes.extend_from_slice(
                format!("--{boundary}\r\ncontent-disposition: form-data; name=\"{name}\"; filename=\"{name}\"\r\n\r\n{text}\r\n")
                    .as_bytes(),
            );
        }
        bytes.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        return Body { content_type: Some(format!("multipart/form-data; boundary={boundary}")), bytes };
    }
    Body { content_type: Some(media.clone()), bytes: value.to_string().into_bytes() }
}

async fn call(base: &str, method: &str, path: &str, token: Option<&str>, body: &Body) -> Answer {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = bearer.as_deref().map(|b| ("authorization", b)).into_iter().collect();
    call_with(base, method, path, &headers, body).await
}

async fn call_with(base: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &Body) -> Answer {
    let client = reqwest::Client::new();
    let mut request =
        client.request(reqwest::Method::from_bytes(method.as_bytes()).expect("method"), format!("{base}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(content_type) = &body.content_type {
        request = request.header("content-type", content_type).body(body.bytes.clone());
    }
    let response = request.send().await.expect("send");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    // Streams (server-sent events) answer 200 and never end: only their head is read.
    let text = if status == 200 && headers.get("content-type").is_some_and(|c| c == "text/event-stream") {
        String::new()
    } else {
        response.text().await.expect("body")
    };
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer { status, headers, body }
}

#[tokio::test]
async fn every_route_denies_the_anonymous_the_outsider_and_the_read_only_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shop = project(dir.path(), "shop", "");
    // lena is a user of `ledger` only.
    let ledger = project(dir.path(), "ledger", "[users.lena]\nroles = [\"release_manager\"]\n");
    let s = serve(&[shop.clone(), ledger.clone()], vec![]).await;
    let rita = api_token(&shop, "rita", &["write"], None).await;
    let rita_read = api_token(&shop, "rita", &["read"], None).await;
    let lena = api_token(&ledger, "lena", &["read", "write"], None).await;
    let planned = s
        .post("/v1/projects/shop/releases", &rita, json!({"version": "1.4.0", "kind": "minor", "tickets": ["SHOP-1"]}))
        .await;
    assert_eq!(planned.status, 201, "{}", planned.body);

    let doc = serde_json::to_value(shipwarden_server::openapi::ApiDoc::openapi()).expect("document");
    let ops = operations(&doc);
    assert!(ops.len() >= 3, "the document lists the routes");
    let mut checked = Vec::new();
    for (method, template, op) in ops {
        if PUBLIC_PATHS.contains(&template.as_str()) {
            continue;
        }
        let path = concrete(&template);
        let body = body(&doc, &op);
        let what = format!("{method} {template}");

        let a = call(&s.base, &method, &path, None, &body).await;
        assert_eq!(a.status, 401, "{what} without identity: {}", a.body);
        assert_eq!(a.headers["content-type"], "application/problem+json", "{what}");
        assert!(a.headers["www-authenticate"].to_str().is_ok_and(|h| h.starts_with("Bearer")), "{what}");

        let a = call(&s.base, &method, &path, Some("swt_000000000000_0000"), &body).await;
        assert_eq!(a.status, 401, "{what} with a malformed token: {}", a.body);

        let unknown = format!("sw_session={}", "A".repeat(43));
        let a = call_with(&s.base, &method, &path, &[("cookie", &unknown), ("x-csrf-token", "x")], &body).await;
        assert_eq!(a.status, 401, "{what} with a console cookie that is no session: {}", a.body);

        let a = call(&s.base, &method, &path, Some(&lena), &body).await;
        if scoped(&template) {
            assert_eq!(a.status, 404, "{what} by a user of another project: {}", a.body);
            assert_eq!(a.headers["content-type"], "application/problem+json", "{what}");
        }
        assert!(!a.body.to_string().contains("shop-1.4.0") || a.status == 404, "{what} shows shop to lena: {}", a.body);

        if method != "GET" && method != "HEAD" {
            let a = call(&s.base, &method, &path, Some(&rita_read), &body).await;
            assert_eq!(a.status, 403, "{what} with a read-only token: {}", a.body);
            assert_eq!(a.body["code"], "FORBIDDEN", "{what}");
        }
        checked.push(what);
    }
    eprintln!("checked the denied cases of {} routes: {}", checked.len(), checked.join(", "));
    for route in ["POST /v1/releases/{id}/approvals", "POST /v1/releases/{id}/rejections"] {
        assert!(checked.iter().any(|c| c == route), "{route} is in the document, so checked");
    }

    // The public routes answer without identity.
    for path in PUBLIC_PATHS {
        let a = call(&s.base, "GET", path, None, &Body { content_type: None, bytes: Vec::new() }).await;
        assert_ne!(a.status, 401, "{path} is public");
    }
}

#[tokio::test]
async fn an_approval_needs_its_role_the_qa_lead_cannot_give_the_scope_approval_r2b() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shop = project(dir.path(), "shop", "");
    let s = serve(std::slice::from_ref(&shop), vec![]).await;
    let rita = api_token(&shop, "rita", &["write"], None).await;
    let quinn = api_token(&shop, "quinn", &["write"], None).await;
    let paul = api_token(&shop, "paul", &["write"], None).await;
    let a = s
        .post("/v1/projects/shop/releases", &rita, json!({"version": "1.4.0", "kind": "minor", "tickets": ["SHOP-1"]}))
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    // quinn (qa_lead) may not give the product owner's scope approval, even naming the role.
    for body in [json!({"approval": "scope"}), json!({"approval": "scope", "role": "product_owner"})] {
        let a = s.post("/v1/releases/shop-1.4.0/approvals", &quinn, body.clone()).await;
        assert_eq!(a.status, 403, "{body}: {}", a.body);
        assert_eq!(a.headers["content-type"], "application/problem+json");
    }
    // Nor may the release manager, who also planned it: refused (422, not only a missing
    // role: separation of duties too), naming each unmet requirement.
    let a = s.post("/v1/releases/shop-1.4.0/approvals", &rita, json!({"approval": "scope"})).await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert_eq!(a.body["rule"], "R-2d", "{}", a.body);
    let unmet = a.body["unmet"].to_string();
    assert!(unmet.contains("\"role\"") && unmet.contains("separation_of_duties"), "{unmet}");
    // A rejection needs the same role as the approval, and is answered the same way (R-2b, R-2d).
    for body in [
        json!({"approval": "scope", "comment": "no"}),
        json!({"approval": "scope", "role": "product_owner", "comment": "no"}),
    ] {
        let a = s.post("/v1/releases/shop-1.4.0/rejections", &quinn, body.clone()).await;
        assert_eq!(a.status, 403, "{body}: {}", a.body);
        assert_eq!(a.headers["content-type"], "application/problem+json");
    }
    let a = s.post("/v1/releases/shop-1.4.0/rejections", &rita, json!({"approval": "scope", "comment": "mine"})).await;
    assert_eq!((a.status, a.body["rule"].as_str()), (422, Some("R-2d")), "{}", a.body);
    // The product owner may; nothing was recorded for the refused ones.
    let a = s.post("/v1/releases/shop-1.4.0/approvals", &paul, json!({"approval": "scope"})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let status = s.get("/v1/releases/shop-1.4.0", &paul).await.body;
    let text = status.to_string();
    assert!(!text.contains("\"user\":\"quinn\""), "{text}");
    assert_eq!(status["state"]["rejections"], json!([]), "{text}");
}

#[tokio::test]
async fn every_state_changing_route_refuses_the_console_cookie_without_its_csrf_token_or_from_another_origin() {
    let Some(issuer) = issuer() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let shop = project(dir.path(), "shop", &console_toml(&issuer));
    let s = serve(std::slice::from_ref(&shop), vec![]).await;
    let rita = api_token(&shop, "rita", &["write"], None).await;
    let planned = s
        .post("/v1/projects/shop/releases", &rita, json!({"version": "1.4.0", "kind": "minor", "tickets": ["SHOP-1"]}))
        .await;
    assert_eq!(planned.status, 201, "{}", planned.body);
    let events = s.get("/v1/releases/shop-1.4.0/history", &rita).await.body.as_array().map(Vec::len);

    // paul may give the scope approval: only the CSRF checks stand in his way.
    let mut paul = Browser::new();
    assert_eq!(paul.sign_in(&s.base, "/console/", "paul").await.status().as_u16(), 303);
    let csrf = paul.call(&s.base, "GET", "/console/session", &[], Value::Null).await.body["csrf"]
        .as_str()
        .expect("csrf")
        .to_owned();
    let mut other = Browser::new();
    assert_eq!(other.sign_in(&s.base, "/console/", "dana").await.status().as_u16(), 303);
    let others = other.call(&s.base, "GET", "/console/session", &[], Value::Null).await.body["csrf"]
        .as_str()
        .expect("csrf")
        .to_owned();
    let cookie = paul.cookie_header();

    let doc = serde_json::to_value(shipwarden_server::openapi::ApiDoc::openapi()).expect("document");
    let mut checked = 0;
    let mut rejections_checked = false;
    for (method, template, op) in operations(&doc) {
        if PUBLIC_PATHS.contains(&template.as_str()) || method == "GET" || method == "HEAD" {
            continue;
        }
        let (path, body, what) = (concrete(&template), body(&doc, &op), format!("{method} {template}"));
        let refusals: [&[(&str, &str)]; 3] = [
            &[("cookie", &cookie)],
            &[("cookie", &cookie), ("x-csrf-token", &others)],
            &[("cookie", &cookie), ("x-csrf-token", &csrf), ("origin", "https://evil.example")],
        ];
        for headers in refusals {
            let a = call_with(&s.base, &method, &path, headers, &body).await;
            assert_eq!(a.status, 403, "{what} {:?}: {}", headers.get(1), a.body);
            assert_eq!(a.body["code"], "FORBIDDEN", "{what}");
            assert!(a.body["detail"].as_str().is_some_and(|d| d.contains("CSRF")), "{what}: {}", a.body);
        }
        checked += 1;
        rejections_checked |= template == "/v1/releases/{id}/rejections";
    }
    assert!(rejections_checked, "the rejection route is in the document, so checked");
    assert!(checked >= 10, "the state-changing routes were checked: {checked}");
    let after = s.get("/v1/releases/shop-1.4.0/history", &rita).await.body.as_array().map(Vec::len);
    assert_eq!(after, events, "nothing was recorded");
    // With its token, from its origin, the cookie does what paul may do.
    let ok = call_with(
        &s.base,
        "POST",
        "/v1/releases/shop-1.4.0/approvals",
        &[("cookie", &cookie), ("x-csrf-token", &csrf), ("origin", &s.base)],
        &Body { content_type: Some("application/json".into()), bytes: br#"{"approval": "scope"}"#.to_vec() },
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}
