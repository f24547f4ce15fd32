//! An independent check of the emulator: schemathesis (PyPI, installed by `.ci/install-tools`
//! into a venv) generates requests from each document and checks the emulator's answers: no
//! server error, documented status code, documented content type, response body matching the
//! response schema. Every shipped document must pass; every corpus document the emulator
//! accepts must pass too, except the ones listed in `KNOWN_FAILURES` with the exact checks
//! that fail and why. Examples are bounded (`-n 5`, no coverage phase) to keep CI short:
//! about 70 s for the shipped documents and 65 s (idle) to 116 s (loaded) for the corpus on
//! 2 shared cores.
//! `GOUVGEN_SCHEMATHESIS_REPORTS=<folder>` keeps each full schemathesis report there.

use std::path::{Path, PathBuf};
use std::time::Instant;

use gouvgen_cli::emulate::{GatewayArg, ScenarioFile, configure};
use gouvgen_emulator::Emulator;
use gouvgen_tests::{corpus_documents, corpus_or_skip, repo_root, tool_or_skip};
use serde_json::Value;

const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance";

fn gateway_of(doc: &Path) -> (&'static str, GatewayArg) {
    let folder = doc
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    match folder {
        "piste" => ("piste", GatewayArg::Piste),
        "douane" => ("douane", GatewayArg::Douane),
        "api-entreprise" => ("api-entreprise", GatewayArg::ApiEntreprise),
        "api-particulier" => ("api-particulier", GatewayArg::ApiParticulier),
        _ => ("dgfip", GatewayArg::Dgfip),
    }
}

/// A token as the demo client gets it from this emulator.
async fn token(emu: &Emulator, gateway: &str, banner_credentials: &str) -> String {
    let http = reqwest::Client::new();
    let request = match gateway {
        "dgfip" => http
            .post(emu.token_url())
            .basic_auth("consumer-key", Some("consumer-secret"))
            .form(&[("grant_type", "client_credentials")]),
        "piste" => http.post(emu.token_url()).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "consumer-key"),
            ("client_secret", "consumer-secret"),
        ]),
        "douane" => http.post(emu.token_url()).form(&[
            ("grant_type", "password"),
            ("client_id", "gun-api"),
            ("username", "compte-api"),
            ("password", "mot-de-passe"),
        ]),
        _ => {
            let start = banner_credentials.find(".jwt(\"").expect("a JWT line") + 6;
            let rest = &banner_credentials[start..];
            return rest[..rest.find('"').unwrap()].to_string();
        }
    };
    let body: Value = request.send().await.unwrap().json().await.unwrap();
    body["access_token"].as_str().expect("token").to_string()
}

/// One schemathesis run against an in-process emulator serving `doc`: `Ok(summary)` when it
/// found nothing, `Err(summary)` otherwise; `None` when the emulator refuses the document.
async fn check(schemathesis: &Path, doc: &Path) -> Option<Result<String, String>> {
    let (name, gateway) = gateway_of(doc);
    let (config, credentials) = configure(
        &[doc.to_path_buf()],
        gateway,
        None,
        &ScenarioFile::default(),
    );
    let emu = Emulator::try_start(config).await.ok()?;
    let token = token(&emu, name, &credentials).await;
    let exe = schemathesis.to_path_buf();
    let doc_name = doc
        .components()
        .rev()
        .take(2)
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("/");
    let doc = doc.to_path_buf();
    let origin = emu.base_url();
    let out = tokio::task::spawn_blocking(move || {
        let report = tempfile::tempdir().unwrap();
        std::process::Command::new(exe)
            .current_dir(report.path())
            .args(["run", "--no-color", "--seed", "1", "-n", "5"])
            .args(["--phases", "examples,fuzzing", "--checks", CHECKS])
            // Valid requests only: the emulator answers invalid ones with the gateway's 400,
            // which most documents do not list, so status conformance would flag the emulator
            // for validating (its 400s are covered by emulator/tests/validation.rs).
            .args(["--mode", "positive"])
            .args(["--request-timeout", "5"])
            .arg("--origin")
            .arg(&origin)
            .arg("-H")
            .arg(format!("Authorization: Bearer {token}"))
            .args([
                "-H",
                "X-Correlation-ID: 6f1c2d3e-4b5a-4c6d-8e7f-000000000001",
            ])
            .args(["-H", "X-FranceConnect-OAuth: jeton-usager"])
            .args(["-H", "X-Api-Key: cle-emulateur"])
            .arg(&doc)
            .output()
            .expect("schemathesis runs")
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if let Some(dir) = std::env::var_os("GOUVGEN_SCHEMATHESIS_REPORTS") {
        let file = doc_name.replace('/', "_") + ".txt";
        let _ = std::fs::write(Path::new(&dir).join(file), &text);
    }
    let summary: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("generated,") || l.contains(" in ") && l.contains("=="))
        .collect();
    let summary = summary.join(" | ");
    Some(if out.status.success() {
        Ok(summary)
    } else {
        Err(format!("{summary}\n{}", tail(&text, 40)))
    })
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn shipped() -> Vec<PathBuf> {
    [
        "dgfip/impot-particulier.json",
        "dgfip/ficoba.json",
        "piste/legifrance.json",
        "piste/judilibre.yaml",
        "douane/declarations.yaml",
        "api-entreprise/api-entreprise.yaml",
        "api-particulier/api-particulier.yaml",
    ]
    .iter()
    .map(|s| repo_root().join("specs").join(s))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_on_the_shipped_documents() {
    let Some(exe) = tool_or_skip("schemathesis_shipped", "venv/bin/schemathesis") else {
        return;
    };
    let mut failures = Vec::new();
    for doc in shipped() {
        let started = Instant::now();
        match check(&exe, &doc).await.expect("the emulator serves it") {
            Ok(summary) => eprintln!(
                "schemathesis {}: {summary} ({:.1} s)",
                doc.display(),
                started.elapsed().as_secs_f64()
            ),
            Err(report) => failures.push(format!("{}: {report}", doc.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Corpus documents whose own examples contradict their own schemas. The emulator serves a
/// document's examples as they are (a test double answers what the document shows; the
/// generator's `tests/src/schema_check.rs` reports the same contradictions), so schemathesis's
/// response schema check (ST108) flags the document, not the emulator. Each entry: the
/// document, the exact set of failing checks, why. Anything else failing, or one of these
/// passing, fails the test: update the list with the reason.
const KNOWN_FAILURES: &[(&str, &[&str], &str)] = &[
    (
        "api-entreprise/api-entreprise-v2.yaml",
        &["ST108"],
        "examples put null in non-nullable strings and \"2013-12-31\" in date-times",
    ),
    (
        "api-entreprise/api-entreprise-v3.yaml",
        &["ST108", "schema error"],
        "examples put null in a non-nullable string and \"6202A\" outside its anyOf; two \
         operations have invalid schemas schemathesis cannot test (successions: predecesseurs \
         items; attestation_fiscale: `type: date`)",
    ),
    (
        "api-particulier/api-particulier-2021.yaml",
        &["ST108"],
        "examples give date-times without offset (\"1992-11-29T00:00:00\")",
    ),
    (
        "dgfip/ficoba-v1-swagger2.json",
        &["ST108"],
        "examples give \"\" for dates and integers, \"3\" for an integer",
    ),
    (
        "dgfip/impot-particulier-swagger2.yaml",
        &["ST108"],
        "the example puts null in non-nullable strings",
    ),
    (
        "dgfip/r2p.json",
        &["ST108"],
        "examples give numbers (99100, 1899582886173) where the schema says string",
    ),
    (
        "piste/judilibre.json",
        &["ST108"],
        "examples lack required properties (jurisdiction, query, batch) and give date-times \
         for dates",
    ),
];

/// The checks a failing run reports in its summary (`ST108`, ..., `schema error`).
fn failing_checks(report: &str) -> Vec<String> {
    let mut out: Vec<String> = report
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            if let Some(rest) = l.strip_prefix("❌ ") {
                rest.split_whitespace().next().map(str::to_string)
            } else if l.starts_with("🚫 Schema Error") {
                Some("schema error".to_string())
            } else {
                None
            }
        })
        .filter(|c| c.starts_with("ST") || c == "schema error")
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Every corpus document the emulator accepts, against the expected outcome: a pass, or the
/// failure listed in [`KNOWN_FAILURES`]. 65 s (idle) to 116 s (loaded) for the 16 documents
/// (`-n 5`, examples and fuzzing phases only).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_on_the_corpus_documents_the_emulator_accepts() {
    let Some(exe) = tool_or_skip("schemathesis_corpus", "venv/bin/schemathesis") else {
        return;
    };
    let Some(corpus) = corpus_or_skip("schemathesis_corpus") else {
        return;
    };
    let (mut passed, mut unexpected, mut refused) = (0, Vec::new(), Vec::new());
    let mut seen = Vec::new();
    for doc in corpus_documents() {
        let name = doc
            .strip_prefix(&corpus)
            .unwrap_or(&doc)
            .to_string_lossy()
            .replace('\\', "/");
        let known = KNOWN_FAILURES.iter().find(|(n, _, _)| *n == name);
        match check(&exe, &doc).await {
            None => refused.push(name),
            Some(Ok(summary)) => {
                passed += 1;
                eprintln!("schemathesis {name}: {summary}");
                if known.is_some() {
                    unexpected.push(format!("{name} now passes: remove it from KNOWN_FAILURES"));
                }
            }
            Some(Err(report)) => {
                let checks = failing_checks(&report);
                eprintln!("schemathesis {name}: fails {checks:?}");
                match known {
                    Some((_, expected, _)) if checks == *expected => seen.push(name),
                    Some((_, expected, why)) => unexpected.push(format!(
                        "{name}: expected {expected:?} ({why}), got {checks:?}\n{report}"
                    )),
                    None => unexpected.push(format!("{name}: fails {checks:?}\n{report}")),
                }
            }
        }
    }
    eprintln!(
        "schemathesis on the corpus: {passed} pass, {} known failures, {} unexpected, {} refused",
        seen.len(),
        unexpected.len(),
        refused.len()
    );
    assert!(
        refused.is_empty(),
        "the emulator refuses corpus documents: {refused:?}"
    );
    for (name, _, _) in KNOWN_FAILURES {
        if !corpus.join(name).exists() {
            unexpected.push(format!("{name} is listed but not in the corpus"));
        }
    }
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n\n"));
}
