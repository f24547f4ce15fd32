//! Cases in the providers' staging format (`etalab/siade_staging_data`): one folder per
//! endpoint (`<bouquet>_<version>_<endpoint>`), one YAML file per case with the `params`
//! that select it, the `status` and the `payload` (JSON text) to answer; FranceConnect tokens
//! in `payloads/france_connect/` map a bearer to an identity, which selects the case whose
//! identity parameters are that person's. Read as they are: nothing is converted beforehand.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config::Kind;

/// At most this many bytes read from one case file (the providers' largest is ~20 KB).
const MAX_FILE: u64 = 4 << 20;

/// One case: what selects it and what it answers.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    /// File name, for messages.
    pub file: String,
    pub params: BTreeMap<String, Value>,
    pub status: u16,
    /// The payload as written (JSON text).
    pub payload: String,
    identity: Option<Identity>,
}

/// One endpoint and its cases, in file-name order.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub template: String,
    pub cases: Vec<Case>,
}

/// A FranceConnect test token: the identity and scopes FranceConnect would return for it.
#[derive(Debug, Clone)]
pub(crate) struct FcToken {
    pub token: String,
    pub scopes: Vec<String>,
    identity: Identity,
}

/// Everything loaded.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fixtures {
    pub endpoints: Vec<Endpoint>,
    pub france_connect: Vec<FcToken>,
}

/// A person as the identity parameters describe them, whatever the dialect (FranceConnect's
/// `given_name`/`birthdate`, API Particulier v2's `dateDeNaissance`, v3's `nomNaissance`,
/// `anneeDateNaissance`...). `unbound` counts parameters that are not identity fields
/// (`nomUsage`, `preferred_username`): a token cannot prove them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Identity {
    given: Option<Vec<String>>,
    family: Option<String>,
    birth: Option<(i64, i64, i64)>,
    gender: Option<char>,
    place: Option<String>,
    country: Option<String>,
    unbound: usize,
}

impl Fixtures {
    /// Reads `dir` (the repository root or its `payloads` folder), keeping the folders of
    /// `kind` that `routes` names. Errors name the file.
    pub fn load(dir: &Path, kind: Kind, routes: &[(String, String)]) -> Result<Fixtures, String> {
        let payloads = if dir.join("payloads").is_dir() {
            dir.join("payloads")
        } else {
            dir.to_path_buf()
        };
        let mut out = Fixtures::default();
        for (folder, template) in routes {
            if !folder_of_kind(folder, kind) {
                continue;
            }
            let path = payloads.join(folder);
            if !path.is_dir() {
                continue;
            }
            let mut cases = Vec::new();
            for file in yaml_files(&path)? {
                cases.push(read_case(&file)?);
            }
            out.endpoints.push(Endpoint {
                template: template.clone(),
                cases,
            });
        }
        let fc = payloads.join("france_connect");
        if kind == Kind::ApiParticulier && fc.is_dir() {
            for file in yaml_files(&fc)? {
                out.france_connect.push(read_fc_token(&file)?);
            }
        }
        Ok(out)
    }

    /// The number of cases.
    pub fn case_count(&self) -> usize {
        self.endpoints.iter().map(|e| e.cases.len()).sum()
    }

    /// The FranceConnect token presented as bearer, if it is one of the test tokens.
    pub fn fc_token(&self, bearer: &str) -> Option<&FcToken> {
        self.france_connect.iter().find(|t| t.token == bearer)
    }

    /// The endpoint serving `path`, with the path parameters it binds.
    pub fn endpoint(&self, path: &str) -> Option<(&Endpoint, BTreeMap<String, Vec<String>>)> {
        let actual: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        self.endpoints.iter().find_map(|e| {
            let template: Vec<&str> = e.template.split('/').filter(|s| !s.is_empty()).collect();
            if template.len() != actual.len() {
                return None;
            }
            let mut bound = BTreeMap::new();
            for (t, a) in template.iter().zip(&actual) {
                match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                    Some(name) => {
                        let value = percent_encoding::percent_decode_str(a).decode_utf8_lossy();
                        bound.insert(name.to_string(), vec![value.into_owned()]);
                    }
                    None if t == a => {}
                    None => return None,
                }
            }
            Some((e, bound))
        })
    }
}

impl Endpoint {
    /// The case whose parameters all equal the request's (path and query; `name[]` counts as
    /// `name`); the one with the most parameters when several match, the first file on a tie.
    pub fn by_params(&self, request: &BTreeMap<String, Vec<String>>) -> Option<&Case> {
        let mut best: Option<&Case> = None;
        for case in &self.cases {
            let all = case
                .params
                .iter()
                .all(|(k, v)| request.get(k).is_some_and(|got| same(v, got)));
            if all && best.is_none_or(|b| case.params.len() > b.params.len()) {
                best = Some(case);
            }
        }
        best
    }

    /// The case of the FranceConnect token's person: every identity field both give is equal
    /// (at least the birth name and date), fewest unprovable parameters first, then most
    /// fields matched, then the first file.
    pub fn by_france_connect(&self, token: &FcToken) -> Option<&Case> {
        let mut best: Option<(&Case, (usize, usize))> = None;
        for case in &self.cases {
            let Some(identity) = &case.identity else {
                continue;
            };
            let Some(matched) = identity.matches(&token.identity) else {
                continue;
            };
            let rank = (identity.unbound, usize::MAX - matched);
            if best.is_none_or(|(_, r)| rank < r) {
                best = Some((case, rank));
            }
        }
        best.map(|(c, _)| c)
    }
}

/// `api_entreprise_*` folders for API Entreprise, `api_particulier_*` for API Particulier.
fn folder_of_kind(folder: &str, kind: Kind) -> bool {
    match kind {
        Kind::ApiEntreprise => folder.starts_with("api_entreprise"),
        Kind::ApiParticulier => folder.starts_with("api_particulier"),
        _ => false,
    }
}

/// The `.yaml` / `.yml` files of a folder, sorted by name.
fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    Ok(files)
}

fn read_yaml(file: &Path) -> Result<Value, String> {
    let size = std::fs::metadata(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?
        .len();
    if size > MAX_FILE {
        return Err(format!("{}: over {MAX_FILE} bytes", file.display()));
    }
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    gouvgen::load::yaml::parse(&text).map_err(|e| format!("{}: {}", file.display(), e.message))
}

fn read_case(file: &Path) -> Result<Case, String> {
    let doc = read_yaml(file)?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let params: BTreeMap<String, Value> = doc
        .get("params")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let status = doc
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (100..=599).contains(s))
        .ok_or_else(|| format!("{}: no valid `status`", file.display()))?;
    let payload = match doc.get("payload") {
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let identity = Identity::from_params(&params);
    Ok(Case {
        file: name,
        params,
        status,
        payload,
        identity,
    })
}

fn read_fc_token(file: &Path) -> Result<FcToken, String> {
    let doc = read_yaml(file)?;
    let token = doc
        .pointer("/params/token")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{}: no `params.token`", file.display()))?
        .to_string();
    let payload: Value = match doc.get("payload") {
        Some(Value::String(text)) => serde_json::from_str(text)
            .map_err(|e| format!("{}: payload is not JSON: {e}", file.display()))?,
        Some(other) => other.clone(),
        None => Value::Null,
    };
    let claims = payload.get("token_introspection").unwrap_or(&payload);
    let scopes = claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let mut fields: BTreeMap<String, Value> = BTreeMap::new();
    for key in [
        "gender",
        "family_name",
        "birthdate",
        "birthplace",
        "birthcountry",
    ] {
        if let Some(v) = claims.get(key) {
            fields.insert(key.to_string(), v.clone());
        }
    }
    if let Some(names) = claims.get("given_name_array").or(claims.get("given_name")) {
        fields.insert("given_name".into(), names.clone());
    }
    let identity = Identity::from_params(&fields).unwrap_or_default();
    Ok(FcToken {
        token,
        scopes,
        identity,
    })
}

/// A case parameter against the request's values: strings and numbers by their text, lists
/// element by element.
fn same(expected: &Value, got: &[String]) -> bool {
    match expected {
        Value::Array(items) => {
            items.len() == got.len() && items.iter().zip(got).all(|(e, g)| text(e) == *g)
        }
        other => got.len() == 1 && text(other) == got[0],
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Identity {
    /// The identity the parameters describe; `None` without at least a birth name and date.
    fn from_params(params: &BTreeMap<String, Value>) -> Option<Identity> {
        let mut id = Identity::default();
        let (mut year, mut month, mut day) = (None, None, None);
        for (key, value) in params {
            let t = text(value);
            match key.as_str() {
                "given_name" | "prenoms" => {
                    id.given = Some(match value {
                        Value::Array(items) => items.iter().map(text).collect(),
                        _ => t.split_whitespace().map(str::to_string).collect(),
                    })
                }
                "family_name" | "nomNaissance" | "nom" => id.family = Some(t),
                "birthdate" | "dateDeNaissance" => id.birth = parse_date(&t),
                "anneeDateNaissance" => year = t.parse().ok(),
                "moisDateNaissance" => month = t.parse().ok(),
                "jourDateNaissance" => day = t.parse().ok(),
                "gender" | "sexeEtatCivil" | "sexe" => id.gender = parse_gender(&t),
                "birthplace" | "codeCogInseeCommuneNaissance" | "lieuDeNaissance" => {
                    id.place = Some(t)
                }
                "birthcountry" | "codeCogInseePaysNaissance" => id.country = Some(t),
                _ => id.unbound += 1,
            }
        }
        if let (Some(y), Some(m), Some(d)) = (year, month, day) {
            id.birth = Some((y, m, d));
        }
        (id.family.is_some() && id.birth.is_some()).then_some(id)
    }

    /// How many fields agree, or `None` when one differs.
    fn matches(&self, other: &Identity) -> Option<usize> {
        fn cmp<T: PartialEq>(a: &Option<T>, b: &Option<T>, n: &mut usize) -> bool {
            match (a, b) {
                (Some(a), Some(b)) if a == b => {
                    *n += 1;
                    true
                }
                (Some(_), Some(_)) => false,
                _ => true,
            }
        }
        let mut n = 0;
        let family = |i: &Identity| i.family.as_ref().map(|f| f.to_uppercase());
        let given = |i: &Identity| {
            i.given
                .as_ref()
                .map(|g| g.iter().map(|s| s.to_uppercase()).collect::<Vec<_>>())
        };
        let all = cmp(&given(self), &given(other), &mut n)
            && cmp(&family(self), &family(other), &mut n)
            && cmp(&self.birth, &other.birth, &mut n)
            && cmp(&self.gender, &other.gender, &mut n)
            && cmp(&self.place, &other.place, &mut n)
            && cmp(&self.country, &other.country, &mut n);
        all.then_some(n)
    }
}

/// `YYYY-MM-DD` or `DD/MM/YYYY`.
fn parse_date(s: &str) -> Option<(i64, i64, i64)> {
    let parts: Vec<i64> = s
        .split(['-', '/'])
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    match (s.contains('/'), parts.as_slice()) {
        (false, [y, m, d]) => Some((*y, *m, *d)),
        (true, [d, m, y]) => Some((*y, *m, *d)),
        _ => None,
    }
}

fn parse_gender(s: &str) -> Option<char> {
    match s.to_ascii_lowercase().as_str() {
        "m" | "male" | "masculin" | "1" => Some('M'),
        "f" | "female" | "feminin" | "féminin" | "2" => Some('F'),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> BTreeMap<String, Value> {
        v.as_object().unwrap().clone().into_iter().collect()
    }

    #[test]
    fn identities_compare_across_dialects() {
        let fc = Identity::from_params(&params(json!({
            "given_name": ["Jean"], "family_name": "MARTIN", "birthdate": "2001-01-01",
            "gender": "male", "birthplace": "75002", "birthcountry": "99100"
        })))
        .unwrap();
        let v2 = Identity::from_params(&params(json!({
            "given_name": "Jean", "family_name": "MARTIN", "birthdate": "01/01/2001",
            "gender": "M", "birthplace": "75002"
        })))
        .unwrap();
        let v3 = Identity::from_params(&params(json!({
            "prenoms": ["Jean"], "nomNaissance": "MARTIN", "nomUsage": "X",
            "anneeDateNaissance": 2001, "moisDateNaissance": 1, "jourDateNaissance": 2
        })))
        .unwrap();
        assert_eq!(v2.matches(&fc), Some(5));
        assert_eq!(v3.matches(&fc), None, "another day");
        assert_eq!(v3.unbound, 1);
        assert_eq!(parse_date("16/04/1994"), Some((1994, 4, 16)));
        assert!(same(&json!(["A", "B"]), &["A".into(), "B".into()]));
        assert!(same(&json!(1987), &["1987".into()]));
    }
}
