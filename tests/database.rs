//! The database tier against MySQL's documented behaviour (../shared/reference.md):
//! replication lag is a queue, semi-sync loses no acknowledged write, async loses exactly the
//! acknowledged writes that had not left the primary, failover timing follows the detection
//! settings, stale reads happen only on replicas.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{at, db_lab, sim, when};
use infrasim::scenario::{preset, Failover, ReadFrom, Replication};
use infrasim::sim::time::{from_s, to_s};
use infrasim::sim::trace::NodeEvent;
use infrasim::sim::{Command, CommandKind, DbRole, NodeId, Report, Sim};

#[test]
fn lag_stays_near_shipping_latency_below_the_apply_rate_and_grows_linearly_above_it() {
    let mut s = db_lab(1, 100.0, 0.5);
    s.db.apply_rate_per_s = 200.0;
    let mut m = sim(s);
    m.run_until(from_s(30.0), u64::MAX);
    let calm: Vec<f64> = m.metrics.series.iter().skip(5).map(|x| x.replication_lag_ms).collect();
    let calm_mean = calm.iter().sum::<f64>() / calm.len() as f64;
    // Shipping (2 ms) + one LAN hop (0.5 ms) + applying one event (5 ms) bounds a calm lag.
    assert!(calm_mean < 15.0, "calm lag {calm_mean} ms");
    // 300 writes/s against 200 applied/s: position 200t is applied at t while 300t are
    // committed, so the lag (age of the oldest unapplied commit) grows by 1/3 s per second.
    at(&mut m, 30.0, CommandKind::SetArrivalRate { per_s: 600.0 });
    m.run_until(from_s(70.0), u64::MAX);
    let lag_at = |t: f64| m.metrics.series.iter().find(|x| (x.t_s - t).abs() < 0.01).unwrap().replication_lag_ms;
    let slope = (lag_at(65.0) - lag_at(45.0)) / 1_000.0 / 20.0;
    assert!((slope - 1.0 / 3.0).abs() < 0.03, "lag grows {slope} s per s, expected 1/3");
    m.check_invariants().unwrap();
}

/// Kill the primary under write load with automatic failover; returns the report and how many
/// acknowledged writes had not departed the primary at the kill.
fn kill_primary_under_load(seed: u64, replication: Replication) -> (Report, u64, Sim) {
    let mut s = db_lab(seed, 400.0, 0.5);
    s.db.replicas = 2;
    s.db.replication = replication;
    s.db.failover = Failover::Auto;
    s.db.ship_latency_ms = 20.0;
    let mut m = sim(s);
    let kill_at = from_s(20.0) + seed * 7_919 % 1_000_000;
    m.run_until(kill_at, u64::MAX);
    let primary = m.view(0).db.iter().find(|d| d.primary).unwrap().received;
    let shipped = (1..3).map(|n| m.shipped_position(n)).max().unwrap();
    m.apply(Command { at_us: m.now(), what: CommandKind::Kill { node: NodeId::Db(0) } }).unwrap();
    m.run_until(from_s(40.0), u64::MAX);
    m.check_invariants().unwrap();
    (Report::from_sim(&m), primary - shipped, m)
}

#[test]
fn semisync_loses_no_acknowledged_write_and_async_loses_exactly_the_unshipped_ones() {
    let mut async_lost_total = 0;
    for seed in 0..10 {
        let (r, unshipped, m) = kill_primary_under_load(seed, Replication::Async);
        let db = r.db.unwrap();
        assert_eq!(db.promotions, 1, "seed {seed}");
        assert_eq!(db.writes_lost, unshipped, "seed {seed}: async loses the acknowledged, unshipped writes");
        async_lost_total += db.writes_lost;
        assert_ne!(m.primary_index(), 0);

        let (r, _, _) = kill_primary_under_load(seed, Replication::Semisync);
        let db = r.db.unwrap();
        assert_eq!(db.semisync_fallbacks, 0, "seed {seed}");
        assert_eq!(db.promotions, 1);
        assert_eq!(db.writes_lost, 0, "seed {seed}: semi-sync loses no acknowledged write");
    }
    // 200 writes/s with 20 ms shipping delay: about 4 writes in flight at each kill.
    assert!(async_lost_total >= 20, "async lost {async_lost_total} writes over the sweep");
}

#[test]
fn failover_time_matches_the_detection_settings() {
    for (interval_ms, misses) in [(1_000.0, 3u32), (3_000.0, 3), (500.0, 5)] {
        for seed in 0..5 {
            let mut s = db_lab(seed, 100.0, 0.2);
            s.db.failover = Failover::Auto;
            s.db.detect_interval_ms = interval_ms;
            s.db.detect_misses = misses;
            let mut m = sim(s);
            at(&mut m, 30.0, CommandKind::Kill { node: NodeId::Db(0) });
            m.run_until(from_s(80.0), u64::MAX);
            let dead = to_s(when(&m, NodeId::Db(0), NodeEvent::DeclaredDead)[0]) - 30.0;
            let i = interval_ms / 1_000.0;
            let m_ = misses as f64;
            assert!(dead > (m_ - 1.0) * i && dead <= m_ * i, "declared dead after {dead} s ({misses} × {i} s)");
            let promoted = to_s(when(&m, NodeId::Db(1), NodeEvent::Promoted)[0]) - 30.0;
            assert!(promoted >= dead && promoted < dead + 0.1, "promotion follows detection: {promoted}");
            assert_eq!(m.view(0).db[1].role, DbRole::Primary);
            // Writes fail between the crash and the promotion, then succeed again.
            let r = Report::from_sim(&m);
            assert!(r.requests.failed_by_cause["db_down"] > 0);
            let last: u32 = m.metrics.series.iter().rev().take(10).map(|x| x.failed).sum();
            assert_eq!(last, 0, "writes go to the new primary");
        }
    }
}

#[test]
fn stale_reads_happen_on_lagging_replicas_and_never_on_the_primary() {
    for (read_from, expect_stale) in [(ReadFrom::Replica, true), (ReadFrom::Primary, false)] {
        let mut s = db_lab(3, 300.0, 0.3);
        s.traffic.clients = 20;
        s.db.apply_rate_per_s = 80.0;
        s.db.read_from = read_from;
        let (r, _) = {
            let mut m = sim(s);
            m.run_until(from_s(30.0), u64::MAX);
            (Report::from_sim(&m), ())
        };
        let stale = r.db.unwrap().stale_reads;
        assert_eq!(stale > 0, expect_stale, "{read_from:?}: {stale} stale reads");
    }
}

#[test]
fn semisync_falls_back_after_the_timeout_and_comes_back_when_a_replica_catches_up() {
    let mut s = db_lab(4, 100.0, 0.3);
    s.db.replication = Replication::Semisync;
    // Reads through the proxy, so the dead replica costs no read: only the writes' wait shows.
    s.db.read_from = ReadFrom::Proxy;
    let mut m = sim(s);
    at(&mut m, 10.0, CommandKind::Kill { node: NodeId::Db(1) });
    at(&mut m, 40.0, CommandKind::Restore { node: NodeId::Db(1) });
    m.run_until(from_s(60.0), u64::MAX);
    let off = when(&m, NodeId::Db(0), NodeEvent::SemiSyncOff);
    let on = when(&m, NodeId::Db(0), NodeEvent::SemiSyncOn);
    assert_eq!(off.len(), 1);
    let off_after = to_s(off[0]) - 10.0;
    assert!((10.0..10.2).contains(&off_after), "fell back {off_after} s after the replica died");
    assert!(to_s(on[0]) > 40.0 && to_s(on[0]) < 42.0, "back on when the replica caught up");
    let r = Report::from_sim(&m);
    assert_eq!(r.db.as_ref().unwrap().semisync_fallbacks, 1);
    // Writes made while waiting took the whole timeout.
    assert!(r.latency_ms.max > 9_900.0, "max latency {}", r.latency_ms.max);
    assert_eq!(r.requests.failed, 0, "nothing fails: writes wait, then go async");
}

#[test]
fn the_proxy_shuns_dead_and_lagging_replicas_and_the_application_split_does_not() {
    let failures = |read_from: ReadFrom| {
        let mut s = db_lab(5, 200.0, 0.2);
        s.db.replicas = 2;
        s.db.read_from = read_from;
        let mut m = sim(s);
        at(&mut m, 10.0, CommandKind::Kill { node: NodeId::Db(1) });
        m.run_until(from_s(30.0), u64::MAX);
        Report::from_sim(&m).requests.failed_by_cause["db_down"]
    };
    assert!(failures(ReadFrom::Replica) > 500, "the application keeps sending reads to the dead replica");
    assert_eq!(failures(ReadFrom::Proxy), 0, "the proxy routes around it");

    // A replica over max_replication_lag is shunned: with every replica lagging, reads go to
    // the primary and none is stale.
    let mut s = db_lab(6, 300.0, 0.3);
    s.traffic.clients = 20;
    s.db.apply_rate_per_s = 50.0;
    s.db.read_from = ReadFrom::Proxy;
    s.db.max_replication_lag_ms = 500.0;
    let mut m = sim(s);
    m.run_until(from_s(20.0), u64::MAX);
    let before = m.view(0).db[1].applied;
    let replica_reads_before = m.db_stats().stale_reads;
    m.run_until(from_s(40.0), u64::MAX);
    assert!(m.replica_lag_ms(1) > 500.0);
    assert!(m.view(0).db[1].applied > before, "the replica still applies");
    assert_eq!(m.db_stats().stale_reads, replica_reads_before, "no stale reads once the lagging replica is shunned");
}

#[test]
fn without_failover_writes_fail_while_reads_continue() {
    let mut m = sim(db_lab(7, 200.0, 0.25));
    at(&mut m, 10.0, CommandKind::Kill { node: NodeId::Db(0) });
    m.run_until(from_s(40.0), u64::MAX);
    let tail: Vec<_> = m.metrics.series.iter().filter(|x| x.t_s > 12.0).collect();
    let failed: u32 = tail.iter().map(|x| x.failed).sum();
    let completed: u32 = tail.iter().map(|x| x.completed).sum();
    let share = failed as f64 / (failed + completed) as f64;
    assert!((share - 0.25).abs() < 0.03, "the writes (25 %) fail, reads succeed: {share}");
    assert_eq!(m.db_stats().promotions, 0);
}

#[test]
fn a_returning_old_primary_rejoins_fenced_or_becomes_a_second_primary() {
    for fencing in [true, false] {
        let mut s = db_lab(8, 200.0, 0.3);
        s.db.replicas = 2;
        s.db.failover = Failover::Auto;
        s.db.fencing = fencing;
        let mut m = sim(s);
        at(&mut m, 10.0, CommandKind::Kill { node: NodeId::Db(0) });
        at(&mut m, 30.0, CommandKind::Restore { node: NodeId::Db(0) });
        let mut steps = 0u64;
        while m.now() < from_s(50.0) && m.step() {
            steps += 1;
            if let Err(e) = m.check_invariants() {
                panic!("fencing {fencing} step {steps}: {e}");
            }
        }
        let role = m.view(0).db[0].role;
        let split = m.db_stats().split_brain_s;
        if fencing {
            assert_eq!(role, DbRole::Replica);
            assert_eq!(split, 0.0);
            assert!(m.replica_lag_ms(0) < 100.0, "the rejoined replica caught up");
        } else {
            assert_eq!(role, DbRole::SecondPrimary);
            assert!((split - 20.0).abs() < 0.01, "two primaries for the last 20 s: {split}");
        }
    }
}

#[test]
fn accounting_holds_through_database_failures_and_failovers() {
    let mut promotions = 0;
    for seed in 0..6 {
        let mut s = db_lab(seed, 300.0, 0.4);
        s.db.replicas = 3;
        s.db.failover = Failover::Auto;
        s.db.replication = if seed % 2 == 0 { Replication::Semisync } else { Replication::Async };
        s.db.read_from = if seed % 3 == 0 { ReadFrom::Proxy } else { ReadFrom::Replica };
        s.db.semisync_timeout_ms = 2_000.0;
        s.failures.db.mtbf_s = 20.0;
        s.failures.db.mttr_s = 6.0;
        let mut m = sim(s);
        let mut steps = 0u64;
        while m.now() < from_s(90.0) && m.step() {
            steps += 1;
            if let Err(e) = m.check_invariants() {
                panic!("seed {seed} step {steps} at {} s: {e}", to_s(m.now()));
            }
        }
        promotions += m.db_stats().promotions;
    }
    assert!(promotions >= 3, "random failures hit primaries and failovers happened: {promotions}");
}

#[test]
fn with_the_pair_and_failover_neither_balancer_nor_primary_is_a_single_point_of_failure() {
    let mut s = preset("three-server").unwrap();
    s.balancer.pair = true;
    s.db.failover = Failover::Auto;
    s.db.read_from = ReadFrom::Proxy;
    s.db.replicas = 2;
    let report = infrasim::sim::spof::analyse(&s);
    let listed = &report.single_points_of_failure;
    assert!(!listed.iter().any(|t| t.starts_with("lb") || t.starts_with("db")), "{listed:?}");
}
