//! Medians, percentiles and the formatting of times and ratios used in every table.

use std::time::Duration;

pub fn median(v: &[Duration]) -> Duration {
    percentile(v, 50.0)
}

/// Nearest-rank percentile (`p` in 0..=100).
pub fn percentile(v: &[Duration], p: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    let mut s = v.to_vec();
    s.sort();
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

/// A duration with a unit that keeps three significant digits.
pub fn dur(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 10.0 {
        format!("{s:.1} s")
    } else if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 0.001 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

/// `ours / peer` as `0.42×`.
pub fn ratio(ours: f64, peer: f64) -> String {
    if peer <= 0.0 || !peer.is_finite() || !ours.is_finite() {
        "—".into()
    } else {
        let r = ours / peer;
        if r < 0.095 {
            format!("{r:.3}×")
        } else {
            format!("{r:.2}×")
        }
    }
}

pub fn ratio_d(ours: Duration, peer: Duration) -> String {
    ratio(ours.as_secs_f64(), peer.as_secs_f64())
}
