//! A gateway emulator: a real HTTP server on 127.0.0.1 that behaves like the DGFiP, PISTE,
//! Douane, API Entreprise and API Particulier gateways as `../shared/gateways.md` describes
//! them, so that generated clients can be proven end to end through the runtime.
//!
//! One [`Emulator`] is one gateway on one random port: its token endpoint(s) for the gateway's
//! grant, with expiring tokens and RFC 6749 refusals; API calls checked for a valid token (401
//! with `WWW-Authenticate: Bearer error="invalid_token"` otherwise), for the DGFiP
//! `X-Correlation-ID` (a missing or malformed one refused with a DGFiP `erreur` body, code
//! 102511), against a rate limit (429 with `Retry-After`), and answered from the examples of
//! the mounted documents (`X-Emulator-Status: 404` asks for a documented error response).
//! [`Emulator::stats`] tells what happened.
#![deny(missing_docs)]

mod spec;

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use serde_json::{Value, json};

pub use spec::Route;

/// The gateway being emulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// DGFiP API Management: client_credentials with Basic auth at `/token`, `/revoke`.
    Dgfip,
    /// PISTE: client_credentials with credentials in the body at `/api/oauth/token`.
    Piste,
    /// Douane: password grant and refresh tokens at `/oauth2/token`.
    Douane,
    /// API Entreprise: long-lived JWT bearer.
    ApiEntreprise,
    /// API Particulier: JWT bearer or `X-Api-Key`.
    ApiParticulier,
}

/// What the emulated gateway accepts and how strict it is.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    kind: Kind,
    clients: Vec<(String, String, Vec<String>)>,
    accounts: Vec<(String, String)>,
    bearer_tokens: Vec<String>,
    api_keys: Vec<(String, String)>,
    token_lifetime: Duration,
    rate_limit: Option<(u32, Duration)>,
    retry_after: Duration,
    specs: Vec<PathBuf>,
}

impl GatewayConfig {
    fn new(kind: Kind) -> Self {
        GatewayConfig {
            kind,
            clients: Vec::new(),
            accounts: Vec::new(),
            bearer_tokens: Vec::new(),
            api_keys: Vec::new(),
            token_lifetime: Duration::from_secs(match kind {
                Kind::Douane => 300,
                _ => 3600,
            }),
            rate_limit: None,
            retry_after: Duration::from_secs(1),
            specs: Vec::new(),
        }
    }

    /// DGFiP API Management.
    pub fn dgfip() -> Self {
        Self::new(Kind::Dgfip)
    }
    /// PISTE.
    pub fn piste() -> Self {
        Self::new(Kind::Piste)
    }
    /// Douane.
    pub fn douane() -> Self {
        Self::new(Kind::Douane)
    }
    /// API Entreprise.
    pub fn api_entreprise() -> Self {
        Self::new(Kind::ApiEntreprise)
    }
    /// API Particulier.
    pub fn api_particulier() -> Self {
        Self::new(Kind::ApiParticulier)
    }

    /// An application (consumer key / client id) with its secret and the scopes it may ask for.
    pub fn client(mut self, id: &str, secret: &str, scopes: &[&str]) -> Self {
        self.clients.push((
            id.into(),
            secret.into(),
            scopes.iter().map(|s| s.to_string()).collect(),
        ));
        self
    }

    /// A Douane API account for the password grant.
    pub fn account(mut self, username: &str, password: &str) -> Self {
        self.accounts.push((username.into(), password.into()));
        self
    }

    /// A long-lived bearer token (API Entreprise / API Particulier JWT) the gateway accepts.
    pub fn bearer(mut self, token: &str) -> Self {
        self.bearer_tokens.push(token.into());
        self
    }

    /// An API key the gateway accepts in `header`.
    pub fn api_key(mut self, header: &str, key: &str) -> Self {
        self.api_keys
            .push((header.to_ascii_lowercase(), key.into()));
        self
    }

    /// Lifetime of the access tokens the gateway issues.
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// At most `requests` API calls per `per` (token bucket), 429 beyond.
    pub fn rate_limit(mut self, requests: u32, per: Duration) -> Self {
        self.rate_limit = Some((requests, per));
        self
    }

    /// `Retry-After` sent with 429 answers.
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = after;
        self
    }

    /// Serves the operations of a document (its examples are the answers).
    pub fn mount_spec(mut self, path: impl Into<PathBuf>) -> Self {
        self.specs.push(path.into());
        self
    }
}

/// What the gateway saw. Counters only grow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Successful token requests by grant (`client_credentials`, `password`, `refresh_token`).
    pub tokens_issued: HashMap<String, u64>,
    /// Token requests refused (bad credentials or scope).
    pub token_refusals: u64,
    /// Revocations.
    pub revocations: u64,
    /// API calls received (whatever the answer).
    pub api_calls: u64,
    /// API calls answered 2xx.
    pub api_successes: u64,
    /// Distinct `X-Correlation-ID` values seen on API calls.
    pub distinct_correlation_ids: usize,
    /// Calls refused for a missing or malformed `X-Correlation-ID`.
    pub correlation_refusals: u64,
    /// 401 answers (missing, unknown or expired token).
    pub unauthorized: u64,
    /// 429 answers.
    pub throttled: u64,
    /// Calls received while the client was told to wait (`Retry-After` not honoured): the
    /// behaviour that earns a 12-hour ban at API Entreprise / API Particulier.
    pub ban_violations: u64,
    /// Largest number of API calls received within any one second.
    pub max_calls_per_second: usize,
}

impl Stats {
    /// All token requests granted.
    pub fn tokens_total(&self) -> u64 {
        self.tokens_issued.values().sum()
    }
}

struct Token {
    expires: Instant,
}

struct Bucket {
    tokens: f64,
    last: Instant,
    blocked_until: Option<Instant>,
}

struct Inner {
    tokens: HashMap<String, Token>,
    refresh_tokens: HashMap<String, String>,
    stats: Stats,
    correlation_ids: HashSet<String>,
    arrivals: VecDeque<Instant>,
    bucket: Bucket,
}

struct Shared {
    config: GatewayConfig,
    routes: Vec<Route>,
    inner: Mutex<Inner>,
}

/// A running emulated gateway; stops when dropped.
pub struct Emulator {
    addr: std::net::SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Emulator {
    /// Starts the gateway on 127.0.0.1, on a free port.
    pub async fn start(config: GatewayConfig) -> Emulator {
        let routes = config.specs.iter().flat_map(|p| spec::routes(p)).collect();
        let capacity = config.rate_limit.map(|(n, _)| n as f64).unwrap_or(0.0);
        let shared = Arc::new(Shared {
            config,
            routes,
            inner: Mutex::new(Inner {
                tokens: HashMap::new(),
                refresh_tokens: HashMap::new(),
                stats: Stats::default(),
                correlation_ids: HashSet::new(),
                arrivals: VecDeque::new(),
                bucket: Bucket {
                    tokens: capacity,
                    last: Instant::now(),
                    blocked_until: None,
                },
            }),
        });
        let app = Router::new()
            .route("/token", post(token))
            .route("/revoke", post(revoke))
            .route("/api/oauth/token", post(token))
            .route("/oauth2/token", post(token))
            .fallback(api)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("address");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Emulator {
            addr,
            shared,
            shutdown: Some(tx),
        }
    }

    /// `http://127.0.0.1:PORT`: the API root to give the runtime.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The token endpoint of this gateway.
    pub fn token_url(&self) -> String {
        let path = match self.shared.config.kind {
            Kind::Piste => "/api/oauth/token",
            Kind::Douane => "/oauth2/token",
            _ => "/token",
        };
        format!("{}{path}", self.base_url())
    }

    /// The revocation endpoint (DGFiP).
    pub fn revoke_url(&self) -> String {
        format!("{}/revoke", self.base_url())
    }

    /// What happened so far.
    pub fn stats(&self) -> Stats {
        let inner = self.shared.inner.lock().expect("lock");
        let mut stats = inner.stats.clone();
        stats.distinct_correlation_ids = inner.correlation_ids.len();
        stats
    }

    /// Makes every access token issued so far expire now (the next call gets a 401).
    pub fn expire_all_tokens(&self) {
        let mut inner = self.shared.inner.lock().expect("lock");
        let now = Instant::now();
        for t in inner.tokens.values_mut() {
            t.expires = now;
        }
    }

    /// The operations served.
    pub fn routes(&self) -> &[Route] {
        &self.shared.routes
    }

    /// A JWT-shaped token (unsigned) whose `exp` claim is `expires_in` from now, as API
    /// Entreprise and API Particulier issue them.
    pub fn jwt(expires_in: Duration) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let exp = chrono::Utc::now().timestamp() + expires_in.as_secs() as i64;
        let header = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let claims =
            b64.encode(json!({"uid": "emulator", "exp": exp, "scopes": ["all"]}).to_string());
        format!("{header}.{claims}.c2lnbmF0dXJl")
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn form(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        json!({"error": code, "error_description": description}).to_string(),
    )
        .into_response()
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// The token endpoint of every grant.
async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let params = form(&body);
    let config = &shared.config;
    let grant = params.get("grant_type").cloned().unwrap_or_default();
    let refuse = |code: &str, description: &str| {
        shared.inner.lock().expect("lock").stats.token_refusals += 1;
        let status = if code == "invalid_client" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        oauth_error(status, code, description)
    };
    let scope = params.get("scope").cloned().unwrap_or_default();
    match (config.kind, grant.as_str()) {
        (Kind::Dgfip | Kind::Piste, "client_credentials") => {
            let credentials = if config.kind == Kind::Dgfip {
                basic_credentials(&headers)
            } else {
                params
                    .get("client_id")
                    .cloned()
                    .zip(params.get("client_secret").cloned())
            };
            let Some((id, secret)) = credentials else {
                return refuse("invalid_client", "client authentication missing");
            };
            let Some((_, _, allowed)) = config
                .clients
                .iter()
                .find(|(i, s, _)| *i == id && *s == secret)
            else {
                return refuse("invalid_client", "unknown client or wrong secret");
            };
            if let Some(bad) = scope
                .split_whitespace()
                .find(|s| !allowed.iter().any(|a| a == s))
            {
                return refuse(
                    "invalid_scope",
                    &format!("scope {bad} is not granted to this application"),
                );
            }
            issue(&shared, "client_credentials", &scope, false)
        }
        (Kind::Douane, "password") => {
            if params.get("client_id").map(String::as_str) != Some("gun-api") {
                return refuse("invalid_client", "client_id must be gun-api");
            }
            let user = params.get("username").cloned().unwrap_or_default();
            let pass = params.get("password").cloned().unwrap_or_default();
            if !config
                .accounts
                .iter()
                .any(|(u, p)| *u == user && *p == pass)
            {
                return refuse("invalid_grant", "Invalid user credentials");
            }
            issue(&shared, "password", "openid", true)
        }
        (Kind::Douane, "refresh_token") => {
            let presented = params.get("refresh_token").cloned().unwrap_or_default();
            let known = shared
                .inner
                .lock()
                .expect("lock")
                .refresh_tokens
                .remove(&presented)
                .is_some();
            if !known {
                return refuse("invalid_grant", "Token is not active");
            }
            issue(&shared, "refresh_token", "openid", true)
        }
        _ => refuse(
            "unsupported_grant_type",
            &format!("grant_type {grant:?} is not supported here"),
        ),
    }
}

fn issue(shared: &Shared, grant: &str, scope: &str, with_refresh: bool) -> Response {
    let access = format!("at-{}", uuid::Uuid::new_v4().simple());
    let lifetime = shared.config.token_lifetime;
    let mut inner = shared.inner.lock().expect("lock");
    inner.tokens.insert(
        access.clone(),
        Token {
            expires: Instant::now() + lifetime,
        },
    );
    *inner
        .stats
        .tokens_issued
        .entry(grant.to_string())
        .or_default() += 1;
    let mut body = json!({"access_token": access, "token_type": "Bearer", "expires_in": lifetime.as_secs(), "scope": scope});
    if with_refresh {
        let refresh = format!("rt-{}", uuid::Uuid::new_v4().simple());
        inner.refresh_tokens.insert(refresh.clone(), access.clone());
        body["refresh_token"] = json!(refresh);
        body["id_token"] = json!(Emulator::jwt(lifetime));
    }
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn revoke(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some((id, secret)) = basic_credentials(&headers) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication missing",
        );
    };
    if !shared
        .config
        .clients
        .iter()
        .any(|(i, s, _)| *i == id && *s == secret)
    {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client");
    }
    let token = form(&body).remove("token").unwrap_or_default();
    let mut inner = shared.inner.lock().expect("lock");
    inner.tokens.remove(&token);
    inner.stats.revocations += 1;
    StatusCode::OK.into_response()
}

/// The gateway's own error body for `status`, in its real format.
fn gateway_error(kind: Kind, status: StatusCode, code: &str, message: &str) -> Value {
    match kind {
        Kind::Dgfip => {
            json!({"erreur": {"code": code.parse::<i64>().unwrap_or(0), "message": message, "horodatage": chrono::Utc::now().to_rfc3339()}})
        }
        Kind::Piste => {
            json!({"messages": [{"code": code, "severity": "ERROR", "description": message}]})
        }
        Kind::Douane => json!({"error": code, "error_description": message}),
        Kind::ApiEntreprise | Kind::ApiParticulier => {
            json!({"errors": [{"code": code, "title": status.canonical_reason().unwrap_or(""), "detail": message, "source": null, "meta": {}}]})
        }
    }
}

fn reply(
    status: StatusCode,
    correlation: &str,
    extra: &[(&'static str, String)],
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(correlation) {
        headers.insert("x-correlation-id", v);
    }
    if let Some(ct) = content_type.and_then(|c| HeaderValue::from_str(c).ok()) {
        headers.insert("content-type", ct);
    }
    for (name, value) in extra {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(*name, v);
        }
    }
    response
}

/// Every API call.
async fn api(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let config = &shared.config;
    let kind = config.kind;
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let correlation =
        header("x-correlation-id").unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let json_error =
        |status: StatusCode, code: &str, message: &str, extra: &[(&'static str, String)]| {
            let body = gateway_error(kind, status, code, message)
                .to_string()
                .into_bytes();
            reply(status, &correlation, extra, Some("application/json"), body)
        };
    let now = Instant::now();
    let segments: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let route = shared
        .routes
        .iter()
        .find(|r| r.matches(method.as_str(), &segments));

    // Bookkeeping, correlation ID and rate limit.
    {
        let mut inner = shared.inner.lock().expect("lock");
        inner.stats.api_calls += 1;
        inner.arrivals.push_back(now);
        while inner
            .arrivals
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            inner.arrivals.pop_front();
        }
        let in_window = inner.arrivals.len();
        inner.stats.max_calls_per_second = inner.stats.max_calls_per_second.max(in_window);
        if let Some(id) = header("x-correlation-id") {
            inner.correlation_ids.insert(id);
        }
        if kind == Kind::Dgfip
            && header("x-correlation-id").is_none_or(|v| uuid::Uuid::parse_str(&v).is_err())
        {
            inner.stats.correlation_refusals += 1;
            drop(inner);
            return json_error(
                StatusCode::BAD_REQUEST,
                "102511",
                "X-Correlation-ID absent ou mal formé (UUID attendu)",
                &[],
            );
        }
        if let Some((capacity, per)) = config.rate_limit {
            let retry_after = config.retry_after;
            let bucket = &mut inner.bucket;
            if let Some(until) = bucket.blocked_until
                && now < until
            {
                inner.stats.ban_violations += 1;
                inner.stats.throttled += 1;
                drop(inner);
                let wait = until.saturating_duration_since(now).as_secs().max(1);
                return json_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "900802",
                    "Retry-After non respecté",
                    &[("retry-after", wait.to_string())],
                );
            }
            let rate = capacity as f64 / per.as_secs_f64();
            bucket.tokens = (bucket.tokens + now.duration_since(bucket.last).as_secs_f64() * rate)
                .min(capacity as f64);
            bucket.last = now;
            if bucket.tokens < 1.0 {
                bucket.blocked_until = Some(now + retry_after);
                inner.stats.throttled += 1;
                drop(inner);
                return json_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "900802",
                    "Quota dépassé",
                    &[("retry-after", retry_after.as_secs().max(1).to_string())],
                );
            }
            bucket.tokens -= 1.0;
        }
    }

    let Some(route) = route else {
        return json_error(
            StatusCode::NOT_FOUND,
            "404",
            &format!("no operation {method} {}", uri.path()),
            &[],
        );
    };

    // Authentication.
    if !route.public {
        let bearer =
            header("authorization").and_then(|v| v.strip_prefix("Bearer ").map(str::to_string));
        let key_ok = config
            .api_keys
            .iter()
            .any(|(name, key)| header(name).as_deref() == Some(key));
        let authorised = match kind {
            Kind::Dgfip | Kind::Piste | Kind::Douane => {
                let inner = shared.inner.lock().expect("lock");
                bearer
                    .as_deref()
                    .and_then(|b| inner.tokens.get(b))
                    .is_some_and(|t| t.expires > now)
                    && (config.api_keys.is_empty() || key_ok)
            }
            Kind::ApiEntreprise | Kind::ApiParticulier => {
                bearer
                    .as_deref()
                    .is_some_and(|b| config.bearer_tokens.iter().any(|t| t == b))
                    || key_ok
            }
        };
        if !authorised {
            shared.inner.lock().expect("lock").stats.unauthorized += 1;
            let code = match kind {
                Kind::Dgfip => "900901",
                Kind::ApiEntreprise | Kind::ApiParticulier => "00101",
                _ => "invalid_token",
            };
            return json_error(
                StatusCode::UNAUTHORIZED,
                code,
                "token missing, unknown or expired",
                &[("www-authenticate", "Bearer error=\"invalid_token\", error_description=\"The access token expired\"".to_string())],
            );
        }
    }

    // The documented answer: the first 2xx, or the status asked for.
    let wanted = header("x-emulator-status").and_then(|s| s.parse::<u16>().ok());
    let status = wanted.or_else(|| route.success()).unwrap_or(200);
    let canned = route.responses.get(&status);
    let example_name = header("x-emulator-example");
    let body = canned.and_then(|c| {
        example_name
            .as_deref()
            .and_then(|n| c.examples.iter().find(|(name, _)| name == n))
            .or(c.examples.first())
            .map(|(_, v)| v.clone())
    });
    let content_type = canned.and_then(|c| c.media_type.clone());
    let bytes = match (&body, content_type.as_deref()) {
        (Some(Value::String(s)), Some(ct)) if !ct.contains("json") => s.clone().into_bytes(),
        (Some(v), _) => v.to_string().into_bytes(),
        (None, _) => Vec::new(),
    };
    let status_code = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if status_code.is_success() {
        shared.inner.lock().expect("lock").stats.api_successes += 1;
    }
    let mut extra = Vec::new();
    if kind == Kind::Piste
        && let Some((n, _)) = config.rate_limit
    {
        extra.push((
            "x-rate-limit",
            json!([{"window": "1s", "limit": n}]).to_string(),
        ));
    }
    reply(
        status_code,
        &correlation,
        &extra,
        content_type.as_deref().filter(|_| !bytes.is_empty()),
        bytes,
    )
}
