//! Reading response bodies under a size limit: a hostile or broken server must not make the
//! client buffer an unbounded body. The limit is checked on `Content-Length` before reading and
//! again on every chunk.

use bytes::{Bytes, BytesMut};

/// Default limit of an API response body (32 MiB).
pub const DEFAULT_MAX_RESPONSE_SIZE: usize = 32 * 1024 * 1024;
/// Default limit of a token endpoint response body (64 KiB: a token response is a few KiB).
pub const DEFAULT_MAX_TOKEN_RESPONSE_SIZE: usize = 64 * 1024;

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Larger than the limit (announced or actual).
    TooLarge,
    /// The connection failed while reading (reset, truncated, bad chunking).
    Transport(reqwest::Error),
}

/// Reads the whole body, failing as soon as it exceeds `limit` bytes.
pub(crate) async fn read_limited(
    mut resp: reqwest::Response,
    limit: usize,
) -> Result<Bytes, BodyError> {
    if resp.content_length().is_some_and(|l| l > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    // Most bodies arrive in one chunk: keep it without copying.
    let mut first: Option<Bytes> = None;
    let mut buf: Option<BytesMut> = None;
    let mut len = 0usize;
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Transport)? {
        len = len.saturating_add(chunk.len());
        if len > limit {
            return Err(BodyError::TooLarge);
        }
        match (&mut first, &mut buf) {
            (None, None) => first = Some(chunk),
            (Some(f), None) => {
                let mut b = BytesMut::with_capacity(len.max(f.len() * 2).min(limit));
                b.extend_from_slice(f);
                b.extend_from_slice(&chunk);
                first = None;
                buf = Some(b);
            }
            (_, Some(b)) => b.extend_from_slice(&chunk),
        }
    }
    Ok(match (first, buf) {
        (_, Some(b)) => b.freeze(),
        (Some(f), None) => f,
        (None, None) => Bytes::new(),
    })
}
