//! Every failure of a request as `application/problem+json` (RFC 9457),
//! carrying the same stable codes and facts as the bindings' errors
//! ([`shipwarden_bindings::error::ErrorDoc`]): a refusal names its rule, its
//! stage and each unmet requirement.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shipwarden::engine::{EngineError, ErrorCode};
use shipwarden_bindings::error::ErrorDoc;

/// The media type of a problem document.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A request that failed: an HTTP status and the error document.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The error's code and facts.
    pub doc: Box<ErrorDoc>,
    /// `WWW-Authenticate`, for a 401.
    challenge: Option<&'static str>,
    /// A code beyond the engine's (`UNAUTHENTICATED`, `FORBIDDEN`).
    own_code: Option<&'static str>,
}

/// The code of a failure the engine does not name: who is calling.
pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
/// The code of a caller without the rights to do what they asked.
pub const FORBIDDEN: &str = "FORBIDDEN";

impl ApiError {
    /// A failure with `status` and `doc`.
    pub fn new(status: StatusCode, doc: ErrorDoc) -> Self {
        ApiError { status, doc: Box::new(doc), challenge: None, own_code: None }
    }

    /// The status the engine's code is answered with.
    pub fn status_of(code: ErrorCode) -> StatusCode {
        match code {
            ErrorCode::Refused => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::Adapter => StatusCode::BAD_GATEWAY,
            ErrorCode::Config => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::InvalidInput => StatusCode::BAD_REQUEST,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Integrity => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A document, answered with the status of its code.
    pub fn doc(doc: ErrorDoc) -> Self {
        ApiError::new(Self::status_of(doc.code), doc)
    }

    /// A bad argument (400).
    pub fn invalid(message: impl std::fmt::Display) -> Self {
        ApiError::doc(ErrorDoc::invalid(message))
    }

    /// Nothing by that name the caller may see (404): a project the caller may
    /// not see is answered the same as one that does not exist.
    pub fn not_found(message: impl std::fmt::Display) -> Self {
        ApiError::doc(ErrorDoc::new(ErrorCode::NotFound, message, false))
    }

    /// No verified identity (401, with a `Bearer` challenge).
    pub fn unauthenticated(message: impl std::fmt::Display) -> Self {
        let mut e = ApiError::new(StatusCode::UNAUTHORIZED, ErrorDoc::new(ErrorCode::InvalidInput, message, false));
        e.challenge = Some("Bearer realm=\"shipwarden\"");
        e.own_code = Some(UNAUTHENTICATED);
        e
    }

    /// A verified caller without the right (403).
    pub fn forbidden(message: impl std::fmt::Display) -> Self {
        let mut e = ApiError::new(StatusCode::FORBIDDEN, ErrorDoc::new(ErrorCode::Refused, message, false));
        e.own_code = Some(FORBIDDEN);
        e
    }

    /// A failure of the HTTP layer with its own `code` (`RATE_LIMITED`,
    /// `TIMEOUT`): no engine code fits it.
    pub fn http(status: StatusCode, code: &'static str, message: impl std::fmt::Display, retryable: bool) -> Self {
        let mut e = ApiError::new(status, ErrorDoc::new(ErrorCode::InvalidInput, message, retryable));
        e.own_code = Some(code);
        e
    }

    /// The document as problem+json.
    pub fn body(&self) -> serde_json::Value {
        let mut body = serde_json::json!({
            "type": format!("https://shipwarden.dev/problems/{}", self.code().to_ascii_lowercase().replace('_', "-")),
            "title": self.title(),
            "status": self.status.as_u16(),
            "detail": self.doc.message,
        });
        if let (Some(map), serde_json::Value::Object(doc)) = (body.as_object_mut(), self.doc.to_json()) {
            for (k, v) in doc {
                if !v.is_null() && k != "message" {
                    map.insert(k, v);
                }
            }
            map.insert("code".into(), self.code().into());
        }
        body
    }

    /// The code written in the document: the engine's, or `UNAUTHENTICATED` / `FORBIDDEN`.
    pub fn code(&self) -> &'static str {
        self.own_code.unwrap_or(self.doc.code.as_str())
    }

    fn title(&self) -> &'static str {
        match self.code() {
            "REFUSED" => "Refused by a rule of the policy",
            "CONFLICT" => "Another driver changed the release or holds its lease",
            "ADAPTER" => "An outside system failed",
            "CONFIG" => "The configuration has problems",
            "INVALID_INPUT" => "The request is not valid",
            "NOT_FOUND" => "Not found",
            "INTEGRITY" => "The audit trail does not verify",
            UNAUTHENTICATED => "No verified identity",
            FORBIDDEN => "Not allowed",
            "RATE_LIMITED" => "Too many requests",
            "TIMEOUT" => "The request took too long",
            _ => "Error",
        }
    }
}

impl From<EngineError> for ApiError {
    /// The engine's error with the status of its code; a refusal only for
    /// roles the caller lacks (R-2d) is 403, still with code `REFUSED`.
    fn from(e: EngineError) -> Self {
        let only_roles = e.refusal().is_some_and(|r| {
            !r.unmet.is_empty() && r.unmet.iter().all(|u| matches!(u.requirement, shipwarden::Requirement::Role { .. }))
        });
        let mut error = ApiError::doc(ErrorDoc::engine(e));
        if only_roles {
            error.status = StatusCode::FORBIDDEN;
        }
        error
    }
}

impl From<shipwarden_adapters::config::ConfigError> for ApiError {
    fn from(e: shipwarden_adapters::config::ConfigError) -> Self {
        ApiError::doc(ErrorDoc::config(e))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = self.status.as_u16(), code = self.code(), "{}", self.doc.message);
        }
        let mut response = (self.status, axum::Json(self.body())).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(challenge) = self.challenge {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}
