//! The layout of generated sources: rustfmt's own output by default, prettyplease on request,
//! and a clear error when rustfmt is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use gouvgen::CrateSettings;
use gouvgen::emit::Formatter;

fn spec() -> gouvgen::Spec {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/unions.yaml");
    gouvgen::read_spec(&path).unwrap()
}

fn sources(formatter: Formatter) -> gouvgen::Files {
    let mut settings = CrateSettings::new("layout");
    settings.formatter = formatter;
    gouvgen::generate_files(&spec(), &settings).unwrap()
}

fn rustfmt_available() -> bool {
    let ok = Command::new("rustfmt").arg("--version").output().is_ok();
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "rustfmt is required under CI=true"
        );
        eprintln!("SKIPPED: rustfmt is not installed (rustup component add rustfmt)");
    }
    ok
}

/// The default output is a fixed point of rustfmt: `rustfmt --check` changes nothing.
#[test]
fn default_layout_is_rustfmts_own() {
    if !rustfmt_available() {
        return;
    }
    let files = sources(Formatter::Rustfmt);
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files.iter().filter(|(n, _)| n.ends_with(".rs")) {
        let path = dir.path().join(name.replace('/', "_"));
        std::fs::write(&path, text).unwrap();
        let out = Command::new("rustfmt")
            .args(["--edition", "2024", "--check"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name} is not rustfmt's layout:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let plain = sources(Formatter::Prettyplease);
    assert_ne!(
        plain["src/client.rs"], files["src/client.rs"],
        "the two layouts differ, so the check above could fail"
    );
}

/// A missing rustfmt is an error that says what to do, not a silent change of layout.
#[test]
fn missing_rustfmt_is_a_clear_error() {
    // In a child process: setting RUSTFMT here would race with the other tests.
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "missing_rustfmt_child", "--nocapture"])
        .env("RUSTFMT", "/nonexistent/rustfmt")
        .env("GOUVGEN_LAYOUT_CHILD", "1")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{out}");
    assert!(out.contains("child saw the error"), "{out}");
}

/// Run by `missing_rustfmt_is_a_clear_error` in a child process with RUSTFMT set.
#[test]
fn missing_rustfmt_child() {
    if std::env::var_os("GOUVGEN_LAYOUT_CHILD").is_none() {
        return;
    }
    let mut settings = CrateSettings::new("layout");
    settings.formatter = Formatter::Rustfmt;
    let err = gouvgen::generate_files(&spec(), &settings)
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot run rustfmt"), "{err}");
    assert!(err.contains("rustup component add rustfmt"), "{err}");
    assert!(err.contains("--formatter prettyplease"), "{err}");
    println!("child saw the error");
}

/// A large file is laid out in pieces side by side: the result is byte for byte what one
/// rustfmt gives for the whole prettyplease text.
#[test]
fn pieces_laid_out_side_by_side_are_rustfmts_whole_layout() {
    if !rustfmt_available() {
        return;
    }
    let mut doc = String::from(
        "openapi: 3.0.3\ninfo: {title: big, version: '1'}\npaths:\n  /things:\n    get:\n      operationId: things\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/Thing0'}\ncomponents:\n  schemas:\n",
    );
    for i in 0..900 {
        doc.push_str(&format!(
            "    Thing{i}:\n      description: Thing number {i}, with a long enough description to wrap somewhere.\n      type: object\n      required: [id]\n      properties:\n        id: {{type: string}}\n        amount: {{type: number, default: 1.5}}\n        kind: {{type: string, enum: [a, b, c]}}\n        next: {{$ref: '#/components/schemas/Thing{}'}}\n        tags: {{type: array, items: {{type: string}}}}\n",
            i / 2
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.yaml");
    std::fs::write(&path, doc).unwrap();
    let spec = gouvgen::read_spec(&path).unwrap();
    let generate = |formatter| {
        let mut settings = CrateSettings::new("big");
        settings.formatter = formatter;
        gouvgen::generate_files(&spec, &settings).unwrap()
    };
    let pieces = generate(Formatter::Rustfmt);
    let plain = generate(Formatter::Prettyplease);
    let types = &plain["src/types.rs"];
    assert!(
        types.len() > 3 * (192 << 10),
        "large enough to be cut: {} bytes",
        types.len()
    );
    let whole = dir.path().join("types.rs");
    std::fs::write(&whole, types).unwrap();
    let config = dir.path().join("rustfmt.toml");
    std::fs::write(&config, "").unwrap();
    let status = Command::new("rustfmt")
        .args(["--edition", "2024", "--quiet", "--config-path"])
        .arg(&config)
        .arg(&whole)
        .status()
        .unwrap();
    assert!(status.success());
    let whole = std::fs::read_to_string(&whole).unwrap();
    assert_ne!(
        &whole, types,
        "rustfmt changed the layout, so the comparison means something"
    );
    assert!(
        pieces["src/types.rs"] == whole,
        "the pieces differ from rustfmt's whole layout"
    );
}
