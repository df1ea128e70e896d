//! High availability: HAProxy health checks of the web servers (with backups and slowstart
//! handled through the balancer's pool), and the keepalived/VRRP pair of balancers.

use super::{Ev, Sim, Stage};
use crate::scenario::PairMode;
use crate::sim::metrics::FailCause;
use crate::sim::node::NodeId;
use crate::sim::rng::{uniform, Stream};
use crate::sim::time::{from_ms, from_s, SimTime};
use crate::sim::trace::{NodeEvent, Subject};

/// What the balancer believes of a server, as HAProxy shows it ("UP 1/3", "DOWN 1/2").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HealthState {
    /// UP but not checked yet. HAProxy starts a server at health = `rise` ("UP 1/3" with
    /// fall 3), one point above DOWN: its first check either brings it to full health or,
    /// failing, marks it DOWN at once, whatever `fall` is.
    #[default]
    Starting,
    /// UP at full health: `fall` failed checks in a row mark it DOWN.
    Up,
    /// Still UP, but this many checks in a row have failed (fewer than `fall`).
    Suspect(u8),
    Down,
    /// Still DOWN, but this many checks in a row have passed (fewer than `rise`).
    Rising(u8),
}

impl HealthState {
    pub fn is_up(self) -> bool {
        matches!(self, HealthState::Starting | HealthState::Up | HealthState::Suspect(_))
    }
}

/// A balancer's VRRP role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VrrpRole {
    /// Holds (or competes for) the floating IP and sends advertisements.
    Master,
    /// Listens for the master's advertisements and takes over when they stop.
    Backup,
}

impl Sim {
    /// Checks start at a random phase within the first interval, as HAProxy spreads them; the
    /// phase comes from the server's own stream, so adding a server shifts no other's checks.
    pub(super) fn schedule_first_check(&mut self, i: usize) {
        let inter = from_ms(self.scenario.balancer.health.inter_ms).max(1);
        let mut rng = self.kernel.rngs.node_stream(Stream::NodeHealthPhase, NodeId::Web(i as u16));
        let phase = (uniform(&mut rng) * inter as f64) as SimTime;
        self.kernel.queue.push(self.kernel.now + phase.max(1), Ev::HealthCheck { server: i as u16 });
    }

    /// One health check of server `i` from the balancers.
    #[inline(never)]
    pub(super) fn on_health_check(&mut self, i: usize) {
        if i >= self.farm.servers.len() {
            return;
        }
        let web = NodeId::Web(i as u16);
        if !self.balancers.lbs.iter().any(|l| l.alive) {
            // A dead HAProxy runs no checks: what it believed is frozen, not turned into DOWN.
            self.schedule_next_check(i, self.farm.servers[i].health);
            return;
        }
        let reachable = (0..self.balancers.lbs.len())
            .any(|k| self.balancers.lbs[k].alive && !self.is_cut(NodeId::Lb(k as u8), web));
        let ok = self.farm.servers[i].alive && reachable;
        let h = self.scenario.balancer.health.clone();
        let (rise, fall) = (h.rise.max(1) as u8, h.fall.max(1) as u8);
        let before = self.farm.servers[i].health;
        let after = match (before, ok) {
            (HealthState::Starting, true) => HealthState::Up,
            (HealthState::Starting, false) => HealthState::Down,
            (HealthState::Up, true) => HealthState::Up,
            (HealthState::Up, false) if fall <= 1 => HealthState::Down,
            (HealthState::Up, false) => HealthState::Suspect(1),
            (HealthState::Suspect(_), true) => HealthState::Up,
            (HealthState::Suspect(n), false) if n + 1 >= fall => HealthState::Down,
            (HealthState::Suspect(n), false) => HealthState::Suspect(n + 1),
            (HealthState::Down, false) => HealthState::Down,
            (HealthState::Down, true) if rise <= 1 => HealthState::Up,
            (HealthState::Down, true) => HealthState::Rising(1),
            (HealthState::Rising(_), false) => HealthState::Down,
            (HealthState::Rising(n), true) if n + 1 >= rise => HealthState::Up,
            (HealthState::Rising(n), true) => HealthState::Rising(n + 1),
        };
        self.farm.servers[i].health = after;
        if before.is_up() && !after.is_up() {
            self.note(Subject::Node(web), NodeEvent::MarkedDown);
            self.refresh_candidates();
            self.redispatch_own_queue(i);
        } else if !before.is_up() && after.is_up() {
            self.farm.servers[i].up_since = self.kernel.now;
            self.note(Subject::Node(web), NodeEvent::MarkedUp);
            self.refresh_candidates();
            self.serve_all_queues();
        }
        self.schedule_next_check(i, after);
    }

    /// HAProxy: `inter` while steady UP, `downinter` while steady DOWN, `fastinter` in between.
    fn schedule_next_check(&mut self, i: usize, after: HealthState) {
        let h = &self.scenario.balancer.health;
        let inter = h.inter_ms;
        let pick = |v: f64| if v > 0.0 { v } else { inter };
        let next_ms = match after {
            HealthState::Up => inter,
            HealthState::Down => pick(h.downinter_ms),
            HealthState::Starting | HealthState::Suspect(_) | HealthState::Rising(_) => pick(h.fastinter_ms),
        };
        self.kernel.queue.push(self.kernel.now + from_ms(next_ms).max(1), Ev::HealthCheck { server: i as u16 });
    }

    /// Every server back to the state a freshly started HAProxy gives it.
    fn restart_health_checks(&mut self) {
        for i in 0..self.farm.servers.len() {
            let before = self.farm.servers[i].health;
            self.farm.servers[i].health = HealthState::default();
            if !before.is_up() && self.farm.servers[i].health.is_up() {
                self.farm.servers[i].up_since = self.kernel.now;
                self.note(Subject::Node(NodeId::Web(i as u16)), NodeEvent::MarkedUp);
            }
        }
        self.refresh_candidates();
    }

    /// A server marked DOWN: requests waiting for it specifically are balanced again.
    fn redispatch_own_queue(&mut self, i: usize) {
        let waiting: Vec<_> = self.farm.servers[i].own_queue.drain(..).collect();
        for r in waiting {
            if self.requests.is_at(r, Stage::Queued) {
                self.unqueue(r);
                self.dispatch(r);
            }
        }
    }

    /// A pair starts with the higher-priority balancer as master (lb1 on a tie).
    pub(super) fn start_balancers(&mut self) {
        if self.balancers.lbs.len() == 1 || self.scenario.balancer.pair_mode == PairMode::Dns {
            // A lone balancer, or two active ones behind DNS: no VRRP, each simply serves.
            for lb in &mut self.balancers.lbs {
                lb.role = VrrpRole::Master;
            }
            return;
        }
        let first = if self.balancers.lbs[1].priority > self.balancers.lbs[0].priority { 1 } else { 0 };
        self.balancers.lbs[first].role = VrrpRole::Master;
        self.balancers.lbs[1 - first].role = VrrpRole::Backup;
        self.reset_master_down_timer(1 - first);
        self.send_advert(first);
    }

    pub(super) fn vrrp_active(&self) -> bool {
        self.balancers.lbs.len() == 2 && self.scenario.balancer.pair_mode == PairMode::Vrrp
    }

    /// The interval keepalived uses (version 2 rounds to whole seconds).
    fn advert_interval(&self) -> SimTime {
        from_ms(self.scenario.vrrp.advert_int_used_ms()).max(1)
    }

    /// keepalived's skew time (`VRRP_TIMER_SKEW`): version 2 (256 − priority)/256 seconds,
    /// version 3 (256 − priority)/256 × advert_int, computed in centiseconds as keepalived does.
    pub fn skew_time(&self, lb: usize) -> SimTime {
        let weight = 256 - self.balancers.lbs[lb].priority.min(255) as u64;
        if self.scenario.vrrp.version == 3 {
            weight * (self.advert_interval() / 10_000) * 625 / 16
        } else {
            weight * 1_000_000 / 256
        }
    }

    /// keepalived's Master_Down_Interval: 3 × advert_int + skew.
    pub fn master_down_interval(&self, lb: usize) -> SimTime {
        3 * self.advert_interval() + self.skew_time(lb)
    }

    pub(super) fn reset_master_down_timer(&mut self, lb: usize) {
        let generation = self.balancers.lbs[lb].master_down.arm();
        let at = self.kernel.now + self.master_down_interval(lb);
        self.kernel.queue.push(at, Ev::VrrpTimer { lb: lb as u8, generation });
    }

    /// The master advertises now (and every advert_int while it stays master).
    fn send_advert(&mut self, lb: usize) {
        let generation = self.balancers.lbs[lb].advert.arm();
        self.on_vrrp_advert(lb, generation);
    }

    #[inline(never)]
    pub(super) fn on_vrrp_advert(&mut self, lb: usize, generation: u32) {
        if !self.vrrp_active() || lb >= 2 {
            return;
        }
        let me = &self.balancers.lbs[lb];
        if !me.keepalived || me.role != VrrpRole::Master || self.in_fault(lb) {
            return;
        }
        let other = 1 - lb;
        if self.balancers.lbs[other].keepalived && !self.is_cut(NodeId::Lb(0), NodeId::Lb(1)) {
            let (mine, theirs) = (self.balancers.lbs[lb].priority, self.balancers.lbs[other].priority);
            match self.balancers.lbs[other].role {
                VrrpRole::Backup => self.backup_heard(other, mine),
                VrrpRole::Master => {
                    // Two masters hear each other: the higher priority (then lb2, the higher
                    // address) stays master. A master hearing a lower-priority advert answers
                    // at once ("forcing new election"), so the sender steps down now, not at
                    // the winner's next scheduled advert.
                    let loser = if mine > theirs || (mine == theirs && lb > other) { other } else { lb };
                    self.step_down(loser);
                    if loser == lb {
                        return;
                    }
                }
            }
        }
        let next = self.kernel.now + self.advert_interval();
        self.kernel.queue.push(next, Ev::VrrpAdvert { lb: lb as u8, generation });
    }

    /// A backup hears the master's advert (keepalived `vrrp_state_backup`): it accepts a master
    /// of equal or higher priority, any master with preemption off, and a lower-priority one
    /// until its preempt delay (started by the first such advert) has passed. Otherwise it
    /// lets its timer run out and takes over.
    fn backup_heard(&mut self, lb: usize, master_priority: u32) {
        let delay = from_s(self.scenario.vrrp.preempt_delay_s.max(0.0));
        let mine = self.balancers.lbs[lb].priority;
        let delaying = delay > 0 && self.balancers.lbs[lb].preempt_until.is_none_or(|t| t > self.kernel.now);
        if !self.scenario.vrrp.preempt || master_priority >= mine || delaying {
            self.reset_master_down_timer(lb);
            if delay > 0 && master_priority >= mine {
                self.balancers.lbs[lb].preempt_until = None;
            } else if delay > 0 && self.balancers.lbs[lb].preempt_until.is_none() {
                self.balancers.lbs[lb].preempt_until = Some(self.kernel.now + delay);
            }
        }
    }

    /// A master hears a higher-priority master and becomes backup.
    fn step_down(&mut self, lb: usize) {
        self.balancers.lbs[lb].role = VrrpRole::Backup;
        self.balancers.lbs[lb].advert.cancel();
        self.note(Subject::Node(NodeId::Lb(lb as u8)), NodeEvent::BecameBackup);
        self.reset_master_down_timer(lb);
        self.update_split_brain();
    }

    /// keepalived stopped gracefully (SIGTERM): a master sends a priority-0 advert, so a backup
    /// that hears it takes over after its skew time only, not the full master-down interval.
    pub(super) fn send_priority_zero(&mut self, lb: usize) {
        if !self.vrrp_active() || lb >= 2 || self.balancers.lbs[lb].role != VrrpRole::Master || self.in_fault(lb) {
            return;
        }
        if !self.balancers.lbs[lb].keepalived {
            return;
        }
        let other = 1 - lb;
        let o = &self.balancers.lbs[other];
        if !o.keepalived || o.role != VrrpRole::Backup || self.is_cut(NodeId::Lb(0), NodeId::Lb(1)) {
            return;
        }
        let generation = self.balancers.lbs[other].master_down.arm();
        let at = self.kernel.now + self.skew_time(other);
        self.kernel.queue.push(at, Ev::VrrpTimer { lb: other as u8, generation });
    }

    #[inline(never)]
    pub(super) fn on_vrrp_timer(&mut self, lb: usize) {
        if !self.vrrp_active() || lb >= 2 {
            return;
        }
        let me = &self.balancers.lbs[lb];
        if !me.keepalived || me.role != VrrpRole::Backup || self.in_fault(lb) {
            return;
        }
        self.become_master(lb);
    }

    fn become_master(&mut self, lb: usize) {
        self.balancers.lbs[lb].role = VrrpRole::Master;
        self.balancers.lbs[lb].preempt_until = None;
        self.balancers.lbs[lb].master_since = self.kernel.now;
        self.note(Subject::Node(NodeId::Lb(lb as u8)), NodeEvent::BecameMaster);
        // Advertise first: a reachable lower-priority master steps down at once, so only a
        // real partition leaves two masters.
        self.send_advert(lb);
        self.update_split_brain();
    }

    /// Who gets the floating IP's traffic: of the machines that have it configured and are
    /// reachable, the one that sent the last gratuitous ARP (switches and clients' ARP caches
    /// remember the newest). A keepalived becoming master sends them (`garp_master_delay`);
    /// a killed one sends nothing, so a stale address left behind keeps its traffic only
    /// while no newer master has announced itself. Not modelled: a client whose ARP entry
    /// expires asks again and may get the stale machine's answer. None while nobody has it.
    pub fn vip_owner(&self) -> Option<u8> {
        self.balancers
            .lbs
            .iter()
            .enumerate()
            .filter(|&(k, _)| self.holds_vip(k) && !self.uplink_down(k))
            .max_by_key(|(k, l)| (l.master_since, std::cmp::Reverse(*k)))
            .map(|(k, _)| k as u8)
    }

    /// Whether balancer `k`'s machine has the floating IP configured: its keepalived is a
    /// master not in FAULT, or a killed keepalived left it there.
    pub(super) fn holds_vip(&self, k: usize) -> bool {
        let l = &self.balancers.lbs[k];
        (l.keepalived && l.role == VrrpRole::Master && !self.in_fault(k)) || l.stale_vip
    }

    /// keepalived's FAULT state: its tracked interface is down, or its HAProxy check failed.
    pub(super) fn in_fault(&self, lb: usize) -> bool {
        self.uplink_down(lb) || self.balancers.lbs[lb].track_failed
    }

    /// keepalived `track_interface`: a balancer whose client-side link is cut is in FAULT and
    /// may not hold the floating IP.
    fn uplink_down(&self, lb: usize) -> bool {
        self.is_cut(NodeId::Clients, NodeId::Lb(lb as u8))
    }

    /// A balancer's client-side link was cut (FAULT: give up the floating IP) or healed
    /// (listen again as backup, so preemption can bring it back).
    pub(super) fn uplink_changed(&mut self, lb: usize) {
        if !self.vrrp_active() || lb >= 2 || !self.balancers.lbs[lb].keepalived {
            return;
        }
        if self.uplink_down(lb) {
            if self.balancers.lbs[lb].role == VrrpRole::Master {
                self.balancers.lbs[lb].role = VrrpRole::Backup;
                self.balancers.lbs[lb].advert.cancel();
                self.note(Subject::Node(NodeId::Lb(lb as u8)), NodeEvent::BecameBackup);
                self.update_split_brain();
            }
        } else if !self.in_fault(lb) {
            self.reset_master_down_timer(lb);
        }
    }

    /// Both balancers are master right now.
    pub fn in_split_brain(&self) -> bool {
        self.balancers.split_brain.is_running()
    }

    /// Track split brain: both balancers master at once (and the duplicate address that a
    /// killed keepalived's stale floating IP makes).
    pub(super) fn update_split_brain(&mut self) {
        if !self.vrrp_active() {
            return;
        }
        self.update_duplicate_address();
        let masters = self.balancers.lbs.iter().filter(|l| l.keepalived && l.role == VrrpRole::Master).count();
        match (masters > 1, self.balancers.split_brain.is_running()) {
            (true, false) => {
                self.balancers.split_brain.start(self.kernel.now);
                self.note(Subject::Node(NodeId::Lb(0)), NodeEvent::SplitBrainStart);
            }
            (false, true) => {
                self.balancers.split_brain.stop(self.kernel.now);
                self.note(Subject::Node(NodeId::Lb(0)), NodeEvent::SplitBrainEnd);
            }
            _ => {}
        }
    }

    /// A balancer died: what it held is lost.
    pub(super) fn balancer_died(&mut self, lb: usize) {
        let queued =
            self.requests.where_(|q| matches!(q.stage, Stage::Queued | Stage::RetryWait) && q.lb as usize == lb);
        for r in queued {
            if self.requests.get(r).stage == Stage::Queued {
                self.unqueue(r);
            }
            self.fail_now(r, FailCause::LbDown);
        }
        self.update_split_brain();
    }

    /// HAProxy on balancer `lb` starts. If no balancer was running, the HAProxy process starts
    /// fresh: without a server-state file it knows nothing of the servers and starts them in
    /// their initial state.
    pub(super) fn haproxy_started(&mut self, lb: usize) {
        if self.balancers.lbs.iter().enumerate().all(|(k, l)| k == lb || !l.alive) {
            self.restart_health_checks();
        }
        self.balancers.lbs[lb].alive = true;
    }

    /// keepalived on balancer `lb` starts: it rejoins as backup and listens before claiming
    /// anything (without VRRP the balancer simply serves). At start keepalived removes the
    /// floating IP a killed predecessor left on the interface (`vrrp_restore_interface` with
    /// `force`), and assumes its HAProxy check passes until the first run says otherwise.
    pub(super) fn keepalived_started(&mut self, lb: usize) {
        let now = self.kernel.now;
        let l = &mut self.balancers.lbs[lb];
        l.keepalived = true;
        l.stale_vip = false;
        l.track_failed = false;
        l.keepalived_since = now;
        if self.vrrp_active() {
            self.balancers.lbs[lb].role = VrrpRole::Backup;
            self.balancers.lbs[lb].preempt_until = None;
            self.reset_master_down_timer(lb);
            self.schedule_track_check(lb);
        } else {
            self.balancers.lbs[lb].role = VrrpRole::Master;
        }
    }
}
