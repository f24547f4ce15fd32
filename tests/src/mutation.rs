//! Seeded mutation testing of the generator: real documents, mutated structurally (JSON
//! nodes deleted, retyped, duplicated, turned into references, wrapped in allOf / oneOf,
//! nested deep, keys renamed to hostile names) and byte by byte (flips, inserts of YAML
//! syntax and control characters, deletions, duplications, truncation), each run through
//! `gouvgen generate` in its own process with a time and memory limit.
//!
//! A run reports panics (exit 101), crashes (killed by a signal), runs over the time limit,
//! runs over the memory limit, and the largest time and memory seen; a sample of accepted
//! mutants is compiled by the caller.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

/// A small deterministic generator (xorshift64*): same seed, same mutants, on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// A document to mutate.
pub struct Seed {
    /// File name (for the extension and reports).
    pub name: String,
    /// Its text.
    pub text: String,
    /// Its value, when it loads.
    pub value: Option<Value>,
}

/// Reads the seeds.
pub fn seeds(paths: &[PathBuf]) -> Vec<Seed> {
    paths
        .iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(p).ok()?;
            Some(Seed {
                name: p.file_name()?.to_string_lossy().into_owned(),
                value: gouvgen::load::load_value(p).ok(),
                text,
            })
        })
        .collect()
}

const HOSTILE_KEYS: &[&str] = &[
    "String",
    "Option",
    "Result",
    "Vec",
    "Box",
    "+404",
    "éxx",
    "2XX",
    "default",
    "{id",
    "/a/{b",
    "$ref",
    "Other",
    "OtherValue",
    "Unknown",
    "self",
    "type",
    "\r",
    "\u{202e}x",
    "",
    "x-y",
];

fn hostile_value(rng: &mut Rng, pointers: &[String]) -> Value {
    match rng.below(16) {
        0 => Value::Null,
        1 => Value::Bool(true),
        2 => serde_json::json!(-129),
        3 => serde_json::json!(u64::MAX),
        4 => serde_json::json!(1.5),
        5 => Value::String("é\r\u{202e}\u{0}x".into()),
        6 => serde_json::json!([]),
        7 => serde_json::json!({}),
        8 => serde_json::json!({"oneOf": null}),
        9 => serde_json::json!({"allOf": []}),
        10 => serde_json::json!({"type": "object"}),
        11 => serde_json::json!({"type": "array", "items": {"type": "array", "items": {}}}),
        12 => serde_json::json!({"type": "string", "enum": ["a\rb", "Other", "", "a b"]}),
        13 => serde_json::json!({"$ref": "/etc/passwd"}),
        _ => {
            let target = &pointers[rng.below(pointers.len())];
            serde_json::json!({ "$ref": format!("#{target}") })
        }
    }
}

/// Every pointer of a value, iteratively.
fn pointers(root: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), root)];
    while let Some((p, v)) = stack.pop() {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    stack.push((
                        format!("{p}/{}", k.replace('~', "~0").replace('/', "~1")),
                        child,
                    ));
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    stack.push((format!("{p}/{i}"), child));
                }
            }
            _ => {}
        }
        out.push(p);
    }
    out
}

fn structural(value: &Value, rng: &mut Rng) -> String {
    let mut v = value.clone();
    let ptrs = pointers(&v);
    for _ in 0..1 + rng.below(3) {
        let target = ptrs[rng.below(ptrs.len())].clone();
        let (parent_ptr, key) = match target.rsplit_once('/') {
            Some(x) => x,
            None => continue,
        };
        let key = key.replace("~1", "/").replace("~0", "~");
        let replacement = v.pointer(&target).cloned();
        let kind = rng.below(9);
        let hostile = hostile_value(rng, &ptrs);
        let other = v
            .pointer(&ptrs[rng.below(ptrs.len())])
            .cloned()
            .unwrap_or(Value::Null);
        let Some(parent) = v.pointer_mut(parent_ptr) else {
            continue;
        };
        match parent {
            Value::Object(m) => match kind {
                0 => {
                    m.remove(&key);
                }
                1 => {
                    if let Some(old) = m.remove(&key) {
                        m.insert(HOSTILE_KEYS[rng.below(HOSTILE_KEYS.len())].to_string(), old);
                    }
                }
                2 => {
                    m.insert(key, other);
                }
                3 => {
                    if let Some(r) = replacement {
                        m.insert(key, serde_json::json!({"allOf": [r.clone(), r]}));
                    }
                }
                4 => {
                    if let Some(r) = replacement {
                        m.insert(key, serde_json::json!({"oneOf": [r, {"type": "null"}]}));
                    }
                }
                5 => {
                    let mut deep = replacement.unwrap_or(Value::Null);
                    for _ in 0..rng.below(300) {
                        deep = serde_json::json!({"type": "array", "items": deep});
                    }
                    m.insert(key, deep);
                }
                6 => {
                    if let Some(r) = replacement {
                        m.insert(
                            format!("{key}{}", HOSTILE_KEYS[rng.below(HOSTILE_KEYS.len())]),
                            r,
                        );
                    }
                }
                _ => {
                    m.insert(key, hostile);
                }
            },
            Value::Array(a) => {
                let i: usize = key.parse().unwrap_or(0);
                match kind {
                    0 if i < a.len() => {
                        a.remove(i);
                    }
                    1 | 2 => a.push(other),
                    _ if i < a.len() => a[i] = hostile,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    if rng.below(2) == 0 {
        serde_json::to_string(&v).unwrap_or_default()
    } else {
        serde_json::to_string_pretty(&v).unwrap_or_default()
    }
}

const SNIPPETS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "&a ",
    "*a",
    "\0",
    "\r",
    "'",
    "\"",
    ": ",
    "\n  ",
    "- ",
    "<<: *a\n",
    "#",
    "\u{202e}",
    "99999999999999999999",
    "~",
    "{id",
    "$ref: x.yaml\n",
    "\t",
    "é",
];

fn byte_level(text: &str, rng: &mut Rng) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = bytes.len().max(1);
        let at = rng.below(len).min(bytes.len());
        match rng.below(6) {
            0 if !bytes.is_empty() && at < bytes.len() => bytes[at] ^= 1 << rng.below(8),
            1 => {
                let s = SNIPPETS[rng.below(SNIPPETS.len())];
                bytes.splice(at..at, s.bytes());
            }
            2 => {
                let end = (at + rng.below(64)).min(bytes.len());
                bytes.drain(at..end);
            }
            3 => {
                let end = (at + rng.below(256)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
            4 => bytes.truncate(at),
            _ => {
                let s = SNIPPETS[rng.below(SNIPPETS.len())];
                bytes.splice(at..at, s.bytes());
            }
        }
    }
    bytes
}

/// Mutant `index` of the run: (file name, bytes). Deterministic in (seed, index).
pub fn mutant(seeds: &[Seed], seed: u64, index: usize) -> (String, Vec<u8>) {
    let mut rng = Rng::new(seed ^ (index as u64).wrapping_mul(0x100_0000_01B3));
    let s = &seeds[rng.below(seeds.len())];
    let ext = if s.name.ends_with(".json") {
        "json"
    } else {
        "yaml"
    };
    let structural_ok = s.value.is_some() && rng.below(2) == 0;
    if structural_ok {
        let text = structural(s.value.as_ref().expect("checked"), &mut rng);
        (
            format!("m{index}-{}.json", s.name.replace('.', "_")),
            text.into_bytes(),
        )
    } else {
        (
            format!("m{index}-{}.{ext}", s.name.replace('.', "_")),
            byte_level(&s.text, &mut rng),
        )
    }
}

/// How one run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A crate was written.
    Accepted,
    /// Refused with an error (exit 1).
    Refused,
    /// Panicked (exit 101).
    Panic,
    /// Killed by a signal (stack overflow, abort, out of memory).
    Crash,
    /// Killed at the time limit.
    Timeout,
    /// Any other exit code.
    Other(i32),
}

/// One run's result.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// Mutant file.
    pub file: PathBuf,
    /// Output crate folder.
    pub out: PathBuf,
    /// End.
    pub outcome: Outcome,
    /// Wall time.
    pub elapsed: Duration,
    /// Peak resident memory, bytes.
    pub max_rss: u64,
    /// Last lines of stderr.
    pub stderr: String,
}

/// Runs `gouvgen generate` on a file with a time limit and an address-space cap.
pub fn run_generate(
    bin: &Path,
    file: &Path,
    out: &Path,
    runtime: &Path,
    limit: Duration,
    mem_cap: u64,
) -> RunResult {
    let err_path = out.with_extension("stderr");
    let err_file = std::fs::File::create(&err_path).expect("stderr file");
    let started = Instant::now();
    let child = Command::new("prlimit")
        .arg(format!("--as={mem_cap}"))
        .arg("--")
        .arg(bin)
        .arg("generate")
        .arg(file)
        .arg("--out")
        .arg(out)
        .arg("--crate-name")
        .arg("mutant")
        .arg("--runtime-path")
        .arg(runtime)
        .arg("--force")
        .env("RUST_BACKTRACE", "0")
        .stdout(std::process::Stdio::null())
        .stderr(err_file)
        .spawn()
        .expect("prlimit runs (util-linux)");
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data, zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut timed_out = false;
    loop {
        // SAFETY: waiting on our own child, with valid out-pointers.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        if started.elapsed() > limit && !timed_out {
            timed_out = true;
            // SAFETY: signalling our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    std::mem::forget(child);
    let elapsed = started.elapsed();
    let outcome = if timed_out {
        Outcome::Timeout
    } else if libc::WIFSIGNALED(status) {
        Outcome::Crash
    } else {
        match libc::WEXITSTATUS(status) {
            0 => Outcome::Accepted,
            1 => Outcome::Refused,
            101 => Outcome::Panic,
            c => Outcome::Other(c),
        }
    };
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
    let stderr = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
    let _ = std::fs::remove_file(&err_path);
    RunResult {
        file: file.to_path_buf(),
        out: out.to_path_buf(),
        outcome,
        elapsed,
        max_rss: usage.ru_maxrss as u64 * 1024,
        stderr,
    }
}

/// Settings of a run.
pub struct Plan {
    /// The gouvgen binary.
    pub bin: PathBuf,
    /// Seed of the run.
    pub seed: u64,
    /// Number of mutants.
    pub mutants: usize,
    /// Time limit of one run.
    pub time_limit: Duration,
    /// Address-space cap of one run (the process is killed past it).
    pub mem_cap: u64,
    /// Parallel runs.
    pub jobs: usize,
    /// Folder for mutants and their crates.
    pub work: PathBuf,
}

/// Runs every mutant; returns the results in mutant order.
pub fn run(plan: &Plan, seeds: &[Seed]) -> Vec<RunResult> {
    let runtime = crate::repo_root().join("runtime");
    std::fs::create_dir_all(&plan.work).expect("work folder");
    let next = Mutex::new(0usize);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..plan.jobs.max(1) {
            scope.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap();
                        if *n >= plan.mutants {
                            return;
                        }
                        *n += 1;
                        *n - 1
                    };
                    let (name, bytes) = mutant(seeds, plan.seed, i);
                    let file = plan.work.join(&name);
                    std::fs::write(&file, &bytes).expect("mutant written");
                    let out = plan.work.join(format!("crate-{i}"));
                    let r = run_generate(
                        &plan.bin,
                        &file,
                        &out,
                        &runtime,
                        plan.time_limit,
                        plan.mem_cap,
                    );
                    // The crate is written again in process for the compile sample; a
                    // refused mutant is not needed again. 10,000 of them would fill the disk.
                    let _ = std::fs::remove_dir_all(&out);
                    if r.outcome == Outcome::Refused {
                        let _ = std::fs::remove_file(&file);
                    }
                    results.lock().unwrap().push((i, r));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}
