//! A short fuzz of the three readers of untrusted text: the INI reader, the literal parser
//! (INI values) and the JSON reader, plus what is done with what they read (validation, the
//! `--list` text, the rendered diagnostics).
//!
//! A corpus of hostile seeds (deep nesting, long chains of signs, huge sets, host ranges,
//! loops of groups, JSON as Ansible prints it) is mutated for a few seconds, on a thread with a
//! small stack: no input may panic, recurse past that stack, or take long (beyond linear time in
//! what it expands into). Runs in CI with
//! the other tests; `FUZZ_SECONDS` (default 8) and `FUZZ_SEED` (printed on failure) tune it.

use metis_core::inventory::{ini, json, literal};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Stack of the fuzzing thread: far below the 8 MiB of a main thread, so that any recursion
/// on input shows.
const STACK: usize = 1 << 20;
/// Longest any single input may take (debug build, loaded machine), on top of the time its
/// output may take: an input within the limits may legitimately build a lot (a host range of
/// 10,000 names of 12 KB each is 120 MB of `--list` text), and building it is linear work.
const PER_INPUT: Duration = Duration::from_secs(10);
/// The slowest rate at which a debug build must still produce what an input expands into
/// (its `--list` text): about a third of what this 2-core machine does while loaded.
const MIN_BYTES_PER_SECOND: u64 = 3 << 20;

fn seeds() -> Vec<String> {
    let mut v: Vec<String> = [
        "[consul]\n10.0.0.1\n[carrier]\n10.0.0.1\n[admin]\n10.0.0.1\n[all:vars]\nconsul_http_port = [8500]\nadmin_password = \"x\"\n",
        "[g:children]\nh\n[h:children]\ng\n[g]\n",
        "[a:vars]\nx=1\n[b:children]\na\n[a]\nh1 ansible_host=10.0.0.1 k='v w' j=\"{'a': (1, 2.0)}\"\n",
        "h[01:20]:22 x=[1,2,{3: (4,)}]\n[x]\nh0[a:f]\n",
        "[g]\n127.0.1.3 admin_password=\"S3cret\n",
        "[all:vars]\ns = {1, 1.0, True, (1+0j), b'a', 'a', ...}\nd = {1: 2, 1.0: 3}\n",
        "[all:vars]\nx = 0x1F\ny = 1e999\nz = -0.0\nw = 1+2j\nv = r'\\n' u'\\u00e9' b'\\x00'\n",
        "{\"all\": {\"children\": [\"a\"]}, \"a\": {\"hosts\": [\"h\"], \"vars\": {\"x\": [1, {\"y\": null}]}}, \"_meta\": {\"hostvars\": {\"h\": {\"n\": Infinity, \"m\": -Infinity, \"k\": NaN, \"b\": 123456789012345678901234567890}}}}",
        "{\"a\": {\"children\": [\"b\"]}, \"b\": {\"children\": [\"a\"]}}",
        "{\"_meta\": {\"hostvars\": {\"h\": {\"t\": \"\\u0001bigint:12\", \"s\": \"\\ud83d\\ude80\\ud800\"}}}}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(format!("[all:vars]\nx = {}1\n", "-".repeat(5000)));
    v.push(format!("[g]\nh x={}1\n", "+-".repeat(3000)));
    v.push(format!("[all:vars]\nx = 1{}\n", "+1".repeat(3000)));
    v.push(format!(
        "[all:vars]\nx = {}{}\n",
        "[".repeat(210),
        "]".repeat(210)
    ));
    v.push(format!(
        "[all:vars]\nx = {}1{}\n",
        "(-".repeat(150),
        ")".repeat(150)
    ));
    v.push(format!(
        "[all:vars]\nx = {{{}}}\n",
        (0..5_000)
            .map(|i| (i % 50).to_string())
            .collect::<Vec<_>>()
            .join(",")
    ));
    v.push(format!("{}{}", "[".repeat(3000), "]".repeat(3000)));
    v.push(format!(
        "{{\"a\": {}1{}}}",
        "[".repeat(300),
        "]".repeat(300)
    ));
    v.push(format!("[{}]", vec!["9".repeat(4300); 20].join(",")));
    let mut chain = String::from("[c0]\nh\n");
    for i in 1..500 {
        chain += &format!("[c{i}:children]\nc{}\n", i - 1);
    }
    v.push(chain);
    let mut diamond = String::from("[l0a]\nh1\n[l0b]\nh2\n");
    for i in 1..28 {
        for side in ["a", "b"] {
            diamond += &format!("[l{i}{side}:children]\nl{}a\nl{}b\n", i - 1, i - 1);
        }
    }
    v.push(diamond);
    v.push("[g0]\nh0_[0:9999]\n[g1]\nh1_[0:99]\n".to_string());
    v
}

/// xorshift64*: deterministic for a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Pieces that change meaning wherever they land.
const PIECES: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    "(",
    ")",
    ",",
    ":",
    "-",
    "+",
    "'",
    "\"",
    "\\",
    "=",
    "\n",
    " ",
    "#",
    ";",
    "[g:children]\n",
    "[g:vars]\n",
    "[g]\n",
    "0x",
    "1e",
    "j",
    "True",
    "None",
    "...",
    "\u{0}",
    "\u{1b}",
    "\u{feff}",
    "\r\n",
    "admin_password=",
    "[0:9]",
    "Infinity",
    "NaN",
    "\\u0001",
    "\\ud800",
    "null",
    "9999999999999999999999",
    "é",
];

fn mutate(rng: &mut Rng, seeds: &[String], input: &str) -> String {
    let b: Vec<char> = input.chars().collect();
    let mut out: Vec<char> = b.clone();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 => out
                .splice(at..at, PIECES[rng.below(PIECES.len())].chars())
                .for_each(drop),
            1 if !out.is_empty() => {
                let end = (at + rng.below(16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            2 if !out.is_empty() => {
                // Repeat a slice many times: long chains, deep nesting, big sets.
                let start = at.min(out.len() - 1);
                let end = (start + 1 + rng.below(8)).min(out.len());
                let piece: Vec<char> = out[start..end].to_vec();
                let times = 1 + rng.below(2000);
                let rep: Vec<char> = piece
                    .iter()
                    .copied()
                    .cycle()
                    .take(piece.len() * times)
                    .collect();
                out.splice(start..start, rep).for_each(drop);
            }
            3 => {
                // Splice in part of another seed.
                let other: Vec<char> = seeds[rng.below(seeds.len())].chars().collect();
                let s = rng.below(other.len());
                let e = (s + rng.below(200)).min(other.len());
                out.splice(at..at, other[s..e].iter().copied())
                    .for_each(drop);
            }
            4 => {
                let c = char::from_u32(rng.below(0x3000) as u32).unwrap_or('x');
                out.insert(at, c);
            }
            _ => {}
        }
    }
    // Keep inputs small enough for many runs (the seeds themselves are the big ones).
    out.truncate(100_000);
    out.into_iter().collect()
}

/// Everything done with one input; returns how many bytes of output it built.
fn exercise(text: &str) -> usize {
    let mut built = 0;
    let name: Arc<str> = "fuzz".into();
    let _ = literal::parse_ini_value(text);
    if let Some(value) = text.lines().find_map(|l| l.split_once('=').map(|(_, v)| v)) {
        let _ = literal::parse_ini_value(value.trim());
    }
    match ini::parse(&name, text) {
        Ok(inv) => {
            let diags = metis_core::validate::validate(&inv);
            let _ = metis_core::diag::render_text(&diags, |f| inv.source_text(f));
            built += inv.to_list_json_string().len();
        }
        Err(diags) => {
            let _ = metis_core::diag::render_text(&diags, |_| Some(text));
        }
    }
    let _ = json::parse_value(text);
    if let Ok(inv) = json::parse_list_json(&name, text) {
        let _ = metis_core::validate::validate(&inv);
        built += inv.to_list_json_string().len();
    }
    built
}

#[test]
fn readers_survive_hostile_and_mutated_input() {
    let seconds: u64 = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    let worker = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            let corpus = seeds();
            let mut rng = Rng(seed);
            let deadline = Instant::now() + Duration::from_secs(seconds);
            let mut runs = 0usize;
            // Every seed as it is, then mutations until the time is up.
            let check = |input: &str, what: &str| {
                let started = Instant::now();
                let built = exercise(input);
                let took = started.elapsed();
                let allowed = PER_INPUT + Duration::from_secs(built as u64 / MIN_BYTES_PER_SECOND);
                assert!(
                    took < allowed,
                    "FUZZ_SEED={seed}: {what} ({} bytes, {built} bytes built) took {took:?}: {:?}",
                    input.len(),
                    input.chars().take(200).collect::<String>()
                );
            };
            for s in &corpus {
                check(s, "a seed");
                runs += 1;
            }
            while Instant::now() < deadline {
                let base = corpus[rng.below(corpus.len())].clone();
                let input = mutate(&mut rng, &corpus, &base);
                check(&input, "a mutation");
                runs += 1;
            }
            runs
        })
        .expect("fuzz thread");
    match worker.join() {
        Ok(runs) => eprintln!("fuzz: {runs} inputs, FUZZ_SEED={seed}"),
        Err(e) => std::panic::resume_unwind(e),
    }
}
