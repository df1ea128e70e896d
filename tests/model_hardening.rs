//! Issue 11, the model's part: figures that were wrong or grew without bound. Each test fails
//! on the model as it was and names the bound or the figure it holds to.

mod common;

use common::{at, run, sim, when};
use infrasim::scenario::{preset, Distribution, FailureRate};
use infrasim::sim::spof::{self, estimate_availability, Effect};
use infrasim::sim::time::{from_s, SimTime};
use infrasim::sim::trace::{NodeEvent, TraceKind};
use infrasim::sim::{
    backlog_bound, queue_bound, CommandKind, FailCause, NodeId, Report, Sim, TraceConfig, MAX_LIVE_REQUESTS,
    TIMELINE_CAPACITY, UNLIMITED_QUEUE_BOUND,
};

/// Kills and restores of every node but `except`, from the timeline, in order.
fn failure_times(sim: &Sim, except: Option<NodeId>) -> Vec<(String, SimTime, &'static str)> {
    sim.timeline
        .iter()
        .filter(|e| matches!(e.event, NodeEvent::Killed | NodeEvent::Restored | NodeEvent::MarkedDown))
        .filter(|e| except.is_none_or(|n| e.subject != infrasim::sim::trace::Subject::Node(n)))
        .map(|e| (e.subject.to_string(), e.at, e.event.name()))
        .collect()
}

/// Item 9: each node draws its random failures and its health-check phase from its own stream,
/// so adding a web server moves no other node's failures, repairs or DOWN marks.
#[test]
fn adding_a_web_server_leaves_the_other_nodes_failure_times_unchanged() {
    for seed in [1, 2, 3] {
        let mut two = preset("three-server").unwrap();
        two.seed = seed;
        two.traffic.arrival_rate_per_s = 0.0;
        two.failures.web = FailureRate { mtbf_s: 60.0, mttr_s: 10.0 };
        two.failures.lb = FailureRate { mtbf_s: 120.0, mttr_s: 5.0 };
        two.failures.db = FailureRate { mtbf_s: 90.0, mttr_s: 20.0 };
        let mut three = two.clone();
        three.web.servers.push(three.web.servers[0].clone());
        let (a, _) = run(two, 600.0);
        let (b, _) = run(three, 600.0);
        let before = failure_times(&a, None);
        let after = failure_times(&b, Some(NodeId::Web(2)));
        assert!(before.len() > 20, "seed {seed}: too few failures to compare ({})", before.len());
        assert_eq!(before, after, "seed {seed}: web3's arrival shifted other nodes' failures");
    }
}

/// Item 2: arrivals at more than one per microsecond (a burst of 100 × 100,000/s) used to round
/// their gaps to 0 µs and arrive ten times too often. The gaps now add up exactly: over a seed
/// sweep the count is within 1 % of rate × time (the sweep's Poisson spread is about 0.15 %).
/// DNS is dead so each arrival fails at once: the test measures the arrival process alone.
#[test]
fn bursts_above_one_arrival_per_microsecond_give_rate_times_time() {
    let (base_per_s, multiplier, burst_s, run_s) = (100_000.0, 100.0, 0.005, 1.006);
    let mut expected = 0.0;
    let mut arrived = 0.0;
    for seed in 1..=3 {
        let mut s = preset("queue-lab").unwrap();
        s.seed = seed;
        s.traffic.arrival_rate_per_s = base_per_s;
        s.traffic.burst.enabled = true;
        s.traffic.burst.period_s = 1.0;
        s.traffic.burst.duration_s = burst_s;
        s.traffic.burst.multiplier = multiplier;
        assert!(s.validate().is_empty(), "{:?}", s.validate());
        let mut m = sim(s);
        at(&mut m, 0.0, CommandKind::Kill { node: NodeId::Dns });
        m.run_until(from_s(run_s), u64::MAX);
        arrived += m.metrics.all.arrived as f64;
        // One burst, from 1 s to 1 + burst_s.
        expected += base_per_s * run_s + base_per_s * (multiplier - 1.0) * burst_s;
    }
    common::assert_close("arrivals with a burst at 1e7/s", arrived, expected, 0.01);
}

/// Item 3: latencies over an hour were recorded as one hour. A constant 8,874 s of work gives
/// that latency in the run's p50 and max (three significant digits) and in the per-second p99.
#[test]
fn a_latency_over_one_hour_is_reported_as_it_is() {
    let service_s = 8_874.0;
    let mut s = preset("queue-lab").unwrap();
    s.traffic.arrival_rate_per_s = 0.01;
    for w in &mut s.web.servers {
        w.service_distribution = Distribution::Constant;
        w.service_time_ms = service_s * 1_000.0;
        w.workers = 100;
    }
    let mut m = sim(s);
    m.run_until(from_s(4.0 * 3_600.0), u64::MAX);
    let r = Report::from_sim(&m);
    assert!(r.requests.completed > 10, "{}", r.requests.completed);
    for (name, v) in [("p50", r.latency_ms.p50), ("max", r.latency_ms.max)] {
        assert!((v / 1_000.0 - service_s).abs() / service_s < 0.002, "{name} {v} ms, expected {service_s} s");
    }
    assert_eq!(r.latency_ms.clipped, 0);
    let per_second = m.metrics.series.iter().filter(|x| x.completed > 0).map(|x| x.latency_p99_ms).collect::<Vec<_>>();
    assert!(!per_second.is_empty());
    for v in per_second {
        assert!((v / 1_000.0 - service_s).abs() < 0.01, "per-second p99 {v} ms");
    }
}

/// Item 4: `maxqueue 0` with no queue timeout, one connection per server, at 100,000/s: the
/// queue used to grow ~9 MB per simulated second. It stops at the stated bound, what the bound
/// refuses is answered 503 `queue_full`, and the requests alive stay flat (checked every 100 ms).
#[test]
fn an_unlimited_balancer_queue_stays_within_its_stated_bound() {
    let mut s = preset("queue-lab").unwrap();
    s.traffic.arrival_rate_per_s = 100_000.0;
    s.balancer.maxqueue = 0;
    s.balancer.timeout_queue_ms = 0.0;
    for w in &mut s.web.servers {
        w.maxconn = 1;
    }
    let mut m = sim(s);
    let bound = queue_bound(0) as u64;
    assert_eq!(bound, UNLIMITED_QUEUE_BOUND as u64);
    let mut peak_live = Vec::new();
    for tenth in 1..=30 {
        m.run_until(from_s(tenth as f64 / 10.0), u64::MAX);
        let view = m.view(0);
        assert!(view.balancer_queue as u64 <= bound, "queue {} over {bound}", view.balancer_queue);
        peak_live.push(m.live_requests());
    }
    let refused = m.metrics.all.failed_by_cause[FailCause::QueueFull as usize];
    assert!(refused > 50_000, "the bound refused only {refused}");
    // Flat: the last second holds no more requests than the bound plus the servers' two.
    let late = peak_live[20..].iter().max().copied().unwrap_or(0);
    assert!(late <= bound + 2, "{late} requests alive late in the run (bound {bound})");
    m.check_invariants().unwrap();
}

/// Item 4: a web backlog of 0 meant unlimited; Linux queues one connection for `listen(fd, 0)`.
/// Under overload each server keeps at most one waiting, refusals count as `connect_failed`,
/// and the requests alive stay flat over a long overloaded run (what `soak` claims).
#[test]
fn a_zero_backlog_keeps_one_waiting_connection_and_memory_stays_flat() {
    let mut s = preset("three-server").unwrap();
    s.traffic.arrival_rate_per_s = 2_000.0;
    for w in &mut s.web.servers {
        w.backlog = 0;
    }
    let mut m = sim(s);
    let mut live = Vec::new();
    for second in 1..=60 {
        m.run_until(from_s(second as f64), u64::MAX);
        for i in 0..2 {
            assert!(m.web_waiting(i) <= backlog_bound(0), "web{} has {} waiting", i + 1, m.web_waiting(i));
        }
        live.push(m.live_requests());
    }
    assert!(m.metrics.all.failed_by_cause[FailCause::ConnectFailed as usize] > 1_000);
    let (early, late) = (live[10..30].iter().max().unwrap(), live[40..].iter().max().unwrap());
    assert!(*late as f64 <= *early as f64 * 1.2 + 50.0, "live requests grew from {early} to {late}");
    m.check_invariants().unwrap();
}

/// Item 6: a run that answered nothing used to report availability 1.0.
#[test]
fn availability_is_unknown_when_nothing_was_answered() {
    let mut s = preset("three-server").unwrap();
    s.web.static_ratio = 0.0; // Nginx would answer static files at once
    s.traffic.arrival_rate_per_s = 10.0; // 300 requests: all fit in the servers' backlogs
    for w in &mut s.web.servers {
        w.service_time_ms = 600_000.0;
        w.service_distribution = Distribution::Constant;
    }
    let (_, r) = run(s, 30.0);
    assert_eq!(r.requests.completed + r.requests.failed, 0, "{:?}", r.requests);
    assert!(r.requests.in_flight > 0);
    assert_eq!(r.availability, None);
    let why = r.availability_unknown.clone().expect("a reason");
    assert!(why.contains("in flight"), "{why}");
    let json = serde_json::to_value(&r).unwrap();
    assert!(json["availability"].is_null(), "{}", json["availability"]);
}

/// Item 6: a dead balancer runs no health checks, so it cannot mark healthy servers DOWN; when
/// it comes back every server is in service at once (no `no_server` after the restore).
#[test]
fn a_dead_balancer_marks_no_healthy_server_down() {
    for seed in [1, 2, 3] {
        let mut s = preset("three-server").unwrap();
        s.seed = seed;
        let mut m = sim(s);
        at(&mut m, 2.0, CommandKind::Kill { node: NodeId::Lb(0) });
        at(&mut m, 8.0, CommandKind::Restore { node: NodeId::Lb(0) });
        m.run_until(from_s(8.0), u64::MAX);
        let before = m.metrics.all.failed_by_cause[FailCause::NoServer as usize];
        m.run_until(from_s(20.0), u64::MAX);
        let after = m.metrics.all.failed_by_cause[FailCause::NoServer as usize];
        assert_eq!(after - before, 0, "seed {seed}: no_server failures after the balancer came back");
        for i in 0..2 {
            assert!(
                when(&m, NodeId::Web(i), NodeEvent::MarkedDown).is_empty(),
                "seed {seed}: web{} marked down",
                i + 1
            );
        }
    }
}

/// Item 6: the trace names the balancer that holds the request, lb2 once it has taken over.
#[test]
fn the_trace_names_the_balancer_that_serves() {
    let mut s = preset("high-availability").unwrap();
    s.traffic.arrival_rate_per_s = 200.0;
    let mut m = Sim::new(s, TraceConfig { enabled: true, capacity: 1_000_000 });
    at(&mut m, 1.0, CommandKind::Kill { node: NodeId::Lb(0) });
    m.run_until(from_s(10.0), u64::MAX);
    let taken_over = when(&m, NodeId::Lb(1), NodeEvent::BecameMaster);
    let from = *taken_over.first().expect("lb2 takes over");
    let dispatched: Vec<String> = m
        .trace
        .events()
        .filter(|e| e.at > from && matches!(e.kind, TraceKind::Dispatch { .. }))
        .map(|e| e.to_string())
        .collect();
    assert!(dispatched.len() > 100, "{}", dispatched.len());
    assert!(
        dispatched.iter().all(|l| l.contains(" lb2 -> web")),
        "{:?}",
        dispatched.iter().find(|l| !l.contains("lb2"))
    );
}

/// Item 6: the timeline is bounded; the report says how many of its oldest entries it dropped.
/// 12,000 slow-downs and recoveries of web1 (nothing else changes with no traffic).
#[test]
fn the_report_counts_the_timeline_entries_it_dropped() {
    let mut s = preset("three-server").unwrap();
    s.traffic.arrival_rate_per_s = 0.0;
    let mut m = sim(s);
    let changes = TIMELINE_CAPACITY + 2_000;
    for k in 0..changes {
        let factor = if k % 2 == 0 { 2.0 } else { 1.0 };
        at(&mut m, 0.001 * (k + 1) as f64, CommandKind::Slow { node: NodeId::Web(0), factor });
    }
    m.run_until(from_s(20.0), u64::MAX);
    let r = Report::from_sim(&m);
    assert_eq!(r.timeline.len(), TIMELINE_CAPACITY);
    assert_eq!(r.timeline_dropped, 2_000);
    assert_eq!(serde_json::to_value(&r).unwrap()["timeline_dropped"], 2_000);
}

/// Item 6: with no traffic the analysis cannot tell a single point of failure from a harmless
/// one; each case says so instead of giving "no effect".
#[test]
fn spof_without_traffic_gives_no_verdict() {
    let mut s = preset("three-server").unwrap();
    s.traffic.arrival_rate_per_s = 0.0;
    let r = spof::analyse(&s);
    assert!(r.single_points_of_failure.is_empty());
    assert!(r.nodes.iter().chain(&r.links).chain(&r.machines).all(|e| e.effect == Effect::InsufficientTraffic));
    assert_eq!(r.insufficient_traffic.len(), r.nodes.len() + r.links.len() + r.machines.len());
    assert!(r.insufficient_traffic.contains(&"lb1".to_string()));
    let words = infrasim::render::format::spof_no_verdict(&r.insufficient_traffic).unwrap();
    assert!(words.contains("Too little traffic") && words.contains("lb1"), "{words}");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["nodes"][1]["effect"], "insufficient_traffic");
}

/// Item 6: the estimate counted single failures only. Exact values for simultaneous failures:
/// two redundant balancers each down half the time serve 75 %; a lone one down 1 % serves 99 %.
#[test]
fn the_availability_estimate_counts_simultaneous_failures() {
    let (lb1, lb2, db1) = (NodeId::Lb(0), NodeId::Lb(1), NodeId::Db(0));
    let pair = [(lb1, Effect::None, 0.5), (lb2, Effect::None, 0.5)];
    assert!((estimate_availability(&pair, 0.2) - 0.75).abs() < 1e-12);
    let single = [(lb1, Effect::SiteDown, 0.01), (db1, Effect::None, 0.0)];
    assert!((estimate_availability(&single, 0.2) - 0.99).abs() < 1e-12);
    // A writes-blocking primary with a replica: writes fail while db1 is down; everything fails
    // while both are down. Reads: 1 - 0.5·0.5; writes: 0.5.
    let db = [(db1, Effect::WritesBlocked, 0.5), (NodeId::Db(1), Effect::None, 0.5)];
    let expected = 0.8 * 0.75 + 0.2 * 0.5;
    assert!((estimate_availability(&db, 0.2) - expected).abs() < 1e-12);
}

/// The case: both database nodes almost always down; the estimate was 1.0.
#[test]
fn spof_estimate_of_a_design_whose_databases_are_always_down_is_near_zero() {
    let mut s = preset("high-availability").unwrap();
    s.failures.db = FailureRate { mtbf_s: 0.0001, mttr_s: 1e9 };
    let r = spof::analyse(&s);
    assert!(r.availability_estimate < 0.01, "{}", r.availability_estimate);
    assert!(r.availability_method.starts_with("exact"), "{}", r.availability_method);
}

/// Item 4: each request's life is bounded, but at 10 million arrivals per second over one-second
/// links that is 10^7 requests alive (the model reached 2.2 GB). The model holds at most
/// `MAX_LIVE_REQUESTS` and counts the arrivals beyond as `model_limit`, conserving every request.
#[test]
fn requests_alive_never_exceed_the_models_bound() {
    let mut s = preset("three-server").unwrap();
    s.traffic.arrival_rate_per_s = 100_000.0;
    s.traffic.burst.enabled = true;
    s.traffic.burst.period_s = 1.0;
    s.traffic.burst.duration_s = 1.0; // on from 1 s to the end
    s.traffic.burst.multiplier = 100.0;
    s.network.client_latency_ms = 1_000.0;
    assert!(s.validate().is_empty(), "{:?}", s.validate());
    let mut m = sim(s);
    for k in 1..=25 {
        m.run_until(from_s(1.0 + 0.01 * k as f64), u64::MAX);
        assert!(m.live_requests() <= MAX_LIVE_REQUESTS, "{} alive", m.live_requests());
    }
    let refused = m.metrics.all.failed_by_cause[FailCause::ModelLimit as usize];
    assert!(refused > 500_000, "{refused}");
    assert_eq!(m.live_requests(), MAX_LIVE_REQUESTS);
    let all = &m.metrics.all;
    assert_eq!(all.arrived, all.completed + all.failed() + m.live_requests());
}
