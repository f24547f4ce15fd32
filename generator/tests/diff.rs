//! `gouvgen diff`: known answers on a synthetic pair and on real pairs from the corpus.

use std::path::{Path, PathBuf};

use gouvgen::diff::{Bump, ChangeKind, Report, compare};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Two corpus documents, from `GOUVGEN_CORPUS` (default `../shared/corpus`). Either absent:
/// one line on stderr and `None` (the test skips), except under `CI=true`, where it fails.
fn corpus_pair(old: &str, new: &str) -> Option<(PathBuf, PathBuf)> {
    let dir = std::env::var_os("GOUVGEN_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"));
    let (old, new) = (dir.join(old), dir.join(new));
    let missing: Vec<String> = [&old, &new]
        .iter()
        .filter(|p| !p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if missing.is_empty() {
        return Some((old, new));
    }
    let why = format!(
        "corpus document {} absent (set GOUVGEN_CORPUS)",
        missing.join(" and ")
    );
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
    // Past the harness's capture, so a passing `cargo test` shows it.
    use std::io::Write;
    let test = std::thread::current().name().unwrap_or("?").to_string();
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
    None
}

fn diff(old: &Path, new: &Path) -> Report {
    let old = gouvgen::read_spec(old).unwrap();
    let new = gouvgen::read_spec(new).unwrap();
    compare(&old.api, &new.api)
}

fn lines(report: &Report) -> Vec<String> {
    report
        .changes
        .iter()
        .map(|c| {
            format!(
                "{} {:?} {} | {}",
                if c.breaking { "B" } else { "+" },
                c.kind,
                c.location,
                c.detail
            )
        })
        .collect()
}

#[test]
fn synthetic_pair_exact_changes() {
    let report = diff(&fixture("diff/old.yaml"), &fixture("diff/new.yaml"));
    // In Rust terms: structs are `#[non_exhaustive]` with a constructor, so a new optional
    // field is additive and a new required one changes `new`; enums are `#[non_exhaustive]`.
    let expected = vec![
        "B DefaultRemoved types::NouveauDossier | no longer implements Default (it has a required field)",
        "B FieldRequirementChanged types::NouveauDossier::new | new() → new(titre, service)",
        "B FieldTypeChanged types::NouveauDossier.titre | Option<String> → String",
        "B MediaTypeChanged lire_dossier → response | Accept `application/vnd.exemple.v1+json` → `application/vnd.exemple.v2+json`",
        "B EnumValueRemoved types::DossierStatut::Archive | value `archive` removed",
        "B FieldRemoved types::Dossier.ancien | field `ancien` removed",
        "B FieldTypeChanged types::Dossier.montant | Option<i64> → Option<f64>",
        "B ParameterTypeChanged builders::LireDossierRequest::lang | impl Into<String> → impl Into<i64>",
        "B ParameterRequirementChanged lire_dossier.vue | now required (an argument)",
        "B OperationRemoved ping | GET /ping is gone",
        "B AuthChanged security | scheme api-key header X-Api-Key added",
        "+ EnumValueAdded types::DossierStatut::Suspendu | value `suspendu` added",
        "+ FieldAdded types::Dossier.nouveau | new field `nouveau`",
        "+ FieldAdded types::NouveauDossier.service | new required field `service`",
        "+ OptionalParameterAdded lire_dossier.page | new optional Query parameter `page`",
        "+ OperationAdded stats | GET /stats",
    ];
    let mut got = lines(&report);
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(report.bump, Bump::Major);
    // Ten break callers' code; the media type and the new scheme break the wire only.
    assert_eq!(report.breaking(), 9);
    let wire: Vec<_> = report
        .changes
        .iter()
        .filter(|c| c.level == gouvgen::diff::Level::Document)
        .map(|c| c.kind)
        .collect();
    assert_eq!(
        wire,
        [ChangeKind::MediaTypeChanged, ChangeKind::AuthChanged]
    );
}

/// Schemas named like Rust's or the crate's own names are renamed by the surface, and
/// `diff` says why the new type is not named as its schema.
#[test]
fn taken_schema_names_are_renamed_and_diff_says_why() {
    let report = diff(
        &fixture("diff/taken-old.yaml"),
        &fixture("diff/taken-new.yaml"),
    );
    let mut got = lines(&report);
    got.sort();
    let taken = "is a name Rust or the generated crate already uses";
    let mut want = vec![
        format!(
            "+ TypeAdded types::ErrorSchema2 | `types::ErrorSchema2` added (renamed: `Error` {taken})"
        ),
        format!(
            "+ TypeAdded types::StringSchema | `types::StringSchema` added (renamed: `String` {taken})"
        ),
        "+ TypeAdded types::ErrorSchema | `types::ErrorSchema` added".to_string(),
        "+ FieldAdded types::Dossier.libelle | new field `libelle`".to_string(),
    ];
    want.sort();
    let errors: Vec<&String> = got.iter().filter(|l| l.contains("Error")).collect();
    assert!(
        errors.iter().all(|l| !l.contains("types::Error ")),
        "no type keeps the name `Error`: {errors:?}"
    );
    for line in &want {
        assert!(got.contains(line), "missing {line:?} in {got:#?}");
    }
    let spec = gouvgen::read_spec(&fixture("diff/taken-new.yaml")).unwrap();
    let names: Vec<(&str, Option<&str>)> = spec
        .api
        .types
        .types
        .iter()
        .map(|t| (t.name.as_str(), t.renamed_from.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("Dossier", None),
            ("ErrorSchema2", Some("Error")),
            ("ErrorSchema", None),
            ("StringSchema", Some("String")),
        ]
    );
}

#[test]
fn identical_documents_have_no_changes() {
    let report = diff(&fixture("unions.yaml"), &fixture("unions.yaml"));
    assert!(report.changes.is_empty(), "{:?}", report.changes);
    assert_eq!(report.bump, Bump::None);
}

#[test]
fn bumps_follow_semver_including_zero_major() {
    assert_eq!(Bump::Major.apply("1.4.2"), "2.0.0");
    assert_eq!(Bump::Major.apply("0.4.2"), "0.5.0");
    assert_eq!(Bump::Minor.apply("1.4.2"), "1.5.0");
    assert_eq!(Bump::Minor.apply("0.4.2"), "0.4.3");
    assert_eq!(Bump::None.apply("0.4.2"), "0.4.2");
}

fn count(report: &Report, kind: ChangeKind, breaking: bool) -> usize {
    report
        .changes
        .iter()
        .filter(|c| c.kind == kind && c.breaking == breaking)
        .count()
}

fn has(report: &Report, kind: ChangeKind, location: &str) -> bool {
    report
        .changes
        .iter()
        .any(|c| c.kind == kind && c.location == location)
}

#[test]
fn ficoba_v1_swagger2_to_v2() {
    let Some((old, new)) = corpus_pair("dgfip/ficoba-v1-swagger2.json", "dgfip/ficoba.json") else {
        return;
    };
    let r = diff(&old, &new);
    // v1's five POST /recherches* operations are gone; v2 has eight new /comptes/* and /etatSante.
    assert_eq!(count(&r, ChangeKind::OperationRemoved, true), 5);
    assert_eq!(count(&r, ChangeKind::OperationAdded, false), 8);
    assert!(has(
        &r,
        ChangeKind::OperationRemoved,
        "post_recherches_iban"
    ));
    assert!(has(
        &r,
        ChangeKind::OperationAdded,
        "rechercher_comptes_spi"
    ));
    // v2 declares no security scheme any more (v1: api-key Authorization and oauth2).
    assert_eq!(count(&r, ChangeKind::AuthChanged, true), 2);
    assert_eq!(
        r.changes
            .iter()
            .filter(|c| !matches!(
                c.kind,
                ChangeKind::TypeAdded | ChangeKind::TypeRemoved | ChangeKind::TypeRenamed
            ))
            .count(),
        41,
        "5 removed and 8 added operations, 2 schemes, and the fields of the types both versions share"
    );
    assert_eq!(r.bump, Bump::Major);
}

#[test]
fn impot_particulier_swagger2_to_openapi3() {
    let Some((old, new)) = corpus_pair(
        "dgfip/impot-particulier-swagger2.yaml",
        "dgfip/impot-particulier.json",
    ) else {
        return;
    };
    let r = diff(&old, &new);
    // The one v1 route survives under a new name with `{ANNEE}` renamed `{annrev}` (now an
    // i32) and the DGFiP vendor media type; 14 operations are new.
    assert!(has(
        &r,
        ChangeKind::OperationRenamed,
        "get_situations_ir_assiettes_annrev_annee"
    ));
    // The argument keeps its place (`{ANNEE}` → `{annrev}` is a rename callers do not see),
    // but its type narrows.
    assert!(r.changes.iter().any(|c| {
        c.kind == ChangeKind::ParameterTypeChanged
            && c.location == "get_situations_ir_assiettes_annrev_annee.annee"
            && c.detail == "i64 → i32"
            && c.breaking
    }));
    assert!(r.changes.iter().any(|c| {
        c.kind == ChangeKind::MediaTypeChanged
            && c.detail
                .contains("application/prs.dgfip.part.situations.ir.assiettes.v1+json")
    }));
    // Its response type got another name: the old item is reported gone.
    assert!(
        r.changes.iter().any(|c| matches!(
            c.kind,
            ChangeKind::TypeRemoved | ChangeKind::TypeRenamed
        ) && c.breaking)
    );
    assert_eq!(count(&r, ChangeKind::OperationAdded, false), 14);
    assert!(has(&r, ChangeKind::AuthChanged, "security"));
    assert_eq!(r.bump, Bump::Major);
}

#[test]
fn api_entreprise_v2_to_v3() {
    let Some((old, new)) = corpus_pair(
        "api-entreprise/api-entreprise-v2.yaml",
        "api-entreprise/api-entreprise-v3.yaml",
    ) else {
        return;
    };
    let r = diff(&old, &new);
    // v3 moved every route under /v3: all 34 v2 operations are removed, 52 are added.
    assert_eq!(count(&r, ChangeKind::OperationRemoved, true), 34);
    assert_eq!(count(&r, ChangeKind::OperationAdded, false), 52);
    assert!(
        r.changes.iter().all(|c| matches!(
            c.kind,
            ChangeKind::OperationRemoved
                | ChangeKind::OperationAdded
                | ChangeKind::TypeAdded
                | ChangeKind::TypeRemoved
                | ChangeKind::TypeRenamed
                | ChangeKind::TypeChanged
                | ChangeKind::FieldAdded
                | ChangeKind::FieldRemoved
                | ChangeKind::FieldTypeChanged
                | ChangeKind::FieldRequirementChanged
                | ChangeKind::DefaultRemoved
                | ChangeKind::EnumValueAdded
                | ChangeKind::EnumValueRemoved
        )),
        "no method survives, so only items change"
    );
    assert_eq!(r.bump, Bump::Major);
}

#[test]
fn api_particulier_2021_to_v2() {
    let Some((old, new)) = corpus_pair(
        "api-particulier/api-particulier-2021.yaml",
        "api-particulier/api-particulier-v2.yaml",
    ) else {
        return;
    };
    let r = diff(&old, &new);
    assert_eq!(count(&r, ChangeKind::OperationRemoved, true), 10);
    assert_eq!(count(&r, ChangeKind::OperationAdded, false), 16);
    assert!(has(&r, ChangeKind::OperationRemoved, "get_caf_famille"));
    // The API key header changed case (X-API-Key → X-Api-Key) and a FranceConnect bearer appeared.
    assert!(
        r.changes
            .iter()
            .any(|c| c.kind == ChangeKind::AuthChanged && c.detail.contains("X-API-Key"))
    );
    assert!(
        r.changes
            .iter()
            .any(|c| c.kind == ChangeKind::AuthChanged && c.detail.contains("bearer"))
    );
}

/// With features per tag, a tag that disappears and an operation that needs a new feature
/// break callers; a new tag, or an operation reachable through one more feature, does not.
#[test]
fn features_per_tag_changes_follow_the_cargo_rules() {
    let old = fixture("features/tags.yaml");
    let text = std::fs::read_to_string(&old).unwrap();
    let changed = text
        .replace("tags: [Unités légales]", "tags: [Entreprises]")
        .replace("tags: [Documents]", "tags: [Documents, Archives]")
        .replace(
            "      operationId: ping\n",
            "      operationId: ping\n      tags: [Santé]\n",
        );
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("tags.yaml");
    std::fs::write(&new, changed).unwrap();
    let (old, new) = (
        gouvgen::read_spec(&old).unwrap(),
        gouvgen::read_spec(&new).unwrap(),
    );
    let report = gouvgen::diff::compare_with(&old.api, &new.api, true);
    let find = |kind: ChangeKind, location: &str| {
        report
            .changes
            .iter()
            .find(|c| c.kind == kind && c.location == location)
            .unwrap_or_else(|| panic!("no {kind:?} at {location}:\n{}", report.to_text()))
    };
    let removed = find(ChangeKind::FeatureRemoved, "feature `unites-legales`");
    assert!(removed.breaking && removed.category == "cargo-feature-remove");
    assert!(!find(ChangeKind::FeatureAdded, "feature `archives`").breaking);
    assert!(find(ChangeKind::FeatureGateChanged, "unites_legales").breaking);
    assert!(find(ChangeKind::FeatureGateChanged, "ping").breaking);
    assert!(!find(ChangeKind::FeatureGateChanged, "documents").breaking);
    assert_eq!(report.bump, Bump::Major);
    // Without features per tag, tags are invisible to Rust callers.
    let plain = compare(&old.api, &new.api);
    assert!(
        plain.changes.iter().all(|c| !matches!(
            c.kind,
            ChangeKind::FeatureRemoved | ChangeKind::FeatureAdded | ChangeKind::FeatureGateChanged
        )),
        "{}",
        plain.to_text()
    );
}
