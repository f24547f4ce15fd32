//! The providers' own staging cases (`etalab/siade_staging_data`, read in place from
//! `GOUVGEN_FIXTURES`, default `../shared/fixtures/siade-staging` next to the workspace):
//! every case of every folder is asked for with its parameters and must come back with the
//! file's status and payload; FranceConnect test tokens select the cases of their person.
//! Without the folder: one `SKIPPED` line, or a failure under `CI=true`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use gouvgen_emulator::{Emulator, GatewayConfig, jwt};
use reqwest::Client;
use serde_json::Value;

/// The folders and their routes, as the repository's index lists them (written out here
/// again so that the emulator's own table is checked, not trusted).
const FOLDERS: &[(&str, &str)] = &[
    (
        "api_entreprise_v3_acoss_attestations_sociales",
        "/v3/urssaf/unites_legales/{siren}/attestation_vigilance",
    ),
    (
        "api_entreprise_v3_insee_successions",
        "/v3/insee/sirene/etablissements/{siret}/successions",
    ),
    (
        "api_entreprise_v3_insee_unites_legales",
        "/v3/insee/sirene/unites_legales/{siren}",
    ),
    (
        "api_entreprise_v3_rnm_entreprises_artisanales",
        "/v3/cma_france/rnm/unites_legales/{siren}",
    ),
    (
        "api_particulier_v2_cnous_student_scholarship",
        "/api/v2/etudiants-boursiers",
    ),
    (
        "api_particulier_v3_cnav_allocation_adulte_handicape_with_civility",
        "/v3/dss/allocation_adulte_handicape/identite",
    ),
    (
        "api_particulier_v3_cnav_quotient_familial_with_france_connect",
        "/v3/dss/quotient_familial/france_connect",
    ),
];

const RECIPIENT: &str = "recipient=13002526500013&context=test&object=test";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The staging folder, or `None` after one `SKIPPED` line (a failure under `CI=true`).
fn fixtures_or_skip(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("GOUVGEN_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/siade-staging")
        });
    if dir.join("payloads").is_dir() {
        return Some(dir);
    }
    let missing = format!(
        "no staging fixtures at {} (set GOUVGEN_FIXTURES to its folder)",
        dir.display()
    );
    assert!(
        !in_ci(),
        "{test}: {missing} (CI=true: nothing may be skipped)"
    );
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {missing}");
    None
}

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    gouvgen::load::yaml::parse(&text).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The request for a case: path parameters in the template, the others in the query
/// (lists as `name[]`, as the providers' README calls them).
fn request(template: &str, params: &serde_json::Map<String, Value>) -> String {
    let mut path = template.to_string();
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        let placeholder = format!("{{{name}}}");
        if path.contains(&placeholder) {
            let segment: String = form_urlencoded::byte_serialize(text(value).as_bytes()).collect();
            path = path.replace(&placeholder, &segment);
        } else if let Value::Array(items) = value {
            for item in items {
                query.append_pair(&format!("{name}[]"), &text(item));
            }
        } else {
            query.append_pair(name, &text(value));
        }
    }
    format!("{path}?{}&{RECIPIENT}", query.finish())
}

async fn emulators(dir: &Path, token: &str) -> BTreeMap<&'static str, Emulator> {
    let mut out = BTreeMap::new();
    for (prefix, config) in [
        ("api_entreprise", GatewayConfig::api_entreprise()),
        ("api_particulier", GatewayConfig::api_particulier()),
    ] {
        let emu = Emulator::start(config.bearer(token).fixtures(dir)).await;
        out.insert(prefix, emu);
    }
    out
}

#[tokio::test]
async fn every_staging_case_is_served_as_written() {
    let Some(dir) = fixtures_or_skip("every_staging_case_is_served_as_written") else {
        return;
    };
    let token = jwt(Duration::from_secs(3600));
    let emus = emulators(&dir, &token).await;
    let http = Client::new();
    let mut served = 0;
    for (folder, template) in FOLDERS {
        let emu = &emus[if folder.starts_with("api_entreprise") {
            "api_entreprise"
        } else {
            "api_particulier"
        }];
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("payloads").join(folder))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{folder}: no cases");
        for file in files {
            let case = yaml(&file);
            let params = case["params"].as_object().cloned().unwrap_or_default();
            let url = format!("{}{}", emu.base_url(), request(template, &params));
            let r = http.get(&url).bearer_auth(&token).send().await.unwrap();
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            let what = format!("{folder}/{name}");
            assert_eq!(r.status().as_u16() as u64, case["status"], "{what}");
            let chosen = r
                .headers()
                .get("x-emulator-case")
                .map(|v| v.to_str().unwrap());
            assert_eq!(chosen, Some(name.as_str()), "{what}");
            let got: Value = r.json().await.unwrap();
            let want: Value = serde_json::from_str(case["payload"].as_str().unwrap()).unwrap();
            assert_eq!(got, want, "{what}");
            served += 1;
        }
    }
    let loaded: usize = emus.values().map(Emulator::fixture_cases).sum();
    assert_eq!(served, loaded, "every loaded case was asked for");
    eprintln!("{served} staging cases served as written");
}

#[tokio::test]
async fn france_connect_tokens_select_the_cases_of_their_person() {
    let Some(dir) = fixtures_or_skip("france_connect_tokens_select_the_cases_of_their_person")
    else {
        return;
    };
    let token = jwt(Duration::from_secs(3600));
    let emus = emulators(&dir, &token).await;
    let emu = &emus["api_particulier"];
    let http = Client::new();
    let payloads = dir.join("payloads");
    for (bearer, template, folder, file) in [
        (
            "cnous",
            "/api/v2/etudiants-boursiers",
            "api_particulier_v2_cnous_student_scholarship",
            "fake_france_connect_cnous.yml",
        ),
        (
            "all_fc",
            "/api/v2/etudiants-boursiers",
            "api_particulier_v2_cnous_student_scholarship",
            "fake_france_connect_cnous_2.yml",
        ),
        (
            "cnaf_qfv2",
            "/v3/dss/quotient_familial/france_connect",
            "api_particulier_v3_cnav_quotient_familial_with_france_connect",
            "fake_france_connect_cnaf.yml",
        ),
        (
            "all_fc",
            "/v3/dss/quotient_familial/france_connect",
            "api_particulier_v3_cnav_quotient_familial_with_france_connect",
            "fake_france_connect_cnaf_2.yml",
        ),
    ] {
        let url = format!("{}{template}?recipient=13002526500013", emu.base_url());
        let r = http.get(&url).bearer_auth(bearer).send().await.unwrap();
        assert_eq!(r.status(), 200, "{bearer} on {template}");
        let chosen = r
            .headers()
            .get("x-emulator-case")
            .map(|v| v.to_str().unwrap());
        assert_eq!(chosen, Some(file), "{bearer} on {template}");
        let case = yaml(&payloads.join(folder).join(file));
        let want: Value = serde_json::from_str(case["payload"].as_str().unwrap()).unwrap();
        assert_eq!(
            r.json::<Value>().await.unwrap(),
            want,
            "{bearer} on {template}"
        );
    }
    // A bearer that is neither the API token nor a FranceConnect test token.
    let url = format!(
        "{}/v3/dss/quotient_familial/france_connect?recipient=13002526500013",
        emu.base_url()
    );
    let r = http.get(&url).bearer_auth("inconnu").send().await.unwrap();
    assert_eq!(r.status(), 401);
    // FranceConnect test tokens open only the staging routes.
    let r = http
        .get(format!("{}/api/introspect", emu.base_url()))
        .bearer_auth("cnous")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
