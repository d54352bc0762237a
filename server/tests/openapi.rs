//! `server/openapi.json` is the document the code generates: platform teams
//! generate their clients from the committed file, so it may not drift.
//! `SHIPWARDEN_UPDATE_TYPES=1 cargo test -p shipwarden-server --test openapi` rewrites it.

#[test]
fn the_committed_openapi_document_is_the_generated_one() {
    let generated = shipwarden_server::openapi::json() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    if std::env::var_os("SHIPWARDEN_UPDATE_TYPES").is_some() {
        std::fs::write(&path, &generated).expect("write openapi.json");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "server/openapi.json differs from the API's code: run SHIPWARDEN_UPDATE_TYPES=1 cargo test -p shipwarden-server --test openapi and commit it"
    );
    let doc: serde_json::Value = serde_json::from_str(&generated).expect("json");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "OpenAPI 3.1: {}", doc["openapi"]);
}
