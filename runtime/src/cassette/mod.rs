//! Layer 9, `cassette` (feature `cassette`): recording a client's calls to a file and
//! answering from it offline, with nothing secret and no personal value in the file.
//!
//! What is written is built from an allow-list: the operation, method, path template, the path
//! and query with personal values replaced ([`PersonalFields`]), the request body (JSON and
//! form bodies with personal values replaced, other text as sent, bytes by digest), the
//! status, the response
//! headers the runtime reads (never cookies) and the response body. Every text also goes
//! through the client's scrubber (its credentials, the call's token and FranceConnect token,
//! in all their encodings). Token requests are never recorded: a replaying client skips the
//! token step.
//!
//! The format is JSON lines rather than YAML: one entry is one line written with one append,
//! so a cassette is never rewritten and never holds half an entry; it diffs line by line,
//! greps, and needs no dependency beyond `serde_json`. Keys come out in a fixed order.

mod entry;
mod file;
mod personal;

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use bytes::Bytes;
use http::HeaderMap;

use crate::core::scrub::Scrubber;
use crate::core::sync::LockExt;

use entry::{CallRecord, Entry, ResponseView};
use file::{Header, Writer};
use personal::{Placeholders, Seen};

pub(crate) use entry::CallView;
pub use personal::PersonalFields;

/// A client's cassette: recording or replaying.
#[derive(Debug)]
pub(crate) enum Cassette {
    Record(Recorder),
    Replay(Player),
}

/// Writes each answered attempt.
#[derive(Debug)]
pub(crate) struct Recorder {
    rules: Placeholders,
    writer: Writer,
}

/// Answers calls from a cassette, in recorded order per call.
#[derive(Debug)]
pub(crate) struct Player {
    rules: Placeholders,
    path: PathBuf,
    /// Entries not served yet, by call key.
    queues: Mutex<BTreeMap<String, VecDeque<Entry>>>,
    /// How many entries each key had.
    recorded: BTreeMap<String, usize>,
}

/// What replay found for a call.
pub(crate) enum Replayed {
    /// The recorded answer.
    Answer {
        status: u16,
        headers: HeaderMap,
        body: Bytes,
    },
    /// The cassette holds this call `recorded` times, all already served (0: never recorded).
    Missing { recorded: usize },
}

impl Cassette {
    /// A fresh recording at `path` (an existing file is replaced).
    pub(crate) fn record(path: &Path, personal: Option<PersonalFields>) -> Result<Self, String> {
        if let Some(p) = &personal {
            p.check()?;
        }
        let rules = Placeholders::new(personal);
        let header = Header {
            gouvgen_cassette: file::FORMAT,
            key_check: rules.key_check(),
        };
        let writer = Writer::create(path, &header)
            .map_err(|e| format!("cassette {}: {e}", path.display()))?;
        Ok(Cassette::Record(Recorder { rules, writer }))
    }

    /// Replays the cassette at `path`; fails when it cannot be read or was recorded with
    /// another personal-data key.
    pub(crate) fn replay(path: &Path, personal: Option<PersonalFields>) -> Result<Self, String> {
        if let Some(p) = &personal {
            p.check()?;
        }
        let rules = Placeholders::new(personal);
        let (header, entries) = file::read(path)?;
        if header.key_check != rules.key_check() {
            return Err(format!(
                "cassette {} was recorded with {} personal-data key than this client's: give the same `PersonalFields` key as when recording",
                path.display(),
                if header.key_check.is_some() {
                    "another"
                } else {
                    "no"
                }
            ));
        }
        let mut queues: BTreeMap<String, VecDeque<Entry>> = BTreeMap::new();
        for e in entries {
            queues.entry(e.call.key()).or_default().push_back(e);
        }
        let recorded = queues.iter().map(|(k, q)| (k.clone(), q.len())).collect();
        Ok(Cassette::Replay(Player {
            rules,
            path: path.to_owned(),
            queues: Mutex::new(queues),
            recorded,
        }))
    }
}

impl Recorder {
    /// Appends the exchange of one attempt.
    pub(crate) fn record(
        &self,
        call: &CallView<'_>,
        status: u16,
        headers: &HeaderMap,
        body: &Bytes,
        correlation_id: &str,
    ) -> Result<(), String> {
        let mut seen = Seen::default();
        let record = CallRecord::of(call, &self.rules, &mut seen);
        let resp = ResponseView {
            status,
            headers,
            body,
            correlation_id,
        };
        let entry = Entry::of(record, &resp, &self.rules, call.scrubber, seen);
        self.writer
            .append(&entry)
            .map_err(|e| format!("cassette {}: {e}", self.writer.path().display()))
    }
}

impl Player {
    /// The next recorded answer for this call.
    pub(crate) fn answer(&self, call: &CallView<'_>, correlation_id: &str) -> Replayed {
        let mut seen = Seen::default();
        let key = CallRecord::of(call, &self.rules, &mut seen).key();
        let entry = self
            .queues
            .lock_unpoisoned()
            .get_mut(&key)
            .and_then(VecDeque::pop_front);
        match entry {
            Some(e) => {
                let (headers, body) = e.answer(correlation_id, &seen);
                Replayed::Answer {
                    status: e.status,
                    headers,
                    body,
                }
            }
            None => Replayed::Missing {
                recorded: self.recorded.get(&key).copied().unwrap_or(0),
            },
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// The scrubber of one call: the client's secrets plus the call's own (token, FranceConnect
/// token).
pub(crate) fn call_scrubber<'a>(
    client: &Scrubber,
    call_secrets: impl IntoIterator<Item = &'a str>,
) -> Scrubber {
    let mut s = client.clone();
    for secret in call_secrets {
        s.add(secret);
    }
    s
}
