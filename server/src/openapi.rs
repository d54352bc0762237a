//! The OpenAPI 3.1 document of the API, generated from the handlers
//! (utoipa), served at `/openapi.json` and committed as `server/openapi.json`.

use axum::Json;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
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
    /// The stable code: `REFUSED`, `CONFLICT`, `ADAPTER`, `CONFIG`, `INVALID_INPUT`, `NOT_FOUND`, `INTEGRITY`, `UNAUTHENTICATED`, `FORBIDDEN`, `RATE_LIMITED`, `TIMEOUT`.
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
        // The web console's session (issue #22): a state-changing request also sends `X-CSRF-Token`.
        components.add_security_scheme(
            "console_session",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Cookie(
                utoipa::openapi::security::ApiKeyValue::with_description(
                    "sw_session",
                    "The web console's session (from /console/login); requests other than GET and HEAD also send the session's `X-CSRF-Token`",
                ),
            )),
        );
    }
}

/// The answers every route may give besides its own: 400 (a malformed
/// path, query or body), 401 (no verified identity), 429 (the rate limit),
/// 503 (the request timeout, or the identity provider down); and the
/// console's session cookie beside the bearer token on every route that takes one.
struct Common;

impl Modify for Common {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    crate::error::PROBLEM_JSON,
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
                )
                .build()
        };
        let common = [
            ("400", "A malformed path, query or body (`INVALID_INPUT`)"),
            ("401", "No verified identity (`UNAUTHENTICATED`, with a `WWW-Authenticate: Bearer` challenge)"),
            ("429", "Over `[server] rate_limit` for this identity (`RATE_LIMITED`, with `Retry-After`)"),
            (
                "503",
                "Over `[server] request_timeout` (`TIMEOUT`; what the request started goes on), or the identity provider is down",
            ),
        ];
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.post, &mut item.put, &mut item.delete, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                // Every route that takes a bearer token takes the console's session cookie too.
                if let Some(security) = &mut operation.security
                    && !security.is_empty()
                {
                    security.push(SecurityRequirement::new("console_session", Vec::<String>::new()));
                }
                for (code, description) in common {
                    operation.responses.responses.entry(code.to_owned()).or_insert_with(|| problem(description).into());
                }
            }
        }
    }
}

/// The API's description.
#[derive(OpenApi)]
#[openapi(
    info(title = "shipwarden", description = "The release procedure as a service: plan, approve, gate, deploy, verify, roll back, audit."),
    paths(
        crate::api::releases::plan,
        crate::api::releases::status,
        crate::api::releases::approve,
        crate::api::releases::reject,
        crate::api::releases::list,
        crate::api::actions::evidence,
        crate::api::actions::evidence_file,
        crate::api::audit::bundle,
        crate::api::actions::advance,
        crate::api::actions::schedule,
        crate::api::actions::override_window,
        crate::api::actions::deploy,
        crate::api::actions::verify,
        crate::api::actions::rollback,
        crate::api::actions::cancel,
        crate::api::actions::resolve,
        crate::api::actions::report,
        crate::api::audit::history,
        crate::api::audit::audit,
        crate::api::audit::notes,
        crate::api::audit::calendar,
        crate::api::audit::duties,
        crate::api::links::describe,
        crate::api::links::confirm,
        crate::api::inbox::me,
        crate::api::inbox::inbox,
        crate::api::policy::policy,
        crate::live::release_events,
        crate::live::events,
        crate::metrics::metrics,
        crate::metrics::healthz,
        crate::metrics::readyz,
    ),
    components(schemas(Problem)),
    modifiers(&Bearer, &Common),
    tags(
        (name = "releases", description = "Releases: plan, status, approvals and rejections, list, cancel"),
        (name = "evidence", description = "Evidence for gates: values, CI's report files, the signed bundle"),
        (name = "steps", description = "Automatic and reported steps: advance, deploy, verify, roll back, resolve"),
        (name = "schedule", description = "Windows, bookings, overrides, the calendar and due duties"),
        (name = "audit", description = "History, audit export and verification, notes"),
        (name = "live", description = "Server-sent events: every appended audit event and step log line"),
        (name = "people", description = "Who calls, and what waits for them (the console's inbox)"),
        (name = "operations", description = "Metrics and probes (no identity needed; expose them only internally)"),
    )
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
