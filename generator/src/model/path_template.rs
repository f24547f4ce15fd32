//! Path templates: what is wrong with one, Express-style `:name` segments, and which
//! placeholders it has. Kept apart so that the URL a call goes to is decided in one place.

/// What is wrong with a path template, if anything: `{` left open, `}` unopened, `{}`.
pub(super) fn problem(path: &str) -> Option<&'static str> {
    let mut open = false;
    let mut empty = true;
    for c in path.chars() {
        match c {
            '{' if open => return Some("a `{` opens inside another placeholder"),
            '{' => {
                open = true;
                empty = true;
            }
            '}' if !open => return Some("a `}` closes no placeholder"),
            '}' if empty => return Some("a placeholder `{}` has no name"),
            '}' => open = false,
            _ => empty = false,
        }
    }
    open.then_some("a `{` is never closed")
}

/// The placeholder names of a template, in order.
pub(super) fn placeholders(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .filter_map(|s| s.split('}').next())
        .map(str::to_string)
        .collect()
}

/// Rewrites Express-style segments (`/avis/:id`, as some Swagger 2 exporters write them) into
/// `{id}` when `id` is a declared path parameter that the template does not already hold.
/// Returns the new template and the names rewritten; other `:` segments stay literal.
pub(super) fn express_to_braces(path: &str, path_params: &[&str]) -> (String, Vec<String>) {
    let present = placeholders(path);
    let mut rewritten = Vec::new();
    let segments: Vec<String> = path
        .split('/')
        .map(|segment| {
            let Some(rest) = segment.strip_prefix(':') else {
                return segment.to_string();
            };
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let name = &rest[..end];
            let declared = path_params.contains(&name);
            if name.is_empty() || !declared || present.iter().any(|p| p == name) {
                return segment.to_string();
            }
            rewritten.push(name.to_string());
            format!("{{{name}}}{}", &rest[end..])
        })
        .collect();
    (segments.join("/"), rewritten)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn express_segments_become_placeholders_only_for_declared_parameters() {
        let (t, names) = express_to_braces("/api/v1/avis/:id", &["id"]);
        assert_eq!(
            (t.as_str(), names),
            ("/api/v1/avis/{id}", vec!["id".into()])
        );
        let (t, names) = express_to_braces("/a/:id.json/:other", &["id"]);
        assert_eq!(t, "/a/{id}.json/:other");
        assert_eq!(names, vec!["id".to_string()]);
        // Already a placeholder: the literal `:id` is left alone.
        let (t, names) = express_to_braces("/a/{id}/:id", &["id"]);
        assert_eq!((t.as_str(), names.len()), ("/a/{id}/:id", 0));
        // A colon inside a segment (`/v1/items:batch`) is not Express syntax.
        let (t, _) = express_to_braces("/v1/items:batch", &["batch"]);
        assert_eq!(t, "/v1/items:batch");
    }

    #[test]
    fn problems_and_placeholders() {
        assert_eq!(problem("/a/{id"), Some("a `{` is never closed"));
        assert_eq!(problem("/a/{}"), Some("a placeholder `{}` has no name"));
        assert_eq!(problem("/a/{id}/{b}"), None);
        assert_eq!(placeholders("/a/{id}/x/{b}"), vec!["id", "b"]);
    }
}
