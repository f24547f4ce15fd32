//! An independent check of the emulator: schemathesis (PyPI, installed by `.ci/install-tools`
//! into a venv) generates requests from each document and checks the emulator's answers: no
//! server error, documented status code, documented content type, response body matching the
//! response schema. Every shipped document must pass; every corpus document the emulator
//! accepts is run too and its outcome printed (failures there are listed in BENCHMARKS.md
//! with their reasons). Examples are bounded (`-n 5`, no coverage phase) to keep CI short.

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
            // for validating (its 400s are covered by tests/emulator/tests/validation.rs).
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_on_the_corpus_documents_the_emulator_accepts() {
    let Some(exe) = tool_or_skip("schemathesis_corpus", "venv/bin/schemathesis") else {
        return;
    };
    if corpus_or_skip("schemathesis_corpus").is_none() {
        return;
    }
    let (mut passed, mut failed, mut refused) = (Vec::new(), Vec::new(), Vec::new());
    for doc in corpus_documents() {
        match check(&exe, &doc).await {
            None => refused.push(doc),
            Some(Ok(summary)) => passed.push(format!("{}: {summary}", doc.display())),
            Some(Err(report)) => failed.push(format!("{}: {report}", doc.display())),
        }
    }
    eprintln!(
        "schemathesis on the corpus: {} pass, {} fail, {} refused by the emulator",
        passed.len(),
        failed.len(),
        refused.len()
    );
    for line in passed.iter().chain(&failed) {
        eprintln!("{line}\n");
    }
    assert!(!passed.is_empty(), "some corpus document passes");
}
