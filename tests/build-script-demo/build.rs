//! The whole integration: one call. Errors come out as one located `cargo::error` message.
fn main() {
    gouvgen::build::Config::new("api/annuaire.yaml")
        .rename_type("Structure", "Organisme")
        // Any warning of the document (a dangling `$ref`, typed as a JSON value otherwise)
        // fails the build.
        .strict(true)
        .run();
}
