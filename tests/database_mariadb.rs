//! The four places where the database tier differed from a real MariaDB 10.11 (issue 18):
//! a returning old primary with errant transactions is diverged until rebuilt; semi-sync on a
//! new primary waits for a replica instead of stalling; a replica that receives nothing has an
//! unknown lag, counted as ProxySQL's 60 s; a write read back at once shows staleness.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{at, sim, when};
use infrasim::scenario::{preset, Failover, ReadFrom, Replication, Scenario, WebServer};
use infrasim::sim::time::{from_s, to_s};
use infrasim::sim::trace::NodeEvent;
use infrasim::sim::{CommandKind, DbRole, NodeId, Report, ReportedLag, Sim, REBUILD_POSITIONS_PER_S, REBUILD_SETUP_MS};

/// Enough web capacity that the database is what the test is about.
fn db_lab(seed: u64, rate: f64, write_ratio: f64) -> Scenario {
    let mut s = preset("three-server").unwrap();
    s.seed = seed;
    s.traffic.arrival_rate_per_s = rate;
    s.traffic.write_ratio = write_ratio;
    s.web.servers = vec![WebServer { workers: 32, service_time_ms: 5.0, ..WebServer::default() }; 4];
    s.db.workers = 64;
    s.db.read_time_ms = 1.0;
    s.db.write_time_ms = 1.0;
    s
}

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
    assert!(alerts.iter().any(|a| a.contains("db2 replication lag unknown")), "{alerts:?}");
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

fn infrasim(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_infrasim")).args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
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
