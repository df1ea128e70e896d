//! Nginx and the application as separate roles: static files answered by Nginx, Nginx's own
//! CPU time on its machine, and the hand-off to the application beside it or, when the design
//! splits the tiers, to the application tier through an upstream (max_fails=1,
//! fail_timeout=10s, proxy_next_upstream error). Figures are checked against load arithmetic
//! with a stated tolerance.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{assert_close, at, lab, run, sim, when};
use infrasim::scenario::{parse_fault, preset, Algorithm};
use infrasim::sim::time::from_s;
use infrasim::sim::trace::NodeEvent;
use infrasim::sim::{CommandKind, NodeId, Report};

fn failed_by(r: &Report, cause: &str) -> u64 {
    r.requests.failed_by_cause[cause]
}

#[test]
fn static_files_never_reach_the_application() {
    // Two servers, 10 ms each, 150/s: each application is busy λ/2 × S = 0.75 of the time;
    // with 60 % of reads answered by Nginx, 0.4 × 0.75 = 0.3.
    let mut s = lab(2, 10.0, 150.0, Algorithm::Roundrobin, 0);
    s.web.static_ratio = 0.6;
    s.warmup_s = 10.0;
    let (_, r) = run(s, 400.0);
    for server in &r.by_server {
        assert_close(&format!("{} utilization", server.id), server.utilization, 0.3, 0.05);
    }
    assert_eq!(r.requests.failed, 0);
}

#[test]
fn writes_always_reach_the_application() {
    let mut s = lab(1, 10.0, 50.0, Algorithm::Roundrobin, 0);
    s.web.servers[0].workers = 64;
    s.traffic.write_ratio = 0.5;
    s.web.static_ratio = 1.0;
    s.warmup_s = 10.0;
    let (_, r) = run(s, 400.0);
    // Every read is static; the writes (half the traffic) still take 10 ms each.
    assert_close("utilization with only writes dynamic", r.by_server[0].utilization, 50.0 * 0.5 * 0.01 / 64.0, 0.05);
}

#[test]
fn nginx_time_runs_on_the_web_server_s_machine() {
    // scale-up: ~100 requests/s split over two Nginx machines of 4 cores; 2 ms each:
    // 50/s × 2 ms / 4 cores = 2.5 % of web-server1's cores.
    let mut s = preset("scale-up").unwrap();
    s.web.nginx_time_ms = 2.0;
    s.web.static_ratio = 0.0;
    let rate = s.traffic.arrival_rate_per_s;
    let (_, r) = run(s, 200.0);
    let web1 = r.machines.iter().find(|m| m.id == "web-server1").expect("web-server1");
    assert_close("web-server1 CPU", web1.cpu_utilization, rate / 2.0 * 0.002 / 4.0, 0.05);
}

#[test]
fn killing_the_application_s_machine_in_scale_up_leaves_web1_up_and_reads_flow_to_app2() {
    let mut m = sim(preset("scale-up").unwrap());
    at(&mut m, 10.0, CommandKind::KillMachine { machine: "app-server1".into() });
    m.run_until(from_s(40.0), u64::MAX);
    let r = Report::from_sim(&m);
    assert!(when(&m, NodeId::Web(0), NodeEvent::MarkedDown).is_empty(), "Nginx on web-server1 is still up");
    assert!(m.is_alive(NodeId::Web(0)) && !m.is_alive(NodeId::App(0)));
    // Only the writes app1 held when it died fail (a POST already sent is not passed on);
    // reads in flight and every later request go to app2.
    let failed = r.requests.failed;
    assert!(failed <= 10, "{failed} failures: {:?}", r.requests.failed_by_cause);
    assert_eq!(failed, failed_by(&r, "app_down"), "{:?}", r.requests.failed_by_cause);
    assert!(r.requests.completed > 3_500, "{}", r.requests.completed);
}

#[test]
fn killing_the_application_beside_nginx_gives_502_while_the_balancer_keeps_web1_up() {
    // HAProxy's `check` is a TCP connect to Nginx: it cannot see the application behind it.
    let mut s = preset("three-server").unwrap();
    s.web.static_ratio = 0.0;
    let rate = s.traffic.arrival_rate_per_s;
    let mut m = sim(s);
    at(&mut m, 10.0, CommandKind::Kill { node: NodeId::App(0) });
    m.run_until(from_s(30.0), u64::MAX);
    let r = Report::from_sim(&m);
    assert!(when(&m, NodeId::Web(0), NodeEvent::MarkedDown).is_empty(), "web1 stays UP on the balancer");
    // Round robin keeps sending half the requests to web1 for 20 s; each gets 502.
    assert_close("502s from Nginx on web1", failed_by(&r, "app_down") as f64, rate / 2.0 * 20.0, 0.1);
}

#[test]
fn static_files_are_still_served_by_nginx_when_the_application_is_down() {
    let mut s = preset("three-server").unwrap();
    s.web.static_ratio = 0.5;
    s.traffic.write_ratio = 0.0;
    let mut m = sim(s);
    at(&mut m, 10.0, CommandKind::Kill { node: NodeId::App(0) });
    at(&mut m, 10.0, CommandKind::Kill { node: NodeId::App(1) });
    m.run_until(from_s(30.0), u64::MAX);
    let r = Report::from_sim(&m);
    let (ok, bad) = (r.requests.completed as f64, failed_by(&r, "app_down") as f64);
    // Over the measured 30 s, 10 s with both applications up, 20 s with only static answered.
    assert!(ok > bad, "static files keep being answered: {ok} answered, {bad} 502s");
    assert_close("share of 502s after the kill", bad / (ok + bad), 0.5 * 20.0 / 30.0, 0.1);
}

#[test]
fn an_application_fault_parses_and_restores() {
    let c = parse_fault("20s:kill:app1").unwrap();
    assert_eq!(c.what, CommandKind::Kill { node: NodeId::App(0) });
    let mut m = sim(preset("scale-up").unwrap());
    at(&mut m, 5.0, CommandKind::Kill { node: NodeId::App(1) });
    at(&mut m, 8.0, CommandKind::Restore { node: NodeId::App(1) });
    m.run_until(from_s(9.0), u64::MAX);
    assert!(m.is_alive(NodeId::App(1)));
    assert_eq!(when(&m, NodeId::App(1), NodeEvent::Killed), vec![from_s(5.0)]);
    let e = m
        .apply(infrasim::sim::Command { at_us: from_s(10.0), what: CommandKind::Kill { node: NodeId::App(7) } })
        .unwrap_err();
    assert!(e.contains("app8"), "{e}");
}

#[test]
fn invariants_hold_after_every_step_through_nginx_application_and_machine_faults() {
    // Workers, connections and CPU pieces stay consistent while Nginx, the application and
    // whole machines die and return, split and co-located, with static files and Nginx time.
    for name in ["scale-up", "three-server", "simple-web-stack"] {
        for seed in 1..4 {
            let mut s = preset(name).unwrap();
            s.seed = seed;
            s.web.static_ratio = 0.3;
            s.web.nginx_time_ms = 0.5;
            s.traffic.arrival_rate_per_s = 150.0;
            let machine = s.machines.last().map(|m| m.id.clone()).unwrap_or_default();
            let mut m = sim(s);
            at(&mut m, 2.0, CommandKind::Kill { node: NodeId::App(0) });
            at(&mut m, 3.0, CommandKind::Kill { node: NodeId::Web(0) });
            at(&mut m, 4.0, CommandKind::Restore { node: NodeId::App(0) });
            at(&mut m, 5.0, CommandKind::Restore { node: NodeId::Web(0) });
            at(&mut m, 6.0, CommandKind::KillMachine { machine: machine.clone() });
            at(&mut m, 7.0, CommandKind::RestoreMachine { machine });
            while m.now() < from_s(9.0) && m.step() {
                m.check_invariants().unwrap_or_else(|e| panic!("{name} seed {seed} at {} us: {e}", m.now()));
            }
            assert!(m.live_requests() < 1_000, "{name}: {} requests alive", m.live_requests());
        }
    }
}
