#![allow(dead_code)]
//! Real `redis-server` processes for the fleet tests, on loopback, on free ports.
//!
//! Without `redis-server` the tests skip with one line naming the Debian package, except under
//! `CI=true`, where they fail (`.ci/run` installs the package).

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server` with a password; killed when dropped.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    password: String,
}

/// Whether `redis-server` can run here; `None` after printing the skip line (outside CI).
///
/// # Panics
/// Under `CI=true` when `redis-server` is missing.
pub fn available(test: &str) -> bool {
    let ok = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{test}: redis-server is missing under CI (Debian package redis-server)");
        }
        // Past the test harness's capture, so a passing `cargo test` shows it.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: redis-server not found (install the Debian package redis-server)"
        );
    }
    ok
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().unwrap().port()
}

impl RedisServer {
    /// Starts a server on a free loopback port, with `requirepass`.
    pub fn start() -> RedisServer {
        let mut s = RedisServer {
            child: None,
            port: free_port(),
            password: "p@ss w&rd+/=".into(),
        };
        s.restart();
        s
    }

    /// `redis://:password@127.0.0.1:port/0` (password percent-encoded).
    pub fn url(&self) -> String {
        let pw: String = self
            .password
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        format!("redis://:{pw}@127.0.0.1:{}/0", self.port)
    }

    /// The password (tests check it appears in no output).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// Port served.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port (empty: no persistence).
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--requirepass", &self.password])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGSTOP (`true`) or SIGCONT (`false`): a server that accepts and never answers.
    pub fn pause(&self, stop: bool) {
        if let Some(c) = &self.child {
            let sig = if stop { "-STOP" } else { "-CONT" };
            let _ = Command::new("kill")
                .args([sig, &c.id().to_string()])
                .status();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.pause(false);
        self.kill();
    }
}
