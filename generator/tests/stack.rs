//! The pipeline does not depend on the caller's stack: a document nested just inside the
//! documented depth limit reads and generates from a thread with a small stack, as a test
//! thread or an unoptimised build script has (found by the mutation test: 75 nested `items`
//! overflowed a 2 MiB test thread in a debug build).

use gouvgen::model::types::MAX_DEPTH;
use serde_json::{Value, json};

/// A document with two schemas: one nests `depth` arrays, the other as many inline objects as
/// the JSON reader's own limit (128 levels, three per object) lets through.
fn deep_document(depth: usize) -> Value {
    let mut objects = json!({"type": "string"});
    for i in 0..40 {
        objects = json!({"type": "object", "properties": {format!("niveau{i}"): objects}});
    }
    let mut arrays = json!({"type": "string"});
    for _ in 0..depth {
        arrays = json!({"type": "array", "items": arrays});
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Profond", "version": "1.0.0"},
        "paths": {"/profond": {"get": {
            "operationId": "lireProfond",
            "responses": {"200": {"description": "ok", "content": {"application/json": {
                "schema": {"type": "object", "properties": {
                    "tableaux": {"$ref": "#/components/schemas/Tableaux"},
                    "objets": {"$ref": "#/components/schemas/Objets"}
                }}
            }}}}
        }}},
        "components": {"schemas": {"Tableaux": arrays, "Objets": objects}}
    })
}

#[test]
fn a_document_at_the_depth_limit_generates_from_a_small_stack() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profond.json");
    let depth = MAX_DEPTH - 8;
    std::fs::write(&path, deep_document(depth).to_string()).unwrap();
    let generated = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || {
            let spec = gouvgen::read_spec(&path).map_err(|e| e.to_string())?;
            let settings = gouvgen::CrateSettings::new("profond");
            let files = gouvgen::generate_files(&spec, &settings).map_err(|e| e.to_string())?;
            Ok::<_, String>(files.len())
        })
        .unwrap()
        .join()
        .expect("no overflow, no panic");
    let files = generated.expect("inside the depth limit: accepted");
    assert!(files >= 3, "{files} files");
}
