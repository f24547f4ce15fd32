//! `gouvgen emulate` serves the seven shipped documents: the binary starts per gateway, prints
//! the builder lines, answers every documented operation with the demo credentials it printed
//! (no 404/405, no server error), logs each call on one line, and honours `--scenario`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use gouvgen_cli::emulate::{GatewayArg, ScenarioFile, configure};
use gouvgen_emulator::Emulator;
use serde_json::Value;

fn spec(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../specs")
        .join(rel)
}

/// A running `gouvgen emulate`, killed at the end of the test.
struct Served {
    child: Child,
    lines: mpsc::Receiver<String>,
    banner: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn reader(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn serve(args: &[&str]) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gouvgen"))
        .arg("emulate")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("gouvgen emulate starts");
    let lines = reader(child.stdout.take().unwrap());
    let mut served = Served {
        child,
        lines,
        banner: String::new(),
    };
    // The banner ends with a fixed line; the call log follows.
    loop {
        let line = served
            .lines
            .recv_timeout(Duration::from_secs(60))
            .expect("banner lines");
        served.banner.push_str(&line);
        served.banner.push('\n');
        if line == "calls (one line each):" {
            break;
        }
    }
    served
}

fn quoted_after<'a>(text: &'a str, marker: &str) -> &'a str {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {text}"))
        + marker.len();
    let rest = &text[start..];
    &rest[..rest.find('"').unwrap()]
}

/// An access token as a client of this gateway would get it, from the banner's lines.
async fn credentials(http: &reqwest::Client, gateway: &str, banner: &str) -> String {
    let form = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    let request = match gateway {
        "dgfip" => http
            .post(quoted_after(banner, ".token_url(\""))
            .basic_auth("consumer-key", Some("consumer-secret"))
            .form(&form(&[("grant_type", "client_credentials")])),
        "piste" => http
            .post(quoted_after(banner, ".token_url(\""))
            .form(&form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "consumer-key"),
                ("client_secret", "consumer-secret"),
            ])),
        "douane" => http
            .post(quoted_after(banner, ".token_url(\""))
            .form(&form(&[
                ("grant_type", "password"),
                ("client_id", "gun-api"),
                ("username", "compte-api"),
                ("password", "mot-de-passe"),
            ])),
        _ => return quoted_after(banner, ".jwt(\"").to_string(),
    };
    let body: Value = request.send().await.unwrap().json().await.unwrap();
    body["access_token"].as_str().expect("a token").to_string()
}

/// `{placeholder}` → `1`.
fn fill(template: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in template.chars() {
        match c {
            '{' => {
                inside = true;
                out.push('1');
            }
            '}' => inside = false,
            c if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_every_operation_of_the_seven_shipped_documents() {
    let groups: [(&str, GatewayArg, &[&str]); 5] = [
        (
            "dgfip",
            GatewayArg::Dgfip,
            &["dgfip/impot-particulier.json", "dgfip/ficoba.json"],
        ),
        (
            "piste",
            GatewayArg::Piste,
            &["piste/legifrance.json", "piste/judilibre.yaml"],
        ),
        ("douane", GatewayArg::Douane, &["douane/declarations.yaml"]),
        (
            "api-entreprise",
            GatewayArg::ApiEntreprise,
            &["api-entreprise/api-entreprise.yaml"],
        ),
        (
            "api-particulier",
            GatewayArg::ApiParticulier,
            &["api-particulier/api-particulier.yaml"],
        ),
    ];
    let http = reqwest::Client::new();
    let mut documents = 0;
    let mut answered = 0;
    for (name, gateway, specs) in groups {
        let paths: Vec<PathBuf> = specs.iter().map(|s| spec(s)).collect();
        // The operations, as the same configuration lists them in-process.
        let (config, _) = configure(&paths, gateway, None, &ScenarioFile::default());
        let operations = Emulator::start(config).await.operations();
        assert!(!operations.is_empty(), "{name}");

        let mut args = vec!["--gateway", name];
        let path_args: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        args.extend(path_args.iter().map(String::as_str));
        let served = serve(&args);
        assert!(
            served
                .banner
                .contains(&format!("({} operations)", operations.len())),
            "{}",
            served.banner
        );
        assert!(served.banner.contains("ApiClient::builder(presets::"));
        let root = quoted_after(&served.banner, ".api_root(\"").to_string();
        let token = credentials(&http, name, &served.banner).await;
        for op in &operations {
            let (method, template) = op.split_once(' ').unwrap();
            let path = fill(template);
            let r = http
                .request(method.parse().unwrap(), format!("{root}{path}"))
                .bearer_auth(&token)
                .header("X-Correlation-ID", uuid_like())
                .header("X-FranceConnect-OAuth", "jeton-usager")
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            assert!(
                status < 500 && status != 404 && status != 405 && status != 401,
                "{name}: {op} → {status}"
            );
            let line = served
                .lines
                .recv_timeout(Duration::from_secs(10))
                .expect("one log line per call");
            assert!(
                line.starts_with(&format!("{method} {template} -> {status}")),
                "{line}"
            );
            answered += 1;
        }
        documents += specs.len();
    }
    assert_eq!(documents, 7);
    assert!(answered >= 38, "{answered} operations answered");
}

#[test]
fn a_scenario_file_forces_errors_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario.toml");
    std::fs::write(&scenario, "unavailable = true\n").unwrap();
    let api = spec("api-entreprise/api-entreprise.yaml");
    let served = serve(&[
        "--gateway",
        "api-entreprise",
        "--scenario",
        scenario.to_str().unwrap(),
        api.to_str().unwrap(),
    ]);
    let root = quoted_after(&served.banner, ".api_root(\"").to_string();
    let jwt = quoted_after(&served.banner, ".jwt(\"").to_string();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        reqwest::Client::new()
            .get(format!("{root}/v3/insee/sirene/unites_legales/418166096"))
            .bearer_auth(jwt)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 503);

    std::fs::write(&scenario, "unknown_key = 1\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gouvgen"))
        .args(["emulate", "--gateway", "api-entreprise", "--scenario"])
        .arg(&scenario)
        .arg(&api)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown_key") && stderr.contains("scenario.toml"),
        "{stderr}"
    );
}

fn uuid_like() -> String {
    // A hyphenated v4-shaped UUID from the clock and a counter: DGFiP checks the shape only.
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("6f1c2d3e-4b5a-4c6d-8e7f-{n:012x}")
}

#[test]
fn fixtures_flag_serves_staging_cases_without_a_document() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir
        .path()
        .join("payloads/api_entreprise_v3_insee_unites_legales");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("case.yaml"),
        "---\nparams:\n  siren: '418166096'\nstatus: 200\npayload: |-\n  {\"data\": {\"siren\": \"418166096\"}}\n",
    )
    .unwrap();
    let served = serve(&[
        "--gateway",
        "api-entreprise",
        "--fixtures",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        served.banner.contains("1 staging cases"),
        "{}",
        served.banner
    );
    let root = quoted_after(&served.banner, ".api_root(\"").to_string();
    let jwt = quoted_after(&served.banner, ".jwt(\"").to_string();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (status, body) = runtime.block_on(async {
        let r = reqwest::Client::new()
            .get(format!("{root}/v3/insee/sirene/unites_legales/418166096"))
            .bearer_auth(jwt)
            .send()
            .await
            .unwrap();
        (r.status(), r.json::<Value>().await.unwrap())
    });
    assert_eq!(status, 200);
    assert_eq!(body["data"]["siren"], "418166096");
    let line = served
        .lines
        .recv_timeout(Duration::from_secs(60))
        .expect("a call line");
    assert!(
        line.starts_with("GET /v3/insee/sirene/unites_legales/{siren} -> 200"),
        "the template, never the SIREN: {line}"
    );
}
