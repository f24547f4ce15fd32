//! Every shipped client end to end, through the runtime, against the gateway emulator:
//! typed success bodies, every documented error decoded with its gateway code and the
//! correlation ID, token expiry in the middle of a run, rate limiting, and 10,000 calls with
//! 10,000 distinct correlation IDs.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use gouvgen_emulator::{Emulator, GatewayConfig};
use gouvgen_runtime::presets::{self, DgfipAccess, DouaneEnvironment, Environment, PisteAccess};
use gouvgen_runtime::{
    ApiClient, ApiClientBuilder, CallOptions, Error, RateLimit, Response, RetryPolicy,
};
use gouvgen_tests::e2e::{all_succeed, all_succeed_paced, example_code};
use gouvgen_tests::repo_root;

const CALLS: usize = 10_000;

fn spec(rel: &str) -> PathBuf {
    repo_root().join("specs").join(rel)
}

/// The builder of a runtime pointed at an emulator.
fn at(builder: ApiClientBuilder, emu: &Emulator) -> ApiClientBuilder {
    builder
        .api_root(emu.base_url())
        .token_url(emu.token_url())
        .revoke_url(emu.revoke_url())
}

/// Calls one operation with `X-Emulator-Status` set to each documented error status of it,
/// and checks the typed error: status, documented body, the gateway code of the document's
/// example, and the correlation ID of the call.
async fn documented_errors<F, Fut, T, E>(spec_file: &str, operation_id: &str, call: F) -> usize
where
    F: Fn(CallOptions) -> Fut,
    Fut: Future<Output = Result<Response<T>, Error<E>>>,
    E: std::fmt::Debug + 'static,
    T: std::fmt::Debug,
{
    let read = gouvgen::read_spec(&spec(spec_file)).expect("spec reads");
    let op = read
        .api
        .operations
        .iter()
        .find(|o| o.id == operation_id)
        .unwrap_or_else(|| panic!("no operation {operation_id}"));
    let mut checked = 0;
    for case in &op.errors {
        let gouvgen::model::StatusMatch::Code(status) = case.status else {
            continue;
        };
        let Some((_, example)) = case.examples.first() else {
            continue;
        };
        let correlation = format!("{:08x}-0000-4000-8000-{:012x}", status, checked + 1);
        let options = CallOptions::new()
            .header("X-Emulator-Status", status.to_string())
            .correlation_id(correlation.clone())
            .retry_policy(RetryPolicy::none());
        let err = call(options).await.expect_err("a documented error status");
        assert_eq!(err.status(), Some(status), "{operation_id} {status}: {err}");
        if status == 429 {
            assert!(
                matches!(err, Error::RateLimited(_)),
                "{operation_id}: a documented 429 is still RateLimited: {err:?}"
            );
            assert!(
                err.rate_limited_body().is_some(),
                "{operation_id}: a documented 429 carries its typed body: {err:?}"
            );
        } else {
            assert!(
                err.documented().is_some(),
                "{operation_id} {status}: the documented body is typed: {err:?}"
            );
        }
        assert_eq!(
            err.gateway_code(),
            example_code(example).as_deref(),
            "{operation_id} {status}: {err}"
        );
        assert_eq!(
            err.correlation_id(),
            Some(correlation.as_str()),
            "{operation_id} {status}"
        );
        assert!(
            err.to_string().contains(&correlation),
            "the message names the correlation ID: {err}"
        );
        checked += 1;
    }
    assert!(checked > 0, "{operation_id} documents error bodies");
    checked
}

fn distinct(ids: &[String]) -> usize {
    ids.iter().collect::<std::collections::HashSet<_>>().len()
}

// ---------------------------------------------------------------- DGFiP

fn dgfip_gateway() -> GatewayConfig {
    GatewayConfig::dgfip()
        .client(
            "consumer-key",
            "consumer-secret",
            &["RessourceIR", "RessourceFicoba"],
        )
        .mount_spec(spec("dgfip/impot-particulier.json"))
        .mount_spec(spec("dgfip/ficoba.json"))
}

fn dgfip_runtime(emu: &Emulator, access: DgfipAccess) -> ApiClientBuilder {
    at(
        ApiClient::builder(presets::dgfip(access, Environment::Sandbox)),
        emu,
    )
    .client_credentials("consumer-key", "consumer-secret")
    .scopes(["RessourceIR"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dgfip_impot_particulier_end_to_end() {
    use dgfip_impot_particulier::{Client, types};
    let emu = Emulator::start(dgfip_gateway()).await;
    let client = Client::new(
        dgfip_runtime(&emu, DgfipAccess::Internet)
            .no_rate_limit()
            .build()
            .unwrap(),
    );

    let situation = client
        .situation_ir_assiettes("1234567890123", 2024)
        .await
        .unwrap();
    assert_eq!(situation.nb_part, 2.5);
    assert_eq!(situation.nm_na_dec1, "MARTIN");
    assert_eq!(situation.sit_fam, Some(types::SituationIrSitFam::M));
    assert_eq!(situation.pac.as_ref().and_then(|p| p.nb_pac), Some(1));
    assert_eq!(situation.nm_usa_dec1, None, "null in the payload");

    // FranceConnect access point: the user's token travels in X-FranceConnect-OAuth.
    let fc = Client::new(
        dgfip_runtime(&emu, DgfipAccess::InternetFranceConnect)
            .no_rate_limit()
            .build()
            .unwrap(),
    )
    .with_options(CallOptions::new().france_connect_token("jeton-franceconnect"));
    fc.situation_ir_assiettes_france_connect(2024)
        .await
        .unwrap();

    let errors = documented_errors(
        "dgfip/impot-particulier.json",
        "situationIrAssiettes",
        |o| {
            let c = client.with_options(o);
            async move { c.situation_ir_assiettes("1234567890123", 2024).await }
        },
    )
    .await;
    assert_eq!(errors, 7);

    // The token expires in the middle of a run: calls keep succeeding, one new token.
    let before = emu.stats();
    all_succeed(20, 4, |_| {
        let c = client.clone();
        async move { c.situation_th_principale("1234567890123", 2024).await }
    })
    .await;
    emu.expire_all_tokens();
    all_succeed(20, 4, |_| {
        let c = client.clone();
        async move { c.situation_th_principale("1234567890123", 2024).await }
    })
    .await;
    let after = emu.stats();
    assert_eq!(
        after.tokens_total() - before.tokens_total(),
        1,
        "exactly one new token"
    );
    assert!(
        after.unauthorized - before.unauthorized >= 1,
        "the expired token was refused"
    );

    // 10,000 calls, 10,000 distinct correlation IDs, every one seen by the gateway.
    let before = emu.stats();
    let ids = all_succeed(CALLS, 32, |_| {
        let c = client.clone();
        async move { c.situation_ir_assiettes("1234567890123", 2024).await }
    })
    .await;
    let after = emu.stats();
    assert_eq!(distinct(&ids), CALLS);
    assert_eq!(
        after.distinct_correlation_ids - before.distinct_correlation_ids,
        CALLS
    );
    assert_eq!(
        after.correlation_refusals, 0,
        "every call carried a valid X-Correlation-ID"
    );

    // Rate limiting: the client's limiter keeps under the gateway's quota.
    let limited = Emulator::start(dgfip_gateway().rate_limit(10, Duration::from_secs(1))).await;
    let client = Client::new(
        dgfip_runtime(&limited, DgfipAccess::Internet)
            .rate_limit(RateLimit::per_second(10))
            .build()
            .unwrap(),
    );
    all_succeed_paced(30, 30, |_| {
        let c = client.clone();
        async move { c.situation_ir_assiettes("1234567890123", 2024).await }
    })
    .await;
    let stats = limited.stats();
    assert_eq!(stats.throttled, 0, "the gateway never had to refuse");
    assert!(stats.max_calls_per_second <= 11, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dgfip_ficoba_end_to_end() {
    use dgfip_ficoba::{Client, types};
    let emu = Emulator::start(dgfip_gateway()).await;
    let runtime = dgfip_runtime(&emu, DgfipAccess::Rie)
        .scopes(["RessourceFicoba"])
        .no_rate_limit()
        .build()
        .unwrap();
    let client = Client::new(runtime.clone());
    let mut body = types::RechercheSpi::new("1234567890123");
    body.date_reference = Some("2026-01-31".parse::<gouvgen_runtime::Date>().unwrap());
    let found = client.rechercher_comptes_par_spi(&body).await.unwrap();
    assert_eq!(found.total, 1);
    assert_eq!(found.comptes[0].nature, Some(types::CompteNature::Ccp));
    assert_eq!(found.comptes[0].cloture, None);
    let health = client.etat_sante().await.unwrap();
    assert_eq!(health.statut.as_deref(), Some("OK"));

    documented_errors("dgfip/ficoba.json", "rechercherComptesParSpi", |o| {
        let (c, b) = (client.with_options(o), body.clone());
        async move { c.rechercher_comptes_par_spi(&b).await }
    })
    .await;

    // Revoke, then the next call fetches a new token.
    let before = emu.stats();
    runtime.revoke().await.unwrap();
    client.rechercher_comptes_par_spi(&body).await.unwrap();
    let after = emu.stats();
    assert_eq!(after.revocations - before.revocations, 1);
    assert_eq!(after.tokens_total() - before.tokens_total(), 1);

    // The token expires mid-run: a POST is never repeated by the retry policy, but an
    // invalid_token 401 is answered with one new token and one retry.
    let before = emu.stats();
    emu.expire_all_tokens();
    all_succeed(10, 2, |_| {
        let (c, b) = (client.clone(), body.clone());
        async move { c.rechercher_comptes_par_spi(&b).await }
    })
    .await;
    assert_eq!(emu.stats().tokens_total() - before.tokens_total(), 1);

    let ids = all_succeed(CALLS, 32, |_| {
        let (c, b) = (client.clone(), body.clone());
        async move { c.rechercher_comptes_par_spi(&b).await }
    })
    .await;
    assert_eq!(distinct(&ids), CALLS);

    let limited = Emulator::start(dgfip_gateway().rate_limit(10, Duration::from_secs(1))).await;
    let client = Client::new(
        dgfip_runtime(&limited, DgfipAccess::Rie)
            .scopes(["RessourceFicoba"])
            .rate_limit(RateLimit::per_second(10))
            .build()
            .unwrap(),
    );
    all_succeed_paced(30, 30, |_| {
        let (c, b) = (client.clone(), body.clone());
        async move { c.rechercher_comptes_par_spi(&b).await }
    })
    .await;
    let stats = limited.stats();
    assert_eq!(stats.throttled, 0, "{stats:?}");
    assert!(stats.max_calls_per_second <= 11, "{stats:?}");
}

// ---------------------------------------------------------------- PISTE

fn piste_gateway() -> GatewayConfig {
    GatewayConfig::piste()
        .client("client-id", "client-secret", &["openid"])
        .api_key("KeyId", "cle-applicative")
        .mount_spec(spec("piste/legifrance.json"))
        .mount_spec(spec("piste/judilibre.yaml"))
}

fn piste_runtime(emu: &Emulator) -> ApiClientBuilder {
    at(
        ApiClient::builder(presets::piste(PisteAccess::Internet, Environment::Sandbox)),
        emu,
    )
    .client_credentials("client-id", "client-secret")
    .api_key("cle-applicative")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn piste_legifrance_end_to_end() {
    use piste_legifrance::{Client, types};
    let emu = Emulator::start(piste_gateway()).await;
    let client = Client::new(piste_runtime(&emu).no_rate_limit().build().unwrap());
    let request = types::ConsultCodeRequest::new("LEGITEXT000006070721");
    let code = client.consulter_code(&request).await.unwrap();
    assert_eq!(code.titre.as_deref(), Some("Code civil"));
    assert_eq!(code.etat, Some(types::ConsultCodeResponseEtat::Vigueur));
    let section = &code.sections.as_ref().unwrap()[0];
    assert_eq!(
        section.articles.as_ref().unwrap()[0].num.as_deref(),
        Some("1")
    );
    let codes = client
        .lister_codes()
        .etats(vec![types::ListerCodesEtatsItem::Vigueur])
        .await
        .unwrap();
    assert_eq!(codes.len(), 1);
    assert_eq!(client.ping().await.unwrap().body(), "pong");

    documented_errors("piste/legifrance.json", "consulterCode", |o| {
        let (c, r) = (client.with_options(o), request.clone());
        async move { c.consulter_code(&r).await }
    })
    .await;

    let before = emu.stats();
    all_succeed(10, 2, |_| {
        let (c, r) = (client.clone(), request.clone());
        async move { c.consulter_code(&r).await }
    })
    .await;
    emu.expire_all_tokens();
    all_succeed(10, 2, |_| {
        let (c, r) = (client.clone(), request.clone());
        async move { c.consulter_code(&r).await }
    })
    .await;
    assert_eq!(emu.stats().tokens_total() - before.tokens_total(), 1);

    let ids = all_succeed(CALLS, 32, |_| {
        let c = client.clone();
        async move { c.lister_codes().await }
    })
    .await;
    assert_eq!(distinct(&ids), CALLS);

    // PISTE's default quota, 20 requests per second, enforced by the preset's own limiter.
    let limited = Emulator::start(piste_gateway().rate_limit(20, Duration::from_secs(1))).await;
    let client = Client::new(piste_runtime(&limited).build().unwrap());
    all_succeed_paced(50, 50, |_| {
        let c = client.clone();
        async move { c.lister_codes().await }
    })
    .await;
    let stats = limited.stats();
    assert_eq!(stats.throttled, 0, "{stats:?}");
    assert!(stats.max_calls_per_second <= 21, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn piste_judilibre_end_to_end() {
    use piste_judilibre::{Client, types};
    let emu = Emulator::start(piste_gateway()).await;
    let client = Client::new(piste_runtime(&emu).no_rate_limit().build().unwrap());
    let page = client
        .rechercher("expropriation")
        .chamber(vec![types::RechercherChamberItem::Civ3])
        .page_size(10)
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.results[0].number.as_deref(), Some("17-18.194"));
    assert_eq!(
        page.results[0].highlights.as_ref().unwrap()["text"][0],
        "un <em>exemple</em>"
    );
    let decision = client
        .lire_decision("5fca7d162a251e6bf9c78514")
        .await
        .unwrap();
    assert_eq!(decision.solution.as_deref(), Some("rejet"));
    assert_eq!(
        client.healthcheck().await.unwrap().status.as_deref(),
        Some("disponible")
    );

    documented_errors("piste/judilibre.yaml", "lireDecision", |o| {
        let c = client.with_options(o);
        async move { c.lire_decision("000").await }
    })
    .await;

    let ids = all_succeed(CALLS, 32, |_| {
        let c = client.clone();
        async move { c.lire_decision("5fca7d162a251e6bf9c78514").await }
    })
    .await;
    assert_eq!(distinct(&ids), CALLS);

    // PISTE's default quota (20 requests per second) is what the preset's limiter enforces.
    let limited = Emulator::start(piste_gateway().rate_limit(20, Duration::from_secs(1))).await;
    let client = Client::new(piste_runtime(&limited).build().unwrap());
    all_succeed_paced(60, 60, |_| {
        let c = client.clone();
        async move { c.healthcheck().await }
    })
    .await;
    let stats = limited.stats();
    assert_eq!(stats.throttled, 0, "{stats:?}");
    assert!(stats.max_calls_per_second <= 21, "{stats:?}");
}

// ---------------------------------------------------------------- Douane

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn douane_declarations_end_to_end() {
    use douane_declarations::{Client, types};
    let emu = Emulator::start(
        GatewayConfig::douane()
            .account("compte-api", "mot-de-passe")
            .token_lifetime(Duration::from_secs(300))
            .mount_spec(spec("douane/declarations.yaml")),
    )
    .await;
    let build = || {
        at(
            ApiClient::builder(presets::douane(DouaneEnvironment::Formation)),
            &emu,
        )
        .password_grant("compte-api", "mot-de-passe")
        .no_rate_limit()
        .build()
        .unwrap()
    };
    let client = Client::new(build());
    let mut ligne = types::DeclarationLignesItem::new("8471300000", 3);
    ligne.valeur = Some(1299.9);
    let declaration = types::Declaration::new(
        "DEC-2026-0001",
        types::DeclarationType::Import,
        "FR000730",
        vec![ligne],
    );
    let accuse = client
        .deposer_declaration("msg-1", &declaration)
        .await
        .unwrap();
    assert_eq!(accuse.status(), 201);
    assert_eq!(accuse.statut, types::AccuseStatut::Recue);
    let id = accuse.id;
    assert_eq!(
        client.consulter_statut(id).await.unwrap().statut,
        types::AccuseStatut::Acceptee
    );
    let messages = client
        .lister_messages("2026-03-01T00:00:00Z".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(messages[0].nature, Some(types::MessageNature::Mainlevee));

    documented_errors("douane/declarations.yaml", "consulterStatut", |o| {
        let c = client.with_options(o);
        async move { c.consulter_statut(id).await }
    })
    .await;

    // One token for every client of the same account ("mutualisation").
    let other = Client::new(build());
    let before = emu.stats();
    other.consulter_statut(id).await.unwrap();
    assert_eq!(
        emu.stats().tokens_total(),
        before.tokens_total(),
        "a second client of the account reuses the token"
    );

    // Expiry mid-run: the refresh token is used, not the password.
    emu.expire_all_tokens();
    all_succeed(20, 4, |_| {
        let c = client.clone();
        async move { c.consulter_statut(id).await }
    })
    .await;
    let after = emu.stats();
    assert_eq!(
        after
            .tokens_issued
            .get("refresh_token")
            .copied()
            .unwrap_or(0)
            - before
                .tokens_issued
                .get("refresh_token")
                .copied()
                .unwrap_or(0),
        1
    );
    assert_eq!(
        after.tokens_issued.get("password"),
        before.tokens_issued.get("password")
    );

    let ids = all_succeed(CALLS, 32, |_| {
        let c = client.clone();
        async move { c.consulter_statut(id).await }
    })
    .await;
    assert_eq!(distinct(&ids), CALLS);

    // A quota set on the client keeps it under the gateway's.
    let limited = Emulator::start(
        GatewayConfig::douane()
            .account("compte-api", "mot-de-passe")
            .mount_spec(spec("douane/declarations.yaml"))
            .rate_limit(10, Duration::from_secs(1)),
    )
    .await;
    let client = Client::new(
        at(
            ApiClient::builder(presets::douane(DouaneEnvironment::Production)),
            &limited,
        )
        .password_grant("compte-api", "mot-de-passe")
        .rate_limit(RateLimit::per_second(10))
        .build()
        .unwrap(),
    );
    all_succeed_paced(30, 30, |_| {
        let c = client.clone();
        async move { c.consulter_statut(id).await }
    })
    .await;
    let stats = limited.stats();
    assert_eq!(stats.throttled, 0, "{stats:?}");
    assert!(stats.max_calls_per_second <= 11, "{stats:?}");
}

// ---------------------------------------------------------------- API Entreprise / API Particulier

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_entreprise_end_to_end() {
    use api_entreprise::{Client, types};
    let jwt = Emulator::jwt(Duration::from_secs(400 * 24 * 3600));
    let gateway = || {
        GatewayConfig::api_entreprise()
            .bearer(&jwt)
            .mount_spec(spec("api-entreprise/api-entreprise.yaml"))
    };
    let emu = Emulator::start(gateway()).await;
    let runtime = |emu: &Emulator| {
        at(
            ApiClient::builder(presets::api_entreprise(Environment::Sandbox)),
            emu,
        )
        .jwt(jwt.clone())
        .traceability("aides publiques", "12000101100010", "dossier 42")
    };
    let client = Client::new(
        runtime(&emu)
            .no_rate_limit()
            .pause_after_429(Duration::from_secs(1))
            .build()
            .unwrap(),
    );
    let unite = client.unite_legale("130025265").await.unwrap();
    assert_eq!(unite.data.siren, "130025265");
    assert_eq!(
        unite.data.type_,
        Some(types::UniteLegaleResponseDataType::PersonneMorale)
    );
    assert_eq!(
        unite.data.etat_administratif,
        Some(types::UniteLegaleResponseDataEtatAdministratif::A)
    );
    let ca = client.chiffres_affaires("130025265").await.unwrap();
    let exercices = ca.data.as_ref().unwrap();
    assert_eq!(exercices[1].data.as_ref().unwrap().chiffre_affaires, None);
    let attestation = client.attestation_vigilance("130025265").await.unwrap();
    assert_eq!(
        attestation
            .data
            .as_ref()
            .unwrap()
            .date_fin_validite
            .map(|d| d.to_string())
            .as_deref(),
        Some("2026-06-30")
    );

    let errors = documented_errors("api-entreprise/api-entreprise.yaml", "uniteLegale", |o| {
        let c = client.with_options(o);
        async move { c.unite_legale("000000000").await }
    })
    .await;
    assert_eq!(errors, 6);

    let ids = all_succeed(CALLS, 32, |_| {
        let c = client.clone();
        async move { c.etablissement("13002526500013").await }
    })
    .await;
    assert_eq!(distinct(&ids), CALLS);

    // The gateway throttles harder than the client: the client holds back on the quota the
    // gateway announces (`RateLimit-Remaining: 0`) or honours its 429s; no call fails, the
    // gateway never sees more than its limit, and the 12-hour ban never triggers.
    let strict = Emulator::start(
        gateway()
            .rate_limit(5, Duration::from_secs(1))
            .retry_after(Duration::from_secs(1)),
    )
    .await;
    let client = Client::new(
        runtime(&strict)
            .rate_limit(RateLimit::per_second(50))
            .retry_policy(
                RetryPolicy::default()
                    .max_attempts(20)
                    .max_total_time(Duration::from_secs(60)),
            )
            .build()
            .unwrap(),
    );
    all_succeed(20, 20, |_| {
        let c = client.clone();
        async move { c.unite_legale("130025265").await }
    })
    .await;
    let stats = strict.stats();
    assert_eq!(stats.api_successes, 20, "{stats:?}");
    assert!(
        stats.max_calls_per_second <= 5,
        "the gateway saw more than its limit: {stats:?}"
    );
    assert_eq!(
        stats.ban_violations, 0,
        "Retry-After was always honoured: {stats:?}"
    );
}

/// The emulator announces its quota as API Entreprise v3 does (`RateLimit-*` on every answer):
/// a client with no limit of its own reads it and never draws a 429.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_entreprise_quota_headers_keep_a_client_without_a_limit_from_429s() {
    use api_entreprise::Client;
    let jwt = Emulator::jwt(Duration::from_secs(400 * 24 * 3600));
    let emu = Emulator::start(
        GatewayConfig::api_entreprise()
            .bearer(&jwt)
            .mount_spec(spec("api-entreprise/api-entreprise.yaml"))
            .rate_limit(4, Duration::from_secs(1)),
    )
    .await;
    let runtime = at(
        ApiClient::builder(presets::api_entreprise(Environment::Sandbox)),
        &emu,
    )
    .jwt(jwt.clone())
    .traceability("aides publiques", "12000101100010", "dossier 42")
    .no_rate_limit();
    let client = Client::new(runtime.build().unwrap());
    for _ in 0..10 {
        client.unite_legale("130025265").await.unwrap();
    }
    let stats = emu.stats();
    assert_eq!(
        stats.throttled, 0,
        "the quota headers were honoured: {stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_particulier_end_to_end() {
    use api_particulier::Client;
    let emu = Emulator::start(
        GatewayConfig::api_particulier()
            .api_key("X-Api-Key", "cle-particulier")
            .mount_spec(spec("api-particulier/api-particulier.yaml"))
            .rate_limit(20, Duration::from_secs(1)),
    )
    .await;
    let runtime = at(
        ApiClient::builder(presets::api_particulier(Environment::Sandbox)),
        &emu,
    )
    .api_key("cle-particulier")
    .traceability("aides sociales", "12000101100010", "dossier 42")
    .rate_limit(RateLimit::per_second(20))
    .pause_after_429(Duration::from_secs(1));
    let client = Client::new(runtime.build().unwrap());
    let foyer = client
        .quotient_familial_caf("0000354", "99148")
        .await
        .unwrap();
    assert_eq!(foyer.quotient_familial, Some(1025));
    assert_eq!(
        foyer.enfants.as_ref().unwrap()[0].prenoms.as_deref(),
        Some("Louis")
    );
    let prenoms = vec!["Louis".to_string(), "Marie".to_string()];
    let etudiant = client
        .statut_etudiant("MARTIN", &prenoms, "2001-02-03".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(etudiant.inscriptions.as_ref().unwrap().len(), 1);

    documented_errors(
        "api-particulier/api-particulier.yaml",
        "quotientFamilialCaf",
        |o| {
            let c = client.with_options(o);
            async move { c.quotient_familial_caf("0000354", "99148").await }
        },
    )
    .await;

    // Rate limiting at the gateway's pace: no call fails, the gateway never refuses.
    // The gateway's quota window forgets the calls above: its clock moves on, the test waits not.
    emu.advance_clock(Duration::from_millis(1100));
    let before = emu.stats();
    all_succeed_paced(60, 60, |_| {
        let c = client.clone();
        async move { c.situation_demandeur_emploi("georges_moustaki_77").await }
    })
    .await;
    let stats = emu.stats();
    assert_eq!(stats.throttled, before.throttled, "{stats:?}");
    assert_eq!(stats.ban_violations, 0);
    assert!(stats.max_calls_per_second <= 21, "{stats:?}");
}
