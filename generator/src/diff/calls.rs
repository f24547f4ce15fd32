//! Changes of the client's methods: which exist, their arguments and builder setters, their
//! success and error types, and what the document says of each route that Rust does not see.

use super::{ChangeKind, Differ, rule};
use crate::model::{Api, Operation, ParamIn};
use crate::surface::{ArgSource, Method, RustType, SetterKind, Success, Surface};

impl Differ {
    pub(super) fn methods(&mut self, old: &Api, os: &Surface, new: &Api, ns: &Surface) {
        let route = |op: &Operation| (op.http_method.clone(), route_shape(&op.path));
        let mut renamed = Vec::new();
        for (oi, om) in os.methods.iter().enumerate() {
            let oop = &old.operations[oi];
            let same_name = ns.methods.iter().position(|n| n.name == om.name);
            let by_route = || {
                new.operations.iter().position(|n| {
                    route(n) == route(oop) && !os.methods.iter().any(|o| o.name == n.method_name)
                })
            };
            match same_name.or_else(by_route) {
                Some(ni) => {
                    let nm = &ns.methods[ni];
                    if nm.name != om.name {
                        renamed.push(nm.name.clone());
                        self.rust(
                            true,
                            ChangeKind::OperationRenamed,
                            rule::ITEM_REMOVE,
                            &om.name,
                            format!("{} {} is now `{}`", oop.http_method, oop.path, nm.name),
                        );
                    }
                    self.method(oop, om, &new.operations[ni], nm);
                }
                None => self.rust(
                    true,
                    ChangeKind::OperationRemoved,
                    rule::ITEM_REMOVE,
                    &om.name,
                    format!("{} {} is gone", oop.http_method, oop.path),
                ),
            }
        }
        for (ni, nm) in ns.methods.iter().enumerate() {
            if !os.methods.iter().any(|o| o.name == nm.name) && !renamed.contains(&nm.name) {
                let op = &new.operations[ni];
                self.rust(
                    false,
                    ChangeKind::OperationAdded,
                    rule::ITEM_NEW,
                    &nm.name,
                    format!("{} {}", op.http_method, op.path),
                );
            }
        }
    }

    fn method(&mut self, oop: &Operation, om: &Method, nop: &Operation, nm: &Method) {
        let name = &om.name;
        self.arguments(oop, om, nop, nm);
        self.setters(oop, om, nop, nm);
        self.success(name, &om.success, &nm.success);
        self.errors(name, om, nm);
        if let (Some(a), Some(b)) = (&om.multipart, &nm.multipart) {
            self.structure(&a.name, a, b);
        }
        self.document_facts(name, oop, nop);
    }

    fn arguments(&mut self, oop: &Operation, om: &Method, nop: &Operation, nm: &Method) {
        let args = |op: &Operation, m: &Method| -> Vec<(String, RustType)> {
            (m.args.iter())
                .map(|a| (arg_wire(op, &a.source), a.ty.clone()))
                .collect()
        };
        let (old, new) = (args(oop, om), args(nop, nm));
        let (old_opt, new_opt) = (setter_wires(oop, om), setter_wires(nop, nm));
        for (i, (w, ty)) in old.iter().enumerate() {
            let here = format!("{}.{}", om.name, om.args[i].name);
            match new.iter().position(|(x, _)| x == w) {
                None => self.argument_gone(here, w, new_opt.contains(w)),
                Some(j) if new[j].1 != *ty => self.rust(
                    true,
                    if w == "body" {
                        ChangeKind::RequestBodyChanged
                    } else {
                        ChangeKind::ParameterTypeChanged
                    },
                    rule::TYPE_CHANGE,
                    here,
                    format!("{ty} → {}", new[j].1),
                ),
                Some(j) if j != i => self.rust(
                    true,
                    ChangeKind::ParameterTypeChanged,
                    rule::TYPE_CHANGE,
                    here,
                    "argument moved",
                ),
                Some(_) => {}
            }
        }
        for (j, (w, _)) in new.iter().enumerate() {
            if !old.iter().any(|(x, _)| x == w) {
                let here = format!("{}.{}", om.name, nm.args[j].name);
                self.argument_added(here, w, old_opt.contains(w));
            }
        }
    }

    /// An argument (its place on the wire: `w`) the new method no longer takes; `optional`:
    /// it became a builder setter.
    fn argument_gone(&mut self, here: String, w: &str, optional: bool) {
        let (kind, detail) = if optional {
            (
                ChangeKind::ParameterRequirementChanged,
                "now optional (a builder method, no longer an argument)".to_string(),
            )
        } else if w == "body" {
            (
                ChangeKind::RequestBodyChanged,
                "no longer takes a request body".to_string(),
            )
        } else {
            (ChangeKind::ParameterRemoved, format!("{w} removed"))
        };
        self.rust(true, kind, rule::FN_CHANGE_ARITY, here, detail);
    }

    /// An argument the old method did not take; `was_optional`: it was a builder setter.
    fn argument_added(&mut self, here: String, w: &str, was_optional: bool) {
        let (kind, detail) = if was_optional {
            (
                ChangeKind::ParameterRequirementChanged,
                "now required (an argument)".to_string(),
            )
        } else if w == "body" {
            (
                ChangeKind::RequestBodyChanged,
                "now takes a request body".to_string(),
            )
        } else {
            (
                ChangeKind::RequiredParameterAdded,
                format!("new required {w}"),
            )
        };
        self.rust(true, kind, rule::FN_CHANGE_ARITY, here, detail);
    }

    fn setters(&mut self, oop: &Operation, om: &Method, nop: &Operation, nm: &Method) {
        let name = &om.name;
        let required_now = |w: &str| {
            nm.args.iter().any(|a| match a.source {
                ArgSource::Param(i) => param_wire(nop, i) == w,
                ArgSource::Body => false,
            })
        };
        for s in &om.setters {
            let here = format!("builders::{}::{}", om.builder, s.name);
            match nm.setters.iter().find(|x| x.name == s.name) {
                Some(x) if x.takes == s.takes => {}
                Some(x) => self.rust(
                    true,
                    ChangeKind::ParameterTypeChanged,
                    rule::TYPE_CHANGE,
                    here,
                    format!("{} → {}", type_list(&s.takes), type_list(&x.takes)),
                ),
                None => {
                    let wire = match s.kind {
                        SetterKind::Param(i) => param_wire(oop, i),
                        SetterKind::Runtime(o) => format!("option {}", o.method()),
                    };
                    if !required_now(&wire) {
                        self.rust(
                            true,
                            ChangeKind::ParameterRemoved,
                            rule::ITEM_REMOVE,
                            here,
                            format!("{wire} removed"),
                        );
                    }
                }
            }
        }
        for s in &nm.setters {
            if !om.setters.iter().any(|x| x.name == s.name) {
                let detail = match s.kind {
                    SetterKind::Param(i) => format!(
                        "new optional {:?} parameter `{}`",
                        nop.params[i].location, nop.params[i].name
                    ),
                    SetterKind::Runtime(o) => format!("new per-call option `{}`", o.method()),
                };
                self.rust(
                    false,
                    ChangeKind::OptionalParameterAdded,
                    rule::ITEM_NEW,
                    format!("{name}.{}", s.name),
                    detail,
                );
            }
        }
    }

    fn success(&mut self, name: &str, a: &Success, b: &Success) {
        match (a, b) {
            (Success::Uniform(x), Success::Uniform(y)) if x == y => {}
            (Success::ByStatus { variants: va, .. }, Success::ByStatus { variants: vb, .. })
                if a.rust_type() == b.rust_type() =>
            {
                for (v, ty) in va {
                    match vb.iter().find(|(x, _)| x == v) {
                        Some((_, t)) if t == ty => {}
                        _ => self.rust(
                            true,
                            ChangeKind::ResponseTypeChanged,
                            rule::ITEM_REMOVE,
                            format!("{} → {v}", name),
                            "success variant removed or changed",
                        ),
                    }
                }
                for (v, _) in vb {
                    if !va.iter().any(|(x, _)| x == v) {
                        self.rust(
                            false,
                            ChangeKind::ResponseAdded,
                            rule::ENUM_VARIANT_NON_EXHAUSTIVE,
                            format!("{} → {v}", name),
                            "success variant added",
                        );
                    }
                }
            }
            _ => self.rust(
                true,
                ChangeKind::ResponseTypeChanged,
                rule::TYPE_CHANGE,
                format!("{name} → response"),
                format!("{} → {}", a.rust_type(), b.rust_type()),
            ),
        }
    }

    fn errors(&mut self, name: &str, om: &Method, nm: &Method) {
        let (a, b) = (&om.error, &nm.error);
        for v in &a.variants {
            let here = format!("errors::{}::{}", a.name, v.name);
            match b.variants.iter().find(|x| x.name == v.name) {
                Some(x) if x.ty == v.ty => {}
                Some(x) => self.rust(
                    true,
                    ChangeKind::ErrorResponseChanged,
                    rule::TYPE_CHANGE,
                    here,
                    format!("{} → {}", v.ty, x.ty),
                ),
                None => self.rust(
                    true,
                    ChangeKind::ErrorResponseChanged,
                    rule::ITEM_REMOVE,
                    here,
                    "documented error body removed",
                ),
            }
        }
        for v in &b.variants {
            if !a.variants.iter().any(|x| x.name == v.name) {
                self.rust(
                    false,
                    ChangeKind::ErrorResponseChanged,
                    rule::ENUM_VARIANT_NON_EXHAUSTIVE,
                    format!("errors::{}::{}", b.name, v.name),
                    "documented error body added",
                );
            }
        }
        // A 429 is `rt::Error::RateLimited` either way: its typed body comes or goes at run
        // time (`rt::Error::rate_limited_body`), nothing a caller compiles against changes.
        match (&a.rate_limited, &b.rate_limited) {
            (Some(_), None) => self.document(
                false,
                ChangeKind::ErrorResponseChanged,
                format!("errors::{}", a.name),
                "the 429 body is no longer documented: `rate_limited_body()` is `None`",
            ),
            (None, Some(_)) => self.document(
                false,
                ChangeKind::ErrorResponseChanged,
                format!("errors::{}", b.name),
                "the 429 body is documented: `rate_limited_body()` reads it",
            ),
            _ => {}
        }
        let _ = name;
    }

    /// What the compiler does not see: media types, authentication, traceability, route.
    fn document_facts(&mut self, name: &str, old: &Operation, new: &Operation) {
        if let (Some(ob), Some(nb)) = (&old.body, &new.body)
            && ob.media_type != nb.media_type
        {
            self.document(
                true,
                ChangeKind::MediaTypeChanged,
                format!("{name} → body"),
                format!("Content-Type `{}` → `{}`", ob.media_type, nb.media_type),
            );
        }
        let accept = |op: &Operation| op.success.iter().find_map(|c| c.media_type.clone());
        if let (Some(a), Some(b)) = (accept(old), accept(new))
            && a != b
        {
            self.document(
                true,
                ChangeKind::MediaTypeChanged,
                format!("{name} → response"),
                format!("Accept `{a}` → `{b}`"),
            );
        }
        if old.no_auth != new.no_auth {
            self.document(
                true,
                ChangeKind::AuthChanged,
                name,
                if new.no_auth {
                    "no longer authenticated"
                } else {
                    "now needs credentials"
                },
            );
        }
        if old.traceability != new.traceability {
            self.document(
                true,
                ChangeKind::TraceabilityChanged,
                name,
                if new.traceability {
                    "now takes the traceability parameters (configure them on the client)"
                } else {
                    "no longer takes the traceability parameters"
                },
            );
        }
        if old.http_method != new.http_method || route_shape(&old.path) != route_shape(&new.path) {
            self.document(
                true,
                ChangeKind::RouteChanged,
                name,
                format!(
                    "{} {} → {} {}",
                    old.http_method, old.path, new.http_method, new.path
                ),
            );
        }
    }
}

/// A path with its placeholders blanked: `/a/{ANNEE}` and `/a/{annrev}` are the same route.
fn route_shape(path: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '{' => {
                depth += 1;
                out.push_str("{}");
            }
            '}' => depth -= 1,
            _ if depth > 0 => {}
            c => out.push(c),
        }
    }
    out.trim_end_matches('/').to_string()
}

/// Argument types as a signature writes them: `impl Into<String>, impl Into<String>`.
fn type_list(types: &[RustType]) -> String {
    types
        .iter()
        .map(RustType::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A parameter as the wire knows it: location and name (`Query siren`).
fn param_wire(op: &Operation, i: usize) -> String {
    format!("{:?} {}", op.params[i].location, op.params[i].name)
}

/// An argument as the wire knows it. A path parameter is its place in the template:
/// renaming `{id}` to `{dossierId}` renames an argument, which no caller sees (arguments are
/// positional).
fn arg_wire(op: &Operation, src: &ArgSource) -> String {
    match src {
        ArgSource::Param(i) if op.params[*i].location == ParamIn::Path => {
            let place = (op.params[..*i].iter())
                .filter(|p| p.location == ParamIn::Path)
                .count();
            format!("path parameter #{}", place + 1)
        }
        ArgSource::Param(i) => param_wire(op, *i),
        ArgSource::Body => "body".to_string(),
    }
}

/// The parameters a method takes through builder setters, as the wire knows them.
fn setter_wires(op: &Operation, m: &Method) -> Vec<String> {
    (m.setters.iter())
        .filter_map(|s| match s.kind {
            SetterKind::Param(i) => Some(param_wire(op, i)),
            SetterKind::Runtime(_) => None,
        })
        .collect()
}
