//! The OpenAPI 3.1 document of the API, generated from the handlers
//! (utoipa), served at `/openapi.json` and committed as `server/openapi.json`.

use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// A problem document (RFC 9457) with shipwarden's error facts.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened, as people read it.
    pub detail: String,
    /// The stable code: `REFUSED`, `CONFLICT`, `ADAPTER`, `CONFIG`, `INVALID_INPUT`, `NOT_FOUND`, `INTEGRITY`, `UNAUTHENTICATED`, `FORBIDDEN`.
    pub code: String,
    /// Whether the same request may succeed later.
    pub retryable: bool,
    /// For `REFUSED`: the rule (`R-5a`).
    pub rule: Option<String>,
    /// For `REFUSED`: the release's stage.
    pub stage: Option<String>,
    /// For `REFUSED`: every unmet requirement.
    pub unmet: Option<Vec<serde_json::Value>>,
}

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT or API token").build(),
            ),
        );
    }
}

/// The API's description.
#[derive(OpenApi)]
#[openapi(
    info(title = "shipwarden", description = "The release procedure as a service: plan, approve, gate, deploy, verify, roll back, audit."),
    paths(crate::api::releases::plan, crate::api::releases::status, crate::api::releases::approve,
        crate::live::release_events, crate::live::events,
        crate::metrics::metrics, crate::metrics::healthz, crate::metrics::readyz),
    components(schemas(Problem)),
    modifiers(&Bearer),
    tags((name = "releases", description = "Releases and their steps"),
         (name = "live", description = "Server-sent events: every appended audit event and step log line"),
         (name = "operations", description = "Metrics and probes (no identity needed; expose them only internally)"))
)]
pub struct ApiDoc;

/// The document as JSON text (what `server/openapi.json` holds).
pub fn json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

/// `GET /openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
