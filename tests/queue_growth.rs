//! The backlog watch (`sim::growth`): a queue below capacity settles, one above it grows, and
//! in the course's three-server design a slow web1 under round robin grows its own queue while
//! least connections keeps it settled. Five seeds each; every look after the first full window
//! must agree, not only the last.

use infrasim::scenario::{apply_setting, preset, Scenario};
use infrasim::sim::growth::{Backlog, BacklogWatch, Trend, SAMPLES, SAMPLE_INTERVAL_S};
use infrasim::sim::time::from_s;
use infrasim::sim::{NodeId, Sim, TraceConfig};

const SEEDS: [u64; 30] =
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30];
/// Simulated seconds each run lasts.
const RUN_S: u64 = 60;

fn with(preset_name: &str, seed: u64, settings: &[(&str, &str)]) -> Scenario {
    let mut s = preset(preset_name).unwrap();
    s.seed = seed;
    for (k, v) in settings {
        apply_setting(&mut s, k, v).unwrap();
    }
    assert!(s.validate().is_empty(), "{:?}", s.validate());
    s
}

/// The verdict at every second once the window is full.
fn verdicts(s: Scenario) -> Vec<Backlog> {
    let mut sim = Sim::new(s, TraceConfig { enabled: false, capacity: 1 });
    let mut watch = BacklogWatch::new();
    let mut out = Vec::new();
    for second in 0..=RUN_S {
        sim.run_until(from_s(second as f64 * SAMPLE_INTERVAL_S), u64::MAX);
        watch.observe(&sim);
        let verdict = watch.verdict();
        if (second as usize) < SAMPLES - 1 {
            assert_eq!(verdict.total, Trend::TooEarly, "second {second}: a verdict before the window is full");
        } else {
            out.push(verdict);
        }
    }
    out
}

/// One server, 10 ms a request with one worker: 100 requests a second.
fn one_server(seed: u64, rate: &str) -> Scenario {
    with("queue-lab", seed, &[("web.count", "1"), ("traffic.arrival_rate_per_s", rate)])
}

#[test]
fn a_queue_below_capacity_settles() {
    for seed in SEEDS {
        for (i, v) in verdicts(one_server(seed, "80")).iter().enumerate() {
            assert!(matches!(v.total, Trend::Steady { .. }), "seed {seed}, look {i}: ρ = 0.8 read as {:?}", v.total);
            assert_eq!(v.growing_servers().count(), 0, "seed {seed}, look {i}: {v:?}");
        }
    }
}

#[test]
fn a_queue_above_capacity_grows_at_about_the_excess_rate_until_it_is_full() {
    for seed in SEEDS {
        let all = verdicts(one_server(seed, "120"));
        let mut grew = 0;
        for (i, v) in all.iter().enumerate() {
            match (v.total, v.by_server[0].1) {
                (Trend::Growing { per_s }, Trend::Growing { .. }) => {
                    // λ − μ = 20 a second; over a 19 s window Poisson arrivals and service times
                    // move the slope by several a second, so allow 10 to 35.
                    assert!((10.0..35.0).contains(&per_s), "seed {seed}, look {i}: grows {per_s:.1}/s, not about 20");
                    grew += 1;
                }
                // 511 waiting connections (Linux's default backlog): the server refuses the rest.
                (_, Trend::Full { waiting }) => assert!(waiting >= 485, "seed {seed}, look {i}: {v:?}"),
                other => panic!("seed {seed}, look {i}: ρ = 1.2 read as {other:?}"),
            }
        }
        // It fills its 511 places in 18 to 26 s and the window is 20 s: some looks see growth.
        assert!(grew >= 1, "seed {seed}: no growth seen before it was full: {all:?}");
        // Refused connections wait and are retried (balancer.retries) before a 503, so at the end
        // the requests in the model still grow, or they fail at up to the excess 20 a second.
        let last = all.last().unwrap();
        let unsettled = match last.total {
            Trend::TurningAway { failed_per_s } => (5.0..30.0).contains(&failed_per_s),
            Trend::Growing { per_s } => per_s > 2.0,
            _ => false,
        };
        assert!(unsettled, "seed {seed}: at the end {last:?}");
    }
}

/// web1 takes 100 ms a request with 4 workers (40 a second) while round robin sends it half of
/// 100 a second: its queue grows by about 10 a second. Least connections sends it less.
fn slow_web1(seed: u64, algorithm: &str) -> Scenario {
    with("three-server", seed, &[("web.service_time_ms", "100,20"), ("balancer.algorithm", algorithm)])
}

#[test]
fn a_slow_server_under_round_robin_grows_its_own_queue_until_it_is_full() {
    for seed in SEEDS {
        let all = verdicts(slow_web1(seed, "roundrobin"));
        let mut grew = 0;
        for (i, v) in all.iter().enumerate() {
            match v.by_server.as_slice() {
                [(NodeId::Web(0), Trend::Growing { .. }), (NodeId::Web(1), Trend::Steady { .. })] => grew += 1,
                // Full: web1 refuses, and the balancer retries those requests on web2.
                [(NodeId::Web(0), Trend::Full { .. }), (NodeId::Web(1), Trend::Steady { .. })] => {}
                other => panic!("seed {seed}, look {i}: {other:?}"),
            }
        }
        assert!(grew >= 3, "seed {seed}: web1 grew in {grew} looks only: {all:?}");
        println!("seed {seed}: round robin, web1 grew in {grew} looks; last {:?}", all.last().unwrap());
    }
}

#[test]
fn least_connections_keeps_the_slow_servers_queue_settled() {
    for seed in SEEDS {
        for (i, v) in verdicts(slow_web1(seed, "leastconn")).iter().enumerate() {
            assert_eq!(v.growing_servers().count(), 0, "seed {seed}, look {i}: {v:?}");
            assert!(matches!(v.total, Trend::Steady { .. }), "seed {seed}, look {i}: {:?}", v.total);
        }
    }
}

/// A per-server setting takes a list with one value per server, and refuses a list of the
/// wrong length by naming it.
#[test]
fn per_server_settings_take_a_value_each() {
    let s = with("three-server", 1, &[("web.service_time_ms", "100, 20")]);
    assert_eq!(s.web.servers.iter().map(|w| w.service_time_ms).collect::<Vec<_>>(), vec![100.0, 20.0]);
    let mut t = preset("three-server").unwrap();
    let e = apply_setting(&mut t, "web.service_time_ms", "1,2,3").unwrap_err();
    assert!(e.message.contains("'1,2,3' lists 3 values for 2 web servers"), "{e}");
    let e = apply_setting(&mut t, "web.workers", "4,x").unwrap_err();
    assert!(e.message.contains("'x'"), "{e}");
    assert_eq!(t, preset("three-server").unwrap(), "a refused list changes nothing");
}
