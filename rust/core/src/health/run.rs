//! Runs checks concurrently on a current-thread tokio runtime created for the call.

use super::probe::{probe, Fail, Phase, Probe};
use super::{Check, CheckKind, CheckResult, Outcome, Report, RunOptions};
use std::time::{Duration, Instant};

const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Runs every check at once and waits for all of them. Blocking: it creates its own runtime,
/// so call it from plain (non-async) code. Each attempt is bounded by `opts.timeout`; with
/// `opts.wait`, failing checks are retried until they pass or `wait` has passed (the whole
/// call then takes at most `wait + timeout`). Results are in the order of `checks`.
pub fn run(checks: &[Check], opts: RunOptions) -> Report {
    let start = Instant::now();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build();
    let results = match runtime {
        Ok(rt) => rt.block_on(run_all(checks, opts, start)),
        Err(e) => checks
            .iter()
            .map(|c| {
                let f = Fail {
                    outcome: Outcome::Error,
                    detail: format!("cannot start the health-check runtime: {e}"),
                };
                result(c, Err(f), 0, Duration::ZERO)
            })
            .collect(),
    };
    Report {
        healthy: results.iter().all(|r| r.ok),
        checks: results,
    }
}

async fn run_all(checks: &[Check], opts: RunOptions, start: Instant) -> Vec<CheckResult> {
    let handles: Vec<_> = checks
        .iter()
        .map(|c| tokio::spawn(attempts(c.kind.clone(), opts, start)))
        .collect();
    let mut out = Vec::with_capacity(checks.len());
    for (c, h) in checks.iter().zip(handles) {
        let (probe, n, elapsed) = match h.await {
            Ok(r) => r,
            Err(e) => {
                let f = Fail {
                    outcome: Outcome::Error,
                    detail: format!("the check failed to run: {e}"),
                };
                (Err(f), 1, start.elapsed())
            }
        };
        out.push(result(c, probe, n, elapsed));
    }
    out
}

fn result(c: &Check, probe: Probe, attempts: u32, elapsed: Duration) -> CheckResult {
    let (ok, outcome, mut detail) = match probe {
        Ok(d) => (true, Outcome::Ok, d),
        Err(f) => (false, f.outcome, f.detail),
    };
    if attempts > 1 {
        detail.push_str(&if ok {
            format!(" (passed on attempt {attempts})")
        } else {
            format!(" (after {attempts} attempts)")
        });
    }
    CheckResult {
        host: c.host.clone(),
        service: c.service,
        check: c.name.clone(),
        ok,
        detail,
        elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        outcome,
        attempts,
    }
}

/// One check, retried with backoff until it passes or the wait deadline.
async fn attempts(kind: CheckKind, opts: RunOptions, start: Instant) -> (Probe, u32, Duration) {
    let deadline = opts.wait.map(|w| start + w);
    let mut backoff = FIRST_BACKOFF;
    let mut n = 0;
    loop {
        n += 1;
        let r = once(&kind, opts.timeout).await;
        let now = Instant::now();
        match deadline {
            Some(d) if r.is_err() && now < d => {
                tokio::time::sleep(backoff.min(d - now)).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            _ => return (r, n, start.elapsed()),
        }
    }
}

async fn once(kind: &CheckKind, timeout: Duration) -> Probe {
    let phase = Phase::default();
    match tokio::time::timeout(timeout, probe(kind, &phase)).await {
        Ok(r) => r,
        Err(_) => Err(Fail {
            outcome: Outcome::Timeout,
            detail: format!(
                "expected {}, got no answer within {} ms: {}",
                kind.expectation(),
                timeout.as_millis(),
                phase.get()
            ),
        }),
    }
}
