//! References outside the document's folder, through the real `gouvgen` binary: every command
//! that reads a document refuses them, naming `--allow-refs-outside`, and reads them once their
//! folder (and only it) is allowed; `gouvgen sync` reads the same from its manifest.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// `api/main.yaml`, whose `$ref`s read `../shared/common.yaml`.
fn main_doc() -> PathBuf {
    fixtures().join("refs-outside/api/main.yaml")
}

fn shared_dir() -> PathBuf {
    fixtures().join("refs-outside/shared")
}

fn gouvgen(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gouvgen"))
        .args(args)
        .output()
        .expect("gouvgen runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The refusal names the file, the line of the `$ref`, the folder to allow and the flag.
fn assert_refused_naming_the_flag(out: &Output) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("outside the document's folder"), "{err}");
    assert!(
        err.contains("main.yaml:10:"),
        "file and line of the first $ref: {err}"
    );
    let shared = std::fs::canonicalize(shared_dir()).unwrap();
    assert!(
        err.contains(&format!("--allow-refs-outside {}", shared.display())),
        "names the flag with the folder to allow: {err}"
    );
    assert!(
        err.contains("allow_refs_outside"),
        "names the manifest key: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn check_generate_and_diff_refuse_an_outside_ref_without_the_flag() {
    let doc = main_doc();
    assert_refused_naming_the_flag(&gouvgen(&["check".as_ref(), doc.as_ref()]));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("client");
    assert_refused_naming_the_flag(&gouvgen(&[
        "generate".as_ref(),
        doc.as_ref(),
        "--out".as_ref(),
        out.as_ref(),
    ]));
    assert!(!out.exists(), "nothing written");
    assert_refused_naming_the_flag(&gouvgen(&["diff".as_ref(), doc.as_ref(), doc.as_ref()]));
}

#[test]
fn check_generate_and_diff_read_the_allowed_folder() {
    let doc = main_doc();
    let shared = shared_dir();
    let allow: [&std::ffi::OsStr; 2] = ["--allow-refs-outside".as_ref(), shared.as_ref()];

    let out = gouvgen(&[&["check".as_ref(), doc.as_ref()][..], &allow].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1 operations"), "{stdout}");

    let dir = tempfile::tempdir().unwrap();
    let client = dir.path().join("client");
    let args = [
        &[
            "generate".as_ref(),
            doc.as_ref(),
            "--out".as_ref(),
            client.as_ref(),
        ][..],
        &allow,
    ]
    .concat();
    let out = gouvgen(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let types = std::fs::read_to_string(client.join("src/types.rs")).unwrap();
    assert!(
        types.contains("pub struct Adresse") && types.contains("pub struct Commune"),
        "the shared schemas are generated: {types}"
    );

    let out = gouvgen(&[&["diff".as_ref(), doc.as_ref(), doc.as_ref()][..], &allow].concat());
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn another_allowed_folder_does_not_open_this_one() {
    let doc = main_doc();
    // A real folder, but not the one the references read.
    let elsewhere = fixtures().join("external");
    assert_refused_naming_the_flag(&gouvgen(&[
        "check".as_ref(),
        doc.as_ref(),
        "--allow-refs-outside".as_ref(),
        elsewhere.as_ref(),
    ]));
    // `..` in the allowed folder is resolved, not trusted textually.
    let dotted = fixtures().join("refs-outside/api/..");
    let out = gouvgen(&[
        "check".as_ref(),
        doc.as_ref(),
        "--allow-refs-outside".as_ref(),
        dotted.as_ref(),
    ]);
    assert!(
        out.status.success(),
        "the parent folder holds shared/: {}",
        stderr(&out)
    );
}

#[test]
fn a_missing_allowed_folder_is_a_usage_error() {
    let doc = main_doc();
    let missing = fixtures().join("refs-outside/no-such-folder");
    let out = gouvgen(&[
        "check".as_ref(),
        doc.as_ref(),
        "--allow-refs-outside".as_ref(),
        missing.as_ref(),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not an existing folder"), "{err}");
}

#[cfg(feature = "emulate")] // the command needs the emulator built in
#[test]
fn emulate_serves_examples_from_the_allowed_folder_only() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::Duration;

    let doc = main_doc();
    let refused = Command::new(env!("CARGO_BIN_EXE_gouvgen"))
        .args(["emulate", "--gateway", "api-entreprise"])
        .arg(&doc)
        .output()
        .unwrap();
    let err = stderr(&refused);
    assert!(!refused.status.success(), "{err}");
    assert!(err.contains("--allow-refs-outside"), "{err}");

    let mut child = Command::new(env!("CARGO_BIN_EXE_gouvgen"))
        .args([
            "emulate",
            "--gateway",
            "api-entreprise",
            "--allow-refs-outside",
        ])
        .arg(shared_dir())
        .arg(&doc)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut banner = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        banner.push_str(&line);
        banner.push('\n');
        if line == "calls (one line each):" {
            break;
        }
    }
    let after = |marker: &str| {
        let start = banner
            .find(marker)
            .unwrap_or_else(|| panic!("{marker}: {banner}"))
            + marker.len();
        banner[start..].split('"').next().unwrap().to_string()
    };
    let (root, jwt) = (after(".api_root(\""), after(".jwt(\""));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (status, body) = runtime.block_on(async {
        let response = reqwest::Client::new()
            .get(format!("{root}/adresses/42"))
            .bearer_auth(jwt)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("1 rue de Rivoli"),
        "the shared example is served: {body}"
    );
}

/// A repository with one client whose document reads `specs/shared/common.yaml`.
fn sync_repo(allow: Option<&str>) -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    let specs = repo.path().join("specs");
    std::fs::create_dir_all(specs.join("api")).unwrap();
    std::fs::create_dir_all(specs.join("shared")).unwrap();
    std::fs::copy(main_doc(), specs.join("api/main.yaml")).unwrap();
    std::fs::copy(
        shared_dir().join("common.yaml"),
        specs.join("shared/common.yaml"),
    )
    .unwrap();
    std::fs::create_dir_all(repo.path().join("runtime")).unwrap();
    std::fs::write(
        repo.path().join("runtime/Cargo.toml"),
        "[package]\nname = \"gouvgen-runtime\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    let allow = allow
        .map(|a| format!("allow_refs_outside = [\"{a}\"]\n"))
        .unwrap_or_default();
    std::fs::write(
        specs.join("manifest.toml"),
        format!(
            "[[client]]\nname = \"adresses\"\nspec = \"api/main.yaml\"\ncrate_name = \"adresses\"\nversion = \"0.1.0\"\noutput = \"generated/adresses\"\ngateway = \"api-entreprise\"\n{allow}"
        ),
    )
    .unwrap();
    repo
}

fn sync(repo: &Path, check: bool) -> Output {
    let mut args: Vec<&std::ffi::OsStr> = vec!["sync".as_ref(), "--root".as_ref(), repo.as_ref()];
    if check {
        args.push("--check".as_ref());
    }
    gouvgen(&args)
}

#[test]
fn sync_reads_allow_refs_outside_from_the_manifest_entry() {
    let refused = sync_repo(None);
    let out = sync(refused.path(), false);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("allow_refs_outside"), "{err}");
    assert!(!refused.path().join("generated/adresses").exists());

    let missing = sync_repo(Some("no-such-folder"));
    let err = stderr(&sync(missing.path(), false));
    assert!(
        err.contains("client `adresses`") && err.contains("not a folder"),
        "{err}"
    );

    let repo = sync_repo(Some("shared"));
    let out = sync(repo.path(), false);
    assert!(out.status.success(), "{}", stderr(&out));
    let generated = repo.path().join("generated/adresses");
    assert!(
        generated.join("spec/common.yaml").exists(),
        "both files kept"
    );
    let out = sync(repo.path(), true);
    assert!(out.status.success(), "up to date: {}", stderr(&out));

    // A changed document is compared with the kept copies, which read their shared file
    // from the copy, laid out as the originals are.
    let main = repo.path().join("specs/api/main.yaml");
    let text = std::fs::read_to_string(&main).unwrap();
    let text = text.replace(
        "components:\n",
        "  /adresses:\n    get:\n      operationId: listAdresses\n      responses:\n        \"200\": { description: ok }\ncomponents:\n",
    );
    std::fs::write(&main, text).unwrap();
    let out = sync(repo.path(), false);
    assert!(out.status.success(), "{}", stderr(&out));
    let manifest = std::fs::read_to_string(repo.path().join("specs/manifest.toml")).unwrap();
    // An added operation is additive: in 0.x that is the patch position (Cargo's rules).
    assert!(manifest.contains("version = \"0.1.1\""), "{manifest}");
    let changelog = std::fs::read_to_string(generated.join("CHANGELOG.md")).unwrap();
    assert!(
        changelog.contains("## 0.1.1\n\n- list_adresses: GET /adresses\n\n## 0.1.0"),
        "the change list comes from comparing with the kept copies: {changelog}"
    );
}
