//! What an emulated gateway accepts and how strict it is.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::state::CallRecord;

/// Called with every API call once answered (the `gouvgen emulate` one-line log).
#[derive(Clone)]
pub(crate) struct CallObserver(pub Arc<dyn Fn(&CallRecord) + Send + Sync>);

impl std::fmt::Debug for CallObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallObserver")
    }
}

impl std::ops::Deref for CallObserver {
    type Target = dyn Fn(&CallRecord) + Send + Sync;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

/// The gateway being emulated: decides the token endpoint, the grants, how credentials are
/// presented and the format of error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// DGFiP API Management: client_credentials with HTTP Basic at `/token`, `/revoke`;
    /// `X-Correlation-ID` mandatory; `{"erreur":{...}}` bodies.
    Dgfip,
    /// PISTE: client_credentials with the credentials in the form body at `/api/oauth/token`;
    /// `KeyId` API keys; `x-rate-limit` on every response.
    Piste,
    /// Douane: password grant (`client_id=gun-api`) and refresh tokens at `/oauth2/token`.
    Douane,
    /// API Entreprise: a long-lived JWT as bearer, no token endpoint; `{"errors":[...]}` bodies.
    ApiEntreprise,
    /// API Particulier: a long-lived JWT as bearer or an `X-Api-Key`, no token endpoint.
    ApiParticulier,
}

impl Kind {
    /// Path of the token endpoint (`None`: the gateway has none).
    pub fn token_path(self) -> Option<&'static str> {
        match self {
            Kind::Dgfip => Some("/token"),
            Kind::Piste => Some("/api/oauth/token"),
            Kind::Douane => Some("/oauth2/token"),
            Kind::ApiEntreprise | Kind::ApiParticulier => None,
        }
    }

    /// Whether ignoring a 429 earns a ban (API Entreprise / API Particulier: 12 hours).
    pub(crate) fn bans(self) -> bool {
        matches!(self, Kind::ApiEntreprise | Kind::ApiParticulier)
    }
}

/// An application registered at the gateway.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub id: String,
    pub secret: String,
    pub scopes: Vec<String>,
}

/// Configuration of one emulated gateway; build it with [`GatewayConfig::dgfip`] and friends,
/// then pass it to [`crate::Emulator::start`].
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub(crate) kind: Kind,
    pub(crate) clients: Vec<Client>,
    pub(crate) accounts: Vec<(String, String)>,
    pub(crate) bearer_tokens: Vec<String>,
    pub(crate) api_keys: Vec<(String, String)>,
    pub(crate) token_lifetime: Duration,
    pub(crate) refresh_lifetime: Duration,
    pub(crate) rate_limit: Option<(u32, Duration)>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) ban_grace: Duration,
    pub(crate) call_log_capacity: usize,
    pub(crate) specs: Vec<PathBuf>,
    pub(crate) load_options: gouvgen::load::LoadOptions,
    pub(crate) port: u16,
    pub(crate) on_call: Option<CallObserver>,
    pub(crate) v3: V3Rules,
}

/// The API Entreprise / API Particulier v3 quotas: per token and route group, and per IP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupQuotas {
    /// Calls per token and window on JSON routes (250 per minute at the gateways).
    pub json: u32,
    /// Calls per token and window on document routes (PDF, ZIP; 50 per minute).
    pub documents: u32,
    /// Calls per source IP and window, all tokens together (1,000 per minute).
    pub per_ip: u32,
    /// The window (one minute at the gateways).
    pub per: Duration,
}

impl GroupQuotas {
    /// The figures of the 2026 developer documentation: 250 / 50 per token, 1,000 per IP, per
    /// minute.
    pub const GATEWAYS: GroupQuotas = GroupQuotas {
        json: 250,
        documents: 50,
        per_ip: 1000,
        per: Duration::from_secs(60),
    };
}

/// The v3 gateway rules that are off by default (the existing tests and e2e suites rely on
/// the plain quota), switched on one by one or all with [`GatewayConfig::production_rules`].
#[derive(Debug, Clone)]
pub(crate) struct V3Rules {
    pub group_quotas: Option<GroupQuotas>,
    /// Path segments that make a route a document route (besides `attestation*`).
    pub document_segments: Vec<String>,
    /// How long the ban lasts when a client ignores a 429 (`None`: violations only counted).
    pub ban_on_violation: Option<Duration>,
    /// Length of the ban [`crate::Emulator::ban`] applies.
    pub ban_length: Duration,
    /// 409 for a request identical to one in flight (same credentials, path and query).
    pub conflict_in_flight: bool,
    /// Keys under `data` of scopes the token lacks are removed (API Particulier production).
    pub filter_by_scopes: bool,
    pub fixtures: Vec<PathBuf>,
    /// Staging folder name → path template served.
    pub fixture_routes: Vec<(String, String)>,
}

/// The gateways' ban: 12 hours.
pub(crate) const BAN_LENGTH: Duration = Duration::from_secs(12 * 3600);

impl GatewayConfig {
    /// A gateway of `kind` with the provider's default lifetimes and no quota.
    pub fn new(kind: Kind) -> Self {
        GatewayConfig {
            kind,
            clients: Vec::new(),
            accounts: Vec::new(),
            bearer_tokens: Vec::new(),
            api_keys: Vec::new(),
            // Douane tokens live 5 minutes; DGFiP and PISTE ones one hour.
            token_lifetime: Duration::from_secs(if kind == Kind::Douane { 300 } else { 3600 }),
            refresh_lifetime: Duration::from_secs(1800),
            rate_limit: None,
            retry_after: None,
            ban_grace: Duration::from_millis(100),
            call_log_capacity: 100_000,
            specs: Vec::new(),
            load_options: gouvgen::load::LoadOptions::default(),
            port: 0,
            on_call: None,
            v3: V3Rules {
                group_quotas: None,
                document_segments: vec!["documents".into(), "actes_bilans".into()],
                ban_on_violation: None,
                ban_length: BAN_LENGTH,
                conflict_in_flight: false,
                filter_by_scopes: false,
                fixtures: Vec::new(),
                fixture_routes: (KNOWN_FOLDERS.iter())
                    .map(|(f, t)| (f.to_string(), t.to_string()))
                    .collect(),
            },
        }
    }

    /// DGFiP API Management (any access point: Internet, FranceConnect, RIE).
    pub fn dgfip() -> Self {
        Self::new(Kind::Dgfip)
    }
    /// PISTE (AIFE).
    pub fn piste() -> Self {
        Self::new(Kind::Piste)
    }
    /// Douane (DGDDI).
    pub fn douane() -> Self {
        Self::new(Kind::Douane)
    }
    /// API Entreprise (DINUM).
    pub fn api_entreprise() -> Self {
        Self::new(Kind::ApiEntreprise)
    }
    /// API Particulier (DINUM).
    pub fn api_particulier() -> Self {
        Self::new(Kind::ApiParticulier)
    }

    /// Registers an application (DGFiP consumer key, PISTE client id) with its secret and the
    /// scopes it may ask for; asking for any other scope is refused with `invalid_scope`.
    pub fn client(mut self, id: &str, secret: &str, scopes: &[&str]) -> Self {
        self.clients.push(Client {
            id: id.into(),
            secret: secret.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        });
        self
    }

    /// Registers a Douane API account for the password grant.
    pub fn account(mut self, username: &str, password: &str) -> Self {
        self.accounts.push((username.into(), password.into()));
        self
    }

    /// Accepts a long-lived bearer token (API Entreprise / API Particulier JWT, see
    /// [`crate::jwt`]). If it is JWT-shaped with an `exp` claim in the past, it is refused.
    pub fn bearer(mut self, token: &str) -> Self {
        self.bearer_tokens.push(token.into());
        self
    }

    /// Same as [`GatewayConfig::bearer`], under the name the providers use.
    pub fn jwt_accepted(self, token: &str) -> Self {
        self.bearer(token)
    }

    /// Accepts an API key sent in `header` (PISTE `KeyId`, API Particulier `X-Api-Key`). A
    /// valid key authenticates a call that has no bearer token; a bearer token, when present,
    /// must still be valid.
    pub fn api_key(mut self, header: &str, key: &str) -> Self {
        self.api_keys
            .push((header.to_ascii_lowercase(), key.into()));
        self
    }

    /// Lifetime of the access tokens issued (tests use a few seconds to see expiry).
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Lifetime of Douane refresh tokens (30 minutes by default).
    pub fn refresh_lifetime(mut self, lifetime: Duration) -> Self {
        self.refresh_lifetime = lifetime;
        self
    }

    /// At most `requests` API calls per client in any sliding window of `per` (1 s for the
    /// DGFiP/PISTE quotas, 1 min for API Entreprise style); 429 beyond. No limit by default.
    /// The window is 5% shorter (at most 50 ms) to absorb arrival jitter of evenly spaced calls;
    /// [`crate::Stats::max_calls_per_second`] measures strictly.
    pub fn rate_limit(mut self, requests: u32, per: Duration) -> Self {
        self.rate_limit = Some((requests, per));
        self
    }

    /// `Retry-After` of 429 answers (rounded up to whole seconds). By default, the time until
    /// the window has room again.
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// API Entreprise / Particulier ban emulation: calls arriving this soon after the 429 that
    /// opened a Retry-After period, on another connection, were already in flight and are not
    /// counted as ban violations (100 ms by default). A call on a connection that has already
    /// received the 429 always counts.
    pub fn ban_grace(mut self, grace: Duration) -> Self {
        self.ban_grace = grace;
        self
    }

    /// How many API calls [`crate::Emulator::calls`] keeps (the most recent; 100,000 by default).
    pub fn call_log_capacity(mut self, capacity: usize) -> Self {
        self.call_log_capacity = capacity;
        self
    }

    /// Serves every operation of an OpenAPI 3.x or Swagger 2.0 document (JSON or YAML) under
    /// its base path, answering with its examples.
    pub fn mount_spec(mut self, path: impl Into<PathBuf>) -> Self {
        self.specs.push(path.into());
        self
    }

    /// Which files the mounted documents' external references may read (by default, files
    /// under each document's own folder, as `gouvgen generate` reads them).
    pub fn load_options(mut self, options: gouvgen::load::LoadOptions) -> Self {
        self.load_options = options;
        self
    }

    /// Serves on this port of 127.0.0.1 (default 0: a free port, the right choice for tests).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Calls `observer` with every API call once answered (or, when dark, once received).
    pub fn on_call(mut self, observer: impl Fn(&CallRecord) + Send + Sync + 'static) -> Self {
        self.on_call = Some(CallObserver(Arc::new(observer)));
        self
    }

    /// API Entreprise / API Particulier v3 quotas per token and route group (JSON, documents)
    /// and per source IP, instead of [`GatewayConfig::rate_limit`]; `RateLimit-*` headers then
    /// describe the route's group. A route is a document route when a path segment starts
    /// with `attestation` or is `documents` or `actes_bilans` (see
    /// [`GatewayConfig::document_segment`]).
    pub fn group_quotas(mut self, quotas: GroupQuotas) -> Self {
        self.v3.group_quotas = Some(quotas);
        self
    }

    /// Counts routes with this path segment as document routes (50 per minute).
    pub fn document_segment(mut self, segment: &str) -> Self {
        self.v3.document_segments.push(segment.to_string());
        self
    }

    /// A client that calls again during the Retry-After period of a 429 (a
    /// [`crate::Stats::ban_violations`]) gets its IP banned for `length` on the emulator's
    /// clock: connections accepted, requests read, never answered. Off by default (violations
    /// are only counted).
    pub fn ban_on_violation(mut self, length: Duration) -> Self {
        self.v3.ban_on_violation = Some(length);
        self
    }

    /// Whether a request identical to one still in flight (same credentials, path and query)
    /// gets 409 with code 00015, as API Entreprise / API Particulier answer. Off by default:
    /// the e2e suites send identical calls concurrently.
    pub fn conflict_in_flight(mut self, on: bool) -> Self {
        self.v3.conflict_in_flight = on;
        self
    }

    /// Production filtering of API Particulier answers: a key under `data` that a scope names
    /// (`cnaf_enfants` names `enfants`) is removed unless the token has that scope (JWT claim
    /// `scopes`, or the FranceConnect token's scopes). Off by default, like the providers'
    /// staging environment.
    pub fn filter_by_scopes(mut self, on: bool) -> Self {
        self.v3.filter_by_scopes = on;
        self
    }

    /// Serves the cases of a folder in the providers' staging format
    /// (`etalab/siade_staging_data`: `payloads/<bouquet>_<version>_<endpoint>/*.yaml`, and
    /// FranceConnect tokens in `payloads/france_connect/`); `dir` is the repository root or
    /// its `payloads` folder. Read when the emulator starts.
    pub fn fixtures(mut self, dir: impl Into<PathBuf>) -> Self {
        self.v3.fixtures.push(dir.into());
        self
    }

    /// Serves the staging folder `folder` (`api_particulier_v3_...`) at `template`
    /// (`/v3/dss/.../{param}`: placeholders bind whole segments), besides the folders the
    /// emulator knows.
    pub fn fixture_route(mut self, folder: &str, template: &str) -> Self {
        self.v3.fixture_routes.retain(|(f, _)| f != folder);
        (self.v3.fixture_routes).push((folder.to_string(), template.to_string()));
        self
    }

    /// Everything the 2026 gateways do that is off by default: [`GroupQuotas::GATEWAYS`], the
    /// 12-hour ban for ignoring a 429, the 409 for a request in flight, filtering by scopes.
    pub fn production_rules(self) -> Self {
        self.group_quotas(GroupQuotas::GATEWAYS)
            .ban_on_violation(BAN_LENGTH)
            .conflict_in_flight(true)
            .filter_by_scopes(true)
    }
}

/// The endpoints of the staging folders: folder name → path template. The folders do not
/// name their route (the repository's index does), so the table is here; more with
/// [`GatewayConfig::fixture_route`].
pub(crate) const KNOWN_FOLDERS: &[(&str, &str)] = &[
    (
        "api_entreprise_v3_acoss_attestations_sociales",
        "/v3/urssaf/unites_legales/{siren}/attestation_vigilance",
    ),
    (
        "api_entreprise_v3_insee_successions",
        "/v3/insee/sirene/etablissements/{siret}/successions",
    ),
    (
        "api_entreprise_v3_insee_unites_legales",
        "/v3/insee/sirene/unites_legales/{siren}",
    ),
    (
        "api_entreprise_v3_rnm_entreprises_artisanales",
        "/v3/cma_france/rnm/unites_legales/{siren}",
    ),
    (
        "api_particulier_v2_cnous_student_scholarship",
        "/api/v2/etudiants-boursiers",
    ),
    (
        "api_particulier_v3_cnav_allocation_adulte_handicape_with_civility",
        "/v3/dss/allocation_adulte_handicape/identite",
    ),
    (
        "api_particulier_v3_cnav_quotient_familial_with_france_connect",
        "/v3/dss/quotient_familial/france_connect",
    ),
];
