//! The client's side of [`crate::cassette`] (feature `cassette`): the builder settings (their
//! setters are in `builder`), and the two hooks `attempt` calls: answer from the cassette
//! instead of the network (replay), and write down an answered attempt (record).

use std::path::PathBuf;
use std::sync::Arc;

use crate::cassette::{CallView, Cassette, PersonalFields, Replayed, call_scrubber};
use crate::core::scrub::Scrubber;
use crate::error::{Error, NotRecorded};
use crate::gateway::rules::token_rejected;
use crate::policy::retry::parse_retry_after;

use super::api::ApiClient;
use super::attempt::{Answer, Attempt, CallPlan};
use super::credentials::config_error;

/// Builder settings of the cassette.
#[derive(Debug, Default)]
pub(crate) struct CassetteSettings {
    mode: Option<Mode>,
    personal: Option<PersonalFields>,
}

#[derive(Debug)]
enum Mode {
    Record(PathBuf),
    Replay(PathBuf),
}

impl CassetteSettings {
    /// Opens the cassette (creates it to record; reads it whole to replay).
    pub(crate) fn open(self) -> Result<Option<Arc<Cassette>>, Error> {
        let cassette = match self.mode {
            None => return Ok(None),
            Some(Mode::Record(path)) => Cassette::record(&path, self.personal),
            Some(Mode::Replay(path)) => Cassette::replay(&path, self.personal),
        };
        cassette.map(|c| Some(Arc::new(c))).map_err(config_error)
    }

    pub(crate) fn record_to(&mut self, path: PathBuf) {
        self.mode = Some(Mode::Record(path));
    }

    pub(crate) fn replay_from(&mut self, path: PathBuf) {
        self.mode = Some(Mode::Replay(path));
    }

    pub(crate) fn personal_fields(&mut self, fields: PersonalFields) {
        self.personal = Some(fields);
    }
}

impl ApiClient {
    fn cassette_view<'a>(&self, plan: &CallPlan<'a>, scrubber: &'a Scrubber) -> CallView<'a> {
        let traceability = match (plan.req.traceability, self.traceability()) {
            (true, Ok(t)) => vec![
                ("context".to_owned(), t.context),
                ("recipient".to_owned(), t.recipient),
                ("object".to_owned(), t.object),
            ],
            _ => Vec::new(),
        };
        CallView {
            req: plan.req,
            traceability,
            scrubber,
        }
    }

    /// Cassette hook (replay): the recorded answer of this attempt, if the client replays.
    pub(super) fn replayed_attempt(&self, plan: &CallPlan<'_>) -> Option<Result<Attempt, Error>> {
        let Some(Cassette::Replay(player)) = self.inner.cassette.as_deref() else {
            return None;
        };
        let scrubber = self.call_scrubber(plan, None);
        let view = self.cassette_view(plan, &scrubber);
        let result = match player.answer(&view, plan.correlation_id) {
            Replayed::Answer {
                status,
                headers,
                body,
            } => Ok(Attempt {
                result: Ok(Answer {
                    status,
                    retry_after: parse_retry_after(&headers),
                    headers,
                    body,
                }),
                token: None,
                timeout: self.inner.timeout,
            }),
            Replayed::Missing { recorded } => {
                tracing::warn!(recorded, "call not in the cassette");
                Err(Error::NotRecorded(Box::new(NotRecorded {
                    operation_id: plan.req.operation_id,
                    method: plan.req.method.to_string(),
                    path_template: plan.req.path_template,
                    correlation_id: plan.correlation_id.to_owned(),
                    recorded,
                    cassette: player.path().display().to_string(),
                })))
            }
        };
        Some(result)
    }

    /// Cassette hook (record): writes down an answered attempt. An answer refusing the
    /// attempt's token is left out: the client refreshes the token and the answer to the
    /// retry is what a replay (which has no token) must get.
    pub(super) fn record_attempt(&self, plan: &CallPlan<'_>, sent: &Attempt) -> Result<(), Error> {
        let (Some(Cassette::Record(recorder)), Ok(a)) =
            (self.inner.cassette.as_deref(), &sent.result)
        else {
            return Ok(());
        };
        if sent.token.is_some()
            && (400..500).contains(&a.status)
            && token_rejected(a.status, &a.headers, &a.body)
        {
            return Ok(());
        }
        let scrubber = self.call_scrubber(plan, sent.token.as_ref());
        let view = self.cassette_view(plan, &scrubber);
        recorder
            .record(&view, a.status, &a.headers, &a.body, plan.correlation_id)
            .map_err(config_error)
    }

    fn call_scrubber(
        &self,
        plan: &CallPlan<'_>,
        token: Option<&crate::auth::token_cache::CachedToken>,
    ) -> Scrubber {
        let mut secrets: Vec<String> = Vec::new();
        if let Some(t) = token {
            // The header as sent too: an echo may encode it whole (base64 of `Bearer …`).
            secrets.push(format!("Bearer {}", t.access.expose()));
            secrets.extend(t.refresh.as_ref().map(|r| r.expose().to_owned()));
        }
        if let Some(h) = &plan.creds.static_authorization
            && let Ok(h) = h.to_str()
        {
            secrets.push(h.to_owned());
        }
        let fc = self.options.france_connect_token.as_ref();
        secrets.extend(fc.map(|s| s.expose().to_owned()));
        call_scrubber(&plan.creds.scrubber, secrets.iter().map(String::as_str))
    }
}
