//! `gouvgen emulate`: the gateway emulator as a server for manual and cross-language tests.
//! It registers demonstration credentials, prints the runtime builder lines that point a
//! client at it, logs each call on one line (method, path template, status, correlation
//! ID) and serves until Ctrl-C.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use gouvgen_emulator::{Emulator, GatewayConfig, Kind};
use serde::Deserialize;
use serde_json::Value;

/// Demonstration credentials the emulator accepts (nothing secret: loopback only).
pub const CLIENT_ID: &str = "consumer-key";
/// Secret of [`CLIENT_ID`].
pub const CLIENT_SECRET: &str = "consumer-secret";
/// Douane account for the password grant.
pub const DOUANE_ACCOUNT: (&str, &str) = ("compte-api", "mot-de-passe");
/// API Particulier key.
pub const API_KEY: &str = "cle-emulateur";

pub use crate::gateway::GatewayArg;

/// The emulator's gateway for a `--gateway` value.
fn kind(gateway: GatewayArg) -> Kind {
    match gateway {
        GatewayArg::Dgfip => Kind::Dgfip,
        GatewayArg::Piste => Kind::Piste,
        GatewayArg::Douane => Kind::Douane,
        GatewayArg::ApiEntreprise => Kind::ApiEntreprise,
        GatewayArg::ApiParticulier => Kind::ApiParticulier,
    }
}

/// A `--scenario` file (TOML): what the gateway does from the start.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Operation (`operationId` or `METHOD /path`) → forced status.
    #[serde(default)]
    pub fail: BTreeMap<String, u16>,
    /// Every call answers 429 with this `Retry-After` (seconds).
    pub throttle_seconds: Option<u64>,
    /// Every call answers 503.
    #[serde(default)]
    pub unavailable: bool,
    /// Added before every answer (milliseconds).
    pub latency_ms: Option<u64>,
    /// Accept and never answer.
    #[serde(default)]
    pub dark: bool,
    /// `[calls, seconds]`: a quota per client.
    pub rate_limit: Option<(u32, u64)>,
    /// Access-token lifetime (seconds).
    pub token_lifetime_seconds: Option<u64>,
}

impl ScenarioFile {
    /// Reads and checks a scenario file.
    pub fn load(path: &Path) -> Result<ScenarioFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read scenario {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("scenario {}: {e}", path.display()))
    }
}

/// Every scope named by the documents' security requirements and OAuth flows: the demo
/// client may ask for any of them.
fn scopes(specs: &[PathBuf]) -> Vec<String> {
    fn walk(v: &Value, out: &mut std::collections::BTreeSet<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("security", Value::Array(reqs)) => {
                            for req in reqs.iter().filter_map(Value::as_object) {
                                for s in req.values().filter_map(Value::as_array).flatten() {
                                    if let Some(s) = s.as_str() {
                                        out.insert(s.to_string());
                                    }
                                }
                            }
                        }
                        ("scopes", Value::Object(s)) => out.extend(s.keys().cloned()),
                        _ => walk(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = std::collections::BTreeSet::new();
    for spec in specs {
        if let Ok(doc) = gouvgen::load::load_value(spec) {
            walk(&doc, &mut out);
        }
    }
    out.into_iter().collect()
}

/// The gateway configuration `gouvgen emulate` serves, with its demo credentials; also the
/// lines a client needs. Returned separately so tests can start it in-process.
pub fn configure(
    specs: &[PathBuf],
    gateway: GatewayArg,
    port: Option<u16>,
    scenario: &ScenarioFile,
) -> (GatewayConfig, String) {
    let kind = kind(gateway);
    let mut config = GatewayConfig::new(kind).port(port.unwrap_or(0));
    for spec in specs {
        config = config.mount_spec(spec);
    }
    if let Some((calls, secs)) = scenario.rate_limit {
        config = config.rate_limit(calls, Duration::from_secs(secs.max(1)));
    }
    if let Some(secs) = scenario.token_lifetime_seconds {
        config = config.token_lifetime(Duration::from_secs(secs));
    }
    let scopes = scopes(specs);
    let credentials = match kind {
        Kind::Dgfip | Kind::Piste => {
            let refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
            config = config.client(CLIENT_ID, CLIENT_SECRET, &refs);
            let scopes = scopes
                .iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "    .client_credentials({CLIENT_ID:?}, {CLIENT_SECRET:?})\n    .scopes([{scopes}])"
            )
        }
        Kind::Douane => {
            config = config.account(DOUANE_ACCOUNT.0, DOUANE_ACCOUNT.1);
            format!(
                "    .password_grant({:?}, {:?})",
                DOUANE_ACCOUNT.0, DOUANE_ACCOUNT.1
            )
        }
        Kind::ApiEntreprise | Kind::ApiParticulier => {
            // A JWT valid 18 months, as the providers issue them.
            let jwt = gouvgen_emulator::jwt(Duration::from_secs(548 * 24 * 3600));
            config = config.bearer(&jwt);
            if kind == Kind::ApiParticulier {
                config = config.api_key("x-api-key", API_KEY);
            }
            let mut lines = format!(
                "    .jwt({jwt:?})\n    .traceability(\"motif\", \"12000101100010\", \"dossier\")"
            );
            if kind == Kind::ApiParticulier {
                lines.push_str(&format!("\n    // or .api_key({API_KEY:?})"));
            }
            lines
        }
    };
    (config, credentials)
}

fn preset(kind: Kind) -> &'static str {
    match kind {
        Kind::Dgfip => "presets::dgfip(DgfipAccess::Internet, Environment::Sandbox)",
        Kind::Piste => "presets::piste(PisteAccess::Internet, Environment::Sandbox)",
        Kind::Douane => "presets::douane(DouaneEnvironment::Formation)",
        Kind::ApiEntreprise => "presets::api_entreprise(Environment::Sandbox)",
        Kind::ApiParticulier => "presets::api_particulier(Environment::Sandbox)",
    }
}

/// What `gouvgen emulate` prints once listening: the builder lines of a client.
pub fn banner(emu: &Emulator, credentials: &str) -> String {
    let kind = emu.kind();
    let cases = match emu.fixture_cases() {
        0 => String::new(),
        n => format!(", {n} staging cases"),
    };
    let mut out = format!(
        "gouvgen emulate: {kind:?} gateway on {} ({} operations{cases}); Ctrl-C stops it\n\
         ApiClient::builder({})\n    .api_root({:?})\n",
        emu.base_url(),
        emu.operations().len(),
        preset(kind),
        emu.base_url(),
    );
    if kind.token_path().is_some() {
        out.push_str(&format!("    .token_url({:?})\n", emu.token_url()));
    }
    if kind == Kind::Dgfip {
        out.push_str(&format!("    .revoke_url({:?})\n", emu.revoke_url()));
    }
    out.push_str(credentials);
    out.push_str("\ncalls (one line each):\n");
    out
}

/// What `gouvgen emulate` serves: documents and staging-case folders.
#[derive(Debug, Clone, Copy)]
pub struct Served<'a> {
    /// OpenAPI / Swagger documents.
    pub specs: &'a [PathBuf],
    /// Folders in the providers' staging format (`--fixtures`).
    pub fixtures: &'a [PathBuf],
    /// How the documents' external references are read.
    pub options: &'a gouvgen::load::LoadOptions,
}

/// Runs the server until Ctrl-C.
pub fn run(
    served: &Served<'_>,
    gateway: GatewayArg,
    port: Option<u16>,
    scenario: Option<&Path>,
) -> Result<(), String> {
    let scenario = match scenario {
        Some(p) => ScenarioFile::load(p)?,
        None => ScenarioFile::default(),
    };
    if !served.fixtures.is_empty()
        && !matches!(kind(gateway), Kind::ApiEntreprise | Kind::ApiParticulier)
    {
        return Err("--fixtures: staging cases are API Entreprise / API Particulier ones".into());
    }
    let (mut config, credentials) = configure(served.specs, gateway, port, &scenario);
    for dir in served.fixtures {
        config = config.fixtures(dir);
    }
    let config = config.load_options(served.options.clone());
    // One line per call: method, path template (paths carry personal data), status,
    // correlation ID.
    let config = config.on_call(|call| {
        println!(
            "{} {} -> {} (x-correlation-id {})",
            call.method,
            call.template.as_deref().unwrap_or("(no documented path)"),
            if call.status == 0 {
                "no answer".to_string()
            } else {
                call.status.to_string()
            },
            call.correlation_id.as_deref().unwrap_or("-")
        );
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let emu = Emulator::try_start(config).await?;
        for (operation, status) in &scenario.fail {
            emu.fail(operation, *status);
        }
        if let Some(secs) = scenario.throttle_seconds {
            emu.throttle(Duration::from_secs(secs));
        }
        if scenario.unavailable {
            emu.unavailable();
        }
        if let Some(ms) = scenario.latency_ms {
            emu.latency(Duration::from_millis(ms));
        }
        if scenario.dark {
            emu.go_dark();
        }
        print!("{}", banner(&emu, &credentials));
        use std::io::Write;
        let _ = std::io::stdout().flush();
        tokio::signal::ctrl_c()
            .await
            .map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?;
        eprintln!("gouvgen emulate: stopped");
        Ok(())
    })
}
