//! Deploys of new code: the application servers restart to load it, each down for
//! `deploy.restart_s`. All at once (`--fault 20s:deploy:all`), a site with one application
//! shows the downtime the course asks about; rolling (`deploy:rolling`), one server at a time
//! is drained from the balancer first (its runtime weight 0, as `set weight` does, until no
//! request is on it), restarted, and given its weight back once it runs again, so the others
//! carry the traffic and nobody sees an error.
//!
//! A server that cannot be drained is restarted where it stands: the only server in the pool
//! (nothing else could take its traffic), or an application behind Nginx's upstream (Nginx has
//! no drain; it passes refused requests to the next application server).

use super::timer::Timer;
use super::{Ev, Sim};
use crate::sim::node::NodeId;
use crate::sim::time::{from_ms, from_s, SimTime};
use crate::sim::trace::{NodeEvent, Subject};
use std::collections::VecDeque;

/// How often a drain looks whether the server is idle yet.
const DRAIN_POLL_MS: f64 = 50.0;
/// Longest a drain waits for a server to go idle: then it restarts anyway and what the server
/// still holds fails (requests that never end would otherwise hold the deploy for ever).
pub const DRAIN_LIMIT_S: f64 = 60.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Phase {
    Idle,
    /// Every application server restarting until then.
    AllRestarting {
        until: SimTime,
    },
    /// Application `app`'s web server at weight 0 (it had `weight`) since `since`, until it is
    /// idle or [`DRAIN_LIMIT_S`] has passed.
    Draining {
        app: usize,
        weight: u32,
        since: SimTime,
    },
    /// Application `app` restarting until `until`; then its web server gets `weight` back.
    Restarting {
        app: usize,
        weight: Option<u32>,
        until: SimTime,
    },
}

pub(crate) struct Deploys {
    pub(crate) phase: Phase,
    /// The application servers a rolling deploy has still to restart, in order.
    pending: VecDeque<usize>,
    pub(crate) timer: Timer,
    /// Application servers restarted by deploys so far.
    pub(crate) restarts: u64,
}

impl Default for Deploys {
    fn default() -> Self {
        Deploys { phase: Phase::Idle, pending: VecDeque::new(), timer: Timer::default(), restarts: 0 }
    }
}

impl Sim {
    /// Whether a deploy is under way (a second one is refused until it is done).
    pub fn deploy_under_way(&self) -> bool {
        self.deploys.phase != Phase::Idle
    }

    /// Start a deploy of every running application server.
    pub(super) fn start_deploy(&mut self, rolling: bool) {
        if self.deploy_under_way() {
            return;
        }
        let apps: Vec<usize> = (0..self.farm.servers.len())
            .filter(|&j| self.farm.servers[j].active && self.is_alive(NodeId::App(j as u16)))
            .collect();
        self.deploys.pending = apps.into();
        if rolling {
            self.next_rolling_restart();
            return;
        }
        for j in self.deploys.pending.clone() {
            self.restart_app(j);
        }
        let until = self.kernel.now + from_s(self.scenario.deploy.restart_s);
        self.deploys.phase = Phase::AllRestarting { until };
        self.arm_deploy(until);
    }

    fn arm_deploy(&mut self, at: SimTime) {
        let token = self.deploys.timer.arm();
        self.kernel.queue.push(at.max(self.kernel.now + 1), Ev::DeployTick { token });
    }

    /// The application stops to load the new code: its requests fail as in a crash.
    fn restart_app(&mut self, j: usize) {
        self.deploys.restarts += 1;
        self.note(Subject::Node(NodeId::App(j as u16)), NodeEvent::Redeploying);
        self.app_died(j);
    }

    /// Whether web server `j` can be drained: it takes balanced traffic with its application
    /// beside it, and another server in the pool could carry the traffic meanwhile.
    fn can_drain(&self, j: usize) -> bool {
        let local = self.farm.app_is_local(j);
        let in_pool = |i: usize| {
            let w = &self.farm.servers[i];
            w.active && w.alive && w.weight > 0 && w.health.is_up() && !w.spec.backup
        };
        !self.balancers.direct && local && in_pool(j) && (0..self.farm.servers.len()).any(|i| i != j && in_pool(i))
    }

    /// The next server of a rolling deploy: drain it, or restart it where it stands.
    fn next_rolling_restart(&mut self) {
        let Some(j) = self.deploys.pending.pop_front() else {
            self.deploys.phase = Phase::Idle;
            self.deploys.timer.cancel();
            return;
        };
        if !self.can_drain(j) {
            self.restart_rolling(j, None);
            return;
        }
        let weight = self.farm.servers[j].weight;
        self.farm.servers[j].weight = 0;
        self.refresh_candidates();
        self.note(Subject::Node(NodeId::Web(j as u16)), NodeEvent::Draining);
        self.deploys.phase = Phase::Draining { app: j, weight, since: self.kernel.now };
        self.arm_deploy(self.kernel.now + from_ms(DRAIN_POLL_MS));
    }

    fn restart_rolling(&mut self, j: usize, weight: Option<u32>) {
        self.restart_app(j);
        let until = self.kernel.now + from_s(self.scenario.deploy.restart_s);
        self.deploys.phase = Phase::Restarting { app: j, weight, until };
        self.arm_deploy(until);
    }

    #[inline(never)]
    pub(super) fn on_deploy_tick(&mut self) {
        self.deploys.timer.disarm();
        match self.deploys.phase {
            Phase::Idle => {}
            Phase::AllRestarting { .. } => {
                while let Some(j) = self.deploys.pending.pop_front() {
                    self.restore(NodeId::App(j as u16));
                }
                self.deploys.phase = Phase::Idle;
            }
            Phase::Draining { app, weight, since } => {
                let idle = self.balancers.candidates.get(app).is_none_or(|c| c.conns == 0)
                    && self.farm.servers[app].own_queue.is_empty();
                if idle || self.kernel.now >= since + from_s(DRAIN_LIMIT_S) {
                    self.restart_rolling(app, Some(weight));
                } else {
                    self.arm_deploy(self.kernel.now + from_ms(DRAIN_POLL_MS));
                }
            }
            Phase::Restarting { app, weight, .. } => {
                self.restore(NodeId::App(app as u16));
                if let Some(weight) = weight {
                    self.farm.servers[app].weight = weight;
                    self.refresh_candidates();
                    self.serve_all_queues();
                }
                self.next_rolling_restart();
            }
        }
    }
}
