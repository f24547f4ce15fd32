//! API Entreprise / API Particulier traceability (`context`, `recipient`, `object`) resolved
//! per call: the client gives defaults (usually `context` and `recipient`), each call may give
//! `object` (the case file, which changes on every call) or override any of the three.

/// API Entreprise / API Particulier traceability parameters, appended to calls marked
/// [`Request::traceability`](crate::Request::traceability).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Traceability {
    /// `context`: the framework of the call (e.g. "Aides publiques").
    pub context: String,
    /// `recipient`: SIRET of the administration receiving the data.
    pub recipient: String,
    /// `object`: the reason / file reference of the call.
    pub object: String,
}

/// Per-call values; `None` keeps the client's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TraceabilityOverride {
    pub context: Option<String>,
    pub recipient: Option<String>,
    pub object: Option<String>,
}

/// The values to send, or what is missing (an empty value counts as missing: the gateways
/// refuse it).
pub(crate) fn resolve(
    client: Option<&Traceability>,
    call: &TraceabilityOverride,
) -> Result<Traceability, String> {
    let pick = |over: &Option<String>, base: Option<&String>| {
        over.as_ref()
            .or(base)
            .filter(|v| !v.trim().is_empty())
            .cloned()
    };
    let context = pick(&call.context, client.map(|t| &t.context));
    let recipient = pick(&call.recipient, client.map(|t| &t.recipient));
    let object = pick(&call.object, client.map(|t| &t.object));
    match (context, recipient, object) {
        (Some(context), Some(recipient), Some(object)) => Ok(Traceability {
            context,
            recipient,
            object,
        }),
        (c, r, o) => {
            let missing: Vec<&str> = [
                ("context", c.is_none()),
                ("recipient", r.is_none()),
                ("object", o.is_none()),
            ]
            .into_iter()
            .filter_map(|(n, m)| m.then_some(n))
            .collect();
            Err(format!(
                "this operation needs the traceability parameters; missing: {}. Set them on the \
                 builder (.traceability(context, recipient, object), or \
                 .traceability_context(context, recipient) and the object per call with \
                 CallOptions::traceability_object(..))",
                missing.join(", ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Traceability {
        Traceability {
            context: "Aides publiques".into(),
            recipient: "13002526500013".into(),
            object: String::new(),
        }
    }

    #[test]
    fn call_object_completes_the_client_values() {
        let call = TraceabilityOverride {
            object: Some("dossier 42".into()),
            ..Default::default()
        };
        let t = resolve(Some(&base()), &call).unwrap();
        assert_eq!(t.object, "dossier 42");
        assert_eq!(t.context, "Aides publiques");
    }

    #[test]
    fn missing_values_are_named() {
        let e = resolve(Some(&base()), &TraceabilityOverride::default()).unwrap_err();
        assert!(e.contains("missing: object"), "{e}");
        let e = resolve(None, &TraceabilityOverride::default()).unwrap_err();
        assert!(e.contains("context, recipient, object"), "{e}");
    }

    #[test]
    fn call_overrides_any_value() {
        let call = TraceabilityOverride {
            context: Some("Marchés publics".into()),
            recipient: Some("11000201100044".into()),
            object: Some("AO-2026-7".into()),
        };
        let t = resolve(None, &call).unwrap();
        assert_eq!(t.recipient, "11000201100044");
    }
}
