//! A read-only snapshot for the renderer and the UI: nodes with their state and a faithful
//! sample of the requests travelling on links.

use super::engine::{DbRole, HealthState, MonitorView, Sim, SnifferLine, Stage, VrrpRole};
use super::node::{Link, NodeId};
use super::time::SimTime;
use crate::scenario::Algorithm;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParticleKind {
    Read,
    Write,
    /// An error response (503) going back to the client.
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Particle {
    pub request: u64,
    pub from: NodeId,
    pub to: NodeId,
    /// 0 at `from`, 1 at `to`.
    pub progress: f32,
    pub kind: ParticleKind,
    /// A response travelling back (drawn differently from the request going out).
    pub reply: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WebView {
    pub id: NodeId,
    pub weight: u32,
    pub conns: u32,
    pub maxconn: u32,
    pub busy: u32,
    pub workers: u32,
    /// Requests at the server waiting for a worker.
    pub waiting: u32,
    /// Requests waiting in the balancer for this server only.
    pub queued_for: u32,
    /// In the farm (the server count may have removed it).
    pub active: bool,
    pub completed: u64,
    /// Nginx is running (the truth, which monitoring may not show).
    pub alive: bool,
    /// The application server with the same number (`app1` for `web1`) is running.
    pub app_alive: bool,
    /// What the balancer's health checks believe.
    pub health: HealthState,
    /// A backup server (active-passive).
    pub backup: bool,
    /// In the pool the balancer draws from now (a backup only joins when all active are down).
    pub in_pool: bool,
    /// Service-time multiplier (1 = normal speed).
    pub slow: f64,
    /// Mean application time per request, milliseconds (before any slow-down).
    pub service_time_ms: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DbView {
    pub id: NodeId,
    pub primary: bool,
    pub busy: u32,
    pub workers: u32,
    pub waiting: u32,
    pub applied: u64,
    pub received: u64,
    pub lag_ms: f64,
    /// The lag a monitor reads: unknown while the replica receives nothing.
    pub reported_lag: crate::sim::ReportedLag,
    pub alive: bool,
    pub slow: f64,
    /// Primary, replica, promoting, fenced, or a second primary (split brain).
    pub role: DbRole,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LbView {
    pub id: NodeId,
    pub alive: bool,
    pub role: VrrpRole,
    pub priority: u32,
    /// Holds the floating IP (VRRP) or takes traffic of its own (DNS active-active, single).
    pub holds_ip: bool,
    /// Its keepalived runs (`alive` is HAProxy's).
    pub keepalived: bool,
    /// A killed keepalived left the floating IP configured on this machine.
    pub stale_ip: bool,
    /// The design's machines name its keepalived: commands on it act on HAProxy alone.
    pub haproxy_alone: bool,
}

/// A machine and the nodes it runs, for drawing it as a box with its components inside.
#[derive(Clone, Debug, PartialEq)]
pub struct MachineView {
    pub id: String,
    /// CPU cores its components share; `None` for a machine no scenario listed (its work never
    /// waits for a core, so it has no load to show).
    pub cores: Option<u32>,
    pub alive: bool,
    /// Core-microseconds of work done since the start: the renderer takes the difference
    /// between frames for a moving average of the load.
    pub busy_core_us: u128,
    /// The model's nodes it runs, in placement order (HAProxy and its keepalived are one node).
    pub components: Vec<NodeId>,
    /// It has a firewall (`security.firewall` on every machine, or named by `security.firewalls`).
    pub firewall: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct View {
    pub now_us: SimTime,
    pub algorithm: Algorithm,
    pub arrival_rate_per_s: f64,
    pub write_ratio: f64,
    pub balancer_queue: u32,
    /// The balancer queue's limit in force (`maxqueue`, or the model's bound when that is 0).
    pub maxqueue: u32,
    pub web: Vec<WebView>,
    pub db: Vec<DbView>,
    pub particles: Vec<Particle>,
    /// Requests travelling on links in all; `particles` holds at most the cap asked for.
    pub travelling: usize,
    pub lbs: Vec<LbView>,
    /// Two balancers reached through two DNS records (active-active) instead of a floating IP.
    pub lb_pair_dns: bool,
    pub dns_alive: bool,
    pub cut_links: Vec<Link>,
    /// Both balancers are master right now.
    pub split_brain: bool,
    /// Both machines have the floating IP, one left there by a killed keepalived.
    pub duplicate_address: Option<crate::sim::DuplicateAddress>,
    pub https: bool,
    pub firewall: bool,
    pub monitoring: bool,
    /// What a sniffer on the public link reads from the latest request.
    pub sniffer: Option<SnifferLine>,
    /// Outside probes in flight: toward their target, or toward the balancer side where the
    /// firewall drops them.
    pub probes: Vec<Particle>,
    /// What monitoring knows (empty when it is off).
    pub monitor: MonitorView,
    /// Every machine of the design (listed, or one derived per component), then one for each
    /// web server a command added (it runs on a machine of its own).
    pub machines: Vec<MachineView>,
}

impl Sim {
    /// Snapshot for drawing, with at most `max_particles` particles. At high traffic a stable
    /// subset is drawn (every k-th request by id), so each drawn request moves smoothly.
    pub fn view(&self, max_particles: usize) -> View {
        let now = self.now();
        let travelling = self.requests.live().filter(|q| q.stage.travelling()).count();
        let stride = if max_particles == 0 { u64::MAX } else { travelling.div_ceil(max_particles).max(1) as u64 };
        let particles = self
            .requests
            .live()
            .filter(|q| q.stage.travelling() && q.id % stride == 0)
            .take(max_particles)
            .map(|q| {
                let span = q.hop_end.saturating_sub(q.hop_start);
                let progress = if span == 0 {
                    1.0
                } else {
                    (now.saturating_sub(q.hop_start) as f64 / span as f64).min(1.0) as f32
                };
                let kind = match q.stage {
                    Stage::ErrorToClient | Stage::Refused => ParticleKind::Error,
                    _ if q.fail.is_some() => ParticleKind::Error,
                    _ if q.write => ParticleKind::Write,
                    _ => ParticleKind::Read,
                };
                let reply = matches!(
                    q.stage,
                    Stage::FromDb | Stage::ToLbReply | Stage::ToClient | Stage::ErrorToClient | Stage::Refused
                );
                Particle { request: q.id, from: q.hop.0, to: q.hop.1, progress, kind, reply }
            })
            .collect();
        let web = self
            .farm
            .servers
            .iter()
            .zip(&self.balancers.candidates)
            .enumerate()
            .map(|(i, (w, c))| WebView {
                id: NodeId::Web(i as u16),
                weight: w.weight,
                conns: c.conns,
                maxconn: c.maxconn,
                busy: w.busy,
                workers: w.spec.workers,
                waiting: c.conns.saturating_sub(w.busy),
                queued_for: c.queued,
                active: w.active,
                completed: w.completed,
                alive: w.alive,
                app_alive: w.app_alive,
                health: w.health,
                backup: w.spec.backup,
                in_pool: c.in_pool,
                slow: w.slow,
                service_time_ms: w.spec.service_time_ms,
            })
            .collect();
        let db = self
            .db
            .nodes
            .iter()
            .enumerate()
            .map(|(n, d)| DbView {
                id: NodeId::Db(n as u8),
                primary: n == self.db.primary,
                busy: d.busy,
                workers: self.scenario().db.workers,
                waiting: self.db_waiting(n),
                applied: d.applied,
                received: d.received,
                lag_ms: self.replica_lag_ms(n),
                reported_lag: self.reported_lag(n),
                alive: d.alive,
                slow: d.slow,
                role: self.db_role(n),
            })
            .collect();
        let s = self.scenario();
        let pair_dns = self.balancers.lbs.len() > 1 && s.balancer.pair_mode == crate::scenario::PairMode::Dns;
        let owner = self.vip_owner();
        // Without a balancer there is none to show (the model's entry is web1's own).
        let shown = if self.balancers.direct { 0 } else { self.balancers.lbs.len() };
        let lbs = self
            .balancers
            .lbs
            .iter()
            .take(shown)
            .enumerate()
            .map(|(k, l)| LbView {
                id: NodeId::Lb(k as u8),
                alive: l.alive,
                role: l.role,
                priority: l.priority,
                // The floating IP's traffic goes to its owner even with HAProxy dead there
                // (clients get connection refused).
                holds_ip: if pair_dns { l.alive } else { owner == Some(k as u8) },
                keepalived: l.keepalived,
                stale_ip: l.stale_vip,
                haproxy_alone: self.keepalived_is_named(k),
            })
            .collect();
        View {
            now_us: now,
            algorithm: s.balancer.algorithm,
            arrival_rate_per_s: s.traffic.arrival_rate_per_s,
            write_ratio: s.traffic.write_ratio,
            balancer_queue: self.balancers.lb_queued,
            maxqueue: super::engine::queue_bound(s.balancer.maxqueue),
            web,
            db,
            particles,
            travelling,
            lbs,
            lb_pair_dns: pair_dns,
            dns_alive: self.edge.dns_alive,
            cut_links: self.edge.cut_links.iter().copied().collect(),
            split_brain: self.in_split_brain(),
            duplicate_address: self.duplicate_address(),
            https: s.security.https,
            firewall: s.security.firewall,
            monitoring: s.monitoring.enabled,
            sniffer: self.sniffer(),
            probes: self.probe_particles(),
            monitor: self.monitor_view(),
            machines: self.machine_views(),
        }
    }

    /// The machines as the view shows them; nodes on no machine get one each.
    fn machine_views(&self) -> Vec<MachineView> {
        let now = self.now();
        let mut out: Vec<MachineView> = self
            .machines
            .list
            .iter()
            .map(|m| MachineView {
                id: m.id.clone(),
                cores: m.cpu.as_ref().map(|c| c.cores()),
                alive: m.alive,
                busy_core_us: m.cpu.as_ref().map_or(0, |c| c.busy_core_us(now)),
                components: m.nodes.clone(),
                firewall: crate::sim::design::has_firewall(self.scenario(), &m.id),
            })
            .collect();
        for i in 0..self.farm.servers.len() {
            let pair = [NodeId::Web(i as u16), NodeId::App(i as u16)];
            let components: Vec<NodeId> = pair.into_iter().filter(|&n| self.machines.of(n).is_none()).collect();
            if let Some(first) = components.first() {
                let id = first.to_string();
                let firewall = crate::sim::design::has_firewall(self.scenario(), &id);
                out.push(MachineView { id, cores: None, alive: true, busy_core_us: 0, components, firewall });
            }
        }
        out
    }
}

impl Sim {
    /// Probes in flight, for drawing: from the internet to their target, or to the edge (the
    /// balancer's side) where the firewall drops them.
    fn probe_particles(&self) -> Vec<Particle> {
        let now = self.now();
        self.recent_probes()
            .filter(|p| now < p.arrives_at)
            .enumerate()
            .map(|(k, p)| {
                let span = (p.arrives_at - p.sent_at).max(1);
                let progress = ((now - p.sent_at) as f64 / span as f64).min(1.0) as f32;
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
}
