//! The HTTP handlers: token endpoints, revocation, and every API call.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use serde_json::{Value, json};

use crate::config::{GatewayConfig, Kind};
use crate::spec::{self, Route};
use crate::state::{CallRecord, Inner, Refresh, Token, Verdict};

/// Douane's public client for the password grant.
const DOUANE_CLIENT_ID: &str = "gun-api";

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
        app = app.route(path, post(token));
    }
    if shared.config.kind == Kind::Dgfip {
        app = app.route("/revoke", post(revoke));
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

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    response
}

/// RFC 6749 §5.2 refusal: 401 for client authentication failures, 400 otherwise.
fn oauth_error(code: &str, description: &str) -> Response {
    let status = if code == "invalid_client" {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut response = json_response(
        status,
        &json!({"error": code, "error_description": description}),
    );
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            "www-authenticate",
            HeaderValue::from_static("Basic realm=\"token\""),
        );
    }
    response
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

/// The token endpoint, for the grant(s) of the gateway.
async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let params: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let grant = params.get("grant_type").cloned().unwrap_or_default();
    *shared
        .lock()
        .stats
        .token_requests
        .entry(grant.clone())
        .or_default() += 1;
    match grant_token(&shared, &headers, &params, &grant) {
        Ok(response) => response,
        Err((code, description)) => {
            shared.lock().stats.token_refusals += 1;
            oauth_error(code, &description)
        }
    }
}

type Refusal = (&'static str, String);

fn grant_token(
    shared: &Shared,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
    grant: &str,
) -> Result<Response, Refusal> {
    if !is_form(headers) {
        return Err((
            "invalid_request",
            "the body must be application/x-www-form-urlencoded".into(),
        ));
    }
    let config = &shared.config;
    let scope = params
        .get("scope")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    match (config.kind, grant) {
        (Kind::Dgfip | Kind::Piste, "client_credentials") => {
            // DGFiP: HTTP Basic; PISTE: client_id / client_secret in the body.
            let credentials = if config.kind == Kind::Dgfip {
                basic_credentials(headers)
            } else {
                params
                    .get("client_id")
                    .cloned()
                    .zip(params.get("client_secret").cloned())
            };
            let Some((id, secret)) = credentials else {
                let hint = if config.kind == Kind::Dgfip {
                    "Authorization: Basic header"
                } else {
                    "client_id and client_secret in the body"
                };
                return Err((
                    "invalid_client",
                    format!("Client Authentication failed: no credentials ({hint} expected)"),
                ));
            };
            let Some(client) = config
                .clients
                .iter()
                .find(|c| c.id == id && c.secret == secret)
            else {
                return Err(("invalid_client", "Client Authentication failed.".into()));
            };
            if let Some(bad) = scope
                .split_whitespace()
                .find(|s| !client.scopes.iter().any(|a| a == s))
            {
                return Err((
                    "invalid_scope",
                    format!("scope {bad} is not granted to this application"),
                ));
            }
            let asked = !scope.is_empty();
            let granted = match (config.kind, scope.is_empty()) {
                (Kind::Piste, true) => "openid".to_string(),
                (_, true) => "default".to_string(),
                (_, false) => scope,
            };
            let explicit = asked.then(|| granted.split_whitespace().map(str::to_string).collect());
            Ok(issue(
                shared,
                "client_credentials",
                &id,
                &granted,
                explicit,
                None,
            ))
        }
        (Kind::Douane, "password") => {
            check_douane_client(params)?;
            let user = params.get("username").cloned().unwrap_or_default();
            let pass = params.get("password").cloned().unwrap_or_default();
            if !config
                .accounts
                .iter()
                .any(|(u, p)| *u == user && *p == pass)
            {
                return Err(("invalid_grant", "Invalid user credentials".into()));
            }
            Ok(issue(
                shared,
                "password",
                &user,
                "openid",
                None,
                Some(&user),
            ))
        }
        (Kind::Douane, "refresh_token") => {
            check_douane_client(params)?;
            let presented = params.get("refresh_token").cloned().unwrap_or_default();
            let user = {
                let inner = shared.lock();
                match inner.refresh_tokens.get(&presented) {
                    Some(r) if r.expires > shared.now() => r.username.clone(),
                    Some(_) => return Err(("invalid_grant", "Token is not active".into())),
                    None => return Err(("invalid_grant", "Invalid refresh token".into())),
                }
            };
            Ok(issue(
                shared,
                "refresh_token",
                &user,
                "openid",
                None,
                Some(&user),
            ))
        }
        (Kind::Douane, _) | (Kind::Dgfip | Kind::Piste, _) => Err((
            "unsupported_grant_type",
            format!("grant_type {grant:?} is not supported here"),
        )),
        (Kind::ApiEntreprise | Kind::ApiParticulier, _) => Err((
            "invalid_request",
            "this gateway has no token endpoint".into(),
        )),
    }
}

fn check_douane_client(params: &HashMap<String, String>) -> Result<(), Refusal> {
    match params.get("client_id").map(String::as_str) {
        Some(DOUANE_CLIENT_ID) => Ok(()),
        Some(other) => Err(("invalid_client", format!("Invalid client: {other}"))),
        None => Err((
            "invalid_client",
            format!("client_id is missing (expected {DOUANE_CLIENT_ID})"),
        )),
    }
}

/// Grants an access token (and, for Douane, a refresh token and an ID token).
fn issue(
    shared: &Shared,
    grant: &str,
    client: &str,
    scope: &str,
    scopes: Option<Vec<String>>,
    douane_user: Option<&str>,
) -> Response {
    let lifetime = shared.config.token_lifetime;
    let now = shared.now();
    let dgfip_key = (shared.config.kind == Kind::Dgfip).then(|| format!("{client}\n{scope}"));
    if let Some(key) = &dgfip_key {
        let mut inner = shared.lock();
        if let Some((access, natural)) = inner.dgfip_current.get(key).cloned()
            && natural > now
        {
            *inner
                .stats
                .tokens_issued
                .entry(grant.to_string())
                .or_default() += 1;
            drop(inner);
            let left = natural.saturating_duration_since(now).as_secs();
            return json_response(
                StatusCode::OK,
                &json!({"access_token": access, "scope": scope, "token_type": "Bearer", "expires_in": left}),
            );
        }
    }
    let access = match douane_user {
        // Keycloak (Douane) access tokens are JWTs; WSO2/Axway ones opaque.
        Some(user) => crate::jwt_with_claims(
            &json!({"sub": user, "azp": DOUANE_CLIENT_ID, "typ": "Bearer"}),
            lifetime,
        ),
        None => uuid::Uuid::new_v4().to_string(),
    };
    let mut body = json!({"access_token": access, "scope": scope, "token_type": "Bearer", "expires_in": lifetime.as_secs()});
    let mut inner = shared.lock();
    if let Some(key) = dgfip_key {
        inner
            .dgfip_current
            .insert(key, (access.clone(), now + lifetime));
    }
    inner.tokens.insert(
        access.clone(),
        Token {
            client: client.to_string(),
            expires: now + lifetime,
            scopes,
        },
    );
    if let Some(user) = douane_user {
        let refresh_lifetime = shared.config.refresh_lifetime;
        let refresh = uuid::Uuid::new_v4().simple().to_string();
        inner.refresh_tokens.insert(
            refresh.clone(),
            Refresh {
                username: user.to_string(),
                expires: now + refresh_lifetime,
            },
        );
        body["refresh_token"] = json!(refresh);
        body["refresh_expires_in"] = json!(refresh_lifetime.as_secs());
        body["id_token"] = json!(crate::jwt_with_claims(
            &json!({"sub": user, "aud": DOUANE_CLIENT_ID, "typ": "ID"}),
            lifetime
        ));
        body["not-before-policy"] = json!(0);
        body["session_state"] = json!(uuid::Uuid::new_v4().to_string());
    }
    *inner
        .stats
        .tokens_issued
        .entry(grant.to_string())
        .or_default() += 1;
    drop(inner);
    let mut response = json_response(StatusCode::OK, &body);
    response
        .headers_mut()
        .insert("cache-control", HeaderValue::from_static("no-store"));
    response
}

/// DGFiP `/revoke` (RFC 7009): the token stops working at once.
async fn revoke(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some((id, secret)) = basic_credentials(&headers) else {
        return oauth_error(
            "invalid_client",
            "Client Authentication failed: no Authorization: Basic header",
        );
    };
    if !shared
        .config
        .clients
        .iter()
        .any(|c| c.id == id && c.secret == secret)
    {
        return oauth_error("invalid_client", "Client Authentication failed.");
    }
    let Some(token) = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
    else {
        return oauth_error("invalid_request", "token is missing");
    };
    let mut inner = shared.lock();
    // RFC 7009 §2.2: an unknown token is not an error; another client's token is left alone.
    if let Some(t) = inner.tokens.get_mut(&token)
        && t.client == id
    {
        t.expires = shared.now();
        inner
            .dgfip_current
            .retain(|_, (access, _)| *access != token);
    }
    inner.stats.revocations += 1;
    StatusCode::OK.into_response()
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
fn generic_code(kind: Kind, status: u16) -> String {
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

/// Why a call is not authenticated.
enum AuthFailure {
    Missing,
    WrongScheme,
    Unknown,
    Expired,
    BadKey,
}

/// Who is calling (the rate-limit key), or why the call is refused.
fn authenticate(
    shared: &Shared,
    inner: &Inner,
    headers: &HeaderMap,
    now: Instant,
) -> Result<String, AuthFailure> {
    let config = &shared.config;
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    let bearer = match authorization.map(|v| v.split_once(' ').unwrap_or((v, ""))) {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Some(token.trim()),
        Some(_) => return Err(AuthFailure::WrongScheme),
        None => None,
    };
    let mut who = None;
    if let Some(token) = bearer {
        who = Some(match config.kind {
            Kind::Dgfip | Kind::Piste | Kind::Douane => match inner.tokens.get(token) {
                Some(t) if t.expires > now => t.client.clone(),
                Some(_) => return Err(AuthFailure::Expired),
                None => return Err(AuthFailure::Unknown),
            },
            Kind::ApiEntreprise | Kind::ApiParticulier => {
                if !config.bearer_tokens.iter().any(|t| t == token) {
                    return Err(AuthFailure::Unknown);
                }
                let past = crate::jwt_exp(token).is_some_and(|exp| exp <= shared.unix_now());
                if past || inner.static_tokens_expired {
                    return Err(AuthFailure::Expired);
                }
                format!("jwt:{token}")
            }
        });
    }
    for (header, _) in &config.api_keys {
        if let Some(presented) = headers.get(header.as_str()).and_then(|v| v.to_str().ok()) {
            if !config
                .api_keys
                .iter()
                .any(|(h, k)| h == header && k == presented)
            {
                return Err(AuthFailure::BadKey);
            }
            who.get_or_insert_with(|| format!("key:{presented}"));
        }
    }
    who.ok_or(AuthFailure::Missing)
}

fn unauthorized(kind: Kind, failure: &AuthFailure) -> Response {
    let realm = match kind {
        Kind::Dgfip => "dgfip",
        Kind::Piste => "piste",
        Kind::Douane => "douane",
        Kind::ApiEntreprise => "api-entreprise",
        Kind::ApiParticulier => "api-particulier",
    };
    let (dgfip_code, description) = match failure {
        AuthFailure::Missing => ("900902", "Missing Credentials: no access token"),
        AuthFailure::WrongScheme => (
            "900905",
            "Incorrect Access Token Type is provided: Bearer only",
        ),
        AuthFailure::Unknown => ("900901", "Invalid Credentials: unknown access token"),
        AuthFailure::Expired => ("900906", "The access token expired or was revoked"),
        AuthFailure::BadKey => ("900901", "Invalid Credentials: unknown API key"),
    };
    let mut response = match kind {
        Kind::Dgfip => gateway_error(kind, StatusCode::UNAUTHORIZED, dgfip_code, description),
        Kind::Piste | Kind::Douane => json_response(
            StatusCode::UNAUTHORIZED,
            &json!({"error": "invalid_token", "error_description": description}),
        ),
        Kind::ApiEntreprise | Kind::ApiParticulier => {
            gateway_error(kind, StatusCode::UNAUTHORIZED, "00101", description)
        }
    };
    // RFC 6750 §3: no error code when no credentials were presented.
    let challenge = match failure {
        AuthFailure::Missing | AuthFailure::BadKey | AuthFailure::WrongScheme => {
            format!("Bearer realm=\"{realm}\"")
        }
        AuthFailure::Unknown | AuthFailure::Expired => format!(
            "Bearer realm=\"{realm}\", error=\"invalid_token\", error_description=\"{description}\""
        ),
    };
    response.headers_mut().insert(
        "www-authenticate",
        HeaderValue::from_str(&challenge).expect("ASCII challenge"),
    );
    response
}

fn throttled(kind: Kind, retry_after: u64) -> Response {
    let mut response = match kind {
        Kind::Dgfip => gateway_error(
            kind,
            StatusCode::TOO_MANY_REQUESTS,
            "900804",
            "Message throttled out: quota exceeded",
        ),
        Kind::Piste => gateway_error(kind, StatusCode::TOO_MANY_REQUESTS, "429", "Quota exceeded"),
        Kind::Douane => gateway_error(
            kind,
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "Quota exceeded",
        ),
        Kind::ApiEntreprise | Kind::ApiParticulier => gateway_error(
            kind,
            StatusCode::TOO_MANY_REQUESTS,
            "00429",
            "Limite atteinte, réessayez plus tard",
        ),
    };
    response
        .headers_mut()
        .insert("retry-after", HeaderValue::from(retry_after));
    response
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
}

/// The quota key as shown in [`crate::Stats`]: client ids and usernames as they are, JWTs and
/// API keys (secrets) as a fingerprint.
fn account_label(key: &str) -> String {
    match key.split_once(':') {
        Some((kind @ ("jwt" | "key"), secret)) => {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            secret.hash(&mut h);
            format!("{kind}#{:016x}", h.finish())
        }
        _ => key.to_string(),
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

/// The documented answer: the first 2xx, or the status `X-Emulator-Status` asks for, with the
/// example `X-Emulator-Example` names (the first one otherwise).
fn documented(
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
            let secs = shared
                .config
                .retry_after
                .map(crate::state::ceil_secs)
                .unwrap_or(1);
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(secs));
        }
        return response;
    };
    let mut response = match spec::choose(&canned.bodies, header("accept")) {
        None => {
            let mut r = Response::new(Body::empty());
            if let Some(ct) = canned
                .empty_content_type
                .as_deref()
                .and_then(|ct| HeaderValue::from_str(spec::content_type(ct)).ok())
            {
                r.headers_mut().insert("content-type", ct);
            }
            r
        }
        Some(body) => {
            let content_type = HeaderValue::from_str(spec::content_type(&body.media_type)).ok();
            let example = match header("x-emulator-example") {
                Some(name) => match body.examples.iter().find(|(n, _)| n == name) {
                    Some((_, e)) => Some(e),
                    None => {
                        return emulator_error(&format!(
                            "{} {}: no example named {name:?} for status {status}",
                            route.method, route.template
                        ));
                    }
                },
                None => body.examples.first().map(|(_, e)| e),
            };
            match example {
                Some(e) => {
                    let mut r = Response::new(Body::from(spec::render(&body.media_type, e)));
                    if let Some(ct) = content_type {
                        r.headers_mut().insert("content-type", ct);
                    }
                    r
                }
                None => {
                    // Neither example nor schema: an empty body, still of the documented type.
                    let mut r = Response::new(Body::empty());
                    if let Some(ct) = content_type {
                        r.headers_mut().insert("content-type", ct);
                    }
                    r.headers_mut().insert(
                        "x-emulator-warning",
                        HeaderValue::from_static("the document gives no example for this response"),
                    );
                    r
                }
            }
        }
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
        let secs = shared
            .config
            .retry_after
            .map(crate::state::ceil_secs)
            .unwrap_or(1);
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(secs));
    }
    response
}

/// A mistake in the test's use of the emulator: plain text, loud.
fn emulator_error(message: &str) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [("content-type", "text/plain"), ("x-emulator-error", "1")],
        format!("emulator: {message}"),
    )
        .into_response()
}
