//! Machines in the model: components on one machine share its cores (processor sharing), and
//! a machine fails whole. Queueing figures are means over seeds with a stated tolerance
//! (../shared/reference.md, "Machines").
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{assert_close, at, lab, mean_latency_over_seeds, run, sim, when};
use infrasim::scenario::machines::Machine;
use infrasim::scenario::{preset, Algorithm, Distribution, ReadFrom, Scenario};
use infrasim::sim::spof;
use infrasim::sim::time::from_s;
use infrasim::sim::trace::NodeEvent;
use infrasim::sim::{CommandKind, NodeId, Report};

const TOLERANCE: f64 = 0.05;

fn machine(id: &str, cores: u32, runs: &[&str]) -> Machine {
    Machine { id: id.into(), cores, runs: runs.iter().map(|r| r.to_string()).collect() }
}

/// One web server with as many workers as it will ever need (so only the cores limit it) on a
/// machine of one core: the application's time is shared as an operating system would.
fn one_core_lab(rate_per_s: f64, service_ms: f64) -> Scenario {
    let mut s = lab(1, service_ms, rate_per_s, Algorithm::Roundrobin, 0);
    s.web.servers[0].workers = 1024;
    s.machines = vec![machine("box", 1, &["web1", "app1"])];
    assert!(s.validate().is_empty(), "{:?}", s.validate());
    s
}

#[test]
fn mg1_ps_mean_response_is_insensitive_to_the_service_distribution() {
    // M/G/1-PS: W = S/(1-ρ) whatever the distribution. Lognormal with CV 3 (a FIFO server
    // would give S(1 + ρ(1+CV²)/(2(1-ρ))) = 85 ms at ρ = 0.6, not 25 ms). 5 seeds × ~180 000
    // requests each.
    let (service_ms, rate) = (10.0, 60.0);
    let rho = rate * service_ms / 1_000.0;
    let mut s = one_core_lab(rate, service_ms);
    s.web.servers[0].service_distribution = Distribution::Lognormal;
    s.web.servers[0].service_time_cv = 3.0;
    s.warmup_s = 20.0;
    let w = mean_latency_over_seeds(&s, 1..6, 3_000.0);
    assert_close("M/G/1-PS lognormal CV 3, rho 0.6", w, service_ms / (1.0 - rho), TOLERANCE);
}

#[test]
fn two_classes_on_one_core_each_get_their_service_over_one_minus_total_load() {
    // The application (4 ms) and the database's queries (6 ms, exponential) of every request
    // share one core: ρ_total = λ(S1 + S2) = 0.6, so a request spends S1/(1-ρ) + S2/(1-ρ) =
    // 25 ms (BCMP: a processor-sharing station keeps the product form).
    let (app_ms, query_ms, rate) = (4.0, 6.0, 60.0);
    let rho = rate * (app_ms + query_ms) / 1_000.0;
    let mut s = one_core_lab(rate, app_ms);
    s.db.enabled = true;
    s.db.replicas = 0;
    s.db.read_from = ReadFrom::Primary;
    s.db.workers = 1024;
    s.db.read_time_ms = query_ms;
    s.machines = vec![machine("box", 1, &["web1", "app1", "db1"])];
    s.warmup_s = 20.0;
    assert!(s.validate().is_empty(), "{:?}", s.validate());
    let w = mean_latency_over_seeds(&s, 1..6, 2_000.0);
    assert_close("two classes on one core", w, (app_ms + query_ms) / (1.0 - rho), TOLERANCE);
    // Apart, each on a core of its own, each station has only its own load:
    // S1/(1-ρ1) + S2/(1-ρ2) = 5.26 + 9.38 = 14.6 ms instead of 25.
    s.machines = vec![machine("app-box", 1, &["web1", "app1"]), machine("db-box", 1, &["db1"])];
    let apart = mean_latency_over_seeds(&s, 1..6, 2_000.0);
    let (rho_app, rho_db) = (rate * app_ms / 1_000.0, rate * query_ms / 1_000.0);
    assert_close(
        "the same work on two machines",
        apart,
        app_ms / (1.0 - rho_app) + query_ms / (1.0 - rho_db),
        TOLERANCE,
    );
}

#[test]
fn a_component_alone_with_enough_cores_behaves_exactly_as_without_machines() {
    let mut alone = lab(2, 10.0, 150.0, Algorithm::Roundrobin, 0);
    alone.web.servers.iter_mut().for_each(|w| w.workers = 2);
    let mut listed = alone.clone();
    listed.machines = vec![machine("m1", 2, &["web1", "app1"]), machine("m2", 4, &["web2", "app2"])];
    let (_, a) = run(alone, 300.0);
    let (_, b) = run(listed, 300.0);
    assert_eq!(a.requests.completed, b.requests.completed);
    assert_eq!(a.latency_ms.mean.to_bits(), b.latency_ms.mean.to_bits(), "same bits");
    assert_eq!(a.latency_ms.p99.to_bits(), b.latency_ms.p99.to_bits());
}

fn failed_by(r: &Report, cause: &str) -> u64 {
    r.requests.failed_by_cause[cause]
}

#[test]
fn killing_server1_takes_web1_and_the_primary_down_together() {
    let mut m = sim(preset("three-server").unwrap());
    at(&mut m, 10.0, CommandKind::KillMachine { machine: "server1".into() });
    m.run_until(from_s(30.0), u64::MAX);
    let r = Report::from_sim(&m);
    assert_eq!(when(&m, NodeId::Web(0), NodeEvent::Killed), vec![from_s(10.0)]);
    assert_eq!(when(&m, NodeId::Db(0), NodeEvent::Killed), vec![from_s(10.0)]);
    assert_eq!(when(&m, NodeId::Web(0), NodeEvent::MarkedDown).len(), 1, "health checks mark web1 DOWN");
    assert!(failed_by(&r, "db_down") > 100, "writes fail with no primary: {:?}", r.requests.failed_by_cause);
    assert!(!m.is_alive(NodeId::Web(0)) && !m.is_alive(NodeId::Db(0)) && m.is_alive(NodeId::Web(1)));
    let server1 = r.machines.iter().find(|x| x.id == "server1").expect("server1 reported");
    assert!(!server1.alive);
}

#[test]
fn killing_mysql_alone_leaves_its_web_server_up() {
    let mut m = sim(preset("three-server").unwrap());
    at(&mut m, 10.0, CommandKind::Kill { node: NodeId::Db(0) });
    m.run_until(from_s(30.0), u64::MAX);
    assert!(when(&m, NodeId::Web(0), NodeEvent::MarkedDown).is_empty(), "web1 stays UP");
    assert!(m.is_alive(NodeId::Web(0)));
    // A component cannot start while its machine is down; the machine brings it back.
    let mut m = sim(preset("three-server").unwrap());
    at(&mut m, 5.0, CommandKind::KillMachine { machine: "server1".into() });
    m.run_until(from_s(6.0), u64::MAX);
    let refused =
        m.apply(infrasim::sim::Command { at_us: from_s(7.0), what: CommandKind::Restore { node: NodeId::Db(0) } });
    assert!(refused.unwrap_err().contains("server1"), "names the machine");
    at(&mut m, 8.0, CommandKind::RestoreMachine { machine: "server1".into() });
    m.run_until(from_s(9.0), u64::MAX);
    assert!(m.is_alive(NodeId::Web(0)) && m.is_alive(NodeId::Db(0)));
}

#[test]
fn unknown_machines_are_refused_with_the_design_s_machines_named() {
    let mut m = sim(preset("three-server").unwrap());
    let e = m
        .apply(infrasim::sim::Command { at_us: 0, what: CommandKind::KillMachine { machine: "server9".into() } })
        .unwrap_err();
    assert!(e.contains("server9") && e.contains("balancer1, server1, server2"), "{e}");
}

#[test]
fn spof_names_the_course_design_s_machines_and_no_balancer_of_scale_up() {
    let report = spof::analyse(&preset("three-server").unwrap());
    for target in ["balancer1", "server1"] {
        assert!(
            report.single_points_of_failure.iter().any(|t| t == target),
            "{target}: {:?}",
            report.single_points_of_failure
        );
    }
    assert_eq!(report.machines.len(), 3, "each listed machine failed whole");
    let report = spof::analyse(&preset("scale-up").unwrap());
    let balancers = ["lb1", "lb2", "balancer1", "balancer2", "keepalived1", "keepalived2"];
    assert!(
        report.single_points_of_failure.iter().all(|t| !balancers.contains(&t.as_str())),
        "a VRRP pair has no single balancer: {:?}",
        report.single_points_of_failure
    );
    assert_eq!(report.machines.len(), 8);
}

#[test]
fn a_machine_fault_parses_from_the_batch_runner_s_spelling() {
    let c = infrasim::scenario::parse_fault("20s:kill:server1").unwrap();
    assert_eq!(c.what, CommandKind::KillMachine { machine: "server1".into() });
    let c = infrasim::scenario::parse_fault("20s:kill:web1").unwrap();
    assert_eq!(c.what, CommandKind::Kill { node: NodeId::Web(0) });
    let e = infrasim::scenario::parse_fault("20s:kill:Server_1").unwrap_err();
    assert!(e.contains("Server_1"), "{e}");
}

#[test]
fn a_machine_s_random_failures_keep_it_down_mttr_over_mtbf_plus_mttr_of_the_time() {
    // Alternating exponential up (mean 200 s) and down (mean 20 s) times: each machine is down
    // 20/220 = 9.1 % of the time. Three machines × 3 seeds × 60,000 s ≈ 2,400 failures, so the
    // pooled share has a standard error of about 2 %; tolerance 8 %.
    let (mtbf, mttr, seconds) = (200.0, 20.0, 60_000.0);
    let (mut down, mut total, mut failures) = (0.0, 0.0, 0);
    for seed in 1..4 {
        let mut s = preset("three-server").unwrap();
        s.seed = seed;
        s.traffic.arrival_rate_per_s = 0.5;
        s.failures.machine.mtbf_s = mtbf;
        s.failures.machine.mttr_s = mttr;
        let (m, r) = run(s, seconds);
        assert_eq!(r.machines.len(), 3);
        for machine in &r.machines {
            down += machine.downtime_s;
            total += seconds;
        }
        failures += when(&m, NodeId::Db(0), NodeEvent::Killed).len();
    }
    assert!(failures > 10, "server1's failures take its MySQL down too: {failures}");
    assert_close("share of time a machine is down", down / total, mttr / (mtbf + mttr), 0.08);
}

#[test]
fn a_random_machine_failure_takes_down_everything_it_runs_and_its_repair_brings_it_back() {
    let mut s = preset("three-server").unwrap();
    s.failures.machine.mtbf_s = 30.0;
    s.failures.machine.mttr_s = 5.0;
    let (m, _) = run(s.clone(), 300.0);
    let killed = |node| when(&m, node, NodeEvent::Killed);
    // web1, app1 and db1 share server1: every failure of the machine kills all three at once.
    assert!(!killed(NodeId::Web(0)).is_empty());
    assert_eq!(killed(NodeId::Web(0)), killed(NodeId::Db(0)));
    assert_eq!(killed(NodeId::Web(0)), killed(NodeId::App(0)));
    assert_eq!(when(&m, NodeId::Web(0), NodeEvent::Restored), when(&m, NodeId::Db(0), NodeEvent::Restored));
    // A design that lists no machines has none to fail.
    let mut none = s;
    none.machines.clear();
    let (m, r) = run(none, 300.0);
    assert!(r.machines.is_empty() && when(&m, NodeId::Web(0), NodeEvent::Killed).is_empty());
}
