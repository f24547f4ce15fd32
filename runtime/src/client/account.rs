//! Which gateway account a client's calls count against.

use crate::auth::{ApiKey, Auth};
use crate::fleet::{AccountId, host_of};

/// The account of a client: API host, token URL and grant principal, or the static credential,
/// and the API key values.
pub(crate) fn account_of(api_root: &str, auth: &Auth, api_keys: &[ApiKey]) -> AccountId {
    let (token_url, principal) = match auth {
        Auth::None => (String::new(), String::new()),
        Auth::Static(s) | Auth::Jwt { header: s, .. } => {
            (String::new(), format!("static\0{}", s.expose()))
        }
        Auth::Token(p) => p.account(),
    };
    AccountId {
        api_host: host_of(api_root),
        token_url,
        principal,
        api_keys: api_keys
            .iter()
            .map(|k| k.value.expose().to_owned())
            .collect(),
    }
}
