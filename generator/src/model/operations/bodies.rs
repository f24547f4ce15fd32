//! Request bodies and responses of an operation: which media type is read or sent, and the
//! type of each body.

use serde_json::Value;

use super::super::types::{Prim, TypeRef, doc_of, escape};
use super::{
    BodyKind, Builder, MultipartField, RequestBody, ResponseCase, ResponseKind, SchemaIssue,
    StatusMatch,
};
use crate::naming::{Namer, pascal, snake};
use crate::oas::{self, Body, Media, Schema};

impl Builder<'_> {
    pub(super) fn request_body(
        &mut self,
        body: &Value,
        pointer: &str,
        prefix: &str,
    ) -> Option<RequestBody> {
        let content = Body(body).content()?;
        let (media_type, media) = pick_request_media(content)?;
        let media_ptr = format!("{pointer}/content/{}", escape(&media_type));
        let schema = Media(&media).schema().cloned().unwrap_or(Value::Null);
        let hint = format!("{prefix}Body");
        let required = Body(body).required();
        let doc = doc_of(body);
        let kind = media_kind(&media_type);
        let (kind, ty) = match kind {
            MediaKind::Json => (
                BodyKind::Json,
                self.reader
                    .read(&schema, &format!("{media_ptr}/schema"), &hint, 0),
            ),
            MediaKind::Form => (
                BodyKind::Form,
                self.reader
                    .read(&schema, &format!("{media_ptr}/schema"), &hint, 0),
            ),
            MediaKind::Multipart => (
                BodyKind::Multipart(self.multipart_fields(
                    &schema,
                    &format!("{media_ptr}/schema"),
                    &hint,
                )),
                TypeRef::Prim(Prim::Any),
            ),
            MediaKind::Text => (BodyKind::Text, TypeRef::Prim(Prim::String)),
            MediaKind::Bytes => (BodyKind::Bytes, TypeRef::Prim(Prim::Binary)),
        };
        let ty = match ty {
            TypeRef::Option(inner) => *inner,
            other => other,
        };
        Some(RequestBody {
            media_type,
            kind,
            ty,
            required,
            doc,
        })
    }

    fn multipart_fields(
        &mut self,
        schema: &Value,
        pointer: &str,
        hint: &str,
    ) -> Vec<MultipartField> {
        let schema = Schema(self.deref(schema));
        let required: Vec<&str> = schema.required_names().collect();
        let mut names = Namer::default();
        let mut out = Vec::new();
        for (name, prop) in schema.properties().into_iter().flatten() {
            let prop_ptr = format!("{pointer}/properties/{}", escape(name));
            let prop = self.deref(prop).clone();
            let view = Schema(&prop);
            let is_file = view.format() == Some("binary")
                || view.type_str() == Some("file")
                || view.items().and_then(|i| Schema(i).format()) == Some("binary");
            let ty = if is_file {
                TypeRef::Prim(Prim::Binary)
            } else {
                self.reader
                    .read(&prop, &prop_ptr, &format!("{hint}{}", pascal(name)), 0)
            };
            let ty = match ty {
                TypeRef::Option(inner) => *inner,
                other => other,
            };
            out.push(MultipartField {
                name: name.clone(),
                rust_name: names.unique(&snake(name), "_"),
                ty,
                is_file,
                required: required.contains(&name.as_str()),
                doc: doc_of(&prop),
            });
        }
        out
    }

    pub(super) fn responses(
        &mut self,
        op: oas::Operation<'_>,
        pointer: &str,
        prefix: &str,
    ) -> (Vec<ResponseCase>, Vec<ResponseCase>) {
        let mut cases: Vec<(StatusMatch, Value, String)> = Vec::new();
        for (code, r) in op.responses().into_iter().flatten() {
            let Some(status) = parse_status(code) else {
                self.reader.issues.push(SchemaIssue {
                    pointer: format!("{pointer}/responses/{}", escape(code)),
                    message: format!("`{code}` is not an HTTP status; response ignored"),
                    hint: "use a status code such as 200, a range such as 4XX, or default".into(),
                    fatal: false,
                });
                continue;
            };
            if let Some((_, _, first)) = cases.iter().find(|(s, _, _)| *s == status) {
                self.reader.issues.push(SchemaIssue {
                    pointer: format!("{pointer}/responses/{}", escape(code)),
                    message: format!(
                        "`{code}` describes the same statuses as #{first}; this one is ignored"
                    ),
                    hint: "keep one response per status".into(),
                    fatal: false,
                });
                continue;
            }
            let ptr = format!("{pointer}/responses/{}", escape(code));
            let resolved = self.deref(r).clone();
            cases.push((status, resolved, ptr));
        }
        cases.sort_by_key(|(s, _, _)| *s);
        let has_success = cases
            .iter()
            .any(|(s, _, _)| matches!(s, StatusMatch::Code(200..=299) | StatusMatch::Range(2)));
        let success_count = cases
            .iter()
            .filter(|(s, _, _)| matches!(s, StatusMatch::Code(200..=299) | StatusMatch::Range(2)))
            .count();
        let mut success = Vec::new();
        let mut errors = Vec::new();
        for (status, response, ptr) in cases {
            let is_success = match status {
                StatusMatch::Code(c) => (200..300).contains(&c),
                StatusMatch::Range(d) => d == 2,
                StatusMatch::Default => !has_success,
            };
            let variant = match status {
                StatusMatch::Code(c) => format!("Status{c}"),
                StatusMatch::Range(d) => format!("Status{d}xx"),
                StatusMatch::Default => "Default".into(),
            };
            let hint = if is_success {
                if success_count > 1 {
                    format!("{prefix}Response{}", variant.trim_start_matches("Status"))
                } else {
                    format!("{prefix}Response")
                }
            } else {
                format!("{prefix}{variant}")
            };
            let case = self.response_case(&response, &ptr, status, variant, &hint);
            if is_success {
                success.push(case);
            } else if case.kind != ResponseKind::Empty {
                errors.push(case);
            }
        }
        (success, errors)
    }

    fn response_case(
        &mut self,
        response: &Value,
        pointer: &str,
        status: StatusMatch,
        variant: String,
        hint: &str,
    ) -> ResponseCase {
        let doc = Body(response).description().map(str::to_string);
        let Some((media_type, media)) = Body(response).content().and_then(pick_response_media)
        else {
            return ResponseCase {
                status,
                variant,
                media_type: None,
                kind: ResponseKind::Empty,
                ty: None,
                doc,
                examples: Vec::new(),
            };
        };
        let media_ptr = format!("{pointer}/content/{}", escape(&media_type));
        let media = Media(&media);
        let schema = media.schema();
        let kind = match media_kind(&media_type) {
            MediaKind::Json if schema.is_some() => ResponseKind::Json,
            MediaKind::Json => ResponseKind::Text,
            MediaKind::Text => ResponseKind::Text,
            MediaKind::Form | MediaKind::Multipart | MediaKind::Bytes => {
                // `*/*` and friends with a JSON schema are JSON in practice.
                if media_type == "*/*"
                    && schema.is_some_and(|s| Schema(s).type_str() != Some("string"))
                {
                    ResponseKind::Json
                } else {
                    ResponseKind::Bytes
                }
            }
        };
        let ty = match kind {
            ResponseKind::Json => Some(self.reader.read(
                schema.unwrap_or(&Value::Null),
                &format!("{media_ptr}/schema"),
                hint,
                0,
            )),
            _ => None,
        };
        let mut examples = Vec::new();
        if let Some(ex) = media.example() {
            examples.push((format!("{media_ptr}/example"), ex.clone()));
        }
        for (name, ex) in media.examples().into_iter().flatten() {
            if let Some(v) = Media::example_value(self.deref(ex)) {
                examples.push((
                    format!("{media_ptr}/examples/{}/value", escape(name)),
                    v.clone(),
                ));
            }
        }
        ResponseCase {
            status,
            variant,
            media_type: Some(media_type),
            kind,
            ty,
            doc,
            examples,
        }
    }
}

/// A response key: `200`, `4XX` / `4xx`, `default`. Anything else (`+404`, `éxx`) is not one.
fn parse_status(code: &str) -> Option<StatusMatch> {
    if code == "default" {
        return Some(StatusMatch::Default);
    }
    let b = code.as_bytes();
    if b.len() != 3 || !b[0].is_ascii_digit() {
        return None;
    }
    let first = u16::from(b[0] - b'0');
    if b[1..].eq_ignore_ascii_case(b"xx") {
        return (1..=5)
            .contains(&first)
            .then_some(StatusMatch::Range(first));
    }
    if b[1..].iter().all(u8::is_ascii_digit) {
        let n: u16 = code.parse().ok()?;
        return (100..600).contains(&n).then_some(StatusMatch::Code(n));
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MediaKind {
    Json,
    Form,
    Multipart,
    Text,
    Bytes,
}

fn media_kind(media_type: &str) -> MediaKind {
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json"
        || essence.ends_with("+json")
        || essence == "text/json"
        || essence == "application/problem+json"
    {
        MediaKind::Json
    } else if essence == "application/x-www-form-urlencoded" {
        MediaKind::Form
    } else if essence.starts_with("multipart/") {
        MediaKind::Multipart
    } else if essence.starts_with("text/") {
        MediaKind::Text
    } else {
        MediaKind::Bytes
    }
}

/// JSON first, then form, multipart, bytes, text; `*/*` with a schema counts as JSON.
fn pick_request_media(content: &serde_json::Map<String, Value>) -> Option<(String, Value)> {
    let rank = |mt: &str| match media_kind(mt) {
        MediaKind::Json => 0,
        MediaKind::Form => 1,
        MediaKind::Multipart => 2,
        MediaKind::Bytes if mt == "*/*" => 0,
        MediaKind::Bytes => 3,
        MediaKind::Text => 4,
    };
    content
        .iter()
        .min_by_key(|(mt, _)| rank(mt))
        .map(|(mt, m)| {
            let mt = if mt == "*/*" {
                "application/json".to_string()
            } else {
                mt.clone()
            };
            (mt, m.clone())
        })
}

fn pick_response_media(content: &serde_json::Map<String, Value>) -> Option<(String, Value)> {
    let rank = |mt: &str| match media_kind(mt) {
        MediaKind::Json => 0,
        MediaKind::Bytes if mt == "*/*" => 1,
        MediaKind::Text => 2,
        _ => 3,
    };
    content
        .iter()
        .min_by_key(|(mt, _)| rank(mt))
        .map(|(mt, m)| (mt.clone(), m.clone()))
}
