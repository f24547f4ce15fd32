//! Real-spec coverage: every document of ../shared/corpus, and the generator's fixtures,
//! become crates that pass `cargo clippy -D warnings` and `cargo doc` with rustdoc's lints
//! denied (the documents' text is escaped, no lint is allowed), and the documents' own
//! examples decode into the generated types (`cargo test` of the generated `tests/examples.rs`).

use gouvgen_tests::schema_check::contradicting_examples;
use gouvgen_tests::{
    ScratchWorkspace, corpus_documents, corpus_or_skip, crate_name_for, diagnostics, repo_root,
};

/// The validator that decides which examples are left out must itself tell valid from
/// invalid, or the examples test would prove nothing.
#[test]
fn schema_check_rejects_contradicting_examples_and_keeps_valid_ones() {
    let Some(corpus) = corpus_or_skip("schema_check_rejects_contradicting_examples") else {
        return;
    };
    let judilibre = corpus.join("piste/judilibre.json");
    let bad = contradicting_examples(&judilibre);
    // searchHighlight's example is a map of fragments; its schema requires `key` and `value`.
    assert!(
        bad.contains("/components/schemas/searchHighlight/example"),
        "{bad:?}"
    );
    let all =
        gouvgen::emit::examples::example_checks(&gouvgen::read_spec(&judilibre).unwrap().api).len();
    assert!(
        bad.len() < all,
        "some judilibre examples are valid: {} of {all} rejected",
        bad.len()
    );

    let v3 = corpus.join("api-entreprise/api-entreprise-v3.yaml");
    let checks =
        gouvgen::emit::examples::example_checks(&gouvgen::read_spec(&v3).unwrap().api).len();
    let bad = contradicting_examples(&v3);
    assert!(
        checks > 400 && bad.len() * 10 < checks,
        "API Entreprise v3: {} of {checks} examples rejected",
        bad.len()
    );
}

#[test]
fn corpus_and_fixtures_compile_lint_clean_and_decode_their_examples() {
    // Without the corpus, the fixtures are still compiled, linted and tested.
    let with_corpus =
        corpus_or_skip("corpus_and_fixtures_compile_lint_clean (corpus part)").is_some();
    let docs = corpus_documents();
    assert!(
        !with_corpus || docs.len() >= 16,
        "expected the corpus next to the repository (../shared/corpus), found {} documents",
        docs.len()
    );
    let mut ws = ScratchWorkspace::new("corpus");
    for doc in &docs {
        ws.add(doc, &crate_name_for(doc))
            .unwrap_or_else(|e| panic!("{}: {e}", doc.display()));
    }
    let fixtures = repo_root().join("generator/tests/fixtures");
    for name in [
        "openapi31.yaml",
        "unions.yaml",
        "names.yaml",
        "bodies.json",
        "external/main.yaml",
        "no-operations.yaml",
    ] {
        let crate_name = format!(
            "fixture-{}",
            gouvgen::naming::snake(name.split(['.', '/']).next().unwrap()).replace('_', "-")
        );
        ws.add(&fixtures.join(name), &crate_name)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
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
        "generated crates do not pass clippy:\n{}",
        diagnostics(&output, 80)
    );
    assert!(
        !output.contains("warning"),
        "generated crates have warnings:\n{}",
        diagnostics(&output, 80)
    );

    let (ok, output) = ws.cargo(&[
        "doc",
        "--workspace",
        "--no-deps",
        "--quiet",
        "--config",
        "build.rustdocflags=[\"-D\", \"warnings\"]",
    ]);
    assert!(
        ok && !output.contains("warning"),
        "generated crates' docs do not pass rustdoc's lints:\n{}",
        diagnostics(&output, 80)
    );

    let (ok, output) = ws.cargo(&["test", "--workspace", "--quiet", "--no-fail-fast"]);
    assert!(
        ok,
        "examples of the documents do not decode into the generated types:\n{}",
        diagnostics(&output, 120)
    );
}

/// The official API Entreprise v3 document has no `operationId`: each operation's name is
/// the provider's `x-operationId`, found in its `200` response, less the prefix they share.
#[test]
fn api_entreprise_v3_gives_the_providers_operation_names() {
    let test = "api_entreprise_v3_gives_the_providers_operation_names";
    let Some(corpus) = gouvgen_tests::corpus_or_skip(test) else {
        return;
    };
    let spec = gouvgen::read_spec(&corpus.join("api-entreprise/api-entreprise-v3.yaml")).unwrap();
    let names: Vec<&str> = spec
        .api
        .operations
        .iter()
        .map(|o| o.method_name.as_str())
        .collect();
    assert!(names.contains(&"v3_insee_unites_legales"), "{names:?}");
    assert!(names.iter().all(|n| !n.starts_with("get_")), "{names:?}");
    assert!(
        names.iter().all(|n| !n.starts_with("api_entreprise_")),
        "{names:?}"
    );
    let warned = spec
        .warnings
        .iter()
        .filter(|w| {
            w.message
                .contains("after the `x-operationId` of its response")
        })
        .count();
    assert_eq!(warned, names.len(), "one located warning per operation");
}
