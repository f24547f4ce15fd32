//! Responses handed to generated code: [`RawResponse`] (status + bytes, decoded by the generated
//! match on status) and [`Response<T>`] (decoded body plus call metadata).

use std::fmt;
use std::ops::Deref;
use std::time::Duration;

use bytes::Bytes;
use http::header::AsHeaderName;
use http::{HeaderMap, HeaderName};
use serde::de::DeserializeOwned;

use crate::core::scrub::Scrubber;
use crate::core::secret::Secret;
use crate::error::decode::{self, truncate_raw};
use crate::error::{DecodeFailure, Error, GatewayError, TypedBody};
use std::sync::Arc;

/// Response headers in which gateways return their own request/correlation IDs.
/// (Parsed once: looking a header up by `&str` re-parses the name on every call.)
pub(crate) const GATEWAY_ID_HEADERS: [HeaderName; 4] = [
    HeaderName::from_static("x-correlation-id"),
    HeaderName::from_static("x-request-id"),
    HeaderName::from_static("request-id"),
    HeaderName::from_static("x-correlationid"),
];

/// The gateway's own ID of a call: `X-Request-ID` first (API Entreprise / Particulier: "the
/// identifier to quote to support"), else the correlation header we sent as the gateway
/// echoed or replaced it, else any of [`GATEWAY_ID_HEADERS`].
pub(crate) fn gateway_correlation_id(
    headers: &HeaderMap,
    sent_header: impl AsHeaderName,
) -> Option<String> {
    headers
        .get(&GATEWAY_ID_HEADERS[1])
        .or_else(|| headers.get(sent_header))
        .or_else(|| GATEWAY_ID_HEADERS.iter().find_map(|h| headers.get(h)))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn cached(headers: &HeaderMap) -> Option<bool> {
    let v = headers.get("x-response-cached")?.to_str().ok()?.trim();
    if v.eq_ignore_ascii_case("true") || v == "1" {
        Some(true)
    } else if v.eq_ignore_ascii_case("false") || v == "0" {
        Some(false)
    } else {
        None
    }
}

/// Longest cache lifetime believed (a server may send any number).
const MAX_CACHE_LIFETIME: Duration = Duration::from_secs(366 * 24 * 3600);

fn cache_expires_in(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get("x-cache-expires-in")?.to_str().ok()?.trim();
    let secs: u64 = v.parse().ok()?;
    Some(Duration::from_secs(secs).min(MAX_CACHE_LIFETIME))
}

/// A complete HTTP response, not yet decoded.
pub struct RawResponse {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) operation_id: &'static str,
    pub(crate) correlation_id: String,
    pub(crate) gateway_correlation_id: Option<String>,
    pub(crate) retry_after: Option<Duration>,
    /// Removes the call's secrets from error texts built from this response.
    pub(crate) redactor: Redactor,
}

/// The secrets of one call (configured ones plus the access token and FranceConnect token it
/// carried), removed from every error text built from its response.
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    base: Option<Arc<Scrubber>>,
    extra: Vec<Secret>,
}

impl Redactor {
    pub(crate) fn new(base: Option<Arc<Scrubber>>, extra: Vec<Secret>) -> Self {
        Redactor { base, extra }
    }

    fn scrubber(&self) -> Scrubber {
        let mut s = Scrubber::new();
        if let Some(b) = &self.base {
            s.extend(b);
        }
        for e in &self.extra {
            s.add_secret(e);
        }
        s
    }
}

impl fmt::Debug for RawResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawResponse")
            .field("status", &self.status)
            .field("operation_id", &self.operation_id)
            .field("correlation_id", &self.correlation_id)
            .field("gateway_correlation_id", &self.gateway_correlation_id)
            .field("content_type", &self.content_type())
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl RawResponse {
    /// HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// `Content-Type` header.
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }

    /// Response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body bytes.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The correlation ID the runtime sent.
    pub fn correlation_id(&self) -> &str {
        &self.correlation_id
    }

    /// The gateway's correlation/request ID, if returned.
    pub fn gateway_correlation_id(&self) -> Option<&str> {
        self.gateway_correlation_id.as_deref()
    }

    /// Whether the gateway answered from its cache (`X-Response-Cached`, API Particulier);
    /// `None` when it does not say. Ask for a fresh answer with
    /// [`CallOptions::no_cache`](crate::CallOptions::no_cache).
    pub fn cached(&self) -> Option<bool> {
        cached(&self.headers)
    }

    /// How long the gateway keeps this answer in its cache (`X-Cache-Expires-in`, seconds,
    /// at most a year); `None` when absent or not a number.
    pub fn cache_expires_in(&self) -> Option<Duration> {
        cache_expires_in(&self.headers)
    }

    fn wrap<T>(self, body: T) -> Response<T> {
        Response {
            status: self.status,
            headers: self.headers,
            correlation_id: self.correlation_id,
            gateway_correlation_id: self.gateway_correlation_id,
            body,
        }
    }

    fn undecodable<E>(self, reason: String) -> Error<E> {
        let sc = self.redactor.scrubber();
        Error::UndecodableBody(Box::new(DecodeFailure {
            status: self.status,
            operation_id: self.operation_id,
            content_type: self.content_type().map(str::to_owned),
            correlation_id: self.correlation_id,
            gateway_correlation_id: self.gateway_correlation_id,
            reason: sc.scrub(&reason),
            raw_body: sc.scrub(&truncate_raw(&self.body)),
        }))
    }

    /// Decodes a JSON body; a body that does not match `T` gives [`Error::UndecodableBody`].
    pub fn json<T: DeserializeOwned, E>(self) -> Result<Response<T>, Error<E>> {
        match serde_json::from_slice::<T>(&self.body) {
            Ok(v) => Ok(self.wrap(v)),
            Err(e) => Err(self.undecodable(format!("JSON: {e}"))),
        }
    }

    /// Takes the body as UTF-8 text.
    pub fn text<E>(self) -> Result<Response<String>, Error<E>> {
        match std::str::from_utf8(&self.body) {
            Ok(s) => {
                let s = s.to_owned();
                Ok(self.wrap(s))
            }
            Err(e) => Err(self.undecodable(format!("not UTF-8: {e}"))),
        }
    }

    /// Takes the body as bytes.
    pub fn bytes<E>(self) -> Result<Response<Bytes>, Error<E>> {
        let b = self.body.clone();
        Ok(self.wrap(b))
    }

    /// Ignores the body.
    pub fn empty<E>(self) -> Result<Response<()>, Error<E>> {
        Ok(self.wrap(()))
    }

    fn gateway_error(&self) -> GatewayError {
        let d = decode::decode(self.status, &self.headers, &self.body);
        let sc = self.redactor.scrubber();
        GatewayError {
            status: self.status,
            operation_id: self.operation_id,
            correlation_id: self.correlation_id.clone(),
            gateway_correlation_id: self.gateway_correlation_id.clone(),
            code: sc.scrub_opt(d.code),
            message: sc.scrub_opt(d.message),
            timestamp: d.timestamp,
            advice: d.advice,
            details: d.details.iter().map(|x| sc.scrub(x)).collect(),
            dialect: d.dialect,
            retry_after: self.retry_after,
            provider: sc.scrub_opt(d.provider),
            retry_in: d.retry_in,
            content_type: self.content_type().map(str::to_owned),
            raw_body: sc.scrub(&truncate_raw(&self.body)),
            typed_body: None,
        }
    }

    /// A documented error: decodes the body as `B` and wraps it into the operation's error type.
    /// If the body does not decode as `B`, falls back to [`RawResponse::into_error`].
    pub fn documented_error<B: DeserializeOwned, E>(self, wrap: impl FnOnce(B) -> E) -> Error<E> {
        match serde_json::from_slice::<B>(&self.body) {
            Ok(b) => Error::Documented {
                body: wrap(b),
                error: Box::new(self.gateway_error()),
            },
            Err(_) => self.into_error(),
        }
    }

    /// A documented 429: [`Error::RateLimited`] like any 429, carrying the body decoded as `B`
    /// and wrapped into the operation's error type (read it with
    /// [`Error::rate_limited_body`]); without it if the body does not decode as `B`. Any other
    /// status is a [`RawResponse::documented_error`].
    pub fn rate_limited<B, E>(self, wrap: impl FnOnce(B) -> E) -> Error<E>
    where
        B: DeserializeOwned,
        E: Send + Sync + 'static,
    {
        if self.status != 429 {
            return self.documented_error(wrap);
        }
        let mut error = self.gateway_error();
        if let Ok(body) = serde_json::from_slice::<B>(&self.body) {
            error.typed_body = Some(TypedBody(Arc::new(wrap(body))));
        }
        Error::RateLimited(Box::new(error))
    }

    /// Turns an unexpected response into an error, decoding the DGFiP, OAuth 2.0, RFC 6750,
    /// API Entreprise/Particulier and PISTE error formats.
    pub fn into_error<E>(self) -> Error<E> {
        let g = Box::new(self.gateway_error());
        if self.status == 429 {
            Error::RateLimited(g)
        } else {
            Error::Gateway(g)
        }
    }
}

/// A decoded response with its call metadata. Derefs to the body.
pub struct Response<T> {
    status: u16,
    headers: HeaderMap,
    correlation_id: String,
    gateway_correlation_id: Option<String>,
    body: T,
}

impl<T> Response<T> {
    /// HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The correlation ID the runtime sent (log it: support desks ask for it).
    pub fn correlation_id(&self) -> &str {
        &self.correlation_id
    }

    /// The gateway's own correlation/request ID, if returned.
    pub fn gateway_correlation_id(&self) -> Option<&str> {
        self.gateway_correlation_id.as_deref()
    }

    /// Whether the gateway answered from its cache (see [`RawResponse::cached`]).
    pub fn cached(&self) -> Option<bool> {
        cached(&self.headers)
    }

    /// How long the gateway keeps this answer cached (see [`RawResponse::cache_expires_in`]).
    pub fn cache_expires_in(&self) -> Option<Duration> {
        cache_expires_in(&self.headers)
    }

    /// The body.
    pub fn body(&self) -> &T {
        &self.body
    }

    /// Takes the body.
    pub fn into_inner(self) -> T {
        self.body
    }

    /// Transforms the body, keeping the metadata.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            status: self.status,
            headers: self.headers,
            correlation_id: self.correlation_id,
            gateway_correlation_id: self.gateway_correlation_id,
            body: f(self.body),
        }
    }
}

impl<T> Deref for Response<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.body
    }
}

impl<T: fmt::Debug> fmt::Debug for Response<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("correlation_id", &self.correlation_id)
            .field("gateway_correlation_id", &self.gateway_correlation_id)
            .field("body", &self.body)
            .finish()
    }
}
