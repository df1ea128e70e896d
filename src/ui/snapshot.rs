//! What the Yew-rendered part of the page shows, copied out of the model ~10 times a second so
//! components get plain props and never hold a borrow of the model while rendering.

use super::topology::FrameStats;
// The words moved to render::format; still reachable here for the panels that import them so.
pub use crate::render::format::cause_words;
use crate::scenario::{Algorithm, Failover, Failures, PairMode, ReadFrom, Replication};
use crate::sim::design;
use crate::sim::metrics::{FailCause, Sample};
use crate::sim::node::Link;
use crate::sim::trace::{TraceEvent, TraceKind};
use crate::sim::view::{DbView, LbView, WebView};
use crate::sim::{Alert, Command, Driver, NodeId, SecurityStats, SimTime, SnifferLine};

/// Newest trace lines kept for the event log.
pub const LOG_LINES: usize = 50;
/// Seconds of history the dashboard charts show.
pub const CHART_SECONDS: usize = 60;

/// The database settings and results the page shows.
#[derive(Clone, Debug, PartialEq)]
pub struct DbFigures {
    pub enabled: bool,
    pub replicas: u32,
    pub replication: Replication,
    pub read_from: ReadFrom,
    pub failover: Failover,
    pub fencing: bool,
    pub apply_rate_per_s: f64,
    pub writes_acknowledged: u64,
    pub writes_lost: u64,
    pub stale_reads: u64,
    pub lag_max_ms: f64,
    pub promotions: u64,
    pub split_brain_s: f64,
    pub semisync_fallbacks: u64,
    /// Commit times the bounded binlog history dropped (lag interpolated past them).
    pub binlog_times_thinned: u64,
}

/// The high-availability settings the page shows.
#[derive(Clone, Debug, PartialEq)]
pub struct HaSettings {
    pub pair: bool,
    pub pair_mode: PairMode,
    pub allbackups: bool,
    pub retries: u32,
    pub redispatch: bool,
    pub fall: u32,
    pub rise: u32,
    pub failures: Failures,
    pub lb_split_brain_s: f64,
}

/// Security and monitoring: the switches and what they let one see.
#[derive(Clone, Debug, PartialEq)]
pub struct Watch {
    pub https: bool,
    pub firewall: bool,
    pub monitoring: bool,
    pub sniffer: Option<SnifferLine>,
    pub plaintext_requests: u64,
    pub encrypted_requests: u64,
    pub tls_handshakes: u64,
    pub probes_reached: u64,
    pub probes_blocked: u64,
    /// The balancer-to-server hop: re-encrypted or not, what crossed it, and what a sniffer in
    /// the data centre read last.
    pub backend_tls: bool,
    pub backend_plaintext_requests: u64,
    pub backend_encrypted_requests: u64,
    pub backend_sniffer: Option<SnifferLine>,
    /// Outside probes machine by machine, and the machines with a firewall of their own.
    pub probes_by_machine: Vec<crate::sim::MachineProbes>,
    pub firewalls: Vec<String>,
    /// Machines with no firewall.
    pub unprotected_machines: usize,
    pub known_down: Vec<NodeId>,
    pub alerts: Vec<Alert>,
    pub lag_alert_ms: f64,
}

impl Watch {
    fn new(stats: SecurityStats) -> Watch {
        Watch {
            https: false,
            firewall: false,
            monitoring: false,
            sniffer: None,
            plaintext_requests: stats.plaintext_requests,
            encrypted_requests: stats.encrypted_requests,
            tls_handshakes: stats.tls_handshakes,
            probes_reached: stats.probes_reached,
            probes_blocked: stats.probes_blocked,
            backend_tls: false,
            backend_plaintext_requests: stats.backend_plaintext_requests,
            backend_encrypted_requests: stats.backend_encrypted_requests,
            backend_sniffer: None,
            probes_by_machine: stats.probes_by_machine,
            firewalls: Vec::new(),
            unprotected_machines: 0,
            known_down: Vec::new(),
            alerts: Vec::new(),
            lag_alert_ms: 0.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub now_us: SimTime,
    pub paused: bool,
    pub speed: f64,
    pub algorithm: Algorithm,
    pub random_draws: u32,
    pub rate_per_s: f64,
    pub write_ratio: f64,
    /// Servers in the farm, in order (removed ones left out).
    pub servers: Vec<WebView>,
    pub db: Vec<DbView>,
    pub balancer_queue: u32,
    /// The balancer whose queue that is: the one holding the floating IP (or taking traffic);
    /// `None` when the design has no balancer.
    pub queue_holder: Option<NodeId>,
    /// Completed requests in the last whole simulated second.
    pub throughput_per_s: Option<u32>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub arrived: u64,
    pub completed: u64,
    pub failed: u64,
    /// (cause, count) for every cause seen.
    pub failed_by_cause: Vec<(FailCause, u64)>,
    pub in_flight: u64,
    /// Requests on links now, and how many of them the canvas draws.
    pub travelling: usize,
    pub commands: usize,
    /// Newest first.
    pub log: Vec<String>,
    /// The node the event log is filtered to.
    pub log_filter: Option<NodeId>,
    pub frame: FrameStats,
    pub seed: u64,
    pub lbs: Vec<LbView>,
    pub lb_pair_dns: bool,
    pub split_brain: bool,
    /// The duplicate floating IP in words, while there is one.
    pub duplicate_address: Option<String>,
    pub dns_alive: bool,
    pub cut_links: Vec<Link>,
    pub ha: HaSettings,
    pub dbf: DbFigures,
    pub watch: Watch,
    /// The newest seconds of the per-second series, oldest first.
    pub series: Vec<Sample>,
    /// The node picked on the canvas or in the selector.
    pub selected: Option<NodeId>,
    /// Every node of the running design, in the page's order ([`design::nodes`]).
    pub design_nodes: Vec<NodeId>,
    /// Every link of the running design, in the page's order ([`design::links`]).
    pub design_links: Vec<Link>,
}

impl Snapshot {
    pub fn take(driver: &Driver, frame: FrameStats, selected: Option<NodeId>, log_filter: Option<NodeId>) -> Snapshot {
        let sim = &driver.sim;
        let view = sim.view(0);
        let sc = sim.scenario();
        let stats = sim.db_stats();
        let skip = sim.metrics.series.len().saturating_sub(CHART_SECONDS);
        let last = sim.metrics.series.last();
        let all = &sim.metrics.all;
        let latency = |v: f64| if last.is_some_and(|s| s.completed > 0) { Some(v) } else { None };
        Snapshot {
            now_us: view.now_us,
            paused: driver.paused(),
            speed: driver.speed(),
            algorithm: view.algorithm,
            random_draws: sim.scenario().balancer.random_draws,
            rate_per_s: view.arrival_rate_per_s,
            write_ratio: view.write_ratio,
            servers: view.web.iter().filter(|w| w.active).cloned().collect(),
            db: view.db.clone(),
            balancer_queue: view.balancer_queue,
            queue_holder: view.lbs.iter().find(|l| l.holds_ip).or(view.lbs.first()).map(|l| l.id),
            throughput_per_s: last.map(|s| s.completed),
            p50_ms: last.and_then(|s| latency(s.latency_p50_ms)),
            p99_ms: last.and_then(|s| latency(s.latency_p99_ms)),
            arrived: all.arrived,
            completed: all.completed,
            failed: all.failed(),
            failed_by_cause: FailCause::ALL
                .iter()
                .map(|c| (*c, all.failed_by_cause[*c as usize]))
                .filter(|(_, n)| *n > 0)
                .collect(),
            in_flight: all.in_flight(),
            travelling: view.travelling,
            commands: sim.commands().len(),
            log: sim
                .trace
                .events()
                .rev()
                .filter(|e| log_filter.is_none_or(|n| e.concerns(n, sim.commands())))
                .take(LOG_LINES)
                .map(|e| log_line(e, sim.commands()))
                .collect(),
            log_filter,
            frame,
            seed: sc.seed,
            lbs: view.lbs.clone(),
            lb_pair_dns: view.lb_pair_dns,
            split_brain: view.split_brain,
            duplicate_address: view.duplicate_address.as_ref().map(crate::render::facts::duplicate_address_text),
            dns_alive: view.dns_alive,
            cut_links: view.cut_links.clone(),
            ha: HaSettings {
                pair: sc.balancer.pair,
                pair_mode: sc.balancer.pair_mode,
                allbackups: sc.balancer.allbackups,
                retries: sc.balancer.retries,
                redispatch: sc.balancer.redispatch,
                fall: sc.balancer.health.fall,
                rise: sc.balancer.health.rise,
                failures: sc.failures.clone(),
                lb_split_brain_s: sim.split_brain_s(),
            },
            dbf: DbFigures {
                enabled: sc.db.enabled,
                replicas: sc.db.replicas,
                replication: sc.db.replication,
                read_from: sc.db.read_from,
                failover: sc.db.failover,
                fencing: sc.db.fencing,
                apply_rate_per_s: sc.db.apply_rate_per_s,
                writes_acknowledged: stats.writes_acknowledged,
                writes_lost: stats.writes_lost,
                stale_reads: stats.stale_reads,
                lag_max_ms: stats.replication_lag_ms_max,
                promotions: stats.promotions,
                split_brain_s: stats.split_brain_s,
                semisync_fallbacks: stats.semisync_fallbacks,
                binlog_times_thinned: stats.binlog_times_thinned,
            },
            watch: Watch {
                https: view.https,
                firewall: view.firewall,
                monitoring: view.monitoring,
                sniffer: view.sniffer.clone(),
                known_down: view.monitor.known_down.clone(),
                alerts: view.monitor.alerts.clone(),
                lag_alert_ms: sc.monitoring.lag_alert_ms,
                firewalls: sc.security.firewalls.0.clone(),
                backend_tls: sc.security.backend_tls,
                backend_sniffer: sim.backend_sniffer(),
                unprotected_machines: view.machines.iter().filter(|m| !m.firewall).count(),
                ..Watch::new(sim.security_stats())
            },
            series: sim.metrics.series.iter().skip(skip).cloned().collect(),
            selected,
            design_nodes: design::nodes(sc),
            design_links: design::links(sc),
        }
    }
}

/// A trace line for the log; a command's line also says what the command was.
fn log_line(event: &TraceEvent, commands: &[Command]) -> String {
    let line = event.to_string().trim_start().to_string();
    let TraceKind::Command(index) = event.kind else { return line };
    let Some(command) = commands.get(index as usize) else { return line };
    // A command serialises as `"pause"` or `{"set_weight":{"server":0,"weight":3}}`.
    match serde_json::to_value(&command.what) {
        Ok(serde_json::Value::String(op)) => format!("{line}: {}", op.replace('_', " ")),
        Ok(serde_json::Value::Object(outer)) => {
            let mut text = line;
            for (op, inner) in &outer {
                text.push_str(": ");
                text.push_str(&op.replace('_', " "));
                if let serde_json::Value::Object(fields) = inner {
                    for (key, value) in fields {
                        let value = value.as_str().map_or_else(|| value.to_string(), str::to_string);
                        text.push_str(&format!(" {key}={value}"));
                    }
                }
            }
            text
        }
        _ => line,
    }
}
