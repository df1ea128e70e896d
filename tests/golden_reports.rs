//! Bit-identity guard over the whole model: for every preset and a few fault-heavy designs, a
//! short fixed-seed run's batch-runner JSON report, a digest of its full trace, and the words
//! the page shows (alerts, the sniffer's line) must match the files in `tests/golden/reports/`.
//! Any change to event order, timing, randomness or a figure shows up here.
//! `INFRASIM_BLESS=1 cargo test --test golden_reports` rewrites the files.
#![cfg(not(target_arch = "wasm32"))]

use infrasim::render::facts;
use infrasim::scenario::{preset_names_v1, preset_v1, Failover, PairMode, Replication, Scenario};
use infrasim::sim::command::NodeClass;
use infrasim::sim::node::Link;
use infrasim::sim::time::from_s;
use infrasim::sim::{Command, CommandKind, NodeId, Report, Sim, TraceConfig};

/// Simulated seconds each case runs.
const RUN_S: f64 = 40.0;

/// 64-bit FNV-1a: a stable digest (std's hasher may change between Rust releases).
fn fnv1a(bytes: &[u8], mut hash: u64) -> u64 {
    for &b in bytes {
        hash ^= b as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// The run's observable output as text: report JSON, trace digest, the page's words.
fn observed(scenario: Scenario, commands: &[(f64, CommandKind)]) -> String {
    let mut sim = Sim::new(scenario, TraceConfig { enabled: true, capacity: usize::MAX });
    // The first command is scheduled ahead (it waits in the event queue); the others are
    // applied when the run reaches their time, as the page does (each is checked against the
    // design as it stands then).
    if let Some((at_s, what)) = commands.first() {
        sim.apply(Command { at_us: from_s(*at_s), what: what.clone() })
            .unwrap_or_else(|e| panic!("command {what:?} at {at_s} s refused: {e}"));
    }
    // Words are sampled along the run too, so the alert list's bound and the sniffer's
    // latest line are checked at several moments.
    let mut words = String::new();
    let mut samples: Vec<f64> = commands.iter().skip(1).map(|(at_s, _)| *at_s).collect();
    samples.extend([RUN_S / 3.0, 2.0 * RUN_S / 3.0, RUN_S]);
    samples.sort_by(f64::total_cmp);
    let mut next_command = commands.iter().skip(1).peekable();
    for at_s in samples {
        sim.run_until(from_s(at_s), u64::MAX);
        match next_command.peek() {
            Some((command_s, what)) if *command_s == at_s => {
                sim.apply(Command { at_us: from_s(at_s), what: what.clone() })
                    .unwrap_or_else(|e| panic!("command {what:?} at {at_s} s refused: {e}"));
                next_command.next();
            }
            _ => words.push_str(&page_words(&sim)),
        }
    }
    let lines = sim.trace.lines();
    let digest = lines.iter().fold(FNV_OFFSET, |h, line| fnv1a(b"\n", fnv1a(line.as_bytes(), h)));
    let report = serde_json::to_string_pretty(&Report::from_sim(&sim)).expect("report serializes");
    let head: Vec<&str> = lines.iter().take(40).map(String::as_str).collect();
    format!(
        "{report}\ntrace_lines: {}\ntrace_fnv1a64: {digest:016x}\n--- trace head\n{}\n--- page words\n{words}",
        lines.len(),
        head.join("\n")
    )
}

/// What the page prints from the model at this moment: monitoring's alerts and the sniffer.
fn page_words(sim: &Sim) -> String {
    let mut out = format!("at {} us\n", sim.now());
    let monitor = sim.monitor_view();
    out.push_str(&format!("known down: {:?}\n", monitor.known_down));
    for alert in &monitor.alerts {
        out.push_str(&format!("alert: {}\n", facts::alert_line(alert)));
    }
    if let Some(line) = sim.sniffer() {
        out.push_str(&format!(
            "sniffer: #{} encrypted={} {}\n",
            line.request,
            line.encrypted,
            facts::sniffed_text(&line)
        ));
    }
    out
}

fn check(name: &str, scenario: Scenario, commands: &[(f64, CommandKind)]) {
    let text = observed(scenario, commands);
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/reports");
    let path = format!("{dir}/{name}.txt");
    if std::env::var_os("INFRASIM_BLESS").is_some() {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(&path, &text).unwrap();
    }
    let golden =
        std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{path} missing (INFRASIM_BLESS=1 writes it)"));
    if text != golden {
        let first = text.lines().zip(golden.lines()).position(|(a, b)| a != b);
        panic!("{name}: output differs from tests/golden/reports/{name}.txt (first differing line {first:?})");
    }
}

/// A preset as link format 1 knew it (before machines: one box per node), so these files keep
/// guarding the engine's bits whatever the current presets become.
fn seeded(name: &str) -> Scenario {
    let mut s = preset_v1(name).unwrap_or_else(|| panic!("preset {name}"));
    s.seed = 4242;
    s.warmup_s = 2.0;
    s
}

fn kill(node: NodeId) -> CommandKind {
    CommandKind::Kill { node }
}

fn restore(node: NodeId) -> CommandKind {
    CommandKind::Restore { node }
}

#[test]
fn every_preset_matches_its_golden_report() {
    for name in preset_names_v1() {
        check(&format!("preset_{name}"), seeded(name), &[]);
    }
}

/// Today's presets, machines and all (their files were written when machines came in), with a
/// whole machine failing and coming back in each design that lists machines.
#[test]
fn every_current_preset_matches_its_golden_report() {
    for name in infrasim::scenario::preset_names() {
        let mut s = infrasim::scenario::preset(name).unwrap_or_else(|| panic!("preset {name}"));
        s.seed = 4242;
        s.warmup_s = 2.0;
        let faults: Vec<(f64, CommandKind)> = match s.machines.get(1) {
            Some(m) => vec![
                (10.0, CommandKind::KillMachine { machine: m.id.clone() }),
                (25.0, CommandKind::RestoreMachine { machine: m.id.clone() }),
            ],
            None => Vec::new(),
        };
        check(&format!("current_{name}"), s, &faults);
    }
}

/// A web server killed and restored, slowed, and the farm reshaped by commands.
#[test]
fn web_faults_and_commands_match_golden() {
    use infrasim::scenario::Algorithm;
    let mut s = seeded("three-server");
    s.traffic.arrival_rate_per_s = 150.0;
    s.balancer.slowstart_ms = 3_000.0;
    s.balancer.redispatch = true;
    s.balancer.maxqueue = 30;
    s.balancer.timeout_queue_ms = 400.0;
    for w in &mut s.web.servers {
        w.maxconn = 4;
        w.workers = 2;
    }
    let commands = [
        (3.0, kill(NodeId::Web(0))),
        (6.0, CommandKind::SetServerCount { count: 4 }),
        (8.0, CommandKind::Slow { node: NodeId::Web(1), factor: 3.0 }),
        (9.0, CommandKind::SetWeight { server: 2, weight: 3 }),
        (10.0, restore(NodeId::Web(0))),
        (12.0, CommandKind::SetAlgorithm { algorithm: Algorithm::Leastconn }),
        (13.0, CommandKind::SetBackup { server: 3, backup: true }),
        (14.0, CommandKind::SetMaxconn { maxconn: 2 }),
        (15.0, CommandKind::SetTimeoutQueue { ms: 150.0 }),
        (16.0, CommandKind::SetAlgorithm { algorithm: Algorithm::StaticRr }),
        (17.0, CommandKind::SetWeight { server: 1, weight: 0 }),
        (18.0, CommandKind::SetAlgorithm { algorithm: Algorithm::Source }),
        (19.0, CommandKind::SetRetries { retries: 1 }),
        (20.0, CommandKind::Cut { link: Link::new(NodeId::Lb(0), NodeId::Web(2)) }),
        (22.0, CommandKind::SetServerCount { count: 2 }),
        (23.0, CommandKind::SetAllBackups { on: true }),
        (24.0, CommandKind::Heal { link: Link::new(NodeId::Lb(0), NodeId::Web(2)) }),
        (25.0, CommandKind::SetAlgorithm { algorithm: Algorithm::Random }),
        (26.0, CommandKind::SetArrivalRate { per_s: 60.0 }),
    ];
    check("web_faults", s, &commands);
}

/// The primary dies: automatic failover promotes a replica; the old primary returns unfenced
/// (a second primary), is rebuilt, and a replica is slowed.
#[test]
fn database_failover_matches_golden() {
    let mut s = seeded("three-server");
    s.db.replicas = 2;
    s.db.failover = Failover::Auto;
    s.db.fencing = false;
    s.db.apply_rate_per_s = 150.0;
    s.traffic.read_own_write_ratio = 0.3;
    let commands = [
        (4.0, kill(NodeId::Db(0))),
        (9.0, CommandKind::Slow { node: NodeId::Db(2), factor: 4.0 }),
        (12.0, restore(NodeId::Db(0))),
        (18.0, CommandKind::Rebuild { node: NodeId::Db(0) }),
        (20.0, CommandKind::SetApplyRate { per_s: 600.0 }),
        (21.0, CommandKind::SetReadFrom { mode: infrasim::scenario::ReadFrom::Proxy }),
        (22.0, kill(NodeId::Db(1))),
        (26.0, restore(NodeId::Db(1))),
    ];
    check("db_failover", s, &commands);
}

/// Semi-sync with a short timeout: replicas cut off and killed, fallbacks, switches of mode.
#[test]
fn semisync_matches_golden() {
    let mut s = seeded("three-server");
    s.db.replicas = 2;
    s.db.replication = Replication::Semisync;
    s.db.semisync_timeout_ms = 700.0;
    s.db.failover = Failover::Auto;
    let commands = [
        (3.0, CommandKind::Cut { link: Link::new(NodeId::Db(0), NodeId::Db(1)) }),
        (5.0, kill(NodeId::Db(2))),
        (9.0, CommandKind::Heal { link: Link::new(NodeId::Db(0), NodeId::Db(1)) }),
        (11.0, restore(NodeId::Db(2))),
        (14.0, CommandKind::SetReplication { mode: Replication::Async }),
        (16.0, CommandKind::SetReplication { mode: Replication::Semisync }),
        (18.0, kill(NodeId::Db(0))),
        (25.0, CommandKind::SetFencing { on: false }),
        (26.0, restore(NodeId::Db(0))),
    ];
    check("semisync", s, &commands);
}

/// The VRRP pair: the master killed and restored, a planned stop, then the pair's link cut
/// (split brain) and healed.
#[test]
fn vrrp_pair_matches_golden() {
    let mut s = seeded("high-availability");
    s.vrrp.preempt_delay_s = 2.0;
    let commands = [
        (3.0, kill(NodeId::Lb(0))),
        (7.0, restore(NodeId::Lb(0))),
        (11.0, CommandKind::Stop { node: NodeId::Lb(0) }),
        (14.0, restore(NodeId::Lb(0))),
        (17.0, CommandKind::Cut { link: Link::new(NodeId::Lb(0), NodeId::Lb(1)) }),
        (23.0, CommandKind::Heal { link: Link::new(NodeId::Lb(0), NodeId::Lb(1)) }),
        (25.0, kill(NodeId::Dns)),
        (27.0, restore(NodeId::Dns)),
    ];
    check("vrrp_pair", s, &commands);
}

/// Active-active balancers behind DNS: a balancer dies and returns, clients keep stale answers.
#[test]
fn dns_pair_matches_golden() {
    let mut s = seeded("three-server");
    s.balancer.pair = true;
    s.balancer.pair_mode = PairMode::Dns;
    s.network.dns_ttl_s = 5.0;
    s.traffic.clients = 40;
    let commands = [(4.0, kill(NodeId::Lb(1))), (12.0, restore(NodeId::Lb(1))), (20.0, kill(NodeId::Lb(0)))];
    check("dns_pair", s, &commands);
}

/// HTTPS, firewall and monitoring with outside probes, alerts on deaths and on lag.
#[test]
fn security_and_monitoring_match_golden() {
    let mut s = seeded("secured-monitored");
    // No firewall until 8 s: the preset's three machine firewalls are taken off too.
    s.security.firewall = false;
    s.security.firewalls = Default::default();
    s.security.probe_rate_per_s = 4.0;
    s.security.tls_session_s = 3.0;
    s.traffic.clients = 30;
    s.monitoring.check_interval_ms = 500.0;
    s.monitoring.lag_alert_ms = 300.0;
    s.db.apply_rate_per_s = 20.0;
    let commands = [
        (3.0, kill(NodeId::Web(1))),
        (6.0, restore(NodeId::Web(1))),
        (8.0, CommandKind::SetFirewall { on: true }),
        (10.0, CommandKind::SetHttps { on: false }),
        (12.0, kill(NodeId::Db(1))),
        (15.0, CommandKind::SetMonitoring { on: false }),
        (17.0, restore(NodeId::Db(1))),
        (19.0, CommandKind::SetMonitoring { on: true }),
        (20.0, CommandKind::SetApplyRate { per_s: 2_000.0 }),
        (22.0, CommandKind::SetHttps { on: true }),
        (24.0, CommandKind::SetFirewall { on: false }),
    ];
    check("security_monitoring", s, &commands);
}

/// Random failures of every class, with a rate changed during the run.
#[test]
fn random_failures_match_golden() {
    let mut s = seeded("high-availability");
    s.failures.web.mtbf_s = 8.0;
    s.failures.web.mttr_s = 3.0;
    s.failures.db.mtbf_s = 15.0;
    s.failures.db.mttr_s = 4.0;
    s.failures.lb.mtbf_s = 12.0;
    s.failures.lb.mttr_s = 2.0;
    s.failures.dns.mtbf_s = 20.0;
    s.failures.dns.mttr_s = 1.0;
    s.traffic.burst.enabled = true;
    s.traffic.burst.period_s = 6.0;
    s.traffic.burst.duration_s = 2.0;
    s.traffic.burst.multiplier = 3.0;
    let commands = [
        (10.0, CommandKind::SetFailureRate { class: NodeClass::Web, mtbf_s: 4.0, mttr_s: 2.0 }),
        (20.0, CommandKind::SetFailureRate { class: NodeClass::Db, mtbf_s: 0.0, mttr_s: 1.0 }),
    ];
    check("random_failures", s, &commands);
}
