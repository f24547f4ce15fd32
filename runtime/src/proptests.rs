//! Property tests: no server-supplied header value or token response makes the runtime panic,
//! and what it derives from them stays within the documented bounds.

use std::time::Duration;

use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;

use crate::auth::grants::{MAX_TOKEN_LIFETIME, parse_expires_in, parse_token};
use crate::error::decode::{decode, parse_www_authenticate};
use crate::policy::rate_limit::exhausted_window;
use crate::policy::retry::{MAX_RETRY_AFTER, parse_retry_after};

/// Arbitrary bytes that form a valid header value (no CR, LF or NUL), including non-UTF-8.
fn header_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        "[ -~]{0,48}".prop_map(String::into_bytes),
        // Near-miss shapes of the real formats.
        r#"(-|\+)?[0-9]{0,25}(\.[0-9]{0,5})?(e[0-9]{1,4})?"#.prop_map(String::into_bytes),
        r#"Bearer ( ?[a-z_]{0,12}=("[^"]{0,12}"?|[a-z]{0,8}),?){0,4}"#.prop_map(String::into_bytes),
        r#"\[\{"window": ?-?[0-9e.]{0,24}, ?"remaining": ?-?[0-9e.]{0,6}\}\]"#
            .prop_map(String::into_bytes),
    ]
    .prop_map(|mut v| {
        v.retain(|b| !matches!(b, b'\r' | b'\n' | 0));
        v
    })
}

fn headers_with(value: &[u8]) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(value) {
        for name in [
            "retry-after",
            "www-authenticate",
            "x-rate-limit",
            "content-type",
        ] {
            h.insert(name, v.clone());
        }
    }
    h
}

/// Token responses: near-valid JSON objects with hostile field values, and junk.
fn token_body() -> impl Strategy<Value = Vec<u8>> {
    let value = prop_oneof![
        Just("null".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:e}")),
        "[ -~]{0,20}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just("{}".to_owned()),
        Just("[1,2]".to_owned()),
        Just("1e400".to_owned()),
        Just("\"18446744073709551615\"".to_owned()),
    ];
    let json = (value.clone(), value.clone(), value).prop_map(|(a, t, e)| {
        format!(r#"{{"access_token":{a},"token_type":{t},"expires_in":{e}}}"#).into_bytes()
    });
    prop_oneof![json, proptest::collection::vec(any::<u8>(), 0..128)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn header_values_never_panic(value in header_bytes(), status in 100u16..600) {
        let h = headers_with(&value);
        if let Some(d) = parse_retry_after(&h) {
            prop_assert!(d <= MAX_RETRY_AFTER);
        }
        if let Some(d) = exhausted_window(&h) {
            prop_assert!(d <= MAX_RETRY_AFTER);
        }
        let _ = parse_www_authenticate(&h);
        let _ = decode(status, &h, &value);
    }

    #[test]
    fn token_responses_never_panic(body in token_body(), status in 200u16..300) {
        if let Ok(t) = parse_token(status, &body, "https://gw.example/token") {
            prop_assert!(!t.access_token.expose().trim().is_empty());
            prop_assert!(t.expires_in.is_none_or(|d| d <= MAX_TOKEN_LIFETIME));
        }
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body)
            && let Some(e) = v.get("expires_in") {
                prop_assert!(parse_expires_in(e).is_none_or(|d| d <= MAX_TOKEN_LIFETIME && d >= Duration::ZERO));
            }
    }
}
