//! Quotas: the plain per-client window ([`crate::GatewayConfig::rate_limit`]), or the v3
//! groups (per token: JSON routes, document routes; per IP: everything), with the 429s, the
//! `RateLimit-*` / PISTE `x-rate-limit` headers, and the ban for ignoring a 429.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;

use super::Shared;
use super::auth::throttled;
use crate::config::Kind;
use serde_json::json;

use crate::state::{Inner, Traffic, Verdict};
use crate::v3;

/// What the quota headers of an answer say.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct QuotaView {
    /// The quota in force (`None`: no quota).
    limit: Option<(u32, Duration)>,
    remaining: u32,
    reset_in: Duration,
}

impl QuotaView {
    /// `RateLimit-*` (API Entreprise / Particulier) or `x-rate-limit` (PISTE).
    pub fn apply(&self, kind: Kind, headers: &mut HeaderMap) {
        match (kind, self.limit) {
            (Kind::Piste, Some(limit)) => {
                headers.insert("x-rate-limit", rate_limit_header(limit, self.remaining));
            }
            (Kind::Piste, None) => {
                headers.insert("x-rate-limit", HeaderValue::from_static("[]"));
            }
            (k, Some(limit)) if k.bans() => {
                quota_headers(headers, limit, self.remaining, self.reset_in)
            }
            _ => {}
        }
    }
}

/// What the quota decided.
pub(super) enum Admission {
    Admit(QuotaView),
    Refuse(Response),
    /// The call broke the ban rule and the ban is enforced: no answer.
    Ban,
}

/// What one window said.
enum Outcome {
    Admit(QuotaView),
    Throttle {
        retry_after: u64,
        violation: bool,
        view: QuotaView,
    },
}

/// Applies the quota in force to a call of `who` from `conn` on `path`.
pub(super) fn admit(
    shared: &Shared,
    inner: &mut Inner,
    who: &str,
    conn: SocketAddr,
    now: Instant,
    path: &str,
) -> Admission {
    let config = &shared.config;
    let check =
        |traffic: &mut Traffic, limit: (u32, Duration)| window(traffic, limit, conn, now, shared);
    let outcome = match (inner.scenario.rate_limit, config.v3.group_quotas) {
        (None, Some(groups)) => {
            // Per IP first (all tokens together), then the token's group.
            let ip_traffic = inner.ip_quota.entry(conn.ip()).or_default();
            match check(ip_traffic, (groups.per_ip, groups.per)) {
                throttle @ Outcome::Throttle { .. } => throttle,
                Outcome::Admit(_) => {
                    let group = v3::group_of(path, &config.v3.document_segments);
                    let max = match group {
                        v3::Group::Json => groups.json,
                        v3::Group::Document => groups.documents,
                    };
                    let key = (who.to_string(), group);
                    check(
                        inner.group_traffic.entry(key).or_default(),
                        (max, groups.per),
                    )
                }
            }
        }
        (scripted, _) => match scripted.unwrap_or(config.rate_limit) {
            None => return Admission::Admit(QuotaView::default()),
            Some(limit) => check(inner.traffic.entry(who.to_string()).or_default(), limit),
        },
    };
    match outcome {
        Outcome::Admit(view) => Admission::Admit(view),
        Outcome::Throttle {
            retry_after,
            violation,
            view,
        } => {
            inner.stats.throttled += 1;
            inner.stats.ban_violations += u64::from(violation);
            if violation && let Some(length) = config.v3.ban_on_violation {
                inner.scenario.banned_until = Some(now + length);
                return Admission::Ban;
            }
            let mut response = throttled(config.kind, retry_after);
            view.apply(config.kind, response.headers_mut());
            Admission::Refuse(response)
        }
    }
}

/// One sliding window, with the gateway's Retry-After and ban-grace settings.
fn window(
    traffic: &mut Traffic,
    limit: (u32, Duration),
    conn: SocketAddr,
    now: Instant,
    shared: &Shared,
) -> Outcome {
    let config = &shared.config;
    let verdict = traffic.check(
        now,
        conn,
        limit,
        config.retry_after,
        config.kind.bans(),
        config.ban_grace,
    );
    match verdict {
        Verdict::Admit { remaining } => Outcome::Admit(QuotaView {
            limit: Some(limit),
            remaining,
            reset_in: traffic.reset_in(now, limit),
        }),
        Verdict::Throttle {
            retry_after,
            violation,
        } => Outcome::Throttle {
            retry_after,
            violation,
            view: QuotaView {
                limit: Some(limit),
                remaining: traffic.remaining(now, limit),
                reset_in: traffic.reset_in(now, limit),
            },
        },
    }
}

/// API Entreprise / API Particulier v3 `RateLimit-Limit`, `RateLimit-Remaining` and
/// `RateLimit-Reset` (epoch seconds, rounded up: the window has room again by then).
fn quota_headers(
    headers: &mut HeaderMap,
    limit: (u32, Duration),
    remaining: u32,
    reset_in: Duration,
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

/// PISTE `x-rate-limit`: the windows (milliseconds) with the calls left in each.
fn rate_limit_header(limit: (u32, Duration), remaining: u32) -> HeaderValue {
    let text =
        json!([{"window": limit.1.as_millis() as u64, "type": "throttle", "remaining": remaining}])
            .to_string();
    HeaderValue::from_str(&text).expect("ASCII JSON")
}
