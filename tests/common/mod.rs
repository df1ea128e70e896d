//! Helpers shared by the native model tests.
#![allow(dead_code)]

use infrasim::scenario::{preset, Algorithm, Scenario, WebServer};
use infrasim::sim::time::{from_s, SimTime};
use infrasim::sim::trace::{NodeEvent, Subject};
use infrasim::sim::{Command, CommandKind, NodeId, Report, Sim, TraceConfig};

/// The queue-lab preset reshaped: `servers` identical servers with one worker each and
/// exponential service of `service_ms`, Poisson arrivals at `rate_per_s`, no network delay,
/// no database. `maxconn` 0 lets requests queue at the servers; 1 makes a shared queue.
pub fn lab(servers: usize, service_ms: f64, rate_per_s: f64, algorithm: Algorithm, maxconn: u32) -> Scenario {
    let mut s = preset("queue-lab").expect("queue-lab preset exists");
    s.traffic.arrival_rate_per_s = rate_per_s;
    s.balancer.algorithm = algorithm;
    s.web.servers =
        vec![WebServer { workers: 1, service_time_ms: service_ms, maxconn, ..WebServer::default() }; servers];
    assert!(s.validate().is_empty(), "{:?}", s.validate());
    s
}

pub fn run(scenario: Scenario, seconds: f64) -> (Sim, Report) {
    let mut sim = Sim::new(scenario, TraceConfig { enabled: false, capacity: 1 });
    sim.run_until(from_s(seconds), u64::MAX);
    let report = Report::from_sim(&sim);
    (sim, report)
}

/// Mean latency (ms) over a sweep of seeds, weighting each run by its completed requests.
pub fn mean_latency_over_seeds(base: &Scenario, seeds: std::ops::Range<u64>, seconds: f64) -> f64 {
    let (mut sum, mut n) = (0.0, 0.0);
    for seed in seeds {
        let mut s = base.clone();
        s.seed = seed;
        let (_, r) = run(s, seconds);
        sum += r.latency_ms.mean * r.requests.completed as f64;
        n += r.requests.completed as f64;
    }
    sum / n
}

pub fn assert_close(label: &str, measured: f64, expected: f64, tolerance: f64) {
    let err = (measured - expected).abs() / expected;
    println!("{label}: measured {measured:.4}, expected {expected:.4}, error {:.2} %", err * 100.0);
    assert!(
        err <= tolerance,
        "{label}: measured {measured:.4} vs expected {expected:.4} ({:.2} % > {:.0} %)",
        err * 100.0,
        tolerance * 100.0
    );
}

/// A model with the trace off (the tests read metrics and the timeline).
pub fn sim(s: Scenario) -> Sim {
    Sim::new(s, TraceConfig { enabled: false, capacity: 1 })
}

/// Schedule `what` at `t_s` seconds; the tests only give valid commands.
pub fn at(sim: &mut Sim, t_s: f64, what: CommandKind) {
    sim.apply(Command { at_us: from_s(t_s), what }).unwrap();
}

/// When `node` went through `event`, from the timeline.
pub fn when(sim: &Sim, node: NodeId, event: NodeEvent) -> Vec<SimTime> {
    sim.timeline.iter().filter(|e| e.subject == Subject::Node(node) && e.event == event).map(|e| e.at).collect()
}

/// Enough web capacity that the database is what the test is about.
/// The v1 design (a box per node): replication is measured without CPU shared on a machine.
pub fn db_lab(seed: u64, rate: f64, write_ratio: f64) -> Scenario {
    let mut s = infrasim::scenario::preset_v1("three-server").unwrap();
    s.seed = seed;
    s.traffic.arrival_rate_per_s = rate;
    s.traffic.write_ratio = write_ratio;
    s.web.servers = vec![WebServer { workers: 32, service_time_ms: 5.0, ..WebServer::default() }; 4];
    s.db.workers = 64;
    s.db.read_time_ms = 1.0;
    s.db.write_time_ms = 1.0;
    s
}

/// Run the batch runner with `args`: (exit code, stdout, stderr).
pub fn infrasim(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_infrasim")).args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}
