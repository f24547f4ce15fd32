//! Measure 9: `gouvgen emulate` side by side with Stoplight Prism (`prism mock`) on every
//! document. Per document and tool: whether it starts and answers HTTP (60 s at most), the
//! time until its first answer, how many operations it answers (anything but 404, 405, 5xx
//! or no answer), the median of sequential calls to the first GET operation it answered, and
//! whether it rejects a request missing a required parameter. Loopback only; each server is a
//! child process on a free port, killed on every path.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::ctx::{self, Ctx, log};
use crate::docs::Doc;
use crate::m9_checks::{self, CHECKS};
use crate::m9_serve::{Answer, Http, Server, free_port, prism_bin};
use crate::ops::{self, Api, Op};
use crate::report::{Table, h};
use crate::stats;

/// How long a server has to answer its first request.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// A fixed, well-formed DGFiP correlation ID (the emulator checks the format).
const CORRELATION_ID: &str = "6f1c2d3e-4b5a-4c6d-8e7f-000000000001";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tool {
    Emulator,
    Prism,
}

/// What one tool did on one document.
enum Outcome {
    /// Not run, and why (Prism not installed, `--no-peers`).
    Skipped(String),
    /// Did not answer HTTP: the reason (its first error line, or the timeout).
    NoStart(String),
    Ran(Box<Ran>),
}

struct Ran {
    startup: Duration,
    answered: usize,
    ok: usize,
    total: usize,
    median: Option<Duration>,
    probe: String,
    /// Statuses of this document's [`CHECKS`], in order.
    checks: Vec<String>,
    /// Operations not answered (operation, reason), for the notes under the table.
    failures: Vec<(String, String)>,
    /// Other trouble (no token).
    notes: Vec<String>,
}

struct Row {
    label: String,
    gateway: &'static str,
    ops: Result<usize, String>,
    emulator: Outcome,
    prism: Outcome,
}

pub struct EmulatorsResult {
    rows: Vec<Row>,
    calls: usize,
    gouvgen: String,
    prism: String,
    elapsed: Duration,
}

/// The emulated gateway of a document: the folder it sits in (`other/` and unknown: DGFiP).
fn gateway(doc: &Doc) -> &'static str {
    let folder = doc
        .path
        .parent()
        .and_then(Path::file_name)
        .and_then(|f| f.to_str())
        .unwrap_or("");
    ["piste", "douane", "api-entreprise", "api-particulier"]
        .into_iter()
        .find(|g| *g == folder)
        .unwrap_or("dgfip")
}

pub fn run(ctx: &Ctx, docs: &[Doc]) -> EmulatorsResult {
    let started = Instant::now();
    let calls = if ctx.opts.quick { 10 } else { 50 };
    let prism = prism_bin();
    let prism_skip = if ctx.opts.no_peers {
        Some("not run: `--no-peers`".to_string())
    } else if !prism.is_file() {
        Some(format!(
            "not installed: no {} (`bash .ci/install-tools` installs it)",
            prism.display()
        ))
    } else {
        None
    };
    let prism_version = match &prism_skip {
        Some(why) => why.clone(),
        None => format!(
            "@stoplight/prism-cli {}",
            ctx::capture(Command::new(&prism).arg("--version"))
        ),
    };
    let mut rows = Vec::new();
    let mut http = match Http::new() {
        Ok(h) => h,
        Err(e) => {
            log(format!("emulators: no HTTP client: {e}"));
            return EmulatorsResult {
                rows,
                calls,
                gouvgen: String::new(),
                prism: prism_version,
                elapsed: started.elapsed(),
            };
        }
    };
    for doc in docs {
        let gw = gateway(doc);
        log(format!("emulators: {} ({gw})", doc.label));
        let api = ops::read(&doc.path);
        let empty = Api::default();
        let a = api.as_ref().unwrap_or(&empty);
        let mut one = |tool: Tool| {
            let _ = http.reset();
            measure(ctx, &http, tool, doc, gw, a, calls, &prism)
        };
        let emulator = one(Tool::Emulator);
        let prism_outcome = match &prism_skip {
            Some(why) => Outcome::Skipped(why.clone()),
            None => one(Tool::Prism),
        };
        rows.push(Row {
            label: doc.label.clone(),
            gateway: gw,
            ops: api.map(|a| a.ops.len()),
            emulator,
            prism: prism_outcome,
        });
    }
    EmulatorsResult {
        rows,
        calls,
        gouvgen: ctx::capture(Command::new(&ctx.gouvgen).arg("--version")),
        prism: prism_version,
        elapsed: started.elapsed(),
    }
}

/// Starts `tool` on `doc`, waits for its first answer, calls every operation, times the first
/// GET that answered and probes a missing required parameter. The server dies on return.
#[allow(clippy::too_many_arguments)]
fn measure(
    ctx: &Ctx,
    http: &Http,
    tool: Tool,
    doc: &Doc,
    gw: &str,
    api: &Api,
    calls: usize,
    prism: &Path,
) -> Outcome {
    let port = match free_port() {
        Ok(p) => p,
        Err(e) => return Outcome::NoStart(e),
    };
    let root = format!("http://127.0.0.1:{port}");
    let cmd = match tool {
        Tool::Emulator => {
            let mut c = Command::new(&ctx.gouvgen);
            c.arg("emulate")
                .arg(&doc.path)
                .args(["--gateway", gw, "--port", &port.to_string()]);
            c
        }
        Tool::Prism => {
            let mut c = Command::new(prism);
            c.args(["mock", "-h", "127.0.0.1", "-p", &port.to_string()])
                .arg(&doc.path);
            c
        }
    };
    let started = Instant::now();
    let mut server = match Server::spawn(cmd) {
        Ok(s) => s,
        Err(e) => return Outcome::NoStart(e),
    };
    let startup = match wait_http(http, &root, &mut server, started) {
        Ok(t) => t,
        Err(e) => return Outcome::NoStart(e),
    };
    let mut notes = Vec::new();
    let (prefix, auth) = match tool {
        Tool::Emulator => {
            let auth = emulator_auth(http, gw, &root, &server).unwrap_or_else(|e| {
                notes.push(format!("no demo token: {e}"));
                Vec::new()
            });
            (format!("{root}{}", api.base), auth)
        }
        // Prism serves the paths without the servers' base path, and only checks that
        // credentials are present.
        Tool::Prism => (
            root.clone(),
            vec![("Authorization".into(), "Bearer demo".into())],
        ),
    };
    let mut headers = vec![
        ("X-Correlation-ID".to_string(), CORRELATION_ID.to_string()),
        ("X-FranceConnect-OAuth".to_string(), "demo".to_string()),
    ];
    headers.extend(auth);
    for name in &api.key_headers {
        headers.push((name.clone(), "cle-emulateur".into()));
    }
    let call = |op: &Op, skip: Option<(bool, usize)>| send_op(http, &prefix, &headers, op, skip);
    let mut ran = exercise(api, calls, startup, notes, call);
    ran.checks = CHECKS
        .iter()
        .filter(|c| c.doc == doc.label)
        .map(|c| match m9_checks::request(c, &api.ops, &headers) {
            Some((op, headers)) => match send_op(http, &prefix, &headers, &op, None) {
                Ok((status, _)) => status.to_string(),
                Err(e) => e,
            },
            None => "no such operation".into(),
        })
        .collect();
    Outcome::Ran(Box::new(ran))
}

/// Polls `GET /` until any HTTP answer (the time since `started`), the process exits (its
/// first error line) or [`START_TIMEOUT`] passes.
fn wait_http(
    http: &Http,
    root: &str,
    server: &mut Server,
    started: Instant,
) -> Result<Duration, String> {
    let url = format!("{root}/");
    while started.elapsed() < START_TIMEOUT {
        if server.exited() {
            return Err(start_failure(&server.output()));
        }
        if http.get(&url, Duration::from_secs(1)).is_ok() {
            return Ok(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(format!("no HTTP answer in {} s", START_TIMEOUT.as_secs()))
}

/// Why a server exited: Prism's `[CLI] ✖ fatal` log line or `Error:` line (it prints its usage too,
/// whose option texts say "error"), else the first error line.
fn start_failure(output: &str) -> String {
    let lines = || output.lines().map(str::trim);
    lines()
        .filter(|l| l.contains("[CLI]"))
        .find_map(|l| l.split_once(" fatal ").map(|(_, why)| why.trim()))
        .or_else(|| lines().find(|l| l.starts_with("Error:")))
        .map(|l| ctx::shorten(l, 160))
        .unwrap_or_else(|| ctx::first_error(output))
}

/// The emulator's demo credentials (`gouvgen emulate` prints them in its banner): a token
/// from the gateway's token endpoint, or the JWT the banner shows.
fn emulator_auth(
    http: &Http,
    gw: &str,
    root: &str,
    server: &Server,
) -> Result<Vec<(String, String)>, String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut banner = server.output();
    while !banner.contains("calls (one line each)") {
        if Instant::now() > deadline {
            return Err("no banner".into());
        }
        std::thread::sleep(Duration::from_millis(20));
        banner = server.output();
    }
    let c = &http.client;
    let form = "application/x-www-form-urlencoded";
    let req = match gw {
        "api-entreprise" | "api-particulier" => {
            let jwt = banner
                .split_once(".jwt(\"")
                .and_then(|(_, rest)| rest.split_once('"'))
                .map(|(jwt, _)| jwt.to_string())
                .ok_or("no JWT in the banner")?;
            return Ok(vec![("Authorization".into(), format!("Bearer {jwt}"))]);
        }
        "piste" => c.post(format!("{root}/api/oauth/token")).body(
            "grant_type=client_credentials&client_id=consumer-key&client_secret=consumer-secret",
        ),
        "douane" => c.post(format!("{root}/oauth2/token")).body(
            "grant_type=password&client_id=gun-api&username=compte-api&password=mot-de-passe",
        ),
        _ => c
            .post(format!("{root}/token"))
            .basic_auth("consumer-key", Some("consumer-secret"))
            .body("grant_type=client_credentials"),
    };
    let (status, body) = http.send(req.header("Content-Type", form))?;
    let token = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["access_token"].as_str().map(str::to_string))
        .ok_or_else(|| {
            format!(
                "token endpoint answered {status}: {}",
                ctx::shorten(&body, 120)
            )
        })?;
    Ok(vec![("Authorization".into(), format!("Bearer {token}"))])
}

/// One operation's request; `skip` leaves out one required parameter (query if `.0`, else
/// header; `.1` is its index).
fn send_op(
    http: &Http,
    prefix: &str,
    headers: &[(String, String)],
    op: &Op,
    skip: Option<(bool, usize)>,
) -> Answer {
    let skip_query = skip.filter(|s| s.0).map(|s| s.1);
    let skip_header = skip.filter(|s| !s.0).map(|s| s.1);
    let url = format!("{prefix}{}", op.target(skip_query));
    let method = reqwest::Method::from_bytes(op.method.as_bytes()).map_err(|e| e.to_string())?;
    let mut req = http.client.request(method, url);
    for (name, value) in headers {
        req = req.header(name.as_str(), value.as_str());
    }
    for (i, (name, value)) in op.headers.iter().enumerate() {
        if Some(i) != skip_header {
            req = req.header(name.as_str(), value.as_str());
        }
    }
    if let Some(body) = &op.body {
        req = req
            .header("Content-Type", "application/json")
            .body(body.clone());
    }
    http.send(req)
}

fn answered(a: &Answer) -> bool {
    matches!(a, Ok((s, _)) if served(*s))
}

fn served(status: u16) -> bool {
    status != 404 && status != 405 && status < 500
}

fn rejected(status: u16) -> bool {
    status == 400 || status == 422
}

/// Calls every operation once, then the latency and missing-parameter figures.
fn exercise(
    api: &Api,
    calls: usize,
    startup: Duration,
    notes: Vec<String>,
    call: impl Fn(&Op, Option<(bool, usize)>) -> Answer,
) -> Ran {
    let mut answers = Vec::new();
    let mut failures = Vec::new();
    let mut timeouts = 0;
    for op in &api.ops {
        // A server that stopped answering is not waited for 5 s per operation.
        let a = if timeouts >= 3 {
            Err("not tried (3 timeouts)".to_string())
        } else {
            call(op, None)
        };
        timeouts = if matches!(&a, Err(e) if e == "timeout") {
            timeouts + 1
        } else {
            0
        };
        if !answered(&a) {
            let reason = match &a {
                Ok((s, body)) if *s >= 500 => format!("{s} `{}`", ctx::shorten(body.trim(), 120)),
                Ok((s, _)) => s.to_string(),
                Err(e) => e.clone(),
            };
            failures.push((format!("{} {}", op.method, op.template), reason));
        }
        answers.push(a);
    }
    let ok = answers
        .iter()
        .filter(|a| matches!(a, Ok((s, _)) if (200..300).contains(s)))
        .count();
    let timed = api
        .ops
        .iter()
        .zip(&answers)
        .find(|(op, a)| op.method == "GET" && answered(a))
        .map(|(op, _)| op);
    let median = timed.and_then(|op| {
        let _ = call(op, None); // warm connection
        let mut times = Vec::with_capacity(calls);
        for _ in 0..calls {
            let t = Instant::now();
            call(op, None).ok()?;
            times.push(t.elapsed());
        }
        Some(stats::median(&times))
    });
    let probe = probe(api, &answers, &call);
    Ran {
        startup,
        answered: answers.iter().filter(|a| answered(a)).count(),
        ok,
        total: api.ops.len(),
        median,
        probe,
        checks: Vec::new(),
        failures,
        notes,
    }
}

/// A request missing a required query (else header) parameter, on the first operation that
/// has one and whose full request was served and not refused (else the first that has one):
/// "yes (400)" if refused, "no (200)" if served anyway, "?" if the full request was refused too.
fn probe(
    api: &Api,
    answers: &[Answer],
    call: &impl Fn(&Op, Option<(bool, usize)>) -> Answer,
) -> String {
    let candidates: Vec<(&Op, &Answer, (bool, usize))> = api
        .ops
        .iter()
        .zip(answers)
        .filter_map(|(op, a)| op.droppable().map(|s| (op, a, s)))
        .collect();
    let clean = |a: &Answer| matches!(a, Ok((s, _)) if served(*s) && !rejected(*s));
    let Some(&(op, full, skip)) = candidates
        .iter()
        .find(|c| clean(c.1))
        .or(candidates.first())
    else {
        return "–".into();
    };
    let name = if skip.0 {
        &op.query[skip.1].0
    } else {
        &op.headers[skip.1].0
    };
    let label = format!("`{name}`");
    let status = |a: &Answer| match a {
        Ok((s, _)) => s.to_string(),
        Err(e) => e.clone(),
    };
    let without = call(op, Some(skip));
    if !clean(full) {
        return format!(
            "? ({label}: {} with it, {} without)",
            status(full),
            status(&without)
        );
    }
    match without {
        Ok((b, _)) if rejected(b) => format!("yes ({label}: {b})"),
        Ok((b, _)) if served(b) => format!("**no** ({label}: {b})"),
        other => format!("? ({label}: {})", status(&other)),
    }
}

impl EmulatorsResult {
    pub fn section(&self) -> String {
        let mut s = format!(
            "`gouvgen emulate DOC --gateway GW --port P` ({}, the {} build this run made) \
             and `prism mock -h 127.0.0.1 -p P DOC` ({}), one document at a time, each on a \
             free loopback port, killed after its row. The gateway is the document's folder \
             (`other/`: DGFiP). **Start-up**: from spawning the process to its first HTTP \
             answer (60 s at most). **Answered**: operations whose answer is not 404, 405, 5xx \
             or missing, out of all GET/POST/PUT/PATCH/DELETE operations, with path \
             placeholders and required query and header parameters filled from the document \
             (example, default, first enum value, else a value of the declared type and \
             format), the document's request example or `{{}}` as JSON body; in brackets the \
             2xx among them. The emulator gets its demo credentials (a token from its token \
             endpoint, or the JWT its banner prints), Prism a dummy bearer token; both get the \
             DGFiP headers and the documents' API-key headers. **Median**: {} sequential \
             calls to the first GET operation answered, on a kept-alive connection. \
             **Missing parameter**: the first operation with a required query (else header) \
             parameter, called without it; `yes` if refused with 400/422 while the full \
             request was not.\n\n",
            self.gouvgen.trim(),
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
            self.prism,
            self.calls
        );
        s.push_str(&self.table());
        s.push_str(&self.summary());
        s.push_str(&self.notes());
        s.push_str(CHECKS_INTRO);
        let results: Vec<(String, [Vec<String>; 2])> = self
            .rows
            .iter()
            .filter(|r| CHECKS.iter().any(|c| c.doc == r.label))
            .map(|r| {
                (
                    r.label.clone(),
                    [checks_of(&r.emulator), checks_of(&r.prism)],
                )
            })
            .collect();
        s.push_str(&m9_checks::table(&results));
        s.push_str(VALIDATES);
        s
    }

    fn table(&self) -> String {
        let mut tab = Table::new(h(&[
            "document",
            "gateway",
            "ops",
            "start-up: emulator",
            "Prism",
            "answered (2xx): emulator",
            "Prism",
            "median: emulator",
            "Prism",
            "missing parameter refused: emulator",
            "Prism",
        ]));
        for r in &self.rows {
            let ops = match &r.ops {
                Ok(n) => n.to_string(),
                Err(_) => "unreadable".into(),
            };
            let mut row = vec![format!("`{}`", r.label), r.gateway.to_string(), ops];
            let cells: [fn(&Ran) -> String; 4] = [
                |x| stats::dur(x.startup),
                |x| format!("{} / {} ({})", x.answered, x.total, x.ok),
                |x| x.median.map_or("–".into(), stats::dur),
                |x| x.probe.clone(),
            ];
            for (i, cell) in cells.into_iter().enumerate() {
                for o in [&r.emulator, &r.prism] {
                    row.push(match o {
                        Outcome::Ran(x) => cell(x),
                        Outcome::NoStart(_) if i == 0 => "**does not start**".into(),
                        Outcome::NoStart(_) => "–".into(),
                        Outcome::Skipped(_) => "–".into(),
                    });
                }
            }
            tab.row(row);
        }
        tab.render()
    }

    fn summary(&self) -> String {
        let mut s = String::from("\n");
        for (name, pick) in [
            ("emulator", (|r: &Row| &r.emulator) as fn(&Row) -> &Outcome),
            ("Prism", |r: &Row| &r.prism),
        ] {
            let ran: Vec<&Ran> = self
                .rows
                .iter()
                .filter_map(|r| match pick(r) {
                    Outcome::Ran(x) => Some(&**x),
                    _ => None,
                })
                .collect();
            if let Some(Outcome::Skipped(why)) = self.rows.first().map(pick) {
                s.push_str(&format!("- {name}: {why}.\n"));
                continue;
            }
            let startups: Vec<Duration> = ran.iter().map(|x| x.startup).collect();
            let medians: Vec<Duration> = ran.iter().filter_map(|x| x.median).collect();
            let sum = |f: fn(&Ran) -> usize| ran.iter().map(|x| f(x)).sum::<usize>();
            s.push_str(&format!(
                "- {name}: starts on {} of {} documents (start-up median {}, max {}); answers \
                 {} of {} operations ({} with 2xx); median call {} (median over documents); \
                 refuses the missing parameter on {} of the {} documents where the probe is conclusive.\n",
                ran.len(),
                self.rows.len(),
                stats::dur(stats::median(&startups)),
                stats::dur(startups.iter().max().copied().unwrap_or_default()),
                sum(|x| x.answered),
                sum(|x| x.total),
                sum(|x| x.ok),
                stats::dur(stats::median(&medians)),
                ran.iter().filter(|x| x.probe.starts_with("yes")).count(),
                ran.iter()
                    .filter(|x| x.probe.starts_with("yes") || x.probe.starts_with("**no"))
                    .count(),
            ));
        }
        s.push_str(&format!(
            "- the measure took {}.\n",
            stats::dur(self.elapsed)
        ));
        s
    }

    /// Documents a tool did not start on, and operations it did not answer.
    fn notes(&self) -> String {
        let mut s = String::new();
        for r in &self.rows {
            if let Err(e) = &r.ops {
                let e = e.lines().next().unwrap_or("");
                s.push_str(&format!("- `{}`: the bench cannot read it: {e}\n", r.label));
            }
            for (name, o) in [("emulator", &r.emulator), ("Prism", &r.prism)] {
                let lines = match o {
                    Outcome::NoStart(why) => vec![format!("does not start: {why}")],
                    Outcome::Ran(x) => x
                        .notes
                        .iter()
                        .cloned()
                        .chain(grouped(&x.failures))
                        .collect(),
                    Outcome::Skipped(_) => Vec::new(),
                };
                if !lines.is_empty() {
                    s.push_str(&format!("- `{}`, {name}: {}\n", r.label, lines.join("; ")));
                }
            }
        }
        if s.is_empty() {
            "\nEvery operation answered on every document, by every tool run.\n".into()
        } else {
            format!("\nNot answered:\n\n{s}")
        }
    }
}

fn checks_of(o: &Outcome) -> Vec<String> {
    match o {
        Outcome::Ran(x) => x.checks.clone(),
        _ => Vec::new(),
    }
}

const CHECKS_INTRO: &str = "\nRequests the documents forbid, each a change of the valid \
    request above (status answered; 400/422 is a refusal, 401 a missing or refused credential):\n\n";

/// Failures with the same reason on one line: "GET /a, GET /b and 3 more → 500 `…`".
fn grouped(failures: &[(String, String)]) -> Vec<String> {
    let mut reasons: Vec<(&str, Vec<&str>)> = Vec::new();
    for (op, reason) in failures {
        match reasons.iter_mut().find(|(r, _)| r == reason) {
            Some((_, ops)) => ops.push(op),
            None => reasons.push((reason, vec![op])),
        }
    }
    reasons
        .into_iter()
        .map(|(reason, ops)| {
            let mut list = ops
                .iter()
                .take(3)
                .map(|o| format!("`{o}`"))
                .collect::<Vec<_>>()
                .join(", ");
            if ops.len() > 3 {
                list.push_str(&format!(" and {} more", ops.len() - 3));
            }
            format!("{list} → {reason}")
        })
        .collect()
}

/// What each tool checks: the table of checks above is the measured part, kept next to it so
/// a change in either tool shows up as a contradiction on the next run.
const VALIDATES: &str = "\nWhat each validates (the checks above, the probe column and the notes): \
both refuse a request missing a required query or header parameter or a required body, a \
value outside an enum, a non-integer for an integer, a value against a `pattern` (path or \
query), a `format` (`date`) or a bound (`maximum`), a body missing a required property or \
with a property of the wrong type, and a call without credentials. Only the emulator refuses an unknown token (Prism checks that a credential \
is there, not what it is) and a DGFiP call without a well-formed `X-Correlation-ID` \
whether the document declares the header or not (Prism only where it is declared). The \
emulator refuses with 400 in the gateway's error format (DGFiP: an `erreur` body and its code); \
Prism with the document's own 400 or 422 example when there is one, else a 422 \
`application/problem+json`. Beyond requests, the emulator is a gateway: token endpoints and \
their refusals, expiring and revocable tokens, quotas with `Retry-After`, the API Entreprise \
ban, scripted scenarios (`--scenario`); Prism has none of these, and validates nothing of the \
gateway (no token endpoint, no gateway error format). Prism's failures in the table are its \
own: a response declared as `*/*` (r2p, API Particulier 2021) cannot be served (500 \
`NO_COMPLEX_OBJECT_TEXT`), and a required query parameter named with brackets (`prenoms[]` in \
`specs/api-particulier`) is never found (it looks for `prenoms%5b%5d`), so it refuses every call to the three \
operations that require it.\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prism_start_failures_skip_its_usage_text() {
        let out = "[CLI] …  awaiting  Starting Prism…\n\
                   [CLI] ✖  fatal     Unsupported document format\n\
                   -v, --verboseLevel  [choices: \"error\", \"fatal\", \"silent\"]\n\
                   Error: Unsupported document format\n";
        assert_eq!(start_failure(out), "Unsupported document format");
        assert_eq!(
            start_failure("gouvgen emulate\nerror: emulator cannot load x.json\n"),
            "error: emulator cannot load x.json"
        );
    }

    #[test]
    fn failures_with_one_reason_share_a_line() {
        let f = |op: &str, why: &str| (op.to_string(), why.to_string());
        let lines = grouped(&[
            f("GET /a", "500"),
            f("GET /b", "timeout"),
            f("GET /c", "500"),
            f("GET /d", "500"),
            f("GET /e", "500"),
        ]);
        assert_eq!(
            lines,
            [
                "`GET /a`, `GET /c`, `GET /d` and 1 more → 500",
                "`GET /b` → timeout"
            ]
        );
    }
}
