//! Each part stepped alone (raft-rs `test_raft_paper.rs` style): a small model is built, one
//! crafted event is handed to `handle`, and the part's outputs are asserted.

use super::timer::Timer;
use super::*;
use crate::scenario::{preset, Failover};
use crate::sim::time::from_ms;

fn quiet(mut s: Scenario) -> Sim {
    // No traffic of its own: the test makes every request.
    s.traffic.arrival_rate_per_s = 0.0;
    Sim::new(s, TraceConfig { enabled: false, capacity: 1 })
}

fn at(sim: &mut Sim, ms: f64, ev: Ev) {
    sim.kernel.now = sim.kernel.now.max(from_ms(ms));
    sim.handle(ev);
}

fn request(id: u64) -> Request {
    Request {
        generation: 0,
        id,
        client: 0,
        write: false,
        measured: true,
        arrived_at: 0,
        web_u: 0.5,
        db_u: 0.5,
        lb: 0,
        at_lb: false,
        server: None,
        is_static: false,
        app: 0,
        remote_app: false,
        app_attempt: crate::sim::upstream::Attempt::default(),
        db: 0,
        attempts: 0,
        excluded: None,
        stage: Stage::ToLb,
        hop: (NodeId::Clients, NodeId::Lb(0)),
        hop_start: 0,
        hop_end: 0,
        fail: None,
        read_back: database::ReadBack::No,
    }
}

#[test]
fn the_request_table_reuses_a_freed_slot_under_a_new_generation() {
    let mut table = requests::Requests::new();
    let a = table.alloc(request(1));
    assert!(table.valid(a) && table.live == 1);
    table.free(a);
    assert!(!table.valid(a), "a freed request is no longer valid");
    let b = table.alloc(request(2));
    assert_eq!((b.idx, table.slots.len()), (a.idx, 1), "the slot is reused");
    assert!(!table.valid(a), "the old handle stays stale in the reused slot");
    assert!(table.is_at(b, Stage::ToLb) && !table.is_at(b, Stage::App));
    assert_eq!(table.get(b).id, 2);
    assert_eq!(table.live, 1);
}

/// queue-lab with one single-worker server taking one connection: the second and third
/// requests wait in the balancer's queue, and its timer answers them 503 once due.
#[test]
fn the_balancer_queue_timer_expires_what_is_due_and_rearms_for_the_rest() {
    let mut s = preset("queue-lab").unwrap();
    s.web.servers.truncate(1);
    s.web.servers[0].maxconn = 1;
    s.web.servers[0].service_time_ms = 10_000.0;
    s.web.servers[0].service_distribution = crate::scenario::Distribution::Constant;
    s.balancer.timeout_queue_ms = 100.0;
    let mut sim = quiet(s);
    at(&mut sim, 0.0, Ev::Arrival);
    at(&mut sim, 0.0, Ev::Arrival);
    at(&mut sim, 50.0, Ev::Arrival);
    assert_eq!(sim.balancers.lb_queued, 2);
    assert_eq!(sim.balancers.candidates[0].conns, 1);
    assert!(sim.balancers.queue_timer.is_armed());
    at(&mut sim, 100.0, Ev::QueueTimer);
    let timed_out = |sim: &Sim| sim.metrics.all.failed_by_cause[FailCause::QueueTimeout as usize];
    assert_eq!((timed_out(&sim), sim.balancers.lb_queued), (1, 1), "only the request queued at 0 ms was due");
    assert!(sim.balancers.queue_timer.is_armed(), "re-armed for the request queued at 50 ms");
    at(&mut sim, 150.0, Ev::QueueTimer);
    assert_eq!((timed_out(&sim), sim.balancers.lb_queued), (2, 0));
    sim.check_invariants().unwrap();
}

#[test]
fn a_candidate_is_eligible_only_with_a_free_slot_in_the_pool_and_weight() {
    let mut c = new_candidate(&crate::scenario::WebServer { maxconn: 1, ..Default::default() });
    assert!(c.eligible() && c.is_active_up());
    c.conns = 1;
    assert!(!c.has_slot() && !c.eligible() && c.is_active_up(), "full, but still up");
    c.conns = 0;
    c.weight = 0;
    assert!(!c.eligible() && !c.is_active_up(), "drained");
}

/// The primary is dead and the manager's check finds it so: the replica is promoted at once
/// (it has applied all it received), and a check from before the rearm is ignored.
#[test]
fn a_failover_check_promotes_the_most_advanced_replica_and_stale_checks_are_dropped() {
    let mut s = preset("three-server").unwrap();
    s.db.replicas = 2;
    s.db.failover = Failover::Auto;
    s.db.detect_misses = 1;
    let mut sim = quiet(s);
    sim.db.nodes[2].received = 3;
    sim.db.nodes[2].applied = 3;
    sim.db.nodes[0].received = 3;
    sim.kill(NodeId::Db(0));
    let stale = sim.db.failover_timer.token();
    sim.schedule_failover_checks();
    at(&mut sim, 10.0, Ev::FailoverCheck { generation: stale });
    assert_eq!((sim.db.primary, sim.db.stats.promotions), (0, 0), "a stale check does nothing");
    let current = sim.db.failover_timer.token();
    at(&mut sim, 20.0, Ev::FailoverCheck { generation: current });
    assert_eq!(sim.db.primary, 2, "db3 had received the most");
    assert_eq!(sim.db.stats.promotions, 1);
    assert_eq!(sim.db_role(0), DbRole::Fenced);
    assert!(sim.timeline.iter().any(|e| e.event == NodeEvent::Promoted && e.subject == Subject::Node(NodeId::Db(2))));
}

/// A write waits for a semi-sync ack; the replica's ack of its position releases it.
#[test]
fn a_semisync_ack_releases_the_writes_up_to_its_position() {
    let mut s = preset("three-server").unwrap();
    s.db.replication = crate::scenario::Replication::Semisync;
    let mut sim = quiet(s);
    let r = sim.requests.alloc(Request { stage: Stage::SemiSyncWait, server: Some(0), write: true, ..request(9) });
    sim.balancers.candidates[0].conns = 1;
    sim.db.semisync_waiting.push_back((1, r));
    let generation = sim.db.binlog_generation.token();
    at(&mut sim, 5.0, Ev::SemiSyncAck { generation: generation.wrapping_add(1), position: 1 });
    assert_eq!(sim.db.stats.writes_acknowledged, 0, "an ack for another primary's binlog is dropped");
    at(&mut sim, 6.0, Ev::SemiSyncAck { generation, position: 1 });
    assert_eq!(sim.db.stats.writes_acknowledged, 1);
    assert!(sim.db.semisync_waiting.is_empty());
    assert_eq!(sim.requests.get(r).stage, Stage::FromDb, "the answer goes back to the web server");
}

/// The master dies: the backup's master-down timer runs out and it takes the floating IP; a
/// timer it re-armed since (an advert it heard) would have been dropped.
#[test]
fn a_vrrp_backup_whose_timer_runs_out_becomes_master_unless_the_timer_was_rearmed() {
    let sim_with_pair = || {
        let mut s = preset("three-server").unwrap();
        s.balancer.pair = true;
        quiet(s)
    };
    let mut sim = sim_with_pair();
    assert_eq!(sim.vip_owner(), Some(0));
    let before = sim.balancers.lbs[1].master_down.token();
    sim.reset_master_down_timer(1);
    at(&mut sim, 10.0, Ev::VrrpTimer { lb: 1, generation: before });
    assert_eq!(sim.balancers.lbs[1].role, VrrpRole::Backup, "a re-armed timer's old event is stale");
    sim.kill(NodeId::Lb(0));
    let token = sim.balancers.lbs[1].master_down.token();
    at(&mut sim, 3_700.0, Ev::VrrpTimer { lb: 1, generation: token });
    assert_eq!(sim.balancers.lbs[1].role, VrrpRole::Master);
    assert_eq!(sim.vip_owner(), Some(1));
    assert!(sim.balancers.lbs[1].advert.is_armed(), "the new master advertises");
}

#[test]
fn a_monitoring_round_alerts_once_on_a_dead_node_and_once_on_its_return() {
    let mut s = preset("three-server").unwrap();
    s.monitoring.enabled = true;
    let mut sim = quiet(s);
    sim.kill(NodeId::Web(1));
    let token = sim.monitoring.timer.token();
    at(&mut sim, 1_000.0, Ev::MonitorCheck { generation: token });
    at(&mut sim, 2_000.0, Ev::MonitorCheck { generation: token });
    let view = sim.monitor_view();
    assert_eq!(view.known_down, vec![NodeId::Web(1)]);
    assert_eq!(view.alerts, vec![Alert { at: from_ms(1_000.0), node: NodeId::Web(1), kind: AlertKind::Down }]);
    sim.restore(NodeId::Web(1));
    at(&mut sim, 3_000.0, Ev::MonitorCheck { generation: token });
    let kinds: Vec<_> = sim.monitor_view().alerts.iter().map(|a| (a.node, a.kind)).collect();
    assert_eq!(kinds, vec![(NodeId::Web(1), AlertKind::Down), (NodeId::Web(1), AlertKind::Recovered)]);
    assert_eq!(sim.alerts_total(), 2);
}

#[test]
fn an_outside_probe_takes_the_next_target_and_the_firewall_drops_it() {
    let mut s = preset("three-server").unwrap();
    s.security.firewall = true;
    s.security.probe_rate_per_s = 1.0;
    let mut sim = quiet(s);
    let mut targets = Vec::new();
    for k in 0..4 {
        let token = sim.edge.probe_timer.token();
        at(&mut sim, 100.0 * (k + 1) as f64, Ev::Probe { generation: token });
        let probe = *sim.recent_probes().next_back().unwrap();
        assert!(probe.blocked);
        assert_eq!(probe.seq, k);
        targets.push(probe.target);
    }
    // balancer1's SSH, then server1's SSH, Nginx and MySQL (`design::probe_targets`).
    assert_eq!(targets, vec![NodeId::Lb(0), NodeId::Web(0), NodeId::Web(0), NodeId::Db(0)]);
    assert_eq!(sim.security_stats().probes_blocked, 4);
    let stale = Timer::default().token();
    at(&mut sim, 900.0, Ev::Probe { generation: stale });
    assert_eq!(sim.security_stats().probes_blocked, 4, "a probe from a replaced timer is dropped");
}
