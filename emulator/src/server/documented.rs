//! The documented answer of a mounted operation: its example for the status asked.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{Shared, gateway_error, generic_code};
use crate::spec::{self, Route};

/// The documented answer: the first 2xx, or the status `X-Emulator-Status` asks for, with the
/// example `X-Emulator-Example` names (the first one otherwise).
pub(super) fn documented(
    shared: &Shared,
    route: &Route,
    headers: &HeaderMap,
    forced: Option<u16>,
) -> Response {
    let kind = shared.config.kind;
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let forced_text = forced.map(|s| s.to_string());
    let asked = forced_text.as_deref().or(header("x-emulator-status"));
    let status = match asked {
        Some(s) => match s
            .trim()
            .parse::<u16>()
            .ok()
            .and_then(|n| StatusCode::from_u16(n).ok())
        {
            Some(code) => code,
            None => {
                return emulator_error(&format!("X-Emulator-Status {s:?} is not a status code"));
            }
        },
        None => StatusCode::from_u16(route.success()).unwrap_or(StatusCode::OK),
    };
    let Some(canned) = route.responses.get(&status.as_u16()) else {
        if asked.is_none() {
            return status.into_response();
        }
        // Not documented: the gateway's own error body for that status.
        let mut response = gateway_error(
            kind,
            status,
            &generic_code(kind, status.as_u16()),
            "emulated failure (X-Emulator-Status)",
        );
        if status == StatusCode::TOO_MANY_REQUESTS {
            crate::respond::set_retry_after(&mut response, shared.config.retry_after);
        }
        return response;
    };
    let mut response = match spec::choose(&canned.bodies, header("accept")) {
        None => typed_body(Body::empty(), canned.empty_content_type.as_deref()),
        Some(body) => match example_response(route, status, body, header("x-emulator-example")) {
            Ok(r) => r,
            Err(mistake) => return emulator_error(&mistake),
        },
    };
    *response.status_mut() = status;
    for (name, value) in &canned.headers {
        if let (Ok(n), Ok(v)) = (
            axum::http::HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(value),
        ) && n != "content-type"
        {
            response.headers_mut().insert(n, v);
        }
    }
    // A configured Retry-After wins over the document's: tests must not wait for an example's hour.
    if status == StatusCode::TOO_MANY_REQUESTS
        && (shared.config.retry_after.is_some() || !response.headers().contains_key("retry-after"))
    {
        crate::respond::set_retry_after(&mut response, shared.config.retry_after);
    }
    response
}

/// A response with `body` and, if it is a valid header value, the content type of
/// `media_type`.
fn typed_body(body: Body, media_type: Option<&str>) -> Response {
    let mut r = Response::new(body);
    let content_type = media_type.and_then(|mt| HeaderValue::from_str(spec::content_type(mt)).ok());
    if let Some(ct) = content_type {
        r.headers_mut().insert("content-type", ct);
    }
    r
}

/// The example `wanted` names (the first one otherwise) in the documented media type; `Err`
/// with the emulator error's message if no example has that name.
fn example_response(
    route: &Route,
    status: StatusCode,
    body: &spec::Body,
    wanted: Option<&str>,
) -> Result<Response, String> {
    let example = match wanted {
        Some(name) => match body.examples.iter().find(|(n, _)| n == name) {
            Some((_, e)) => Some(e),
            None => {
                return Err(format!(
                    "{} {}: no example named {name:?} for status {status}",
                    route.method, route.template
                ));
            }
        },
        None => body.examples.first().map(|(_, e)| e),
    };
    let media_type = Some(body.media_type.as_str());
    Ok(match example {
        Some(e) => typed_body(Body::from(spec::render(&body.media_type, e)), media_type),
        None => {
            // Neither example nor schema: an empty body, still of the documented type.
            let mut r = typed_body(Body::empty(), media_type);
            r.headers_mut().insert(
                "x-emulator-warning",
                HeaderValue::from_static("the document gives no example for this response"),
            );
            r
        }
    })
}

/// A mistake in the test's use of the emulator: plain text, loud.
pub(super) fn emulator_error(message: &str) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [("content-type", "text/plain"), ("x-emulator-error", "1")],
        format!("emulator: {message}"),
    )
        .into_response()
}
