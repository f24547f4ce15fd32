//! Per-call overhead of `ApiClient::execute` (static bearer, no limiter) versus a bare reqwest
//! call without and with a request timeout (the runtime sets one by default), against the same
//! loopback axum server. Run with `cargo bench -p gouvgen-runtime --bench overhead`.
//!
//! Extra rows: the account's shared limiter in process (a limit high enough never to wait, so
//! only its bookkeeping is measured) and, with `--features redis` and `GOUVGEN_BENCH_REDIS` set
//! to a `redis://` URL, the fleet limiter in Redis (one Lua script round trip per call).

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use gouvgen_runtime::{ApiClient, Method, RateLimit, Request, Undocumented, presets};

const WARMUP: usize = 500;
const CALLS: usize = 5_000;

fn stats(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (v[v.len() / 2], v[v.len() * 99 / 100])
}

/// What a hand-written client sends: the same two headers the runtime adds.
async fn bare_call(client: &reqwest::Client, url: &str) {
    let r = client
        .get(url)
        .header("authorization", "Bearer bench-token")
        .header("x-correlation-id", "00000000-0000-4000-8000-000000000000")
        .send()
        .await
        .unwrap();
    let _ = r.bytes().await.unwrap();
}

#[tokio::main]
async fn main() {
    let app = Router::new().route("/api/thing", get(|| async { r#"{"ok":true}"# }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let base = format!("http://{addr}");
    let url = format!("{base}/api/thing");

    let bare = reqwest::Client::new();
    let bare_timeout = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let client = ApiClient::builder(presets::custom(base.clone()))
        .bearer("bench-token")
        .no_rate_limit()
        .build()
        .unwrap();

    let limited = |token: &str| {
        ApiClient::builder(presets::custom(base.clone()))
            .bearer(token)
            .rate_limit(RateLimit::per_second(1_000_000).with_burst(1_000_000))
    };
    #[allow(unused_mut, clippy::useless_vec)] // rows added with the `redis` feature
    let mut clients = vec![client.clone(), limited("bench-shared").build().unwrap()];
    #[allow(unused_mut, clippy::useless_vec)]
    let mut names = vec![
        "bare reqwest",
        "bare reqwest + 30 s timeout",
        "ApiClient::execute",
        "+ shared limiter (process)",
    ];
    #[cfg(feature = "redis")]
    if let Ok(url) = std::env::var("GOUVGEN_BENCH_REDIS") {
        clients.push(limited("bench-redis").redis(&url).build().unwrap());
        names.push("+ shared limiter (Redis)");
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); names.len()];
    let mut order: Vec<usize> = (0..names.len()).collect();
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..(WARMUP + CALLS) {
        // Interleaved in a fresh random order (xorshift64 shuffle) so all three see the same
        // machine load and none always follows the same other one.
        for j in (1..order.len()).rev() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            order.swap(j, (rng % (j as u64 + 1)) as usize);
        }
        for &k in &order {
            let t = Instant::now();
            match k {
                0 => bare_call(&bare, &url).await,
                1 => bare_call(&bare_timeout, &url).await,
                k => {
                    let req = Request::new(Method::GET, "getThing", "/api/thing".into());
                    let r = clients[k - 2].execute::<Undocumented>(req).await.unwrap();
                    let _ = r.bytes::<Undocumented>().unwrap();
                }
            }
            if i >= WARMUP {
                samples[k].push(t.elapsed());
            }
        }
    }
    println!("calls: {CALLS} each (after {WARMUP} warm-up), loopback axum server");
    let all: Vec<(Duration, Duration)> = samples.into_iter().map(stats).collect();
    let (bare_s, timeout_s, rt_s) = (all[0], all[1], all[2]);
    for (name, (m, p)) in names.iter().zip(all.iter().copied()) {
        println!(
            "{name:<28}: median {m:?}, p99 {p:?}, median / bare {:.3}",
            m.as_secs_f64() / bare_s.0.as_secs_f64()
        );
    }
    println!(
        "runtime / bare with the same timeout: median {:.3}",
        rt_s.0.as_secs_f64() / timeout_s.0.as_secs_f64()
    );
}
