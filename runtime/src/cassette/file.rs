//! The cassette file: JSON lines. The first line says the format and the key check; each
//! further line is one [`Entry`], written with one `write_all` on a file opened for appending,
//! under a lock, so concurrent calls never interleave and a crash can only leave a last line
//! without its newline, which reading refuses (it never passes a torn entry for a whole one).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::core::sync::LockExt;

use super::entry::Entry;

/// The format version written in the first line.
pub(crate) const FORMAT: u32 = 1;

/// Largest cassette read (a cassette is a test fixture, not a log).
pub(crate) const MAX_CASSETTE_SIZE: u64 = 256 * 1024 * 1024;

/// The first line of a cassette.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub(crate) struct Header {
    pub gouvgen_cassette: u32,
    /// A check value of the personal-data key, if personal fields were set.
    pub key_check: Option<String>,
}

/// Appends entries to a cassette.
#[derive(Debug)]
pub(crate) struct Writer {
    path: PathBuf,
    file: Mutex<File>,
}

impl Writer {
    /// Starts a fresh cassette at `path` (an existing file is replaced).
    pub(crate) fn create(path: &Path, header: &Header) -> std::io::Result<Writer> {
        let mut file = File::create(path)?;
        file.write_all(&line(header)?)?;
        file.sync_data()?;
        let file = OpenOptions::new().append(true).open(path)?;
        Ok(Writer {
            path: path.to_owned(),
            file: Mutex::new(file),
        })
    }

    /// Appends one whole line.
    pub(crate) fn append(&self, entry: &Entry) -> std::io::Result<()> {
        let bytes = line(entry)?;
        let mut file = self.file.lock_unpoisoned();
        file.write_all(&bytes)?;
        file.flush()
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

fn line(value: &impl Serialize) -> std::io::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec(value)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Reads a whole cassette: its header and entries, or why it cannot be used (the message
/// names line numbers, never content).
pub(crate) fn read(path: &Path) -> Result<(Header, Vec<Entry>), String> {
    let fail = |what: String| format!("cassette {}: {what}", path.display());
    let size = std::fs::metadata(path)
        .map_err(|e| fail(e.to_string()))?
        .len();
    if size > MAX_CASSETTE_SIZE {
        return Err(fail(format!("larger than {MAX_CASSETTE_SIZE} bytes")));
    }
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    if !text.is_empty() && !text.ends_with('\n') {
        let n = text.lines().count();
        return Err(fail(format!(
            "line {n} has no end: the recording was cut off; record again"
        )));
    }
    let mut lines = text.lines().enumerate();
    let header: Header = match lines.next() {
        Some((_, l)) => serde_json::from_str(l)
            .map_err(|_| fail("line 1 is not a gouvgen cassette header".into()))?,
        None => return Err(fail("empty".into())),
    };
    if header.gouvgen_cassette != FORMAT {
        return Err(fail(format!(
            "format {} (this runtime reads format {FORMAT})",
            header.gouvgen_cassette
        )));
    }
    let mut entries = Vec::new();
    for (i, l) in lines {
        let entry: Entry = serde_json::from_str(l)
            .map_err(|e| fail(format!("line {}: {}", i + 1, e.classify_str())))?;
        if let Some(why) = entry.invalid() {
            return Err(fail(format!("line {}: {why}", i + 1)));
        }
        entries.push(entry);
    }
    Ok((header, entries))
}

/// A serde_json error's kind, without the content it quotes.
trait Classify {
    fn classify_str(&self) -> &'static str;
}

impl Classify for serde_json::Error {
    fn classify_str(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "not a cassette entry",
            serde_json::error::Category::Eof => "cut off",
        }
    }
}
