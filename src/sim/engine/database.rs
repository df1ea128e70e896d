//! The database tier (MySQL semantics, ../shared/reference.md): the read/write split (in the
//! application or through a lag-aware proxy), queries on the nodes, the primary's binary log
//! shipped to replicas that apply it in order at a finite rate (lag is a queue), semi-sync
//! acknowledgements with timeout fallback, and automatic failover with fencing.
//!
//! Shipping is two steps: an event *departs* the primary `ship_latency_ms` after its commit
//! (the dump thread's delay) and *arrives* one LAN hop later. A primary that crashes loses the
//! events that had not departed: under async replication those were already acknowledged to
//! clients, and a failover loses exactly them.

use super::timer::{Generation, Stopwatch, Timer};
use super::{DbStats, Ev, ReqRef, Sim, Stage};
use crate::scenario::{Failover, ReadFrom, Replication};
use crate::sim::metrics::FailCause;
use crate::sim::node::NodeId;
use crate::sim::rng::{exponential_from, uniform};
use crate::sim::time::{from_ms, from_s, to_ms, SimTime};
use crate::sim::trace::{NodeEvent, Subject, TraceKind};
use std::collections::VecDeque;

/// A database node's role, as the page shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbRole {
    Primary,
    Replica,
    /// Chosen by the failover manager; applying its relay log before taking writes.
    Promoting,
    /// An old primary shut out after a failover (it rejoins as a replica when it returns).
    Fenced,
    /// An old primary that came back writable without fencing: a second primary.
    SecondPrimary,
    /// Holds transactions the current primary never had (errant GTIDs): replication from the
    /// primary would stop with an error, so it stays out of the cluster until rebuilt.
    Diverged,
    /// Being re-cloned from the current primary (the rebuild command).
    Rebuilding,
}

/// A replica's lag as a monitor reads it: MySQL's `Seconds_Behind_Master` is NULL while the
/// replica receives nothing (its primary is down or unreachable).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ReportedLag {
    Ms(f64),
    Unknown,
}

impl ReportedLag {
    /// The lag a lag-aware proxy or alert acts on: ProxySQL's `mysql-monitor_slave_lag_when_null`
    /// counts an unknown lag as [`LAG_WHEN_NULL_MS`].
    pub fn as_monitored_ms(self) -> f64 {
        match self {
            ReportedLag::Ms(ms) => ms,
            ReportedLag::Unknown => LAG_WHEN_NULL_MS,
        }
    }
}

/// ProxySQL's default for `mysql-monitor_slave_lag_when_null` (60 s).
pub const LAG_WHEN_NULL_MS: f64 = 60_000.0;

/// A rebuild copies the primary's data (mariabackup or a dump) at this many binlog positions
/// (one write each) per second, after a fixed start-up; so it takes time proportional to data.
pub const REBUILD_POSITIONS_PER_S: f64 = 1_000.0;
pub const REBUILD_SETUP_MS: f64 = 1_000.0;

/// What the application does after a write (`traffic.read_own_write_ratio`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReadBack {
    No,
    /// This write will be read back at once by the same request.
    Wanted,
    /// Committed at this binlog position; the read follows when the answer reaches the web server.
    After(u64),
    /// The read-back query of the write at this position.
    Reading(u64),
}

/// Per-node state for divergence and rebuilds.
#[derive(Clone, Debug, Default)]
pub(crate) struct Divergence {
    /// Transactions a node holds that the current primary's history lacks (set at a promotion).
    errant: Vec<u64>,
    diverged: Vec<bool>,
    /// The node's epoch while a rebuild runs, and the primary's position it copies.
    rebuilding: Vec<Option<(u32, u64)>>,
}

impl Divergence {
    pub(crate) fn new(nodes: usize) -> Divergence {
        Divergence { errant: vec![0; nodes], diverged: vec![false; nodes], rebuilding: vec![None; nodes] }
    }
}

pub(crate) struct DbState {
    pub(crate) alive: bool,
    pub(crate) slow: f64,
    /// Bumped when the node is killed, so events of its previous life are ignored.
    pub(crate) epoch: Generation,
    pub(crate) busy: u32,
    pub(crate) waiting: VecDeque<ReqRef>,
    /// Highest binlog position received (the primary: its own position).
    pub(crate) received: u64,
    /// Highest binlog position applied.
    pub(crate) applied: u64,
    pub(crate) applying: bool,
    pub(crate) queries: u64,
}

/// The database cluster: its nodes, who is primary, the binary log's shipping and history,
/// semi-sync, the failover manager, fencing and divergence, and the cluster's statistics.
pub(crate) struct Cluster {
    pub(crate) nodes: Vec<DbState>,
    pub(crate) primary: usize,
    /// Highest binlog position that departed toward each node.
    pub(crate) shipped: Vec<u64>,
    /// Writes committed and waiting for a semi-sync ack, in position order.
    pub(crate) semisync_waiting: VecDeque<(u64, ReqRef)>,
    pub(crate) semisync_timer: Timer,
    /// Highest position a replica has acknowledged.
    pub(crate) semisync_acked: u64,
    pub(crate) semisync_fallen_back: bool,
    /// The replica being promoted by the failover manager.
    pub(crate) promoting: Option<usize>,
    pub(crate) detect_misses: u32,
    /// Old primaries shut out after a failover.
    pub(crate) fenced: Vec<bool>,
    /// An old primary replaced without fencing (it comes back writable).
    pub(crate) unfenced_old_primary: Option<usize>,
    /// That old primary, back and writable: a second primary.
    pub(crate) second_primary: Option<usize>,
    /// A second writable primary is up.
    pub(crate) split_brain: Stopwatch,
    /// Binlog positions of writes that were waiting for semi-sync when the primary crashed.
    pub(crate) unacknowledged_at_crash: Vec<u64>,
    /// Bumped when the primary crashes or is replaced: events from before are stale.
    pub(crate) binlog_generation: Generation,
    /// The generation at the last promotion: binlog events from older primaries are ignored.
    pub(crate) promotion_generation: u32,
    /// Commit time of binlog positions not yet applied everywhere (bounded, see `binlog`).
    pub(crate) binlog_times: super::binlog::BinlogTimes,
    pub(crate) replica_turn: usize,
    /// Failover checks (stale unless their generation is current).
    pub(crate) failover_timer: Timer,
    pub(crate) stats: DbStats,
    pub(crate) divergence: Divergence,
    pub(crate) lag_samples: u64,
    pub(crate) lag_sum_ms: f64,
}

impl Cluster {
    /// Node `n`'s role, from what the cluster alone knows.
    pub(crate) fn role(&self, n: usize) -> DbRole {
        if n == self.primary {
            DbRole::Primary
        } else if self.is_rebuilding(n) {
            DbRole::Rebuilding
        } else if self.divergence.diverged.get(n).copied().unwrap_or(false) {
            DbRole::Diverged
        } else if self.promoting == Some(n) {
            DbRole::Promoting
        } else if self.second_primary == Some(n) {
            DbRole::SecondPrimary
        } else if self.fenced.get(n).copied().unwrap_or(false) {
            DbRole::Fenced
        } else {
            DbRole::Replica
        }
    }

    /// Follows the primary's binlog (a replica, or the one being promoted).
    pub(crate) fn is_replica(&self, n: usize) -> bool {
        matches!(self.role(n), DbRole::Replica | DbRole::Promoting)
    }

    /// A rebuild of node `n` runs in its current life.
    pub(crate) fn is_rebuilding(&self, n: usize) -> bool {
        let epoch = self.nodes.get(n).map(|d| (d.alive, d.epoch.token()));
        matches!((self.divergence.rebuilding.get(n), epoch), (Some(Some((e, _))), Some((true, now))) if *e == now)
    }

    pub(crate) fn new(nodes: usize) -> Cluster {
        Cluster {
            nodes: (0..nodes)
                .map(|_| DbState {
                    alive: true,
                    slow: 1.0,
                    epoch: Generation::default(),
                    busy: 0,
                    waiting: VecDeque::new(),
                    received: 0,
                    applied: 0,
                    applying: false,
                    queries: 0,
                })
                .collect(),
            primary: 0,
            shipped: vec![0; nodes],
            semisync_waiting: VecDeque::new(),
            semisync_timer: Timer::default(),
            semisync_acked: 0,
            semisync_fallen_back: false,
            promoting: None,
            detect_misses: 0,
            fenced: vec![false; nodes],
            unfenced_old_primary: None,
            second_primary: None,
            split_brain: Stopwatch::default(),
            unacknowledged_at_crash: Vec::new(),
            binlog_generation: Generation::default(),
            promotion_generation: 0,
            binlog_times: super::binlog::BinlogTimes::default(),
            replica_turn: 0,
            failover_timer: Timer::default(),
            stats: DbStats::default(),
            divergence: Divergence::new(nodes),
            lag_samples: 0,
            lag_sum_ms: 0.0,
        }
    }
}

impl Sim {
    pub fn db_role(&self, n: usize) -> DbRole {
        self.db.role(n)
    }

    pub(super) fn is_replica(&self, n: usize) -> bool {
        self.db.is_replica(n)
    }

    fn is_rebuilding(&self, n: usize) -> bool {
        self.db.is_rebuilding(n)
    }

    /// Where the query of a request on web server `web` goes: writes to the primary; reads by
    /// `read_from` — replicas in turn (the application's split), the primary, or a proxy that
    /// skips replicas that are down, unreachable or lagging, and uses the primary if none is left.
    /// The node a query goes to; `app` is the node that sends it (`web1`, or `app1` apart).
    pub(super) fn database_for(&mut self, write: bool, app: NodeId) -> usize {
        if write {
            return self.db.primary;
        }
        let mode = self.scenario.db.read_from;
        if mode == ReadFrom::Primary {
            return self.db.primary;
        }
        // Runs for every read: count and pick the eligible replicas without allocating.
        let max_lag = self.scenario.db.max_replication_lag_ms;
        let eligible = |sim: &Sim, n: usize| {
            sim.is_replica(n)
                && (mode != ReadFrom::Proxy
                    || (sim.db.nodes[n].alive
                        && !sim.is_cut(app, NodeId::Db(n as u8))
                        && sim.reported_lag(n).as_monitored_ms() <= max_lag))
        };
        let count = (0..self.db.nodes.len()).filter(|&n| eligible(self, n)).count();
        if count == 0 {
            return self.db.primary;
        }
        self.db.replica_turn = (self.db.replica_turn + 1) % count;
        (0..self.db.nodes.len()).filter(|&n| eligible(self, n)).nth(self.db.replica_turn).unwrap_or(self.db.primary)
    }

    #[inline(never)]
    pub(super) fn on_reach_db(&mut self, r: ReqRef) {
        let n = self.requests.get(r).db as usize;
        let app = self.requests.app_node(r);
        let no_writer = self.query_is_write(r) && n != self.db.primary;
        if !self.db.nodes[n].alive || no_writer || self.is_cut(app, NodeId::Db(n as u8)) {
            self.requests.get_mut(r).fail = Some(FailCause::DbDown);
            let lan = self.lan();
            self.travel(r, Stage::FromDb, NodeId::Db(n as u8), app, lan, Ev::DbReplyAtWeb(r));
            return;
        }
        if self.db.nodes[n].busy < self.scenario.db.workers.max(1) {
            self.start_db(r, n);
        } else {
            self.requests.get_mut(r).stage = Stage::DbWait;
            self.db.nodes[n].waiting.push_back(r);
        }
    }

    pub(super) fn start_db(&mut self, r: ReqRef, n: usize) {
        self.db.nodes[n].busy += 1;
        let (write, u) = (self.query_is_write(r), self.requests.get(r).db_u);
        let mean = if write { self.scenario.db.write_time_ms } else { self.scenario.db.read_time_ms };
        let ms = exponential_from(u, mean) * self.db.nodes[n].slow;
        let now = self.kernel.now;
        let epoch = self.db.nodes[n].epoch.token();
        let q = self.requests.get_mut(r);
        q.stage = Stage::Db;
        q.hop = (NodeId::Db(n as u8), NodeId::Db(n as u8));
        q.hop_start = now;
        self.run_work(NodeId::Db(n as u8), from_ms(ms), Ev::DbDone { r, node: n as u8, epoch });
    }

    #[inline(never)]
    pub(super) fn on_db_done(&mut self, r: ReqRef, n: usize) {
        // The worker is free whether or not anyone still waits for the answer.
        self.db.nodes[n].busy -= 1;
        self.db.nodes[n].queries += 1;
        while let Some(next) = self.db.nodes[n].waiting.pop_front() {
            if self.requests.is_at(next, Stage::DbWait) {
                self.start_db(next, n);
                break;
            }
        }
        if !self.requests.is_at(r, Stage::Db) {
            return;
        }
        let (write, client) = (self.query_is_write(r), self.requests.get(r).client as usize);
        if write {
            if n != self.db.primary {
                // The primary changed while the write ran on the old one: it is refused.
                self.requests.get_mut(r).fail = Some(FailCause::DbDown);
            } else {
                let position = self.commit_write(client);
                if self.requests.get(r).read_back == ReadBack::Wanted {
                    self.requests.get_mut(r).read_back = ReadBack::After(position);
                }
                if self.semisync_active() {
                    // AFTER_SYNC: committed to the binlog, acknowledged once a replica has it.
                    let now = self.kernel.now;
                    let q = self.requests.get_mut(r);
                    q.stage = Stage::SemiSyncWait;
                    q.hop_start = now;
                    self.db.semisync_waiting.push_back((position, r));
                    self.arm_semisync_timer();
                    return;
                }
                self.db.stats.writes_acknowledged += 1;
            }
        } else if let ReadBack::Reading(position) = self.requests.get(r).read_back {
            // Reading back one's own write: stale on a replica that has not applied it yet.
            self.db.stats.read_own_write_reads += 1;
            if n != self.db.primary && self.db.nodes[n].applied < position {
                self.db.stats.read_own_write_stale += 1;
            }
        } else if n != self.db.primary {
            // A read on a replica that has not applied this client's last write is stale.
            let last = self.clients.client_last_write.get(client).copied().unwrap_or(0);
            if self.db.nodes[n].applied < last {
                self.db.stats.stale_reads += 1;
            }
        }
        self.reply_from_db(r, n);
    }

    /// Whether the query a request makes now is a write (its read-back is a read).
    fn query_is_write(&self, r: ReqRef) -> bool {
        let q = self.requests.get(r);
        q.write && !matches!(q.read_back, ReadBack::Reading(_))
    }

    /// The database's answer reached the web server. After a write that the application reads
    /// back at once, that read goes out now, routed like any read; otherwise the page is done.
    pub(super) fn on_db_reply_at_web(&mut self, r: ReqRef) {
        let app = self.requests.app_node(r);
        let ReadBack::After(position) = self.requests.get(r).read_back else { return self.finish_app(r) };
        if self.requests.get(r).fail.is_some() {
            return self.finish_app(r);
        }
        let node = self.database_for(false, app);
        let q = self.requests.get_mut(r);
        q.read_back = ReadBack::Reading(position);
        q.db = node as u8;
        let id = q.id;
        self.trace.record(self.kernel.now, id, TraceKind::Query(NodeId::Db(node as u8)));
        let lan = self.lan();
        self.travel(r, Stage::ToDb, app, NodeId::Db(node as u8), lan, Ev::ReachDb(r));
    }

    fn reply_from_db(&mut self, r: ReqRef, n: usize) {
        let app = self.requests.app_node(r);
        let lan = self.lan();
        self.travel(r, Stage::FromDb, NodeId::Db(n as u8), app, lan, Ev::DbReplyAtWeb(r));
    }

    /// Whether a commit waits for a replica's ack. MariaDB's `commit_trx` does not wait (and
    /// keeps semi-sync on) when no semi-sync replica is connected and
    /// `rpl_semi_sync_master_wait_no_slave` is off; with it on, the commit waits for the timeout.
    fn semisync_active(&self) -> bool {
        let on = self.scenario.db.replication == Replication::Semisync && !self.db.semisync_fallen_back;
        on && (self.scenario.db.semisync_wait_no_slave || self.semisync_replica_connected())
    }

    /// Some replica's dump connection to the primary is up (alive, following it, reachable).
    fn semisync_replica_connected(&self) -> bool {
        let p = self.db.primary;
        (0..self.db.nodes.len()).any(|n| {
            n != p
                && self.db.nodes[n].alive
                && self.is_replica(n)
                && !self.is_cut(NodeId::Db(p as u8), NodeId::Db(n as u8))
        })
    }

    /// The primary commits a write: a new binlog position, sent on to every replica.
    fn commit_write(&mut self, client: usize) -> u64 {
        let p = self.db.primary;
        self.db.nodes[p].received += 1;
        self.db.nodes[p].applied = self.db.nodes[p].received;
        let position = self.db.nodes[p].received;
        if let Some(slot) = self.clients.client_last_write.get_mut(client) {
            *slot = position;
        }
        if self.db.nodes.len() > 1 {
            self.db.binlog_times.push(position, self.kernel.now);
            let depart = self.kernel.now + from_ms(self.scenario.db.ship_latency_ms);
            let generation = self.db.binlog_generation.token();
            for replica in 0..self.db.nodes.len() {
                if replica != p {
                    self.kernel.queue.push(depart, Ev::BinlogDepart { replica: replica as u8, generation, position });
                }
            }
        }
        position
    }

    /// A binlog event leaves the primary for a replica, if the primary still lives and the
    /// replica can be reached; it arrives one LAN hop later.
    #[inline(never)]
    pub(super) fn on_binlog_depart(&mut self, replica: usize, generation: u32, position: u64) {
        let from = self.db.primary;
        if !self.db.nodes[from].alive {
            return;
        }
        if replica >= self.db.nodes.len()
            || !self.db.nodes[replica].alive
            || !self.is_replica(replica)
            || self.is_cut(NodeId::Db(from as u8), NodeId::Db(replica as u8))
        {
            return;
        }
        self.db.shipped[replica] = self.db.shipped[replica].max(position);
        // MariaDB switches semi-sync (back) on when the dump thread sends a replica the newest
        // transaction (`try_switch_on`): after a timeout, or on a new primary once a replica
        // has connected.
        if self.db.semisync_fallen_back
            && self.scenario.db.replication == Replication::Semisync
            && position >= self.db.nodes[from].received
        {
            self.db.semisync_fallen_back = false;
            self.note(Subject::Node(NodeId::Db(from as u8)), NodeEvent::SemiSyncOn);
        }
        let arrive = self.kernel.now + self.lan();
        self.kernel.queue.push(arrive, Ev::BinlogArrive { replica: replica as u8, generation, position });
    }

    /// Send a lagging replica everything up to the primary's position (after it was down, cut
    /// off, or repointed to a new primary).
    pub(crate) fn ship_binlog(&mut self, replica: usize, position: u64) {
        let p = self.db.primary;
        if replica == p || !self.db.nodes[replica].alive || !self.db.nodes[p].alive {
            return;
        }
        let depart = self.kernel.now + from_ms(self.scenario.db.ship_latency_ms);
        let generation = self.db.binlog_generation.token();
        self.kernel.queue.push(depart, Ev::BinlogDepart { replica: replica as u8, generation, position });
    }

    #[inline(never)]
    pub(super) fn on_binlog_arrive(&mut self, n: usize, generation: u32, position: u64) {
        if !self.db.nodes[n].alive || !self.is_replica(n) {
            return;
        }
        let d = &mut self.db.nodes[n];
        d.received = d.received.max(position);
        if !d.applying && d.applied < d.received {
            self.start_apply(n);
        }
        if self.scenario.db.replication == Replication::Semisync {
            // The replica acknowledges receipt (AFTER_SYNC waits for this, not for the apply).
            let at = self.kernel.now + self.lan();
            self.kernel.queue.push(at, Ev::SemiSyncAck { generation, position });
        }
    }

    #[inline(never)]
    pub(super) fn on_semisync_ack(&mut self, position: u64) {
        let from = self.db.primary;
        if !self.db.nodes[from].alive {
            return;
        }
        self.db.semisync_acked = self.db.semisync_acked.max(position);
        while let Some(&(p, r)) = self.db.semisync_waiting.front() {
            if p > self.db.semisync_acked {
                break;
            }
            self.db.semisync_waiting.pop_front();
            self.release_write(r);
        }
    }

    /// A write waiting for semi-sync is acknowledged to the client.
    fn release_write(&mut self, r: ReqRef) {
        if self.requests.is_at(r, Stage::SemiSyncWait) {
            self.db.stats.writes_acknowledged += 1;
            let n = self.requests.get(r).db as usize;
            self.reply_from_db(r, n);
        }
    }

    fn arm_semisync_timer(&mut self) {
        if self.db.semisync_timer.is_armed() {
            return;
        }
        if let Some(&(_, r)) = self.db.semisync_waiting.front() {
            let since = self.requests.get(r).hop_start;
            let at = (since + from_ms(self.scenario.db.semisync_timeout_ms)).max(self.kernel.now);
            let token = self.db.semisync_timer.arm();
            self.kernel.queue.push(at, Ev::SemiSyncTimer { token });
        }
    }

    /// `rpl_semi_sync_source_timeout` passed without an ack: fall back to async and release
    /// every waiting write.
    #[inline(never)]
    pub(super) fn on_semisync_timer(&mut self) {
        self.db.semisync_timer.disarm();
        while let Some(&(_, r)) = self.db.semisync_waiting.front() {
            if self.requests.is_at(r, Stage::SemiSyncWait) {
                break;
            }
            self.db.semisync_waiting.pop_front();
        }
        let Some(&(_, r)) = self.db.semisync_waiting.front() else { return };
        let timeout = from_ms(self.scenario.db.semisync_timeout_ms);
        if self.requests.get(r).hop_start + timeout > self.kernel.now {
            self.arm_semisync_timer();
            return;
        }
        self.db.semisync_fallen_back = true;
        self.db.stats.semisync_fallbacks += 1;
        self.note(Subject::Node(NodeId::Db(self.db.primary as u8)), NodeEvent::SemiSyncOff);
        let waiting: Vec<ReqRef> = self.db.semisync_waiting.drain(..).map(|(_, r)| r).collect();
        for r in waiting {
            self.release_write(r);
        }
    }

    pub(super) fn start_apply(&mut self, n: usize) {
        self.db.nodes[n].applying = true;
        let per_event = from_s(self.db.nodes[n].slow / self.scenario.db.apply_rate_per_s.max(1e-3)).max(1);
        let epoch = self.db.nodes[n].epoch.token();
        self.run_work(NodeId::Db(n as u8), per_event, Ev::ApplyDone { replica: n as u8, epoch });
    }

    #[inline(never)]
    pub(super) fn on_apply_done(&mut self, n: usize) {
        if self.is_rebuilding(n) {
            // Its data is being replaced by the copy: what it was applying no longer matters.
            self.db.nodes[n].applying = false;
            return;
        }
        let d = &mut self.db.nodes[n];
        d.applying = false;
        d.applied += 1;
        if d.applied < d.received {
            self.start_apply(n);
        } else if self.db.promoting == Some(n) {
            self.complete_promotion(n);
        }
        self.trim_binlog();
    }

    /// Forget commit times every replica has applied.
    fn trim_binlog(&mut self) {
        let min_applied = (0..self.db.nodes.len())
            .filter(|&n| self.is_replica(n) && self.db.nodes[n].alive)
            .map(|n| self.db.nodes[n].applied)
            .min()
            .unwrap_or(self.db.nodes.get(self.db.primary).map_or(0, |d| d.received));
        self.db.binlog_times.trim(min_applied);
    }

    /// Commit times the bounded binlog history keeps now (at most [`super::BINLOG_TIMES_CAPACITY`]).
    pub fn binlog_times_kept(&self) -> usize {
        self.db.binlog_times.len()
    }

    /// How far replica `n` trails the primary, in milliseconds of commit time.
    pub fn replica_lag_ms(&self, n: usize) -> f64 {
        if n >= self.db.nodes.len() || !self.is_replica(n) {
            return 0.0;
        }
        let applied = self.db.nodes[n].applied;
        if applied >= self.db.nodes[self.db.primary].received {
            return 0.0;
        }
        // Older than the kept history (the replica was away): as old as the oldest kept.
        self.db.binlog_times.commit_time(applied + 1).map_or(0.0, |t| to_ms(self.kernel.now.saturating_sub(t)))
    }

    /// The lag a monitor reads for replica `n`: unknown while it receives nothing (its primary
    /// is down or the link between them is cut: the IO thread is not connected).
    pub fn reported_lag(&self, n: usize) -> ReportedLag {
        if n >= self.db.nodes.len() || !self.is_replica(n) {
            return ReportedLag::Ms(0.0);
        }
        let p = self.db.primary;
        let receiving = self.db.nodes[n].alive
            && self.db.nodes[p].alive
            && self.db.promoting.is_none()
            && !self.is_cut(NodeId::Db(p as u8), NodeId::Db(n as u8));
        if receiving {
            ReportedLag::Ms(self.replica_lag_ms(n))
        } else {
            ReportedLag::Unknown
        }
    }

    /// The worst lag a monitor reads, over the replicas whose lag is known, and whether some
    /// replica's lag is unknown (the dashboard's chart and the lag statistics).
    pub(super) fn monitored_lag(&self) -> (f64, bool) {
        let mut worst = 0.0f64;
        let mut unknown = false;
        for n in 0..self.db.nodes.len() {
            match self.reported_lag(n) {
                ReportedLag::Ms(ms) => worst = worst.max(ms),
                ReportedLag::Unknown => unknown = unknown || self.db.nodes[n].alive,
            }
        }
        (worst, unknown)
    }

    /// The failover manager's periodic check of the primary.
    pub(super) fn schedule_failover_checks(&mut self) {
        self.db.failover_timer.cancel();
        self.db.detect_misses = 0;
        if self.scenario.db.failover != Failover::Auto || self.db.nodes.len() < 2 {
            return;
        }
        let interval = from_ms(self.scenario.db.detect_interval_ms).max(1);
        let phase = (uniform(&mut self.kernel.rngs.phases) * interval as f64) as SimTime;
        let generation = self.db.failover_timer.arm();
        self.kernel.queue.push(self.kernel.now + phase.max(1), Ev::FailoverCheck { generation });
    }

    /// Switching to async: writes waiting for a semi-sync ack are acknowledged now.
    pub(super) fn release_all_waiting_writes(&mut self) {
        let waiting: Vec<ReqRef> = self.db.semisync_waiting.drain(..).map(|(_, r)| r).collect();
        for r in waiting {
            self.release_write(r);
        }
    }

    #[inline(never)]
    pub(super) fn on_failover_check(&mut self) {
        let interval = from_ms(self.scenario.db.detect_interval_ms).max(1);
        let generation = self.db.failover_timer.token();
        self.kernel.queue.push(self.kernel.now + interval, Ev::FailoverCheck { generation });
        if self.db.promoting.is_some() {
            return;
        }
        if self.db.nodes[self.db.primary].alive {
            self.db.detect_misses = 0;
            return;
        }
        self.db.detect_misses += 1;
        if self.db.detect_misses < self.scenario.db.detect_misses.max(1) {
            return;
        }
        // Promote the most advanced live replica (ties: the lowest id).
        let candidate = (0..self.db.nodes.len())
            .filter(|&n| n != self.db.primary && self.db.nodes[n].alive && self.db_role(n) == DbRole::Replica)
            .max_by_key(|&n| (self.db.nodes[n].received, std::cmp::Reverse(n)));
        let Some(n) = candidate else { return };
        self.note(Subject::Node(NodeId::Db(self.db.primary as u8)), NodeEvent::DeclaredDead);
        self.db.promoting = Some(n);
        self.note(Subject::Node(NodeId::Db(n as u8)), NodeEvent::Promoting);
        if self.db.nodes[n].applied >= self.db.nodes[n].received {
            self.complete_promotion(n);
        }
    }

    /// The promoted replica has applied its relay log: it becomes the primary and the
    /// application and the other replicas are repointed to it.
    fn complete_promotion(&mut self, n: usize) {
        let old = self.db.primary;
        let kept = self.db.nodes[n].received;
        // Acknowledged writes the new primary never received are lost. Writes still waiting
        // for a semi-sync ack when the old primary died were never acknowledged.
        let beyond = self.db.nodes[old].received.saturating_sub(kept);
        let unacknowledged = self.db.unacknowledged_at_crash.iter().filter(|&&p| p > kept).count() as u64;
        self.db.stats.writes_lost += beyond.saturating_sub(unacknowledged);
        self.db.unacknowledged_at_crash.clear();
        self.db.stats.promotions += 1;
        self.db.binlog_generation.bump();
        self.db.promotion_generation = self.db.binlog_generation.token();
        self.db.primary = n;
        self.db.promoting = None;
        self.db.detect_misses = 0;
        self.db.semisync_waiting.clear();
        self.db.semisync_acked = kept;
        // With the primary side of semi-sync enabled beforehand, the new primary starts with
        // semi-sync on (MariaDB's `enable_master` sets it on at start-up): with no replica left
        // its first write waits for the timeout unless `wait_no_slave` is off. Without it, the
        // new primary starts asynchronous and switches semi-sync on when a replica is sent its
        // newest transaction, so it does not stall (both measured on MariaDB 10.11).
        self.db.semisync_fallen_back = !self.scenario.db.semisync_master_on_replicas;
        self.mark_errant(n, kept);
        if self.scenario.db.fencing {
            self.db.fenced[old] = true;
        } else {
            self.db.unfenced_old_primary = Some(old);
        }
        // The new primary's binlog continues from what it has; later positions never existed.
        self.db.binlog_times.truncate_after(kept);
        self.note(Subject::Node(NodeId::Db(n as u8)), NodeEvent::Promoted);
        for m in 0..self.db.nodes.len() {
            if m != n && self.db_role(m) == DbRole::Replica && self.db.nodes[m].alive {
                let d = &mut self.db.nodes[m];
                d.received = d.received.min(kept);
                d.applied = d.applied.min(kept);
                self.catch_up(m);
            }
        }
        self.trim_binlog();
    }

    /// At a promotion of `new` with `kept` positions: every other node holding positions beyond
    /// `kept` (the old primary, a replica that was down) holds transactions the new primary lacks.
    fn mark_errant(&mut self, new: usize, kept: u64) {
        for m in 0..self.db.nodes.len() {
            let beyond = self.db.nodes[m].received.saturating_sub(kept);
            if m != new && self.db.divergence.errant[m] == 0 && !self.db.divergence.diverged[m] {
                self.db.divergence.errant[m] = beyond;
            }
        }
    }

    /// A database node comes back from a crash: an old primary or a replica holding errant
    /// transactions is diverged; otherwise it rejoins (see [`Sim::old_primary_returns`]).
    pub(super) fn db_returns(&mut self, n: usize) {
        let errant = self.db.divergence.errant[n];
        let unfenced = self.db.unfenced_old_primary == Some(n) && !self.db.fenced[n];
        if errant > 0 && !unfenced && !self.db.divergence.diverged[n] {
            self.db.fenced[n] = false;
            self.db.divergence.diverged[n] = true;
            self.db.stats.errant_transactions += errant;
            self.note(Subject::Node(NodeId::Db(n as u8)), NodeEvent::Diverged);
        } else if self.db.divergence.diverged[n] {
            // Still diverged (a rebuild was interrupted or never ran).
        } else if self.db.fenced[n] || self.db.unfenced_old_primary == Some(n) {
            self.old_primary_returns(n);
        } else {
            self.catch_up(n);
        }
    }

    /// The rebuild command: re-clone node `n` from the current primary. It is out of the
    /// cluster meanwhile, for `REBUILD_SETUP_MS` plus the primary's data at
    /// `REBUILD_POSITIONS_PER_S`; it then replicates from the copied position.
    pub(super) fn rebuild(&mut self, n: usize) {
        let p = self.db.primary;
        let busy = self.is_rebuilding(n) || self.db.promoting == Some(n);
        if n == p || n >= self.db.nodes.len() || !self.db.nodes[n].alive || !self.db.nodes[p].alive || busy {
            return;
        }
        if self.db.second_primary == Some(n) {
            self.db.second_primary = None;
            self.db.split_brain.stop(self.kernel.now);
        }
        if self.db.unfenced_old_primary == Some(n) {
            self.db.unfenced_old_primary = None;
        }
        self.db.fenced[n] = false;
        let copied = self.db.nodes[p].received;
        let epoch = self.db.nodes[n].epoch.token();
        self.db.divergence.rebuilding[n] = Some((epoch, copied));
        self.note(Subject::Node(NodeId::Db(n as u8)), NodeEvent::Rebuilding);
        let took_s = REBUILD_SETUP_MS / 1_000.0 + copied as f64 / REBUILD_POSITIONS_PER_S;
        self.kernel.queue.push(self.kernel.now + from_s(took_s).max(1), Ev::RebuildDone { node: n as u8, epoch });
    }

    /// The copy is done: the node is a replica at the copied position and catches up.
    pub(super) fn on_rebuild_done(&mut self, n: usize, epoch: u32) {
        let Some(Some((e, copied))) = self.db.divergence.rebuilding.get(n).copied() else { return };
        if e != epoch || !self.db.nodes[n].alive {
            return;
        }
        self.db.divergence.rebuilding[n] = None;
        self.db.divergence.diverged[n] = false;
        self.db.divergence.errant[n] = 0;
        let top = self.db.nodes[self.db.primary].received;
        let d = &mut self.db.nodes[n];
        d.received = copied.min(top);
        d.applied = d.received;
        d.applying = false;
        self.db.stats.rebuilds += 1;
        self.note(Subject::Node(NodeId::Db(n as u8)), NodeEvent::Rebuilt);
        self.catch_up(n);
    }

    /// The old primary of a failover comes back with nothing errant: fenced, it rejoins as a
    /// replica of the new primary; unfenced, it is writable again.
    pub(super) fn old_primary_returns(&mut self, n: usize) {
        let top = self.db.nodes[self.db.primary].received;
        if self.db.fenced[n] {
            self.db.fenced[n] = false;
            let d = &mut self.db.nodes[n];
            d.received = d.received.min(top);
            d.applied = d.applied.min(top);
            self.note(Subject::Node(NodeId::Db(n as u8)), NodeEvent::RejoinedAsReplica);
            self.catch_up(n);
        } else if self.db.unfenced_old_primary == Some(n) {
            self.db.second_primary = Some(n);
            self.db.split_brain.start(self.kernel.now);
            self.note(Subject::Node(NodeId::Db(n as u8)), NodeEvent::SecondPrimary);
        }
    }

    /// The primary crashed: writes waiting for semi-sync acks fail (never acknowledged).
    pub(super) fn primary_crashed(&mut self) {
        // Binlog events not yet departed die with it.
        self.db.binlog_generation.bump();
        let waiting: Vec<(u64, ReqRef)> = self.db.semisync_waiting.drain(..).collect();
        for (position, r) in waiting {
            self.db.unacknowledged_at_crash.push(position);
            if self.requests.is_at(r, Stage::SemiSyncWait) {
                self.requests.get_mut(r).fail = Some(FailCause::DbDown);
                let n = self.requests.get(r).db as usize;
                self.reply_from_db(r, n);
            }
        }
    }

    /// Seconds during which two database nodes were writable.
    pub fn db_split_brain_s(&self) -> f64 {
        self.db.split_brain.seconds(self.kernel.now)
    }

    /// Highest binlog position that has departed the primary toward replica `n`.
    pub fn shipped_position(&self, n: usize) -> u64 {
        self.db.shipped.get(n).copied().unwrap_or(0)
    }

    /// Queries database node `n` has finished.
    pub fn db_queries(&self, n: usize) -> u64 {
        self.db.nodes.get(n).map_or(0, |d| d.queries)
    }

    /// The current primary's node index.
    pub fn primary_index(&self) -> usize {
        self.db.primary
    }
}
