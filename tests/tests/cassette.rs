//! Record and replay through generated clients (runtime feature `cassette`): record against
//! the gateway emulator, stop it, replay offline with the same results; a call not in the
//! cassette is `Error::NotRecorded`; the cassette holds none of the planted secrets (in any
//! encoding) and none of the values marked personal.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use gouvgen_emulator::{Emulator, GatewayConfig};
use gouvgen_runtime::presets::{self, DgfipAccess, Environment};
use gouvgen_runtime::{ApiClient, ApiClientBuilder, CallOptions, Error, PersonalFields};
use gouvgen_tests::repo_root;

/// A client secret whose spelling changes under every encoding.
const SECRET: &str = "p@ss w&rd+/=";
const API_KEY: &str = "KEY-p@ss w&rd+/=";
const FC_TOKEN: &str = "FC-p@ss w&rd+/=";
/// The personal-data key: in a team's CI, an environment variable, never in the repository.
const KEY: &str = "the team's cassette key, 16 bytes or more";

const SPI: &str = "1234567890123";

fn spec(rel: &str) -> PathBuf {
    repo_root().join("specs").join(rel)
}

fn personal() -> PersonalFields {
    PersonalFields::new(KEY)
        .path_params(["spi", "siren", "siret"])
        .json_keys([
            "nmNaDec1",
            "nmNaDec2",
            "nmUsaDec1",
            "nmUsaDec2",
            "aft",
            "voie",
            "siren",
            "siret",
        ])
}

fn dgfip(emu: &Emulator) -> ApiClientBuilder {
    ApiClient::builder(presets::dgfip(DgfipAccess::Internet, Environment::Sandbox))
        .api_root(emu.base_url())
        .token_url(emu.token_url())
        .client_credentials("consumer-key", SECRET)
        .api_key_header("X-Api-Key", API_KEY)
        .scopes(["RessourceIR"])
        .personal_fields(personal())
        .no_rate_limit()
}

/// Every spelling of `s` a file could hold: raw, percent- and form-encoded, base64,
/// JSON-escaped.
fn spellings(s: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let pct: String = s
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    vec![
        s.to_owned(),
        pct.clone(),
        pct.replace("%20", "+"),
        b64.encode(s),
        b64.encode(s).trim_end_matches('=').to_owned(),
        serde_json::to_string(s)
            .unwrap()
            .trim_matches('"')
            .to_owned(),
    ]
}

fn assert_clean(path: &Path, secrets: &[&str], personal: &[&str]) {
    let text = std::fs::read_to_string(path).unwrap();
    for value in secrets.iter().chain(personal) {
        for needle in spellings(value) {
            assert!(
                !text.contains(&needle),
                "`{needle}` is in the cassette:\n{text}"
            );
        }
    }
    for needle in ["p@ss", "p%40ss", "Bearer ", "authorization", "set-cookie"] {
        assert!(
            !text
                .to_ascii_lowercase()
                .contains(&needle.to_ascii_lowercase()),
            "`{needle}`:\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dgfip_session_recorded_on_the_emulator_replays_offline() {
    use dgfip_impot_particulier::Client;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("impot-particulier.jsonl");
    let emu = Emulator::start(
        GatewayConfig::dgfip()
            .client("consumer-key", SECRET, &["RessourceIR"])
            .api_key("X-Api-Key", API_KEY)
            .mount_spec(spec("dgfip/impot-particulier.json")),
    )
    .await;
    let fc = CallOptions::new().france_connect_token(FC_TOKEN);
    let live = Client::new(dgfip(&emu).record_to(&path).build().unwrap()).with_options(fc.clone());
    let first = live.situation_ir_assiettes(SPI, 2024).await.unwrap();
    let again = live.situation_ir_assiettes(SPI, 2024).await.unwrap();
    // A documented error (the token's scope does not cover it) is recorded too.
    let refused = live.derniere_situation_ir(SPI).await.unwrap_err();
    let fc_call = live
        .situation_ir_assiettes_france_connect(2024)
        .await
        .unwrap();
    assert_eq!(first.nm_na_dec1, "MARTIN");
    assert_eq!(emu.stats().issued("client_credentials"), 1);
    let (base, token_url) = (emu.base_url(), emu.token_url());
    drop(emu);

    assert_clean(
        &path,
        &[SECRET, API_KEY, FC_TOKEN, KEY],
        &[SPI, "MARTIN", "DURAND", "1 RUE DE LA PAIX"],
    );

    // The emulator is gone: any network use would fail. The same builder, replaying.
    let replay_runtime =
        ApiClient::builder(presets::dgfip(DgfipAccess::Internet, Environment::Sandbox))
            .api_root(base)
            .token_url(token_url)
            .client_credentials("consumer-key", SECRET)
            .api_key_header("X-Api-Key", API_KEY)
            .scopes(["RessourceIR"])
            .personal_fields(personal())
            .timeout(Duration::from_secs(2))
            .replay_from(&path)
            .build()
            .unwrap();
    let replay = Client::new(replay_runtime.clone()).with_options(fc);
    let r_first = replay.situation_ir_assiettes(SPI, 2024).await.unwrap();
    let r_again = replay.situation_ir_assiettes(SPI, 2024).await.unwrap();
    let r_refused = replay.derniere_situation_ir(SPI).await.unwrap_err();
    let r_fc = replay
        .situation_ir_assiettes_france_connect(2024)
        .await
        .unwrap();
    assert_eq!(replay_runtime.token_requests(), 0, "no token in replay");
    assert_eq!(r_refused.status(), refused.status());
    assert_eq!(r_refused.gateway_code(), refused.gateway_code());
    assert!(r_refused.documented().is_some(), "{r_refused:?}");
    assert_eq!(
        r_refused.correlation_id(),
        r_refused.gateway_correlation_id(),
        "the call's own ID"
    );
    for (l, r) in [(&first, &r_first), (&again, &r_again), (&fc_call, &r_fc)] {
        assert_eq!(l.nb_part, r.nb_part);
        assert_eq!(l.rfr, r.rfr);
        assert_eq!(l.sit_fam, r.sit_fam);
        assert_eq!(l.pac, r.pac);
        assert_eq!(l.nm_usa_dec1, r.nm_usa_dec1, "null stays null");
        assert!(r.nm_na_dec1.starts_with("<nmNaDec1:"), "{}", r.nm_na_dec1);
        let voie = |s: &dgfip_impot_particulier::types::SituationIr| {
            s.aft_detail.as_ref().and_then(|a| a.voie.clone())
        };
        if voie(l).is_some() {
            assert!(voie(r).unwrap().starts_with("<voie:"), "{:?}", voie(r));
        }
    }

    // The cassette held the call twice; a third, or another taxpayer, is not in it.
    let err = replay.situation_ir_assiettes(SPI, 2024).await.unwrap_err();
    let Error::NotRecorded(miss) = &err else {
        panic!("expected NotRecorded, got {err:?}")
    };
    assert_eq!(miss.recorded, 2);
    let err = replay
        .situation_ir_assiettes("9876543210987", 2024)
        .await
        .unwrap_err();
    let Error::NotRecorded(miss) = &err else {
        panic!("expected NotRecorded, got {err:?}")
    };
    assert_eq!(miss.operation_id, "situationIrAssiettes");
    assert_eq!(
        miss.path_template,
        Some("/spi/{spi}/situations/ir/assiettes/annrev/{annrev}")
    );
    assert_eq!(miss.recorded, 0);
    assert!(!format!("{err} {err:?}").contains("9876543210987"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_entreprise_session_replays_with_the_siren_put_back() {
    use api_entreprise::Client;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("api-entreprise.jsonl");
    let jwt = Emulator::jwt(Duration::from_secs(400 * 24 * 3600));
    let emu = Emulator::start(
        GatewayConfig::api_entreprise()
            .bearer(&jwt)
            .mount_spec(spec("api-entreprise/api-entreprise.yaml")),
    )
    .await;
    let builder = |root: String| {
        ApiClient::builder(presets::api_entreprise(Environment::Sandbox))
            .api_root(root)
            .jwt(jwt.clone())
            .traceability("aides publiques", "12000101100010", "dossier 42")
            .personal_fields(personal())
            .no_rate_limit()
    };
    let live = Client::new(builder(emu.base_url()).record_to(&path).build().unwrap());
    let unite = live.unite_legale("130025265").await.unwrap();
    let etab = live.etablissement("13002526500013").await.unwrap();
    let base = emu.base_url();
    drop(emu);
    let jwt_parts: Vec<&str> = jwt.split('.').collect();
    assert_clean(
        &path,
        &[&jwt, jwt_parts[1], jwt_parts[2]],
        &["130025265", "13002526500013"],
    );

    let replay = Client::new(builder(base).replay_from(&path).build().unwrap());
    let r_unite = replay.unite_legale("130025265").await.unwrap();
    let r_etab = replay.etablissement("13002526500013").await.unwrap();
    assert_eq!(
        r_unite.data.siren, unite.data.siren,
        "the SIREN the call sent is put back"
    );
    assert_eq!(r_unite.data.type_, unite.data.type_);
    assert_eq!(
        r_unite.data.etat_administratif,
        unite.data.etat_administratif
    );
    let siret =
        |e: &api_entreprise::types::EtablissementResponse| e.data.as_ref().unwrap().siret.clone();
    assert_eq!(siret(&r_etab), siret(&etab));
    assert_eq!(siret(&r_etab).as_deref(), Some("13002526500013"));
    let err = replay.unite_legale("552100554").await.unwrap_err();
    assert!(matches!(err, Error::NotRecorded(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("/v3/insee/sirene/unites_legales/{siren}"),
        "{err}"
    );
}
