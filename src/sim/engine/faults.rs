//! Failure injection: kill, restore and slow nodes, cut and heal links, random failures with
//! exponential times between failures and to repair.

use super::{Ev, Sim, Stage};
use crate::scenario::FailureRate;
use crate::sim::command::NodeClass;
use crate::sim::metrics::FailCause;
use crate::sim::node::{Link, NodeId};
use crate::sim::rng::exponential_from;
use crate::sim::time::from_s;
use crate::sim::trace::{NodeEvent, Subject};

impl Sim {
    /// Whether a node is running.
    pub fn is_alive(&self, node: NodeId) -> bool {
        match node {
            NodeId::Clients => true,
            NodeId::Dns => self.edge.dns_alive,
            NodeId::Lb(k) => self.balancers.lbs.get(k as usize).is_some_and(|l| l.alive),
            NodeId::Web(i) => self.farm.servers.get(i as usize).is_some_and(|w| w.alive),
            NodeId::App(i) => self.farm.servers.get(i as usize).is_some_and(|w| w.app_alive),
            NodeId::Db(n) => self.db.nodes.get(n as usize).is_some_and(|d| d.alive),
        }
    }

    pub(super) fn kill(&mut self, node: NodeId) {
        if let NodeId::Lb(k) = node {
            // The balancer whole, HAProxy and its keepalived (keepalived.rs).
            return self.kill_balancer(k as usize);
        }
        if !self.is_alive(node) || node == NodeId::Clients {
            return;
        }
        self.note(Subject::Node(node), NodeEvent::Killed);
        match node {
            NodeId::Clients => {}
            NodeId::Dns => self.edge.dns_alive = false,
            NodeId::Lb(_) => {}
            NodeId::Web(i) => self.web_died(i as usize),
            NodeId::App(i) => self.app_died(i as usize),
            NodeId::Db(n) => self.db_died(n as usize),
        }
    }

    /// A planned stop of a balancer: keepalived's priority-0 advert first, then the whole
    /// balancer (HAProxy too) goes down as in a kill.
    pub(super) fn stop(&mut self, node: NodeId) {
        if let NodeId::Lb(k) = node {
            self.stop_balancer(k as usize);
        }
    }

    /// Nginx on web server `i` crashed: every request it holds is lost (502), wherever its
    /// application work is; the balancer keeps sending to it until health checks mark it DOWN.
    /// With the application beside it, that application's workers and waiting line go too (its
    /// clients are gone), as when web server and application were one node.
    fn web_died(&mut self, i: usize) {
        let local = self.farm.app_is_local(i);
        if local {
            self.set_busy(i, 0);
            let w = &mut self.farm.servers[i];
            w.busy = 0;
            w.waiting.clear();
        }
        self.farm.servers[i].alive = false;
        let server = Some(i as u16);
        let lost = self.requests.where_(|q| {
            q.server == server
                && matches!(
                    q.stage,
                    Stage::NginxWork
                        | Stage::ToApp
                        | Stage::AppRefused
                        | Stage::WebWait
                        | Stage::App
                        | Stage::ToDb
                        | Stage::DbWait
                        | Stage::Db
                        | Stage::FromDb
                        | Stage::FromApp
                )
        });
        let mut freed: Vec<usize> = Vec::new();
        for &r in &lost {
            let (stage, app) = (self.requests.get(r).stage, self.requests.app_of(r));
            match stage {
                Stage::NginxWork => self.cancel_work(NodeId::Web(i as u16), Ev::NginxDone(r)),
                // Its machine's other work gets the cores back.
                Stage::App => self.cancel_work(NodeId::App(app as u16), Ev::AppDone(r)),
                _ => {}
            }
            let holds_worker = matches!(stage, Stage::App | Stage::ToDb | Stage::DbWait | Stage::Db | Stage::FromDb);
            if !local && holds_worker {
                self.set_busy(app, -1);
                freed.push(app);
            }
        }
        for r in lost {
            self.balancers.candidates[i].conns -= 1;
            let lb = self.requests.get(r).lb;
            if !self.balancers.lbs[lb as usize].alive {
                self.fail_now(r, FailCause::LbDown);
            } else {
                self.fail_at_lb(r, FailCause::ServerDied);
            }
        }
        // Remote application servers give the freed workers to other web servers' requests.
        for j in freed {
            self.start_next_waiting(j);
        }
        self.serve_queue(i);
    }

    /// A database node crashed: its queries fail (the application answers 500).
    fn db_died(&mut self, n: usize) {
        if n == self.db.primary {
            self.primary_crashed();
        }
        if self.db.second_primary == Some(n) {
            self.db.second_primary = None;
            self.db.split_brain.stop(self.kernel.now);
        }
        let (epoch, applying) = (self.db.nodes[n].epoch.token(), self.db.nodes[n].applying);
        if applying {
            self.cancel_work(NodeId::Db(n as u8), Ev::ApplyDone { replica: n as u8, epoch });
        }
        let d = &mut self.db.nodes[n];
        d.alive = false;
        d.epoch.bump();
        d.busy = 0;
        d.waiting.clear();
        d.applying = false;
        let lost = self.requests.where_(|q| q.db as usize == n && matches!(q.stage, Stage::DbWait | Stage::Db));
        let lan = self.lan();
        for r in lost {
            if self.requests.is_at(r, Stage::Db) {
                self.cancel_work(NodeId::Db(n as u8), Ev::DbDone { r, node: n as u8, epoch });
            }
            let app = self.requests.app_node(r);
            self.requests.get_mut(r).fail = Some(FailCause::DbDown);
            self.travel(r, Stage::FromDb, NodeId::Db(n as u8), app, lan, Ev::DbReplyAtWeb(r));
        }
    }

    pub(super) fn restore(&mut self, node: NodeId) {
        if let NodeId::Lb(k) = node {
            return self.restore_balancer(k as usize);
        }
        // A component starts only on a running machine (a random repair of a component
        // whose machine is down waits for the machine).
        if self.is_alive(node) || !self.machines.hosts_alive(node) {
            return;
        }
        self.note(Subject::Node(node), NodeEvent::Restored);
        match node {
            NodeId::Clients => {}
            NodeId::Dns => self.edge.dns_alive = true,
            NodeId::Lb(_) => {}
            NodeId::Web(i) => {
                let local = self.farm.app_is_local(i as usize);
                let w = &mut self.farm.servers[i as usize];
                w.alive = true;
                w.nginx_slow = 1.0;
                if local {
                    w.slow = 1.0;
                    w.busy_since = self.kernel.now;
                }
            }
            NodeId::App(i) => {
                let w = &mut self.farm.servers[i as usize];
                w.app_alive = true;
                w.slow = 1.0;
                w.busy_since = self.kernel.now;
            }
            NodeId::Db(n) => {
                let n = n as usize;
                self.db.nodes[n].alive = true;
                self.db.nodes[n].slow = 1.0;
                self.db_returns(n);
            }
        }
    }

    /// A replica that missed binlog events (it was down or cut off) fetches them again.
    pub(super) fn catch_up(&mut self, n: usize) {
        let p = self.db.primary;
        if n != p && n < self.db.nodes.len() && self.is_replica(n) {
            let position = self.db.nodes[p].received;
            if position > self.db.nodes[n].received {
                self.ship_binlog(n, position);
            }
        }
    }

    pub(super) fn slow(&mut self, node: NodeId, factor: f64) {
        match node {
            NodeId::Web(i) => {
                // A web server with its application beside it is slowed as one (as before
                // the two were told apart); one whose application is remote, Nginx only.
                let local = self.farm.app_is_local(i as usize);
                let w = &mut self.farm.servers[i as usize];
                w.nginx_slow = factor;
                if local {
                    w.slow = factor;
                }
            }
            NodeId::App(i) => self.farm.servers[i as usize].slow = factor,
            NodeId::Db(n) => self.db.nodes[n as usize].slow = factor,
            _ => return,
        }
        let event = if factor > 1.0 { NodeEvent::Slowed } else { NodeEvent::NormalSpeed };
        self.note(Subject::Node(node), event);
    }

    pub(super) fn cut(&mut self, link: Link) {
        if self.edge.cut_links.insert(link) {
            self.note(Subject::Link(link), NodeEvent::LinkCut);
            if let (NodeId::Clients, NodeId::Lb(k)) = (link.0, link.1) {
                self.uplink_changed(k as usize);
            }
        }
    }

    pub(super) fn heal(&mut self, link: Link) {
        if !self.edge.cut_links.remove(&link) {
            return;
        }
        self.note(Subject::Link(link), NodeEvent::LinkHealed);
        if let (NodeId::Clients, NodeId::Lb(k)) = (link.0, link.1) {
            self.uplink_changed(k as usize);
        }
        // Replication resumes over a healed link between database nodes.
        if let (NodeId::Db(a), NodeId::Db(b)) = (link.0, link.1) {
            self.catch_up(a as usize);
            self.catch_up(b as usize);
        }
    }

    pub(super) fn failure_rate_mut(&mut self, class: NodeClass) -> &mut FailureRate {
        let f = &mut self.scenario.failures;
        match class {
            NodeClass::Lb => &mut f.lb,
            NodeClass::Web => &mut f.web,
            NodeClass::Db => &mut f.db,
            NodeClass::Dns => &mut f.dns,
        }
    }

    fn failure_rate(&self, class: NodeClass) -> FailureRate {
        let f = &self.scenario.failures;
        match class {
            NodeClass::Lb => f.lb.clone(),
            NodeClass::Web => f.web.clone(),
            NodeClass::Db => f.db.clone(),
            NodeClass::Dns => f.dns.clone(),
        }
    }

    /// Every node of a class, in id order.
    pub fn nodes_of(&self, class: NodeClass) -> Vec<NodeId> {
        match class {
            NodeClass::Lb if self.balancers.direct => Vec::new(),
            NodeClass::Lb => (0..self.balancers.lbs.len() as u8).map(NodeId::Lb).collect(),
            NodeClass::Web => (0..self.farm.servers.len() as u16)
                .filter(|&i| self.farm.servers[i as usize].active)
                .map(NodeId::Web)
                .collect(),
            NodeClass::Db => (0..self.db.nodes.len() as u8).map(NodeId::Db).collect(),
            NodeClass::Dns => vec![NodeId::Dns],
        }
    }

    /// Draw each node's next random failure (its own stream, so traffic and other nodes are unaffected).
    pub(super) fn schedule_random_failures(&mut self, class: NodeClass) {
        if self.failure_rate(class).mtbf_s <= 0.0 {
            return;
        }
        for node in self.nodes_of(class) {
            self.schedule_failure_of(node);
        }
    }

    fn schedule_failure_of(&mut self, node: NodeId) {
        let Some(class) = NodeClass::of(node) else { return };
        let mtbf = self.failure_rate(class).mtbf_s;
        if mtbf <= 0.0 {
            return;
        }
        let after = exponential_from(self.kernel.failure_draw(node), mtbf);
        let generation = self.kernel.failure_generation[class as usize].token();
        self.kernel.queue.push(self.kernel.now + from_s(after).max(1), Ev::RandomFailure { node, generation });
    }

    #[inline(never)]
    pub(super) fn on_random_failure(&mut self, node: NodeId) {
        let Some(class) = NodeClass::of(node) else { return };
        if self.is_alive(node) {
            self.kill(node);
            let mttr = self.failure_rate(class).mttr_s;
            let after = exponential_from(self.kernel.failure_draw(node), mttr);
            self.kernel.queue.push(self.kernel.now + from_s(after).max(1), Ev::RandomRepair { node });
        } else {
            // Already down by hand: try again later.
            self.schedule_failure_of(node);
        }
    }

    /// Repairs always happen (even if the rate changed meanwhile), then the next failure is drawn.
    #[inline(never)]
    pub(super) fn on_random_repair(&mut self, node: NodeId) {
        self.restore(node);
        self.schedule_failure_of(node);
    }
}
