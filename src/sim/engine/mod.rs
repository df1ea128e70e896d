//! The discrete-event model: clients → DNS → balancer → web servers → database, and back.
//!
//! A request's life, each arrow an event at a simulated microsecond:
//! arrival (+DNS lookup if the client's answer expired) → reaches the balancer (the floating
//! IP's owner) → dispatched (or queued, or 503) → reaches a web server (or is refused, and the
//! balancer retries) → waits for a worker → application time → database query (read to a replica
//! or the primary, write to the primary) → worker free → response through the balancer
//! (connection slot free) → client.
//!
//! ## Parts
//! `Sim` holds one part per responsibility; each owns its state (and the methods that need
//! only that state), and the event loop borrows them as a handler needs:
//!
//! ```text
//!                    ┌──────── kernel: now, event heap, rng streams, commands ────────┐
//!                    │   Sim::step → handle(ev): drops stale events (timer tokens,    │
//!                    │   generations, request stages), then calls one handler         │
//!                    └───────┬───────────┬──────────────┬───────────────┬─────────────┘
//!   clients ──▶ edge ──▶ balancers ──▶ farm ──▶ db (cluster)        monitoring
//!   (DNS cache,  (DNS,     (candidates,  (servers,  (nodes, primary,   (known down,
//!    TLS session, cut links, queue+timer, workers,  binlog, semisync,  alerts)
//!    last write)  sniffer,   VRRP pair,   health)    failover)
//!                 probes)    split brain)
//!   requests: the request table every stage reads and writes (alloc, free, valid, is_at)
//! ```
//!
//! Modules: `kernel`, `requests`, `clients`, `balancers`, `farm`, `database` (+ `binlog`),
//! `edge` and `monitoring` define the parts; `timer` the cancellation types (`Timer`,
//! `Generation`, `Stopwatch`). Handlers are `impl Sim` blocks next to the part they mostly
//! serve (`clients`, `balancers`, `farm`, `database`, `edge`, `monitoring`); `ha` holds health
//! checks, backups, slowstart and the VRRP pair, `faults` kill/restore/slow, cut/heal and random
//! failures, and `security` the typed facts (alerts, the sniffed request, probes) that
//! `render::facts` words. This file keeps the event loop, the links between parts (`travel`,
//! replies, failures), the commands and the invariants.

mod balancers;
mod binlog;
mod clients;
mod database;
mod deploy;
mod edge;
mod farm;
mod faults;
mod ha;
mod keepalived;
mod kernel;
mod machines;
mod monitoring;
mod nginx;
mod requests;
mod security;
mod timer;

#[cfg(test)]
mod tests;

use balancers::new_candidate;
use balancers::LbState;
pub(crate) use requests::{ReqRef, Request};

use super::command::{Command, CommandKind, NodeClass};
use super::metrics::{FailCause, Metrics, Ring};
use super::node::NodeId;
use super::time::{from_ms, from_s, SimTime, US_PER_S};
use super::trace::{NodeEvent, Subject, Trace, TraceKind};
use crate::scenario::{PairMode, Scenario};
use serde::Serialize;

pub use binlog::BINLOG_TIMES_CAPACITY;
pub use database::{DbRole, ReportedLag, LAG_WHEN_NULL_MS, REBUILD_POSITIONS_PER_S, REBUILD_SETUP_MS};
pub use deploy::DRAIN_LIMIT_S;
pub use ha::{HealthState, VrrpRole};
pub use keepalived::{DuplicateAddress, TRACK_INTERVAL_MS};
pub use security::{Alert, AlertKind, MachineProbes, MonitorView, OutsideProbe, SecurityStats, SnifferLine};

#[rustfmt::skip]
// Comparable so a machine can find the piece of work a dying component leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ev {
    /// The balancer has encrypted the request for its server (`security.backend_tls`).
    LbEncrypted(ReqRef),
    /// The next client request (the queue's single event: rescheduling replaces it).
    Arrival,
    /// A traffic burst starts or ends.
    BurstEdge,
    DnsDone(ReqRef),
    ReachLb(ReqRef),
    ReachWeb(ReqRef),
    /// Nginx's own CPU time for the request is done.
    NginxDone(ReqRef),
    /// The request reaches a remote application server (Nginx's upstream).
    ReachApp(ReqRef),
    /// A remote application server's refusal is back at Nginx.
    AppRefusedAtWeb(ReqRef),
    /// A remote application server's answer is back at Nginx.
    AppReplyAtWeb(ReqRef),
    /// A refused connection's reset has come back to the balancer.
    ConnectFailed(ReqRef),
    /// HAProxy's turn-around delay before retrying the same server is over.
    Retry(ReqRef),
    AppDone(ReqRef),
    ReachDb(ReqRef),
    /// A query finished on database node `node` (stale if the node was killed since: `epoch`).
    DbDone { r: ReqRef, node: u8, epoch: u32 },
    DbReplyAtWeb(ReqRef),
    ReplyAtLb(ReqRef),
    ReplyAtClient(ReqRef),
    /// Check the balancer's queues for requests past `timeout queue` (one timer for all:
    /// queues are FIFO with one timeout, so only the oldest waiting request can be due).
    QueueTimer,
    /// A binlog event leaves the primary (stale if the primary crashed or changed since:
    /// `generation` is the binlog generation at commit).
    BinlogDepart { replica: u8, generation: u32, position: u64 },
    BinlogArrive { replica: u8, generation: u32, position: u64 },
    /// A replica's semi-sync acknowledgement reaches the primary.
    SemiSyncAck { generation: u32, position: u64 },
    /// Check the oldest write waiting for a semi-sync ack against the timeout.
    SemiSyncTimer { token: u32 },
    /// The failover manager checks the primary.
    FailoverCheck { generation: u32 },
    /// A client's TLS handshake with the balancer is done.
    HandshakeDone(ReqRef),
    /// An outside probe (stale unless `generation` is current).
    Probe { generation: u32 },
    /// Monitoring agents report (stale unless `generation` is current).
    MonitorCheck { generation: u32 },
    ApplyDone { replica: u8, epoch: u32 },
    /// A rebuild of database node `node` finished (stale if it was killed since).
    RebuildDone { node: u8, epoch: u32 },
    HealthCheck { server: u16 },
    VrrpAdvert { lb: u8, generation: u32 },
    VrrpTimer { lb: u8, generation: u32 },
    /// keepalived's HAProxy check runs (`vrrp.track_haproxy`).
    TrackCheck { lb: u8, generation: u32 },
    RandomFailure { node: NodeId, generation: u32 },
    RandomRepair { node: NodeId },
    /// The deploy under way takes its next step (stale unless `token` is its timer's).
    DeployTick { token: u32 },
    /// A listed machine's random failure and its repair.
    MachineFailure { machine: u8 },
    MachineRepair { machine: u8 },
    /// Close one second of metrics.
    Sample,
    WarmupEnd,
    /// A command scheduled for later (index into the command log).
    Command(u32),
    /// A machine's next piece of CPU work is done (stale unless `token` is its timer's).
    CpuDone { machine: u8, token: u32 },
}

/// Where a request is; the travelling stages are drawn as moving particles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Free,
    Dns,
    ToLb,
    Queued,
    /// A TLS handshake with the balancer (HTTPS, new session).
    Handshake,
    ToWeb,
    /// The server refused the connection; the reset travels back to the balancer.
    Refused,
    /// Nginx's own CPU time (parsing, proxying; decrypting with `security.backend_tls`).
    NginxWork,
    /// The balancer encrypts the request for its server (`security.backend_tls`).
    LbEncrypt,
    /// From Nginx to a remote application server.
    ToApp,
    /// The remote application server refused; the reset travels back to Nginx.
    AppRefused,
    /// A remote application server's answer on its way back to Nginx.
    FromApp,
    /// Waiting out the balancer's turn-around delay before a retry.
    RetryWait,
    WebWait,
    App,
    ToDb,
    DbWait,
    Db,
    /// Committed on the primary, waiting for a replica's semi-sync acknowledgement.
    SemiSyncWait,
    FromDb,
    ToLbReply,
    ToClient,
    /// An error answer on its way back to the client.
    ErrorToClient,
}

impl Stage {
    /// Stages spent travelling on a link (drawn as particles).
    pub fn travelling(self) -> bool {
        matches!(
            self,
            Stage::Dns
                | Stage::ToLb
                | Stage::ToWeb
                | Stage::Refused
                | Stage::ToApp
                | Stage::AppRefused
                | Stage::FromApp
                | Stage::ToDb
                | Stage::FromDb
                | Stage::ToLbReply
                | Stage::ToClient
                | Stage::ErrorToClient
        )
    }

    /// Stages in which the request holds a balancer connection to its server.
    fn holds_connection(self) -> bool {
        matches!(
            self,
            Stage::ToWeb
                | Stage::Refused
                | Stage::LbEncrypt
                | Stage::NginxWork
                | Stage::ToApp
                | Stage::AppRefused
                | Stage::FromApp
                | Stage::WebWait
                | Stage::App
                | Stage::ToDb
                | Stage::DbWait
                | Stage::Db
                | Stage::SemiSyncWait
                | Stage::FromDb
                | Stage::ToLbReply
        )
    }
}

/// Database results for the batch runner and the dashboard.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DbStats {
    /// Writes acknowledged to clients.
    pub writes_acknowledged: u64,
    /// Acknowledged writes that a failover threw away (the new primary never received them).
    pub writes_lost: u64,
    /// Reads on a replica that missed the same client's earlier write.
    pub stale_reads: u64,
    pub replication_lag_ms_max: f64,
    pub replication_lag_ms_mean: f64,
    /// Replicas promoted to primary.
    pub promotions: u64,
    /// Seconds during which two database nodes were writable.
    pub split_brain_s: f64,
    /// Times semi-sync gave up waiting and fell back to async.
    pub semisync_fallbacks: u64,
    /// Transactions held by nodes that came back diverged (the primary never had them).
    pub errant_transactions: u64,
    /// Nodes re-cloned from the primary by the rebuild command.
    pub rebuilds: u64,
    /// Reads of a row the same request had just written (`traffic.read_own_write_ratio`).
    pub read_own_write_reads: u64,
    /// Those that missed the write (a replica had not applied it yet).
    pub read_own_write_stale: u64,
    /// Seconds (sampled each second) during which some replica's lag was unknown.
    pub replication_lag_unknown_s: f64,
    /// Commit times the bounded binlog history dropped (a replica more than half its
    /// capacity behind has its lag interpolated between the kept ones).
    pub binlog_times_thinned: u64,
}

/// One state change the model detected, for the timeline and the alerts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimelineEntry {
    pub at: SimTime,
    pub subject: Subject,
    pub event: NodeEvent,
}

/// State changes kept for the timeline (the newest; the report counts the dropped ones).
pub const TIMELINE_CAPACITY: usize = 10_000;

/// Most requests alive in the model at once (about 150 MB with their events). Each request's
/// life is bounded (queues, backlogs, retries, latencies), so the number alive is at most the
/// rate times the longest life; at 10 million per second with 10 s links that is ~10^8. Beyond
/// this bound an arrival is counted as failed `model_limit` instead of simulated.
pub const MAX_LIVE_REQUESTS: u64 = 1_000_000;

/// The balancer's queue bound when `maxqueue` is 0. HAProxy calls 0 unlimited, but a real
/// process stops accepting at its global `maxconn`; the model stops at this many queued
/// requests (about 10 MB) and answers the rest 503 `queue_full`, so memory stays bounded.
pub const UNLIMITED_QUEUE_BOUND: u32 = 100_000;

/// The bound on the balancer's queue in force for a `maxqueue` setting.
pub fn queue_bound(maxqueue: u32) -> u32 {
    if maxqueue == 0 {
        UNLIMITED_QUEUE_BOUND
    } else {
        maxqueue
    }
}

/// Connections a web server keeps waiting for a worker, for a `backlog` setting: Linux queues
/// one connection even for `listen(fd, 0)` (the accept queue is full only above the backlog),
/// so 0 means one, never unlimited.
pub fn backlog_bound(backlog: u32) -> u32 {
    backlog.max(1)
}

pub struct Sim {
    scenario: Scenario,
    /// The scenario the run started from, before any command: a run is this + seed + log.
    initial_scenario: Scenario,
    pub(crate) kernel: kernel::Kernel,
    pub(crate) requests: requests::Requests,
    pub(crate) clients: clients::Clients,
    pub(crate) balancers: balancers::Balancers,
    pub(crate) farm: farm::Farm,
    pub(crate) db: database::Cluster,
    pub(crate) edge: edge::Edge,
    pub(crate) monitoring: monitoring::Monitoring,
    pub(crate) machines: machines::Machines,
    pub(crate) deploys: deploy::Deploys,
    pub metrics: Metrics,
    pub trace: Trace,
    pub timeline: Ring<TimelineEntry>,
}

/// Where the trace goes: the page keeps the newest lines, tests keep everything.
#[derive(Clone, Copy, Debug)]
pub struct TraceConfig {
    pub enabled: bool,
    pub capacity: usize,
}

impl Default for TraceConfig {
    fn default() -> Self {
        TraceConfig { enabled: true, capacity: 2_000 }
    }
}

impl Sim {
    /// Build a model from a scenario. The scenario must have passed `validate()`; values out of
    /// range are clamped rather than trusted, so a bad scenario cannot panic the model.
    pub fn new(scenario: Scenario, trace: TraceConfig) -> Sim {
        let clients = scenario.traffic.clients.max(1) as usize;
        let db_nodes =
            if scenario.db.enabled { 1 + scenario.db.replicas.min(crate::scenario::MAX_REPLICAS) as usize } else { 0 };
        let lb_count = if scenario.balancer.pair { 2 } else { 1 };
        let priorities = [scenario.vrrp.priority_lb1, scenario.vrrp.priority_lb2];
        let mut sim = Sim {
            kernel: kernel::Kernel::new(&scenario),
            requests: requests::Requests::new(),
            clients: clients::Clients::new(clients, lb_count, scenario.db.enabled),
            balancers: balancers::Balancers::new(&scenario.web.servers, &priorities[..lb_count]),
            farm: farm::Farm::new(&scenario.web.servers),
            db: database::Cluster::new(db_nodes),
            edge: edge::Edge::new(),
            monitoring: monitoring::Monitoring::default(),
            machines: machines::Machines::new(&scenario),
            deploys: deploy::Deploys::default(),
            metrics: Metrics::new(),
            trace: Trace::new(trace.enabled, trace.capacity),
            timeline: Ring::new(TIMELINE_CAPACITY),
            initial_scenario: scenario.clone(),
            scenario,
        };
        sim.balancers.direct = !sim.scenario.balancer.enabled;
        sim.build_app_routes();
        sim.refresh_candidates();
        sim.schedule_next_arrival();
        sim.kernel.queue.push(US_PER_S, Ev::Sample);
        if sim.kernel.warmup_end > 0 {
            sim.kernel.queue.push(sim.kernel.warmup_end, Ev::WarmupEnd);
        }
        if sim.scenario.traffic.burst.enabled {
            sim.kernel.queue.push(from_s(sim.scenario.traffic.burst.period_s), Ev::BurstEdge);
        }
        // Without HAProxy nobody checks the servers.
        for i in 0..sim.farm.servers.len() * usize::from(!sim.balancers.direct) {
            sim.schedule_first_check(i);
        }
        sim.start_balancers();
        for class in NodeClass::ALL {
            sim.schedule_random_failures(class);
        }
        for m in 0..sim.machines.list.len() {
            sim.schedule_machine_failure(m);
        }
        sim.schedule_failover_checks();
        sim.schedule_probe();
        sim.schedule_monitoring();
        sim
    }

    pub fn now(&self) -> SimTime {
        self.kernel.now
    }

    /// The scenario as it stands now, commands included.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The scenario the run started from, before any command changed it.
    pub fn initial_scenario(&self) -> &Scenario {
        &self.initial_scenario
    }

    pub fn events_processed(&self) -> u64 {
        self.kernel.events_processed
    }

    pub fn commands(&self) -> &[Command] {
        &self.kernel.commands
    }

    /// Requests alive in the model (arrived, not yet answered).
    pub fn live_requests(&self) -> u64 {
        self.requests.live
    }

    pub fn db_stats(&self) -> DbStats {
        let mut s = self.db.stats.clone();
        s.replication_lag_ms_mean =
            if self.db.lag_samples == 0 { 0.0 } else { self.db.lag_sum_ms / self.db.lag_samples as f64 };
        s.split_brain_s = self.db_split_brain_s();
        s.binlog_times_thinned = self.db.binlog_times.thinned();
        s
    }

    /// Seconds during which both balancers held the floating IP.
    pub fn split_brain_s(&self) -> f64 {
        self.balancers.split_brain.seconds(self.kernel.now)
    }

    /// Number of servers in the farm now (the server-count command may have changed it).
    pub fn active_servers(&self) -> usize {
        self.farm.servers.iter().filter(|w| w.active).count()
    }

    /// Process the next event. Returns false when there is none.
    pub fn step(&mut self) -> bool {
        let Some((at, ev)) = self.kernel.queue.pop() else { return false };
        debug_assert!(at >= self.kernel.now, "time went backwards");
        self.kernel.now = at;
        self.kernel.events_processed += 1;
        self.handle(ev);
        true
    }

    /// Run every event up to and including time `until`, at most `max_events` of them.
    /// Returns true when `until` was reached (the clock then reads `until`).
    pub fn run_until(&mut self, until: SimTime, max_events: u64) -> bool {
        let mut done = 0;
        while let Some(t) = self.kernel.queue.peek_time() {
            if t > until {
                break;
            }
            if done >= max_events {
                return false;
            }
            self.step();
            done += 1;
        }
        self.kernel.now = self.kernel.now.max(until);
        true
    }

    /// Apply a command now (or at its time, if later). Bad values are refused with a message
    /// and change nothing.
    pub fn apply(&mut self, mut command: Command) -> Result<(), String> {
        command.what.check(self.farm.servers.len())?;
        self.check_targets(&command.what)?;
        command.at_us = command.at_us.max(self.kernel.now);
        let index = self.kernel.commands.len() as u32;
        let at = command.at_us;
        self.kernel.commands.push(command);
        if at == self.kernel.now {
            self.execute_command(index);
        } else {
            self.kernel.queue.push(at, Ev::Command(index));
        }
        Ok(())
    }

    /// Commands that name a node or link must name one that exists in this design.
    fn check_targets(&self, what: &CommandKind) -> Result<(), String> {
        let exists = |node: NodeId| -> Result<(), String> {
            let ok = match node {
                NodeId::Clients => false,
                NodeId::Dns => true,
                NodeId::Lb(k) => !self.balancers.direct && (k as usize) < self.balancers.lbs.len(),
                NodeId::Web(i) | NodeId::App(i) => (i as usize) < self.farm.servers.len(),
                NodeId::Db(n) => (n as usize) < self.db.nodes.len(),
            };
            if ok {
                Ok(())
            } else {
                Err(format!("{node} is not part of this design"))
            }
        };
        let machine_exists = |id: &str| match self.machines.find(id) {
            Some(_) => Ok(()),
            None => Err(format!(
                "this design has no machine '{id}'; its machines are {}",
                self.machines.list.iter().map(|m| m.id.as_str()).collect::<Vec<_>>().join(", ")
            )),
        };
        if let Some(checked) = self.check_process_target(what) {
            return checked;
        }
        match *what {
            CommandKind::KillMachine { ref machine } | CommandKind::SlowMachine { ref machine, .. } => {
                machine_exists(machine)
            }
            CommandKind::RestoreMachine { ref machine } => machine_exists(machine),
            CommandKind::Restore { node } if !self.machines.hosts_alive(node) => Err(format!(
                "{node} cannot start while its machine {} is down; restore the machine",
                self.machines.of(node).map_or("", |m| self.machines.list[m].id.as_str())
            )),
            CommandKind::Kill { node } | CommandKind::Restore { node } => exists(node),
            CommandKind::Stop { node } => {
                exists(node)?;
                match node {
                    NodeId::Lb(_) => Ok(()),
                    _ => Err(format!("{node} cannot be stopped gracefully: stop is a balancer's planned stop (keepalived's priority-0 advert); use kill")),
                }
            }
            CommandKind::Deploy { .. } if self.deploy_under_way() => {
                Err("a deploy is already under way; wait until it is done".into())
            }
            CommandKind::Rebuild { node } => {
                exists(node)?;
                match node {
                    NodeId::Db(_) => Ok(()),
                    _ => Err(format!("{node} cannot be rebuilt: only database nodes are re-cloned from the primary")),
                }
            }
            CommandKind::Slow { node, .. } => {
                exists(node)?;
                if matches!(node, NodeId::Web(_) | NodeId::App(_) | NodeId::Db(_)) {
                    Ok(())
                } else {
                    Err(format!("{node} cannot be slowed: only web servers, application servers and databases do work that takes time"))
                }
            }
            CommandKind::SetServerCount { count } if self.balancers.direct && count != 1 => Err(format!(
                "{count} web servers need a balancer in front of them; this design has none (balancer.enabled is false: DNS points at web1)"
            )),
            CommandKind::Cut { link } | CommandKind::Heal { link } => {
                if link.0 != NodeId::Clients {
                    exists(link.0)?;
                }
                exists(link.1)
            }
            _ => Ok(()),
        }
    }

    #[inline(never)]
    fn execute_command(&mut self, index: u32) {
        let what = self.kernel.commands[index as usize].what.clone();
        self.trace.record(self.kernel.now, 0, TraceKind::Command(index));
        let handled = self.traffic_command(&what)
            || self.balancer_command(&what)
            || self.farm_command(&what)
            || self.process_command(&what)
            || self.fault_command(&what)
            || self.database_command(&what)
            || self.edge_command(&what);
        debug_assert!(handled, "no part handles {what:?}");
    }

    /// Faults: nodes killed, stopped, restored or slowed, links cut or healed, random failures.
    fn fault_command(&mut self, what: &CommandKind) -> bool {
        match *what {
            CommandKind::Kill { node } => self.kill(node),
            CommandKind::Stop { node } => self.stop(node),
            CommandKind::Restore { node } => self.restore(node),
            CommandKind::KillMachine { ref machine } => self.kill_machine(self.machine_named(machine)),
            CommandKind::RestoreMachine { ref machine } => self.restore_machine(self.machine_named(machine)),
            CommandKind::SlowMachine { ref machine, factor } => self.slow_machine(self.machine_named(machine), factor),
            CommandKind::Slow { node, factor } => self.slow(node, factor),
            CommandKind::Cut { link } => self.cut(link),
            CommandKind::Deploy { rolling } => self.start_deploy(rolling),
            CommandKind::Heal { link } => self.heal(link),
            CommandKind::SetFailureRate { class, mtbf_s, mttr_s } => {
                let rate = self.failure_rate_mut(class);
                rate.mtbf_s = mtbf_s;
                rate.mttr_s = mttr_s;
                self.kernel.failure_generation[class as usize].bump();
                self.schedule_random_failures(class);
            }
            _ => return false,
        }
        true
    }

    /// Commands on the database cluster.
    fn database_command(&mut self, what: &CommandKind) -> bool {
        match *what {
            CommandKind::SetReplication { mode } => {
                self.scenario.db.replication = mode;
                self.db.semisync_fallen_back = false;
                if mode == crate::scenario::Replication::Async {
                    self.release_all_waiting_writes();
                }
            }
            CommandKind::SetReadFrom { mode } => self.scenario.db.read_from = mode,
            CommandKind::SetFailover { mode } => {
                self.scenario.db.failover = mode;
                self.schedule_failover_checks();
            }
            CommandKind::SetApplyRate { per_s } => self.scenario.db.apply_rate_per_s = per_s,
            CommandKind::SetFencing { on } => self.scenario.db.fencing = on,
            CommandKind::Rebuild { node: NodeId::Db(n) } => self.rebuild(n as usize),
            CommandKind::Rebuild { .. } => {}
            _ => return false,
        }
        true
    }

    /// Commands on the edge (TLS, firewall) and on monitoring.
    fn edge_command(&mut self, what: &CommandKind) -> bool {
        match *what {
            CommandKind::SetHttps { on } => self.scenario.security.https = on,
            CommandKind::SetFirewall { on } => self.scenario.security.set_firewall_everywhere(on),
            CommandKind::SetBackendTls { on } => self.scenario.security.backend_tls = on,
            CommandKind::SetMonitoring { on } => {
                self.scenario.monitoring.enabled = on;
                self.schedule_monitoring();
            }
            _ => return false,
        }
        true
    }

    fn handle(&mut self, ev: Ev) {
        // Request events are acted on only while the request is where the event expects it:
        // a request diverted meanwhile (failed, retried) simply ignores its stale events.
        match ev {
            Ev::Arrival => self.on_arrival(),
            Ev::BurstEdge => self.on_burst_edge(),
            Ev::DnsDone(_)
            | Ev::ReachLb(_)
            | Ev::ReachWeb(_)
            | Ev::ConnectFailed(_)
            | Ev::ReachApp(_)
            | Ev::AppRefusedAtWeb(_)
            | Ev::AppReplyAtWeb(_)
            | Ev::ReachDb(_)
            | Ev::DbReplyAtWeb(_)
            | Ev::ReplyAtLb(_)
            | Ev::ReplyAtClient(_) => self.arrive(ev),
            Ev::NginxDone(r) if self.requests.is_at(r, Stage::NginxWork) => self.after_nginx(r),
            Ev::LbEncrypted(r) if self.requests.is_at(r, Stage::LbEncrypt) => self.continue_to_server(r),
            Ev::Retry(r) if self.requests.is_at(r, Stage::RetryWait) => self.on_retry(r),
            Ev::AppDone(r) if self.requests.is_at(r, Stage::App) => self.on_app_done(r),
            Ev::DbDone { r, node, epoch } if self.db_epoch_is(node, epoch) => self.on_db_done(r, node as usize),
            Ev::QueueTimer => {
                // Every queue check is acted on, even one made before `timeout queue` changed:
                // an early check expires only what is due.
                self.balancers.queue_timer.disarm();
                self.expire_queued();
            }
            Ev::BinlogDepart { replica, generation, position } if self.db.binlog_generation.is_current(generation) => {
                self.on_binlog_depart(replica as usize, generation, position)
            }
            // Events shipped before a crash still arrive (they left in time); events from a
            // primary that a promotion has replaced do not count.
            Ev::BinlogArrive { replica, generation, position } if generation >= self.db.promotion_generation => {
                self.on_binlog_arrive(replica as usize, generation, position)
            }
            Ev::SemiSyncAck { generation, position } if self.db.binlog_generation.is_current(generation) => {
                self.on_semisync_ack(position)
            }
            Ev::SemiSyncTimer { token } if self.db.semisync_timer.is_current(token) => self.on_semisync_timer(),
            Ev::FailoverCheck { generation } if self.db.failover_timer.is_current(generation) => {
                self.on_failover_check()
            }
            Ev::HandshakeDone(r) if self.requests.is_at(r, Stage::Handshake) => self.dispatch(r),
            Ev::Probe { generation } if self.edge.probe_timer.is_current(generation) => self.on_probe(),
            Ev::MonitorCheck { generation } if self.monitoring.timer.is_current(generation) => self.on_monitor_check(),
            Ev::ApplyDone { replica, epoch } if self.db_epoch_is(replica, epoch) => {
                self.on_apply_done(replica as usize)
            }
            Ev::RebuildDone { node, epoch } if self.db_epoch_is(node, epoch) => {
                self.on_rebuild_done(node as usize, epoch)
            }
            Ev::HealthCheck { server } => self.on_health_check(server as usize),
            Ev::VrrpAdvert { lb, generation } if self.lb_timer_is(lb, generation, |l| l.advert) => {
                self.on_vrrp_advert(lb as usize, generation)
            }
            Ev::VrrpTimer { lb, generation } if self.lb_timer_is(lb, generation, |l| l.master_down) => {
                self.on_vrrp_timer(lb as usize)
            }
            Ev::TrackCheck { lb, generation } if self.lb_timer_is(lb, generation, |l| l.track) => {
                self.on_track_check(lb as usize)
            }
            Ev::RandomFailure { node, generation } if self.failure_rate_is(node, generation) => {
                self.on_random_failure(node)
            }
            Ev::RandomRepair { node } => self.on_random_repair(node),
            Ev::DeployTick { token } if self.deploys.timer.is_current(token) => self.on_deploy_tick(),
            Ev::MachineFailure { machine } => self.on_machine_failure(machine as usize),
            Ev::MachineRepair { machine } => self.on_machine_repair(machine as usize),
            Ev::Sample => self.on_sample(),
            Ev::WarmupEnd => {
                for w in &mut self.farm.servers {
                    w.busy_area_us = 0.0;
                    w.busy_since = self.kernel.now;
                    w.completed = 0;
                }
                self.kernel.stats_since = self.kernel.now;
            }
            Ev::Command(index) => self.execute_command(index),
            Ev::CpuDone { machine, token } if self.machine_timer_is(machine, token) => {
                self.on_cpu_done(machine as usize)
            }
            // A request event whose request has moved on.
            _ => {}
        }
    }

    /// An event of database node `n` from its current life (not from before a crash).
    fn db_epoch_is(&self, n: u8, epoch: u32) -> bool {
        self.db.nodes.get(n as usize).is_some_and(|d| d.epoch.is_current(epoch))
    }

    /// An event of one of balancer `lb`'s VRRP timers that is still the one it waits for.
    fn lb_timer_is(&self, lb: u8, token: u32, timer: impl Fn(&LbState) -> timer::Timer) -> bool {
        self.balancers.lbs.get(lb as usize).is_some_and(|l| timer(l).is_current(token))
    }

    fn machine_timer_is(&self, machine: u8, token: u32) -> bool {
        self.machines.list.get(machine as usize).is_some_and(|m| m.timer.is_current(token))
    }

    /// A random failure drawn under the failure rate in force now (not one changed since).
    fn failure_rate_is(&self, node: NodeId, generation: u32) -> bool {
        NodeClass::of(node).is_some_and(|class| self.kernel.failure_generation[class as usize].is_current(generation))
    }

    /// A request reaches the far end of a link (the events `travel` schedules), if it is still
    /// on that link: a request diverted meanwhile (failed, retried) ignores its stale events.
    fn arrive(&mut self, ev: Ev) {
        let (Ev::DnsDone(r)
        | Ev::ReachLb(r)
        | Ev::ReachWeb(r)
        | Ev::ConnectFailed(r)
        | Ev::ReachApp(r)
        | Ev::AppRefusedAtWeb(r)
        | Ev::AppReplyAtWeb(r)
        | Ev::ReachDb(r)
        | Ev::DbReplyAtWeb(r)
        | Ev::ReplyAtLb(r)
        | Ev::ReplyAtClient(r)) = ev
        else {
            return;
        };
        if self.requests.valid(r) && link_event_matches(self.requests.get(r).stage, ev) {
            self.reach(ev);
        }
    }

    /// The handler of a link's far end. Zero-latency hops come here straight from `travel`,
    /// which has just put the request on the link, so there is nothing stale to check.
    fn reach(&mut self, ev: Ev) {
        match ev {
            Ev::DnsDone(r) => self.send_to_lb(r),
            Ev::ReachLb(r) => self.on_reach_lb(r),
            Ev::ReachWeb(r) => self.on_reach_web(r),
            Ev::ConnectFailed(r) => self.on_connect_failed(r),
            Ev::ReachApp(r) => self.on_reach_app(r),
            Ev::AppRefusedAtWeb(r) => self.on_app_refused_at_web(r),
            Ev::AppReplyAtWeb(r) => self.on_app_reply_at_web(r),
            Ev::ReachDb(r) => self.on_reach_db(r),
            Ev::DbReplyAtWeb(r) => self.on_db_reply_at_web(r),
            Ev::ReplyAtLb(r) => self.on_reply_at_lb(r),
            Ev::ReplyAtClient(r) => self.on_reply_at_client(r),
            _ => {}
        }
    }

    #[inline]
    pub(crate) fn is_cut(&self, a: NodeId, b: NodeId) -> bool {
        self.edge.is_cut(a, b)
    }

    /// Move a request onto a link; it reaches the far end after `delay`.
    fn travel(&mut self, r: ReqRef, stage: Stage, from: NodeId, to: NodeId, delay: SimTime, arrive: Ev) {
        let now = self.kernel.now;
        let q = self.requests.get_mut(r);
        q.stage = stage;
        q.hop = (from, to);
        q.hop_start = now;
        q.hop_end = now + delay;
        debug_assert!(link_event_matches(stage, arrive), "{stage:?} cannot end with {arrive:?}");
        if delay == 0 {
            // A zero-length link is instantaneous: handle the arrival now instead of a heap
            // round trip (the common case in queue-lab, and most of the benchmark's cost).
            self.reach(arrive);
        } else {
            self.kernel.queue.push(now + delay, arrive);
        }
    }

    fn lan(&self) -> SimTime {
        self.kernel.lan_us
    }

    /// The hop between the balancer and a web server: none without a balancer (the client's
    /// connection ends at Nginx itself).
    fn lb_lan(&self) -> SimTime {
        if self.balancers.direct {
            0
        } else {
            self.kernel.lan_us
        }
    }

    /// Where the clients' connections end: balancer `lb`, or web1 without a balancer.
    fn entry_node(&self, lb: u8) -> NodeId {
        if self.balancers.direct {
            NodeId::Web(0)
        } else {
            NodeId::Lb(lb)
        }
    }

    fn client_latency(&self) -> SimTime {
        self.kernel.client_latency_us
    }

    fn send_to_lb(&mut self, r: ReqRef) {
        let client = self.requests.get(r).client;
        let Some(lb) = self.entry_balancer(client) else {
            self.fail_now(r, FailCause::LbDown);
            return;
        };
        let entry = self.entry_node(lb);
        if self.is_cut(NodeId::Clients, entry) {
            self.fail_now(r, FailCause::Unreachable);
            return;
        }
        self.requests.get_mut(r).lb = lb;
        self.requests.get_mut(r).at_lb = !self.balancers.direct;
        self.crossed_public_link(r);
        let delay = self.client_latency();
        self.travel(r, Stage::ToLb, NodeId::Clients, entry, delay, Ev::ReachLb(r));
    }

    fn on_reach_lb(&mut self, r: ReqRef) {
        let mut lb = self.requests.get(r).lb;
        if self.balancers.lbs.len() > 1 && self.scenario.balancer.pair_mode == PairMode::Vrrp {
            // The packet goes to whoever holds the floating IP when it arrives.
            match self.vip_owner() {
                Some(owner) => lb = owner,
                None => {
                    self.fail_now(r, FailCause::LbDown);
                    return;
                }
            }
        }
        if !self.balancers.lbs[lb as usize].alive {
            self.fail_now(r, FailCause::LbDown);
            return;
        }
        self.requests.get_mut(r).lb = lb;
        if !self.needs_handshake(r) {
            self.dispatch(r);
        }
    }

    fn send_to_server(&mut self, r: ReqRef, i: usize) {
        self.balancers.candidates[i].conns += 1;
        let (id, lb) = (self.requests.get(r).id, self.requests.get(r).lb);
        self.requests.get_mut(r).server = Some(i as u16);
        if self.balancers.direct {
            // The client's own connection: no hop inside the data centre.
            self.continue_to_server(r);
            return;
        }
        self.trace.record(self.kernel.now, id, TraceKind::Dispatch { lb, to: NodeId::Web(i as u16) });
        if !self.crossed_backend_link(r) {
            self.continue_to_server(r);
            return;
        }
        // Re-encrypting for the server is CPU work on the balancer's machine first.
        let (now, node) = (self.kernel.now, NodeId::Lb(lb));
        let q = self.requests.get_mut(r);
        q.stage = Stage::LbEncrypt;
        q.hop = (node, node);
        q.hop_start = now;
        let work = from_ms(self.scenario.security.backend_tls_cpu_ms);
        self.run_work(node, work, Ev::LbEncrypted(r));
    }

    /// The request leaves the balancer for its server.
    fn continue_to_server(&mut self, r: ReqRef) {
        let (i, lb) = (self.requests.server_of(r), self.requests.get(r).lb);
        let lan = self.lb_lan();
        self.travel(r, Stage::ToWeb, NodeId::Lb(lb), NodeId::Web(i as u16), lan, Ev::ReachWeb(r));
    }

    /// The balancer answers with an error itself; the answer travels back to the client.
    fn fail_at_lb(&mut self, r: ReqRef, cause: FailCause) {
        let lb = self.requests.get(r).lb;
        self.requests.get_mut(r).fail = Some(cause);
        let entry = self.entry_node(lb);
        if self.is_cut(NodeId::Clients, entry) {
            self.fail_now(r, FailCause::Unreachable);
            return;
        }
        let back = self.client_latency();
        self.travel(r, Stage::ErrorToClient, entry, NodeId::Clients, back, Ev::ReplyAtClient(r));
    }

    /// The request ends here with no answer reaching the client (counted at once).
    fn fail_now(&mut self, r: ReqRef, cause: FailCause) {
        self.requests.get_mut(r).fail = Some(cause);
        self.requests.get_mut(r).stage = Stage::ToClient;
        self.on_reply_at_client(r);
    }

    fn on_reply_at_lb(&mut self, r: ReqRef) {
        let i = self.requests.server_of(r);
        self.balancers.candidates[i].conns -= 1;
        self.serve_queue(i);
        let lb = self.requests.get(r).lb;
        if !self.balancers.lbs[lb as usize].alive {
            self.fail_now(r, FailCause::LbDown);
            return;
        }
        let entry = self.entry_node(lb);
        if self.is_cut(NodeId::Clients, entry) {
            self.fail_now(r, FailCause::Unreachable);
            return;
        }
        let back = self.client_latency();
        let stage = if self.requests.get(r).fail.is_some() { Stage::ErrorToClient } else { Stage::ToClient };
        self.travel(r, stage, entry, NodeId::Clients, back, Ev::ReplyAtClient(r));
    }

    fn on_reply_at_client(&mut self, r: ReqRef) {
        let (id, measured, arrived_at, fail, server, write, lb) = {
            let q = self.requests.get(r);
            (q.id, q.measured, q.arrived_at, q.fail, q.server, q.write, q.at_lb.then_some(q.lb))
        };
        match fail {
            Some(cause) => {
                self.metrics.on_fail(measured, cause, write);
                self.trace.record(self.kernel.now, id, TraceKind::Fail { cause, lb });
            }
            None => {
                let latency = self.kernel.now - arrived_at;
                self.metrics.on_complete(measured, latency, write);
                if let Some(i) = server {
                    if measured {
                        self.farm.servers[i as usize].completed += 1;
                    }
                }
                self.trace.record(self.kernel.now, id, TraceKind::Complete { latency });
            }
        }
        self.requests.free(r);
    }

    #[inline(never)]
    fn on_sample(&mut self) {
        let conns = self.balancers.candidates.iter().map(|c| c.conns).collect();
        let (lag, unknown) = self.monitored_lag();
        if unknown {
            self.db.stats.replication_lag_unknown_s += 1.0;
        }
        if self.db.nodes.len() > 1 {
            self.db.stats.replication_lag_ms_max = self.db.stats.replication_lag_ms_max.max(lag);
            self.db.lag_sum_ms += lag;
            self.db.lag_samples += 1;
        }
        self.metrics.close_second(self.kernel.now, self.requests.live as u32, self.balancers.lb_queued, conns, lag);
        self.kernel.queue.push(self.kernel.now + US_PER_S, Ev::Sample);
    }

    /// Record a state change on the timeline and in the trace.
    pub(crate) fn note(&mut self, subject: Subject, event: NodeEvent) {
        self.timeline.push(TimelineEntry { at: self.kernel.now, subject, event });
        self.trace.record(self.kernel.now, 0, TraceKind::State(subject, event));
    }

    /// Fraction of time each server's workers were busy since the statistics started.
    pub fn utilization(&self) -> Vec<f64> {
        self.farm.utilization(self.kernel.now, self.kernel.stats_since)
    }

    /// Check the model's invariants; tests call this after every step.
    pub fn check_invariants(&self) -> Result<(), String> {
        let live = self.requests.slots.iter().filter(|q| q.stage != Stage::Free).count() as u64;
        if live != self.requests.live {
            return Err(format!("{live} live request slots but {} counted", self.requests.live));
        }
        let all = &self.metrics.all;
        if all.arrived != all.completed + all.failed() + live {
            return Err(format!(
                "conservation broken: arrived {} != completed {} + failed {} + in flight {live}",
                all.arrived,
                all.completed,
                all.failed()
            ));
        }
        let m = &self.metrics.measured;
        let live_measured = self.requests.slots.iter().filter(|q| q.stage != Stage::Free && q.measured).count() as u64;
        if m.arrived != m.completed + m.failed() + live_measured {
            return Err("conservation broken for measured requests".into());
        }
        let queued = self.requests.slots.iter().filter(|q| q.stage == Stage::Queued).count() as u32;
        if queued != self.balancers.lb_queued {
            return Err(format!("{queued} requests queued but the balancer counts {}", self.balancers.lb_queued));
        }
        self.check_farm_invariants()?;
        self.check_replication_invariants()
    }

    /// Replicas never pass the primary; two writable primaries or two VRRP masters only
    /// while a split brain is counted.
    fn check_replication_invariants(&self) -> Result<(), String> {
        if let Some(primary) = self.db.nodes.get(self.db.primary) {
            for (n, d) in self.db.nodes.iter().enumerate() {
                let follows = matches!(self.db_role(n), database::DbRole::Replica | database::DbRole::Promoting);
                if follows && (d.applied > d.received || d.received > primary.received) {
                    return Err(format!(
                        "db{}: applied {} received {} beyond the primary's {}",
                        n + 1,
                        d.applied,
                        d.received,
                        primary.received
                    ));
                }
            }
        }
        if self.db.second_primary.is_some() && (self.scenario.db.fencing || !self.db.split_brain.is_running()) {
            return Err("a second writable primary that is neither allowed (fencing off) nor counted".into());
        }
        let masters = self.balancers.lbs.iter().filter(|l| l.keepalived && l.role == VrrpRole::Master).count();
        if self.scenario.balancer.pair_mode == PairMode::Vrrp
            && masters > 1
            && !self.is_cut(NodeId::Lb(0), NodeId::Lb(1))
            && !self.balancers.split_brain.is_running()
        {
            return Err("two VRRP masters while their link is up and no split brain is counted".into());
        }
        Ok(())
    }

    pub(crate) fn db_waiting(&self, n: usize) -> u32 {
        self.db.nodes.get(n).map_or(0, |d| d.waiting.len() as u32)
    }
}

/// The low 32 bits of `x` as a uniform number in [0, 1).
fn unit32(x: u64) -> f64 {
    // Through u32: converting a 32-bit integer to f64 is one instruction, a u64 several.
    x as u32 as f64 / 4_294_967_296.0
}

/// Whether `ev` is the far-end event of a request travelling in `stage`.
fn link_event_matches(stage: Stage, ev: Ev) -> bool {
    matches!(
        (stage, ev),
        (Stage::Dns, Ev::DnsDone(_))
            | (Stage::ToLb, Ev::ReachLb(_))
            | (Stage::ToWeb, Ev::ReachWeb(_))
            | (Stage::Refused, Ev::ConnectFailed(_))
            | (Stage::ToApp, Ev::ReachApp(_))
            | (Stage::AppRefused, Ev::AppRefusedAtWeb(_))
            | (Stage::FromApp, Ev::AppReplyAtWeb(_))
            | (Stage::ToDb, Ev::ReachDb(_))
            | (Stage::FromDb, Ev::DbReplyAtWeb(_))
            | (Stage::ToLbReply, Ev::ReplyAtLb(_))
            | (Stage::ToClient | Stage::ErrorToClient, Ev::ReplyAtClient(_))
    )
}

#[cfg(test)]
mod size_tests {
    /// Heap entries are (time, sequence, event): keeping events at 16 bytes keeps the heap's
    /// moves cheap, which is most of the benchmark's cost.
    #[test]
    fn events_stay_small() {
        assert!(std::mem::size_of::<super::Ev>() <= 16, "{}", std::mem::size_of::<super::Ev>());
    }
}
