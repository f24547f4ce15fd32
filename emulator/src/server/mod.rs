//! The HTTP handlers: token endpoints, revocation, and every API call.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::config::{GatewayConfig, Kind};
use crate::spec::Route;
use crate::state::{CallRecord, Inner, Verdict};

mod auth;
mod documented;
mod oauth;

use auth::{account_label, authenticate, is_uuid, throttled, unauthorized};
use documented::documented;

/// What every handler shares.
pub(crate) struct Shared {
    pub config: GatewayConfig,
    pub routes: Vec<Route>,
    pub inner: Mutex<Inner>,
    /// How far [`crate::Emulator::advance_clock`] moved the gateway's clock (nanoseconds).
    pub clock_offset: std::sync::atomic::AtomicU64,
}

impl Shared {
    /// The gateway's clock: real time plus the test's advances (token expiry, quota windows).
    pub fn now(&self) -> Instant {
        Instant::now() + self.offset()
    }

    /// The gateway's wall clock in Unix seconds (JWT `exp` checks), advanced the same way.
    pub fn unix_now(&self) -> i64 {
        chrono::Utc::now().timestamp() + self.offset().as_secs() as i64
    }

    fn offset(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(
            self.clock_offset.load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking handler must not make every later call fail.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The router of one gateway: its token endpoint(s), and everything else as API calls.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let mut app = Router::new();
    if let Some(path) = shared.config.kind.token_path() {
        app = app.route(path, post(oauth::token));
    }
    if shared.config.kind == Kind::Dgfip {
        app = app.route("/revoke", post(oauth::revoke));
    }
    app.fallback(api)
        .layer(axum::middleware::from_fn(correlation))
        .with_state(shared)
}

/// Every response carries `x-correlation-id`: the request's, or a fresh one.
async fn correlation(request: Request, next: Next) -> Response {
    let received = request.headers().get("x-correlation-id").cloned();
    let mut response = next.run(request).await;
    if !response.headers().contains_key("x-correlation-id") {
        let value = received.unwrap_or_else(|| {
            HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
                .expect("a UUID is a header value")
        });
        response.headers_mut().insert("x-correlation-id", value);
    }
    response
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    response
}

/// The gateway's own error body, in its real format.
pub(crate) fn gateway_error(kind: Kind, status: StatusCode, code: &str, message: &str) -> Response {
    let body = match kind {
        Kind::Dgfip => json!({"erreur": {
            "code": code.parse::<i64>().map(Value::from).unwrap_or_else(|_| json!(code)),
            "message": message,
            "horodatage": chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        }}),
        Kind::Piste => {
            json!({"messages": [{"code": code, "severity": "ERROR", "description": message}]})
        }
        Kind::Douane => json!({"error": code, "error_description": message}),
        Kind::ApiEntreprise | Kind::ApiParticulier => json!({"errors": [{
            "code": code,
            "title": status.canonical_reason().unwrap_or("Erreur"),
            "detail": message,
            "source": null,
            "meta": {},
        }]}),
    };
    json_response(status, &body)
}

/// The gateway's code for an undocumented status asked for with `X-Emulator-Status`.
pub(crate) fn generic_code(kind: Kind, status: u16) -> String {
    let dgfip = match status {
        400 => "102511",
        401 => "900901",
        403 => "900908",
        429 => "900804",
        500 => "900900",
        503 => "900801",
        _ => "",
    };
    match kind {
        Kind::Dgfip if !dgfip.is_empty() => dgfip.to_string(),
        Kind::ApiEntreprise | Kind::ApiParticulier => format!("00{status}"),
        _ => status.to_string(),
    }
}

/// Every API call: logged, then answered.
async fn api(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = SystemTime::now();
    let correlation_id = headers
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (silent, latency) = {
        let inner = shared.lock();
        (inner.scenario.silent(), inner.scenario.latency)
    };
    if silent {
        {
            let mut inner = shared.lock();
            inner.stats.api_calls += 1;
            log_call(&shared, &mut inner, at, correlation_id, &method, &uri, 0);
        }
        // Dark (or banned): the connection stays open and nothing ever comes back.
        return std::future::pending().await;
    }
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let response = answer(&shared, conn, &method, &uri, &headers, &body);
    let mut inner = shared.lock();
    if response.status().is_success() {
        inner.stats.api_successes += 1;
    }
    let status = response.status().as_u16();
    log_call(
        &shared,
        &mut inner,
        at,
        correlation_id,
        &method,
        &uri,
        status,
    );
    response
}

/// Appends to the call log (bounded) and tells the call observer, if any.
fn log_call(
    shared: &Shared,
    inner: &mut Inner,
    at: SystemTime,
    correlation_id: Option<String>,
    method: &Method,
    uri: &Uri,
    status: u16,
) {
    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let template = shared
        .routes
        .iter()
        .filter(|r| r.method == method.as_str() && r.matches_path(&segments))
        .max_by_key(|r| r.literal_count())
        .map(|r| r.template.clone());
    let record = CallRecord {
        at,
        correlation_id,
        method: method.to_string(),
        path: uri.path().to_string(),
        template,
        status,
    };
    if let Some(observer) = &shared.config.on_call {
        observer(&record);
    }
    let capacity = shared.config.call_log_capacity;
    if capacity > 0 {
        if inner.calls.len() >= capacity {
            inner.calls.pop_front();
        }
        inner.calls.push_back(record);
    }
}

fn answer(
    shared: &Shared,
    conn: SocketAddr,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let config = &shared.config;
    let kind = config.kind;
    let now = shared.now();
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());

    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let on_path: Vec<&Route> = shared
        .routes
        .iter()
        .filter(|r| r.matches_path(&segments))
        .collect();
    let route = on_path
        .iter()
        .filter(|r| r.method == method.as_str())
        .max_by_key(|r| r.literal_count())
        .copied();

    let mut inner = shared.lock();
    inner.stats.api_calls += 1;
    if let Some(id) = header("x-correlation-id") {
        inner.correlation_ids.insert(id.to_string());
    }
    let Some(route) = route else {
        drop(inner);
        return if on_path.is_empty() {
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
        };
    };

    let who = if route.public {
        Ok("anonymous".to_string())
    } else {
        authenticate(shared, &inner, headers, now)
    };
    let key = who.as_deref().unwrap_or("unauthenticated").to_string();
    let in_window = inner.traffic.entry(key.clone()).or_default().arrive(now);
    inner.stats.max_calls_per_second = inner.stats.max_calls_per_second.max(in_window);
    let by_account = inner
        .stats
        .max_per_second_by_account
        .entry(account_label(&key))
        .or_default();
    *by_account = (*by_account).max(in_window);
    let ip_window = inner.ip_traffic.entry(conn.ip()).or_default().arrive(now);
    let by_ip = inner
        .stats
        .max_per_second_by_ip
        .entry(conn.ip())
        .or_default();
    *by_ip = (*by_ip).max(ip_window);
    if let Err(failure) = who {
        inner.stats.unauthorized += 1;
        return unauthorized(kind, &failure);
    }

    if kind == Kind::Dgfip && !header("x-correlation-id").is_some_and(is_uuid) {
        inner.stats.correlation_refusals += 1;
        let message = match header("x-correlation-id") {
            None => "Payload incomplet : en-tête X-Correlation-ID absent".to_string(),
            Some(v) => format!("Payload incomplet : X-Correlation-ID {v:?} n'est pas un UUID"),
        };
        return gateway_error(kind, StatusCode::BAD_REQUEST, "102511", &message);
    }
    if kind == Kind::Dgfip
        && route.france_connect
        && header("x-franceconnect-oauth").is_none_or(|v| v.trim().is_empty())
    {
        return gateway_error(
            kind,
            StatusCode::UNAUTHORIZED,
            "900950",
            "FranceConnect: en-tête X-FranceConnect-OAuth absent",
        );
    }

    // DGFiP scopes select resources: a token granted other scopes is refused here.
    if kind == Kind::Dgfip
        && !route.requirements.is_empty()
        && let Some(granted) = header("authorization")
            .and_then(|v| v.get(7..))
            .and_then(|t| inner.tokens.get(t.trim()))
            .and_then(|t| t.scopes.as_ref())
        && !route
            .requirements
            .iter()
            .any(|req| req.iter().all(|s| granted.contains(s)))
    {
        return gateway_error(
            kind,
            StatusCode::FORBIDDEN,
            "900910",
            "The access token does not allow you to access the requested resource",
        );
    }

    // Scripted gateway-wide failures come after authentication, like the real gateways'.
    if let Some(secs) = inner.scenario.throttle {
        drop(inner);
        return throttled(kind, secs);
    }
    if inner.scenario.unavailable {
        drop(inner);
        return gateway_error(
            kind,
            StatusCode::SERVICE_UNAVAILABLE,
            &generic_code(kind, 503),
            "Service indisponible (maintenance)",
        );
    }
    let forced = inner
        .scenario
        .forced_for(
            route.operation_id.as_deref(),
            &route.method,
            &route.template,
        )
        .map(|f| f.status);
    let rate_limit = inner.scenario.rate_limit.unwrap_or(config.rate_limit);

    let mut rate_header = None;
    if let Some(limit) = rate_limit {
        let traffic = inner.traffic.get_mut(&key).expect("entry made above");
        match traffic.check(
            now,
            conn,
            limit,
            config.retry_after,
            kind.bans(),
            config.ban_grace,
        ) {
            Verdict::Admit { remaining } => {
                rate_header = Some((remaining, traffic.reset_in(now, limit)));
            }
            Verdict::Throttle {
                retry_after,
                violation,
            } => {
                let remaining = traffic.remaining(now, limit);
                let reset_in = traffic.reset_in(now, limit);
                inner.stats.throttled += 1;
                inner.stats.ban_violations += u64::from(violation);
                drop(inner);
                let mut response = throttled(kind, retry_after);
                if kind == Kind::Piste {
                    response
                        .headers_mut()
                        .insert("x-rate-limit", rate_limit_header(limit, remaining));
                }
                if kind.bans() {
                    quota_headers(response.headers_mut(), limit, remaining, reset_in);
                }
                return response;
            }
        }
    }
    drop(inner);

    // Checked against the document (a forced answer is given whatever the request).
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
    let mut response = documented(shared, route, headers, forced);
    if kind == Kind::Piste {
        let value = match (rate_limit, rate_header) {
            (Some(limit), Some((remaining, _))) => rate_limit_header(limit, remaining),
            _ => HeaderValue::from_static("[]"),
        };
        response.headers_mut().insert("x-rate-limit", value);
    }
    if let (true, Some(limit), Some((remaining, reset_in))) = (kind.bans(), rate_limit, rate_header)
    {
        quota_headers(response.headers_mut(), limit, remaining, reset_in);
    }
    response
}

/// API Entreprise / API Particulier v3 `RateLimit-Limit`, `RateLimit-Remaining` and
/// `RateLimit-Reset` (epoch seconds, rounded up: the window has room again by then).
fn quota_headers(
    headers: &mut HeaderMap,
    limit: (u32, std::time::Duration),
    remaining: u32,
    reset_in: std::time::Duration,
) {
    let at = SystemTime::now() + reset_in;
    let since_epoch = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let reset = since_epoch.as_secs() + u64::from(since_epoch.subsec_nanos() > 0);
    headers.insert("ratelimit-limit", HeaderValue::from(limit.0));
    headers.insert("ratelimit-remaining", HeaderValue::from(remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(reset));
}

/// The request against the route's rules; the problem names the parameter or JSON pointer.
fn check_request(
    route: &Route,
    segments: &[&str],
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), String> {
    let path = route
        .path_names
        .iter()
        .zip(segments)
        .filter_map(|(name, value)| {
            let value = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
            name.clone().map(|n| (n, value.into_owned()))
        })
        .collect();
    let query = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    route.rules.check(&crate::validate::Request {
        path,
        query,
        header: &header,
        body,
        content_type: headers.get("content-type").and_then(|v| v.to_str().ok()),
    })
}

/// PISTE `x-rate-limit`: the windows (milliseconds) with the calls left in each.
fn rate_limit_header(limit: (u32, std::time::Duration), remaining: u32) -> HeaderValue {
    let text =
        json!([{"window": limit.1.as_millis() as u64, "type": "throttle", "remaining": remaining}])
            .to_string();
    HeaderValue::from_str(&text).expect("ASCII JSON")
}
