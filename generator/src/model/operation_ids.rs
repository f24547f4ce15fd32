//! Where an operation's name comes from when the document gives no `operationId`.
//!
//! The official API Entreprise v3 and API Particulier v3 documents put the provider's name of
//! each operation in `x-operationId` inside its success response, and every one of them
//! starts with the same `api_entreprise_v3_`-style prefix. Reading it there (and dropping the
//! prefix every operation shares) gives the names the provider's own documentation uses,
//! instead of names built from paths.

use serde_json::Value;

use super::types::escape;
use crate::oas::{Body, Operation};

/// The `x-operationId` of an operation without `operationId`: on the operation itself, or in
/// its first `2XX` response that has one. Returns the name and, for the response case, the
/// pointer of that response (relative to the operation) for the warning.
pub(super) fn x_operation_id<'v>(
    op: Operation<'v>,
    deref: impl Fn(&'v Value) -> &'v Value,
) -> Option<(&'v str, Option<String>)> {
    if let Some(id) = op.x_operation_id() {
        return Some((id, None));
    }
    op.responses()?
        .iter()
        .filter(|(status, _)| status.starts_with('2'))
        .find_map(|(status, response)| {
            let id = Body(deref(response)).x_operation_id()?;
            Some((id, Some(format!("/responses/{}", escape(status)))))
        })
}

/// The longest prefix ending in `_` that every name shares, when there are at least two
/// names and each keeps something after it.
pub(super) fn shared_prefix<'n>(names: &[&'n str]) -> Option<&'n str> {
    let (first, rest) = names.split_first()?;
    if rest.is_empty() {
        return None;
    }
    let mut len = first.len();
    for name in rest {
        len = first
            .bytes()
            .zip(name.bytes())
            .take(len)
            .take_while(|(a, b)| a == b)
            .count();
    }
    let cut = first[..len].rfind('_')? + 1;
    names.iter().all(|n| n.len() > cut).then_some(&first[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn name_from_the_success_response_when_the_operation_has_none() {
        let op = json!({"responses": {"400": {"x-operationId": "no"}, "200": {"x-operationId": " a_b "}}});
        assert_eq!(
            x_operation_id(Operation(&op), |v| v),
            Some(("a_b", Some("/responses/200".into())))
        );
        let op = json!({"x-operationId": "own", "responses": {"200": {"x-operationId": "x"}}});
        assert_eq!(x_operation_id(Operation(&op), |v| v), Some(("own", None)));
        assert_eq!(
            x_operation_id(Operation(&json!({"responses": {}})), |v| v),
            None
        );
    }

    #[test]
    fn prefix_shared_by_every_name_at_a_word_boundary() {
        let names = [
            "api_entreprise_v3_insee_unites_legales",
            "api_entreprise_v3_acoss",
            "api_entreprise_vrivileges_",
        ];
        assert_eq!(shared_prefix(&names), Some("api_entreprise_"));
        assert_eq!(shared_prefix(&["a_b", "a_c"]), Some("a_"));
        assert_eq!(shared_prefix(&["a_b"]), None);
        assert_eq!(shared_prefix(&["ab_c", "ab_"]), None);
        assert_eq!(shared_prefix(&["abc", "abd"]), None);
    }
}
