//! Extractors whose every rejection is a problem document (RFC 9457), never
//! axum's plain text: malformed JSON, wrong types, unknown fields, a missing
//! content type, a body over the limit, a path or a query that does not parse.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The longest path parameter accepted (a release id, a project, a step key).
pub const MAX_PATH_PARAM: usize = 128;

/// A JSON body (`Content-Type: application/json`) deserialized into `T`.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    // 422 is a refusal by a rule here: a body that does not fit its schema is 400.
    let status = match rejection.status() {
        StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
        other => other,
    };
    let message = match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "the body must be JSON: send `Content-Type: application/json`".into()
        }
        JsonRejection::JsonSyntaxError(e) => format!("the body is not well-formed JSON: {}", e.body_text()),
        JsonRejection::JsonDataError(e) => format!("the body does not fit the request's schema: {}", e.body_text()),
        JsonRejection::BytesRejection(_) if status == StatusCode::PAYLOAD_TOO_LARGE => {
            "the body is larger than `[server] max_body_bytes`".into()
        }
        other => other.body_text(),
    };
    status_error(status, message)
}

/// A 4xx with `message`; 413 keeps its status, anything else unexpected is 400.
pub(crate) fn status_error(status: StatusCode, message: impl std::fmt::Display) -> ApiError {
    let status = if status.is_client_error() { status } else { StatusCode::BAD_REQUEST };
    let mut error = ApiError::invalid(message);
    error.status = status;
    error
}

/// Path parameters deserialized into `T`, each checked: not empty, at most
/// [`MAX_PATH_PARAM`] bytes, no control character, no `/` or `\`, not `.` or `..`.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = axum::extract::RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| status_error(StatusCode::BAD_REQUEST, e.body_text()))?;
        for (name, value) in &raw {
            check_segment(name, value)?;
        }
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(path_rejection(&rejection)),
        }
    }
}

/// Whether a decoded path parameter is one a name can be.
fn check_segment(name: &str, value: &str) -> Result<(), ApiError> {
    let bad = |why: &str| ApiError::invalid(format!("path parameter `{name}`: {why}"));
    if value.is_empty() {
        return Err(bad("empty"));
    }
    if value.len() > MAX_PATH_PARAM {
        return Err(bad(&format!("longer than {MAX_PATH_PARAM} bytes")));
    }
    if value.chars().any(char::is_control) {
        return Err(bad("holds a control character"));
    }
    if value.contains(['/', '\\']) || value == "." || value == ".." {
        return Err(bad("holds a path separator or is `.`/`..`"));
    }
    Ok(())
}

fn path_rejection(rejection: &PathRejection) -> ApiError {
    status_error(StatusCode::BAD_REQUEST, format!("the path does not parse: {}", rejection.body_text()))
}

/// The query string deserialized into `T` (unknown parameters refused where `T` says so).
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(query_rejection(&rejection)),
        }
    }
}

fn query_rejection(rejection: &QueryRejection) -> ApiError {
    status_error(StatusCode::BAD_REQUEST, format!("the query does not parse: {}", rejection.body_text()))
}

/// Any route the API does not have: 404 problem+json.
pub async fn no_route(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no route `{}`", uri.path()))
}

/// A route asked with a method it does not answer: 405 problem+json.
pub async fn wrong_method(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    status_error(StatusCode::METHOD_NOT_ALLOWED, format!("`{method}` is not allowed on `{}`", uri.path()))
}
