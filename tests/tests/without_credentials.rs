//! The README's "Test without credentials" example, compiled and run: a user's test of a
//! generated client against the emulator crate. `readme_shows_this_test` keeps the README's
//! copy equal to this file's test, line for line.

// README: begin
use dgfip_impot_particulier::Client;
use dgfip_impot_particulier::runtime::ApiClient;
use dgfip_impot_particulier::runtime::presets::{self, DgfipAccess, Environment};
use gouvgen_emulator::{Emulator, GatewayConfig};

#[tokio::test]
async fn reads_a_tax_situation_without_credentials() {
    let emu = Emulator::start(
        GatewayConfig::dgfip()
            .client("consumer-key", "consumer-secret", &["RessourceIR"])
            .mount_spec(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../specs/dgfip/impot-particulier.json"
            )),
    )
    .await;
    let client = Client::new(
        ApiClient::builder(presets::dgfip(DgfipAccess::Internet, Environment::Sandbox))
            .api_root(emu.base_url())
            .token_url(emu.token_url())
            .client_credentials("consumer-key", "consumer-secret")
            .scopes(["RessourceIR"])
            .build()
            .unwrap(),
    );
    let situation = client
        .situation_ir_assiettes("1234567890123", 2024)
        .await
        .unwrap();
    assert_eq!(situation.nm_na_dec1, "MARTIN"); // the document's example

    // Scripted: the documented 404 for this operation.
    emu.fail("situationIrAssiettes", 404);
    let err = client
        .situation_ir_assiettes("1234567890123", 2024)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(emu.calls().len(), 2);
    assert_eq!(emu.stats().issued("client_credentials"), 1);
}
// README: end

#[test]
fn readme_shows_this_test() {
    let root = gouvgen_tests::repo_root();
    let this = std::fs::read_to_string(root.join("tests/tests/without_credentials.rs")).unwrap();
    let test = this
        .split("// README: begin\n")
        .nth(1)
        .and_then(|t| t.split("// README: end").next())
        .unwrap();
    let shown = gouvgen_tests::readme_test_without_credentials();
    assert_eq!(
        shown, test,
        "README and tests/tests/without_credentials.rs differ"
    );
}
