//! Crate-level usage docs of shipped clients: how to build the client for each environment of
//! its gateway and make a first call, as a doctest that is compiled (`no_run`: no network).

use crate::manifest::{ClientEntry, Gateway};
use gouvgen::model::{Api, ParamIn};
use gouvgen::surface::{self, ArgSource, Method, RustType};

/// Markdown appended to a generated crate's docs: one complete example per environment (and
/// access point), each its own doctest, so a reader copies the one they need.
pub fn usage_doc(entry: &ClientEntry, api: &Api) -> String {
    let krate = entry.crate_name.replace('-', "_");
    let (imports, builders) = builders(entry);
    let call = first_call(api);
    let mut out = String::from("## Usage\n");
    for (label, builder) in &builders {
        out.push_str(&format!(
            "\n### {}\n\n```no_run\n",
            label.trim_end_matches(':')
        ));
        let franceconnect = label.contains("franceconnect");
        // `CallOptions` only where the example uses it.
        let imports = match franceconnect {
            true => imports.clone(),
            false => imports.replace("CallOptions, ", ""),
        };
        out.push_str(&format!(
            "use {krate}::Client;\nuse {krate}::runtime::{{ApiClient, {imports}}};\n\n"
        ));
        out.push_str("# async fn example() -> Result<(), Box<dyn std::error::Error>> {\n");
        out.push_str(&format!(
            "let client = Client::new(\n    {builder}\n        .build()?,\n);\n"
        ));
        if franceconnect {
            out.push_str("// Through the FranceConnect access point, calls also carry the user's FranceConnect token:\n");
            out.push_str("let client = client.with_options(CallOptions::new().france_connect_token(\"user-access-token\"));\n");
        }
        match &call {
            Some(call) => out.push_str(&format!("let response = client.{call}.await?;\nprintln!(\"{{:?}} (X-Correlation-ID {{}})\", response.body(), response.correlation_id());\n")),
            None => out.push_str("# let _ = client;\n"),
        }
        out.push_str("# Ok(()) }\n```\n");
    }
    out
}

fn env_variant(env: &str) -> &'static str {
    match env {
        "production" => "Production",
        _ => "Sandbox",
    }
}

fn env_label(env: &str) -> &str {
    match env {
        "sandbox" => "sandbox (bac à sable)",
        "staging" => "staging",
        "formation" => "FORMATION (tests and certification)",
        other => other,
    }
}

/// `use` list and one builder expression per environment (and access point) of the gateway.
fn builders(entry: &ClientEntry) -> (String, Vec<(String, String)>) {
    let envs: Vec<String> = if entry.environments.is_empty() {
        vec!["production".into()]
    } else {
        entry.environments.clone()
    };
    let scopes = if entry.scopes.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = entry.scopes.iter().map(|s| format!("{s:?}")).collect();
        format!("\n        .scopes([{}])", list.join(", "))
    };
    let key = (entry.api_key_header.as_ref())
        .map(|_| "\n        .api_key(\"api-key\")".to_string())
        .unwrap_or_default();
    let points = |default: &str| {
        if entry.access_points.is_empty() {
            vec![default.to_string()]
        } else {
            entry.access_points.clone()
        }
    };
    match entry.gateway {
        Gateway::Dgfip => (
            "CallOptions, presets::{self, DgfipAccess, Environment}".to_string(),
            dgfip(&points("internet"), &envs, &format!("{scopes}{key}")),
        ),
        Gateway::Piste => (
            "presets::{self, Environment, PisteAccess}".to_string(),
            piste(&points("internet"), &envs, &key),
        ),
        Gateway::Douane => (
            "presets::{self, DouaneEnvironment}".to_string(),
            douane(&envs, &key),
        ),
        Gateway::ApiEntreprise | Gateway::ApiParticulier => (
            "presets::{self, Environment}".to_string(),
            api_gouv(entry, &envs),
        ),
    }
}

/// DGFiP: one builder per access point and environment (`more`: scopes and API key lines).
fn dgfip(points: &[String], envs: &[String], more: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for point in points {
        let access = match point.as_str() {
            "internet-franceconnect" => "InternetFranceConnect",
            "rie" => "Rie",
            _ => "Internet",
        };
        for env in envs {
            out.push((
                format!("DGFiP, access point {point}, {}:", env_label(env)),
                format!("ApiClient::builder(presets::dgfip(DgfipAccess::{access}, Environment::{}))\n        .client_credentials(\"consumer-key\", \"consumer-secret\"){more}", env_variant(env)),
            ));
        }
    }
    out
}

/// PISTE: one builder per access point and environment.
fn piste(points: &[String], envs: &[String], key: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for point in points {
        let access = if point == "ader" { "Ader" } else { "Internet" };
        for env in envs {
            out.push((
                format!("PISTE, {point} access, {}:", env_label(env)),
                format!("ApiClient::builder(presets::piste(PisteAccess::{access}, Environment::{}))\n        .client_credentials(\"client-id\", \"client-secret\"){key}", env_variant(env)),
            ));
        }
    }
    out
}

/// Douane: production or FORMATION.
fn douane(envs: &[String], key: &str) -> Vec<(String, String)> {
    let builder = |env: &String| {
        let variant = if env == "production" {
            "Production"
        } else {
            "Formation"
        };
        (
            format!("Douane, {}:", env_label(env)),
            format!(
                "ApiClient::builder(presets::douane(DouaneEnvironment::{variant}))\n        .password_grant(\"api-account\", \"password\"){key}"
            ),
        )
    };
    envs.iter().map(builder).collect()
}

/// API Entreprise and API Particulier: a JWT (or an API key) and the traceability fields.
fn api_gouv(entry: &ClientEntry, envs: &[String]) -> Vec<(String, String)> {
    let (preset, label) = if entry.gateway == Gateway::ApiEntreprise {
        ("api_entreprise", "API Entreprise")
    } else {
        ("api_particulier", "API Particulier")
    };
    let credential = if entry.api_key_header.is_some() {
        "\n        .api_key(\"api-key\")"
    } else {
        "\n        .jwt(\"eyJhbGciOi...\")"
    };
    let builder = |env: &String| {
        (
            format!("{label}, {}:", env_label(env)),
            format!(
                "ApiClient::builder(presets::{preset}(Environment::{})){credential}\n        .traceability(\"aides publiques\", \"12000101100010\", \"dossier 42\")",
                env_variant(env)
            ),
        )
    };
    envs.iter().map(builder).collect()
}

/// A call to the first operation whose required arguments are simple to write, in the call
/// shape the surface gives the method (the same the crate compiles with).
fn first_call(api: &Api) -> Option<String> {
    let surface = surface::build(api);
    api.operations
        .iter()
        .zip(&surface.methods)
        .filter(|(op, m)| op.body.is_none() && !m.deprecated)
        .find_map(|(op, m)| call_expr(op, m))
}

fn call_expr(op: &gouvgen::model::Operation, m: &Method) -> Option<String> {
    let mut args = Vec::new();
    for arg in &m.args {
        let ArgSource::Param(i) = arg.source else {
            return None;
        };
        let param = &op.params[i];
        let in_url = matches!(param.location, ParamIn::Path | ParamIn::Query);
        args.push(match (&arg.ty, in_url) {
            (ty, _) if *ty == RustType::str_ref() => format!("{:?}", sample_text(&param.name)),
            (RustType::Path("i32" | "i64" | "u32" | "u64" | "i16" | "u16", _), true) => {
                "2024".to_string()
            }
            (RustType::Path("bool", _), _) => "true".to_string(),
            (RustType::Path("rt::uuid::Uuid", _), _) => {
                "\"7f3c2a10-5b1e-4c7d-9a55-2d2f4b7e9c01\".parse()?".to_string()
            }
            (RustType::Path("rt::Date", _), _) => "\"2024-01-31\".parse()?".to_string(),
            (RustType::Path("rt::DateTime", _), _) => {
                "\"2024-01-31T00:00:00Z\".parse()?".to_string()
            }
            _ => return None,
        });
    }
    Some(format!("{}({})", m.name, args.join(", ")))
}

fn sample_text(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if lower.contains("siren") && !lower.contains("siret") {
        "130025265".into()
    } else if lower.contains("siret") {
        "13002526500013".into()
    } else if lower.contains("spi") {
        "1234567890123".into()
    } else {
        format!("{name}-value")
    }
}
