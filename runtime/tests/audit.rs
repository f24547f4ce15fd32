//! The audit trail: one JSON line per call, path templates only, no secrets.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use gouvgen_runtime::presets;
use gouvgen_runtime::{
    ApiClient, AuditOutcome, AuditRecord, AuditSink, Error, JsonLinesAuditSink, Method, Request,
    RetryPolicy,
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

/// A tmpfs of `size` mounted on a fresh folder, unmounted and removed on drop.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    /// `None` after one `SKIPPED` line when mounting is not permitted here (not root, no
    /// `CAP_SYS_ADMIN`); under `CI=true` that fails the test instead.
    fn mount(test: &str, size: &str) -> Option<Tmpfs> {
        let dir = std::env::temp_dir().join(format!("gouvgen-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs(dir)),
            other => {
                let _ = std::fs::remove_dir(&dir);
                let why = match other {
                    Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_owned(),
                    Err(e) => e.to_string(),
                };
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "{test}: cannot mount a tmpfs ({why}) (CI=true: nothing may be skipped)"
                );
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED {test}: cannot mount a tmpfs (needs root): {why}"
                );
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// Each line of `text`: does it parse as a JSON object?
fn valid_lines(text: &str) -> (usize, usize) {
    let ok = text
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok_and(|v| v.is_object()))
        .count();
    (ok, text.lines().count() - ok)
}

/// The audit file's disk fills mid-run (a 64 KiB tmpfs, a filler file leaving two pages):
/// calls go on, no line is torn (short writes are cut back), every record that could not be
/// written is counted by `health()` and handed to the failure callback; once space is freed,
/// records are written again. A client with `audit_required(true)` refuses calls, before
/// sending anything, while its sink is failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_tears_no_line_and_every_lost_record_is_counted() {
    const TEST: &str = "a_full_disk_tears_no_line_and_every_lost_record_is_counted";
    let Some(fs) = Tmpfs::mount(TEST, "64k") else {
        return;
    };
    let filler = fs.0.join("filler");
    std::fs::write(&filler, vec![b'x'; 56 * 1024]).unwrap();
    let gw = gateway(always_ok).await;
    let file = fs.0.join("audit.jsonl");
    let lost = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let l = Arc::clone(&lost);
    let sink = Arc::new(
        JsonLinesAuditSink::open(&file)
            .unwrap()
            .on_failure(move |r, e| {
                l.lock()
                    .unwrap()
                    .push((r.correlation_id.clone(), e.to_string()));
            }),
    );
    let client = ApiClient::builder(presets::custom(gw.url.clone()))
        .bearer(SECRET)
        .retry_policy(RetryPolicy::none())
        .audit_sink(sink.clone())
        .build()
        .unwrap();
    const CALLS: u64 = 60;
    for i in 0..CALLS {
        let r = client.execute::<U>(get(i as u32 % 10)).await.unwrap();
        assert_eq!(r.status(), 200, "calls go on while the audit disk is full");
    }
    let text = std::fs::read_to_string(&file).unwrap();
    let (ok, invalid) = valid_lines(&text);
    let h = sink.health();
    eprintln!(
        "full disk: {CALLS} calls, {ok} lines written, {invalid} invalid, health {h:?}, {} \
         reported to the callback",
        lost.lock().unwrap().len()
    );
    assert_eq!(invalid, 0, "a torn line in the audit file:\n{text}");
    assert!(text.is_empty() || text.ends_with('\n'));
    assert!(ok > 0 && h.dropped > 0, "the disk filled mid-run: {h:?}");
    assert_eq!(h.written, ok as u64);
    assert_eq!(
        h.written + h.dropped,
        CALLS,
        "every record written or counted"
    );
    assert_eq!(lost.lock().unwrap().len() as u64, h.dropped);
    assert!(h.failing);
    assert!(
        h.last_error.as_deref().is_some_and(|e| !e.is_empty()),
        "{h:?}"
    );
    let sent_ids: std::collections::HashSet<String> = gw
        .state
        .api()
        .iter()
        .map(|r| r.header("x-correlation-id").unwrap())
        .collect();
    let lost_ids: std::collections::HashSet<String> = lost
        .lock()
        .unwrap()
        .iter()
        .map(|(c, _)| c.clone())
        .collect();
    let written_ids: std::collections::HashSet<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["correlation_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(lost_ids.is_disjoint(&written_ids));
    let all: std::collections::HashSet<String> = lost_ids.union(&written_ids).cloned().collect();
    assert_eq!(
        all, sent_ids,
        "each call is either in the file or reported lost"
    );

    // Refuse mode, same failing sink: nothing is sent.
    let strict = ApiClient::builder(presets::custom(gw.url.clone()))
        .bearer(SECRET)
        .retry_policy(RetryPolicy::none())
        .audit_sink(sink.clone())
        .audit_required(true)
        .build()
        .unwrap();
    let before = gw.state.api_count();
    let e = strict.execute::<U>(get(1)).await.unwrap_err();
    assert!(
        matches!(e, Error::AuditFailing { dropped, .. } if dropped >= h.dropped),
        "{e:?}"
    );
    assert!(!format!("{e} {e:?}").contains(SECRET));
    assert_eq!(gw.state.api_count(), before, "a refused call sent nothing");
    assert_eq!(
        sink.health().dropped,
        h.dropped + 1,
        "the refused call's record is lost too"
    );

    // Space again: the refused call's record is written, which lifts the refusal.
    std::fs::remove_file(&filler).unwrap();
    let e = strict.execute::<U>(get(2)).await.unwrap_err();
    assert!(matches!(e, Error::AuditFailing { .. }), "{e:?}");
    assert!(!sink.health().failing, "its record was written");
    assert_eq!(strict.execute::<U>(get(3)).await.unwrap().status(), 200);
    assert_eq!(gw.state.api_count(), before + 1);
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(valid_lines(&text), (ok + 2, 0));
    let h2 = sink.health();
    assert_eq!((h2.written, h2.dropped), (h.written + 2, h.dropped + 1));
    assert!(!h2.failing);
}
