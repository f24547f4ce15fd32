//! From a [`Request`] to an HTTP request: the URL (query, traceability, API keys), the
//! credential (waiting for a token within the deadline) and the headers and body.

use std::time::Duration;

use http::{HeaderName, HeaderValue};
use tokio::time::Instant;

use crate::auth::ApiKeyLocation;
use crate::auth::Auth;
use crate::auth::token_cache::CachedToken;
use crate::core::secret::Secret;
use crate::error::{Delivery, Error, Undocumented};
use crate::gateway::presets::FranceConnectCarrier;
use crate::gateway::siret;
use crate::gateway::traceability::{self, Traceability};
use crate::wire::request::{Body, Request, query_component};

use super::api::ApiClient;
use super::credentials::{Creds, jwt_expired_message, sensitive_header};

impl ApiClient {
    /// The traceability values of a call: the client's, completed or overridden by the call's.
    pub(super) fn traceability(&self) -> Result<Traceability, String> {
        traceability::resolve(self.inner.traceability.as_ref(), &self.options.traceability)
    }

    pub(super) fn invalid<T>(
        req: &Request,
        correlation_id: &str,
        message: String,
    ) -> Result<T, Error<Undocumented>> {
        Err(Error::InvalidRequest {
            message,
            operation_id: req.operation_id,
            correlation_id: Some(correlation_id.to_owned()),
        })
    }

    pub(super) fn build_url(
        &self,
        req: &Request,
        creds: &Creds,
        correlation_id: &str,
    ) -> Result<String, Error> {
        let mut url = String::with_capacity(self.inner.api_root.len() + req.path.len() + 32);
        url.push_str(&self.inner.api_root);
        if !req.path.is_empty() && !req.path.starts_with('/') {
            url.push('/');
        }
        url.push_str(&req.path);
        let mut pairs: Vec<(&str, &str)> = req
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let traceability;
        if req.traceability {
            traceability = match self.traceability() {
                Ok(t) => t,
                Err(message) => return Self::invalid(req, correlation_id, message),
            };
            if let Err(message) = check_recipient(&traceability.recipient, req) {
                return Self::invalid(req, correlation_id, message.into());
            }
            let t = &traceability;
            pairs.push(("context", &t.context));
            pairs.push(("recipient", &t.recipient));
            pairs.push(("object", &t.object));
        }
        if !req.no_auth && self.france_connect_bearer().is_none() {
            for k in &creds.api_keys {
                if k.location == ApiKeyLocation::Query {
                    pairs.push((&k.name, k.value.expose()));
                }
            }
        }
        let mut sep = if url.contains('?') { '&' } else { '?' };
        for (k, v) in pairs {
            url.push(sep);
            sep = '&';
            url.push_str(&query_component(k));
            url.push('=');
            url.push_str(&query_component(v));
        }
        Ok(url)
    }

    /// The Authorization header value (`Err` if the credential is not a valid header value)
    /// and, for OAuth, the token (its generation and value, for the 401 refresh and scrubbing).
    pub(super) async fn authorization(
        &self,
        req: &Request,
        creds: &Creds,
        correlation_id: &str,
        deadline: Instant,
    ) -> Result<Option<(Result<HeaderValue, ()>, Option<CachedToken>)>, Error> {
        if req.no_auth {
            return Ok(None);
        }
        if let Some(fc) = self.france_connect_bearer() {
            return Ok(Some((
                sensitive_header(&format!("Bearer {}", fc.expose())),
                None,
            )));
        }
        match &creds.auth {
            Auth::None => Ok(None),
            Auth::Static(_) => Ok(Some((creds.static_authorization.clone().ok_or(()), None))),
            Auth::Jwt { expires_at, .. } => {
                if let Some(exp) = expires_at {
                    if *exp <= self.inner.clock.now_utc() {
                        return Err(Error::CredentialExpired {
                            message: jwt_expired_message(*exp),
                            correlation_id: Some(correlation_id.to_owned()),
                        });
                    }
                    self.inner.setup.warn_jwt_expiry(creds);
                }
                Ok(Some((creds.static_authorization.clone().ok_or(()), None)))
            }
            Auth::Token(p) => match tokio::time::timeout_at(deadline, p.token()).await {
                Ok(Ok(t)) => Ok(Some((
                    sensitive_header(&format!("Bearer {}", t.access.expose())),
                    Some(t),
                ))),
                Ok(Err(f)) => Err(f.into_error(req.operation_id, correlation_id)),
                Err(_) => {
                    tracing::warn!(
                        token_url = p.token_url(),
                        "deadline reached while waiting for a token"
                    );
                    Err(Error::Timeout {
                        operation_id: req.operation_id,
                        correlation_id: correlation_id.to_owned(),
                        after: self.call_budget(),
                        delivery: Delivery::NotSent,
                    })
                }
            },
        }
    }

    /// This call's FranceConnect token when it is the call's bearer, in place of the client's
    /// credential and API keys ([`FranceConnectCarrier::Bearer`]).
    pub(super) fn france_connect_bearer(&self) -> Option<&Secret> {
        match self.inner.france_connect {
            FranceConnectCarrier::Bearer => self.options.france_connect_token.as_ref(),
            FranceConnectCarrier::Header(_) => None,
        }
    }

    /// The budget of a call: the per-call timeout, or the retry time plus one attempt.
    pub(super) fn call_budget(&self) -> Duration {
        let policy = self.options.retry.as_ref().unwrap_or(&self.inner.retry);
        self.options
            .timeout
            .unwrap_or_else(|| policy.max_total_time.saturating_add(self.inner.timeout))
    }

    pub(super) fn build_request(
        &self,
        req: &Request,
        creds: &Creds,
        url: &str,
        correlation_id: &str,
        authorization: Option<&Result<HeaderValue, ()>>,
        timeout: Duration,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let mut rb = self
            .inner
            .http
            .request(req.method.clone(), url)
            .timeout(timeout);
        rb = self.credential_headers(rb, req, creds, correlation_id, authorization)?;
        rb = self.extra_headers(rb, req, correlation_id)?;
        match &req.body {
            Body::None => {}
            Body::Bytes {
                content_type,
                bytes,
            } => {
                rb = rb
                    .header(http::header::CONTENT_TYPE, content_type.as_str())
                    .body(bytes.clone());
            }
            Body::Multipart(m) => match m.to_form() {
                Ok(form) => rb = rb.multipart(form),
                Err(e) => return Self::invalid(req, correlation_id, e),
            },
        }
        Ok(rb)
    }

    /// The correlation ID, the credential and the API keys.
    fn credential_headers(
        &self,
        mut rb: reqwest::RequestBuilder,
        req: &Request,
        creds: &Creds,
        correlation_id: &str,
        authorization: Option<&Result<HeaderValue, ()>>,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let bad = |what: &str| {
            Self::invalid::<reqwest::RequestBuilder>(
                req,
                correlation_id,
                format!("{what} is not a valid header value"),
            )
        };
        let Ok(cid) = HeaderValue::from_str(correlation_id) else {
            return bad("the correlation ID");
        };
        rb = rb.header(self.inner.correlation_header.clone(), cid);
        if let Some(a) = authorization {
            let Ok(v) = a else {
                return bad("the credential");
            };
            rb = rb.header(http::header::AUTHORIZATION, v.clone());
        }
        if !req.no_auth && self.france_connect_bearer().is_none() {
            for k in &creds.api_keys {
                if k.location == ApiKeyLocation::Header {
                    let Ok(name) = HeaderName::from_bytes(k.name.as_bytes()) else {
                        return bad("the API key header name");
                    };
                    let Ok(mut v) = HeaderValue::from_str(k.value.expose()) else {
                        return bad("the API key");
                    };
                    v.set_sensitive(true);
                    rb = rb.header(name, v);
                }
            }
        }
        Ok(rb)
    }

    /// The FranceConnect token, `Accept`, the call option headers, the operation's headers and
    /// cookies.
    fn extra_headers(
        &self,
        mut rb: reqwest::RequestBuilder,
        req: &Request,
        correlation_id: &str,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let bad = |what: &str| {
            Self::invalid::<reqwest::RequestBuilder>(
                req,
                correlation_id,
                format!("{what} is not a valid header value"),
            )
        };
        if let (Some(fc), FranceConnectCarrier::Header(name)) = (
            &self.options.france_connect_token,
            &self.inner.france_connect,
        ) {
            let (Ok(n), Ok(mut v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(fc.expose()),
            ) else {
                return bad("the FranceConnect token");
            };
            v.set_sensitive(true);
            rb = rb.header(n, v);
        }
        if self.options.no_cache {
            rb = rb.header(http::header::CACHE_CONTROL, "no-cache");
        }
        if let Some(a) = req.accept {
            rb = rb.header(http::header::ACCEPT, a);
        }
        for (name, value) in &self.options.headers {
            let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) else {
                return bad(&format!("call option header {name}"));
            };
            rb = rb.header(n, v);
        }
        for (name, value) in &req.headers {
            let Ok(v) = HeaderValue::from_str(value) else {
                return bad(&format!("header {name}"));
            };
            let Ok(n) = HeaderName::from_bytes(name.as_bytes()) else {
                return bad(&format!("header name {name}"));
            };
            rb = rb.header(n, v);
        }
        if !req.cookies.is_empty() {
            let cookie = req
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={}", query_component(v)))
                .collect::<Vec<_>>()
                .join("; ");
            let Ok(v) = HeaderValue::from_str(&cookie) else {
                return bad("cookie");
            };
            rb = rb.header(http::header::COOKIE, v);
        }
        Ok(rb)
    }
}

/// Refuses, before sending, a traceability recipient the gateway would refuse (and count
/// against the quota): not a SIRET, or the very company the call asks about. The messages
/// name no value: the target may be a person's SIREN.
fn check_recipient(recipient: &str, req: &Request) -> Result<(), &'static str> {
    if !siret::is_valid_siret(recipient) {
        return Err(
            "the traceability recipient is not a valid SIRET (14 digits with a Luhn key, \
                    or La Poste's digit-sum rule); the gateway refuses it with 422: give the \
                    SIRET of the public body entitled to the data",
        );
    }
    let query = req.query.iter().map(|(_, v)| v.as_str());
    if siret::asks_about_recipient(recipient, &req.path, query) {
        return Err(
            "the traceability recipient is the SIREN/SIRET this call asks about; the \
                    gateway refuses it (422, code 00211): the recipient is the public body \
                    entitled to the data, never the company looked up",
        );
    }
    Ok(())
}
