//! The course design's other weaknesses, made measurable: no TLS (a sniffer on the public link
//! reads requests in plaintext; with HTTPS the balancer pays a handshake per new session), no
//! firewall (probes from the internet reach the web servers and the database port directly),
//! and no monitoring (nobody learns that a node died).

use super::{Ev, ReqRef, Sim, Stage};
use crate::sim::node::NodeId;
use crate::sim::rng::{exponential_from, uniform};
use crate::sim::time::{from_ms, from_s, SimTime};
use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SecurityStats {
    /// Requests that crossed the internet readable by anyone on the path.
    pub plaintext_requests: u64,
    pub encrypted_requests: u64,
    /// Full TLS handshakes the balancer performed.
    pub tls_handshakes: u64,
    /// Outside connection attempts that reached a web server or the database directly.
    pub probes_reached: u64,
    /// Outside connection attempts the firewall dropped at the edge.
    pub probes_blocked: u64,
}

/// The latest request a sniffer on the clients ↔ balancer link saw: its fields, not its words
/// (`render::facts` writes what the sniffer reads).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnifferLine {
    pub request: u64,
    pub client: u32,
    pub write: bool,
    /// HTTPS was on: the sniffer sees only TLS records.
    pub encrypted: bool,
}

/// What monitoring noticed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AlertKind {
    Down,
    Recovered,
    /// A replica's lag passed the alert threshold.
    Lagging {
        lag_ms: f64,
    },
    /// A replica's lag is unknown: it receives nothing (counted as lagging).
    LagUnknown,
    /// A lagging replica is back under the threshold.
    CaughtUp,
}

/// One alert the monitoring system raised.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Alert {
    pub at: SimTime,
    pub node: NodeId,
    pub kind: AlertKind,
}

/// What the monitoring system believes and has said.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MonitorView {
    /// Nodes the monitoring system has seen down (empty when monitoring is off).
    pub known_down: Vec<NodeId>,
    /// The latest alerts, oldest first.
    pub alerts: Vec<Alert>,
}

/// One connection attempt from the internet to a web server or a database port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutsideProbe {
    /// Probes sent before this one (the page counts new ones by it).
    pub seq: u64,
    pub target: NodeId,
    pub sent_at: SimTime,
    /// When it reaches its target, or the edge where the firewall drops it.
    pub arrives_at: SimTime,
    /// Dropped by the firewall at the edge.
    pub blocked: bool,
}

/// Alerts kept for the dashboard.
pub(super) const ALERTS_KEPT: usize = 50;
/// Probes kept for drawing.
pub(super) const PROBES_KEPT: usize = 16;

impl Sim {
    /// HTTPS: a client without a live TLS session pays a full handshake at the balancer: one
    /// more round trip over the internet plus the balancer's CPU time.
    /// Returns true when the request must wait for the handshake first.
    pub(super) fn needs_handshake(&mut self, r: ReqRef) -> bool {
        if !self.scenario.security.https {
            return false;
        }
        let c = self.requests.get(r).client as usize;
        if c >= self.clients.tls_expiry.len() || self.kernel.now < self.clients.tls_expiry[c] {
            return false;
        }
        let delay = 2 * self.client_latency() + from_ms(self.scenario.security.tls_handshake_cpu_ms);
        self.clients.tls_expiry[c] = self.kernel.now + delay + from_s(self.scenario.security.tls_session_s);
        self.edge.security.tls_handshakes += 1;
        let now = self.kernel.now;
        let lb = self.requests.get(r).lb;
        let q = self.requests.get_mut(r);
        q.stage = Stage::Handshake;
        q.hop = (NodeId::Lb(lb), NodeId::Lb(lb));
        q.hop_start = now;
        self.kernel.queue.push(now + delay.max(1), Ev::HandshakeDone(r));
        true
    }

    /// A request crosses the public link: what a sniffer sees, and the count.
    pub(super) fn crossed_public_link(&mut self, r: ReqRef) {
        if self.scenario.security.https {
            self.edge.security.encrypted_requests += 1;
        } else {
            self.edge.security.plaintext_requests += 1;
        }
        let q = self.requests.get(r);
        let encrypted = self.scenario.security.https;
        self.edge.last_public = Some(SnifferLine { request: q.id, client: q.client, write: q.write, encrypted });
    }

    pub fn security_stats(&self) -> SecurityStats {
        self.edge.security.clone()
    }

    /// The latest request on the public link, as a sniffer there sees it.
    pub fn sniffer(&self) -> Option<SnifferLine> {
        self.edge.last_public.clone()
    }

    /// Outside probes arrive as a Poisson stream on their own random stream.
    pub(super) fn schedule_probe(&mut self) {
        let rate = self.scenario.security.probe_rate_per_s;
        if rate <= 0.0 {
            return;
        }
        let gap = exponential_from(uniform(&mut self.kernel.rngs.security), 1.0 / rate);
        let generation = self.edge.probe_timer.arm();
        self.kernel.queue.push(self.kernel.now + from_s(gap).max(1), Ev::Probe { generation });
    }

    #[inline(never)]
    pub(super) fn on_probe(&mut self) {
        self.schedule_probe();
        // Targets in turn: every web server and every database node (the MySQL port).
        let mut targets: Vec<NodeId> = (0..self.farm.servers.len() as u16)
            .filter(|&i| self.farm.servers[i as usize].active)
            .map(NodeId::Web)
            .collect();
        targets.extend((0..self.db.nodes.len() as u8).map(NodeId::Db));
        if targets.is_empty() {
            return;
        }
        let target = targets[(self.edge.probes_sent % targets.len() as u64) as usize];
        self.edge.probes_sent += 1;
        let blocked = self.scenario.security.firewall;
        if blocked {
            self.edge.security.probes_blocked += 1;
        } else {
            self.edge.security.probes_reached += 1;
        }
        let travel = self.client_latency().max(from_ms(20.0));
        let (seq, sent_at) = (self.edge.probes_sent - 1, self.kernel.now);
        self.edge.probes.push(OutsideProbe { seq, target, sent_at, arrives_at: sent_at + travel, blocked });
    }

    /// The latest outside probes, oldest first (at most `PROBES_KEPT`).
    pub fn recent_probes(&self) -> impl DoubleEndedIterator<Item = &OutsideProbe> {
        self.edge.probes.iter()
    }

    /// Start or stop the monitoring agents' reports.
    pub(super) fn schedule_monitoring(&mut self) {
        if !self.scenario.monitoring.enabled {
            self.monitoring.timer.cancel();
            self.monitoring.known_down.clear();
            self.monitoring.lag_alerted.clear();
            return;
        }
        let generation = self.monitoring.timer.arm();
        let interval = from_ms(self.scenario.monitoring.check_interval_ms).max(1);
        self.kernel.queue.push(self.kernel.now + interval, Ev::MonitorCheck { generation });
    }

    /// One round of monitoring reports: alert on nodes that went down or came back, and on
    /// replicas lagging past the threshold.
    #[inline(never)]
    pub(super) fn on_monitor_check(&mut self) {
        let generation = self.monitoring.timer.token();
        let interval = from_ms(self.scenario.monitoring.check_interval_ms).max(1);
        self.kernel.queue.push(self.kernel.now + interval, Ev::MonitorCheck { generation });
        let mut nodes = vec![NodeId::Dns];
        nodes.extend((0..self.balancers.lbs.len() as u8).map(NodeId::Lb));
        nodes.extend(
            (0..self.farm.servers.len() as u16).filter(|&i| self.farm.servers[i as usize].active).map(NodeId::Web),
        );
        nodes.extend((0..self.db.nodes.len() as u8).map(NodeId::Db));
        for node in nodes {
            let known = self.monitoring.known_down.contains(&node);
            let alive = self.is_alive(node);
            if !alive && !known {
                self.monitoring.known_down.push(node);
                self.alert(node, AlertKind::Down);
            } else if alive && known {
                self.monitoring.known_down.retain(|&n| n != node);
                self.alert(node, AlertKind::Recovered);
            }
        }
        let threshold = self.scenario.monitoring.lag_alert_ms;
        for n in 0..self.db.nodes.len() {
            // An unknown lag (nothing received) counts as ProxySQL's lag-when-NULL.
            let reported = self.reported_lag(n);
            let lag = reported.as_monitored_ms();
            let alerted = self.monitoring.lag_alerted.contains(&n);
            if lag > threshold && !alerted {
                self.monitoring.lag_alerted.push(n);
                let kind = match reported {
                    super::ReportedLag::Unknown => AlertKind::LagUnknown,
                    super::ReportedLag::Ms(_) => AlertKind::Lagging { lag_ms: lag },
                };
                self.alert(NodeId::Db(n as u8), kind);
            } else if lag <= threshold && alerted {
                self.monitoring.lag_alerted.retain(|&m| m != n);
                self.alert(NodeId::Db(n as u8), AlertKind::CaughtUp);
            }
        }
    }

    fn alert(&mut self, node: NodeId, kind: AlertKind) {
        self.monitoring.alerts.push(Alert { at: self.kernel.now, node, kind });
    }

    pub fn monitor_view(&self) -> MonitorView {
        if !self.scenario.monitoring.enabled {
            return MonitorView::default();
        }
        let alerts = self.monitoring.alerts.iter().copied().collect();
        MonitorView { known_down: self.monitoring.known_down.clone(), alerts }
    }

    /// Alerts raised since the start.
    pub fn alerts_total(&self) -> u64 {
        self.monitoring.alerts.len() as u64 + self.monitoring.alerts.dropped()
    }
}
