//! HAProxy balancing semantics, request by request.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{assert_close, lab, mean_latency_over_seeds, run};
use infrasim::scenario::{Algorithm, Distribution};
use infrasim::sim::time::from_s;
use infrasim::sim::trace::TraceKind;
use infrasim::sim::{Command, CommandKind, NodeId, Sim, TraceConfig};
use std::collections::BTreeMap;

/// Which server each request was dispatched to, in order.
fn dispatches(sim: &Sim) -> Vec<(u64, u16)> {
    sim.trace
        .events()
        .filter_map(|e| match e.kind {
            TraceKind::Dispatch { to: NodeId::Web(i), .. } => Some((e.request, i)),
            _ => None,
        })
        .collect()
}

fn traced(s: infrasim::scenario::Scenario, seconds: f64) -> Sim {
    let mut sim = Sim::new(s, TraceConfig { enabled: true, capacity: usize::MAX });
    sim.run_until(from_s(seconds), u64::MAX);
    sim
}

#[test]
fn roundrobin_alternates_and_follows_weights_smoothly() {
    let s = lab(2, 1.0, 100.0, Algorithm::Roundrobin, 0);
    let order: Vec<u16> = dispatches(&traced(s, 1.0)).into_iter().map(|(_, i)| i).collect();
    assert!(order.len() > 50);
    assert!(order.windows(2).all(|w| w[0] != w[1]), "equal weights alternate strictly: {order:?}");

    let mut s = lab(3, 1.0, 100.0, Algorithm::Roundrobin, 0);
    for (w, weight) in s.web.servers.iter_mut().zip([5, 1, 1]) {
        w.weight = weight;
    }
    let order: Vec<u16> = dispatches(&traced(s, 5.0)).into_iter().map(|(_, i)| i).collect();
    // Smooth WRR with 5:1:1 repeats a,a,b,a,c,a,a.
    assert_eq!(&order[..7], &[0, 0, 1, 0, 2, 0, 0]);
    let count = |k| order.iter().filter(|&&i| i == k).count() as f64;
    assert!((count(0) / order.len() as f64 - 5.0 / 7.0).abs() < 0.01);
}

#[test]
fn weight_changes_apply_live_for_roundrobin_but_not_static_rr() {
    for (algorithm, expect_share_of_web1) in [(Algorithm::Roundrobin, 0.75), (Algorithm::StaticRr, 0.5)] {
        let s = lab(2, 1.0, 200.0, algorithm, 0);
        let mut sim = Sim::new(s, TraceConfig { enabled: true, capacity: usize::MAX });
        sim.run_until(from_s(5.0), u64::MAX);
        let cut = sim.trace.events().map(|e| e.request).max().unwrap_or(0);
        sim.apply(Command { at_us: sim.now(), what: CommandKind::SetWeight { server: 0, weight: 3 } }).unwrap();
        sim.run_until(from_s(30.0), u64::MAX);
        let recent: Vec<u16> = dispatches(&sim).into_iter().filter(|(r, _)| *r > cut).map(|(_, i)| i).collect();
        let share = recent.iter().filter(|&&i| i == 0).count() as f64 / recent.len() as f64;
        assert!((share - expect_share_of_web1).abs() < 0.03, "{}: web1 share {share}", algorithm.name());
    }
}

#[test]
fn weight_zero_drains_a_server_for_every_algorithm() {
    for algorithm in Algorithm::ALL {
        let s = lab(3, 5.0, 300.0, algorithm, 0);
        let mut sim = Sim::new(s, TraceConfig { enabled: true, capacity: usize::MAX });
        sim.run_until(from_s(2.0), u64::MAX);
        sim.apply(Command { at_us: sim.now(), what: CommandKind::SetWeight { server: 1, weight: 0 } }).unwrap();
        let cut = sim.trace.events().map(|e| e.request).max().unwrap_or(0);
        sim.run_until(from_s(10.0), u64::MAX);
        let late: Vec<u16> = dispatches(&sim).into_iter().filter(|(r, _)| *r > cut).map(|(_, i)| i).collect();
        assert!(late.len() > 1_000);
        assert!(!late.contains(&1), "{}: drained web2 still got new requests", algorithm.name());
        sim.check_invariants().unwrap();
    }
}

#[test]
fn leastconn_prefers_the_server_with_fewest_connections() {
    // A slow server accumulates connections; leastconn sends it less, roundrobin the same.
    let mut shares = BTreeMap::new();
    for algorithm in [Algorithm::Roundrobin, Algorithm::Leastconn] {
        let mut s = lab(2, 10.0, 120.0, algorithm, 0);
        s.web.servers[1].service_time_ms = 40.0;
        s.web.servers[1].workers = 4;
        s.web.servers[0].workers = 4;
        let sim = traced(s, 60.0);
        let order = dispatches(&sim);
        let slow = order.iter().filter(|(_, i)| *i == 1).count() as f64 / order.len() as f64;
        shares.insert(algorithm.name(), slow);
    }
    assert!((shares["roundrobin"] - 0.5).abs() < 0.01, "{shares:?}");
    assert!(shares["leastconn"] < 0.35, "leastconn should avoid the slow server: {shares:?}");
}

#[test]
fn first_fills_servers_in_order_up_to_maxconn() {
    let s = lab(3, 10.0, 150.0, Algorithm::First, 2);
    let sim = traced(s, 60.0);
    let order = dispatches(&sim);
    let count = |k| order.iter().filter(|(_, i)| *i == k).count();
    assert!(count(0) > count(1) && count(1) > count(2), "first: {} {} {}", count(0), count(1), count(2));
    // With unlimited maxconn, `first` never leaves the first server.
    let sim = traced(lab(3, 10.0, 150.0, Algorithm::First, 0), 10.0);
    assert!(dispatches(&sim).iter().all(|(_, i)| *i == 0));
}

#[test]
fn source_hash_is_sticky_per_client() {
    let mut s = lab(4, 5.0, 400.0, Algorithm::Source, 0);
    s.traffic.clients = 200;
    let sim = traced(s, 20.0);
    let client_of: BTreeMap<u64, u32> = sim
        .trace
        .events()
        .filter_map(|e| match e.kind {
            TraceKind::Arrive { client, .. } => Some((e.request, client)),
            _ => None,
        })
        .collect();
    let mut server_of_client: BTreeMap<u32, u16> = BTreeMap::new();
    let mut per_server = [0usize; 4];
    for (request, server) in dispatches(&sim) {
        let client = client_of[&request];
        let pinned = *server_of_client.entry(client).or_insert(server);
        assert_eq!(pinned, server, "client {client} moved from web{} to web{}", pinned + 1, server + 1);
        per_server[server as usize] += 1;
    }
    assert_eq!(server_of_client.len(), 200);
    assert!(per_server.iter().all(|&n| n > 0), "hash spreads clients: {per_server:?}");
}

#[test]
fn sticky_requests_wait_for_their_full_server() {
    // source + maxconn: a client's request waits for its own server rather than moving.
    let mut s = lab(2, 10.0, 150.0, Algorithm::Source, 1);
    s.traffic.clients = 50;
    let (sim, r) = run(s, 60.0);
    sim.check_invariants().unwrap();
    assert!(r.requests.completed > 5_000);
}

#[test]
fn maxqueue_and_timeout_queue_answer_503_with_their_cause() {
    let mut s = lab(1, 10.0, 300.0, Algorithm::Roundrobin, 1);
    s.balancer.maxqueue = 20;
    s.balancer.timeout_queue_ms = 0.0;
    let (_, r) = run(s, 30.0);
    assert!(r.requests.failed_by_cause["queue_full"] > 1_000);
    assert_eq!(r.requests.failed_by_cause["queue_timeout"], 0);

    let mut s = lab(1, 10.0, 300.0, Algorithm::Roundrobin, 1);
    s.balancer.timeout_queue_ms = 100.0;
    let (sim, r) = run(s, 30.0);
    assert!(r.requests.failed_by_cause["queue_timeout"] > 1_000);
    assert_eq!(r.requests.failed_by_cause["queue_full"], 0);
    // Nobody who completed waited much longer than the timeout plus service.
    assert!(r.latency_ms.p99 < 100.0 + 80.0, "p99 {}", r.latency_ms.p99);
    sim.check_invariants().unwrap();
}

#[test]
fn no_usable_server_answers_503_no_server() {
    let mut s = lab(2, 10.0, 100.0, Algorithm::Leastconn, 0);
    for w in &mut s.web.servers {
        w.weight = 0;
    }
    let (_, r) = run(s, 5.0);
    assert_eq!(r.requests.completed, 0);
    assert_eq!(r.requests.failed_by_cause["no_server"], r.requests.failed);
    assert!(r.requests.failed > 300);
}

#[test]
fn switching_algorithm_and_server_count_live_keeps_running() {
    let s = lab(2, 10.0, 150.0, Algorithm::Roundrobin, 0);
    let mut sim = Sim::new(s, TraceConfig { enabled: true, capacity: usize::MAX });
    sim.run_until(from_s(10.0), u64::MAX);
    let before = sim.metrics.all.completed;
    sim.apply(Command { at_us: sim.now(), what: CommandKind::SetAlgorithm { algorithm: Algorithm::Leastconn } })
        .unwrap();
    sim.apply(Command { at_us: sim.now(), what: CommandKind::SetServerCount { count: 3 } }).unwrap();
    let cut = sim.trace.events().map(|e| e.request).max().unwrap_or(0);
    sim.run_until(from_s(20.0), u64::MAX);
    assert!(sim.metrics.all.completed > before + 1_000);
    assert_eq!(sim.scenario().balancer.algorithm, Algorithm::Leastconn);
    let late: Vec<u16> = dispatches(&sim).into_iter().filter(|(r, _)| *r > cut).map(|(_, i)| i).collect();
    assert!(late.contains(&2), "the third server takes traffic after the count change");
}

/// M/G/1 (Pollaczek–Khinchine): W = S + λ·E[S²] / (2(1 − ρ)), E[S²] = S²(1 + cv²).
#[test]
fn service_distributions_match_pollaczek_khinchine() {
    for (distribution, cv) in
        [(Distribution::Constant, 0.0), (Distribution::Lognormal, 2.0), (Distribution::Exponential, 1.0)]
    {
        let mut s = lab(1, 10.0, 70.0, Algorithm::Roundrobin, 0);
        s.web.servers[0].service_distribution = distribution;
        s.web.servers[0].service_time_cv = cv;
        s.warmup_s = 50.0;
        let (lambda, mean_s) = (70.0, 0.010);
        let rho = lambda * mean_s;
        let expected_ms = (mean_s + lambda * mean_s * mean_s * (1.0 + cv * cv) / (2.0 * (1.0 - rho))) * 1_000.0;
        let seconds = if cv > 1.5 { 8_000.0 } else { 2_000.0 };
        let measured = mean_latency_over_seeds(&s, 1..7, seconds);
        assert_close(&format!("M/G/1 {}", distribution.name()), measured, expected_ms, 0.05);
    }
}

#[test]
fn fairness_index_reflects_balance() {
    let (sim, r) = run(lab(4, 10.0, 200.0, Algorithm::Roundrobin, 0), 100.0);
    assert!(r.fairness_jain > 0.99, "roundrobin over identical servers: {}", r.fairness_jain);
    let (_, r2) = run(lab(4, 10.0, 50.0, Algorithm::First, 0), 100.0);
    assert!((r2.fairness_jain - 0.25).abs() < 0.01, "first puts everything on web1: {}", r2.fairness_jain);
    assert_eq!(r.by_server.len(), 4);
    assert!(sim.metrics.series.len() >= 99);
}

#[test]
fn utilization_matches_offered_load() {
    let (_, r) = run(lab(2, 10.0, 120.0, Algorithm::Roundrobin, 0), 500.0);
    for s in &r.by_server {
        assert_close(&format!("{} utilization", s.id), s.utilization, 0.6, 0.03);
    }
}
