//! The audit trail: one JSON line per call, path templates only, no secrets.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use gouvgen_runtime::presets;
use gouvgen_runtime::{
    ApiClient, AuditOutcome, AuditRecord, AuditSink, Error, Method, Request, RetryPolicy,
};

type U = gouvgen_runtime::Undocumented;

const SECRET: &str = "p@ss w&rd+/=";

#[derive(Debug, Default)]
struct Collect(Mutex<Vec<AuditRecord>>);

impl AuditSink for Collect {
    fn record(&self, r: &AuditRecord) {
        self.0.lock().unwrap().push(r.clone());
    }
}

fn get(id: u32) -> Request {
    Request::new(
        Method::GET,
        "getThing",
        format!("/api/things/1234567890{id}"),
    )
    .path_template("/api/things/{siren}")
    .query("q", &"personal-value")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_line_per_call_with_templates_and_no_secret() {
    let gw = gateway(|r, _| {
        if r.path.ends_with('7') {
            status(404, &[("x-correlation-id", "gw-404".into())], "{}")
        } else {
            ok_json("{}")
        }
    })
    .await;
    let dir = std::env::temp_dir().join(format!("gouvgen-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("audit.jsonl");
    let _ = std::fs::remove_file(&file);
    let collect = Arc::new(Collect::default());
    let client = ApiClient::builder(presets::custom(gw.url.clone()))
        .bearer(SECRET)
        .api_key_query("apikey", SECRET)
        .retry_policy(RetryPolicy::none())
        .audit_file(&file)
        .audit_sink(collect.clone())
        .audit_tracing()
        .build()
        .unwrap();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..200u32 {
        let c = client.clone();
        set.spawn(async move { c.execute::<U>(get(i % 10)).await.map(|r| r.status()) });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap().unwrap();
    }
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 200);
    assert!(!text.contains(SECRET) && !text.contains("p%40ss"));
    assert!(!text.contains("1234567890") && !text.contains("personal-value"));
    let sent: std::collections::HashSet<String> = gw
        .state
        .api()
        .iter()
        .map(|r| r.header("x-correlation-id").unwrap())
        .collect();
    for l in &lines {
        assert_eq!(l["path_template"], "/api/things/{siren}");
        assert_eq!(l["method"], "GET");
        assert_eq!(l["operation_id"], "getThing");
        assert_eq!(l["attempts"], 1);
        assert!(sent.contains(l["correlation_id"].as_str().unwrap()));
    }
    let not_found: Vec<_> = lines.iter().filter(|l| l["status"] == 404).collect();
    assert_eq!(not_found.len(), 20);
    assert!(
        not_found
            .iter()
            .all(|l| l["outcome"] == "error_response" && l["gateway_correlation_id"] == "gw-404")
    );
    assert_eq!(collect.0.lock().unwrap().len(), 200);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn refused_and_failed_calls_are_audited_too() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let collect = Arc::new(Collect::default());
    let client = ApiClient::builder(presets::custom(format!("http://{addr}")))
        .retry_policy(RetryPolicy::none().max_attempts(2))
        .audit_sink(collect.clone())
        .build()
        .unwrap();
    let e = client.execute::<U>(get(1)).await.unwrap_err();
    assert!(matches!(e, Error::Transport { .. }));
    // Traceability missing: refused before sending.
    let e = client
        .execute::<U>(get(2).traceability())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest { .. }));
    let recs = collect.0.lock().unwrap().clone();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].outcome, AuditOutcome::Transport);
    assert_eq!(recs[0].attempts, 2);
    assert_eq!(recs[0].status, None);
    assert_eq!(recs[1].outcome, AuditOutcome::Invalid);
    assert_eq!(recs[1].attempts, 0);
}
