//! The limits one call goes through: its group's quota (API Entreprise counts JSON calls and
//! document calls — PDF, ZIP — separately per token) and the host's ceiling (API Entreprise
//! and API Particulier also count every call from one IP, whatever the token).
//!
//! A group is an account of its own for the limiter: its own GCRA, its own 429 pause and
//! `RateLimit-Remaining` hold, in the process and in the fleet store (its key differs). The
//! host ceiling is process-wide and never shared through the store: a fleet spread over
//! several machines has several IPs.

use tokio::time::Instant;

use crate::fleet::AccountId;
use crate::fleet::handle::Fleet;
use crate::policy::limiter::Limiter;
use crate::policy::rate_limit::RateLimit;

/// The limits of a client, by group.
#[derive(Debug)]
pub(crate) struct Limits {
    json: Limiter,
    documents: Option<Limiter>,
    host: Option<Limiter>,
}

/// The rate limits a preset (or the builder) sets, by group.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct GroupLimits {
    /// Every call, or the calls outside the documents group when it has its own.
    pub calls: Option<RateLimit>,
    /// Calls whose answer is a document, when they have their own quota.
    pub documents: Option<RateLimit>,
    /// Every call to the API host from this process, whatever the account.
    pub host: Option<RateLimit>,
}

impl Limits {
    /// The limiters of `account` (and its fleet view) for `limits`.
    pub(crate) fn new(account: &AccountId, limits: GroupLimits, fleet: Option<&Fleet>) -> Self {
        let documents = limits.documents.map(|limit| {
            let group = in_group(account, "documents");
            let fleet = fleet.map(|f| Fleet {
                handle: f.handle.clone(),
                prefix: group.fleet_key(),
            });
            Limiter::new(group, Some(limit), fleet)
        });
        let host = limits.host.map(|limit| {
            let host = AccountId {
                api_host: account.api_host.clone(),
                token_url: String::new(),
                principal: "\0host ceiling".to_owned(),
                api_keys: Vec::new(),
            };
            Limiter::new(host, Some(limit), None)
        });
        Limits {
            json: Limiter::new(account.clone(), limits.calls, fleet.cloned()),
            documents,
            host,
        }
    }

    /// The limiter of a call's group.
    pub(crate) fn group(&self, document: bool) -> &Limiter {
        match (&self.documents, document) {
            (Some(d), true) => d,
            _ => &self.json,
        }
    }

    /// Waits for the call's slot in its group, then under the host ceiling; `Err(when)` at
    /// once if one comes after `deadline`.
    pub(crate) async fn acquire(&self, document: bool, deadline: Instant) -> Result<(), Instant> {
        self.group(document).acquire(deadline).await?;
        match &self.host {
            Some(h) => h.acquire(deadline).await,
            None => Ok(()),
        }
    }

    /// The limit of calls outside the documents group (for Debug).
    pub(crate) fn limit(&self) -> Option<RateLimit> {
        self.json.limit()
    }
}

/// The account of one group of `account`'s calls: another principal, so another key
/// everywhere (registry and store), never printed.
fn in_group(account: &AccountId, group: &str) -> AccountId {
    AccountId {
        principal: format!("{}\0group:{group}", account.principal),
        ..account.clone()
    }
}
