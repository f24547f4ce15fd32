//! The providers' staging cases (`GOUVGEN_FIXTURES`) against the shipped clients: every 200
//! payload of a route the shipped API Entreprise / API Particulier documents cover, served
//! by the emulator from the fixture files, decodes into the generated response type.

use std::path::Path;
use std::time::Duration;

use gouvgen_emulator::{Emulator, GatewayConfig};
use serde_json::Value;

/// The 200 cases of a staging folder: (file name, path parameters and query, payload).
fn cases(dir: &Path, folder: &str) -> Vec<(String, serde_json::Map<String, Value>, String)> {
    let mut files: Vec<_> = std::fs::read_dir(dir.join("payloads").join(folder))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|file| {
            let text = std::fs::read_to_string(&file).unwrap();
            let case = gouvgen::load::yaml::parse(&text).unwrap();
            (case["status"] == 200).then(|| {
                (
                    file.file_name().unwrap().to_string_lossy().into_owned(),
                    case["params"].as_object().cloned().unwrap_or_default(),
                    case["payload"].as_str().unwrap().to_string(),
                )
            })
        })
        .collect()
}

/// Fetches `path` from the emulator: the body of its 200.
async fn fetch(emu: &Emulator, path: &str, jwt: &str) -> String {
    let r = reqwest::Client::new()
        .get(format!("{}{path}", emu.base_url()))
        .bearer_auth(jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

/// Decodes as the generated type, naming the route on failure.
macro_rules! decode {
    ($ty:ty, $emu:expr, $path:expr, $jwt:expr) => {{
        let text = fetch($emu, &$path, $jwt).await;
        serde_json::from_str::<$ty>(&text)
            .unwrap_or_else(|e| panic!("{} into {}: {e}\n{text}", $path, stringify!($ty)))
    }};
}

#[tokio::test]
async fn staging_200_payloads_decode_into_the_shipped_clients_types() {
    let test = "staging_200_payloads_decode_into_the_shipped_clients_types";
    let Some(dir) = gouvgen_tests::staging_fixtures_or_skip(test) else {
        return;
    };
    let jwt = Emulator::jwt(Duration::from_secs(3600));
    let entreprise =
        Emulator::start(GatewayConfig::api_entreprise().bearer(&jwt).fixtures(&dir)).await;
    let particulier =
        Emulator::start(GatewayConfig::api_particulier().bearer(&jwt).fixtures(&dir)).await;
    let mut decoded = 0;
    for (file, params, _) in cases(&dir, "api_entreprise_v3_insee_unites_legales") {
        let siren = params["siren"].as_str().unwrap();
        let path = format!("/v3/insee/sirene/unites_legales/{siren}");
        let unite = decode!(
            api_entreprise::types::UniteLegaleResponse,
            &entreprise,
            path,
            &jwt
        );
        assert_eq!(unite.data.siren, siren, "{file}");
        decoded += 1;
    }
    for (file, params, payload) in cases(&dir, "api_entreprise_v3_acoss_attestations_sociales") {
        let siren = params["siren"].as_str().unwrap();
        let path = format!("/v3/urssaf/unites_legales/{siren}/attestation_vigilance");
        decode!(
            api_entreprise::types::AttestationVigilanceResponse,
            &entreprise,
            path,
            &jwt
        );
        assert!(payload.contains("document_url"), "{file}");
        decoded += 1;
    }
    for (file, params, _) in cases(&dir, "api_particulier_v2_cnous_student_scholarship") {
        let Some(ine) = params.get("ine").and_then(Value::as_str) else {
            continue; // identity and FranceConnect cases: the shipped client sends the INE
        };
        let path = format!("/api/v2/etudiants-boursiers?ine={ine}");
        let statut = decode!(
            api_particulier::types::StatutEtudiantBoursierResponse,
            &particulier,
            path,
            &jwt
        );
        let _ = (statut, file);
        decoded += 1;
    }
    assert!(decoded >= 10, "{decoded} payloads decoded");
    eprintln!("{decoded} staging payloads decoded into the shipped clients' types");
}
