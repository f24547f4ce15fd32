//! Measure 8: the account's shared state. Per-call overhead of the shared limiter, in process
//! and on Redis, against a client without it (calls through the runtime, warm token, loopback
//! server); then token requests of a fleet of one account on cold caches: 4 clients in one
//! process, 4 OS processes without a shared store, 4 OS processes through one Redis. The Redis
//! rows need `redis-server` (Debian package redis-server), started here on a free loopback port.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::Harness;
use crate::report::{Table, h};
use crate::stats::ratio;

pub struct FleetResult {
    pub json: Value,
    /// Why the Redis rows are missing, if they are.
    pub skipped: Option<String>,
}

/// A `redis-server` on a free loopback port, killed on drop.
struct Redis(Child, u16);

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis() -> Result<Redis, String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let child = Command::new("redis-server")
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|_| "redis-server not found (Debian package redis-server)".to_string())?;
    let redis = Redis(child, port);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err("redis-server did not start".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(redis)
}

pub fn run(h: &Harness, calls: usize) -> Result<FleetResult, String> {
    let (redis, skipped) = match start_redis() {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(e)),
    };
    let url = redis
        .as_ref()
        .map_or("-".to_string(), |r| format!("redis://127.0.0.1:{}/0", r.1));
    let json = h.run(&["fleet".into(), calls.to_string(), url])?;
    drop(redis);
    Ok(FleetResult { json, skipped })
}

fn us(v: f64) -> String {
    format!("{v:.0} µs")
}

impl FleetResult {
    pub fn section(&self) -> String {
        let j = &self.json;
        let mut s = format!(
            "Calls through `ApiClient::execute` (no generated code), OAuth client credentials with \
             a warm token, loopback server, {} sequential calls per client, interleaved in a \
             random order every round. The shared limiter is set high enough (10⁶/s) never to \
             wait: only its bookkeeping is measured (on Redis: one Lua script round trip per \
             call to a local redis-server, reserving the next call's permit in the background \
             while this call is sent, and the process-local limiter always).\n\n",
            j["calls"]
        );
        let mut tab = Table::new(h(&[
            "client",
            "median",
            "p99",
            "median / no shared limiter",
        ]));
        let rows = j["overhead"].as_array().cloned().unwrap_or_default();
        let base = rows
            .first()
            .and_then(|r| r["latency"]["median_us"].as_f64())
            .unwrap_or(f64::NAN);
        for r in &rows {
            let m = r["latency"]["median_us"].as_f64().unwrap_or(f64::NAN);
            let p = r["latency"]["p99_us"].as_f64().unwrap_or(f64::NAN);
            tab.row(vec![
                r["client"].as_str().unwrap_or("?").to_string(),
                us(m),
                us(p),
                ratio(m, base),
            ]);
        }
        s.push_str(&tab.render());
        s.push_str(
            "\nToken requests of one account's fleet, cold caches, 50 concurrent calls per client \
             or process:\n\n",
        );
        let mut tab = Table::new(h(&["fleet", "shared store", "calls ok", "token requests"]));
        for f in j["fleets"].as_array().cloned().unwrap_or_default() {
            tab.row(vec![
                f["fleet"].as_str().unwrap_or("?").to_string(),
                f["store"].as_str().unwrap_or("?").to_string(),
                format!("{} / {}", f["ok"], f["calls"]),
                format!("**{}**", f["token_requests"]),
            ]);
        }
        s.push_str(&tab.render());
        if let Some(why) = &self.skipped {
            s.push_str(&format!("\nRedis rows skipped: {why}.\n"));
        }
        s
    }
}
