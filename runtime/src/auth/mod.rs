//! Authentication: which credential goes on each call, and getting OAuth tokens.
//!
//! - [`grants`]: token endpoint requests (client_credentials, password, refresh, revoke);
//! - [`token_cache`]: the shared single-flight token cache;
//! - [`jwt`]: reading the `exp` of API Entreprise / Particulier JWTs.

//! - [`credential`]: what a client sends ([`ApiKeyLocation`]);
//! - `provider`: one OAuth client's token source (cache, single flight, fleet share, revoke);
//! - `failure`: why a token could not be obtained ([`TokenEndpointError`]).

pub mod credential;
pub(crate) mod failure;
pub(crate) mod fleet_tokens;
pub mod grants;
pub mod jwt;
pub(crate) mod provider;
pub mod token_cache;

pub use credential::ApiKeyLocation;
pub(crate) use credential::{ApiKey, Auth};
pub use failure::{FAILURE_HOLD, TokenEndpointError};
pub use grants::{ClientAuthMethod, DEFAULT_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME};
pub(crate) use provider::{ProviderConfig, TokenProvider};
