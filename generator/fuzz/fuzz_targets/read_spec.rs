//! Any bytes, read as a document (JSON when the first byte is `{`, YAML otherwise) and, when
//! accepted, generated into a crate's files: nothing may panic, overflow the stack or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("temp dir");
    let ext = if data.first() == Some(&b'{') { "json" } else { "yaml" };
    let path = dir.path().join(format!("doc.{ext}"));
    std::fs::write(&path, data).expect("written");
    if let Ok(spec) = gouvgen::read_spec(&path) {
        let _ = gouvgen::generate_files(&spec, &gouvgen::CrateSettings::new("fuzzed"));
    }
});
