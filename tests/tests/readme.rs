//! The README's per-gateway snippets are the generated crates' compiled doctests, line for line.

use gouvgen_tests::repo_root;

#[test]
fn readme_snippets_are_compiled_doctests() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let mut found = 0;
    let mut rest = readme.as_str();
    while let Some(start) = rest.find("```rust,") {
        let after = &rest[start + "```rust,".len()..];
        let (krate, body) = after.split_once('\n').unwrap();
        let end = body.find("```").unwrap();
        let snippet = &body[..end];
        let lib =
            std::fs::read_to_string(repo_root().join("generated").join(krate).join("src/lib.rs"))
                .unwrap_or_else(|e| panic!("README names crate {krate}: {e}"));
        let doctest: Vec<&str> = lib
            .lines()
            .filter_map(|l| l.strip_prefix("//! ").or(l.strip_prefix("//!")))
            .collect();
        let lines: Vec<&str> = snippet.lines().collect();
        let at = doctest
            .windows(lines.len().saturating_sub(1).max(1))
            .position(|w| w == &lines[..lines.len() - 1]);
        assert!(
            at.is_some(),
            "README snippet for {krate} is not in its doctest:\n{snippet}"
        );
        assert!(
            doctest.contains(lines.last().unwrap()),
            "README call for {krate} is not in its doctest: {}",
            lines.last().unwrap()
        );
        found += 1;
        rest = &body[end + 3..];
    }
    assert_eq!(found, 5, "one snippet per gateway");
}
