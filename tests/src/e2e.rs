//! Helpers of the end-to-end tests: many concurrent calls, and the checks every shipped
//! client goes through.

use std::future::Future;
use std::sync::Arc;

use gouvgen_runtime::{Error, Response};
use tokio::sync::{RwLock, Semaphore};
use tokio::task::JoinSet;

/// Floods (thousands of calls) hold it shared; paced runs, whose arrival times the emulator's
/// quota judges to the millisecond, hold it alone. The tests of one binary run in parallel on
/// two cores, and a flood next to a paced run delays some of its calls by more than the quota's
/// jitter allowance (a CI run saw a 429 that way).
static PACING: RwLock<()> = RwLock::const_new(());

/// Runs `n` calls, at most `concurrency` at a time; panics on the first failure; returns the
/// correlation ID of every call.
pub async fn all_succeed<F, Fut, T, E>(n: usize, concurrency: usize, call: F) -> Vec<String>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<Response<T>, Error<E>>> + Send + 'static,
    T: Send + 'static,
    E: std::fmt::Debug + Send + 'static,
{
    let _shared = PACING.read().await;
    run_all(n, concurrency, call).await
}

/// [`all_succeed`] for calls whose timing is under test (a client's rate limiter against the
/// gateway's quota): no other test's calls run meanwhile.
pub async fn all_succeed_paced<F, Fut, T, E>(n: usize, concurrency: usize, call: F) -> Vec<String>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<Response<T>, Error<E>>> + Send + 'static,
    T: Send + 'static,
    E: std::fmt::Debug + Send + 'static,
{
    let _alone = PACING.write().await;
    run_all(n, concurrency, call).await
}

async fn run_all<F, Fut, T, E>(n: usize, concurrency: usize, call: F) -> Vec<String>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<Response<T>, Error<E>>> + Send + 'static,
    T: Send + 'static,
    E: std::fmt::Debug + Send + 'static,
{
    let semaphore = Arc::new(Semaphore::new(concurrency));
    let mut set = JoinSet::new();
    for i in 0..n {
        let permit = semaphore.clone().acquire_owned().await.expect("semaphore");
        let fut = call(i);
        set.spawn(async move {
            let result = fut.await;
            drop(permit);
            result
                .map(|r| r.correlation_id().to_string())
                .map_err(|e| e.to_string())
        });
    }
    let mut ids = Vec::with_capacity(n);
    while let Some(joined) = set.join_next().await {
        match joined.expect("task") {
            Ok(id) => ids.push(id),
            Err(e) => panic!("a call failed: {e}"),
        }
    }
    ids
}

/// The code an example error body carries, in any gateway format.
pub fn example_code(body: &serde_json::Value) -> Option<String> {
    let v = body
        .pointer("/erreur/code")
        .or_else(|| body.pointer("/errors/0/code"))
        .or_else(|| body.pointer("/messages/0/code"))
        .or_else(|| body.get("code"))
        .or_else(|| body.get("error"))?;
    Some(match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}
