//! The credential a client sends: none, a fixed header, a JWT or OAuth tokens, plus API keys.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::auth::provider::TokenProvider;
use crate::core::secret::Secret;

/// Where an API key goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiKeyLocation {
    /// In a request header.
    Header,
    /// In a query parameter.
    Query,
}

/// An API key sent on every authenticated call.
#[derive(Clone, Debug)]
pub(crate) struct ApiKey {
    pub location: ApiKeyLocation,
    pub name: String,
    pub value: Secret,
}

/// The credential configured on a client.
#[derive(Clone, Debug)]
pub(crate) enum Auth {
    None,
    /// A fixed `Authorization` header value (`Bearer x`, `Basic y`).
    Static(Secret),
    /// API Entreprise / Particulier JWT, with its `exp`.
    Jwt {
        header: Secret,
        expires_at: Option<DateTime<Utc>>,
    },
    Token(Arc<TokenProvider>),
}

impl Auth {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Auth::None => "none",
            Auth::Static(s) if s.expose().starts_with("Basic ") => "basic",
            Auth::Static(_) => "bearer",
            Auth::Jwt { .. } => "jwt",
            Auth::Token(_) => "oauth2",
        }
    }
}
