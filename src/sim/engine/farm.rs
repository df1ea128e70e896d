//! The web farm: each web server's machine state (alive, slowed), its workers and their
//! waiting line, its health as the balancer sees it, and its utilisation figures. Its
//! handlers: a request reaching a server, its application time, the worker freed, and the
//! commands that change servers' settings (one place: `edit_server`).

use super::{new_candidate, Ev, Sim, Stage};
use super::{HealthState, ReqRef};
use crate::scenario::Distribution;
use crate::scenario::WebServer;
use crate::sim::command::CommandKind;
use crate::sim::metrics::jain_fairness;
use crate::sim::node::NodeId;
use crate::sim::rng::{exponential_from, lognormal_from};
use crate::sim::time::from_ms;
use crate::sim::time::SimTime;
use crate::sim::trace::TraceKind;
use std::collections::VecDeque;

pub(crate) struct WebState {
    pub(crate) spec: WebServer,
    /// Weight at start: `static-rr` keeps it (runtime weights only drain or restore).
    pub(crate) start_weight: u32,
    /// Runtime weight as set by the operator.
    pub(crate) weight: u32,
    /// Within the configured server count.
    pub(crate) active: bool,
    /// Nginx is running (what the balancer's checks see).
    pub(crate) alive: bool,
    /// The application server with the same number (`appI`) is running; its workers and
    /// waiting line are the ones below.
    pub(crate) app_alive: bool,
    /// Application times are multiplied by this (1 = normal).
    pub(crate) slow: f64,
    /// Nginx's own time is multiplied by this.
    pub(crate) nginx_slow: f64,
    pub(crate) health: HealthState,
    /// When the server was last marked UP (slowstart ramps from here).
    pub(crate) up_since: SimTime,
    pub(crate) busy: u32,
    pub(crate) waiting: VecDeque<ReqRef>,
    /// Requests queued in the balancer for this server only (hash persistence).
    pub(crate) own_queue: VecDeque<ReqRef>,
    pub(crate) completed: u64,
    pub(crate) busy_area_us: f64,
    pub(crate) busy_since: SimTime,
}

#[derive(Default)]
pub(crate) struct Farm {
    pub(crate) servers: Vec<WebState>,
    /// How each web server reaches its application (`None`: the one beside it).
    pub(crate) routes: Vec<Option<super::nginx::AppUpstream>>,
}

impl Farm {
    pub(crate) fn new(specs: &[WebServer]) -> Farm {
        Farm { servers: specs.iter().map(|s| new_web_state(s.clone())).collect(), routes: Vec::new() }
    }

    /// Whether web server `i` hands its dynamic requests to the application beside it (no
    /// upstream; a server added by a command is local too).
    pub(crate) fn app_is_local(&self, i: usize) -> bool {
        self.routes.get(i).is_none_or(Option::is_none)
    }

    /// Fraction of time each server's workers were busy between `since` and `now`.
    pub(crate) fn utilization(&self, now: SimTime, since: SimTime) -> Vec<f64> {
        let elapsed = now.saturating_sub(since) as f64;
        self.servers
            .iter()
            .map(|w| {
                let area = w.busy_area_us + w.busy as f64 * (now - w.busy_since) as f64;
                if elapsed <= 0.0 {
                    0.0
                } else {
                    area / (elapsed * w.spec.workers.max(1) as f64)
                }
            })
            .collect()
    }

    /// Server `i`'s workers: one more busy (`delta` 1), one fewer (-1), or just the busy-time
    /// area brought up to `now` (0).
    pub(crate) fn set_busy(&mut self, i: usize, delta: i32, now: SimTime) {
        let w = &mut self.servers[i];
        // Through i64 (a duration is far below 2^63): one instruction instead of several.
        w.busy_area_us += w.busy as f64 * (now - w.busy_since) as i64 as f64;
        w.busy_since = now;
        w.busy = (w.busy as i32 + delta).max(0) as u32;
    }
}

pub(crate) fn new_web_state(spec: WebServer) -> WebState {
    WebState {
        start_weight: spec.weight,
        weight: spec.weight,
        active: true,
        alive: true,
        app_alive: true,
        slow: 1.0,
        nginx_slow: 1.0,
        health: HealthState::default(),
        up_since: 0,
        busy: 0,
        waiting: VecDeque::new(),
        own_queue: VecDeque::new(),
        completed: 0,
        busy_area_us: 0.0,
        busy_since: 0,
        spec,
    }
}

impl Sim {
    /// Commands on the web servers' settings (each through [`Sim::edit_server`]).
    pub(super) fn farm_command(&mut self, what: &CommandKind) -> bool {
        match *what {
            CommandKind::SetWeight { server, weight } => {
                let i = server as usize;
                self.farm.servers[i].weight = weight;
                self.edit_server(i, |spec| spec.weight = weight);
                self.refresh_candidates();
            }
            CommandKind::SetServerCount { count } => self.set_server_count(count as usize),
            CommandKind::SetMaxconn { maxconn } => {
                for i in 0..self.farm.servers.len() {
                    self.edit_server(i, |spec| spec.maxconn = maxconn);
                }
            }
            CommandKind::SetBackup { server, backup } => {
                self.edit_server(server as usize, |spec| spec.backup = backup);
                self.refresh_candidates();
            }
            _ => return false,
        }
        self.serve_all_queues();
        true
    }

    /// Change server `i`'s settings everywhere they are held: the farm's copy (what the server
    /// does), the scenario's (what the design says: export, replay) and the balancer's copy of
    /// `maxconn` (read on every dispatch). Weights in force and pools follow on the next
    /// `refresh_candidates`.
    pub(super) fn edit_server(&mut self, i: usize, change: impl Fn(&mut WebServer)) {
        if let (Some(w), Some(c)) = (self.farm.servers.get_mut(i), self.balancers.candidates.get_mut(i)) {
            change(&mut w.spec);
            c.maxconn = w.spec.maxconn;
        }
        if let Some(spec) = self.scenario.web.servers.get_mut(i) {
            change(spec);
        }
    }

    /// Grow the farm (new servers copy the last one's settings) or shrink it (removed servers
    /// finish what they hold, then idle).
    pub(super) fn set_server_count(&mut self, count: usize) {
        while self.farm.servers.len() < count {
            let template = self.scenario.web.servers.last().cloned().unwrap_or_default();
            self.farm.servers.push(new_web_state(template.clone()));
            self.farm.routes.push(None);
            self.balancers.candidates.push(new_candidate(&template));
            self.schedule_first_check(self.farm.servers.len() - 1);
        }
        for (i, w) in self.farm.servers.iter_mut().enumerate() {
            w.active = i < count;
        }
        let template = self.scenario.web.servers.last().cloned().unwrap_or_default();
        self.scenario.web.servers.resize(count, template);
        self.refresh_candidates();
    }

    pub(super) fn on_reach_web(&mut self, r: ReqRef) {
        let i = self.requests.server_of(r);
        let lb = self.requests.get(r).lb;
        // With the application beside Nginx, its full listen backlog refuses the balancer's
        // connection (one server, one backlog); a remote application's refuses Nginx's.
        let local = self.farm.app_is_local(i);
        let backlog_full = local && self.app_backlog_full(i);
        if !self.farm.servers[i].alive || backlog_full || self.is_cut(NodeId::Lb(lb), NodeId::Web(i as u16)) {
            // Connection refused (reset): the balancer learns it one hop later.
            let lan = self.lb_lan();
            self.travel(r, Stage::Refused, NodeId::Web(i as u16), NodeId::Lb(lb), lan, Ev::ConnectFailed(r));
            return;
        }
        self.nginx_accepts(r, i);
    }

    pub(super) fn set_busy(&mut self, i: usize, delta: i32) {
        self.farm.set_busy(i, delta, self.kernel.now);
    }

    /// Application server `i` starts on the request (one of its workers is free).
    pub(super) fn start_app(&mut self, r: ReqRef, i: usize) {
        self.set_busy(i, 1);
        let (id, u, node) = (self.requests.get(r).id, self.requests.get(r).web_u, self.requests.app_node(r));
        let w = &self.farm.servers[i];
        let spec = &w.spec;
        let ms = match spec.service_distribution {
            Distribution::Exponential => exponential_from(u, spec.service_time_ms),
            Distribution::Constant => spec.service_time_ms,
            Distribution::Lognormal => lognormal_from(u, spec.service_time_ms, spec.service_time_cv),
        } * w.slow;
        self.trace.record(self.kernel.now, id, TraceKind::Start(node));
        let now = self.kernel.now;
        let q = self.requests.get_mut(r);
        q.stage = Stage::App;
        q.hop = (node, node);
        q.hop_start = now;
        self.run_work(NodeId::App(i as u16), from_ms(ms), Ev::AppDone(r));
    }

    /// Start the next request waiting at server `i`, skipping any that left meanwhile.
    pub(super) fn start_next_waiting(&mut self, i: usize) {
        while let Some(next) = self.farm.servers[i].waiting.pop_front() {
            if self.requests.is_at(next, Stage::WebWait) {
                self.start_app(next, i);
                return;
            }
        }
    }

    pub(super) fn on_app_done(&mut self, r: ReqRef) {
        if self.db.nodes.is_empty() {
            self.finish_app(r);
            return;
        }
        let (write, app) = (self.requests.get(r).write, self.requests.app_node(r));
        let node = self.database_for(write, app);
        let id = self.requests.get(r).id;
        self.requests.get_mut(r).db = node as u8;
        self.trace.record(self.kernel.now, id, TraceKind::Query(NodeId::Db(node as u8)));
        let lan = self.lan();
        self.travel(r, Stage::ToDb, app, NodeId::Db(node as u8), lan, Ev::ReachDb(r));
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

    /// Connections waiting for a worker on web server `i` (bounded by its backlog).
    pub fn web_waiting(&self, i: usize) -> u32 {
        self.farm.servers.get(i).map_or(0, |w| w.waiting.len() as u32)
    }

    /// Workers and connections: each server's counters match the requests it holds.
    pub(super) fn check_farm_invariants(&self) -> Result<(), String> {
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
                self.requests.slots.iter().filter(|q| q.app == i as u16 && q.stage == Stage::App).count() as u32;
            if w.app_alive && working > w.busy {
                return Err(format!("web{}: {working} requests in service but {} workers busy", i + 1, w.busy));
            }
        }
        Ok(())
    }
}
