//! The walking skeleton's model guarantees: determinism, request conservation after every
//! step, and M/M/1 latency against queueing theory.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{assert_close, lab, mean_latency_over_seeds};
use infrasim::scenario::{preset, Algorithm, Scenario};
use infrasim::sim::time::from_s;
use infrasim::sim::{Command, CommandKind, Sim, TraceConfig};

fn trace_of(scenario: Scenario, seconds: f64) -> Vec<String> {
    let mut sim = Sim::new(scenario, TraceConfig { enabled: true, capacity: usize::MAX });
    sim.run_until(from_s(seconds), u64::MAX);
    sim.trace.lines()
}

fn three_server(seed: u64) -> Scenario {
    let mut s = preset("three-server").unwrap();
    s.seed = seed;
    s
}

#[test]
fn same_seed_gives_identical_trace_and_other_seed_differs() {
    let a = trace_of(three_server(7), 20.0);
    let b = trace_of(three_server(7), 20.0);
    let c = trace_of(three_server(8), 20.0);
    // About five lines per request (a static file, answered by Nginx, has no start or query).
    assert!(a.len() > 8_000, "a 20 s run at 100 req/s has many events, got {}", a.len());
    assert_eq!(a, b);
    assert_ne!(a, c);
}

/// The first lines of seed 42's trace, checked in: any change to event order, timing or
/// randomness shows up here. The browser tests compare against the same file.
#[test]
fn golden_trace_three_server_seed_42() {
    let lines = trace_of(three_server(42), 2.0);
    let text = lines.iter().take(400).cloned().collect::<Vec<_>>().join("\n") + "\n";
    let golden_path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/three_server_seed42.txt");
    if std::env::var_os("INFRASIM_BLESS").is_some() {
        std::fs::write(golden_path, &text).unwrap();
    }
    let golden = std::fs::read_to_string(golden_path).expect("golden file (INFRASIM_BLESS=1 writes it)");
    assert_eq!(text, golden, "trace differs from tests/golden/three_server_seed42.txt");
}

/// A scenario that exercises every path: tight capacity, queue limits, timeouts, bursts.
fn stressed(seed: u64) -> Scenario {
    let mut s = three_server(seed);
    s.traffic.arrival_rate_per_s = 400.0;
    s.traffic.burst.enabled = true;
    s.traffic.burst.period_s = 4.0;
    s.traffic.burst.duration_s = 1.0;
    s.traffic.burst.multiplier = 4.0;
    s.balancer.maxqueue = 40;
    s.balancer.timeout_queue_ms = 300.0;
    for w in &mut s.web.servers {
        w.maxconn = 3;
        w.workers = 2;
    }
    s
}

#[test]
fn requests_are_conserved_after_every_step_over_seeds() {
    for seed in 0..12 {
        let mut sim = Sim::new(stressed(seed), TraceConfig { enabled: false, capacity: 1 });
        let commands = [
            (2.0, CommandKind::SetAlgorithm { algorithm: Algorithm::Leastconn }),
            (3.0, CommandKind::SetServerCount { count: 4 }),
            (4.0, CommandKind::SetWeight { server: 0, weight: 0 }),
            (5.0, CommandKind::SetAlgorithm { algorithm: Algorithm::Source }),
            (6.0, CommandKind::SetServerCount { count: 1 }),
            (7.0, CommandKind::SetAlgorithm { algorithm: Algorithm::Random }),
            (8.0, CommandKind::SetMaxconn { maxconn: 0 }),
            (9.0, CommandKind::SetArrivalRate { per_s: 50.0 }),
        ];
        for (at, what) in commands {
            sim.apply(Command { at_us: from_s(at), what }).unwrap();
        }
        let mut steps = 0;
        while sim.now() < from_s(12.0) && sim.step() {
            steps += 1;
            if let Err(e) = sim.check_invariants() {
                panic!("seed {seed}, step {steps}, t={} us: {e}", sim.now());
            }
        }
        let m = &sim.metrics.all;
        assert!(m.failed() > 0, "seed {seed}: the stressed scenario should fail some requests");
        assert!(m.completed > 1_000, "seed {seed}: completed only {}", m.completed);
    }
}

#[test]
fn bad_commands_are_refused_without_changing_the_model() {
    let mut sim = Sim::new(three_server(1), TraceConfig::default());
    for what in [
        CommandKind::SetArrivalRate { per_s: f64::NAN },
        CommandKind::SetArrivalRate { per_s: -1.0 },
        CommandKind::SetWriteRatio { ratio: 1.5 },
        CommandKind::SetWeight { server: 9, weight: 1 },
        CommandKind::SetWeight { server: 0, weight: 257 },
        CommandKind::SetServerCount { count: 0 },
        CommandKind::SetSpeed { factor: f64::INFINITY },
    ] {
        assert!(sim.apply(Command { at_us: 0, what: what.clone() }).is_err(), "{what:?} accepted");
    }
    assert!(sim.commands().is_empty());
    assert_eq!(sim.scenario(), &three_server(1));
}

/// One web server with one worker is M/M/1: W = 1/(μ − λ). μ = 100/s (10 ms).
#[test]
fn single_server_latency_matches_mm1() {
    for (rate, expected_ms) in [(50.0, 20.0), (80.0, 50.0)] {
        let mut s = lab(1, 10.0, rate, Algorithm::Roundrobin, 0);
        s.warmup_s = 50.0;
        let measured = mean_latency_over_seeds(&s, 1..9, 4_000.0);
        assert_close(&format!("M/M/1 rho={}", rate / 100.0), measured, expected_ms, 0.05);
    }
}
