//! Failure injection, health checks, retries, backups and the VRRP pair, against HAProxy's and
//! keepalived's documented timing (../shared/reference.md).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{at, sim, when};
use infrasim::scenario::{preset_v1, Algorithm, PairMode, Scenario};
use infrasim::sim::command::NodeClass;
use infrasim::sim::node::Link;
use infrasim::sim::time::{from_s, to_s, SimTime};
use infrasim::sim::trace::NodeEvent;
use infrasim::sim::{CommandKind, NodeId, Report, Sim, TraceConfig};

/// The course design as five boxes (one per node, the v1 preset): these tests are about
/// HAProxy's and the health checks' behaviour, not about CPU shared on a machine.
fn three_server(seed: u64) -> Scenario {
    let mut s = preset_v1("three-server").unwrap();
    s.seed = seed;
    s
}

#[test]
fn killed_server_is_marked_down_4_to_6_s_later_and_up_2_to_4_s_after_restore() {
    let (mut downs, mut ups) = (Vec::new(), Vec::new());
    for seed in 0..40 {
        let mut m = sim(three_server(seed));
        at(&mut m, 30.0, CommandKind::Kill { node: NodeId::Web(0) });
        at(&mut m, 60.0, CommandKind::Restore { node: NodeId::Web(0) });
        m.run_until(from_s(80.0), u64::MAX);
        let down = when(&m, NodeId::Web(0), NodeEvent::MarkedDown);
        let up = when(&m, NodeId::Web(0), NodeEvent::MarkedUp);
        assert_eq!((down.len(), up.len()), (1, 1), "seed {seed}");
        downs.push(to_s(down[0]) - 30.0);
        ups.push(to_s(up[0]) - 60.0);
    }
    for d in &downs {
        assert!((4.0..=6.0).contains(d), "marked down {d} s after the kill");
    }
    for u in &ups {
        assert!((2.0..=4.0).contains(u), "marked up {u} s after the restore");
    }
    // The check phase is random: the delays should spread over the window, not sit at one end.
    let spread = downs.iter().cloned().fold(f64::MIN, f64::max) - downs.iter().cloned().fold(f64::MAX, f64::min);
    assert!(spread > 1.0, "delays spread over the 4–6 s window: {downs:?}");
}

#[test]
fn requests_between_crash_and_down_fail_without_retries_and_are_redispatched_with_them() {
    let run = |retries: u32, redispatch: bool| -> Report {
        let mut s = three_server(3);
        // Busy enough that web1 always has work in progress when it dies.
        s.traffic.arrival_rate_per_s = 250.0;
        s.balancer.retries = retries;
        s.balancer.redispatch = redispatch;
        let mut m = sim(s);
        at(&mut m, 30.0, CommandKind::Kill { node: NodeId::Web(0) });
        // Until just after web1 is marked DOWN (4–6 s): later web2 alone is overloaded at
        // 250/s and refuses connections itself.
        m.run_until(from_s(37.0), u64::MAX);
        m.check_invariants().unwrap();
        Report::from_sim(&m)
    };
    let bare = run(0, false);
    let retried = run(3, true);
    let refused_bare = bare.requests.failed_by_cause["connect_failed"];
    assert!(refused_bare > 50, "without retries, requests sent to the dead server fail: {refused_bare}");
    // HAProxy redispatches at once (tests/haproxy_model.rs checks how fast).
    assert_eq!(retried.requests.failed_by_cause["connect_failed"], 0, "redispatch rescues every refused request");
    assert!(retried.requests.completed > bare.requests.completed);
    // Work in progress at the crash is lost either way (502).
    assert!(bare.requests.failed_by_cause["server_died"] > 0);
    assert!(retried.requests.failed_by_cause["server_died"] > 0);
}

fn pair(seed: u64) -> Scenario {
    let mut s = three_server(seed);
    s.balancer.pair = true;
    s
}

#[test]
fn vrrp_backup_takes_over_after_three_adverts_plus_skew() {
    let mut m = sim(pair(1));
    // lb1 (priority 101) is master and advertises at whole seconds; it dies half-way between.
    at(&mut m, 10.5, CommandKind::Kill { node: NodeId::Lb(0) });
    m.run_until(from_s(20.0), u64::MAX);
    let takeover = when(&m, NodeId::Lb(1), NodeEvent::BecameMaster);
    assert_eq!(takeover.len(), 1);
    // keepalived: 3 × advert_int + (256 − 100)/256 × advert_int after the last advert (10 s).
    let expected = from_s(10.0) + 3_000_000 + 156 * 1_000_000 / 256;
    assert!(takeover[0].abs_diff(expected) <= 1, "took over at {} us, expected {expected}", takeover[0]);
    assert!((to_s(expected) - 10.0 - 3.61).abs() < 0.001, "reference.md: 3.61 s");
    // While nobody held the floating IP, requests failed; after, they succeed through lb2.
    let r = Report::from_sim(&m);
    assert!(r.requests.failed_by_cause["lb_down"] > 0);
    assert_eq!(m.vip_owner(), Some(1));
}

#[test]
fn preemption_returns_the_ip_to_the_higher_priority_balancer_and_nopreempt_does_not() {
    for preempt in [true, false] {
        let mut s = pair(2);
        s.vrrp.preempt = preempt;
        let mut m = sim(s);
        at(&mut m, 10.0, CommandKind::Kill { node: NodeId::Lb(0) });
        at(&mut m, 30.0, CommandKind::Restore { node: NodeId::Lb(0) });
        m.run_until(from_s(50.0), u64::MAX);
        m.check_invariants().unwrap();
        let owner = m.vip_owner();
        assert_eq!(owner, Some(if preempt { 0 } else { 1 }), "preempt {preempt}");
        assert_eq!(m.split_brain_s(), 0.0);
    }
}

#[test]
fn split_brain_appears_only_while_the_pair_link_is_cut() {
    for seed in 0..6 {
        let mut m = sim(pair(seed));
        let link = Link::new(NodeId::Lb(0), NodeId::Lb(1));
        at(&mut m, 20.0, CommandKind::Cut { link });
        at(&mut m, 40.0, CommandKind::Heal { link });
        let mut steps = 0u64;
        while m.now() < from_s(60.0) && m.step() {
            steps += 1;
            if let Err(e) = m.check_invariants() {
                panic!("seed {seed} step {steps}: {e}");
            }
            let cut = m.now() >= from_s(20.0) && m.now() < from_s(40.0);
            if m.in_split_brain() {
                assert!(cut || m.now() < from_s(41.0), "split brain outside the cut at {} s", to_s(m.now()));
            }
        }
        let starts = m.timeline.iter().filter(|e| e.event == NodeEvent::SplitBrainStart).count();
        assert_eq!(starts, 1);
        // Begins when lb2's master-down timer runs out (3.61 s into the cut), ends within one
        // advert interval of the heal.
        let s = m.split_brain_s();
        assert!((16.3..=17.4).contains(&s), "seed {seed}: split brain lasted {s} s");
    }
}

#[test]
fn backup_server_takes_traffic_only_when_the_active_one_is_down() {
    let mut s = three_server(4);
    s.web.servers[1].backup = true;
    let mut m = sim(s);
    m.run_until(from_s(30.0), u64::MAX);
    let before = Report::from_sim(&m);
    assert!(before.by_server[0].completed > 2_000);
    assert_eq!(before.by_server[1].completed, 0, "the passive server is idle");
    at(&mut m, 30.0, CommandKind::Kill { node: NodeId::Web(0) });
    m.run_until(from_s(60.0), u64::MAX);
    let mid = Report::from_sim(&m);
    assert!(mid.by_server[1].completed > 1_000, "the backup serves once web1 is DOWN");
    let view = m.view(0);
    assert!(view.web[1].in_pool && !view.web[0].in_pool);
    at(&mut m, 60.0, CommandKind::Restore { node: NodeId::Web(0) });
    m.run_until(from_s(80.0), u64::MAX);
    let view = m.view(0);
    assert!(view.web[0].in_pool && !view.web[1].in_pool, "web1 back UP: the backup stands by again");
    m.check_invariants().unwrap();
}

#[test]
fn slowstart_ramps_a_recovered_server_in() {
    let mut s = three_server(5);
    s.balancer.slowstart_ms = 20_000.0;
    s.traffic.arrival_rate_per_s = 200.0;
    let mut m = Sim::new(s, TraceConfig { enabled: true, capacity: usize::MAX });
    at(&mut m, 10.0, CommandKind::Kill { node: NodeId::Web(0) });
    at(&mut m, 30.0, CommandKind::Restore { node: NodeId::Web(0) });
    m.run_until(from_s(70.0), u64::MAX);
    let up = when(&m, NodeId::Web(0), NodeEvent::MarkedUp)[0];
    // Each request's first dispatch: web2, alone for 20 s, is overloaded and refuses
    // connections, and those refused requests are redispatched to web1 whatever its weight.
    let share = |from: SimTime, to: SimTime| {
        let mut seen = std::collections::HashSet::new();
        let picks: Vec<u16> = m
            .trace
            .events()
            .filter(|e| e.at >= from && e.at < to)
            .filter_map(|e| match e.kind {
                infrasim::sim::trace::TraceKind::Dispatch { to: NodeId::Web(i), .. } if seen.insert(e.request) => {
                    Some(i)
                }
                _ => None,
            })
            .collect();
        picks.iter().filter(|&&i| i == 0).count() as f64 / picks.len() as f64
    };
    let early = share(up, up + from_s(4.0));
    let late = share(up + from_s(25.0), up + from_s(35.0));
    assert!(early < 0.2, "right after UP web1 gets a small share: {early}");
    assert!((late - 0.5).abs() < 0.05, "after the ramp it is back to half: {late}");
}

#[test]
fn dns_active_active_fails_over_only_as_answers_expire() {
    let mut s = pair(6);
    s.balancer.pair_mode = PairMode::Dns;
    s.network.dns_ttl_s = 30.0;
    let mut m = sim(s);
    at(&mut m, 40.0, CommandKind::Kill { node: NodeId::Lb(0) });
    m.run_until(from_s(120.0), u64::MAX);
    let per_second: Vec<u32> = m.metrics.series.iter().map(|x| x.failed).collect();
    let during: u32 = per_second[41..60].iter().sum();
    let after: u32 = per_second[75..].iter().sum();
    assert!(during > 200, "clients pinned to lb1 fail until their answer expires: {during}");
    assert_eq!(after, 0, "after the TTL every client has re-resolved to lb2");
}

#[test]
fn random_failures_and_faults_never_lose_a_request_from_the_accounting() {
    for seed in 0..8 {
        let mut s = pair(seed);
        s.web.servers.push(s.web.servers[0].clone());
        s.balancer.algorithm = Algorithm::Leastconn;
        s.traffic.arrival_rate_per_s = 300.0;
        s.failures.web.mtbf_s = 15.0;
        s.failures.web.mttr_s = 5.0;
        s.failures.lb.mtbf_s = 30.0;
        s.failures.lb.mttr_s = 5.0;
        s.failures.db.mtbf_s = 40.0;
        s.failures.db.mttr_s = 5.0;
        s.failures.dns.mtbf_s = 60.0;
        s.failures.dns.mttr_s = 5.0;
        let mut m = sim(s);
        at(&mut m, 5.0, CommandKind::Cut { link: Link::new(NodeId::Web(1), NodeId::Db(0)) });
        at(&mut m, 9.0, CommandKind::Slow { node: NodeId::Web(2), factor: 5.0 });
        at(&mut m, 12.0, CommandKind::Cut { link: Link::new(NodeId::Db(0), NodeId::Db(1)) });
        at(&mut m, 20.0, CommandKind::Heal { link: Link::new(NodeId::Db(0), NodeId::Db(1)) });
        at(&mut m, 25.0, CommandKind::SetFailureRate { class: NodeClass::Web, mtbf_s: 5.0, mttr_s: 2.0 });
        let mut steps = 0u64;
        while m.now() < from_s(60.0) && m.step() {
            steps += 1;
            if let Err(e) = m.check_invariants() {
                panic!("seed {seed} step {steps} at {} s: {e}", to_s(m.now()));
            }
        }
        let r = Report::from_sim(&m);
        assert!(r.timeline.len() > 5, "seed {seed}: random failures happened");
        assert!(r.requests.completed > 1_000 && r.requests.failed > 0);
        assert!(r.availability.is_some_and(|a| a > 0.0 && a < 1.0), "{:?}", r.availability);
    }
}

#[test]
fn spof_analysis_lists_the_balancer_and_primary_and_the_pair_removes_the_balancer() {
    let plain = infrasim::sim::spof::analyse(&three_server(1));
    for must in ["lb1", "db1"] {
        assert!(
            plain.single_points_of_failure.iter().any(|t| t == must),
            "{must}: {:?}",
            plain.single_points_of_failure
        );
    }
    for web in ["web1", "web2"] {
        assert!(!plain.single_points_of_failure.iter().any(|t| t == web), "two web servers cover each other");
    }
    let db1 = plain.nodes.iter().find(|e| e.target == "db1").unwrap();
    assert_eq!(db1.effect, infrasim::sim::spof::Effect::WritesBlocked);
    let with_pair = infrasim::sim::spof::analyse(&pair(1));
    assert!(
        !with_pair.single_points_of_failure.iter().any(|t| t.starts_with("lb")),
        "{:?}",
        with_pair.single_points_of_failure
    );
    // Availability from the failure sliders: a balancer down 1 % of the time costs 1 %.
    let mut s = three_server(1);
    s.failures.lb.mtbf_s = 99.0;
    s.failures.lb.mttr_s = 1.0;
    let est = infrasim::sim::spof::analyse(&s);
    assert!(est.failure_rates_set);
    assert!((est.availability_estimate - 0.99).abs() < 1e-9, "{}", est.availability_estimate);
}
