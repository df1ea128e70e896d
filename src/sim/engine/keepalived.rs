//! keepalived and HAProxy as separate processes on a balancer's machine (issue 19, part 5).
//!
//! What real keepalived (2.2) does, from its source (keepalived/vrrp/vrrp.c, vrrp_track.c,
//! vrrp_daemon.c):
//! - SIGTERM: the shutdown path leaves MASTER with a priority-0 advert and removes the floating
//!   IP (`vrrp_restore_interface` with `advF`), so the backup takes over after its skew time.
//! - SIGKILL: no handler runs. Adverts stop, but the address stays on the interface: the
//!   backup takes over after `master_down_interval` and both machines then have the floating
//!   IP (a duplicate address). The new master's gratuitous ARPs move the clients to it.
//! - A dead HAProxy is not keepalived's business unless it is tracked (`vrrp_script` +
//!   `track_script`): without it the master keeps advertising and keeps the address, and
//!   clients get connection refused at it. With it (weight 0, keepalived's default), a failed
//!   check puts the instance in FAULT (`down_instance` → `vrrp_state_leave_master(vrrp, true)`:
//!   a priority-0 advert, address removed); a passing one brings it back as BACKUP.
//! - keepalived starting removes what a killed predecessor left on the interface.
//!
//! Which name means what: `keepalivedK` is always keepalived alone. `lbK` is HAProxy alone in
//! a design whose machines name `keepalivedK` (scale-up); otherwise `lbK` is the balancer as
//! a whole, HAProxy with its keepalived, as before keepalived had an id of its own (every
//! older scenario, fault list and golden report keeps its meaning). A machine's kill takes
//! both down with the address.

use super::Sim;
use super::{Ev, VrrpRole};
use crate::sim::command::CommandKind;
use crate::sim::node::NodeId;
use crate::sim::time::{from_ms, SimTime};
use crate::sim::trace::{NodeEvent, Subject};

/// keepalived runs a `vrrp_script` every `interval` (its default 1 s) with `fall 1`, `rise 1`
/// (its defaults): one failed run is FAULT, one passing run ends it. The export writes the same.
pub const TRACK_INTERVAL_MS: f64 = 1_000.0;

/// The floating IP configured on both balancers' machines because a killed keepalived left it
/// on one of them (a typed fact: `render::facts` words it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DuplicateAddress {
    /// The balancer whose killed keepalived left the address behind.
    pub stale_on: NodeId,
    /// The other machine that has it (the new master, or another stale one).
    pub also_on: NodeId,
    /// Where the clients' packets go: the newest gratuitous ARP's sender (None if neither is
    /// reachable from the clients).
    pub traffic_to: Option<NodeId>,
}

impl Sim {
    /// Whether the scenario's machines name keepalived `k` as a component of its own; then
    /// commands on `lbK` act on HAProxy alone.
    pub(crate) fn keepalived_is_named(&self, k: usize) -> bool {
        let id = format!("keepalived{}", k + 1);
        self.scenario.machines.iter().any(|m| m.runs.contains(&id))
    }

    /// A command aimed at keepalived or at a balancer that, in this design, is HAProxy alone:
    /// does its target exist? `None` for every other command.
    pub(super) fn check_process_target(&self, what: &CommandKind) -> Option<Result<(), String>> {
        match *what {
            CommandKind::RestoreKeepalived { lb } => Some(self.keepalived_exists(lb).and_then(|()| {
                match self.machines.of(NodeId::Lb(lb)).filter(|&m| !self.machines.list[m].alive) {
                    Some(m) => Err(format!(
                        "keepalived{} cannot start while its machine {} is down; restore the machine",
                        lb + 1,
                        self.machines.list[m].id
                    )),
                    None if !self.keepalived_is_named(lb as usize) && !self.balancers.lbs[lb as usize].alive => {
                        Err(format!(
                            "keepalived{n} cannot start while lb{n} is down: in this design lb{n} is the balancer \
                             whole (no machine lists keepalived{n}); restore lb{n}",
                            n = lb + 1
                        ))
                    }
                    None => Ok(()),
                }
            })),
            CommandKind::KillKeepalived { lb } | CommandKind::StopKeepalived { lb } => Some(self.keepalived_exists(lb)),
            CommandKind::Stop { node: NodeId::Lb(k) } if self.keepalived_is_named(k as usize) => Some(Err(format!(
                "lb{n} is HAProxy alone in this design (its machine lists keepalived{n}): stop keepalived{n} for \
                 keepalived's planned stop, or kill lb{n} to stop HAProxy",
                n = k + 1
            ))),
            _ => None,
        }
    }

    fn keepalived_exists(&self, lb: u8) -> Result<(), String> {
        let name = format!("keepalived{}", lb as u32 + 1);
        if lb >= 2 {
            return Err(format!("{name} is not part of this design: a design has at most two balancers"));
        }
        if self.balancers.lbs.len() < 2 {
            return Err(format!(
                "{name} is not part of this design: keepalived runs only with a pair of balancers (balancer.pair is false)"
            ));
        }
        if !self.vrrp_active() {
            return Err(format!(
                "{name} is not part of this design: the pair is behind DNS (balancer.pair_mode is dns), no keepalived"
            ));
        }
        Ok(())
    }

    /// The commands on processes: keepalived's, and a balancer's that is HAProxy alone.
    pub(super) fn process_command(&mut self, what: &CommandKind) -> bool {
        match *what {
            CommandKind::KillKeepalived { lb } => self.kill_keepalived(lb as usize),
            CommandKind::StopKeepalived { lb } => self.stop_keepalived(lb as usize),
            CommandKind::RestoreKeepalived { lb } => self.start_keepalived(lb as usize),
            CommandKind::Kill { node: NodeId::Lb(k) } if self.keepalived_is_named(k as usize) => {
                self.kill_haproxy(k as usize)
            }
            CommandKind::Restore { node: NodeId::Lb(k) } if self.keepalived_is_named(k as usize) => {
                self.start_haproxy(k as usize)
            }
            _ => return false,
        }
        true
    }

    /// The balancer whole (a crash of its box, a random failure, its machine's kill): HAProxy
    /// and keepalived stop at once and the floating IP goes with the machine.
    pub(super) fn kill_balancer(&mut self, k: usize) {
        let l = &self.balancers.lbs[k];
        if !l.alive && !l.keepalived && !l.stale_vip {
            return;
        }
        self.note(Subject::Node(NodeId::Lb(k as u8)), NodeEvent::Killed);
        self.balancer_down(k);
    }

    /// keepalived and HAProxy of balancer `k` are both down now (whichever still ran).
    fn balancer_down(&mut self, k: usize) {
        self.keepalived_gone(k, false);
        if self.balancers.lbs[k].alive {
            self.balancers.lbs[k].alive = false;
            self.balancer_died(k);
        } else {
            self.update_split_brain();
        }
    }

    /// The balancer's planned stop: keepalived's priority-0 advert, then HAProxy stops too.
    pub(super) fn stop_balancer(&mut self, k: usize) {
        let l = &self.balancers.lbs[k];
        if !l.alive && !l.keepalived {
            return;
        }
        self.send_priority_zero(k);
        self.note(Subject::Node(NodeId::Lb(k as u8)), NodeEvent::Stopped);
        self.balancer_down(k);
    }

    /// The balancer whole starts again (on a running machine): whatever of it was down.
    pub(super) fn restore_balancer(&mut self, k: usize) {
        let l = &self.balancers.lbs[k];
        if (l.alive && l.keepalived) || !self.machines.hosts_alive(NodeId::Lb(k as u8)) {
            return;
        }
        self.note(Subject::Node(NodeId::Lb(k as u8)), NodeEvent::Restored);
        if !self.balancers.lbs[k].alive {
            self.haproxy_started(k);
        }
        if !self.balancers.lbs[k].keepalived {
            self.keepalived_started(k);
            self.update_split_brain();
        }
    }

    /// keepalived stops; `leaves_vip`: it was killed (SIGKILL) and what it had configured
    /// stays on the interface.
    fn keepalived_gone(&mut self, k: usize, leaves_vip: bool) {
        let held = self.holds_vip(k);
        let l = &mut self.balancers.lbs[k];
        l.stale_vip = leaves_vip && (held || l.stale_vip);
        l.keepalived = false;
        l.track_failed = false;
        l.advert.cancel();
        l.master_down.cancel();
        l.track.cancel();
    }

    /// `kill -9` of keepalived: no priority-0 advert, the floating IP stays configured.
    fn kill_keepalived(&mut self, k: usize) {
        if k >= self.balancers.lbs.len() || !self.balancers.lbs[k].keepalived {
            return;
        }
        self.note(Subject::Node(NodeId::Lb(k as u8)), NodeEvent::KeepalivedKilled);
        self.keepalived_gone(k, true);
        self.update_split_brain();
    }

    /// `systemctl stop keepalived` (SIGTERM): a master's priority-0 advert, the IP removed.
    fn stop_keepalived(&mut self, k: usize) {
        if k >= self.balancers.lbs.len() || !self.balancers.lbs[k].keepalived {
            return;
        }
        self.send_priority_zero(k);
        self.note(Subject::Node(NodeId::Lb(k as u8)), NodeEvent::KeepalivedStopped);
        self.keepalived_gone(k, false);
        self.update_split_brain();
    }

    /// keepalived starts (on a running machine, and where `lbK` is the balancer whole, with it
    /// running): BACKUP, listening; the stale IP removed.
    fn start_keepalived(&mut self, k: usize) {
        if k >= self.balancers.lbs.len()
            || self.balancers.lbs[k].keepalived
            || !self.machines.hosts_alive(NodeId::Lb(k as u8))
            || (!self.keepalived_is_named(k) && !self.balancers.lbs[k].alive)
        {
            return;
        }
        self.note(Subject::Node(NodeId::Lb(k as u8)), NodeEvent::KeepalivedStarted);
        self.keepalived_started(k);
        self.update_split_brain();
    }

    /// HAProxy alone crashes: keepalived goes on (and notices only if it tracks HAProxy).
    fn kill_haproxy(&mut self, k: usize) {
        if !self.balancers.lbs[k].alive {
            return;
        }
        self.note(Subject::Node(NodeId::Lb(k as u8)), NodeEvent::Killed);
        self.balancers.lbs[k].alive = false;
        self.balancer_died(k);
        self.schedule_track_check(k);
    }

    /// HAProxy alone starts again; a keepalived in FAULT sees it at its next check.
    fn start_haproxy(&mut self, k: usize) {
        if self.balancers.lbs[k].alive || !self.machines.hosts_alive(NodeId::Lb(k as u8)) {
            return;
        }
        self.note(Subject::Node(NodeId::Lb(k as u8)), NodeEvent::Restored);
        self.haproxy_started(k);
        self.schedule_track_check(k);
    }

    /// The next run of keepalived's HAProxy check (every `TRACK_INTERVAL_MS` since keepalived
    /// started), when its result can change: only with `vrrp.track_haproxy`.
    pub(super) fn schedule_track_check(&mut self, k: usize) {
        let l = &self.balancers.lbs[k];
        if !self.scenario.vrrp.track_haproxy || !self.vrrp_active() || !l.keepalived {
            return;
        }
        if l.alive != l.track_failed {
            // The last run saw what is true now: nothing to change.
            self.balancers.lbs[k].track.cancel();
            return;
        }
        let interval = from_ms(TRACK_INTERVAL_MS).max(1);
        let since = l.keepalived_since;
        let runs_done = (self.kernel.now - since) / interval;
        let next: SimTime = since + (runs_done + 1) * interval;
        let generation = self.balancers.lbs[k].track.arm();
        self.kernel.queue.push(next, Ev::TrackCheck { lb: k as u8, generation });
    }

    /// keepalived's HAProxy check runs: FAULT when HAProxy is dead, BACKUP again when it runs.
    #[inline(never)]
    pub(super) fn on_track_check(&mut self, k: usize) {
        self.balancers.lbs[k].track.disarm();
        let l = &self.balancers.lbs[k];
        if !l.keepalived || !self.vrrp_active() {
            return;
        }
        let node = Subject::Node(NodeId::Lb(k as u8));
        match (l.alive, l.track_failed) {
            (false, false) => {
                // FAULT from MASTER: priority-0 advert, the address removed.
                self.send_priority_zero(k);
                let l = &mut self.balancers.lbs[k];
                l.track_failed = true;
                l.role = VrrpRole::Backup;
                l.advert.cancel();
                l.master_down.cancel();
                self.note(node, NodeEvent::TrackFault);
                self.update_split_brain();
            }
            (true, true) => {
                self.balancers.lbs[k].track_failed = false;
                self.note(node, NodeEvent::TrackPassed);
                if !self.in_fault(k) {
                    self.reset_master_down_timer(k);
                }
            }
            _ => {}
        }
    }

    /// Track the duplicate address: both machines have the floating IP and one of them only
    /// because its keepalived was killed (two live masters are a split brain, counted apart).
    pub(super) fn update_duplicate_address(&mut self) {
        let now = self.kernel.now;
        let duplicate = self.duplicate_address();
        match (duplicate, self.balancers.duplicate_address.is_running()) {
            (Some(d), false) => {
                self.balancers.duplicate_address.start(now);
                self.balancers.duplicate_stale_on = d.stale_on;
                self.note(Subject::Node(d.stale_on), NodeEvent::DuplicateAddressStart);
            }
            (Some(d), true) => self.balancers.duplicate_stale_on = d.stale_on,
            (None, true) => {
                self.balancers.duplicate_address.stop(now);
                self.note(Subject::Node(self.balancers.duplicate_stale_on), NodeEvent::DuplicateAddressEnd);
            }
            _ => {}
        }
    }

    /// The duplicate address now, if there is one.
    pub fn duplicate_address(&self) -> Option<DuplicateAddress> {
        if self.balancers.lbs.len() != 2 || !self.holds_vip(0) || !self.holds_vip(1) {
            return None;
        }
        let stale = (0..2).find(|&k| self.balancers.lbs[k].stale_vip)?;
        Some(DuplicateAddress {
            stale_on: NodeId::Lb(stale as u8),
            also_on: NodeId::Lb(1 - stale as u8),
            traffic_to: self.vip_owner().map(NodeId::Lb),
        })
    }

    /// Seconds during which a killed keepalived's stale floating IP made a duplicate address.
    pub fn duplicate_address_s(&self) -> f64 {
        self.balancers.duplicate_address.seconds(self.kernel.now)
    }
}
