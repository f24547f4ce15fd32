//! API Entreprise / API Particulier v3 behaviour as the providers' 2026 developer
//! documentation describes it: route groups for the quotas, the 409 for a request already in
//! flight, provider errors under 502 with `meta.retry_in`, filtering by scopes, and the
//! `/pings`, `/privileges` and `/api/introspect` endpoints. Kept apart from the handlers so
//! that each rule is one function here and one call in [`crate::server`].

use std::hash::{Hash, Hasher};
use std::time::{Duration, SystemTime};

use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use base64::Engine;
use serde_json::{Value, json};

use crate::respond::json_response;

/// Which quota of a token a route counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Group {
    /// JSON routes: 250 per minute.
    Json,
    /// Document routes (PDF, ZIP): 50 per minute.
    Document,
}

/// The group of a path: documents when a segment starts with `attestation` or is one of the
/// configured document segments (`documents`, `actes_bilans` by default).
pub(crate) fn group_of(path: &str, document_segments: &[String]) -> Group {
    let document = path
        .split('/')
        .any(|s| s.starts_with("attestation") || document_segments.iter().any(|d| d == s));
    if document {
        Group::Document
    } else {
        Group::Json
    }
}

/// A v3 error answered for a provider's failure (switched per operation with
/// [`crate::Emulator::fail_provider`]): by default HTTP 502, the body
/// `{"errors":[{"code","title","detail","source","meta":{"provider","retry_in"?}}]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    status: u16,
    code: String,
    title: String,
    detail: String,
    provider: String,
    retry_in: Option<u64>,
}

impl ProviderError {
    /// A final answer of the provider, not worth retrying: the entity is unknown to it
    /// (API Particulier v3 maps it to 502 with a specific code, e.g. `37003` at the CNAV).
    pub fn not_found(code: &str, provider: &str) -> Self {
        ProviderError {
            status: 502,
            code: code.to_string(),
            title: "Entité non trouvée".into(),
            detail: format!("{provider} ne connaît pas l'entité demandée."),
            provider: provider.to_string(),
            retry_in: None,
        }
    }

    /// A transient failure of the provider: `meta.retry_in` tells how long to wait (whole
    /// seconds, rounded up; it can be days, e.g. a manual review).
    pub fn transient(code: &str, provider: &str, retry_in: Duration) -> Self {
        let secs = retry_in.as_secs() + u64::from(retry_in.subsec_nanos() > 0);
        ProviderError {
            status: 502,
            code: code.to_string(),
            title: "Erreur du fournisseur de données".into(),
            detail: format!("{provider} est momentanément indisponible."),
            provider: provider.to_string(),
            retry_in: Some(secs),
        }
    }

    /// Another HTTP status (504 for a provider timeout...); kept within 400–599.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status.clamp(400, 599);
        self
    }

    /// Another title and detail.
    pub fn with_text(mut self, title: &str, detail: &str) -> Self {
        self.title = title.to_string();
        self.detail = detail.to_string();
        self
    }

    /// The answer.
    pub(crate) fn response(&self) -> Response {
        let mut meta = json!({"provider": self.provider});
        if let Some(secs) = self.retry_in {
            meta["retry_in"] = json!(secs);
        }
        let body = json!({"errors": [{
            "code": self.code,
            "title": self.title,
            "detail": self.detail,
            "source": null,
            "meta": meta,
        }]});
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_GATEWAY);
        json_response(status, &body)
    }
}

/// What identifies "the same request" for the 409: the credentials presented (hashed, never
/// kept), the path and the query.
pub(crate) fn conflict_key(headers: &HeaderMap, uri: &Uri) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for name in ["authorization", "x-api-key"] {
        headers.get(name).map(|v| v.as_bytes()).hash(&mut h);
    }
    uri.path().hash(&mut h);
    uri.query().hash(&mut h);
    h.finish()
}

/// The 409 of a request identical to one in flight (the documents' example, code 00015).
pub(crate) fn conflict() -> Response {
    json_response(
        StatusCode::CONFLICT,
        &json!({"errors": [{
            "code": "00015",
            "title": "Conflit",
            "detail": "Une requête associé à votre jeton est déjà en cours de traitement pour ces paramètres. Veuillez attendre la fin du traitement avant d'effectuer une nouvelle requête.",
            "source": null,
            "meta": {},
        }]}),
    )
}

/// The scopes of the providers' staging tokens (`payloads/france_connect/all_fc.yml`): what
/// tells a scoped key under `data` (`cnaf_enfants` → `enfants`) from an unscoped one.
const KNOWN_SCOPES: &str = "revenu_solidarite_active revenu_solidarite_active_majoration \
prime_activite prime_activite_majoration allocation_soutien_familial allocation_adulte_handicape \
complementaire_sante_solidaire cnaf_quotient_familial cnaf_allocataires cnaf_enfants cnaf_adresse \
eaje_allocataires eaje_enfants eaje_adresse eaje_parametres_calcul_participation_familial \
cnous_statut_boursier cnous_echelon_bourse cnous_email cnous_periode_versement cnous_statut_bourse \
cnous_ville_etudes cnous_identite mesri_identifiant mesri_identite mesri_inscription_etudiant \
mesri_inscription_autre mesri_admission mesri_etablissements mesri_admissions \
dsnj_statut_service_national gip_mds_service_civique_statut_actuel \
gip_mds_service_civique_statut_passe gip_mds_service_civique_organisme_accueil \
gip_mds_service_civique_dates";

/// Whether `scope` grants the key `key` under `data`: `enfants` by `cnaf_enfants` or `enfants`.
fn names(scope: &str, key: &str) -> bool {
    scope == key
        || scope
            .strip_suffix(key)
            .is_some_and(|prefix| prefix.ends_with('_'))
}

/// Removes the keys under `data` that a known scope names and no granted scope does (API
/// Particulier production). Returns whether anything was removed.
pub(crate) fn filter_by_scopes(
    body: &mut Value,
    granted: &[String],
    extra_known: &[String],
) -> bool {
    let Some(data) = body.get_mut("data").and_then(Value::as_object_mut) else {
        return false;
    };
    let known = KNOWN_SCOPES
        .split_whitespace()
        .chain(extra_known.iter().map(String::as_str));
    let known: Vec<&str> = known.collect();
    let before = data.len();
    data.retain(|key, _| {
        let scoped = known.iter().any(|s| names(s, key));
        !scoped || granted.iter().any(|s| names(s, key))
    });
    data.len() != before
}

/// The `scopes` claim of a JWT-shaped token (`None`: not a JWT, or no such claim).
pub(crate) fn jwt_scopes(token: &str) -> Option<Vec<String>> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    let scopes = claims.get("scopes")?.as_array()?;
    Some(
        scopes
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
    )
}

/// What `GET /pings` says of an API (`{status, last_update, last_ok_status}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingStatus {
    /// `ok`, HTTP 200.
    Ok,
    /// `bad_gateway`, HTTP 502: the provider is failing.
    BadGateway,
    /// `unknown`, HTTP 200: no recent call to judge by.
    Unknown,
}

/// The `/pings` answer; `last_ok` is when the API was last `ok`.
pub(crate) fn ping(status: PingStatus, now: SystemTime, last_ok: SystemTime) -> Response {
    let (text, code) = match status {
        PingStatus::Ok => ("ok", StatusCode::OK),
        PingStatus::BadGateway => ("bad_gateway", StatusCode::BAD_GATEWAY),
        PingStatus::Unknown => ("unknown", StatusCode::OK),
    };
    let rfc3339 = |t: SystemTime| {
        chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let last_ok = if status == PingStatus::Ok {
        now
    } else {
        last_ok
    };
    json_response(
        code,
        &json!({"status": text, "last_update": rfc3339(now), "last_ok_status": rfc3339(last_ok)}),
    )
}

/// `GET /privileges` (API Entreprise): what the token may call.
pub(crate) fn privileges(scopes: &[String]) -> Response {
    json_response(StatusCode::OK, &json!({"privileges": scopes}))
}

/// `GET /api/introspect` (API Particulier): the token's identifier and scopes, in the shape
/// of the API Particulier document (`_id`, `name` always empty, `scopes`).
pub(crate) fn introspect(id: &str, scopes: &[String]) -> Response {
    json_response(
        StatusCode::OK,
        &json!({"_id": id, "name": "", "scopes": scopes}),
    )
}

/// The `jti` claim of a JWT-shaped token, to name it in `/api/introspect` without showing it.
pub(crate) fn jwt_id(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("jti")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_scope_names() {
        let docs = vec!["documents".to_string()];
        assert_eq!(
            group_of("/v3/urssaf/unites_legales/1/attestation_vigilance", &docs),
            Group::Document
        );
        assert_eq!(
            group_of("/v3/insee/sirene/unites_legales/1", &docs),
            Group::Json
        );
        assert!(names("cnaf_enfants", "enfants"));
        assert!(!names("cnaf_enfants", "fants"));
        let mut body = json!({"data": {"enfants": [], "adresse": {}, "est_beneficiaire": true}});
        assert!(filter_by_scopes(&mut body, &["cnaf_adresse".into()], &[]));
        assert_eq!(
            body,
            json!({"data": {"adresse": {}, "est_beneficiaire": true}})
        );
    }
}
