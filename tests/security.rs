//! The seeds' other weaknesses as switches that change what the model counts: HTTPS (and its
//! handshake cost), the firewall, and monitoring.
#![cfg(not(target_arch = "wasm32"))]

use infrasim::render::facts::sniffed_text;
use infrasim::scenario::{preset, ReadFrom, Replication, Scenario};
use infrasim::sim::time::from_s;
use infrasim::sim::{AlertKind, Command, CommandKind, NodeId, Report, Sim, TraceConfig};

fn sim(s: Scenario) -> Sim {
    Sim::new(s, TraceConfig { enabled: false, capacity: 1 })
}

fn now(m: &mut Sim, what: CommandKind) {
    m.apply(Command { at_us: m.now(), what }).unwrap();
}

#[test]
fn without_https_a_sniffer_reads_requests_and_with_it_only_ciphertext() {
    let mut m = sim(preset("three-server").unwrap());
    m.run_until(from_s(5.0), u64::MAX);
    let plain = m.view(0).sniffer.unwrap();
    assert!(!plain.encrypted);
    let text = sniffed_text(&plain);
    assert!(text.contains("Cookie: session="), "{text}");
    now(&mut m, CommandKind::SetHttps { on: true });
    m.run_until(from_s(10.0), u64::MAX);
    let sealed = m.view(0).sniffer.unwrap();
    assert!(sealed.encrypted);
    let text = sniffed_text(&sealed);
    assert!(!text.contains("Cookie") && text.starts_with("TLS"), "{text}");
    let stats = m.security_stats();
    assert!(stats.plaintext_requests > 300 && stats.encrypted_requests > 300, "{stats:?}");
    assert!(stats.tls_handshakes > 0);
}

#[test]
fn https_costs_one_round_trip_per_new_session() {
    let latency = |https: bool, session_s: f64| {
        let mut s = preset("three-server").unwrap();
        s.security.https = https;
        s.security.tls_session_s = session_s;
        s.security.tls_handshake_cpu_ms = 1.0;
        s.network.dns_ttl_s = 1e6; // keep DNS out of the comparison
        s.warmup_s = 20.0;
        let mut m = sim(s);
        m.run_until(from_s(200.0), u64::MAX);
        Report::from_sim(&m).latency_ms.mean
    };
    let plain = latency(false, 0.0);
    // Sessions of 0 s: every request pays 2 × 20 ms (a round trip to the client) + 1 ms CPU.
    let every = latency(true, 0.0);
    assert!((every - plain - 41.0).abs() < 2.0, "plain {plain} ms, always-handshake {every} ms");
    // Long sessions: the handshake is rare and the cost almost vanishes.
    let reused = latency(true, 3_600.0);
    assert!(reused - plain < 2.0, "plain {plain} ms, resumed sessions {reused} ms");
}

#[test]
fn the_firewall_decides_whether_outside_probes_reach_the_database() {
    for firewall in [false, true] {
        let mut s = preset("three-server").unwrap();
        s.security.firewall = firewall;
        s.security.probe_rate_per_s = 10.0;
        let mut m = sim(s);
        m.run_until(from_s(60.0), u64::MAX);
        let stats = m.security_stats();
        let total = stats.probes_reached + stats.probes_blocked;
        assert!((total as f64 - 600.0).abs() < 100.0, "about 10 probes per second: {total}");
        if firewall {
            assert_eq!(stats.probes_reached, 0);
        } else {
            assert_eq!(stats.probes_blocked, 0);
        }
    }
    // The probes run on their own random stream: the traffic is the same either way.
    let traffic = |firewall: bool| {
        let mut s = preset("three-server").unwrap();
        s.security.firewall = firewall;
        let mut m = sim(s);
        m.run_until(from_s(30.0), u64::MAX);
        Report::from_sim(&m).requests.arrived
    };
    assert_eq!(traffic(false), traffic(true));
}

#[test]
fn monitoring_alerts_on_failures_and_lag_and_is_blind_when_off() {
    for enabled in [true, false] {
        let mut s = preset("three-server").unwrap();
        s.monitoring.enabled = enabled;
        s.db.apply_rate_per_s = 15.0; // writes (20/s) outpace the replica: lag grows
        let mut m = sim(s);
        m.apply(Command { at_us: from_s(10.0), what: CommandKind::Kill { node: NodeId::Web(1) } }).unwrap();
        m.run_until(from_s(30.0), u64::MAX);
        let view = m.view(0).monitor;
        if enabled {
            assert_eq!(view.known_down, vec![NodeId::Web(1)]);
            let raised =
                |node: NodeId, kind: fn(AlertKind) -> bool| view.alerts.iter().any(|a| a.node == node && kind(a.kind));
            assert!(raised(NodeId::Web(1), |k| k == AlertKind::Down), "{:?}", view.alerts);
            let lagging = |k| matches!(k, AlertKind::Lagging { .. } | AlertKind::LagUnknown);
            assert!(raised(NodeId::Db(1), lagging), "{:?}", view.alerts);
        } else {
            assert!(view.known_down.is_empty() && view.alerts.is_empty());
            assert_eq!(m.alerts_total(), 0);
        }
    }
}

#[test]
fn database_settings_change_live() {
    let mut m = sim(preset("three-server").unwrap());
    m.run_until(from_s(5.0), u64::MAX);
    now(&mut m, CommandKind::SetReadFrom { mode: ReadFrom::Primary });
    now(&mut m, CommandKind::SetReplication { mode: Replication::Semisync });
    now(&mut m, CommandKind::SetApplyRate { per_s: 50.0 });
    let replica_reads = m.view(0).db[1].received;
    m.run_until(from_s(15.0), u64::MAX);
    let s = m.scenario();
    assert_eq!(
        (s.db.read_from, s.db.replication, s.db.apply_rate_per_s),
        (ReadFrom::Primary, Replication::Semisync, 50.0)
    );
    assert!(m.view(0).db[1].received > replica_reads, "replication continues");
    assert_eq!(m.db_stats().stale_reads, 0, "reads on the primary are never stale");
    m.check_invariants().unwrap();
}
