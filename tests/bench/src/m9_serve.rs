//! Measure 9's plumbing: a server child process that is always killed, and a loopback HTTP
//! client (reqwest on a current-thread tokio runtime, no proxy, 5 s per request).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::ctx;

/// Kept of a server's output: the banner and the first errors.
const OUTPUT_CAP: usize = 64 * 1024;

/// A server child process; killed (and reaped) on drop, whatever happened.
pub struct Server {
    child: Child,
    out: Arc<Mutex<String>>,
}

impl Server {
    pub fn spawn(mut cmd: Command) -> Result<Server, String> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| format!("cannot run: {e}"))?;
        let out = Arc::new(Mutex::new(String::new()));
        // Drained all along: the emulator prints a line per call and would block on a full pipe.
        let pipes: [Option<Box<dyn Read + Send>>; 2] = [
            child.stdout.take().map(|p| Box::new(p) as _),
            child.stderr.take().map(|p| Box::new(p) as _),
        ];
        for mut pipe in pipes.into_iter().flatten() {
            let out = out.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n @ 1..) = pipe.read(&mut buf) {
                    let mut o = out.lock().unwrap_or_else(|e| e.into_inner());
                    if o.len() < OUTPUT_CAP {
                        o.push_str(&String::from_utf8_lossy(&buf[..n]));
                    }
                }
            });
        }
        Ok(Server { child, out })
    }

    pub fn output(&self) -> String {
        self.out.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback HTTP client on a current-thread runtime (no proxy, 5 s per request).
pub struct Http {
    rt: tokio::runtime::Runtime,
    pub client: reqwest::Client,
}

/// One answer: status and body.
pub type Answer = Result<(u16, String), String>;

impl Http {
    pub fn new() -> Result<Http, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let client = Self::client()?;
        Ok(Http { rt, client })
    }

    fn client() -> Result<reqwest::Client, String> {
        reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| e.to_string())
    }

    /// A fresh connection pool, so a server never sees the previous one's connections.
    pub fn reset(&mut self) -> Result<(), String> {
        self.client = Self::client()?;
        Ok(())
    }

    pub fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        self.rt.block_on(async {
            let resp = req.send().await.map_err(|e| short_error(&e))?;
            let status = resp.status().as_u16();
            let body = resp.text().await.unwrap_or_default();
            Ok((status, body))
        })
    }

    pub fn get(&self, url: &str, timeout: Duration) -> Answer {
        self.send(self.client.get(url).timeout(timeout))
    }
}

fn short_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connection refused".into()
    } else {
        ctx::shorten(&e.to_string(), 80)
    }
}

pub fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// `$GOUVGEN_TOOLS/prism/node_modules/.bin/prism`, where `.ci/install-tools` puts it.
pub fn prism_bin() -> PathBuf {
    let tools = std::env::var_os("GOUVGEN_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").unwrap_or_default();
            Path::new(&home).join(".cache/gouvgen-tools")
        });
    tools.join("prism/node_modules/.bin/prism")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_server_is_killed_and_its_output_kept() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo ready; exec sleep 30"]);
        let mut server = Server::spawn(cmd).expect("sh runs");
        let pid = server.child.id();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !server.output().contains("ready") && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(server.output().contains("ready"));
        assert!(!server.exited());
        drop(server);
        // Reaped by the drop: no such process any more (not even a zombie).
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
    }
}
