//! The discrete-event model: clients → DNS → balancer → web servers → database, and back.
//!
//! A request's life, each arrow an event at a simulated microsecond:
//! arrival (+DNS lookup if the client's answer expired) → reaches the balancer (the floating
//! IP's owner) → dispatched (or queued, or 503) → reaches a web server (or is refused, and the
//! balancer retries) → waits for a worker → application time → database query (read to a replica
//! or the primary, write to the primary) → worker free → response through the balancer
//! (connection slot free) → client.
//!
//! Child modules: `ha` (health checks, backups, slowstart, the VRRP pair) and `faults`
//! (kill/restore/slow, cut/heal links, random failures).

mod balancers;
mod binlog;
mod clients;
mod database;
mod edge;
mod farm;
mod faults;
mod ha;
mod kernel;
mod machines;
mod monitoring;
mod requests;
mod security;
mod timer;

use balancers::LbState;
use balancers::{new_candidate, WEIGHT_SCALE};
use farm::new_web_state;
pub(crate) use requests::{ReqRef, Request};

use super::balancer::{update_pool, Choice};
use super::command::{Command, CommandKind, NodeClass};
use super::metrics::{jain_fairness, FailCause, Metrics, Ring};
use super::node::{Link, NodeId};
use super::rng::{exponential_from, lognormal_from, mix64, uniform};
use super::time::{from_ms, from_s, SimTime, MAX_DURATION_US, US_PER_S};
use super::trace::{NodeEvent, Subject, Trace, TraceKind};
use crate::scenario::{Algorithm, Distribution, PairMode, Scenario};
use rand::RngCore;
use serde::Serialize;

pub use binlog::BINLOG_TIMES_CAPACITY;
pub use database::{DbRole, ReportedLag, LAG_WHEN_NULL_MS, REBUILD_POSITIONS_PER_S, REBUILD_SETUP_MS};
pub use ha::{HealthState, VrrpRole};
pub use security::{MonitorView, SecurityStats, SnifferLine};

#[rustfmt::skip]
// Ordered so a machine's CPU can keep the event that ends a piece of work as its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Ev {
    /// The next client request (the queue's single event: rescheduling replaces it).
    Arrival,
    /// A traffic burst starts or ends.
    BurstEdge,
    DnsDone(ReqRef),
    ReachLb(ReqRef),
    ReachWeb(ReqRef),
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
    RandomFailure { node: NodeId, generation: u32 },
    RandomRepair { node: NodeId },
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
            metrics: Metrics::new(),
            trace: Trace::new(trace.enabled, trace.capacity),
            timeline: Ring::new(TIMELINE_CAPACITY),
            initial_scenario: scenario.clone(),
            scenario,
        };
        sim.refresh_candidates();
        sim.schedule_next_arrival();
        sim.kernel.queue.push(US_PER_S, Ev::Sample);
        if sim.kernel.warmup_end > 0 {
            sim.kernel.queue.push(sim.kernel.warmup_end, Ev::WarmupEnd);
        }
        if sim.scenario.traffic.burst.enabled {
            sim.kernel.queue.push(from_s(sim.scenario.traffic.burst.period_s), Ev::BurstEdge);
        }
        for i in 0..sim.farm.servers.len() {
            sim.schedule_first_check(i);
        }
        sim.start_balancers();
        for class in NodeClass::ALL {
            sim.schedule_random_failures(class);
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
        let open = self.balancers.split_brain_since.map_or(0, |since| self.kernel.now - since);
        (self.balancers.split_brain_us + open) as f64 / US_PER_S as f64
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
                NodeId::Lb(k) => (k as usize) < self.balancers.lbs.len(),
                NodeId::Web(i) => (i as usize) < self.farm.servers.len(),
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
            CommandKind::Rebuild { node } => {
                exists(node)?;
                match node {
                    NodeId::Db(_) => Ok(()),
                    _ => Err(format!("{node} cannot be rebuilt: only database nodes are re-cloned from the primary")),
                }
            }
            CommandKind::Slow { node, .. } => {
                exists(node)?;
                if matches!(node, NodeId::Web(_) | NodeId::Db(_)) {
                    Ok(())
                } else {
                    Err(format!("{node} cannot be slowed: only web servers and databases do work that takes time"))
                }
            }
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
        match what {
            CommandKind::SetArrivalRate { per_s } => {
                self.scenario.traffic.arrival_rate_per_s = per_s;
                self.schedule_next_arrival();
            }
            CommandKind::SetWriteRatio { ratio } => self.scenario.traffic.write_ratio = ratio,
            CommandKind::SetAlgorithm { algorithm } => {
                self.scenario.balancer.algorithm = algorithm;
                self.refresh_candidates();
            }
            CommandKind::SetRandomDraws { draws } => self.scenario.balancer.random_draws = draws,
            CommandKind::SetWeight { server, weight } => {
                let i = server as usize;
                self.farm.servers[i].weight = weight;
                if let Some(spec) = self.scenario.web.servers.get_mut(i) {
                    spec.weight = weight;
                }
                self.refresh_candidates();
                self.serve_all_queues();
            }
            CommandKind::SetServerCount { count } => {
                let count = count as usize;
                while self.farm.servers.len() < count {
                    let template = self.scenario.web.servers.last().cloned().unwrap_or_default();
                    self.farm.servers.push(new_web_state(template.clone()));
                    self.balancers.candidates.push(new_candidate(&template));
                    self.schedule_first_check(self.farm.servers.len() - 1);
                }
                for (i, w) in self.farm.servers.iter_mut().enumerate() {
                    w.active = i < count;
                }
                let template = self.scenario.web.servers.last().cloned().unwrap_or_default();
                self.scenario.web.servers.resize(count, template);
                self.refresh_candidates();
                self.serve_all_queues();
            }
            CommandKind::SetMaxconn { maxconn } => {
                for (w, c) in self.farm.servers.iter_mut().zip(self.balancers.candidates.iter_mut()) {
                    w.spec.maxconn = maxconn;
                    c.maxconn = maxconn;
                }
                for s in &mut self.scenario.web.servers {
                    s.maxconn = maxconn;
                }
                self.serve_all_queues();
            }
            CommandKind::SetMaxqueue { maxqueue } => self.scenario.balancer.maxqueue = maxqueue,
            CommandKind::SetTimeoutQueue { ms } => {
                self.scenario.balancer.timeout_queue_ms = ms;
                // A shorter timeout may already be due; the pending check firing early is harmless.
                self.balancers.queue_timer.disarm();
                self.expire_queued();
            }
            CommandKind::Pause | CommandKind::Resume | CommandKind::SetSpeed { .. } => {}
            CommandKind::Kill { node } => self.kill(node),
            CommandKind::Stop { node } => self.stop(node),
            CommandKind::Restore { node } => self.restore(node),
            CommandKind::KillMachine { machine } => self.kill_machine(self.machine_named(&machine)),
            CommandKind::RestoreMachine { machine } => self.restore_machine(self.machine_named(&machine)),
            CommandKind::SlowMachine { machine, factor } => self.slow_machine(self.machine_named(&machine), factor),
            CommandKind::Slow { node, factor } => self.slow(node, factor),
            CommandKind::Cut { link } => self.cut(link),
            CommandKind::Heal { link } => self.heal(link),
            CommandKind::SetBackup { server, backup } => {
                let i = server as usize;
                self.farm.servers[i].spec.backup = backup;
                if let Some(spec) = self.scenario.web.servers.get_mut(i) {
                    spec.backup = backup;
                }
                self.refresh_candidates();
                self.serve_all_queues();
            }
            CommandKind::SetAllBackups { on } => {
                self.scenario.balancer.allbackups = on;
                self.refresh_candidates();
                self.serve_all_queues();
            }
            CommandKind::SetRetries { retries } => self.scenario.balancer.retries = retries,
            CommandKind::SetRedispatch { on } => self.scenario.balancer.redispatch = on,
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
            CommandKind::SetHttps { on } => self.scenario.security.https = on,
            CommandKind::SetFirewall { on } => self.scenario.security.firewall = on,
            CommandKind::SetMonitoring { on } => {
                self.scenario.monitoring.enabled = on;
                self.schedule_monitoring();
            }
            CommandKind::SetFailureRate { class, mtbf_s, mttr_s } => {
                let rate = self.failure_rate_mut(class);
                rate.mtbf_s = mtbf_s;
                rate.mttr_s = mttr_s;
                self.kernel.failure_generation[class as usize].bump();
                self.schedule_random_failures(class);
            }
        }
    }

    /// Push each server's weight in force, usability and pool membership to the balancer.
    pub(crate) fn refresh_candidates(&mut self) {
        let static_rr = self.scenario.balancer.algorithm == Algorithm::StaticRr;
        let slowstart = from_ms(self.scenario.balancer.slowstart_ms);
        let now = self.kernel.now;
        let mut ramp_until = 0;
        for (w, c) in self.farm.servers.iter().zip(self.balancers.candidates.iter_mut()) {
            // static-rr: weights are fixed at start; a runtime weight can only drain (0) or restore.
            let mut weight = WEIGHT_SCALE * if static_rr && w.weight > 0 { w.start_weight } else { w.weight };
            // slowstart: a server back UP ramps from ~0 to its full weight.
            if slowstart > 0 && w.up_since > 0 && now < w.up_since + slowstart && weight > 0 {
                let elapsed = now - w.up_since;
                weight = ((weight as u64 * elapsed).div_ceil(slowstart) as u32).max(1);
                ramp_until = ramp_until.max(w.up_since + slowstart);
            }
            c.weight = weight;
            c.usable = w.active && w.health.is_up();
            c.backup = w.spec.backup;
        }
        self.balancers.ramp_until = ramp_until;
        update_pool(&mut self.balancers.candidates, self.scenario.balancer.allbackups);
    }

    fn current_arrival_rate(&self) -> f64 {
        let t = &self.scenario.traffic;
        let multiplier = if self.clients.burst_on { t.burst.multiplier } else { 1.0 };
        t.arrival_rate_per_s * multiplier
    }

    /// Draw the next arrival from now at the current rate. Poisson arrivals are memoryless, so
    /// redrawing when the rate changes is exact; the new one replaces the pending one.
    fn schedule_next_arrival(&mut self) {
        self.schedule_arrival_after(self.kernel.now as f64);
    }

    /// Draw the next arrival a gap after `base_us`, kept in fractional microseconds: the clock
    /// rounds each arrival to its microsecond, but the gaps add up exactly, so a rate above one
    /// per microsecond still gives rate × time arrivals (several share a microsecond).
    fn schedule_arrival_after(&mut self, base_us: f64) {
        let rate = self.current_arrival_rate();
        if rate <= 0.0 {
            self.kernel.queue.cancel_single();
            return;
        }
        let gap_us = exponential_from(uniform(&mut self.kernel.rngs.arrivals), US_PER_S as f64 / rate);
        let exact_us = (base_us + gap_us).min(MAX_DURATION_US as f64);
        self.clients.arrival_exact_us = exact_us;
        // Rounded to the nearest microsecond, never before now (`base_us` may be up to half a
        // microsecond behind the clock).
        let at = ((exact_us + 0.5) as SimTime).max(self.kernel.now);
        self.kernel.queue.schedule_single(at, Ev::Arrival);
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
            | Ev::ReachDb(_)
            | Ev::DbReplyAtWeb(_)
            | Ev::ReplyAtLb(_)
            | Ev::ReplyAtClient(_) => self.arrive(ev),
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
            Ev::RandomFailure { node, generation } if self.failure_rate_is(node, generation) => {
                self.on_random_failure(node)
            }
            Ev::RandomRepair { node } => self.on_random_repair(node),
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
            Ev::ReachDb(r) => self.on_reach_db(r),
            Ev::DbReplyAtWeb(r) => self.on_db_reply_at_web(r),
            Ev::ReplyAtLb(r) => self.on_reply_at_lb(r),
            Ev::ReplyAtClient(r) => self.on_reply_at_client(r),
            _ => {}
        }
    }

    #[inline(never)]
    fn on_burst_edge(&mut self) {
        let b = self.scenario.traffic.burst.clone();
        self.clients.burst_on = !self.clients.burst_on && b.enabled;
        let next = if self.clients.burst_on { b.duration_s } else { (b.period_s - b.duration_s).max(0.0) };
        if b.enabled {
            self.kernel.queue.push(self.kernel.now + from_s(next).max(1), Ev::BurstEdge);
        }
        self.schedule_next_arrival();
    }

    #[inline]
    pub(crate) fn is_cut(&self, a: NodeId, b: NodeId) -> bool {
        !self.edge.cut_links.is_empty() && self.edge.cut_links.contains(&Link::new(a, b))
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

    fn client_latency(&self) -> SimTime {
        self.kernel.client_latency_us
    }

    fn on_arrival(&mut self) {
        let clients = self.scenario.traffic.clients.max(1);
        let rng = &mut self.kernel.rngs.arrivals;
        // A fixed number of draws per arrival keeps the traffic identical across designs. Two
        // 64-bit words carry four 32-bit uniforms: client, read/write, and the request's work
        // on the web server and on the database.
        let (a, b) = (rng.next_u64(), rng.next_u64());
        let client = ((unit32(a >> 32) * clients as f64) as u32).min(clients - 1);
        let write = unit32(a) < self.scenario.traffic.write_ratio;
        // The same draw, so the traffic is unchanged: a write is read back with this share.
        let read_back_below = self.scenario.traffic.write_ratio * self.scenario.traffic.read_own_write_ratio;
        let read_back =
            if write && unit32(a) < read_back_below { database::ReadBack::Wanted } else { database::ReadBack::No };
        let web_u = unit32(b >> 32);
        let db_u = unit32(b);
        self.schedule_arrival_after(self.clients.arrival_exact_us);

        let measured = self.kernel.now >= self.kernel.warmup_end;
        let id = self.requests.take_id();
        if self.requests.live >= MAX_LIVE_REQUESTS {
            self.refuse_beyond_model_limit(id, client, write, measured);
            return;
        }
        let request = Request {
            generation: 0,
            id,
            client,
            write,
            measured,
            arrived_at: self.kernel.now,
            web_u,
            db_u,
            lb: 0,
            at_lb: false,
            server: None,
            db: 0,
            attempts: 0,
            excluded: None,
            stage: Stage::Free,
            hop: (NodeId::Clients, NodeId::Clients),
            hop_start: self.kernel.now,
            hop_end: self.kernel.now,
            fail: None,
            read_back,
        };
        let r = self.requests.alloc(request);
        self.metrics.on_arrival(measured, write);
        self.trace.record(self.kernel.now, id, TraceKind::Arrive { client, write });

        // The client resolves www.foobar.com unless its cached answer is still fresh.
        let c = client as usize;
        if c < self.clients.dns_expiry.len() && self.kernel.now >= self.clients.dns_expiry[c] {
            if !self.edge.dns_alive || self.is_cut(NodeId::Clients, NodeId::Dns) {
                self.fail_now(r, FailCause::DnsFailure);
                return;
            }
            let net = &self.scenario.network;
            let lookup = from_ms(net.dns_lookup_ms);
            self.clients.dns_expiry[c] = self.kernel.now + lookup + from_s(net.dns_ttl_s);
            if !self.clients.client_lb.is_empty() {
                self.clients.client_lb[c] = self.resolve_balancer(client);
            }
            if lookup > 0 {
                self.trace.record(self.kernel.now, id, TraceKind::DnsLookup);
                self.travel(r, Stage::Dns, NodeId::Clients, NodeId::Dns, lookup, Ev::DnsDone(r));
                return;
            }
        }
        self.send_to_lb(r);
    }

    /// An arrival the model does not simulate (it holds `MAX_LIVE_REQUESTS`): counted as
    /// arrived and failed at once, with no request slot, so memory stays bounded.
    fn refuse_beyond_model_limit(&mut self, id: u64, client: u32, write: bool, measured: bool) {
        self.metrics.on_arrival(measured, write);
        self.metrics.on_fail(measured, FailCause::ModelLimit, write);
        self.trace.record(self.kernel.now, id, TraceKind::Arrive { client, write });
        self.trace.record(self.kernel.now, id, TraceKind::Fail { cause: FailCause::ModelLimit, lb: None });
    }

    /// Active-active pair: the DNS answer a client gets, among the balancers alive now (the
    /// DNS service is assumed to check its targets; the client keeps the answer for the TTL).
    fn resolve_balancer(&mut self, client: u32) -> u8 {
        self.clients.dns_lookups += 1;
        let alive: Vec<u8> =
            (0..self.balancers.lbs.len() as u8).filter(|&k| self.balancers.lbs[k as usize].alive).collect();
        if alive.is_empty() {
            return 0;
        }
        alive[(mix64(((client as u64) << 32) ^ self.clients.dns_lookups) % alive.len() as u64) as usize]
    }

    /// The balancer a client's packets reach now: the single one, the floating IP's owner, or
    /// the one its DNS answer names.
    fn entry_balancer(&self, client: u32) -> Option<u8> {
        if self.balancers.lbs.len() == 1 {
            return Some(0);
        }
        match self.scenario.balancer.pair_mode {
            PairMode::Vrrp => self.vip_owner(),
            PairMode::Dns => self.clients.client_lb.get(client as usize).copied(),
        }
    }

    fn send_to_lb(&mut self, r: ReqRef) {
        let client = self.requests.get(r).client;
        let Some(lb) = self.entry_balancer(client) else {
            self.fail_now(r, FailCause::LbDown);
            return;
        };
        if self.is_cut(NodeId::Clients, NodeId::Lb(lb)) {
            self.fail_now(r, FailCause::Unreachable);
            return;
        }
        self.requests.get_mut(r).lb = lb;
        self.requests.get_mut(r).at_lb = true;
        self.crossed_public_link(r);
        let delay = self.client_latency();
        self.travel(r, Stage::ToLb, NodeId::Clients, NodeId::Lb(lb), delay, Ev::ReachLb(r));
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

    /// The balancer's decision for a request that has just reached it (or is redispatched).
    fn dispatch(&mut self, r: ReqRef) {
        if self.kernel.now < self.balancers.ramp_until {
            self.refresh_candidates();
        }
        let (client, avoid) = (self.requests.get(r).client, self.requests.get(r).excluded.map(usize::from));
        let b = &self.scenario.balancer;
        let choice = self.balancers.selector.choose(
            b.algorithm,
            b.random_draws,
            &mut self.balancers.candidates,
            client,
            avoid,
            &mut self.kernel.rngs.routing,
        );
        match choice {
            Choice::Server(i) => self.send_to_server(r, i),
            Choice::WaitFor(i) => self.enqueue(r, Some(i)),
            Choice::Queue => self.enqueue(r, None),
            Choice::NoServer => self.fail_at_lb(r, FailCause::NoServer),
        }
    }

    fn enqueue(&mut self, r: ReqRef, server: Option<usize>) {
        if self.balancers.lb_queued >= queue_bound(self.scenario.balancer.maxqueue) {
            self.fail_at_lb(r, FailCause::QueueFull);
            return;
        }
        let now = self.kernel.now;
        let id = self.requests.get(r).id;
        let lb = self.requests.get(r).lb;
        {
            let q = self.requests.get_mut(r);
            q.stage = Stage::Queued;
            q.server = server.map(|i| i as u16);
            q.hop = (NodeId::Lb(lb), NodeId::Lb(lb));
            q.hop_start = now;
        }
        self.balancers.lb_queued += 1;
        match server {
            Some(i) => {
                self.farm.servers[i].own_queue.push_back(r);
                self.balancers.candidates[i].queued += 1;
            }
            None => self.balancers.lb_queue.push_back(r),
        }
        self.trace.record(now, id, TraceKind::Queued { lb });
        self.arm_queue_timer();
    }

    /// The oldest live request waiting in any balancer queue, and when it was queued.
    fn oldest_queued(&mut self) -> Option<(ReqRef, SimTime)> {
        let mut oldest: Option<(ReqRef, SimTime)> = None;
        for i in 0..self.farm.servers.len() {
            self.drop_stale_heads(i);
            if let Some(&r) = self.farm.servers[i].own_queue.front() {
                let t = self.requests.get(r).hop_start;
                if oldest.is_none_or(|(_, o)| t < o) {
                    oldest = Some((r, t));
                }
            }
        }
        if let Some(&r) = self.balancers.lb_queue.front() {
            let t = self.requests.get(r).hop_start;
            if oldest.is_none_or(|(_, o)| t < o) {
                oldest = Some((r, t));
            }
        }
        oldest
    }

    /// Make sure a timer will fire when the oldest queued request reaches `timeout queue`.
    fn arm_queue_timer(&mut self) {
        let timeout = from_ms(self.scenario.balancer.timeout_queue_ms);
        if self.balancers.queue_timer.is_armed() || timeout == 0 || self.balancers.lb_queued == 0 {
            return;
        }
        if let Some((_, since)) = self.oldest_queued() {
            self.balancers.queue_timer.arm();
            self.kernel.queue.push((since + timeout).max(self.kernel.now), Ev::QueueTimer);
        }
    }

    /// Answer 503 to every queued request that has waited `timeout queue`, then re-arm.
    #[inline(never)]
    fn expire_queued(&mut self) {
        let timeout = from_ms(self.scenario.balancer.timeout_queue_ms);
        if timeout == 0 {
            return;
        }
        while let Some((r, since)) = self.oldest_queued() {
            if since + timeout > self.kernel.now {
                break;
            }
            self.unqueue(r);
            self.fail_at_lb(r, FailCause::QueueTimeout);
        }
        self.arm_queue_timer();
    }

    /// Take a request out of the balancer's queue bookkeeping (its deque entry goes stale).
    fn unqueue(&mut self, r: ReqRef) {
        self.balancers.lb_queued -= 1;
        if let Some(i) = self.requests.get(r).server {
            self.balancers.candidates[i as usize].queued -= 1;
        }
        self.requests.get_mut(r).stage = Stage::Free; // transitional; callers set the next stage
    }

    fn send_to_server(&mut self, r: ReqRef, i: usize) {
        self.balancers.candidates[i].conns += 1;
        let (id, lb) = (self.requests.get(r).id, self.requests.get(r).lb);
        self.requests.get_mut(r).server = Some(i as u16);
        self.trace.record(self.kernel.now, id, TraceKind::Dispatch { lb, to: NodeId::Web(i as u16) });
        let lan = self.lan();
        self.travel(r, Stage::ToWeb, NodeId::Lb(lb), NodeId::Web(i as u16), lan, Ev::ReachWeb(r));
    }

    /// A connection slot on server `i` opened: serve the oldest request waiting for it, either
    /// in its own queue or in the shared queue (HAProxy's process_srv_queue).
    fn serve_queue(&mut self, i: usize) {
        loop {
            let c = &self.balancers.candidates[i];
            if !(c.maxconn == 0 || c.conns < c.maxconn) || !c.usable {
                return;
            }
            self.drop_stale_heads(i);
            let own = self.farm.servers[i].own_queue.front().copied();
            let c = &self.balancers.candidates[i];
            let shared = if c.in_pool && c.weight > 0 { self.balancers.lb_queue.front().copied() } else { None };
            let pick = match (own, shared) {
                (Some(a), Some(b)) => {
                    if self.requests.get(a).hop_start <= self.requests.get(b).hop_start {
                        self.farm.servers[i].own_queue.pop_front()
                    } else {
                        self.balancers.lb_queue.pop_front()
                    }
                }
                (Some(_), None) => self.farm.servers[i].own_queue.pop_front(),
                (None, Some(_)) => self.balancers.lb_queue.pop_front(),
                (None, None) => None,
            };
            let Some(r) = pick else { return };
            self.unqueue(r);
            self.send_to_server(r, i);
        }
    }

    fn serve_all_queues(&mut self) {
        for i in 0..self.farm.servers.len() {
            self.serve_queue(i);
        }
    }

    /// Queue entries whose request timed out are removed lazily, here.
    fn drop_stale_heads(&mut self, i: usize) {
        while let Some(&r) = self.farm.servers[i].own_queue.front() {
            if self.requests.is_at(r, Stage::Queued) {
                break;
            }
            self.farm.servers[i].own_queue.pop_front();
        }
        while let Some(&r) = self.balancers.lb_queue.front() {
            if self.requests.is_at(r, Stage::Queued) {
                break;
            }
            self.balancers.lb_queue.pop_front();
        }
    }

    /// The balancer answers with an error itself; the answer travels back to the client.
    fn fail_at_lb(&mut self, r: ReqRef, cause: FailCause) {
        let lb = self.requests.get(r).lb;
        self.requests.get_mut(r).fail = Some(cause);
        if self.is_cut(NodeId::Clients, NodeId::Lb(lb)) {
            self.fail_now(r, FailCause::Unreachable);
            return;
        }
        let back = self.client_latency();
        self.travel(r, Stage::ErrorToClient, NodeId::Lb(lb), NodeId::Clients, back, Ev::ReplyAtClient(r));
    }

    /// The request ends here with no answer reaching the client (counted at once).
    fn fail_now(&mut self, r: ReqRef, cause: FailCause) {
        self.requests.get_mut(r).fail = Some(cause);
        self.requests.get_mut(r).stage = Stage::ToClient;
        self.on_reply_at_client(r);
    }

    fn on_reach_web(&mut self, r: ReqRef) {
        let i = self.requests.server_of(r);
        let lb = self.requests.get(r).lb;
        let w = &self.farm.servers[i];
        let backlog_full = w.busy >= w.spec.workers && w.waiting.len() as u32 >= backlog_bound(w.spec.backlog);
        if !w.alive || backlog_full || self.is_cut(NodeId::Lb(lb), NodeId::Web(i as u16)) {
            // Connection refused (reset): the balancer learns it one hop later.
            let lan = self.lan();
            self.travel(r, Stage::Refused, NodeId::Web(i as u16), NodeId::Lb(lb), lan, Ev::ConnectFailed(r));
            return;
        }
        if self.farm.servers[i].busy < self.farm.servers[i].spec.workers {
            self.start_app(r, i);
        } else {
            self.requests.get_mut(r).stage = Stage::WebWait;
            self.farm.servers[i].waiting.push_back(r);
        }
    }

    /// HAProxy 2.6 `retries` and `option redispatch` (back_handle_st_cer and
    /// stream_choose_redispatch): after `retries` retries the request gets a 503. Before
    /// that, with `option redispatch` the retry is balanced again, avoiding the server that
    /// refused, when that server is no longer plainly UP, when this is the last retry, or
    /// when the algorithm is not a hash and more than one active server is up (no
    /// persistence to keep); otherwise the same server is retried, even once marked DOWN.
    /// The one-second turn-around is waited only before retrying the same server or when at
    /// most one active server is up.
    #[inline(never)]
    fn on_connect_failed(&mut self, r: ReqRef) {
        let i = self.requests.server_of(r);
        self.balancers.candidates[i].conns -= 1;
        self.serve_queue(i);
        let lb = self.requests.get(r).lb as usize;
        if !self.balancers.lbs[lb].alive {
            self.fail_now(r, FailCause::LbDown);
            return;
        }
        let failures = self.requests.get(r).attempts as u32 + 1;
        self.requests.get_mut(r).attempts = failures.min(255) as u8;
        let retries = self.scenario.balancer.retries;
        if failures > retries {
            self.fail_at_lb(r, FailCause::ConnectFailed);
            return;
        }
        let active_up = self.balancers.candidates.iter().filter(|c| !c.backup && c.usable && c.weight > 0).count();
        if self.should_redispatch(i, failures, active_up) {
            self.requests.get_mut(r).excluded = Some(i as u16);
            if active_up > 1 {
                self.dispatch(r);
                return;
            }
            // Balanced again after the turn-around: `server` None marks the retry as a redispatch.
            self.requests.get_mut(r).server = None;
        }
        self.wait_turn_around(r, lb);
    }

    /// stream_choose_redispatch's test, `failures` being the retry about to be made.
    fn should_redispatch(&self, i: usize, failures: u32, active_up: usize) -> bool {
        let b = &self.scenario.balancer;
        if !b.redispatch {
            return false;
        }
        // HAProxy's cur_state < SRV_ST_RUNNING: marked DOWN, or still ramping in (slowstart).
        let w = &self.farm.servers[i];
        let slowstart = from_ms(b.slowstart_ms);
        let ramping = slowstart > 0 && w.up_since > 0 && self.kernel.now < w.up_since + slowstart;
        let not_running = !w.active || !w.health.is_up() || ramping;
        let last_retry = failures == b.retries;
        let no_persistence = b.algorithm != Algorithm::Source && active_up > 1;
        not_running || last_retry || no_persistence
    }

    /// HAProxy's turn-around state (SC_ST_TAR): one second (min(1 s, `timeout connect`)).
    fn wait_turn_around(&mut self, r: ReqRef, lb: usize) {
        let now = self.kernel.now;
        let q = self.requests.get_mut(r);
        q.stage = Stage::RetryWait;
        q.hop = (NodeId::Lb(lb as u8), NodeId::Lb(lb as u8));
        q.hop_start = now;
        self.kernel.queue.push(now + US_PER_S, Ev::Retry(r));
    }

    /// After the turn-around: balance again (a redispatch), or retry the same server.
    #[inline(never)]
    fn on_retry(&mut self, r: ReqRef) {
        let Some(server) = self.requests.get(r).server else {
            self.dispatch(r);
            return;
        };
        let i = server as usize;
        if !self.farm.servers[i].active {
            // Removed from the farm meanwhile (a model-only case): the balancer picks another.
            self.requests.get_mut(r).excluded = Some(server);
            self.dispatch(r);
            return;
        }
        // The stream stays assigned to its server, whatever the checks now say of it.
        let c = &self.balancers.candidates[i];
        if c.usable && c.maxconn != 0 && c.conns >= c.maxconn {
            self.enqueue(r, Some(i));
        } else {
            self.send_to_server(r, i);
        }
    }

    fn set_busy(&mut self, i: usize, delta: i32) {
        let now = self.kernel.now;
        let w = &mut self.farm.servers[i];
        // Through i64 (a duration is far below 2^63): one instruction instead of several.
        w.busy_area_us += w.busy as f64 * (now - w.busy_since) as i64 as f64;
        w.busy_since = now;
        w.busy = (w.busy as i32 + delta).max(0) as u32;
    }

    fn start_app(&mut self, r: ReqRef, i: usize) {
        self.set_busy(i, 1);
        let (id, u) = (self.requests.get(r).id, self.requests.get(r).web_u);
        let w = &self.farm.servers[i];
        let spec = &w.spec;
        let ms = match spec.service_distribution {
            Distribution::Exponential => exponential_from(u, spec.service_time_ms),
            Distribution::Constant => spec.service_time_ms,
            Distribution::Lognormal => lognormal_from(u, spec.service_time_ms, spec.service_time_cv),
        } * w.slow;
        self.trace.record(self.kernel.now, id, TraceKind::Start(NodeId::Web(i as u16)));
        let now = self.kernel.now;
        let q = self.requests.get_mut(r);
        q.stage = Stage::App;
        q.hop = (NodeId::Web(i as u16), NodeId::Web(i as u16));
        q.hop_start = now;
        self.run_work(NodeId::Web(i as u16), from_ms(ms), Ev::AppDone(r));
    }

    /// Start the next request waiting at server `i`, skipping any that left meanwhile.
    fn start_next_waiting(&mut self, i: usize) {
        while let Some(next) = self.farm.servers[i].waiting.pop_front() {
            if self.requests.is_at(next, Stage::WebWait) {
                self.start_app(next, i);
                return;
            }
        }
    }

    fn on_app_done(&mut self, r: ReqRef) {
        let i = self.requests.server_of(r);
        if self.db.nodes.is_empty() {
            self.finish_at_web(r, i);
            return;
        }
        let write = self.requests.get(r).write;
        let node = self.database_for(write, i);
        let id = self.requests.get(r).id;
        self.requests.get_mut(r).db = node as u8;
        self.trace.record(self.kernel.now, id, TraceKind::Query(NodeId::Db(node as u8)));
        let lan = self.lan();
        self.travel(r, Stage::ToDb, NodeId::Web(i as u16), NodeId::Db(node as u8), lan, Ev::ReachDb(r));
    }

    /// The application has its answer (or an error): the worker is free, the response goes back.
    fn finish_at_web(&mut self, r: ReqRef, i: usize) {
        self.set_busy(i, -1);
        self.start_next_waiting(i);
        let lb = self.requests.get(r).lb;
        let lan = self.lan();
        self.travel(r, Stage::ToLbReply, NodeId::Web(i as u16), NodeId::Lb(lb), lan, Ev::ReplyAtLb(r));
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
        if self.is_cut(NodeId::Clients, NodeId::Lb(lb)) {
            self.fail_now(r, FailCause::Unreachable);
            return;
        }
        let back = self.client_latency();
        let stage = if self.requests.get(r).fail.is_some() { Stage::ErrorToClient } else { Stage::ToClient };
        self.travel(r, stage, NodeId::Lb(lb), NodeId::Clients, back, Ev::ReplyAtClient(r));
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
        let elapsed = self.kernel.now.saturating_sub(self.kernel.stats_since) as f64;
        self.farm
            .servers
            .iter()
            .map(|w| {
                let area = w.busy_area_us + w.busy as f64 * (self.kernel.now - w.busy_since) as f64;
                if elapsed <= 0.0 {
                    0.0
                } else {
                    area / (elapsed * w.spec.workers.max(1) as f64)
                }
            })
            .collect()
    }

    /// Jain's fairness index of utilization over the servers that take balanced traffic.
    pub fn fairness_jain(&self) -> f64 {
        let util = self.utilization();
        let loads: Vec<f64> = self
            .farm
            .servers
            .iter()
            .zip(util)
            .filter(|(w, _)| w.active && w.weight > 0 && !w.spec.backup)
            .map(|(_, u)| u)
            .collect();
        jain_fairness(&loads)
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
        for (i, (w, c)) in self.farm.servers.iter().zip(&self.balancers.candidates).enumerate() {
            if w.busy > w.spec.workers {
                return Err(format!("web{} has {} busy workers of {}", i + 1, w.busy, w.spec.workers));
            }
            let holding =
                self.requests.slots.iter().filter(|q| q.server == Some(i as u16) && q.stage.holds_connection()).count()
                    as u32;
            if holding != c.conns {
                return Err(format!(
                    "web{}: {holding} requests hold a connection but the balancer counts {}",
                    i + 1,
                    c.conns
                ));
            }
            if c.maxconn > 0 && c.conns > c.maxconn {
                return Err(format!("web{} has {} connections over maxconn {}", i + 1, c.conns, c.maxconn));
            }
            let working =
                self.requests.slots.iter().filter(|q| q.server == Some(i as u16) && q.stage == Stage::App).count()
                    as u32;
            if w.alive && working > w.busy {
                return Err(format!("web{}: {working} requests in service but {} workers busy", i + 1, w.busy));
            }
        }
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
        if self.db.second_primary.is_some() && (self.scenario.db.fencing || self.db.db_split_since.is_none()) {
            return Err("a second writable primary that is neither allowed (fencing off) nor counted".into());
        }
        let masters = self.balancers.lbs.iter().filter(|l| l.alive && l.role == VrrpRole::Master).count();
        if self.scenario.balancer.pair_mode == PairMode::Vrrp
            && masters > 1
            && !self.is_cut(NodeId::Lb(0), NodeId::Lb(1))
            && self.balancers.split_brain_since.is_none()
        {
            return Err("two VRRP masters while their link is up and no split brain is counted".into());
        }
        Ok(())
    }

    /// Connections waiting for a worker on web server `i` (bounded by its backlog).
    pub fn web_waiting(&self, i: usize) -> u32 {
        self.farm.servers.get(i).map_or(0, |w| w.waiting.len() as u32)
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
