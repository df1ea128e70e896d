//! The course design's other weaknesses, made measurable: no TLS (a sniffer on the public link
//! reads requests in plaintext; with HTTPS the balancer pays a handshake per new session), no
//! firewall (probes from the internet reach the web servers and the database port directly),
//! and no monitoring (nobody learns that a node died).

use super::{Ev, ReqRef, Sim, Stage};
use crate::sim::node::NodeId;
use crate::sim::rng::{exponential_from, mix64, uniform};
use crate::sim::time::{from_ms, from_s, to_s, SimTime};
use crate::sim::view::{Particle, ParticleKind};
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

/// What a sniffer on the clients ↔ balancer link reads from the latest request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnifferLine {
    pub request: u64,
    pub text: String,
    pub encrypted: bool,
}

/// What the monitoring system believes and has said.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MonitorView {
    /// Nodes the monitoring system has seen down (empty when monitoring is off).
    pub known_down: Vec<NodeId>,
    /// The latest alerts, oldest first, each with its simulated time.
    pub alerts: Vec<String>,
}

/// A probe from the internet, for drawing.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Probe {
    target: NodeId,
    start: SimTime,
    end: SimTime,
    blocked: bool,
}

/// Alerts kept for the dashboard.
const ALERTS_KEPT: usize = 50;
/// Probes kept for drawing.
const PROBES_KEPT: usize = 16;

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
        self.edge.last_public = Some((
            self.requests.get(r).id,
            self.requests.get(r).client,
            self.requests.get(r).write,
            self.scenario.security.https,
        ));
    }

    pub fn security_stats(&self) -> SecurityStats {
        self.edge.security.clone()
    }

    /// The sniffer's reading of the latest request on the public link.
    pub fn sniffer(&self) -> Option<SnifferLine> {
        let (request, client, write, encrypted) = self.edge.last_public?;
        let text = if encrypted {
            // TLS records: the sniffer sees only opaque bytes.
            let mut bytes = String::from("TLS 1.3 application data: ");
            let mut x = mix64(request);
            for _ in 0..12 {
                bytes.push_str(&format!("{:02x} ", x & 0xff));
                x = mix64(x);
            }
            bytes.push('…');
            bytes
        } else if write {
            format!(
                "POST /account/settings HTTP/1.1  Host: www.foobar.com  Cookie: session={:016x}  email=user{client}@example.com&password=hunter{}",
                mix64(client as u64),
                client % 100
            )
        } else {
            format!(
                "GET /products/{} HTTP/1.1  Host: www.foobar.com  Cookie: session={:016x}",
                request % 997,
                mix64(client as u64)
            )
        };
        Some(SnifferLine { request, text, encrypted })
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
        if self.edge.probes.len() == PROBES_KEPT {
            self.edge.probes.remove(0);
        }
        self.edge.probes.push(Probe { target, start: self.kernel.now, end: self.kernel.now + travel, blocked });
    }

    /// Probes in flight, for drawing: from the internet to their target, or to the edge (the
    /// balancer's side) where the firewall drops them.
    pub fn probe_particles(&self) -> Vec<Particle> {
        self.edge
            .probes
            .iter()
            .filter(|p| self.kernel.now < p.end)
            .enumerate()
            .map(|(k, p)| {
                let span = (p.end - p.start).max(1);
                let progress = ((self.kernel.now - p.start) as f64 / span as f64).min(1.0) as f32;
                let to = if p.blocked { NodeId::Lb(0) } else { p.target };
                Particle {
                    request: k as u64,
                    from: NodeId::Clients,
                    to,
                    progress,
                    kind: ParticleKind::Error,
                    reply: false,
                }
            })
            .collect()
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
                self.alert(format!("{node} is down"));
            } else if alive && known {
                self.monitoring.known_down.retain(|&n| n != node);
                self.alert(format!("{node} recovered"));
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
                let text = match reported {
                    super::ReportedLag::Unknown => format!("db{} replication lag unknown (nothing received)", n + 1),
                    super::ReportedLag::Ms(_) => format!("db{} replication lag {:.1} s", n + 1, lag / 1_000.0),
                };
                self.alert(text);
            } else if lag <= threshold && alerted {
                self.monitoring.lag_alerted.retain(|&m| m != n);
                self.alert(format!("db{} caught up", n + 1));
            }
        }
    }

    fn alert(&mut self, text: String) {
        if self.monitoring.alerts.len() == ALERTS_KEPT {
            self.monitoring.alerts.remove(0);
        }
        self.monitoring.alerts_total += 1;
        self.monitoring.alerts.push(format!("{:.1} s  {text}", to_s(self.kernel.now)));
    }

    pub fn monitor_view(&self) -> MonitorView {
        if !self.scenario.monitoring.enabled {
            return MonitorView::default();
        }
        MonitorView { known_down: self.monitoring.known_down.clone(), alerts: self.monitoring.alerts.clone() }
    }

    /// Alerts raised since the start.
    pub fn alerts_total(&self) -> u64 {
        self.monitoring.alerts_total
    }
}
