//! A loopback fake gateway (axum on 127.0.0.1, random port): token, revoke and API endpoints
//! that record every request. Each test programs the API's answers with a closure.
#![allow(dead_code)]

#[allow(unused_imports)]
pub use gouvgen_runtime::test_util::redis_server;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};

/// One recorded API request.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }
}

/// A recorded token/revoke request.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    pub body: String,
    pub authorization: Option<String>,
}

impl TokenRequest {
    pub fn param(&self, name: &str) -> Option<String> {
        self.body.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == name).then(|| v.replace('+', " ").replace("%20", " "))
        })
    }
}

pub type Behaviour = Box<dyn Fn(&Recorded, usize) -> Response + Send + Sync>;

pub struct Knobs {
    pub expires_in: u64,
    pub token_delay: Duration,
    /// Answer every token request with this status and body.
    pub refusal: Option<(u16, String)>,
    pub refresh_refused: bool,
    pub token_prefix: String,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            expires_in: 3600,
            token_delay: Duration::ZERO,
            refusal: None,
            refresh_refused: false,
            token_prefix: "tok".into(),
        }
    }
}

pub struct GwState {
    pub knobs: Mutex<Knobs>,
    pub issued: AtomicUsize,
    pub token_requests: Mutex<Vec<TokenRequest>>,
    pub revoke_requests: Mutex<Vec<TokenRequest>>,
    pub api_requests: Mutex<Vec<Recorded>>,
    behaviour: Behaviour,
}

impl GwState {
    pub fn token_count(&self) -> usize {
        self.token_requests.lock().unwrap().len()
    }
    pub fn api_count(&self) -> usize {
        self.api_requests.lock().unwrap().len()
    }
    pub fn api(&self) -> Vec<Recorded> {
        self.api_requests.lock().unwrap().clone()
    }
    pub fn tokens(&self) -> Vec<TokenRequest> {
        self.token_requests.lock().unwrap().clone()
    }
}

pub struct Gw {
    pub url: String,
    pub state: Arc<GwState>,
}

impl Gw {
    pub fn token_url(&self) -> String {
        format!("{}/token", self.url)
    }
    pub fn revoke_url(&self) -> String {
        format!("{}/revoke", self.url)
    }
    pub fn api_root(&self) -> String {
        format!("{}/api", self.url)
    }
}

/// A plain 200 JSON answer.
pub fn ok_json(body: &str) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        body.to_owned(),
    )
        .into_response()
}

pub fn status(code: u16, headers: &[(&'static str, String)], body: &str) -> Response {
    let mut r = (StatusCode::from_u16(code).unwrap(), body.to_owned()).into_response();
    for (k, v) in headers {
        r.headers_mut().insert(*k, v.parse().unwrap());
    }
    r
}

async fn token(State(st): State<Arc<GwState>>, headers: HeaderMap, body: Bytes) -> Response {
    let body = String::from_utf8_lossy(&body).into_owned();
    let req = TokenRequest {
        body,
        authorization: headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned()),
    };
    st.token_requests.lock().unwrap().push(req.clone());
    let (delay, refusal, refresh_refused, expires_in, prefix) = {
        let k = st.knobs.lock().unwrap();
        (
            k.token_delay,
            k.refusal.clone(),
            k.refresh_refused,
            k.expires_in,
            k.token_prefix.clone(),
        )
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some((code, body)) = refusal {
        return status(code, &[("content-type", "application/json".into())], &body);
    }
    let grant = req.param("grant_type").unwrap_or_default();
    if grant == "refresh_token" && refresh_refused {
        return status(
            400,
            &[("content-type", "application/json".into())],
            r#"{"error":"invalid_grant","error_description":"refresh token expired"}"#,
        );
    }
    let n = st.issued.fetch_add(1, Ordering::SeqCst) + 1;
    let refresh = if grant == "client_credentials" {
        String::new()
    } else {
        if prefix == "tok" {
            format!(r#","refresh_token":"ref-{n}","id_token":"a.b.c""#)
        } else {
            format!(r#","refresh_token":"{prefix}-refresh-{n}","id_token":"a.b.c""#)
        }
    };
    ok_json(&format!(
        r#"{{"access_token":"{prefix}-{n}","token_type":"Bearer","expires_in":{expires_in},"scope":"openid"{refresh}}}"#
    ))
}

async fn revoke(State(st): State<Arc<GwState>>, headers: HeaderMap, body: Bytes) -> Response {
    st.revoke_requests.lock().unwrap().push(TokenRequest {
        body: String::from_utf8_lossy(&body).into_owned(),
        authorization: headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned()),
    });
    StatusCode::OK.into_response()
}

async fn api(
    State(st): State<Arc<GwState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rec = Recorded {
        method,
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers,
        body,
        at: Instant::now(),
    };
    let index = {
        let mut v = st.api_requests.lock().unwrap();
        v.push(rec.clone());
        v.len() - 1
    };
    (st.behaviour)(&rec, index)
}

/// Starts a fake gateway whose API answers with `behaviour(request, index)`.
pub async fn gateway(
    behaviour: impl Fn(&Recorded, usize) -> Response + Send + Sync + 'static,
) -> Gw {
    gateway_with(Knobs::default(), behaviour).await
}

pub async fn gateway_with(
    knobs: Knobs,
    behaviour: impl Fn(&Recorded, usize) -> Response + Send + Sync + 'static,
) -> Gw {
    let state = Arc::new(GwState {
        knobs: Mutex::new(knobs),
        issued: AtomicUsize::new(0),
        token_requests: Mutex::new(Vec::new()),
        revoke_requests: Mutex::new(Vec::new()),
        api_requests: Mutex::new(Vec::new()),
        behaviour: Box::new(behaviour),
    });
    let router = Router::new()
        .route("/token", post(token))
        .route("/revoke", post(revoke))
        .route("/api", any(api))
        .route("/api/{*rest}", any(api))
        .with_state(Arc::clone(&state));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Gw {
        url: format!("http://{addr}"),
        state,
    }
}

/// An API that answers 200 `{"ok":true}` to everything.
pub fn always_ok(_: &Recorded, _: usize) -> Response {
    ok_json(r#"{"ok":true}"#)
}

/// A JWT (unsigned) with the given `exp`.
pub fn jwt_with_exp(exp: i64) -> String {
    use base64::Engine;
    let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.{}",
        enc(r#"{"alg":"HS256","typ":"JWT"}"#),
        enc(&format!(r#"{{"uid":"JWT-SECRET-UID","exp":{exp}}}"#)),
        "c2lnbmF0dXJlLXNlY3JldA"
    )
}
