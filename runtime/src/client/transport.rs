//! The HTTP side of a client's configuration: which URLs may carry credentials, and the
//! redirect policy that keeps them on their origin.

use crate::error::Error;

use super::credentials::config_error as cfg;

/// `https`, or `http` to a loopback host (tests, local proxies); `http` elsewhere only when no
/// credential would travel over it.
pub(super) fn check_url(what: &str, url: &str, carries_credentials: bool) -> Result<(), Error> {
    let u =
        reqwest::Url::parse(url).map_err(|e| cfg(format!("{what} `{url}` is not a URL: {e}")))?;
    let host = u.host_str().unwrap_or("");
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match u.scheme() {
        "https" => Ok(()),
        "http" if loopback || !carries_credentials => Ok(()),
        "http" => Err(cfg(format!(
            "{what} `{url}` uses http: credentials would travel in clear text; use https (http is accepted for loopback hosts only)"
        ))),
        other => Err(cfg(format!(
            "{what} `{url}`: scheme `{other}` is not supported (https)"
        ))),
    }
}

fn same_origin(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Redirects are followed only to the same origin (so never https → http, never to a host that
/// would receive the credentials), at most 5 times, and never for token or revoke requests.
pub(super) fn redirect_policy(
    token_url: &Option<String>,
    revoke_url: &Option<String>,
) -> reqwest::redirect::Policy {
    let token_urls: Vec<reqwest::Url> = [token_url, revoke_url]
        .into_iter()
        .flatten()
        .filter_map(|u| reqwest::Url::parse(u).ok())
        .collect();
    reqwest::redirect::Policy::custom(move |attempt| {
        let Some(first) = attempt.previous().first().cloned() else {
            return attempt.stop();
        };
        let token_request = token_urls
            .iter()
            .any(|t| same_origin(t, &first) && t.path() == first.path());
        if token_request || attempt.previous().len() > 5 || !same_origin(&first, attempt.url()) {
            tracing::warn!(
                status = attempt.status().as_u16(),
                "redirect not followed (other origin, token endpoint or too many)"
            );
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}
