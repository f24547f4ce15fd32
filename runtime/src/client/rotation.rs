//! Replacing credentials on a live client: API Entreprise / Particulier JWT renewal (the new
//! token works alongside the old one), PISTE / DGFiP secret rotation, a Douane password change.
//!
//! The new credentials apply to the client and every clone (they share one slot). Calls already
//! in flight finish with the credentials they started with; the token cached for the old
//! credentials is no longer used by this client (the next call fetches one for the new ones).

use std::sync::Arc;

use crate::auth::Auth;
use crate::core::secret::Secret;
use crate::core::sync::{LockExt, RwLockExt};
use crate::error::Error;

use super::api::ApiClient;
use super::credentials::Credential;

impl ApiClient {
    fn replace_credential(
        &self,
        edit: impl FnOnce(&Credential) -> Result<Credential, Error>,
    ) -> Result<(), Error> {
        let mut current = self.inner.credential.lock_unpoisoned();
        let next = edit(&current)?;
        let api_keys = self.creds().api_keys.clone();
        let creds = self.inner.setup.make_creds(&next, api_keys)?;
        if let (Auth::Token(p), Some(fleet)) = (&creds.auth, &self.inner.shared.fleet) {
            p.attach_fleet(fleet.clone());
        }
        *current = next;
        *self.inner.creds.write_unpoisoned() = Arc::new(creds);
        tracing::info!("credentials replaced");
        Ok(())
    }

    /// Replaces the API Entreprise / API Particulier JWT (or the static bearer token). Fails
    /// with [`Error::CredentialExpired`] if the new JWT has already expired, and with
    /// [`Error::InvalidConfig`] if the client does not use a bearer token.
    pub fn rotate_jwt(&self, token: impl Into<Secret>) -> Result<(), Error> {
        let token = token.into();
        self.replace_credential(|c| match c {
            Credential::Jwt(_) => Ok(Credential::Jwt(token)),
            Credential::Bearer(_) => Ok(Credential::Bearer(token)),
            _ => Err(wrong_kind("a JWT or bearer token")),
        })
    }

    /// Replaces the OAuth client secret (PISTE, DGFiP), keeping the client id.
    pub fn rotate_client_secret(&self, client_secret: impl Into<Secret>) -> Result<(), Error> {
        let secret = client_secret.into();
        self.replace_credential(|c| match c {
            Credential::ClientCredentials(id, _, m) => {
                Ok(Credential::ClientCredentials(id.clone(), secret, *m))
            }
            _ => Err(wrong_kind("client credentials")),
        })
    }

    /// Replaces the OAuth client id and secret (a new application key pair).
    pub fn rotate_client_credentials(
        &self,
        client_id: impl Into<Secret>,
        client_secret: impl Into<Secret>,
    ) -> Result<(), Error> {
        let (id, secret) = (client_id.into(), client_secret.into());
        self.replace_credential(|c| match c {
            Credential::ClientCredentials(_, _, m) => {
                Ok(Credential::ClientCredentials(id, secret, *m))
            }
            _ => Err(wrong_kind("client credentials")),
        })
    }

    /// Replaces the password of the password grant (Douane API account), keeping the username.
    pub fn rotate_password(&self, password: impl Into<Secret>) -> Result<(), Error> {
        let password = password.into();
        self.replace_credential(|c| match c {
            Credential::Password(user, _, cid) => {
                Ok(Credential::Password(user.clone(), password, cid.clone()))
            }
            Credential::Basic(user, _) => Ok(Credential::Basic(user.clone(), password)),
            _ => Err(wrong_kind("a password")),
        })
    }
}

fn wrong_kind(what: &str) -> Error {
    Error::InvalidConfig {
        message: format!("this client is not configured with {what}: nothing to rotate"),
    }
}
