//! Measure 5: per-call latency (median, p99) and throughput of our generated client,
//! progenitor's generated client and a bare reqwest call (hand-written serde types), same
//! endpoint and payloads, against a loopback axum server. Calls are interleaved (a fresh random
//! order every round) so all clients see the same machine load.

use serde_json::Value;

use crate::harness::Harness;
use crate::report::Table;
use crate::stats::ratio;

pub struct RuntimeResult {
    pub json: Value,
}

pub fn run(h: &Harness, small_calls: usize, large_calls: usize) -> Result<RuntimeResult, String> {
    let json = h.run(&[
        "runtime".into(),
        small_calls.to_string(),
        large_calls.to_string(),
    ])?;
    Ok(RuntimeResult { json })
}

fn us(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2} ms", v / 1000.0)
    } else {
        format!("{v:.0} µs")
    }
}

impl RuntimeResult {
    fn clients(&self) -> Vec<String> {
        self.json["clients"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// (median, p99) in µs of client `k` for payload `which`.
    pub fn lat(&self, which: &str, k: usize) -> (f64, f64) {
        let v = &self.json[which][k];
        (
            v["median_us"].as_f64().unwrap_or(f64::NAN),
            v["p99_us"].as_f64().unwrap_or(f64::NAN),
        )
    }

    pub fn section(&self) -> String {
        let clients = self.clients();
        let mut s = format!(
            "Payloads: small {} bytes, large {} bytes (API Entreprise-shaped `data`/`links`/`meta` \
             envelope with {} establishments). Each call decodes the body into typed structs \
             (generated ones, or hand-written serde structs for bare reqwest). `bare reqwest + 30 s \
             timeout` is the same bare call with the request timeout our runtime sets by default \
             (progenitor's client sets one too, 15 s): it shows what a timeout alone costs. Latency: {} \
             sequential calls per client (small) and {} (large); throughput: 16 concurrent tasks \
             (small) and 4 (large), median of 3 interleaved rounds.\n\n",
            self.json["small_bytes"],
            self.json["large_bytes"],
            2900,
            self.json["small"][0]["n"],
            self.json["large"][0]["n"],
        );
        let mut tab = Table::new(
            [
                "payload",
                "client",
                "median",
                "p99",
                "throughput (calls/s)",
                "median / bare reqwest",
                "median / progenitor",
                "throughput / progenitor",
            ]
            .iter()
            .map(|x| x.to_string())
            .collect(),
        );
        let prog_k = clients.iter().position(|c| c == "progenitor");
        for which in ["small", "large"] {
            let tp = &self.json[format!("throughput_{which}")];
            let bare = self.lat(which, 0).0;
            let prog = prog_k.map_or(f64::NAN, |k| self.lat(which, k).0);
            let prog_tp = prog_k.map_or(f64::NAN, |k| tp[k].as_f64().unwrap_or(f64::NAN));
            for (k, name) in clients.iter().enumerate() {
                let (m, p) = self.lat(which, k);
                let t = tp[k].as_f64().unwrap_or(f64::NAN);
                tab.row(vec![
                    which.into(),
                    if k == 1 {
                        format!("**{name}**")
                    } else {
                        name.clone()
                    },
                    us(m),
                    us(p),
                    format!("{t:.0}"),
                    ratio(m, bare),
                    if prog_k.is_some() {
                        ratio(m, prog)
                    } else {
                        "—".into()
                    },
                    if prog_k.is_some() {
                        ratio(t, prog_tp)
                    } else {
                        "—".into()
                    },
                ]);
            }
        }
        s.push_str(&tab.render());
        s
    }

    /// Median of our client over bare reqwest, and over bare reqwest with the same 30 s
    /// timeout, per payload.
    pub fn overhead(&self) -> Vec<(String, f64, f64)> {
        let k = self
            .clients()
            .iter()
            .position(|c| c.contains("timeout"))
            .unwrap_or(0);
        ["small", "large"]
            .iter()
            .map(|w| {
                let ours = self.lat(w, 1).0;
                (
                    w.to_string(),
                    ours / self.lat(w, 0).0,
                    ours / self.lat(w, k).0,
                )
            })
            .collect()
    }
}
