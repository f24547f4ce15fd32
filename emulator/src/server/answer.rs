//! One API call, from the route it targets to its answer: authentication, the gateways'
//! own refusals, scripted failures, quotas, then the fixture case or the documented example.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;

use super::auth::{account_label, authenticate, is_uuid, throttled, unauthorized};
use super::documented::documented;
use super::quota::{Admission, admit};
use super::{Shared, check_request, gateway_error, generic_code};
use crate::config::Kind;
use crate::fixtures::{Endpoint, Fixtures};
use crate::spec::Route;
use crate::state::Inner;
use crate::v3;

/// What a call targets: a mounted operation, a fixture endpoint, or both.
struct Target<'a> {
    route: Option<&'a Route>,
    fixture: Option<(&'a Endpoint, BTreeMap<String, Vec<String>>)>,
}

impl Target<'_> {
    /// `(operationId, METHOD, template)`: the names scripted failures are keyed by.
    fn names(&self, method: &Method) -> (Option<String>, String, String) {
        match (self.route, &self.fixture) {
            (Some(r), _) => (r.operation_id.clone(), r.method.clone(), r.template.clone()),
            (None, Some((e, _))) => (None, method.to_string(), e.template.clone()),
            (None, None) => (None, method.to_string(), String::new()),
        }
    }
}

/// The answer to one API call; `None` when the call earned the ban (it is held unanswered).
pub(super) fn answer(
    shared: &Arc<Shared>,
    conn: SocketAddr,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<Response> {
    let kind = shared.config.kind;
    let now = shared.now();
    if kind.bans()
        && *method == Method::GET
        && let Some(name) = ping_name(uri.path())
    {
        shared.lock().stats.api_calls += 1;
        return Some(ping(shared, name));
    }
    let fixtures = shared.fixtures();
    let (target, nothing_on_path) = resolve(shared, &fixtures, method, uri);
    let meta = kind.bans() && *method == Method::GET && meta_path(kind, uri.path());

    let mut inner = shared.lock();
    inner.stats.api_calls += 1;
    if let Some(id) = headers
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok())
    {
        inner.correlation_ids.insert(id.to_string());
    }
    if target.route.is_none() && target.fixture.is_none() && !meta {
        drop(inner);
        return Some(not_found(kind, method, uri, nothing_on_path));
    }
    let public = target.route.is_some_and(|r| r.public) && target.fixture.is_none();
    let who = if public {
        Ok("anonymous".to_string())
    } else {
        let fc = target.fixture.is_some().then_some(&*fixtures);
        authenticate(shared, &inner, headers, now, fc)
    };
    count_arrival(
        &mut inner,
        who.as_deref().unwrap_or("unauthenticated"),
        conn,
        now,
    );
    let who = match who {
        Ok(who) => who,
        Err(failure) => {
            inner.stats.unauthorized += 1;
            return Some(unauthorized(kind, &failure));
        }
    };
    let granted = granted_scopes(&who, &fixtures);
    if meta {
        drop(inner);
        return Some(meta_answer(kind, &who, granted.unwrap_or_default()));
    }
    if let Some(refusal) = target
        .route
        .and_then(|route| dgfip_refusal(&mut inner, kind, route, headers))
    {
        return Some(refusal);
    }
    let (forced, provider) = match scripted(&inner, kind, &target, method) {
        Ok(scripted) => scripted,
        Err(response) => return Some(*response),
    };
    let quota = match admit(shared, &mut inner, &who, conn, now, uri.path()) {
        Admission::Admit(quota) => quota,
        Admission::Refuse(response) => return Some(response),
        Admission::Ban => return None,
    };
    drop(inner);

    let mut response = match provider {
        Some(p) => p.response(),
        None => respond(shared, &target, &fixtures, &who, uri, headers, body, forced),
    };
    quota.apply(kind, response.headers_mut());
    if let Some(granted) = granted {
        filter(shared, &fixtures, &mut response, &granted);
    }
    Some(response)
}

/// The mounted operation and fixture endpoint a call targets; `true` when no operation of
/// any method has this path.
fn resolve<'a>(
    shared: &'a Shared,
    fixtures: &'a Fixtures,
    method: &Method,
    uri: &Uri,
) -> (Target<'a>, bool) {
    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let on_path: Vec<&Route> = (shared.routes.iter())
        .filter(|r| r.matches_path(&segments))
        .collect();
    let target = Target {
        route: (on_path.iter())
            .filter(|r| r.method == method.as_str())
            .max_by_key(|r| r.literal_count())
            .copied(),
        fixture: (*method == Method::GET)
            .then(|| fixtures.endpoint(uri.path()))
            .flatten(),
    };
    (target, on_path.is_empty())
}

/// Scripted gateway-wide failures (after authentication, like the real gateways'), else the
/// forced status and provider error of the operation, if any.
fn scripted(
    inner: &Inner,
    kind: Kind,
    target: &Target<'_>,
    method: &Method,
) -> Result<(Option<u16>, Option<v3::ProviderError>), Box<Response>> {
    let scenario = &inner.scenario;
    if let Some(secs) = scenario.throttle {
        return Err(Box::new(throttled(kind, secs)));
    }
    if scenario.unavailable {
        return Err(Box::new(gateway_error(
            kind,
            StatusCode::SERVICE_UNAVAILABLE,
            &generic_code(kind, 503),
            "Service indisponible (maintenance)",
        )));
    }
    let (operation_id, op_method, template) = target.names(method);
    let id = operation_id.as_deref();
    let forced = (scenario.forced_for(id, &op_method, &template)).map(|f| f.status);
    Ok((
        forced,
        scenario.provider_error_for(id, &op_method, &template),
    ))
}

/// The fixture case, else the documented example, else 404.
#[allow(clippy::too_many_arguments)]
fn respond(
    shared: &Shared,
    target: &Target<'_>,
    fixtures: &Fixtures,
    who: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    forced: Option<u16>,
) -> Response {
    let kind = shared.config.kind;
    if forced.is_none()
        && let Some((endpoint, bound)) = &target.fixture
    {
        let case = match who.strip_prefix("fc:").and_then(|t| fixtures.fc_token(t)) {
            Some(token) => endpoint.by_france_connect(token),
            None => endpoint.by_params(&request_params(bound, uri)),
        };
        if let Some(case) = case {
            let mut response = case_response(shared, case.status, &case.payload);
            if let Ok(file) = HeaderValue::from_str(&case.file) {
                response.headers_mut().insert("x-emulator-case", file);
            }
            return response;
        }
    }
    let Some(route) = target.route else {
        if let Some(status) = forced.and_then(|s| StatusCode::from_u16(s).ok()) {
            return gateway_error(
                kind,
                status,
                &generic_code(kind, status.as_u16()),
                "emulated failure",
            );
        }
        return gateway_error(
            kind,
            StatusCode::NOT_FOUND,
            "00404",
            "Aucun cas de test ne correspond à ces paramètres",
        );
    };
    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    if forced.is_none()
        && let Err(problem) = check_request(route, &segments, uri, headers, body)
    {
        return gateway_error(
            kind,
            StatusCode::BAD_REQUEST,
            &generic_code(kind, 400),
            &problem,
        );
    }
    documented(shared, route, headers, forced)
}

/// A case's status and payload, as written in its file.
fn case_response(shared: &Shared, status: u16, payload: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = Response::new(axum::body::Body::from(payload.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    if status == StatusCode::TOO_MANY_REQUESTS {
        crate::respond::set_retry_after(&mut response, shared.config.retry_after);
    }
    response
}

/// The request's parameters: the path's, then the query's (`name[]` read as `name`).
fn request_params(
    bound: &BTreeMap<String, Vec<String>>,
    uri: &Uri,
) -> BTreeMap<String, Vec<String>> {
    let mut params = bound.clone();
    for (k, v) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        let key = k.strip_suffix("[]").unwrap_or(&k).to_string();
        params.entry(key).or_default().push(v.into_owned());
    }
    params
}

/// API Particulier production filtering of a 2xx JSON answer by the token's scopes.
fn filter(shared: &Shared, fixtures: &Fixtures, response: &mut Response, granted: &[String]) {
    let config = &shared.config;
    if !config.v3.filter_by_scopes
        || config.kind != Kind::ApiParticulier
        || !response.status().is_success()
    {
        return;
    }
    let body = std::mem::take(response.body_mut());
    // Bodies here are the emulator's own (fixtures, examples): small and already in memory.
    let bytes = match ready_bytes(body) {
        Some(bytes) => bytes,
        None => return,
    };
    let known: Vec<String> = (fixtures.france_connect.iter())
        .flat_map(|t| t.scopes.iter().cloned())
        .collect();
    let mut value = serde_json::from_slice::<serde_json::Value>(&bytes).ok();
    let filtered = value
        .as_mut()
        .is_some_and(|v| v3::filter_by_scopes(v, granted, &known));
    *response.body_mut() = match (filtered, value) {
        (true, Some(value)) => {
            response.headers_mut().remove("content-length");
            axum::body::Body::from(value.to_string())
        }
        _ => axum::body::Body::from(bytes),
    };
}

/// The bytes of a body already complete in memory (the emulator's own answers are built
/// from strings and byte vectors): polled once, never waited for.
fn ready_bytes(body: axum::body::Body) -> Option<Vec<u8>> {
    let mut future = std::pin::pin!(axum::body::to_bytes(body, 64 << 20));
    let waker = std::task::Waker::noop();
    match future
        .as_mut()
        .poll(&mut std::task::Context::from_waker(waker))
    {
        std::task::Poll::Ready(Ok(bytes)) => Some(bytes.to_vec()),
        _ => None,
    }
}

/// The scopes of the caller, when its credentials say: a JWT's `scopes` claim, a
/// FranceConnect token's scopes. `None`: nothing to filter by (API keys, other gateways).
fn granted_scopes(who: &str, fixtures: &Fixtures) -> Option<Vec<String>> {
    if let Some(token) = who.strip_prefix("jwt:") {
        return v3::jwt_scopes(token);
    }
    let token = who.strip_prefix("fc:")?;
    fixtures.fc_token(token).map(|t| t.scopes.clone())
}

/// `/pings` (`""`) or `/pings/{api}`.
fn ping_name(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/pings")?;
    match rest {
        "" | "/" => Some(""),
        _ => rest.strip_prefix('/').filter(|n| !n.contains('/')),
    }
}

fn ping(shared: &Shared, name: &str) -> Response {
    let (status, since) = (shared.lock().scenario.pings.get(name))
        .copied()
        .unwrap_or((v3::PingStatus::Ok, std::time::SystemTime::now()));
    v3::ping(status, std::time::SystemTime::now(), since)
}

/// `GET /privileges` (API Entreprise) and `GET /api/introspect` (API Particulier).
fn meta_path(kind: Kind, path: &str) -> bool {
    matches!(
        (kind, path),
        (Kind::ApiEntreprise, "/privileges") | (Kind::ApiParticulier, "/api/introspect")
    )
}

fn meta_answer(kind: Kind, who: &str, scopes: Vec<String>) -> Response {
    match kind {
        Kind::ApiEntreprise => v3::privileges(&scopes),
        _ => {
            let id = (who.strip_prefix("jwt:"))
                .and_then(v3::jwt_id)
                .unwrap_or_else(|| account_label(who));
            v3::introspect(&id, &scopes)
        }
    }
}

fn not_found(kind: Kind, method: &Method, uri: &Uri, nothing_on_path: bool) -> Response {
    if nothing_on_path {
        gateway_error(
            kind,
            StatusCode::NOT_FOUND,
            &generic_code(kind, 404),
            &format!("No matching resource found for {method} {}", uri.path()),
        )
    } else {
        gateway_error(
            kind,
            StatusCode::METHOD_NOT_ALLOWED,
            &generic_code(kind, 405),
            &format!("Method {method} not allowed on {}", uri.path()),
        )
    }
}

/// The per-second statistics of the caller and of its IP.
fn count_arrival(inner: &mut Inner, key: &str, conn: SocketAddr, now: Instant) {
    let in_window = inner
        .traffic
        .entry(key.to_string())
        .or_default()
        .arrive(now);
    inner.stats.max_calls_per_second = inner.stats.max_calls_per_second.max(in_window);
    let by_account = (inner.stats.max_per_second_by_account)
        .entry(account_label(key))
        .or_default();
    *by_account = (*by_account).max(in_window);
    let ip_window = inner.ip_traffic.entry(conn.ip()).or_default().arrive(now);
    let by_ip = inner
        .stats
        .max_per_second_by_ip
        .entry(conn.ip())
        .or_default();
    *by_ip = (*by_ip).max(ip_window);
}

/// DGFiP's own refusals: `X-Correlation-ID`, FranceConnect header, scopes.
fn dgfip_refusal(
    inner: &mut Inner,
    kind: Kind,
    route: &Route,
    headers: &HeaderMap,
) -> Option<Response> {
    if kind != Kind::Dgfip {
        return None;
    }
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    if !header("x-correlation-id").is_some_and(is_uuid) {
        inner.stats.correlation_refusals += 1;
        let message = match header("x-correlation-id") {
            None => "Payload incomplet : en-tête X-Correlation-ID absent".to_string(),
            Some(v) => format!("Payload incomplet : X-Correlation-ID {v:?} n'est pas un UUID"),
        };
        return Some(gateway_error(
            kind,
            StatusCode::BAD_REQUEST,
            "102511",
            &message,
        ));
    }
    if route.france_connect && header("x-franceconnect-oauth").is_none_or(|v| v.trim().is_empty()) {
        return Some(gateway_error(
            kind,
            StatusCode::UNAUTHORIZED,
            "900950",
            "FranceConnect: en-tête X-FranceConnect-OAuth absent",
        ));
    }
    // DGFiP scopes select resources: a token granted other scopes is refused here.
    let granted = header("authorization")
        .and_then(|v| v.get(7..))
        .and_then(|t| inner.tokens.get(t.trim()))
        .and_then(|t| t.scopes.as_ref())?;
    let allowed = route.requirements.is_empty()
        || (route.requirements.iter()).any(|req| req.iter().all(|s| granted.contains(s)));
    (!allowed).then(|| {
        gateway_error(
            kind,
            StatusCode::FORBIDDEN,
            "900910",
            "The access token does not allow you to access the requested resource",
        )
    })
}
