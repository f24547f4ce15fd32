//! gouvgen-bench loopback harness (measures 5 and 6). Copied by gouvgen-bench into a scratch
//! crate next to two clients generated from tests/bench/bench-api.yaml (ours, and progenitor's
//! when the `prog` feature is on), built in release, and run as
//!   harness runtime <small calls> <large calls>
//!   harness tokens <cold calls> <seconds> <calls per second>
//!   harness fleet <calls> <redis URL or ->      (measure 8: shared limiter and fleet tokens)
//!   harness fleet-member <API root> <redis URL or -> <client id> <concurrent calls>
//!   harness telemetry <calls>                   (measure 5, telemetry: OpenTelemetry on/off)
//! It prints one JSON object on stdout.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gouvgen_runtime::presets::{self, Environment, PisteAccess};
use gouvgen_runtime::{
    ApiClient, Method, RateLimit, Request, Secret, Telemetry, Undocumented,
};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use serde::Deserialize;

// ---------------------------------------------------------------- payloads

fn small_body() -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "data": {
            "siren": "130025265",
            "type": "personne_morale",
            "personne_morale_attributs": { "raison_sociale": "DIRECTION INTERMINISTERIELLE DU NUMERIQUE" },
            "etat_administratif": "A",
            "etablissements": []
        },
        "links": {},
        "meta": { "date_derniere_mise_a_jour": 1700000000 }
    }))
    .unwrap()
}

/// An API Entreprise-shaped body of about 1.6 MB: a legal unit and its establishments.
fn large_body() -> Vec<u8> {
    let code = |c: &str, l: &str| serde_json::json!({ "code": c, "libelle": l });
    let etab = |i: usize| {
        serde_json::json!({
            "siret": format!("13002526500{:03}", i % 1000),
            "siege_social": i == 0,
            "etat_administratif": "A",
            "date_creation": 1_500_000_000 + i as i64,
            "enseigne": if i % 3 == 0 { serde_json::Value::Null } else { serde_json::json!(format!("ENSEIGNE {i}")) },
            "activite_principale": code("84.11Z", "Administration publique générale"),
            "tranche_effectif_salarie": { "code": "22", "intitule": "100 à 199 salariés", "date_reference": "2021", "de": 100, "a": 199 },
            "adresse": {
                "numero_voie": format!("{}", i % 200 + 1),
                "type_voie": "RUE",
                "libelle_voie": "DE LA LOI",
                "complement_adresse": null,
                "code_postal": "75007",
                "libelle_commune": "PARIS 7",
                "code_commune": "75107",
                "code_pays_etranger": null,
                "acheminement_postal": ["DINUM", "20 AVENUE DE SEGUR", "75007 PARIS 7"]
            }
        })
    };
    let etablissements: Vec<_> = (0..2900).map(etab).collect();
    serde_json::to_vec(&serde_json::json!({
        "data": {
            "siren": "130025265",
            "type": "personne_morale",
            "rna": null,
            "personne_morale_attributs": { "raison_sociale": "DIRECTION INTERMINISTERIELLE DU NUMERIQUE", "sigle": "DINUM" },
            "forme_juridique": code("7120", "Service central d'un ministère"),
            "activite_principale": code("84.11Z", "Administration publique générale"),
            "tranche_effectif_salarie": { "code": "22", "intitule": "100 à 199 salariés", "date_reference": "2021", "de": 100, "a": 199 },
            "etat_administratif": "A",
            "date_creation": 1_500_000_000,
            "diffusable_commercialement": true,
            "etablissements": etablissements
        },
        "links": { "siege_social": "https://entreprise.api.gouv.fr/v3/insee/sirene/etablissements/13002526500013" },
        "meta": { "date_derniere_mise_a_jour": 1700000000, "redirect_from_siren": null }
    }))
    .unwrap()
}

// Hand-written types for the bare reqwest call: what a team writes without a generator.
#[allow(dead_code)]
#[derive(Deserialize)]
struct HandResponse {
    data: HandUnite,
    links: HandLinks,
    meta: HandMeta,
}
#[allow(dead_code)]
#[derive(Deserialize)]
struct HandUnite {
    siren: String,
    #[serde(rename = "type")]
    type_: String,
    rna: Option<String>,
    personne_morale_attributs: HandPm,
    forme_juridique: Option<HandCode>,
    activite_principale: Option<HandCode>,
    tranche_effectif_salarie: Option<HandTranche>,
    etat_administratif: Option<String>,
    date_creation: Option<i64>,
    diffusable_commercialement: Option<bool>,
    etablissements: Vec<HandEtab>,
}
#[allow(dead_code)]
#[derive(Deserialize)]
struct HandPm {
    raison_sociale: Option<String>,
    sigle: Option<String>,
}
#[allow(dead_code)]
#[derive(Deserialize)]
struct HandCode {
    code: String,
    libelle: String,
}
#[allow(dead_code)]
#[derive(Deserialize)]
struct HandTranche {
    code: Option<String>,
    intitule: Option<String>,
    date_reference: Option<String>,
    de: Option<i64>,
    a: Option<i64>,
}
#[allow(dead_code)]
#[derive(Deserialize)]
struct HandEtab {
    siret: String,
    siege_social: bool,
    etat_administratif: Option<String>,
    date_creation: Option<i64>,
    enseigne: Option<String>,
    activite_principale: Option<HandCode>,
    tranche_effectif_salarie: Option<HandTranche>,
    adresse: HandAdresse,
}
#[allow(dead_code)]
#[derive(Deserialize)]
struct HandAdresse {
    numero_voie: Option<String>,
    type_voie: Option<String>,
    libelle_voie: Option<String>,
    complement_adresse: Option<String>,
    code_postal: Option<String>,
    libelle_commune: Option<String>,
    code_commune: Option<String>,
    code_pays_etranger: Option<String>,
    acheminement_postal: Option<Vec<String>>,
}
#[allow(dead_code)]
#[derive(Deserialize)]
struct HandLinks {
    siege_social: Option<String>,
    siege_social_adresse: Option<String>,
}
#[allow(dead_code)]
#[derive(Deserialize)]
struct HandMeta {
    date_derniere_mise_a_jour: Option<i64>,
    redirect_from_siren: Option<String>,
}

// ---------------------------------------------------------------- server

#[derive(Default)]
struct Tokens {
    issued: AtomicU64,
    rejected: AtomicU64,
    live: Mutex<HashMap<String, Instant>>,
    lifetime: Duration,
    check: bool,
}

struct AppState {
    small: bytes::Bytes,
    large: bytes::Bytes,
    tokens: Tokens,
}

async fn unite(
    State(s): State<Arc<AppState>>,
    Path(siren): Path<String>,
    headers: HeaderMap,
) -> Response {
    if s.tokens.check {
        let auth = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        let valid = s
            .tokens
            .live
            .lock()
            .unwrap()
            .get(auth)
            .is_some_and(|t| t.elapsed() < s.tokens.lifetime);
        if !valid {
            s.tokens.rejected.fetch_add(1, Ordering::Relaxed);
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
            )
                .into_response();
        }
    }
    let body = if siren == "large" {
        s.large.clone()
    } else {
        s.small.clone()
    };
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn token(State(s): State<Arc<AppState>>) -> Response {
    let n = s.tokens.issued.fetch_add(1, Ordering::SeqCst) + 1;
    let t = format!("tok-{n}");
    s.tokens
        .live
        .lock()
        .unwrap()
        .insert(t.clone(), Instant::now());
    let body = serde_json::json!({
        "access_token": t,
        "token_type": "Bearer",
        "expires_in": s.tokens.lifetime.as_secs(),
        "scope": "openid"
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn serve(check_tokens: bool, lifetime: Duration) -> (String, Arc<AppState>) {
    let state = Arc::new(AppState {
        small: small_body().into(),
        large: large_body().into(),
        tokens: Tokens {
            lifetime,
            check: check_tokens,
            ..Default::default()
        },
    });
    let app = Router::new()
        .route("/v3/insee/sirene/unites_legales/{siren}", get(unite))
        .route("/token", post(token))
        .with_state(Arc::clone(&state));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), state)
}

// ---------------------------------------------------------------- clients

#[derive(Clone)]
struct Clients {
    bare: reqwest::Client,
    /// Bare reqwest with the runtime's default 30-second request timeout (a tokio timer per call).
    bare_timeout: reqwest::Client,
    bare_url: String,
    ours: ours_client::Client,
    #[cfg(feature = "prog")]
    prog: prog_client::Client,
}

impl Clients {
    /// Client names, by index of [`Clients::call`].
    fn names() -> Vec<&'static str> {
        let mut v = vec!["bare reqwest", "gouvgen", "bare reqwest + 30 s timeout"];
        if cfg!(feature = "prog") {
            v.push("progenitor");
        }
        v
    }

    fn count() -> usize {
        Self::names().len()
    }

    /// One call by client `k`, body decoded into typed structs; returns the number of
    /// establishments (so the decode cannot be optimised away).
    async fn call(&self, k: usize, siren: &str) -> usize {
        match k {
            0 | 2 => {
                let client = if k == 0 { &self.bare } else { &self.bare_timeout };
                let r = client
                    .get(format!("{}/{siren}", self.bare_url))
                    .header("authorization", "Bearer bench-token")
                    .send()
                    .await
                    .unwrap()
                    .error_for_status()
                    .unwrap();
                let v: HandResponse = r.json().await.unwrap();
                black_box(v).data.etablissements.len()
            }
            1 => {
                let r = self.ours.get_unite_legale(siren).await.unwrap();
                black_box(r.into_inner()).data.etablissements.len()
            }
            #[cfg(feature = "prog")]
            3 => {
                let r = self.prog.get_unite_legale(siren).await.unwrap();
                black_box(r.into_inner()).data.etablissements.len()
            }
            _ => unreachable!(),
        }
    }
}

fn stats(mut v: Vec<Duration>) -> serde_json::Value {
    if v.is_empty() {
        return serde_json::json!({ "median_us": null, "p99_us": null, "n": 0 });
    }
    v.sort();
    let pick = |p: f64| {
        let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
        v[rank.clamp(1, v.len()) - 1].as_secs_f64() * 1e6
    };
    serde_json::json!({ "median_us": pick(50.0), "p99_us": pick(99.0), "n": v.len() })
}

async fn latency(c: &Clients, siren: &str, warmup: usize, calls: usize) -> Vec<serde_json::Value> {
    let n = Clients::count();
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(calls); n];
    let only: Option<usize> = std::env::var("BENCH_ONLY").ok().and_then(|v| v.parse().ok());
    // Interleaved, in a fresh random order every round (a fixed rotation would make each
    // client always follow the same other one and pay for its leftover work).
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut order: Vec<usize> = (0..n).collect();
    for i in 0..(warmup + calls) {
        for j in (1..n).rev() {
            // xorshift64: deterministic, dependency-free shuffle.
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            order.swap(j, (rng % (j as u64 + 1)) as usize);
        }
        for &k in &order {
            // BENCH_ONLY=k: profile one client alone.
            if only.is_some_and(|o| o != k) {
                continue;
            }
            let t = Instant::now();
            black_box(c.call(k, siren).await);
            let d = t.elapsed();
            if i >= warmup {
                samples[k].push(d);
            }
        }
    }
    samples.into_iter().map(stats).collect()
}

/// Calls per second with `workers` concurrent tasks; rounds interleave the clients and the
/// median round counts.
async fn throughput(c: &Clients, siren: &'static str, calls: usize, workers: usize) -> Vec<f64> {
    let n = Clients::count();
    let mut rounds: Vec<Vec<f64>> = vec![Vec::new(); n];
    for round in 0..3 {
        for j in 0..n {
            let k = (round + j) % n;
            let t = Instant::now();
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..workers {
                let c = c.clone();
                let per = calls / workers;
                set.spawn(async move {
                    for _ in 0..per {
                        black_box(c.call(k, siren).await);
                    }
                });
            }
            while set.join_next().await.is_some() {}
            rounds[k].push((calls / workers * workers) as f64 / t.elapsed().as_secs_f64());
        }
    }
    rounds
        .into_iter()
        .map(|mut r| {
            r.sort_by(|a, b| a.partial_cmp(b).unwrap());
            r[r.len() / 2]
        })
        .collect()
}

async fn runtime_mode(small_calls: usize, large_calls: usize) -> serde_json::Value {
    let (base, state) = serve(false, Duration::from_secs(3600)).await;
    let api = ApiClient::builder(presets::custom(base.clone()))
        .bearer("bench-token")
        .no_rate_limit()
        .build()
        .unwrap();
    let clients = Clients {
        bare: reqwest::Client::new(),
        bare_timeout: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        bare_url: format!("{base}/v3/insee/sirene/unites_legales"),
        ours: ours_client::Client::new(api),
        #[cfg(feature = "prog")]
        prog: prog_client::Client::new(&format!("{base}/v3")),
    };
    let small = latency(&clients, "small", small_calls / 10, small_calls).await;
    let large = latency(&clients, "large", (large_calls / 10).max(5), large_calls).await;
    if std::env::var_os("BENCH_ONLY").is_some() {
        return serde_json::json!({ "small": small });
    }
    let tp_small = throughput(&clients, "small", small_calls.max(16), 16).await;
    let tp_large = throughput(&clients, "large", (large_calls / 2).max(8), 4).await;
    serde_json::json!({
        "clients": Clients::names(),
        "small_bytes": state.small.len(),
        "large_bytes": state.large.len(),
        "small": small,
        "large": large,
        "throughput_small": tp_small,
        "throughput_large": tp_large,
    })
}

fn token_client(base: &str, id: &str) -> ours_client::Client {
    let api = ApiClient::builder(presets::piste(PisteAccess::Internet, Environment::Sandbox))
        .api_root(base)
        .token_url(format!("{base}/token"))
        .client_credentials(id.to_string(), Secret::new("secret".to_string()))
        .no_rate_limit()
        .build()
        .unwrap();
    ours_client::Client::new(api)
}

async fn tokens_mode(cold: usize, seconds: u64, rate: u64) -> serde_json::Value {
    let lifetime = Duration::from_secs(5);
    let (base, state) = serve(true, lifetime).await;

    // 1. Cold cache, `cold` concurrent calls.
    let client = token_client(&base, "cold-start");
    let before = state.tokens.issued.load(Ordering::SeqCst);
    let t = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..cold {
        let c = client.clone();
        set.spawn(async move { c.get_unite_legale("small").await.is_ok() });
    }
    let mut ok = 0;
    while let Some(r) = set.join_next().await {
        ok += usize::from(r.unwrap_or(false));
    }
    let cold_time = t.elapsed();
    let cold_tokens = state.tokens.issued.load(Ordering::SeqCst) - before;
    let cold_client_count = client.runtime().token_requests();

    // 2. `rate` calls per second for `seconds`, 5-second tokens (another account: cold too).
    let client = token_client(&base, "steady-run");
    let before = state.tokens.issued.load(Ordering::SeqCst);
    let rejected_before = state.tokens.rejected.load(Ordering::SeqCst);
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let lat = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(AtomicU64::new(0));
    let mut set = tokio::task::JoinSet::new();
    let mut sent = 0u64;
    while Instant::now() < end {
        tick.tick().await;
        sent += 1;
        let c = client.clone();
        let lat = Arc::clone(&lat);
        let errors = Arc::clone(&errors);
        set.spawn(async move {
            let t = Instant::now();
            if c.get_unite_legale("small").await.is_err() {
                errors.fetch_add(1, Ordering::Relaxed);
            }
            lat.lock().unwrap().push(t.elapsed());
        });
        while set.try_join_next().is_some() {}
    }
    while set.join_next().await.is_some() {}
    let elapsed = start.elapsed();
    let lat = std::mem::take(&mut *lat.lock().unwrap());
    serde_json::json!({
        "cold_calls": cold,
        "cold_ok": ok,
        "cold_token_requests": cold_tokens,
        "cold_token_requests_client": cold_client_count,
        "cold_ms": cold_time.as_secs_f64() * 1e3,
        "run_seconds": elapsed.as_secs_f64(),
        "run_calls": sent,
        "run_rate": sent as f64 / elapsed.as_secs_f64(),
        "run_errors": errors.load(Ordering::Relaxed),
        "run_token_requests": state.tokens.issued.load(Ordering::SeqCst) - before,
        "run_rejected_401": state.tokens.rejected.load(Ordering::SeqCst) - rejected_before,
        "run_latency": stats(lat),
        "token_lifetime_s": lifetime.as_secs(),
    })
}

// ---------------------------------------------------------------- measure 8

/// One call through the runtime directly (no generated code), body read.
async fn raw_call(c: &ApiClient) {
    let req = Request::new(
        Method::GET,
        "getUniteLegale",
        "/v3/insee/sirene/unites_legales/small".into(),
    );
    let r = c.execute::<Undocumented>(req).await.unwrap();
    black_box(r.bytes::<Undocumented>().unwrap());
}

fn fleet_client(base: &str, id: &str, redis: Option<&str>) -> ApiClient {
    let mut b = ApiClient::builder(presets::piste(PisteAccess::Internet, Environment::Sandbox))
        .api_root(base)
        .token_url(format!("{base}/token"))
        .client_credentials(id.to_string(), Secret::new("secret".to_string()))
        .no_rate_limit();
    if let Some(url) = redis {
        b = b.redis(url);
    }
    b.build().unwrap()
}

/// A process of the fleet: `conc` concurrent calls on a cold token cache; prints the count ok.
async fn fleet_member(base: &str, redis: Option<&str>, id: &str, conc: usize) -> serde_json::Value {
    let c = fleet_client(base, id, redis);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..conc {
        let c = c.clone();
        set.spawn(async move { raw_call(&c).await });
    }
    let mut ok = 0;
    while let Some(r) = set.join_next().await {
        ok += usize::from(r.is_ok());
    }
    serde_json::json!({ "ok": ok })
}

/// Token requests of `n` OS processes (this binary, `fleet-member`) of one account.
fn fleet_processes(base: &str, redis: Option<&str>, id: &str, n: usize, conc: usize) -> usize {
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..n)
        .map(|_| {
            std::process::Command::new(&exe)
                .args(["fleet-member", base, redis.unwrap_or("-"), id])
                .arg(conc.to_string())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ok = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        let v: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
        ok += v["ok"].as_u64().unwrap_or(0) as usize;
    }
    ok
}

async fn fleet_mode(calls: usize, redis: Option<String>) -> serde_json::Value {
    let (base, state) = serve(true, Duration::from_secs(3600)).await;
    let token = |id: &str| fleet_client(&base, id, None);
    // Per-call overhead: the same call through each client, interleaved in a fresh random
    // order every round. Warm: each client's token is fetched before timing.
    let limited = |id: &str, redis: Option<&str>| {
        let mut b = ApiClient::builder(presets::piste(PisteAccess::Internet, Environment::Sandbox))
            .api_root(&base)
            .token_url(format!("{base}/token"))
            .client_credentials(id.to_string(), Secret::new("secret".to_string()))
            .rate_limit(RateLimit::per_second(1_000_000).with_burst(1_000_000));
        if let Some(url) = redis {
            b = b.redis(url);
        }
        b.build().unwrap()
    };
    let mut names = vec![
        "no shared limiter (local state)",
        "shared limiter, in process",
    ];
    let mut clients = vec![token("overhead-local"), limited("overhead-process", None)];
    if let Some(url) = redis.as_deref() {
        names.push("shared limiter, Redis");
        clients.push(limited("overhead-redis", Some(url)));
    }
    for c in &clients {
        raw_call(c).await;
    }
    let n = clients.len();
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(calls); n];
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut order: Vec<usize> = (0..n).collect();
    for i in 0..(calls / 10 + calls) {
        for j in (1..n).rev() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            order.swap(j, (rng % (j as u64 + 1)) as usize);
        }
        for &k in &order {
            let t = Instant::now();
            raw_call(&clients[k]).await;
            if i >= calls / 10 {
                samples[k].push(t.elapsed());
            }
        }
    }
    let overhead: Vec<serde_json::Value> = names
        .iter()
        .zip(samples)
        .map(|(name, v)| serde_json::json!({ "client": name, "latency": stats(v) }))
        .collect();

    // Token requests per fleet: 4 clients or 4 processes of one account, 50 concurrent calls
    // each, cold caches.
    let issued = || state.tokens.issued.load(Ordering::SeqCst);
    let mut fleets = Vec::new();
    let before = issued();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let base = base.clone();
        set.spawn(async move { fleet_member(&base, None, "fleet-clients", 50).await });
    }
    let mut ok = 0;
    while let Some(r) = set.join_next().await {
        ok += r.unwrap()["ok"].as_u64().unwrap_or(0);
    }
    fleets.push(serde_json::json!({
        "fleet": "4 clients in one process", "store": "in process (default)",
        "calls": 200, "ok": ok, "token_requests": issued() - before }));
    let before = issued();
    let ok = fleet_processes(&base, None, "fleet-procs-local", 4, 50);
    fleets.push(serde_json::json!({
        "fleet": "4 OS processes", "store": "none (process-local)",
        "calls": 200, "ok": ok, "token_requests": issued() - before }));
    if let Some(url) = redis.as_deref() {
        let before = issued();
        let ok = fleet_processes(&base, Some(url), "fleet-procs-redis", 4, 50);
        fleets.push(serde_json::json!({
            "fleet": "4 OS processes", "store": "Redis",
            "calls": 200, "ok": ok, "token_requests": issued() - before }));
    }
    serde_json::json!({ "calls": calls, "overhead": overhead, "fleets": fleets, "redis": redis.is_some() })
}

// ---------------------------------------------------------------- measure 5: telemetry

/// A client of the runtime directly, warm token; with `sdk`, spans and metrics go to an
/// `opentelemetry_sdk` pipeline (batch span processor, periodic metric reader: what a service
/// runs, the export itself off the call's path).
fn telemetry_client(
    base: &str,
    id: &str,
    sdk: Option<&(SdkTracerProvider, SdkMeterProvider)>,
    propagate: bool,
) -> ApiClient {
    let mut b = ApiClient::builder(presets::piste(PisteAccess::Internet, Environment::Sandbox))
        .api_root(base)
        .token_url(format!("{base}/token"))
        .client_credentials(id.to_string(), Secret::new("secret".to_string()))
        .no_rate_limit()
        .propagate_trace_context(propagate);
    if let Some((t, m)) = sdk {
        b = b.telemetry(Telemetry::new().tracer_provider(t).meter_provider(m));
    }
    b.build().unwrap()
}

/// What a telemetry row calls: the runtime directly, or the generated client (small payload,
/// typed decode: measure 5's call).
enum Target {
    Raw(ApiClient),
    Generated(ours_client::Client),
}

impl Target {
    async fn call(&self) {
        match self {
            Target::Raw(c) => raw_call(c).await,
            Target::Generated(c) => {
                let r = c.get_unite_legale("small").await.unwrap();
                black_box(r.into_inner());
            }
        }
    }
}

async fn telemetry_mode(calls: usize) -> serde_json::Value {
    let (base, _state) = serve(true, Duration::from_secs(3600)).await;
    let spans = InMemorySpanExporter::default();
    let tracer = SdkTracerProvider::builder()
        .with_batch_exporter(spans.clone())
        .build();
    let meter = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(InMemoryMetricExporter::default()).build())
        .build();
    let sdk = (tracer, meter);
    let on = Some(&sdk);
    let gen_client = |id: &str, sdk| {
        Target::Generated(ours_client::Client::new(telemetry_client(&base, id, sdk, false)))
    };
    let rows = [
        ("runtime call", "telemetry off", Target::Raw(telemetry_client(&base, "otel-off", None, false))),
        ("runtime call", "traces + metrics", Target::Raw(telemetry_client(&base, "otel-on", on, false))),
        (
            "runtime call",
            "traces + metrics + traceparent",
            Target::Raw(telemetry_client(&base, "otel-propagate", on, true)),
        ),
        ("generated client", "telemetry off", gen_client("otel-gen-off", None)),
        ("generated client", "traces + metrics", gen_client("otel-gen-on", on)),
    ];
    let targets: Vec<&Target> = rows.iter().map(|r| &r.2).collect();
    for t in &targets {
        t.call().await;
    }
    let samples = interleaved(&targets, calls).await;
    let rows: Vec<serde_json::Value> = rows
        .iter()
        .zip(samples)
        .map(|((path, name, _), v)| {
            serde_json::json!({ "path": path, "client": name, "latency": stats(v) })
        })
        .collect();
    sdk.0.force_flush().unwrap();
    let exported = spans.get_finished_spans().map(|v| v.len()).unwrap_or(0);
    spans.reset();
    serde_json::json!({ "calls": calls, "rows": rows, "spans_exported": exported })
}

/// `calls` timed calls per target (after a tenth as many untimed), the targets in a fresh
/// random order every round.
async fn interleaved(targets: &[&Target], calls: usize) -> Vec<Vec<Duration>> {
    let n = targets.len();
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(calls); n];
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut order: Vec<usize> = (0..n).collect();
    for i in 0..(calls / 10 + calls) {
        for j in (1..n).rev() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            order.swap(j, (rng % (j as u64 + 1)) as usize);
        }
        for &k in &order {
            let t = Instant::now();
            targets[k].call().await;
            if i >= calls / 10 {
                samples[k].push(t.elapsed());
            }
        }
    }
    samples
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let num = |i: usize, d: u64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let out = match args.get(1).map(String::as_str) {
        Some("runtime") => runtime_mode(num(2, 5000) as usize, num(3, 300) as usize).await,
        Some("tokens") => tokens_mode(num(2, 1000) as usize, num(3, 60), num(4, 200)).await,
        Some("fleet") => {
            let redis = args.get(3).filter(|u| *u != "-").cloned();
            fleet_mode(num(2, 5000) as usize, redis).await
        }
        Some("telemetry") => telemetry_mode(num(2, 5000) as usize).await,
        Some("fleet-member") if args.len() == 6 => {
            let redis = Some(args[3].as_str()).filter(|u| *u != "-");
            fleet_member(&args[2], redis, &args[4], num(5, 50) as usize).await
        }
        _ => {
            eprintln!(
                "usage: harness runtime <small calls> <large calls> | tokens <cold> <seconds> <rate>"
            );
            std::process::exit(2);
        }
    };
    println!("{out}");
}
