//! A byte-level loopback server (raw tokio TcpListener) for misbehaviour axum cannot produce:
//! resets after the request, truncated bodies, cut chunked encoding, non-UTF-8 headers, hangs.
//! One request per connection; every request is recorded.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does once it has read a request.
pub enum Reply {
    /// Writes these bytes, then closes.
    Bytes(Vec<u8>),
    /// Writes these bytes, then waits this long, then more bytes, then closes.
    Slow(Vec<u8>, Duration, Vec<u8>),
    /// Closes without answering (FIN).
    Close,
    /// Resets the connection (RST) without answering.
    Reset,
    /// Never answers.
    Hang,
}

/// A complete HTTP/1.1 response with `Connection: close`.
pub fn http(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut out = format!(
        "HTTP/1.1 {status} X\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    )
    .into_bytes();
    for (k, v) in headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    Reply::Bytes(out)
}

pub struct Raw {
    pub url: String,
    pub accepted: Arc<AtomicUsize>,
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl Raw {
    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

/// Reads one request (head + `Content-Length` body) as lossy text; `None` if the peer closed.
async fn read_request(s: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some(String::from_utf8_lossy(&buf).into_owned());
        }
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Starts a raw server answering request number `i` (0-based) with `f(request, i)`.
pub async fn raw_server(f: impl Fn(&str, usize) -> Reply + Send + Sync + 'static) -> Raw {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let f = Arc::new(f);
    let (acc, reqs) = (Arc::clone(&accepted), Arc::clone(&requests));
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            acc.fetch_add(1, Ordering::SeqCst);
            let (f, reqs) = (Arc::clone(&f), Arc::clone(&reqs));
            tokio::spawn(async move {
                let Some(req) = read_request(&mut s).await else {
                    return;
                };
                let i = {
                    let mut r = reqs.lock().unwrap();
                    r.push(req.clone());
                    r.len() - 1
                };
                match f(&req, i) {
                    Reply::Bytes(b) => {
                        let _ = s.write_all(&b).await;
                        let _ = s.shutdown().await;
                    }
                    Reply::Slow(a, d, b) => {
                        let _ = s.write_all(&a).await;
                        tokio::time::sleep(d).await;
                        let _ = s.write_all(&b).await;
                        let _ = s.shutdown().await;
                    }
                    Reply::Close => {
                        let _ = s.shutdown().await;
                    }
                    Reply::Reset => {
                        #[allow(deprecated)] // a zero linger does not block: it sends RST
                        let _ = s.set_linger(Some(Duration::ZERO));
                        drop(s);
                    }
                    Reply::Hang => {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                }
            });
        }
    });
    Raw {
        url,
        accepted,
        requests,
    }
}

/// A loopback port with nothing listening (bound, then closed).
pub async fn closed_port_url() -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}
