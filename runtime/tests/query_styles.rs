//! Arrays of objects and maps in the query, as the APIs that take line items read them:
//! `deepObject` with brackets at every level (`lines[0][amount]=100`), and one JSON text in
//! any other style. Checked on what a real server on 127.0.0.1 received, decoded back.

mod common;

use common::*;
use gouvgen_runtime::presets::{self, Environment};
use gouvgen_runtime::{ApiClient, Method, ParamStyle, Request};
use percent_encoding::percent_decode_str;
use serde_json::json;

type U = gouvgen_runtime::Undocumented;

/// The query's pairs, percent-decoded, in the order sent.
fn decoded_pairs(r: &Recorded) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .unwrap()
            .into_owned()
    };
    r.query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

async fn sent(request: Request) -> Vec<(String, String)> {
    let gw = gateway(always_ok).await;
    let client = ApiClient::builder(presets::api_entreprise(Environment::Sandbox))
        .api_root(gw.url.clone())
        .bearer("jwt")
        .build()
        .unwrap();
    let answer = client.execute::<U>(request).await.unwrap();
    assert_eq!(answer.status(), 200);
    decoded_pairs(&gw.state.api()[0])
}

fn pair(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

#[tokio::test]
async fn deep_object_arrays_of_objects_and_maps_are_bracket_indexed() {
    let lines = json!([
        {"amount": 100, "description": "p@ss w&rd+/= é"},
        {"amount": 250}
    ]);
    let request = Request::new(
        Method::GET,
        "preview",
        "/api/v1/credit_notes/preview".into(),
    )
    .query_styled("lines", &Some(lines), ParamStyle::DeepObject, true)
    .query_styled(
        "metadata",
        &Some(json!({"order": {"id": "42"}})),
        ParamStyle::DeepObject,
        true,
    );
    assert_eq!(
        sent(request).await,
        vec![
            pair("lines[0][amount]", "100"),
            pair("lines[0][description]", "p@ss w&rd+/= é"),
            pair("lines[1][amount]", "250"),
            pair("metadata[order][id]", "42"),
        ]
    );
}

#[tokio::test]
async fn form_arrays_of_objects_are_one_json_text() {
    let filters = json!([{"scope": "a", "filters": {"k": [1, 2]}}, {"scope": "b&c"}]);
    let request = Request::new(Method::GET, "search", "/api/search".into()).query_styled(
        "mdfilters",
        &Some(filters.clone()),
        ParamStyle::Form,
        false,
    );
    let pairs = sent(request).await;
    assert_eq!(pairs.len(), 1, "{pairs:?}");
    assert_eq!(pairs[0].0, "mdfilters");
    let back: serde_json::Value = serde_json::from_str(&pairs[0].1).unwrap();
    assert_eq!(back, filters);
}
