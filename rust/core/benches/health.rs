//! 500 health checks against a mix of healthy (HTTP/2), refused and never-answering loopback
//! endpoints with a 1 s timeout: all run concurrently, so the whole run must take about one
//! timeout, not the sum of them. Run with `cargo bench -p metis-core --bench health`.
//! Needs about 900 file descriptors (500 client sockets plus the server ends): under the
//! usual 1024 soft limit; raise it with `ulimit -n 4096` for larger runs.

#[path = "../tests/health_support/mod.rs"]
mod health_support;

use health_support::*;
use metis_core::health::{self, Check, CheckKind, Outcome, RunOptions};
use metis_core::model::Service;
use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const CHECKS: usize = 500;
const TIMEOUT: Duration = Duration::from_secs(1);
const LIMIT: Duration = Duration::from_secs(2);

fn main() -> ExitCode {
    let ip = ip("127.0.4.1");
    let healthy: Vec<_> = (0..4).map(|_| h2_server(ip)).collect();
    let silent: Vec<_> = (0..4).map(|_| silent_server(ip)).collect();
    let refused: Vec<_> = (0..4).map(|_| refused_port(ip)).collect();
    let checks: Vec<Check> = (0..CHECKS)
        .map(|i| {
            let kind = match i % 3 {
                0 => CheckKind::Http2 {
                    addr: healthy[i % healthy.len()],
                },
                1 => CheckKind::Http2 {
                    addr: refused[i % refused.len()],
                },
                _ => CheckKind::Http2 {
                    addr: silent[i % silent.len()],
                },
            };
            Check {
                host: host(&format!("bench{}", i % 10), ip),
                service: Service::Data,
                name: format!("grpc {i}"),
                kind,
            }
        })
        .collect();

    let start = Instant::now();
    let report = health::run(
        &checks,
        RunOptions {
            timeout: TIMEOUT,
            wait: None,
        },
    );
    let wall = start.elapsed();

    let mut by_outcome: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &report.checks {
        *by_outcome.entry(c.outcome.as_str()).or_default() += 1;
    }
    let slowest = report
        .checks
        .iter()
        .map(|c| c.elapsed_ms)
        .max()
        .unwrap_or(0);
    let serial = TIMEOUT * CHECKS as u32;
    println!(
        "health bench: {CHECKS} checks, timeout {} ms each",
        TIMEOUT.as_millis()
    );
    println!("  outcomes:        {by_outcome:?}");
    println!(
        "  total wall time: {} ms (slowest check {slowest} ms)",
        wall.as_millis()
    );
    println!(
        "  sum of timeouts: {} s (a serial run could take up to that): {:.0}x faster",
        serial.as_secs(),
        serial.as_secs_f64() / wall.as_secs_f64()
    );
    let expected = [
        (Outcome::Ok, CHECKS.div_ceil(3)),
        (Outcome::Refused, (CHECKS + 1) / 3),
        (Outcome::Timeout, CHECKS / 3),
    ];
    for (outcome, n) in expected {
        let got = by_outcome.get(outcome.as_str()).copied().unwrap_or(0);
        if got != n {
            eprintln!("FAIL: expected {n} checks to end {outcome}, got {got}");
            return ExitCode::FAILURE;
        }
    }
    if wall >= LIMIT {
        eprintln!(
            "FAIL: {} ms is over the {} ms budget",
            wall.as_millis(),
            LIMIT.as_millis()
        );
        return ExitCode::FAILURE;
    }
    println!("  ok: under {} ms", LIMIT.as_millis());
    ExitCode::SUCCESS
}
