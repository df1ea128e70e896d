//! `balancer.enabled = false` (the course's one-server design): DNS points at web1 and clients
//! connect to Nginx directly: no HAProxy hop, queue, health checks or retries, and nothing
//! called lb1 to fail or to export.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{at, run, sim, when};
use infrasim::export::config_files;
use infrasim::scenario::preset;
use infrasim::sim::spof;
use infrasim::sim::time::from_s;
use infrasim::sim::trace::NodeEvent;
use infrasim::sim::{Command, CommandKind, NodeId};

#[test]
fn without_a_balancer_each_request_saves_exactly_the_balancer_s_two_hops() {
    // The same traffic (common random numbers) with and without HAProxy in front of one
    // server: the only difference is the balancer-to-server hop each way (2 × 0.5 ms).
    let mut direct = preset("simple-web-stack").unwrap();
    direct.warmup_s = 5.0;
    direct.traffic.arrival_rate_per_s = 50.0;
    let mut balanced = direct.clone();
    balanced.balancer.enabled = true;
    let (_, a) = run(direct.clone(), 120.0);
    let (_, b) = run(balanced, 120.0);
    assert_eq!(a.requests.completed, b.requests.completed);
    // Means come from the latency histogram (three significant digits: ~0.06 ms buckets at
    // 100 ms), so they agree to a few hundredths of a millisecond, not exactly.
    let saved = b.latency_ms.mean - a.latency_ms.mean;
    assert!((saved - 2.0 * direct.network.lan_latency_ms).abs() < 0.02, "saved {saved} ms");
}

#[test]
fn a_dead_web_server_without_a_balancer_is_refused_at_once_and_nobody_checks_it() {
    let mut m = sim(preset("simple-web-stack").unwrap());
    at(&mut m, 10.0, CommandKind::Kill { node: NodeId::Web(0) });
    m.run_until(from_s(20.0), u64::MAX);
    let r = infrasim::sim::Report::from_sim(&m);
    assert!(r.requests.failed_by_cause["connect_failed"] > 500, "{:?}", r.requests.failed_by_cause);
    assert!(when(&m, NodeId::Web(0), NodeEvent::MarkedDown).is_empty(), "no HAProxy, no health checks");
    // Refused at once: nothing waits out HAProxy's retries (3 s) in flight.
    assert!(m.live_requests() < 10, "{} in flight", m.live_requests());
}

#[test]
fn there_is_no_balancer_to_kill_grow_behind_or_export() {
    let s = preset("simple-web-stack").unwrap();
    let mut m = sim(s.clone());
    let e = m.apply(Command { at_us: 0, what: CommandKind::Kill { node: NodeId::Lb(0) } }).unwrap_err();
    assert!(e.contains("lb1"), "{e}");
    let e = m.apply(Command { at_us: 0, what: CommandKind::SetServerCount { count: 2 } }).unwrap_err();
    assert!(e.contains("balancer.enabled"), "{e}");
    assert!(m.view(0).lbs.is_empty(), "the view shows no balancer");
    let files = config_files(&s);
    assert!(
        files.iter().all(|(name, _)| name != "haproxy.cfg"),
        "{:?}",
        files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    let nginx = &files.iter().find(|(name, _)| name == "nginx-web1.conf").expect("nginx-web1.conf").1;
    assert!(nginx.contains("No balancer") && nginx.contains("location /static/"), "{nginx}");
    let report = spof::analyse(&s);
    let names: Vec<&str> = report.nodes.iter().map(|e| e.target.as_str()).collect();
    assert!(!names.contains(&"lb1") && names.contains(&"web1") && names.contains(&"app1"), "{names:?}");
    assert!(report.single_points_of_failure.iter().any(|t| t == "server1"), "{:?}", report.single_points_of_failure);
}
