//! The console's files, embedded at compile time from `console/dist/` (see
//! `server/build.rs`): `index.html` for `/console/` and every client-side
//! route under it, and `console/dist/assets/*` under `/console/assets/`
//! (their names carry a content hash, so they are cached for a year; a
//! `.gz` twin is sent to clients that accept gzip).

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

mod files {
    include!(concat!(env!("OUT_DIR"), "/console_files.rs"));
}

/// The Content-Security-Policy of the console's pages: only its own scripts,
/// styles and API; no frames, no inline script.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The embedded file at `name` (a path under `console/dist/`).
pub fn file(name: &str) -> Option<&'static [u8]> {
    files::FILES.iter().find(|(n, _)| *n == name).map(|(_, bytes)| *bytes)
}

/// The names of every embedded file.
pub fn names() -> impl Iterator<Item = &'static str> {
    files::FILES.iter().map(|(n, _)| *n)
}

/// The media type of a file, by its extension.
pub fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).as_deref() {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("webp") => "image/webp",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `GET /console/` and every client-side route under it: `index.html`,
/// never cached without asking, with the console's CSP; 503 when the console
/// was not built into this binary.
pub async fn index() -> Response {
    let Some(page) = file("index.html") else {
        return ApiError::http(
            StatusCode::SERVICE_UNAVAILABLE,
            "CONSOLE_NOT_BUILT",
            "this binary was built without the console: run `npm ci && npm run build` in console/, then build shipwarden again",
            false,
        )
        .into_response();
    };
    let mut response = page.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    response
}

/// Whether the request's `Accept-Encoding` takes gzip (with a quality above zero).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|h| h.to_str().ok()).flat_map(|h| h.split(',')).any(
        |item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let zero =
                parts.any(|p| p.strip_prefix("q=").is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)));
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !zero
        },
    )
}

/// `GET /console/assets/`: no asset has an empty name (404, not the app's page).
pub async fn no_asset() -> Response {
    ApiError::not_found("no console asset ``").into_response()
}

/// `GET /console/assets/{name}`: the embedded file, cached for a year
/// (`immutable`: its name changes with its content), gzip-encoded when the
/// client accepts it and a `.gz` twin is embedded; 404 otherwise.
pub async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let path = format!("assets/{name}");
    let served = (!name.ends_with(".gz") && !name.split('/').any(|s| s.is_empty() || s == "." || s == ".."))
        .then(|| file(&path))
        .flatten();
    let Some(plain) = served else {
        return ApiError::not_found(format!("no console asset `{}`", name.chars().take(128).collect::<String>()))
            .into_response();
    };
    let gzipped = accepts_gzip(&headers).then(|| file(&format!("{path}.gz"))).flatten();
    let mut response = gzipped.unwrap_or(plain).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&name)));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if gzipped.is_some() {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_taken_unless_its_quality_is_zero() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, v.parse().expect("header"));
            accepts_gzip(&h)
        };
        assert!(with("gzip, deflate, br"));
        assert!(with("br;q=1.0, gzip;q=0.8"));
        assert!(!with("gzip;q=0"));
        assert!(!with("br"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn types_by_extension() {
        assert_eq!(content_type("app-1.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("app.CSS"), "text/css; charset=utf-8");
        assert_eq!(content_type("x"), "application/octet-stream");
    }
}
