//! Rendering speed on a 1,000-host organisation (target: under 1 ms per host).
//! `cargo bench -p metis-core --bench render` prints the figures.

#[path = "../tests/support/mod.rs"]
mod support;

use metis_core::render;
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let hosts = 1000;
    let org = support::big(hosts);
    let rounds = 20;

    let start = Instant::now();
    let mut files = 0;
    for _ in 0..rounds {
        files = black_box(render::render_all(black_box(&org))).len();
    }
    let all = start.elapsed() / rounds;

    let names: Vec<String> = org.hosts().iter().map(|h| h.name.clone()).collect();
    let start = Instant::now();
    for _ in 0..rounds {
        for h in &names {
            black_box(render::render_host(black_box(&org), h));
        }
    }
    let each = start.elapsed() / rounds;

    let per_host = |d: std::time::Duration| d.as_secs_f64() * 1e6 / names.len() as f64;
    println!(
        "render_all: {} hosts, {files} files in {:.2} ms = {:.1} us/host",
        names.len(),
        all.as_secs_f64() * 1e3,
        per_host(all)
    );
    println!(
        "render_host x {}: {:.2} ms = {:.1} us/host (target < 1000 us/host)",
        names.len(),
        each.as_secs_f64() * 1e3,
        per_host(each)
    );
}
