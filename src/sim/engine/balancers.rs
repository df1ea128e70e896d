//! The balancers: what HAProxy knows of each server (the candidates the selector draws from),
//! the shared queue and its `timeout queue` timer, slowstart's ramp, and the balancer machines
//! themselves with their VRRP state and the split-brain accounting of the pair. Its handlers:
//! the balancer's decision (dispatch), its queues and `timeout queue`, retries and redispatch,
//! and the balancer's commands.

use super::timer::{Stopwatch, Timer};
use super::{queue_bound, Ev, Sim, Stage};
use super::{ReqRef, VrrpRole};
use crate::scenario::Algorithm;
use crate::scenario::WebServer;
use crate::sim::balancer::{update_pool, Choice};
use crate::sim::balancer::{Candidate, Selector};
use crate::sim::command::CommandKind;
use crate::sim::metrics::FailCause;
use crate::sim::node::NodeId;
use crate::sim::time::SimTime;
use crate::sim::time::{from_ms, US_PER_S};
use crate::sim::trace::TraceKind;
use std::collections::VecDeque;

pub(crate) struct LbState {
    /// HAProxy runs (it answers at the balancer's address).
    pub(crate) alive: bool,
    /// The keepalived beside it runs (VRRP adverts, timers, the floating IP). A whole-balancer
    /// kill stops both; `kill:keepalived1` only this one (see `keepalived.rs`).
    pub(crate) keepalived: bool,
    /// A keepalived killed with SIGKILL left the floating IP configured on this machine: the
    /// kernel still answers for it, though nobody advertises it (cleaned up when keepalived
    /// starts again or the machine goes down).
    pub(crate) stale_vip: bool,
    /// keepalived's HAProxy check (`vrrp.track_haproxy`) failed: the instance is in FAULT,
    /// holds no floating IP and does not compete for it until a check passes again.
    pub(crate) track_failed: bool,
    /// When keepalived last started: its check of HAProxy runs every second from then.
    pub(crate) keepalived_since: SimTime,
    /// The next run of the HAProxy check that can change something.
    pub(crate) track: Timer,
    pub(crate) role: VrrpRole,
    pub(crate) priority: u32,
    /// When it last became master (the newest gratuitous ARP wins the floating IP).
    pub(crate) master_since: SimTime,
    /// keepalived's master-down timer (a backup takes over when it runs out).
    pub(crate) master_down: Timer,
    /// The master's advertisement timer (periodic: each advert re-arms it with its token).
    pub(crate) advert: Timer,
    /// keepalived `preempt_time`: until when a returning higher-priority backup still accepts
    /// a lower-priority master (set by the first such advert while `preempt_delay_s` > 0).
    pub(crate) preempt_until: Option<SimTime>,
}

pub(crate) struct Balancers {
    pub(crate) candidates: Vec<Candidate>,
    pub(crate) selector: Selector,
    /// The balancer's shared queue (oldest first); entries may be stale after a timeout.
    pub(crate) lb_queue: VecDeque<ReqRef>,
    /// Requests really waiting in the balancer (shared queue + per-server queues).
    pub(crate) lb_queued: u32,
    /// The `timeout queue` check of the oldest queued request.
    pub(crate) queue_timer: Timer,
    /// Until when some server's weight is still ramping up (slowstart).
    pub(crate) ramp_until: SimTime,
    pub(crate) lbs: Vec<LbState>,
    /// No HAProxy (`balancer.enabled` false): DNS points at web1 and clients connect to Nginx
    /// directly. `lbs[0]` stays as the server's own network entry (no queue, no checks, no
    /// retries, nothing to kill), so the request path keeps one shape.
    pub(crate) direct: bool,
    /// Both balancers master at once.
    pub(crate) split_brain: Stopwatch,
    /// The floating IP configured on both machines because a killed keepalived left it behind.
    pub(crate) duplicate_address: Stopwatch,
    /// The balancer whose stale address the running duplicate is (its end is noted there).
    pub(crate) duplicate_stale_on: NodeId,
}

impl Balancers {
    pub(crate) fn new(specs: &[WebServer], priorities: &[u32]) -> Balancers {
        Balancers {
            candidates: specs.iter().map(new_candidate).collect(),
            selector: Selector::default(),
            lb_queue: VecDeque::new(),
            lb_queued: 0,
            queue_timer: Timer::default(),
            ramp_until: 0,
            lbs: priorities
                .iter()
                .map(|&priority| LbState {
                    alive: true,
                    keepalived: true,
                    stale_vip: false,
                    track_failed: false,
                    keepalived_since: 0,
                    track: Timer::default(),
                    role: VrrpRole::Backup,
                    priority: priority.clamp(1, 255),
                    master_since: 0,
                    master_down: Timer::default(),
                    advert: Timer::default(),
                    preempt_until: None,
                })
                .collect(),
            direct: false,
            split_brain: Stopwatch::default(),
            duplicate_address: Stopwatch::default(),
            duplicate_stale_on: NodeId::Lb(0),
        }
    }
}

/// HAProxy scales weights internally by 16 (BE_WEIGHT_SCALE) so that a weight of 1 can still
/// ramp up gradually under slowstart; only ratios matter to the algorithms.
pub(crate) const WEIGHT_SCALE: u32 = 16;

pub(crate) fn new_candidate(spec: &WebServer) -> Candidate {
    Candidate {
        weight: spec.weight * WEIGHT_SCALE,
        conns: 0,
        queued: 0,
        maxconn: spec.maxconn,
        usable: true,
        in_pool: !spec.backup,
        backup: spec.backup,
        rr_current: 0,
    }
}

impl Sim {
    /// Commands on the balancer's settings.
    pub(super) fn balancer_command(&mut self, what: &CommandKind) -> bool {
        match *what {
            CommandKind::SetAlgorithm { algorithm } => {
                self.scenario.balancer.algorithm = algorithm;
                self.refresh_candidates();
            }
            CommandKind::SetRandomDraws { draws } => self.scenario.balancer.random_draws = draws,
            CommandKind::SetMaxqueue { maxqueue } => self.scenario.balancer.maxqueue = maxqueue,
            CommandKind::SetTimeoutQueue { ms } => {
                self.scenario.balancer.timeout_queue_ms = ms;
                // A shorter timeout may already be due; the pending check firing early is harmless.
                self.balancers.queue_timer.disarm();
                self.expire_queued();
            }
            CommandKind::SetAllBackups { on } => {
                self.scenario.balancer.allbackups = on;
                self.refresh_candidates();
                self.serve_all_queues();
            }
            CommandKind::SetRetries { retries } => self.scenario.balancer.retries = retries,
            CommandKind::SetRedispatch { on } => self.scenario.balancer.redispatch = on,
            _ => return false,
        }
        true
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

    /// The balancer's decision for a request that has just reached it (or is redispatched).
    pub(super) fn dispatch(&mut self, r: ReqRef) {
        if self.balancers.direct {
            // The client's connection is Nginx's own: straight to web1, nothing in between.
            self.send_to_server(r, 0);
            return;
        }
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

    pub(super) fn enqueue(&mut self, r: ReqRef, server: Option<usize>) {
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
    pub(super) fn oldest_queued(&mut self) -> Option<(ReqRef, SimTime)> {
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
    pub(super) fn arm_queue_timer(&mut self) {
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
    pub(super) fn expire_queued(&mut self) {
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
    pub(super) fn unqueue(&mut self, r: ReqRef) {
        self.balancers.lb_queued -= 1;
        if let Some(i) = self.requests.get(r).server {
            self.balancers.candidates[i as usize].queued -= 1;
        }
        self.requests.get_mut(r).stage = Stage::Free; // transitional; callers set the next stage
    }

    /// A connection slot on server `i` opened: serve the oldest request waiting for it, either
    /// in its own queue or in the shared queue (HAProxy's process_srv_queue).
    pub(super) fn serve_queue(&mut self, i: usize) {
        loop {
            let c = &self.balancers.candidates[i];
            if !c.has_slot() || !c.usable {
                return;
            }
            self.drop_stale_heads(i);
            let own = self.farm.servers[i].own_queue.front().copied();
            let c = &self.balancers.candidates[i];
            // The shared queue is served by servers that take balanced traffic (the selector's
            // eligibility: usable and a free slot were checked above).
            let shared = if c.eligible() { self.balancers.lb_queue.front().copied() } else { None };
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

    pub(super) fn serve_all_queues(&mut self) {
        for i in 0..self.farm.servers.len() {
            self.serve_queue(i);
        }
    }

    /// Queue entries whose request timed out are removed lazily, here.
    pub(super) fn drop_stale_heads(&mut self, i: usize) {
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

    /// HAProxy 2.6 `retries` and `option redispatch` (back_handle_st_cer and
    /// stream_choose_redispatch): after `retries` retries the request gets a 503. Before
    /// that, with `option redispatch` the retry is balanced again, avoiding the server that
    /// refused, when that server is no longer plainly UP, when this is the last retry, or
    /// when the algorithm is not a hash and more than one active server is up (no
    /// persistence to keep); otherwise the same server is retried, even once marked DOWN.
    /// The one-second turn-around is waited only before retrying the same server or when at
    /// most one active server is up.
    #[inline(never)]
    pub(super) fn on_connect_failed(&mut self, r: ReqRef) {
        let i = self.requests.server_of(r);
        self.balancers.candidates[i].conns -= 1;
        if self.balancers.direct {
            // The client's own connection was refused: no balancer to retry elsewhere.
            self.fail_at_lb(r, FailCause::ConnectFailed);
            return;
        }
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
        let active_up = self.balancers.candidates.iter().filter(|c| c.is_active_up()).count();
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
    pub(super) fn should_redispatch(&self, i: usize, failures: u32, active_up: usize) -> bool {
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
    pub(super) fn wait_turn_around(&mut self, r: ReqRef, lb: usize) {
        let now = self.kernel.now;
        let q = self.requests.get_mut(r);
        q.stage = Stage::RetryWait;
        q.hop = (NodeId::Lb(lb as u8), NodeId::Lb(lb as u8));
        q.hop_start = now;
        self.kernel.queue.push(now + US_PER_S, Ev::Retry(r));
    }

    /// After the turn-around: balance again (a redispatch), or retry the same server.
    #[inline(never)]
    pub(super) fn on_retry(&mut self, r: ReqRef) {
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
        if c.usable && !c.has_slot() {
            self.enqueue(r, Some(i));
        } else {
            self.send_to_server(r, i);
        }
    }
}
