//! The compile-proof suite: single-change pairs of documents, each generated into an old and a
//! new crate; a consumer written against the old crate is compiled against the new one, and
//! `gouvgen diff`'s verdict must be what the compiler says. Every pair compiles in one scratch
//! workspace (one target dir), so dependencies build once.

use std::collections::BTreeSet;
use std::path::Path;

use gouvgen_tests::{ScratchWorkspace, diagnostics, repo_root};
use serde_json::{Value, json};

struct Pair {
    name: &'static str,
    /// Breaks code written against the old crate.
    breaks: bool,
    change: fn(&mut Value),
}

fn at<'a>(doc: &'a mut Value, pointer: &str) -> &'a mut Value {
    doc.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("no {pointer} in the base document"))
}

fn push_param(doc: &mut Value, op: &str, param: Value) {
    let op = at(doc, op);
    let list = op
        .as_object_mut()
        .expect("operation")
        .entry("parameters")
        .or_insert_with(|| json!([]));
    list.as_array_mut().expect("parameters").push(param);
}

const PING: &str = "/paths/~1ping/get";
const LIRE: &str = "/paths/~1dossiers~1{id}/get";
const CREER: &str = "/paths/~1dossiers/post";
const PIECES: &str = "/paths/~1dossiers~1{id}~1pieces/get";
const SCHEMAS: &str = "/components/schemas";

fn erreur_response() -> Value {
    json!({"description": "erreur", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Erreur"}}}})
}

fn pairs() -> Vec<Pair> {
    vec![
        Pair {
            name: "first-optional-query-parameter",
            breaks: false,
            change: |d| {
                push_param(
                    d,
                    PING,
                    json!({"name": "echo", "in": "query", "schema": {"type": "string"}}),
                )
            },
        },
        Pair {
            name: "another-optional-query-parameter",
            breaks: false,
            change: |d| {
                push_param(
                    d,
                    LIRE,
                    json!({"name": "page", "in": "query", "schema": {"type": "integer"}}),
                )
            },
        },
        Pair {
            name: "required-query-parameter",
            breaks: true,
            change: |d| {
                push_param(
                    d,
                    PING,
                    json!({"name": "echo", "in": "query", "required": true, "schema": {"type": "string"}}),
                )
            },
        },
        Pair {
            name: "optional-parameter-becomes-required",
            breaks: true,
            change: |d| at(d, LIRE)["parameters"][1]["required"] = json!(true),
        },
        Pair {
            name: "optional-field-in-request-body",
            breaks: false,
            change: |d| {
                at(d, &format!("{SCHEMAS}/NouveauDossier/properties"))["priorite"] =
                    json!({"type": "integer"})
            },
        },
        Pair {
            name: "optional-field-in-response",
            breaks: false,
            change: |d| {
                at(d, &format!("{SCHEMAS}/Dossier/properties"))["emisLe"] =
                    json!({"type": "string", "format": "date"})
            },
        },
        Pair {
            name: "required-field-in-request-body",
            breaks: true,
            change: |d| {
                let s = at(d, &format!("{SCHEMAS}/NouveauDossier"));
                s["properties"]["service"] = json!({"type": "string"});
                s["required"] = json!(["titre", "service"]);
            },
        },
        Pair {
            name: "required-field-in-defaultable-struct",
            breaks: true,
            change: |d| {
                let s = at(d, &format!("{SCHEMAS}/Dossier/properties/detail"));
                s["properties"]["nature"] = json!({"type": "string"});
                s["required"] = json!(["nature"]);
            },
        },
        Pair {
            name: "field-removed",
            breaks: true,
            change: |d| {
                at(d, &format!("{SCHEMAS}/Dossier/properties"))
                    .as_object_mut()
                    .unwrap()
                    .remove("montant");
            },
        },
        Pair {
            name: "field-type-changed",
            breaks: true,
            change: |d| {
                at(d, &format!("{SCHEMAS}/Dossier/properties/montant"))["format"] = json!("int32")
            },
        },
        Pair {
            name: "enum-value-added",
            breaks: false,
            change: |d| {
                at(d, &format!("{SCHEMAS}/Statut"))["enum"] = json!(["ouvert", "ferme", "annulee"])
            },
        },
        Pair {
            name: "enum-value-removed",
            breaks: true,
            change: |d| at(d, &format!("{SCHEMAS}/Statut"))["enum"] = json!(["ouvert"]),
        },
        Pair {
            name: "first-documented-error-body",
            breaks: false,
            change: |d| at(d, &format!("{PING}/responses"))["400"] = erreur_response(),
        },
        Pair {
            name: "same-error-body-another-status",
            breaks: false,
            change: |d| at(d, &format!("{LIRE}/responses"))["400"] = erreur_response(),
        },
        Pair {
            name: "new-error-body-type",
            breaks: false,
            change: |d| {
                at(d, SCHEMAS)["Panne"] =
                    json!({"type": "object", "properties": {"cause": {"type": "string"}}});
                at(d, &format!("{LIRE}/responses"))["503"] = json!({"description": "panne", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Panne"}}}});
            },
        },
        Pair {
            // The 429 stays `rt::Error::RateLimited`: only `rate_limited_body()` becomes `None`.
            name: "rate-limited-body-undocumented",
            breaks: false,
            change: |d| {
                let r = at(d, &format!("{LIRE}/responses")).as_object_mut().unwrap();
                r.remove("429");
            },
        },
        Pair {
            name: "error-body-removed",
            breaks: true,
            change: |d| {
                let r = at(d, &format!("{LIRE}/responses")).as_object_mut().unwrap();
                r.remove("404");
                r.remove("429");
            },
        },
        Pair {
            name: "inline-type-renamed",
            breaks: true,
            change: |d| {
                let inline = at(d, &format!("{SCHEMAS}/Dossier/properties/detail")).take();
                at(d, SCHEMAS)["Detail"] = inline;
                at(d, &format!("{SCHEMAS}/Dossier/properties"))["detail"] =
                    json!({"$ref": "#/components/schemas/Detail"});
            },
        },
        Pair {
            name: "operation-added",
            breaks: false,
            change: |d| {
                at(d, "/paths")["/stats"] = json!({"get": {"operationId": "stats", "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object", "properties": {"total": {"type": "integer"}}}}}}}}});
            },
        },
        Pair {
            name: "operation-removed",
            breaks: true,
            change: |d| {
                at(d, "/paths").as_object_mut().unwrap().remove("/ping");
            },
        },
        Pair {
            name: "response-media-type-changed",
            breaks: false,
            change: |d| {
                let content = at(d, &format!("{CREER}/responses/201/content"))
                    .as_object_mut()
                    .unwrap();
                let v = content.remove("application/json").unwrap();
                content.insert("application/vnd.dossiers.v2+json".into(), v);
            },
        },
        // A success enum is `#[non_exhaustive]`: a new success status is a new variant that a
        // caller's `match` (with its required `_` arm) absorbs.
        Pair {
            name: "success-status-added",
            breaks: false,
            change: |d| {
                let responses = at(d, &format!("{PIECES}/responses"));
                responses.as_object_mut().unwrap().insert(
                    "202".into(),
                    json!({"description": "en cours", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Erreur"}}}}),
                );
            },
        },
        // The catch-all stays `Unknown(String)`; the new value is `UnknownValue`.
        Pair {
            name: "enum-value-named-unknown",
            breaks: false,
            change: |d| {
                let values = at(d, &format!("{SCHEMAS}/Statut/enum"));
                values.as_array_mut().unwrap().push(json!("UNKNOWN"));
            },
        },
        // Arguments are positional: a path parameter renamed with its template breaks no one.
        Pair {
            name: "path-parameter-renamed-in-template",
            breaks: false,
            change: |d| {
                let paths = at(d, "/paths").as_object_mut().unwrap();
                let item = paths.remove("/dossiers/{id}").unwrap();
                paths.insert("/dossiers/{dossierId}".into(), item);
                *at(d, "/paths/~1dossiers~1{dossierId}/get/parameters/0/name") = json!("dossierId");
            },
        },
    ]
}

fn write(dir: &Path, name: &str, doc: &Value) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(doc).unwrap()).unwrap();
    path
}

fn consumer(ws: &ScratchWorkspace, name: &str, api: &str) {
    let dir = ws.dir.join(name);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\napi = {{ package = \"{api}\", path = \"../{api}\" }}\n"
        ),
    )
    .unwrap();
    std::fs::copy(
        repo_root().join("tests/fixtures/semver/consumer.rs"),
        dir.join("src/lib.rs"),
    )
    .unwrap();
}

/// With `GOUVGEN_SEMVER_PAIRS_OUT=<dir>` (scripts/semver-check.sh sets it), keeps each pair's
/// documents and the bump `sync` would make, for cargo-semver-checks to judge independently.
fn export_pair(old: &Path, new: &Path, name: &str, bump: gouvgen::diff::Bump) {
    let Some(out) = std::env::var_os("GOUVGEN_SEMVER_PAIRS_OUT") else {
        return;
    };
    let out = Path::new(&out);
    std::fs::create_dir_all(out).unwrap();
    std::fs::copy(old, out.join(format!("{name}.old.json"))).unwrap();
    std::fs::copy(new, out.join(format!("{name}.new.json"))).unwrap();
    std::fs::write(out.join(format!("{name}.bump")), format!("{bump}\n")).unwrap();
}

/// Packages whose own code had a compile error, from `cargo check --message-format json`.
fn failed_packages(output: &str) -> BTreeSet<String> {
    output
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-message" && m["message"]["level"] == "error")
        .filter_map(|m| m["target"]["name"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn diff_verdicts_match_the_compiler() {
    let base: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("tests/fixtures/semver/base.json")).unwrap(),
    )
    .unwrap();
    let pairs = pairs();
    assert!(pairs.len() >= 15);
    let mut ws = ScratchWorkspace::new("semver-pairs");
    let docs = ws.dir.join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    let old_path = write(&docs, "base", &base);
    let old = ws.add(&old_path, "pair-base").expect("base generates");
    consumer(&ws, "consumer-base", "pair-base");
    let mut verdicts = Vec::new();
    for (i, p) in pairs.iter().enumerate() {
        let mut doc = base.clone();
        (p.change)(&mut doc);
        let path = write(&docs, p.name, &doc);
        let krate = format!("pair-{i:02}");
        let new = ws
            .add(&path, &krate)
            .unwrap_or_else(|e| panic!("{}: {e}", p.name));
        let report = gouvgen::diff::compare(&old.api, &new.api);
        export_pair(&old_path, &path, p.name, report.bump);
        consumer(&ws, &format!("consumer-{i:02}"), &krate);
        verdicts.push((report.breaking() > 0, report.to_text()));
    }
    ws.finish_with_extra(
        &["consumer-base"],
        &(0..pairs.len())
            .map(|i| format!("consumer-{i:02}"))
            .collect::<Vec<_>>(),
    );
    let (_, output) = ws.cargo(&[
        "check",
        "--workspace",
        "--keep-going",
        "--message-format",
        "json",
    ]);
    let failed = failed_packages(&output);
    assert!(
        !failed
            .iter()
            .any(|p| p.starts_with("pair_") || p.starts_with("pair-")),
        "every generated crate compiles: {failed:?}\n{}",
        diagnostics(&output, 60)
    );
    assert!(
        !failed.contains("consumer_base"),
        "the consumer compiles against the base crate: {}",
        diagnostics(&output, 60)
    );
    // The consumer's `_` arm on the success enum is required, not a courtesy: without
    // `#[non_exhaustive]` the strictest caller would match exhaustively, and the
    // `success-status-added` pair would break it.
    let client = std::fs::read_to_string(ws.dir.join("pair-base/src/responses.rs")).unwrap();
    assert!(
        client.contains(
            "#[non_exhaustive]\n#[allow(clippy::large_enum_variant)]\npub enum ListerPiecesSuccess"
        ),
        "the success enum is not #[non_exhaustive]"
    );
    let mut table = String::new();
    let mut wrong = Vec::new();
    for (i, (p, (diff_breaks, text))) in pairs.iter().zip(&verdicts).enumerate() {
        let compiler_breaks = failed.contains(&format!("consumer_{i:02}"));
        table.push_str(&format!(
            "{:<40} expected {:<9} compiler {:<9} diff {}\n",
            p.name,
            if p.breaks { "breaking" } else { "additive" },
            if compiler_breaks {
                "breaking"
            } else {
                "additive"
            },
            if *diff_breaks { "breaking" } else { "additive" },
        ));
        if compiler_breaks != *diff_breaks || compiler_breaks != p.breaks {
            wrong.push(format!("{}:\n{text}", p.name));
        }
    }
    println!("{table}");
    assert!(
        wrong.is_empty(),
        "verdicts disagree:\n{table}\n{}",
        wrong.join("\n")
    );
}
