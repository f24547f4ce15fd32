//! Measure 9's fixed checks: requests the documents (mostly the shipped ones) forbid (a value outside an enum,
//! against a pattern or a bound, a body missing a property, no credentials...), each a change
//! of the bench's valid request for one operation, sent to both tools. The table they make is
//! what the "what each validates" paragraph is checked against, on every run.

use crate::ops::Op;
use crate::report::{Table, h};

/// How a check changes the operation's valid request.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// The request as the main table sends it (the baseline of the rows below it).
    None,
    /// Sets one query parameter.
    Query(&'static str, &'static str),
    /// Replaces the path (relative to the base path).
    Path(&'static str),
    /// Replaces the JSON body.
    Body(&'static str),
    /// Sends no body.
    NoBody,
    /// Leaves out one header the bench sends.
    DropHeader(&'static str),
    /// Replaces one header the bench sends.
    Header(&'static str, &'static str),
}

pub struct Check {
    pub doc: &'static str,
    pub method: &'static str,
    pub template: &'static str,
    pub change: Change,
    pub what: &'static str,
}

const fn check(
    doc: &'static str,
    method: &'static str,
    template: &'static str,
    change: Change,
    what: &'static str,
) -> Check {
    Check {
        doc,
        method,
        template,
        change,
        what,
    }
}

const SCOLARITES: &str = "/api/v2/scolarites";
const DECL: &str = "/operateurs/{eori}/declarations";
const VERIF: &str = "/comptes/iban/verification";
const SIRENE: &str = "/v3/insee/sirene/unites_legales/{siren}";
const PART: &str = "specs/api-particulier/api-particulier.yaml";
const FICOBA: &str = "specs/dgfip/ficoba.json";
const IMPOT_S2: &str = "corpus/dgfip/impot-particulier-swagger2.yaml";
const SITUATION: &str = "/situations/ir/assiettes/annrev/{ANNEE}";
const DOUANE: &str = "specs/douane/declarations.yaml";
const ENTR: &str = "specs/api-entreprise/api-entreprise.yaml";

pub const CHECKS: &[Check] = &[
    check(PART, "GET", SCOLARITES, Change::None, "valid request"),
    check(
        PART,
        "GET",
        SCOLARITES,
        Change::Query("sexe", "X"),
        "`sexe=X`: outside the enum",
    ),
    check(
        PART,
        "GET",
        SCOLARITES,
        Change::Query("anneeScolaire", "deux"),
        "`anneeScolaire=deux`: not an integer",
    ),
    check(
        PART,
        "GET",
        SCOLARITES,
        Change::Query("codeEtablissement", "123"),
        "`codeEtablissement=123`: against the pattern",
    ),
    check(
        PART,
        "GET",
        SCOLARITES,
        Change::Query("dateNaissance", "hier"),
        "`dateNaissance=hier`: not a `date`",
    ),
    check(DOUANE, "GET", DECL, Change::None, "valid request"),
    check(
        DOUANE,
        "GET",
        DECL,
        Change::Query("taille", "500"),
        "`taille=500`: above the maximum (200)",
    ),
    check(ENTR, "GET", SIRENE, Change::None, "valid request"),
    check(
        ENTR,
        "GET",
        SIRENE,
        Change::Path("/v3/insee/sirene/unites_legales/12"),
        "siren `12`: path parameter against the pattern",
    ),
    check(FICOBA, "POST", VERIF, Change::None, "valid request"),
    check(
        FICOBA,
        "POST",
        VERIF,
        Change::Body(r#"{"iban":"FR7630006000011234567890189"}"#),
        "body without the required `nom`",
    ),
    check(
        FICOBA,
        "POST",
        VERIF,
        Change::Body(r#"{"iban":76,"nom":"MARTIN"}"#),
        "body with a number for a string",
    ),
    check(FICOBA, "POST", VERIF, Change::NoBody, "no body (required)"),
    check(
        FICOBA,
        "POST",
        VERIF,
        Change::DropHeader("Authorization"),
        "no `Authorization`",
    ),
    check(
        FICOBA,
        "POST",
        VERIF,
        Change::Header("Authorization", "Bearer inconnu"),
        "an unknown bearer token",
    ),
    check(
        FICOBA,
        "POST",
        VERIF,
        Change::DropHeader("X-Correlation-ID"),
        "no `X-Correlation-ID`",
    ),
    check(
        FICOBA,
        "POST",
        VERIF,
        Change::Header("X-Correlation-ID", "abc"),
        "`X-Correlation-ID: abc` (not a UUID)",
    ),
    check(IMPOT_S2, "GET", SITUATION, Change::None, "valid request"),
    check(
        IMPOT_S2,
        "GET",
        SITUATION,
        Change::DropHeader("X-Correlation-ID"),
        "no `X-Correlation-ID` (undeclared: a gateway rule)",
    ),
];

/// The request of check `c`: the operation and headers with the change applied, or `None` if
/// the document has no such operation.
pub fn request(
    c: &Check,
    ops: &[Op],
    headers: &[(String, String)],
) -> Option<(Op, Vec<(String, String)>)> {
    let mut op = ops
        .iter()
        .find(|o| o.method == c.method && o.template == c.template)?
        .clone();
    let mut headers = headers.to_vec();
    let drop = |name: &str, headers: &mut Vec<(String, String)>, op: &mut Op| {
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        op.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    };
    match c.change {
        Change::None => {}
        Change::Query(name, value) => {
            op.query.retain(|(n, _)| n != name);
            op.query.push((name.into(), value.into()));
        }
        Change::Path(path) => op.path = path.into(),
        Change::Body(body) => op.body = Some(body.into()),
        Change::NoBody => op.body = None,
        Change::DropHeader(name) => drop(name, &mut headers, &mut op),
        Change::Header(name, value) => {
            drop(name, &mut headers, &mut op);
            headers.push((name.into(), value.into()));
        }
    }
    Some((op, headers))
}

/// The checks' table: one row per check of a document measured, the status each tool answered.
pub fn table(results: &[(String, [Vec<String>; 2])]) -> String {
    let mut tab = Table::new(h(&[
        "document",
        "operation",
        "request",
        "emulator",
        "Prism",
    ]));
    for (doc, [emu, prism]) in results {
        for (i, c) in CHECKS.iter().filter(|c| c.doc == *doc).enumerate() {
            let cell = |v: &Vec<String>| v.get(i).cloned().unwrap_or_else(|| "–".into());
            tab.row(vec![
                format!("`{doc}`"),
                format!("{} {}", c.method, c.template),
                c.what.to_string(),
                cell(emu),
                cell(prism),
            ]);
        }
    }
    tab.render()
}
