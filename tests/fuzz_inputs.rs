//! Seeded, bounded fuzzing of every text the user can type: scenario JSON, `--set`, `--fault`
//! and page links. Mutations of valid inputs and random bytes must never panic; what is
//! accepted must run, and the run's report must keep its invariants. A few runs through the
//! binary check the exit code is only ever 0 or 2.
#![cfg(not(target_arch = "wasm32"))]

use infrasim::scenario::url::{decode, encode, UrlState};
use infrasim::scenario::{apply_setting, parse_fault, preset, preset_names, setting_value, settings, Scenario};
use infrasim::sim::time::from_s;
use infrasim::sim::{Command, Report, Sim, TraceConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Inputs tried per parser (mutations and random bytes together).
const INPUTS_PER_PARSER: usize = 4_000;
/// Most accepted inputs simulated per parser (each run is short, see `run_briefly`).
const RUNS_PER_PARSER: usize = 40;
/// Requests a fuzzed run simulates at most (about): keeps every run a few milliseconds.
const REQUESTS_PER_RUN: f64 = 1_500.0;

/// Pieces worth splicing in: bounds, signs, exponents, separators and escapes.
const TOKENS: &[&str] = &[
    "0",
    "-1",
    "1e308",
    "1e-9",
    "NaN",
    "inf",
    "-0",
    "4294967296",
    "65536",
    "18446744073709551616",
    "0.0004",
    ".",
    ",",
    ":",
    "=",
    "-",
    "+",
    "e",
    "\"",
    "{",
    "}",
    "[",
    "]",
    "null",
    "true",
    "%",
    "%1B",
    "\u{1b}[2J",
    "web0",
    "web01",
    "web+1",
    "web65536",
    "db9",
    "lb3",
    "clients",
    "ms",
    "s",
    "sss",
    "&",
    "==",
    "\u{0}",
    "é",
];

fn mutate(rng: &mut ChaCha8Rng, text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    // Mostly one change, so that many mutants stay close enough to valid to reach the model.
    let changes = [1, 1, 1, 1, 1, 1, 1, 2, 2, 4][rng.random_range(0..10)];
    for _ in 0..changes {
        let at = rng.random_range(0..=bytes.len());
        match rng.random_range(0..6) {
            0 if at < bytes.len() => bytes[at] = rng.random(),
            1 => {
                let end = (at + rng.random_range(1..8)).min(bytes.len());
                bytes.drain(at..end);
            }
            2 => {
                let token = TOKENS[rng.random_range(0..TOKENS.len())];
                bytes.splice(at..at, token.bytes());
            }
            3 => {
                // Replace a run of digits or letters with a token.
                let end = (at..bytes.len()).find(|&i| !bytes[i].is_ascii_alphanumeric()).unwrap_or(bytes.len());
                let token = TOKENS[rng.random_range(0..TOKENS.len())];
                bytes.splice(at..end, token.bytes());
            }
            4 => bytes.truncate(at),
            _ => {
                let end = (at + rng.random_range(1..16)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn random_bytes(rng: &mut ChaCha8Rng) -> String {
    let len = rng.random_range(0..48);
    let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A mutation of one of `seeds`, or (one time in ten) random bytes.
fn fuzzed(rng: &mut ChaCha8Rng, seeds: &[String]) -> String {
    if rng.random_range(0..10) == 0 {
        random_bytes(rng)
    } else {
        let pick = rng.random_range(0..seeds.len());
        mutate(rng, &seeds[pick])
    }
}

/// Long enough for about `REQUESTS_PER_RUN` requests at the scenario's busiest rate.
fn brief_duration_s(s: &Scenario) -> f64 {
    let burst = if s.traffic.burst.enabled { s.traffic.burst.multiplier.max(1.0) } else { 1.0 };
    let rate = (s.traffic.arrival_rate_per_s * burst).max(1.0);
    (REQUESTS_PER_RUN / rate).clamp(0.05, 3.0)
}

/// The model built from an accepted input, its commands applied; `None` when the design
/// refuses a command (a node it lacks): that is an answer, not a panic. Cheap, so done for
/// every accepted input.
fn build(s: &Scenario, commands: &[Command], label: &str) -> Option<Sim> {
    let mut sim = Sim::new(s.clone(), TraceConfig { enabled: false, capacity: 1 });
    for c in commands {
        if let Err(e) = sim.apply(c.clone()) {
            assert!(!e.is_empty(), "{label}: an empty refusal");
            return None;
        }
    }
    Some(sim)
}

/// Run a built model briefly and check the report's invariants.
fn run_briefly(mut sim: Sim, label: &str) {
    let s = sim.scenario().clone();
    let duration_s = brief_duration_s(&s).max(s.warmup_s + 0.05);
    if duration_s > 3.0 + s.warmup_s.min(1.0) && s.traffic.arrival_rate_per_s > 1_000.0 {
        return; // a long warm-up at a high rate is a long run: out of this test's budget
    }
    sim.run_until(from_s(duration_s), u64::MAX);
    check_invariants(&Report::from_sim(&sim), label);
}

/// Accepted input `label`: build it, and run the first `RUNS_PER_PARSER` of them.
fn exercise(s: &Scenario, commands: &[Command], label: &str, runs: &mut usize) {
    no_panic(label, || {
        if let Some(sim) = build(s, commands, label) {
            if *runs < RUNS_PER_PARSER {
                *runs += 1;
                run_briefly(sim, label);
            }
        }
    })
}

/// A fault put together from parts, edge cases included.
fn assembled_fault(rng: &mut ChaCha8Rng) -> String {
    let pick = |rng: &mut ChaCha8Rng, parts: &[&'static str]| parts[rng.random_range(0..parts.len())];
    let time = pick(rng, &["0.5s", "1500ms", "1", "0", "30sss", "-1s", "1e308s", "NaN", "0.2 s", "", "1e-7s"]);
    let action = pick(rng, &["kill", "restore", "slow=4", "slow=0", "slow=1e9", "slow=", "cut", "heal", "explode"]);
    let target = pick(
        rng,
        &[
            "web1",
            "web2",
            "web0",
            "web01",
            "web+1",
            "web65536",
            "web65537",
            "web4294967297",
            "lb1",
            "lb2",
            "lb3",
            "db1",
            "db5",
            "db256",
            "dns",
            "clients",
            "web1-web2",
            "clients-db1",
            "lb1-web2",
            "web2-db1",
            "db1-db2",
            "clients-dns",
            "lb1-lb2",
            "lb1-lb1",
            "web1-",
        ],
    );
    format!("{time}:{action}:{target}")
}

fn check_invariants(r: &Report, label: &str) {
    let q = &r.requests;
    assert_eq!(q.arrived, q.completed + q.failed + q.in_flight, "{label}: arrived = completed + failed + in flight");
    let l = &r.latency_ms;
    assert!(l.p50 <= l.p95 && l.p95 <= l.p99 && l.p99 <= l.max, "{label}: percentiles in order {l:?}");
    // Unknown (null) only when nothing measured was answered.
    match r.availability {
        Some(a) => assert!((0.0..=1.0).contains(&a), "{label}: availability {a}"),
        None => assert_eq!(q.completed + q.failed, 0, "{label}: availability unknown with answers"),
    }
    let by_server: u64 = r.by_server.iter().map(|s| s.completed).sum();
    assert_eq!(by_server, q.completed, "{label}: per-server completions sum to completed");
}

/// Call `f`, naming the input if it panics.
fn no_panic<T>(input: &str, f: impl FnOnce() -> T) -> T {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(_) => panic!("panicked on input {input:?}"),
    }
}

#[test]
fn scenario_json_never_panics_and_what_it_accepts_runs() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let seeds: Vec<String> = preset_names()
        .iter()
        .map(|n| serde_json::to_string(&preset(n).unwrap()).unwrap())
        .chain(["{}".to_string(), r#"{"traffic":{"arrival_rate_per_s":200},"web":{"servers":[{},{}]}}"#.into()])
        .collect();
    let (mut accepted, mut runs) = (0, 0);
    for _ in 0..INPUTS_PER_PARSER {
        let text = fuzzed(&mut rng, &seeds);
        if let Ok(s) = no_panic(&text, || Scenario::from_json(&text)) {
            accepted += 1;
            exercise(&s, &[], &text, &mut runs);
        }
    }
    assert!(accepted > 10 && accepted < INPUTS_PER_PARSER, "some mutations are valid, most are not: {accepted}");
}

#[test]
fn settings_never_panic_and_what_they_accept_runs() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let base = preset("three-server").unwrap();
    let seeds: Vec<String> = settings()
        .iter()
        .map(|row| format!("{}={}", row.key, setting_value(&base, row.key).unwrap_or_default()))
        .collect();
    let (mut accepted, mut runs) = (0, 0);
    for _ in 0..INPUTS_PER_PARSER {
        let text = fuzzed(&mut rng, &seeds);
        let mut s = base.clone();
        let applied = no_panic(&text, || {
            let (key, value) = text.split_once('=')?;
            apply_setting(&mut s, key, value).ok()
        });
        if applied.is_some() && s.validate().is_empty() {
            accepted += 1;
            exercise(&s, &[], &text, &mut runs);
        }
    }
    assert!(accepted > 10 && accepted < INPUTS_PER_PARSER, "{accepted} accepted");
}

#[test]
fn faults_never_panic_and_what_they_accept_runs() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let seeds: Vec<String> = [
        "0.5s:kill:web1",
        "1500ms:slow=4:db1",
        "1:cut:lb1-web2",
        "0.2s:heal:lb1-web2",
        "1s:restore:web1",
        "0.3s:kill:lb1",
        "0.1s:cut:web2-db1",
        "0.7s:kill:dns",
    ]
    .map(String::from)
    .to_vec();
    let mut base = preset("three-server").unwrap();
    base.traffic.arrival_rate_per_s = 300.0;
    let (mut accepted, mut runs) = (0, 0);
    for _ in 0..INPUTS_PER_PARSER {
        let text = if rng.random_range(0..2) == 0 { assembled_fault(&mut rng) } else { fuzzed(&mut rng, &seeds) };
        if let Ok(command) = no_panic(&text, || parse_fault(&text)) {
            accepted += 1;
            exercise(&base, &[command], &text, &mut runs);
        }
    }
    assert!(accepted > 10 && accepted < INPUTS_PER_PARSER, "{accepted} accepted");
}

#[test]
fn links_never_panic_and_what_they_open_runs() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let mut seeds: Vec<String> = preset_names()
        .iter()
        .map(|n| {
            let mut state = UrlState::new(n, preset(n).unwrap());
            state.commands = vec![
                Command { at_us: 100_000, what: infrasim::sim::CommandKind::SetArrivalRate { per_s: 250.0 } },
                Command {
                    at_us: 200_000,
                    what: infrasim::sim::CommandKind::Kill { node: infrasim::sim::NodeId::Web(0) },
                },
            ];
            encode(&state)
        })
        .collect();
    seeds.push("v=1&preset=three-server&db.replicas=2&balancer.pair=true&seed=1&step=1".into());
    seeds.push("v=1&preset=queue-lab&traffic.arrival_rate_per_s=120&web.count=3&name=Lab%201&t=1500".into());
    let (mut accepted, mut runs) = (0, 0);
    for _ in 0..INPUTS_PER_PARSER {
        let text = fuzzed(&mut rng, &seeds);
        if let Ok(state) = no_panic(&text, || decode(&text)) {
            accepted += 1;
            exercise(&state.scenario, &state.commands, &text, &mut runs);
        }
    }
    assert!(accepted > 10 && accepted < INPUTS_PER_PARSER, "{accepted} accepted");
}

#[test]
fn the_binary_exits_only_0_or_2_on_fuzzed_arguments() {
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    let sets: Vec<String> = ["web.count=3", "traffic.arrival_rate_per_s=150", "balancer.maxconn=2", "warmup_s=0.5"]
        .map(String::from)
        .to_vec();
    let faults: Vec<String> = ["0.5s:kill:web1", "1s:cut:lb1-web2"].map(String::from).to_vec();
    let durations: Vec<String> = ["1", "1.5", "0.2"].map(String::from).to_vec();
    for i in 0..12 {
        let args = [
            "run".to_string(),
            "--set".into(),
            fuzzed(&mut rng, &sets).replace('\0', ""),
            "--fault".into(),
            fuzzed(&mut rng, &faults).replace('\0', ""),
            "--duration-s".into(),
            if i % 2 == 0 { fuzzed(&mut rng, &durations).replace('\0', "") } else { "1".into() },
            "--json".into(),
        ];
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_infrasim")).args(&args).output().expect("runs");
        let code = out.status.code();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(matches!(code, Some(0) | Some(2)), "{args:?} exits {code:?}: {err}");
        if code == Some(2) {
            assert!(err.starts_with("infrasim: ") || err.starts_with("error: "), "{args:?}: {err}");
        }
    }
}
