//! The HTTP handlers: token endpoints, revocation, and every API call.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::post;
use serde_json::{Value, json};

use crate::config::{GatewayConfig, Kind};
use crate::fixtures::Fixtures;
use crate::serve::Peer;
use crate::spec::Route;
use crate::state::{CallRecord, Inner};
use crate::v3;

pub(crate) use crate::respond::json_response;

mod answer;
mod auth;
mod documented;
mod oauth;
mod quota;

/// What every handler shares.
pub(crate) struct Shared {
    pub config: GatewayConfig,
    pub routes: Vec<Route>,
    pub inner: Mutex<Inner>,
    /// Staging cases served ([`crate::GatewayConfig::fixtures`], [`crate::Emulator::load_fixtures`]).
    pub fixtures: Mutex<Arc<Fixtures>>,
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

    /// The fixtures loaded so far (cheap: shared).
    pub fn fixtures(&self) -> Arc<Fixtures> {
        self.fixtures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
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

/// Every API call: logged, then answered (or held forever while dark or banned).
async fn api(
    State(shared): State<Arc<Shared>>,
    Extension(Peer(conn)): Extension<Peer>,
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
        (inner.scenario.silent(shared.now()), inner.scenario.latency)
    };
    if silent {
        return hold(&shared, at, correlation_id, &method, &uri).await;
    }
    // API Entreprise / Particulier: an identical request already in flight gets 409.
    let config = &shared.config;
    let guard = if config.v3.conflict_in_flight && config.kind.bans() {
        match InFlight::enter(&shared, v3::conflict_key(&headers, &uri)) {
            Some(guard) => Some(guard),
            None => {
                let response = v3::conflict();
                return logged(&shared, at, correlation_id, &method, &uri, response);
            }
        }
    } else {
        None
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let response = answer::answer(&shared, conn, &method, &uri, &headers, &body);
    drop(guard);
    match response {
        Some(response) => logged(&shared, at, correlation_id, &method, &uri, response),
        // This call earned the ban: it is not answered either.
        None => hold(&shared, at, correlation_id, &method, &uri).await,
    }
}

/// Counts and logs an answered call.
fn logged(
    shared: &Shared,
    at: SystemTime,
    correlation_id: Option<String>,
    method: &Method,
    uri: &Uri,
    response: Response,
) -> Response {
    let mut inner = shared.lock();
    if response.status().is_success() {
        inner.stats.api_successes += 1;
    }
    let status = response.status().as_u16();
    log_call(shared, &mut inner, at, correlation_id, method, uri, status);
    response
}

/// Dark or banned: the call is logged with status 0, the connection stays open and nothing
/// ever comes back. The connection's task is aborted when the emulator stops.
async fn hold(
    shared: &Shared,
    at: SystemTime,
    correlation_id: Option<String>,
    method: &Method,
    uri: &Uri,
) -> Response {
    {
        let mut inner = shared.lock();
        inner.stats.api_calls += 1;
        log_call(shared, &mut inner, at, correlation_id, method, uri, 0);
    }
    std::future::pending().await
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
        .map(|r| r.template.clone())
        .or_else(|| {
            let fixtures = shared.fixtures();
            (fixtures.endpoint(uri.path())).map(|(e, _)| e.template.clone())
        });
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

/// The request against the route's rules; the problem names the parameter or JSON pointer.
pub(crate) fn check_request(
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

/// A request in flight; leaving (answered, or the client gone) frees its key.
pub(crate) struct InFlight {
    shared: Arc<Shared>,
    key: u64,
}

impl InFlight {
    /// Registers a request, or `None` when an identical one is in flight.
    pub fn enter(shared: &Arc<Shared>, key: u64) -> Option<InFlight> {
        shared.lock().in_flight.insert(key).then(|| InFlight {
            shared: shared.clone(),
            key,
        })
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.shared.lock().in_flight.remove(&self.key);
    }
}
