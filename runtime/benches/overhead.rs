//! Per-call overhead of `ApiClient::execute` (static bearer, no limiter) versus a bare reqwest
//! call, against the same loopback axum server. Run with `cargo bench -p gouvgen-runtime`.

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use gouvgen_runtime::{ApiClient, Method, Request, Undocumented, presets};

const WARMUP: usize = 500;
const CALLS: usize = 5_000;

fn stats(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (v[v.len() / 2], v[v.len() * 99 / 100])
}

#[tokio::main]
async fn main() {
    let app = Router::new().route("/api/thing", get(|| async { r#"{"ok":true}"# }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let base = format!("http://{addr}");

    let bare = reqwest::Client::new();
    let bare_timeout = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    if std::env::var_os("ANCHOR").is_some() {
        tokio::spawn(async {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
    let url = format!("{base}/api/thing");
    let client = ApiClient::builder(presets::custom(base.clone()))
        .bearer("bench-token")
        .no_rate_limit()
        .build()
        .unwrap();

    let mut bare_t = Vec::with_capacity(CALLS);
    let mut rt_t = Vec::with_capacity(CALLS);
    let mut bt_t = Vec::with_capacity(CALLS);
    for i in 0..(WARMUP + CALLS) {
        // Interleave the two so both see the same machine load.
        let t = Instant::now();
        let r = bare
            .get(&url)
            .header("authorization", "Bearer bench-token")
            .header("x-correlation-id", "00000000-0000-4000-8000-000000000000")
            .send()
            .await
            .unwrap();
        let _ = r.bytes().await.unwrap();
        let bare_d = t.elapsed();

        let t = Instant::now();
        let r = client
            .execute::<Undocumented>(Request::new(Method::GET, "getThing", "/api/thing".into()))
            .await
            .unwrap();
        let _ = r.bytes::<Undocumented>().unwrap();
        let rt_d = t.elapsed();

        let t = Instant::now();
        let r = bare_timeout
            .get(&url)
            .header("authorization", "Bearer bench-token")
            .header("x-correlation-id", "00000000-0000-4000-8000-000000000000")
            .send()
            .await
            .unwrap();
        let _ = r.bytes().await.unwrap();
        let bt_d = t.elapsed();
        if i >= WARMUP {
            bt_t.push(bt_d);
            bare_t.push(bare_d);
            rt_t.push(rt_d);
        }
    }
    let (bm, bp) = stats(bare_t);
    let (rm, rp) = stats(rt_t);
    let (tm, tp) = stats(bt_t);
    println!("calls: {CALLS} each (after {WARMUP} warm-up), loopback axum server");
    println!("bare reqwest      : median {bm:?}, p99 {bp:?}");
    println!("bare reqwest + 30 s timeout: median {tm:?}, p99 {tp:?}");
    println!("ApiClient::execute: median {rm:?}, p99 {rp:?}");
    println!(
        "ratio (runtime / bare): median {:.2}x, p99 {:.2}x; added median {:?}",
        rm.as_secs_f64() / bm.as_secs_f64(),
        rp.as_secs_f64() / bp.as_secs_f64(),
        rm.saturating_sub(bm)
    );
}
