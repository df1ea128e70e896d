//! The four places where the database tier differed from a real MariaDB 10.11 (issue 18):
//! a returning old primary with errant transactions is diverged until rebuilt; semi-sync on a
//! new primary waits for a replica instead of stalling, unless its primary side was enabled
//! beforehand (then, as MariaDB, the first write waits the timeout once); a replica that
//! receives nothing has an unknown lag, counted as ProxySQL's 60 s; a write read back at once
//! shows staleness. Also: the binlog commit-time history stays bounded under a replica far behind.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::infrasim;

use common::{at, db_lab, sim, when};
use infrasim::scenario::{Failover, ReadFrom, Replication};
use infrasim::sim::time::{from_s, to_s};
use infrasim::sim::trace::NodeEvent;
use infrasim::sim::{
    CommandKind, DbRole, NodeId, Report, ReportedLag, Sim, BINLOG_TIMES_CAPACITY, REBUILD_POSITIONS_PER_S,
    REBUILD_SETUP_MS,
};

fn run_to(m: &mut Sim, t_s: f64) {
    m.run_until(from_s(t_s), u64::MAX);
    m.check_invariants().unwrap();
}

/// Async with a 1 s shipping delay at 100 writes/s: about 100 acknowledged writes are on db1
/// only when it is killed at 10 s; db2 is promoted; db1 comes back at 20 s.
fn failover_with_unshipped_writes(seed: u64) -> Sim {
    let mut s = db_lab(seed, 200.0, 0.5);
    s.db.failover = Failover::Auto;
    s.db.ship_latency_ms = 1_000.0;
    let mut m = sim(s);
    at(&mut m, 10.0, CommandKind::Kill { node: NodeId::Db(0) });
    at(&mut m, 20.0, CommandKind::Restore { node: NodeId::Db(0) });
    m
}

#[test]
fn an_old_primary_with_errant_transactions_is_diverged_until_a_rebuild_re_clones_it() {
    for seed in 0..4 {
        let mut m = failover_with_unshipped_writes(seed);
        run_to(&mut m, 25.0);
        assert_eq!(m.view(0).db[0].role, DbRole::Diverged, "seed {seed}");
        assert_eq!(when(&m, NodeId::Db(0), NodeEvent::Diverged).len(), 1);
        assert!(when(&m, NodeId::Db(0), NodeEvent::RejoinedAsReplica).is_empty(), "it must not rejoin");
        let db = m.db_stats();
        // The errant transactions are the writes db1 committed that db2 never received: the
        // acknowledged ones lost by the failover plus any still in flight. About 1 s of writes.
        assert!(db.errant_transactions >= db.writes_lost, "seed {seed}: {db:?}");
        assert!((60..=140).contains(&db.errant_transactions), "seed {seed}: {} errant", db.errant_transactions);
        // Kept out of the cluster: no reads, no binlog.
        let (queries, received) = (m.db_queries(0), m.view(0).db[0].received);
        run_to(&mut m, 30.0);
        assert_eq!(m.db_queries(0), queries, "a diverged node serves no query");
        assert_eq!(m.view(0).db[0].received, received, "a diverged node receives no binlog");

        // The rebuild copies the primary: out for the setup plus its data at the stated rate.
        let copied = m.view(0).db[1].received;
        at(&mut m, 30.0, CommandKind::Rebuild { node: NodeId::Db(0) });
        run_to(&mut m, 30.0);
        assert_eq!(m.view(0).db[0].role, DbRole::Rebuilding);
        run_to(&mut m, 60.0);
        let took = to_s(when(&m, NodeId::Db(0), NodeEvent::Rebuilt)[0]) - 30.0;
        let expected = REBUILD_SETUP_MS / 1_000.0 + copied as f64 / REBUILD_POSITIONS_PER_S;
        assert!((took - expected).abs() < 1e-3, "rebuild took {took} s, expected {expected} s");
        assert_eq!(m.view(0).db[0].role, DbRole::Replica);
        assert!(m.replica_lag_ms(0) < 1_500.0, "the rebuilt replica caught up: {}", m.replica_lag_ms(0));
        assert!(m.view(0).db[0].received > copied, "it replicates again");
        assert_eq!(m.db_stats().rebuilds, 1);
    }
}

#[test]
fn an_old_primary_with_nothing_errant_rejoins_as_a_replica() {
    let mut s = db_lab(3, 200.0, 0.5);
    s.db.failover = Failover::Auto;
    s.db.ship_latency_ms = 1_000.0;
    let mut m = sim(s);
    // Writes stop 2 s before the crash, so db2 has everything db1 committed.
    at(&mut m, 8.0, CommandKind::SetWriteRatio { ratio: 0.0 });
    at(&mut m, 10.0, CommandKind::Kill { node: NodeId::Db(0) });
    at(&mut m, 20.0, CommandKind::Restore { node: NodeId::Db(0) });
    run_to(&mut m, 25.0);
    assert_eq!(m.view(0).db[0].role, DbRole::Replica);
    assert_eq!(when(&m, NodeId::Db(0), NodeEvent::RejoinedAsReplica).len(), 1);
    assert_eq!(m.db_stats().errant_transactions, 0);
}

#[test]
fn a_replica_that_was_down_during_a_failover_with_positions_beyond_the_new_primary_is_diverged() {
    // db3 is down when db1 dies; it had received more than db2 (whose link from db1 was cut).
    let mut s = db_lab(4, 200.0, 0.5);
    s.db.replicas = 2;
    s.db.failover = Failover::Auto;
    let mut m = sim(s);
    let cut = infrasim::sim::node::Link::new(NodeId::Db(0), NodeId::Db(1));
    at(&mut m, 5.0, CommandKind::Cut { link: cut });
    at(&mut m, 8.0, CommandKind::Kill { node: NodeId::Db(2) });
    at(&mut m, 8.5, CommandKind::Kill { node: NodeId::Db(0) });
    at(&mut m, 9.0, CommandKind::Heal { link: cut });
    at(&mut m, 20.0, CommandKind::Restore { node: NodeId::Db(2) });
    run_to(&mut m, 25.0);
    assert_eq!(m.view(0).db[1].role, DbRole::Primary);
    assert_eq!(m.view(0).db[2].role, DbRole::Diverged);
}

#[test]
fn a_new_primary_with_no_replica_left_does_not_stall_for_the_semisync_timeout() {
    let mut s = db_lab(5, 100.0, 0.3);
    s.db.replication = Replication::Semisync;
    s.db.failover = Failover::Auto;
    s.db.semisync_timeout_ms = 10_000.0;
    // Only the replica side was enabled on db2 beforehand (the default).
    assert!(!s.db.semisync_master_on_replicas);
    let mut m = sim(s);
    at(&mut m, 10.0, CommandKind::Kill { node: NodeId::Db(0) });
    run_to(&mut m, 40.0);
    let promoted = to_s(when(&m, NodeId::Db(1), NodeEvent::Promoted)[0]);
    assert!(promoted < 14.0);
    assert_eq!(m.db_stats().semisync_fallbacks, 0, "no timeout: it never waited");
    // Writes after the promotion take milliseconds, not the 10 s timeout.
    let tail: Vec<_> = m.metrics.series.iter().filter(|x| x.t_s > promoted + 1.0).collect();
    let failed: u32 = tail.iter().map(|x| x.failed).sum();
    assert_eq!(failed, 0);
    let r = Report::from_sim(&m);
    assert!(r.latency_ms.max < 5_000.0, "no write waited for the timeout: max {} ms", r.latency_ms.max);
}

/// db2 has semi-sync's primary side on beforehand (timeout 2 s); db1, the only other node,
/// is killed at 10 s and restored at 20 s.
fn promoted_with_the_primary_side_on(seed: u64, wait_no_slave: bool) -> Sim {
    let mut s = db_lab(seed, 100.0, 0.3);
    s.db.replication = Replication::Semisync;
    s.db.failover = Failover::Auto;
    s.db.semisync_timeout_ms = 2_000.0;
    s.db.semisync_master_on_replicas = true;
    s.db.semisync_wait_no_slave = wait_no_slave;
    let mut m = sim(s);
    at(&mut m, 10.0, CommandKind::Kill { node: NodeId::Db(0) });
    at(&mut m, 20.0, CommandKind::Restore { node: NodeId::Db(0) });
    m
}

#[test]
fn a_promoted_replica_with_the_primary_side_on_stalls_once_for_the_timeout_then_falls_back() {
    for seed in 0..4 {
        let mut m = promoted_with_the_primary_side_on(seed, true);
        run_to(&mut m, 19.0);
        let promoted = to_s(when(&m, NodeId::Db(1), NodeEvent::Promoted)[0]);
        let off = when(&m, NodeId::Db(1), NodeEvent::SemiSyncOff);
        assert_eq!((off.len(), m.db_stats().semisync_fallbacks), (1, 1), "seed {seed}: one fallback");
        // The first write after the promotion waits the whole timeout (MariaDB: 2.02 s).
        let waited = to_s(off[0]) - promoted;
        assert!((2.0..2.2).contains(&waited), "seed {seed}: fell back {waited} s after the promotion");
        let worst_s = m.metrics.latency_us.max() as f64 / 1e6;
        assert!((2.0..2.3).contains(&worst_s), "seed {seed}: slowest request {worst_s} s");
        // Later writes do not wait: seconds after the fallback have millisecond tails.
        let after: Vec<_> = m.metrics.series.iter().filter(|x| x.t_s > to_s(off[0]) + 1.0).collect();
        assert!(after.len() >= 4, "seed {seed}");
        assert!(after.iter().all(|x| x.latency_p99_ms < 100.0 && x.failed == 0), "seed {seed}");
        // db1 returns with nothing errant, rejoins and catches up: semi-sync switches on again.
        run_to(&mut m, 25.0);
        let on = when(&m, NodeId::Db(1), NodeEvent::SemiSyncOn);
        assert_eq!(on.len(), 1, "seed {seed}");
        assert!((20.0..21.0).contains(&to_s(on[0])), "seed {seed}: on at {} s", to_s(on[0]));
        assert_eq!(m.db_stats().semisync_fallbacks, 1, "seed {seed}: no second fallback");
    }
}

#[test]
fn a_promoted_replica_with_the_primary_side_on_and_wait_no_slave_off_does_not_stall() {
    for seed in 0..4 {
        let mut m = promoted_with_the_primary_side_on(seed, false);
        run_to(&mut m, 19.0);
        assert_eq!(when(&m, NodeId::Db(1), NodeEvent::Promoted).len(), 1, "seed {seed}");
        assert_eq!(m.db_stats().semisync_fallbacks, 0, "seed {seed}: commits did not wait");
        let worst_s = m.metrics.latency_us.max() as f64 / 1e6;
        assert!(worst_s < 1.0, "seed {seed}: slowest request {worst_s} s");
    }
}

#[test]
fn semisync_resumes_on_a_new_primary_when_a_replica_connects() {
    for seed in 0..4 {
        let mut s = db_lab(seed, 200.0, 0.4);
        s.db.replicas = 2;
        s.db.replication = Replication::Semisync;
        s.db.failover = Failover::Auto;
        let mut m = sim(s);
        at(&mut m, 10.0, CommandKind::Kill { node: NodeId::Db(0) });
        run_to(&mut m, 20.0);
        let new = m.primary_index();
        let promoted = to_s(when(&m, NodeId::Db(new as u8), NodeEvent::Promoted)[0]);
        let on = when(&m, NodeId::Db(new as u8), NodeEvent::SemiSyncOn);
        assert_eq!(on.len(), 1, "seed {seed}");
        // The remaining replica is repointed at once; the next write sent to it switches it on.
        assert!(to_s(on[0]) >= promoted && to_s(on[0]) < promoted + 0.5, "on at {} s", to_s(on[0]));
        // Semi-sync protects again: killing the new primary loses no acknowledged write.
        at(&mut m, 20.0, CommandKind::Kill { node: NodeId::Db(new as u8) });
        run_to(&mut m, 35.0);
        let db = m.db_stats();
        assert_eq!((db.promotions, db.writes_lost, db.semisync_fallbacks), (2, 0, 0), "seed {seed}");
    }
}

#[test]
fn lag_is_unknown_while_the_primary_is_down_and_does_not_grow() {
    let mut s = db_lab(6, 200.0, 0.3);
    s.db.ship_latency_ms = 200.0;
    let mut m = sim(s);
    at(&mut m, 10.0, CommandKind::Kill { node: NodeId::Db(0) });
    run_to(&mut m, 9.9);
    assert!(matches!(m.reported_lag(1), ReportedLag::Ms(ms) if ms < 1_000.0));
    run_to(&mut m, 40.0);
    assert_eq!(m.reported_lag(1), ReportedLag::Unknown);
    assert_eq!(m.view(0).db[1].reported_lag, ReportedLag::Unknown);
    let db = m.db_stats();
    // The dashboard's worst lag stays what it was before the crash (about the shipping delay).
    assert!(db.replication_lag_ms_max < 1_000.0, "lag max {} ms", db.replication_lag_ms_max);
    assert!((db.replication_lag_unknown_s - 30.0).abs() <= 1.0, "unknown for {} s", db.replication_lag_unknown_s);
    let words = infrasim::render::format::db_role(&m.view(0).db[1]).0;
    assert!(words.contains("unknown"), "{words}");
}

/// Reads through the proxy, the link db1–db2 cut at 10 s: returns the reads db2 served in the
/// 2 s after the cut.
fn replica_reads_after_cut(max_lag_ms: f64) -> u64 {
    let mut s = db_lab(7, 300.0, 0.3);
    s.db.read_from = ReadFrom::Proxy;
    s.db.max_replication_lag_ms = max_lag_ms;
    let mut m = sim(s);
    let link = infrasim::sim::node::Link::new(NodeId::Db(0), NodeId::Db(1));
    at(&mut m, 10.0, CommandKind::Cut { link });
    // Queries already sent finish within a few milliseconds of the cut.
    run_to(&mut m, 10.1);
    let before = m.db_queries(1);
    run_to(&mut m, 12.1);
    assert_eq!(m.reported_lag(1), ReportedLag::Unknown);
    m.db_queries(1) - before
}

#[test]
fn the_proxy_counts_an_unknown_lag_as_60_s() {
    // Just after the cut the true lag is under a second: only the NULL rule shuns db2 when the
    // limit is 5 s; with a limit above 60 s it stays in use.
    assert_eq!(replica_reads_after_cut(5_000.0), 0, "shunned: unknown counts as 60 s");
    assert!(replica_reads_after_cut(90_000.0) > 100, "kept: 60 s is under the limit");
}

#[test]
fn monitoring_alerts_on_an_unknown_lag_at_the_first_check() {
    let mut s = db_lab(8, 200.0, 0.3);
    s.monitoring.enabled = true;
    s.monitoring.check_interval_ms = 1_000.0;
    s.monitoring.lag_alert_ms = 30_000.0;
    let mut m = sim(s);
    let link = infrasim::sim::node::Link::new(NodeId::Db(0), NodeId::Db(1));
    at(&mut m, 10.0, CommandKind::Cut { link });
    run_to(&mut m, 12.0);
    let alerts = m.monitor_view().alerts;
    let unknown = |a: &infrasim::sim::Alert| a.node == NodeId::Db(1) && a.kind == infrasim::sim::AlertKind::LagUnknown;
    assert!(alerts.iter().any(unknown), "{alerts:?}");
}

/// Every write read back at once by the same request; returns (read-backs, stale ones).
fn read_own_writes(read_from: ReadFrom, ship_latency_ms: f64, apply_rate_per_s: f64, ratio: f64) -> (u64, u64, u64) {
    let mut s = db_lab(9, 200.0, 0.3);
    s.traffic.read_own_write_ratio = ratio;
    s.db.read_from = read_from;
    s.db.ship_latency_ms = ship_latency_ms;
    s.db.apply_rate_per_s = apply_rate_per_s;
    s.network.lan_latency_ms = 0.5;
    assert!(s.validate().is_empty());
    let mut m = sim(s);
    run_to(&mut m, 30.0);
    let db = m.db_stats();
    (db.writes_acknowledged, db.read_own_write_reads, db.read_own_write_stale)
}

#[test]
fn reading_your_own_write_from_a_replica_is_stale_until_it_has_applied_it() {
    // 2 ms shipping plus 2.5 ms applying against 1 ms (reply and query hops): nearly always stale.
    let (writes, reads, stale) = read_own_writes(ReadFrom::Replica, 2.0, 400.0, 1.0);
    assert!(reads as f64 >= writes as f64 * 0.98, "every write is read back: {reads} of {writes}");
    assert!(stale as f64 > reads as f64 * 0.95, "{stale} of {reads} stale");
    // On the primary a read-back is never stale.
    let (_, reads, stale) = read_own_writes(ReadFrom::Primary, 2.0, 400.0, 1.0);
    assert!(reads > 1_000);
    assert_eq!(stale, 0);
    // A replica that has the write within 0.5 ms (no shipping delay, fast apply) is in time
    // for a read that needs two 0.5 ms hops.
    let (_, reads, stale) = read_own_writes(ReadFrom::Replica, 0.0, 1_000_000.0, 1.0);
    assert!(reads > 1_000);
    assert_eq!(stale, 0, "{stale} of {reads} stale");
    // Half the writes read back: the share is the ratio within 5 %.
    let (writes, reads, _) = read_own_writes(ReadFrom::Replica, 2.0, 400.0, 0.5);
    let share = reads as f64 / writes as f64;
    assert!((share - 0.5).abs() < 0.05, "read back {share} of writes");
    // Off by default: nothing is read back.
    assert_eq!(read_own_writes(ReadFrom::Replica, 2.0, 400.0, 0.0).1, 0);
}

#[test]
fn the_batch_runner_reports_divergence_and_rebuilds_and_read_own_write_staleness() {
    let (code, out, err) = infrasim(&[
        "run",
        "--set",
        "db.failover=auto",
        "--set",
        "db.ship_latency_ms=1000",
        "--set",
        "traffic.read_own_write_ratio=1",
        "--fault",
        "10s:kill:db1",
        "--fault",
        "20s:restore:db1",
        "--fault",
        "25s:rebuild:db1",
        "--duration-s",
        "40",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let events: Vec<&str> = v["timeline"].as_array().unwrap().iter().filter_map(|e| e["event"].as_str()).collect();
    assert!(events.contains(&"diverged"), "{events:?}");
    assert!(events.iter().any(|e| e.starts_with("rebuilt")), "{events:?}");
    assert!(v["db"]["errant_transactions"].as_u64().unwrap() > 0);
    assert!(v["db"]["read_own_write_stale"].as_u64().unwrap() > 0);
    assert!(v["db"]["replication_lag_unknown_s"].as_f64().unwrap() > 0.0);

    let (code, _, err) = infrasim(&["run", "--fault", "5s:rebuild:web1", "--duration-s", "10"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("web1") && err.contains("rebuilt"), "{err}");
    let (code, _, err) = infrasim(&["run", "--set", "traffic.read_own_write_ratio=2", "--duration-s", "10"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("traffic.read_own_write_ratio"), "{err}");
}

/// One replica applies 10 events/s under 100 writes/s for 1,500 s (135,000 positions behind at
/// the end, twice the kept history), the other keeps up: the kept commit times stay within
/// their bound, and both lags follow rate arithmetic.
#[test]
fn the_binlog_history_stays_bounded_under_a_replica_far_behind_and_lags_stay_right() {
    let (rate, slow_apply) = (100.0, 10.0);
    let mut s = db_lab(11, rate, 1.0);
    s.db.replicas = 2;
    s.db.apply_rate_per_s = 400.0;
    let mut m = sim(s);
    at(&mut m, 0.0, CommandKind::Slow { node: NodeId::Db(2), factor: 400.0 / slow_apply });
    let mut most = 0;
    for step in 1..=15 {
        let t = step as f64 * 100.0;
        run_to(&mut m, t);
        most = most.max(m.binlog_times_kept());
        // Applied ≈ slow_apply · t; that position committed at ≈ slow_apply · t / rate.
        let expected_ms = (t - slow_apply * t / rate) * 1_000.0;
        let lag_ms = m.replica_lag_ms(2);
        assert!(
            (lag_ms - expected_ms).abs() <= 0.01 * expected_ms,
            "at {t} s: lag {lag_ms} ms, expected {expected_ms}"
        );
        assert!(m.replica_lag_ms(1) < 1_000.0, "the fast replica's lag stays small: {} ms", m.replica_lag_ms(1));
    }
    assert!(most <= BINLOG_TIMES_CAPACITY, "kept {most} commit times");
    let behind = m.view(0).db[0].applied - m.view(0).db[2].applied;
    assert!(behind > 2 * BINLOG_TIMES_CAPACITY as u64, "only {behind} positions behind: the bound was not tested");
    assert!(m.db_stats().binlog_times_thinned > 0, "the bound being hit is counted");
}
