//! Gateway presets: API roots, token URLs, grants, headers and default rate limits of each
//! gateway, from the providers' documents. Every preset can be overridden on the builder
//! ([`ApiClientBuilder::api_root`](crate::ApiClientBuilder::api_root),
//! [`token_url`](crate::ApiClientBuilder::token_url), ...).
//!
//! | preset | API root | token URL |
//! | --- | --- | --- |
//! | `dgfip(Internet, _)` | `https://gw.impots.gouv.fr` | `https://gw.impots.gouv.fr/token` |
//! | `dgfip(InternetFranceConnect, _)` | `https://gwfc.impots.gouv.fr` | `https://gwfc.impots.gouv.fr/token` |
//! | `dgfip(Rie, _)` | `https://gw.dgfip.finances.rie.gouv.fr` | `https://gw.dgfip.finances.rie.gouv.fr/token` |
//! | `piste(Internet, Sandbox)` | `https://sandbox-api.piste.gouv.fr` | `https://sandbox-oauth.piste.gouv.fr/api/oauth/token` |
//! | `piste(Internet, Production)` | `https://api.piste.gouv.fr` | `https://oauth.piste.gouv.fr/api/oauth/token` |
//! | `piste(Ader, Sandbox)` | `https://sandbox-api.aife.finances.rie.gouv.fr` | `https://sandbox-oauth.aife.finances.rie.gouv.fr/api/oauth/token` |
//! | `piste(Ader, Production)` | `https://api.aife.finances.rie.gouv.fr` | `https://oauth.aife.finances.rie.gouv.fr/api/oauth/token` |
//! | `douane(Production)` | `https://api.douane.gouv.fr` | `https://connexion-api.douane.gouv.fr/oauth2/token` |
//! | `douane(Formation)` | `https://api-form.douane.gouv.fr` | `https://connexion-api-form.douane.gouv.fr/oauth2/token` |
//! | `api_entreprise(Production)` | `https://entreprise.api.gouv.fr` | — (JWT) |
//! | `api_entreprise(Sandbox)` | `https://staging.entreprise.api.gouv.fr` | — (JWT) |
//! | `api_particulier(Production)` | `https://particulier.api.gouv.fr` | — (JWT / `X-Api-Key`) |
//! | `api_particulier(Sandbox)` | `https://staging.particulier.api.gouv.fr` | — (JWT / `X-Api-Key`) |
//!
//! DGFiP: the partner guide gives one token URL per access point and no separate sandbox host;
//! the sandbox ("bac à sable") and production differ by their **credentials** (separate consumer
//! key/secret per environment on the store), so both environments use the same URLs.

use std::time::Duration;

use crate::auth::ClientAuthMethod;
use crate::policy::rate_limit::RateLimit;

/// The gateway a client talks to (selects error advice and defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Gateway {
    /// DGFiP API Management (api.impots.gouv.fr).
    Dgfip,
    /// PISTE (AIFE).
    Piste,
    /// Douane (DGDDI).
    Douane,
    /// API Entreprise (DINUM).
    ApiEntreprise,
    /// API Particulier (DINUM).
    ApiParticulier,
    /// Any other HTTP API.
    Custom,
}

/// Sandbox or production.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Environment {
    /// Test environment ("bac à sable", staging).
    Sandbox,
    /// Production.
    Production,
}

/// DGFiP access points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DgfipAccess {
    /// Internet, without FranceConnect.
    Internet,
    /// Internet with FranceConnect (calls carry `X-FranceConnect-OAuth`).
    InternetFranceConnect,
    /// RIE (inter-ministerial network).
    Rie,
}

/// PISTE consumer types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PisteAccess {
    /// Internet.
    Internet,
    /// ADER (RIE).
    Ader,
}

/// Douane environments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DouaneEnvironment {
    /// Production.
    Production,
    /// FORMATION (tests and certification).
    Formation,
}

/// The settings a gateway implies. Public fields: adjust freely, or use the builder overrides.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Preset {
    /// Which gateway.
    pub gateway: Gateway,
    /// Human label (e.g. `"DGFiP internet (sandbox)"`).
    pub label: String,
    /// Root URL of the APIs (the generated client appends the API's base path).
    pub api_root: String,
    /// OAuth token endpoint, if the gateway uses OAuth.
    pub token_url: Option<String>,
    /// OAuth revoke endpoint, if any.
    pub revoke_url: Option<String>,
    /// How client credentials are sent to the token endpoint.
    pub client_auth: ClientAuthMethod,
    /// Scopes requested when the caller sets none.
    pub default_scopes: Vec<String>,
    /// `client_id` of the password grant (Douane: `gun-api`).
    pub password_client_id: Option<String>,
    /// Header carrying the correlation ID.
    pub correlation_header: String,
    /// Header used by [`ApiClientBuilder::api_key`](crate::ApiClientBuilder::api_key).
    pub api_key_header: String,
    /// Default client-side rate limit (of every call, or of the calls outside the documents
    /// group when [`Preset::document_rate_limit`] is set).
    pub rate_limit: Option<RateLimit>,
    /// Limit of document calls (PDF, ZIP: calls that accept no JSON), counted apart from the
    /// others (API Entreprise).
    pub document_rate_limit: Option<RateLimit>,
    /// Ceiling of every call of this process to the API host, whatever the account (a per-IP
    /// quota; not shared through a fleet store, whose processes may have several IPs).
    pub host_rate_limit: Option<RateLimit>,
    /// How long to hold every call after a 429 without `Retry-After`.
    pub pause_after_429: Duration,
    /// How a user's FranceConnect access token ([`CallOptions::france_connect_token`](crate::CallOptions::france_connect_token))
    /// travels.
    pub france_connect: FranceConnectCarrier,
    /// The gateway's health endpoint under the API root ([`ApiClient::health`](crate::ApiClient::health));
    /// a half-open circuit asks it before its probe call.
    pub health_path: Option<String>,
    /// Whether identical calls of one account wait for each other instead of being sent side
    /// by side (API Entreprise / Particulier answer the second with 409, "the same request is
    /// already in progress for this token").
    pub one_identical_call_at_a_time: bool,
    /// Per-attempt timeout when the builder sets none
    /// ([`ApiClientBuilder::timeout`](crate::ApiClientBuilder::timeout)); `None`: 30 s.
    pub attempt_timeout: Option<Duration>,
    /// Per-attempt timeout of calls whose answer is a document (PDF, ZIP: the operation
    /// accepts no JSON); `None`: the client's timeout for every call.
    pub document_timeout: Option<Duration>,
}

/// Where a per-call FranceConnect access token goes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FranceConnectCarrier {
    /// In this header, next to the client's own credential (DGFiP: `X-FranceConnect-OAuth`).
    Header(String),
    /// As the call's bearer (`Authorization: Bearer <token>`) instead of the client's own
    /// credential and API keys (API Particulier's FranceConnect routes).
    Bearer,
}

impl Preset {
    fn base(gateway: Gateway, label: String, api_root: &str) -> Self {
        Preset {
            gateway,
            label,
            api_root: api_root.to_owned(),
            token_url: None,
            revoke_url: None,
            client_auth: ClientAuthMethod::Basic,
            default_scopes: Vec::new(),
            password_client_id: None,
            correlation_header: "X-Correlation-ID".to_owned(),
            api_key_header: "X-Api-Key".to_owned(),
            rate_limit: None,
            document_rate_limit: None,
            host_rate_limit: None,
            pause_after_429: Duration::from_secs(5),
            france_connect: FranceConnectCarrier::Header("X-FranceConnect-OAuth".to_owned()),
            health_path: None,
            one_identical_call_at_a_time: false,
            attempt_timeout: None,
            document_timeout: None,
        }
    }
}

fn env_label(env: Environment) -> &'static str {
    match env {
        Environment::Sandbox => "sandbox",
        Environment::Production => "production",
    }
}

/// DGFiP API Management: client_credentials with `Authorization: Basic`, scopes chosen by the
/// caller (e.g. `RessourceIR`), 1-hour tokens, `/revoke`. No default rate limit (quotas are
/// negotiated per partner): set one with [`ApiClientBuilder::rate_limit`](crate::ApiClientBuilder::rate_limit).
///
/// The sandbox and production use the same hosts with separate consumer keys (see module docs).
pub fn dgfip(access: DgfipAccess, env: Environment) -> Preset {
    let (host, what) = match access {
        DgfipAccess::Internet => ("https://gw.impots.gouv.fr", "internet"),
        DgfipAccess::InternetFranceConnect => {
            ("https://gwfc.impots.gouv.fr", "internet FranceConnect")
        }
        DgfipAccess::Rie => ("https://gw.dgfip.finances.rie.gouv.fr", "RIE"),
    };
    let mut p = Preset::base(
        Gateway::Dgfip,
        format!("DGFiP {what} ({})", env_label(env)),
        host,
    );
    p.token_url = Some(format!("{host}/token"));
    p.revoke_url = Some(format!("{host}/revoke"));
    p.client_auth = ClientAuthMethod::Basic;
    p
}

/// PISTE (AIFE): client_credentials with credentials in the form body, scope `openid`,
/// default limit 20 requests/second (the PISTE default quota per application). API keys go in
/// the `KeyId` header.
pub fn piste(access: PisteAccess, env: Environment) -> Preset {
    let (api, token) = match (access, env) {
        (PisteAccess::Internet, Environment::Sandbox) => (
            "https://sandbox-api.piste.gouv.fr",
            "https://sandbox-oauth.piste.gouv.fr/api/oauth/token",
        ),
        (PisteAccess::Internet, Environment::Production) => (
            "https://api.piste.gouv.fr",
            "https://oauth.piste.gouv.fr/api/oauth/token",
        ),
        (PisteAccess::Ader, Environment::Sandbox) => (
            "https://sandbox-api.aife.finances.rie.gouv.fr",
            "https://sandbox-oauth.aife.finances.rie.gouv.fr/api/oauth/token",
        ),
        (PisteAccess::Ader, Environment::Production) => (
            "https://api.aife.finances.rie.gouv.fr",
            "https://oauth.aife.finances.rie.gouv.fr/api/oauth/token",
        ),
    };
    let what = match access {
        PisteAccess::Internet => "internet",
        PisteAccess::Ader => "ADER",
    };
    let mut p = Preset::base(
        Gateway::Piste,
        format!("PISTE {what} ({})", env_label(env)),
        api,
    );
    p.token_url = Some(token.to_owned());
    p.client_auth = ClientAuthMethod::RequestBody;
    p.default_scopes = vec!["openid".to_owned()];
    p.api_key_header = "KeyId".to_owned();
    p.rate_limit = Some(RateLimit::per_second(20));
    p.pause_after_429 = Duration::from_secs(1);
    p
}

/// Douane (DGDDI): password grant (`client_id=gun-api`, `scope=openid`), 5-minute tokens shared
/// by every client of the same account, refresh token used before logging in again.
pub fn douane(env: DouaneEnvironment) -> Preset {
    let (api, token, what) = match env {
        DouaneEnvironment::Production => (
            "https://api.douane.gouv.fr",
            "https://connexion-api.douane.gouv.fr/oauth2/token",
            "production",
        ),
        DouaneEnvironment::Formation => (
            "https://api-form.douane.gouv.fr",
            "https://connexion-api-form.douane.gouv.fr/oauth2/token",
            "formation",
        ),
    };
    let mut p = Preset::base(Gateway::Douane, format!("Douane ({what})"), api);
    p.token_url = Some(token.to_owned());
    p.client_auth = ClientAuthMethod::RequestBody;
    p.default_scopes = vec!["openid".to_owned()];
    p.password_client_id = Some("gun-api".to_owned());
    p
}

/// Recommended per-attempt timeout of JSON calls at API Entreprise / Particulier (2026 docs).
pub const API_GOUV_JSON_TIMEOUT: Duration = Duration::from_secs(5);

/// Recommended per-attempt timeout of document calls (PDF, ZIP) at API Entreprise /
/// Particulier: the gateway waits 10 s for its provider, then answers 504.
pub const API_GOUV_DOCUMENT_TIMEOUT: Duration = Duration::from_secs(12);

/// What API Entreprise and API Particulier share: the default limit, the 60 s pause after a
/// 429 without `Retry-After`, one identical call at a time (409), the timeouts per group.
fn api_gouv(gateway: Gateway, label: String, api: &str) -> Preset {
    let mut p = Preset::base(gateway, label, api);
    p.rate_limit = Some(RateLimit::per_minute(API_GOUV_DEFAULT_LIMIT_PER_MINUTE));
    p.host_rate_limit = Some(RateLimit::per_minute(API_GOUV_IP_LIMIT_PER_MINUTE));
    p.pause_after_429 = Duration::from_secs(60);
    p.one_identical_call_at_a_time = true;
    p.health_path = Some("/pings".to_owned());
    p.attempt_timeout = Some(API_GOUV_JSON_TIMEOUT);
    p.document_timeout = Some(API_GOUV_DOCUMENT_TIMEOUT);
    p
}

/// Default limit of API Entreprise document calls (PDF, ZIP), per token (2026 docs).
pub const API_ENTREPRISE_DOCUMENT_LIMIT_PER_MINUTE: u32 = 50;

/// Ceiling per IP of API Entreprise and API Particulier, whatever the token (2026 docs).
pub const API_GOUV_IP_LIMIT_PER_MINUTE: u32 = 1000;

/// Default limit for API Entreprise and API Particulier.
///
/// Their 2026 documentation gives 250 requests per minute per token for JSON calls (API
/// Entreprise; API Particulier is moving to it), and ignoring 429s bans the IP for 12 hours.
/// The default is that figure, evenly spaced (no burst); the gateway's own `RateLimit-*`
/// headers hold every client of the account when its quota runs out, and after any 429
/// every call waits for `Retry-After` (else the quota's reset, else 60 s). Limits change: set
/// your contract's figures with [`ApiClientBuilder::rate_limit`](crate::ApiClientBuilder::rate_limit),
/// `document_rate_limit` and `host_rate_limit`, or parse them from your configuration
/// (`"250/min".parse::<RateLimit>()`).
pub const API_GOUV_DEFAULT_LIMIT_PER_MINUTE: u32 = 250;

/// API Entreprise (DINUM): long-lived JWT bearer ([`ApiClientBuilder::jwt`](crate::ApiClientBuilder::jwt)),
/// traceability parameters `context`/`recipient`/`object`. Production
/// `https://entreprise.api.gouv.fr`, staging (`Sandbox`) `https://staging.entreprise.api.gouv.fr`.
pub fn api_entreprise(env: Environment) -> Preset {
    let api = match env {
        Environment::Sandbox => "https://staging.entreprise.api.gouv.fr",
        Environment::Production => "https://entreprise.api.gouv.fr",
    };
    let mut p = api_gouv(
        Gateway::ApiEntreprise,
        format!("API Entreprise ({})", env_label(env)),
        api,
    );
    p.document_rate_limit = Some(RateLimit::per_minute(
        API_ENTREPRISE_DOCUMENT_LIMIT_PER_MINUTE,
    ));
    p
}

/// API Particulier (DINUM): long-lived JWT bearer, or (v2) an API key in `X-Api-Key`
/// ([`ApiClientBuilder::api_key`](crate::ApiClientBuilder::api_key)); traceability parameters.
/// A FranceConnect access token given to one call is that call's bearer (the FranceConnect
/// routes take it instead of the API token).
/// Production `https://particulier.api.gouv.fr`, staging `https://staging.particulier.api.gouv.fr`.
pub fn api_particulier(env: Environment) -> Preset {
    let api = match env {
        Environment::Sandbox => "https://staging.particulier.api.gouv.fr",
        Environment::Production => "https://particulier.api.gouv.fr",
    };
    let mut p = api_gouv(
        Gateway::ApiParticulier,
        format!("API Particulier ({})", env_label(env)),
        api,
    );
    p.api_key_header = "X-Api-Key".to_owned();
    p.france_connect = FranceConnectCarrier::Bearer;
    p
}

/// Any other API: set the credential with `.bearer()`, `.basic()`, `.api_key_header()`,
/// `.api_key_query()` or an OAuth grant plus `.token_url()`. No default rate limit.
pub fn custom(api_root: impl Into<String>) -> Preset {
    let api_root = api_root.into();
    Preset::base(Gateway::Custom, format!("custom ({api_root})"), &api_root)
}
