//! The gateways `gouvgen emulate --gateway` names. Apart from the emulator, so that the
//! command parses the same whether or not the `emulate` feature is built in, and so that the
//! argument parser and the emulator command each use it without using each other.

/// The gateways `gouvgen emulate --gateway` names.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum GatewayArg {
    /// DGFiP API Management.
    Dgfip,
    /// PISTE (Légifrance, Judilibre...).
    Piste,
    /// Douane (DGDDI).
    Douane,
    /// API Entreprise.
    ApiEntreprise,
    /// API Particulier.
    ApiParticulier,
}
