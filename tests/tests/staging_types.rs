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

/// Where a staging folder's operation is in a corpus document: by the provider's name
/// (`x-operationId` in the 200 response: API Entreprise v3), or by its path (the API
/// Particulier v2 document has no provider names).
enum Locate {
    ByProviderName,
    ByPath(&'static str),
}

/// A copy of the corpus document `rel` (under the target folder) in which the 200 payloads of
/// each staging folder are examples of its operation; the number of payloads.
fn with_staging_examples(
    corpus: &Path,
    staging: &Path,
    rel: &str,
    folders: &[(&str, Locate)],
) -> (std::path::PathBuf, usize) {
    let text = std::fs::read_to_string(corpus.join(rel)).expect("the corpus document");
    let mut doc = gouvgen::load::yaml::parse(&text).unwrap();
    let mut injected = 0;
    for (folder, locate) in folders {
        let media = match locate {
            Locate::ByProviderName => json_media_of(&mut doc, folder),
            Locate::ByPath(path) => doc
                .get_mut("paths")
                .and_then(|p| p.get_mut(*path))
                .and_then(|item| item.pointer_mut("/get/responses/200/content/application~1json")),
        };
        let media = media.unwrap_or_else(|| panic!("{rel}: no operation for {folder}"));
        let examples = media
            .as_object_mut()
            .unwrap()
            .entry("examples")
            .or_insert_with(|| serde_json::json!({}));
        for (file, _, payload) in cases(staging, folder) {
            let value: Value = serde_json::from_str(&payload).expect("payload is JSON");
            let name = format!("staging_{}", file.replace(['.', '-'], "_"));
            examples[name] = serde_json::json!({ "value": value });
            injected += 1;
        }
    }
    let dir = gouvgen_tests::target_dir().join("gouvgen-staging-doc");
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join(format!("{}.json", rel.replace('/', "-")));
    std::fs::write(&copy, serde_json::to_vec(&doc).unwrap()).unwrap();
    let set_aside: Vec<String> = gouvgen_tests::schema_check::contradicting_examples(&copy)
        .into_iter()
        .filter(|p| p.contains("staging_"))
        .collect();
    assert!(
        set_aside.is_empty(),
        "{rel}: staging payloads that contradict the document's schemas: {set_aside:?}"
    );
    (copy, injected)
}

/// The staging payloads against the corpus's official documents: each 200 payload becomes an
/// example of the operation the staging folder is about, in a copy of the document; the crate
/// generated from that copy must decode every one of them (its generated examples test), and
/// the schema check must set none aside. API Entreprise v3: the four folders, found by the
/// provider names; API Particulier v2: the student-scholarship folder, by its path (the v3
/// folders have no corpus document).
#[test]
fn staging_payloads_decode_into_the_corpus_documents_types() {
    let test = "staging_payloads_decode_into_the_corpus_documents_types";
    let Some(staging) = gouvgen_tests::staging_fixtures_or_skip(test) else {
        return;
    };
    let Some(corpus) = gouvgen_tests::corpus_or_skip(test) else {
        return;
    };
    let entreprise: Vec<(&str, Locate)> = [
        "api_entreprise_v3_acoss_attestations_sociales",
        "api_entreprise_v3_insee_successions",
        "api_entreprise_v3_insee_unites_legales",
        "api_entreprise_v3_rnm_entreprises_artisanales",
    ]
    .into_iter()
    .map(|f| (f, Locate::ByProviderName))
    .collect();
    let particulier = [(
        "api_particulier_v2_cnous_student_scholarship",
        Locate::ByPath("/api/v2/etudiants-boursiers"),
    )];
    let documents = [
        ("api-entreprise/api-entreprise-v3.yaml", &entreprise[..]),
        ("api-particulier/api-particulier-v2.yaml", &particulier[..]),
    ];
    let mut ws = gouvgen_tests::ScratchWorkspace::new("staging-corpus");
    let mut total = 0;
    for (i, (rel, folders)) in documents.iter().enumerate() {
        let (copy, injected) = with_staging_examples(&corpus, &staging, rel, folders);
        assert!(injected >= folders.len(), "{rel}: {injected} payloads");
        let spec = ws.add(&copy, &format!("staging-{i}")).unwrap();
        let checked = gouvgen::emit::examples::example_checks(&spec.api)
            .iter()
            .filter(|c| c.pointer.contains("staging_"))
            .count();
        assert_eq!(checked, injected, "{rel}: every payload is a decode check");
        total += injected;
    }
    ws.finish();
    let (ok, output) = ws.cargo(&["test", "--quiet", "--test", "examples"]);
    assert!(ok, "staging payloads do not decode:\n{output}");
    eprintln!("{total} staging payloads decoded into the corpus documents' generated types");
}

/// The `application/json` media object of the 200 response whose `x-operationId` is `id`.
fn json_media_of<'a>(doc: &'a mut Value, id: &str) -> Option<&'a mut Value> {
    let paths = doc.get_mut("paths")?.as_object_mut()?;
    for item in paths.values_mut() {
        for op in item.as_object_mut()?.values_mut() {
            let ok = op
                .pointer("/responses/200/x-operationId")
                .and_then(Value::as_str);
            if ok == Some(id) {
                return op.pointer_mut("/responses/200/content/application~1json");
            }
        }
    }
    None
}
