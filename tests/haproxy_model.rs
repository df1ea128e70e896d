//! The model against what HAProxy 2.6 does when a web server dies (issue 12, D1–D4), read from
//! its source (back_handle_st_cer and stream_choose_redispatch in backend.c and stream.h, the
//! fwrr turn in lb_fwrr.c, `check.health = rise` in server.c) and measured against a real
//! HAProxy 2.6.12 on loopback. The scenario is the issue's: queue-lab, two servers with 4
//! workers and 20 ms mean service, 100 requests/s, web1 killed at 9 s.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{at, when};
use infrasim::scenario::{preset, Algorithm, Scenario};
use infrasim::sim::time::{from_s, to_s, SimTime};
use infrasim::sim::trace::{NodeEvent, TraceKind};
use infrasim::sim::{CommandKind, FailCause, NodeId, Sim, TraceConfig};
use std::collections::BTreeMap;

const KILL_S: f64 = 9.0;
const RATE_PER_S: f64 = 100.0;
/// Enough for every event of a 20 s run at 100 requests/s (about 6 events per request).
const TRACE_CAPACITY: usize = 40_000;

fn issue_scenario(seed: u64) -> Scenario {
    let mut s = preset("queue-lab").unwrap();
    s.seed = seed;
    s.traffic.arrival_rate_per_s = RATE_PER_S;
    for w in &mut s.web.servers {
        w.workers = 4;
        w.service_time_ms = 20.0;
    }
    assert!(s.validate().is_empty(), "{:?}", s.validate());
    s
}

/// One request as the client lived it.
#[derive(Default)]
struct Outcome {
    arrived: SimTime,
    /// The server the balancer first sent it to.
    first: Option<NodeId>,
    ended: SimTime,
    fail: Option<FailCause>,
}

/// A kill of web1 at 9 s: when checks marked it DOWN, and the requests that arrived between.
struct KillWindow {
    down: SimTime,
    requests: Vec<Outcome>,
}

impl KillWindow {
    fn seconds(&self) -> f64 {
        to_s(self.down) - KILL_S
    }
    fn latencies_ms(&self) -> Vec<f64> {
        let ok = self.requests.iter().filter(|q| q.fail.is_none());
        let mut v: Vec<f64> = ok.map(|q| (q.ended - q.arrived) as f64 / 1_000.0).collect();
        v.sort_by(f64::total_cmp);
        v
    }
    fn first_sent_to_web1(&self) -> usize {
        self.requests.iter().filter(|q| q.first == Some(NodeId::Web(0))).count()
    }
    fn refused_503(&self) -> usize {
        self.requests.iter().filter(|q| q.fail == Some(FailCause::ConnectFailed)).count()
    }
}

/// Run until every request of the window has ended (at most three 1 s turn-arounds after DOWN).
fn kill_window(s: Scenario) -> KillWindow {
    let mut m = Sim::new(s, TraceConfig { enabled: true, capacity: TRACE_CAPACITY });
    at(&mut m, KILL_S, CommandKind::Kill { node: NodeId::Web(0) });
    m.run_until(from_s(KILL_S + 15.0), u64::MAX);
    m.check_invariants().unwrap();
    assert!(m.trace.total as usize <= TRACE_CAPACITY, "the trace dropped events: raise TRACE_CAPACITY");
    let down = when(&m, NodeId::Web(0), NodeEvent::MarkedDown);
    assert_eq!(down.len(), 1, "web1 is marked DOWN once");
    let kill = from_s(KILL_S);
    let mut by_id: BTreeMap<u64, Outcome> = BTreeMap::new();
    for e in m.trace.events() {
        match e.kind {
            TraceKind::Arrive { .. } => {
                by_id.insert(e.request, Outcome { arrived: e.at, ..Outcome::default() });
            }
            TraceKind::Dispatch { to: node, .. } => {
                let q = by_id.get_mut(&e.request).unwrap();
                q.first = q.first.or(Some(node));
            }
            TraceKind::Complete { .. } => by_id.get_mut(&e.request).unwrap().ended = e.at,
            TraceKind::Fail { cause, .. } => {
                let q = by_id.get_mut(&e.request).unwrap();
                (q.ended, q.fail) = (e.at, Some(cause));
            }
            _ => {}
        }
    }
    let requests: Vec<Outcome> =
        by_id.into_values().filter(|q| (kill..down[0]).contains(&q.arrived) && q.ended > 0).collect();
    KillWindow { down: down[0], requests }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// D1: with `option redispatch`, no persistence and another server up, HAProxy redispatches
/// a refused request at once, with no turn-around (real: mean 26 ms, p99 98 ms; the old model
/// waited two 1 s turn-arounds, p99 2,050 ms). Leastconn is not a hash either: same rule.
#[test]
fn d1_redispatch_is_immediate_when_another_server_is_up() {
    for algorithm in [Algorithm::Roundrobin, Algorithm::Leastconn] {
        let mut all = Vec::new();
        for seed in 1..=4 {
            let mut s = issue_scenario(seed);
            s.balancer.algorithm = algorithm;
            let w = kill_window(s);
            assert_eq!(w.refused_503(), 0, "{algorithm:?} seed {seed}: redispatch rescues every refused request");
            assert!(w.first_sent_to_web1() > 50, "{algorithm:?} seed {seed}: the window saw the dead server");
            all.extend(w.latencies_ms());
        }
        all.sort_by(f64::total_cmp);
        let (p99, max) = (percentile(&all, 0.99), all[all.len() - 1]);
        println!("{algorithm:?}: {} window requests, p99 {p99:.1} ms, max {max:.1} ms", all.len());
        // Real p99 98 ms; one turn-around would add 1,000 ms to every retried request.
        assert!(p99 < 200.0, "{algorithm:?}: p99 of the kill→DOWN window {p99:.1} ms (real 98 ms)");
        assert!(max < 1_000.0, "{algorithm:?}: no request waited out a turn-around: max {max:.1} ms");
    }
}

/// D2: without `option redispatch`, HAProxy retries the same server (state ASS) with a 1 s
/// turn-around each time, even once it is marked DOWN, and answers 503 after `retries` retries:
/// every request roundrobin sends to web1 between the kill and DOWN gets a 503 about 3 s
/// later, so the count per kill is half the requests of the kill→DOWN window. Real: 245 per kill with
/// default checks, 56.7 with inter 1 s fall 2 (the old model: 92.5 and 0).
#[test]
fn d2_without_redispatch_every_request_sent_to_the_dead_server_gets_a_503() {
    for (inter_ms, fall, real) in [(2_000.0, 3, 245.0), (1_000.0, 2, 56.7)] {
        let (mut refused, mut predicted, mut window_s) = (0.0, 0.0, 0.0);
        let seeds = 1..=8;
        let runs = seeds.clone().count() as f64;
        for seed in seeds {
            let mut s = issue_scenario(seed);
            s.balancer.redispatch = false;
            s.balancer.health.inter_ms = inter_ms;
            s.balancer.health.fall = fall;
            let w = kill_window(s);
            for q in w.requests.iter().filter(|q| q.first == Some(NodeId::Web(0))) {
                assert_eq!(q.fail, Some(FailCause::ConnectFailed), "seed {seed}: sent to the dead server → 503");
                let after_s = (q.ended - q.arrived) as f64 / 1e6;
                assert!(
                    (3.0..3.05).contains(&after_s),
                    "seed {seed}: the 503 comes after three turn-arounds: {after_s} s"
                );
            }
            refused += w.refused_503() as f64;
            // Roundrobin alternates fresh requests, and retries to the same server take no turn.
            predicted += w.requests.len() as f64 / 2.0;
            window_s += w.seconds();
        }
        let (per_kill, predicted_per_kill) = (refused / runs, predicted / runs);
        println!(
            "inter {inter_ms} ms fall {fall}: {per_kill:.1} 503s per kill (predicted {predicted_per_kill:.1}, \
             real {real}), kill→DOWN {:.2} s",
            window_s / runs
        );
        // Strict alternation leaves at most one request of difference per run: 3 % is a margin.
        common::assert_close("503s per kill vs half the window's requests", per_kill, predicted_per_kill, 0.03);
        // HAProxy's logic predicts 50/s × 5 s = 250 with default checks and 50/s × 1.5 s = 75 with
        // inter 1 s fall 2 (DOWN 4–6 s, 1–2 s); the real runs gave 245 and 56.7 over a few kills
        // each, whose kill→DOWN times vary by ±1 s and ±0.5 s: hence the wide tolerance.
        common::assert_close("503s per kill vs the real HAProxy", per_kill, real, 0.35);
    }
}

/// D3: under roundrobin, HAProxy's redispatch takes the next server in turn (fwrr avoids the
/// previous server by spending turns), so the fresh request after it is web1's turn again:
/// ~95 % of the window's requests go to the dead server first (the old model: 50 %).
#[test]
fn d3_roundrobin_redispatch_spends_the_next_servers_turn() {
    let (mut first_web1, mut total) = (0, 0);
    for seed in 1..=4 {
        let w = kill_window(issue_scenario(seed));
        first_web1 += w.first_sent_to_web1();
        total += w.requests.len();
    }
    let share = first_web1 as f64 / total as f64;
    println!("{first_web1} of {total} window requests first sent to web1: {:.1} %", share * 100.0);
    // Real ~95 %; strict alternation would give 50 %.
    assert!(share >= 0.90, "share first sent to the dead server {:.1} % (real ~95 %)", share * 100.0);
}

/// D4: HAProxy starts a server at health = rise ("UP 1/3"), one point above DOWN, so a server
/// dead from the start is marked DOWN by its first check, within one `inter`, whatever `fall`
/// is (the old model needed `fall` failures: 4–6 s). A live server reaches full health with
/// its first check and then needs `fall` failures as before.
#[test]
fn d4_a_server_dead_at_start_is_down_after_its_first_check() {
    for seed in 0..20 {
        let mut s = issue_scenario(seed);
        s.balancer.health.fall = 3;
        let mut m = Sim::new(s, TraceConfig { enabled: false, capacity: 1 });
        at(&mut m, 0.0, CommandKind::Kill { node: NodeId::Web(0) });
        at(&mut m, 10.0, CommandKind::Kill { node: NodeId::Web(1) });
        m.run_until(from_s(20.0), u64::MAX);
        let down0 = when(&m, NodeId::Web(0), NodeEvent::MarkedDown);
        assert_eq!(down0.len(), 1, "seed {seed}");
        assert!(to_s(down0[0]) <= 2.0, "seed {seed}: dead at start, DOWN at {} s (inter 2 s)", to_s(down0[0]));
        let down1 = when(&m, NodeId::Web(1), NodeEvent::MarkedDown);
        let after_s = to_s(down1[0]) - 10.0;
        assert!((4.0..=6.0).contains(&after_s), "seed {seed}: checked UP first, so fall 3 applies: {after_s} s");
    }
}
