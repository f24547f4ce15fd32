//! Every reproducer of ../shared/generator-repros (issue 13), and the robustness fixtures,
//! end either in a located error (file, JSON pointer, line, help) or in a crate that compiles
//! with `-D warnings`. The large reproducers are written by this test, not committed.
//!
//! The reproducers are read from `GOUVGEN_REPROS` (default `../shared/generator-repros`);
//! without them the test says so in one line, and fails under `CI=true`.

use std::path::{Path, PathBuf};

use gouvgen_tests::{ScratchWorkspace, diagnostics, repo_root};

/// What a document must give.
enum Expect {
    /// Accepted; the crate must compile lint-clean.
    Compiles,
    /// Accepted, but too large to compile in a test (100,000 fields): generation is checked.
    Generates,
    /// Refused with a located error whose message contains the text, at that line if given.
    Error(&'static str, Option<usize>),
}

use Expect::*;

const REPROS: &[(&str, Expect)] = &[
    // JSON request bodies whose schema is an array or a string (issue 20).
    ("B1-json-body-array.yaml", Compiles),
    ("B2-json-body-string.yaml", Compiles),
    // `/avis/:id` is read as `/avis/{id}`, with a warning (issue 20).
    ("E1-express-style-path-template.yaml", Compiles),
    // The missing schema is typed `serde_json::Value`, with a located warning (`--strict`
    // refuses it: generator/tests/strict.rs).
    ("D1-dangling-ref.yaml", Compiles),
    // Arrays of objects and maps in the query: brackets in deepObject, JSON text otherwise.
    ("Q1-query-array-of-objects-deepobject.yaml", Compiles),
    ("Q2-query-array-of-objects-form.json", Compiles),
    // Integers beyond 64 bits are read as the nearest float, with a located warning.
    ("Y1-yaml-integer-beyond-64-bits.yaml", Compiles),
    ("CF10-schema-named-like-prelude-type.yaml", Compiles),
    ("CF11-query-array-of-arrays.yaml", Compiles),
    (
        "CF1a-alias-cycle-component-refs.yaml",
        Error("only a reference to itself", Some(6)),
    ),
    ("CF1b-alias-cycle-self-ref.yaml", Compiles),
    ("CF1c-alias-cycle-empty-allof.yaml", Compiles),
    (
        "CF1d-alias-cycle-ref-to-itself-inline.yaml",
        Error("only a reference to itself", Some(9)),
    ),
    ("CF1e-alias-cycle-oneof-not-a-list.yaml", Compiles),
    ("CF2-default-literal-out-of-range.yaml", Compiles),
    ("CF3a-bare-cr-enum-value.yaml", Compiles),
    ("CF3b-bare-cr-path.yaml", Compiles),
    ("CF4-duplicate-status-variant.yaml", Compiles),
    (
        "CF5-struct-chain-130-drop-check-overflow.yaml",
        Error("nested types", Some(6)),
    ),
    ("CF6-bidi-char-in-doc-comment.yaml", Compiles),
    ("CF7-union-variant-named-othervalue.yaml", Compiles),
    ("CF8-default-fn-name-collision.yaml", Compiles),
    ("CF9-path-param-not-a-scalar.yaml", Compiles),
    ("L1-flow-style-yaml-read-as-json.yaml", Compiles),
    ("L2-yaml-integer-above-u64.yaml", Compiles),
    (
        "L3-yaml-control-char-wrong-line.yaml",
        Error("U+0000", Some(6)),
    ),
    ("P1-panic-nonascii-status-range.yaml", Compiles),
    ("T1-timeout-allof-fanout.yaml", Compiles),
    ("T5-generate-hang-param-oneof-null.yaml", Compiles),
    (
        "W1-unclosed-path-template-wrong-url.yaml",
        Error("is never closed", Some(5)),
    ),
    ("shrunk-m00221-panic.yaml", Compiles),
    ("shrunk-m02896-dup-status.yaml", Compiles),
    ("shrunk-m08417-generate-hang.yaml", Compiles),
];

/// Our own fixtures for the classes of the issue.
const FIXTURES: &[(&str, Expect)] = &[
    ("body-shapes.yaml", Compiles),
    ("params31.yaml", Compiles),
    ("data-refs.yaml", Compiles),
    ("self-by-another-path.yaml", Compiles),
    (
        "openapi-3-10.yaml",
        Error("unsupported OpenAPI version `3.10.0`", Some(1)),
    ),
    (
        "outside-absolute.yaml",
        Error("outside the document's folder", Some(11)),
    ),
    (
        "outside-relative.yaml",
        Error("outside the document's folder", Some(11)),
    ),
    ("swagger2-located.yaml", Compiles),
];

fn repros_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("GOUVGEN_REPROS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/generator-repros"));
    if dir.join("README.md").exists() {
        return Some(dir);
    }
    gouvgen_tests::skip(
        "every_reproducer_is_a_located_error_or_a_lint_clean_crate",
        &format!(
            "no generator reproducers at {} (set GOUVGEN_REPROS to ../shared/generator-repros)",
            dir.display()
        ),
    );
    None
}

/// The large reproducers of make_big_repros.py, written in Rust.
fn write_big_repros(dir: &Path) -> Vec<(PathBuf, Expect)> {
    let w = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let chain = |n: usize| {
        let mut s = String::from(
            "{\"openapi\": \"3.0.3\", \"info\": {\"title\": \"t\", \"version\": \"1\"}, \"paths\": {}, \"components\": {\"schemas\": {",
        );
        for i in 0..n {
            s.push_str(&format!(
                "\"S{i}\": {{\"type\": \"object\", \"properties\": {{\"n\": {{\"$ref\": \"#/components/schemas/S{}\"}}}}}}, ",
                i + 1
            ));
        }
        s.push_str(&format!("\"S{n}\": {{\"type\": \"string\"}}}}}}}}"));
        s
    };
    let mut props = String::new();
    for i in 0..100_000 {
        if i > 0 {
            props.push_str(", ");
        }
        props.push_str(&format!("\"p{i}\": {{\"type\": \"string\"}}"));
    }
    let big = "x".repeat(100_000);
    let mut cycle = String::from(
        "openapi: 3.0.3\ninfo: {title: t, version: \"1\"}\npaths: {}\ncomponents:\n  schemas:\n",
    );
    for i in 0..130 {
        cycle.push_str(&format!(
            "    S{i}: {{type: object, properties: {{next: {{$ref: '#/components/schemas/S{}'}}}}}}\n",
            (i + 1) % 130
        ));
    }
    vec![
        (
            w(
                "T2-timeout-deep-yaml-flow.yaml",
                format!(
                    "openapi: 3.0.3\nx: {}{}\n",
                    "[".repeat(100_000),
                    "]".repeat(100_000)
                ),
            ),
            Error("nest deeper than 128", Some(2)),
        ),
        (
            w("T3-timeout-long-schema-chain.json", chain(10_000)),
            Error("nested types", Some(1)),
        ),
        (
            w("C1-crash-stack-overflow-schema-chain.json", chain(100_000)),
            Error("nested types", Some(1)),
        ),
        (
            w(
                "T4-timeout-100k-properties.json",
                format!(
                    "{{\"openapi\": \"3.0.3\", \"info\": {{\"title\": \"t\", \"version\": \"1\"}}, \"paths\": {{}}, \"components\": {{\"schemas\": {{\"Huge\": {{\"type\": \"object\", \"properties\": {{{props}}}}}}}}}}}"
                ),
            ),
            Generates,
        ),
        (
            w(
                "M1-memory-alias-amplification.yaml",
                format!(
                    "openapi: 3.0.3\ninfo: {{title: t, version: \"1\"}}\npaths: {{}}\nx-big: &big \"{big}\"\nx-refs: [{}]\n",
                    vec!["*big"; 30_000].join(", ")
                ),
            ),
            Error("aliases expand to more than", Some(5)),
        ),
        (
            w("CF5b-struct-cycle-130.yaml", cycle),
            Error("nested types", Some(6)),
        ),
    ]
}

fn check_error(path: &Path, err: &gouvgen::Error, text: &str, line: Option<usize>) {
    let diags = err.diagnostics();
    let d = diags
        .iter()
        .find(|d| d.message.contains(text))
        .unwrap_or_else(|| {
            panic!(
                "{}: expected an error containing {text:?}, got: {err}",
                path.display()
            )
        });
    assert_eq!(
        d.location.file,
        path,
        "{}: error names another file: {d}",
        path.display()
    );
    assert!(
        d.hint.is_some(),
        "{}: error without help: {d}",
        path.display()
    );
    let (l, _) = d
        .location
        .line_col
        .unwrap_or_else(|| panic!("{}: error without a line: {d}", path.display()));
    if let Some(want) = line {
        assert_eq!(l, want, "{}: wrong line: {d}", path.display());
    }
}

#[test]
fn every_reproducer_is_a_located_error_or_a_lint_clean_crate() {
    let Some(repros) = repros_dir() else { return };
    let scratch = tempfile::tempdir().unwrap();
    // M2 names itself as `../repro/M2-…`: it must sit in a folder called `repro`.
    let repro_dir = scratch.path().join("repro");
    std::fs::create_dir_all(&repro_dir).unwrap();
    let m2 = repro_dir.join("M2-external-inline-fanout.yaml");
    std::fs::copy(repros.join("M2-external-inline-fanout.yaml"), &m2).unwrap();

    let mut cases: Vec<(PathBuf, Expect)> = Vec::new();
    for (name, expect) in REPROS {
        let e = match expect {
            Compiles => Compiles,
            Generates => Generates,
            Error(t, l) => Error(t, *l),
        };
        cases.push((repros.join(name), e));
    }
    cases.push((m2, Compiles));
    cases.extend(write_big_repros(scratch.path()));
    let fixtures = repo_root().join("generator/tests/fixtures/robustness");
    for (name, expect) in FIXTURES {
        let e = match expect {
            Compiles => Compiles,
            Generates => Generates,
            Error(t, l) => Error(t, *l),
        };
        cases.push((fixtures.join(name), e));
    }
    // Every reproducer of the folder is covered (the big ones by the writer above).
    for entry in std::fs::read_dir(&repros).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".yaml") || name.ends_with(".json") {
            assert!(
                cases
                    .iter()
                    .any(|(p, _)| p.file_name().unwrap().to_string_lossy() == name),
                "reproducer {name} has no expectation in this test"
            );
        }
    }

    let mut ws = ScratchWorkspace::new("repros");
    for (path, expect) in &cases {
        let read = gouvgen::read_spec(path);
        match (expect, read) {
            (Error(text, line), Err(e)) => check_error(path, &e, text, *line),
            (Error(text, _), Ok(_)) => {
                panic!("{}: accepted, expected an error {text:?}", path.display())
            }
            (Compiles | Generates, Err(e)) => panic!("{}: refused: {e}", path.display()),
            (Generates, Ok(spec)) => {
                let files = gouvgen::generate_files(&spec, &gouvgen::CrateSettings::new("huge"))
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert!(files["src/types.rs"].contains("pub p99999: Option<String>"));
            }
            (Compiles, Ok(_)) => {
                let stem = path
                    .file_stem()
                    .unwrap()
                    .to_string_lossy()
                    .to_ascii_lowercase();
                let name = format!("repro-{}", gouvgen::naming::snake(&stem).replace('_', "-"));
                ws.add(path, &name)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
        }
    }
    ws.finish();
    let (ok, output) = ws.cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--keep-going",
        "--quiet",
        "--",
        "-D",
        "warnings",
    ]);
    assert!(
        ok,
        "generated crates do not compile lint-clean:\n{}",
        diagnostics(&output, 80)
    );
    assert!(
        !output.contains("warning"),
        "warnings:\n{}",
        diagnostics(&output, 80)
    );
}
