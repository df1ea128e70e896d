//! Machines: which nodes of the model run on which machine, whether the machine is up, and the
//! CPU work of everything it runs, shared among its cores (processor sharing, `sim::cpu`).
//!
//! ```text
//!   server1 (2 cores) ── web1 (Nginx) ────────┐ Nginx time        ┐
//!                     ├─ app1 (application) ──┤ application time  ├─▶ Cpu<Ev> ─▶ CpuDone
//!                     └─ db1 (MySQL) ─────────┘ queries, applies  ┘
//! ```
//! Every piece of CPU work (Nginx's time, an application's service time, a query, a binlog
//! apply) goes
//! through [`Sim::run_work`] with the event that ends it. On a machine no scenario listed (one
//! per node, as before machines existed) the event is scheduled directly, `work_us` later; on a
//! listed machine its `Cpu` holds the event until the work is done at the shared rate, and one
//! `CpuDone` timer per machine wakes the engine for the next finish. While no more pieces of
//! work run than there are cores, that is the same microsecond as a direct schedule.
//!
//! Worker pools (application threads, database connections) stay concurrency limits on top:
//! a piece of work waits for a worker first, then shares the cores.

use super::timer::Timer;
use super::{Ev, Sim};
use crate::scenario::machines::{placement, ComponentKind, Cores};
use crate::scenario::Scenario;
use crate::sim::cpu::Cpu;
use crate::sim::node::NodeId;
use crate::sim::rng::exponential_from;
use crate::sim::time::{from_s, SimTime};

pub(crate) struct MachineState {
    pub(crate) id: String,
    /// The model's nodes it runs, in placement order (keepalived is part of its balancer's
    /// node).
    pub(crate) nodes: Vec<NodeId>,
    /// The components it runs as the scenario names them (`web1`, `app1`, `db1`).
    components: Vec<String>,
    /// `None` for a machine no scenario listed: its work never waits for a core.
    pub(crate) cpu: Option<Cpu<u32>>,
    /// The event that ends each piece of work on `cpu`, by the slot that names it there (a
    /// small integer key keeps the CPU's tables small; `None`: a free slot).
    work: Vec<Option<Ev>>,
    free_work: Vec<u32>,
    pub(crate) alive: bool,
    /// When it last went down, and how long it has been down before that (microseconds).
    down_since: SimTime,
    down_us: SimTime,
    /// The next `CpuDone` of this machine.
    pub(crate) timer: Timer,
}

// Machine indices are `u8` with `u8::MAX` meaning none: listed machines plus one derived machine
// per node at most stay below it.
const MOST_MACHINES: usize = crate::scenario::machines::MAX_MACHINES
    + 2
    + crate::scenario::MAX_WEB_SERVERS
    + 1
    + crate::scenario::MAX_REPLICAS as usize;
const _: () = assert!(MOST_MACHINES < u8::MAX as usize);

#[derive(Default)]
pub(crate) struct Machines {
    pub(crate) list: Vec<MachineState>,
    /// Whether any machine shares cores (a listed one): if not, work is scheduled directly
    /// without looking a machine up (the hot path of every scenario that lists none).
    shares_cores: bool,
    /// The machine of each node, by node index (a server added later runs on its own machine).
    lb_machine: Vec<u8>,
    web_machine: Vec<u8>,
    app_machine: Vec<u8>,
    db_machine: Vec<u8>,
}

impl Machines {
    pub(crate) fn new(s: &Scenario) -> Machines {
        let mut m = Machines::default();
        for placed in placement(s) {
            let index = m.list.len() as u8;
            let mut nodes: Vec<NodeId> = Vec::new();
            for c in &placed.components {
                let node = match c.kind {
                    ComponentKind::Lb | ComponentKind::Keepalived => NodeId::Lb(c.index as u8),
                    ComponentKind::Web => NodeId::Web(c.index as u16),
                    ComponentKind::App => NodeId::App(c.index as u16),
                    ComponentKind::Db => NodeId::Db(c.index as u8),
                };
                if !nodes.contains(&node) {
                    nodes.push(node);
                }
                let slot = match node {
                    NodeId::Lb(k) => (&mut m.lb_machine, k as usize),
                    NodeId::Web(i) => (&mut m.web_machine, i as usize),
                    NodeId::App(i) => (&mut m.app_machine, i as usize),
                    NodeId::Db(n) => (&mut m.db_machine, n as usize),
                    _ => continue,
                };
                if slot.0.len() <= slot.1 {
                    slot.0.resize(slot.1 + 1, u8::MAX);
                }
                slot.0[slot.1] = index;
            }
            let cpu = match placed.cores {
                Cores::Count(cores) => Cpu::new(cores).ok(),
                Cores::Dedicated => None,
            };
            m.shares_cores |= cpu.is_some();
            m.list.push(MachineState {
                id: placed.id,
                nodes,
                components: placed.components.iter().map(ToString::to_string).collect(),
                cpu,
                work: Vec::new(),
                free_work: Vec::new(),
                alive: true,
                down_since: 0,
                down_us: 0,
                timer: Timer::default(),
            });
        }
        m
    }

    /// The machine that runs `node`, if any (a web server added by a command runs on its own).
    pub(crate) fn of(&self, node: NodeId) -> Option<usize> {
        let at = match node {
            NodeId::Lb(k) => self.lb_machine.get(k as usize),
            NodeId::Web(i) => self.web_machine.get(i as usize),
            NodeId::App(i) => self.app_machine.get(i as usize),
            NodeId::Db(n) => self.db_machine.get(n as usize),
            _ => None,
        };
        at.copied().filter(|&m| m != u8::MAX).map(usize::from)
    }

    /// The machine called `id`.
    pub(crate) fn find(&self, id: &str) -> Option<usize> {
        self.list.iter().position(|m| m.id == id)
    }

    /// Whether every machine that runs part of `node` is up (a node on no machine: yes).
    pub(crate) fn hosts_alive(&self, node: NodeId) -> bool {
        self.list.iter().filter(|m| m.nodes.contains(&node)).all(|m| m.alive)
    }
}

impl Sim {
    /// Start `work_us` of CPU work on `node`'s machine; `done` is delivered when it is done
    /// (at once `work_us` later if the machine never makes work wait for a core).
    #[inline]
    pub(super) fn run_work(&mut self, node: NodeId, work_us: SimTime, done: Ev) {
        let now = self.kernel.now;
        if !self.machines.shares_cores {
            self.kernel.queue.push(now + work_us, done);
            return;
        }
        let Some(m) = self.machines.of(node) else {
            self.kernel.queue.push(now + work_us, done);
            return;
        };
        let machine = &mut self.machines.list[m];
        let Some(cpu) = machine.cpu.as_mut() else {
            self.kernel.queue.push(now + work_us, done);
            return;
        };
        let slot = machine.free_work.pop().unwrap_or(machine.work.len() as u32);
        if cpu.add(now, work_us, slot).is_err() {
            // Beyond the CPU's job bound (above the model's bound on live requests, so it
            // cannot happen): run it unshared rather than lose the request.
            machine.free_work.push(slot);
            self.kernel.queue.push(now + work_us, done);
            return;
        }
        match machine.work.get_mut(slot as usize) {
            Some(entry) => *entry = Some(done),
            None => machine.work.push(Some(done)),
        }
        self.arm_cpu(m);
    }

    /// Work that no longer matters (its component died): it stops taking a share of the cores.
    pub(super) fn cancel_work(&mut self, node: NodeId, done: Ev) {
        let now = self.kernel.now;
        let Some(m) = self.machines.of(node) else { return };
        let machine = &mut self.machines.list[m];
        let Some(slot) = machine.work.iter().position(|w| *w == Some(done)) else { return };
        if let Some(cpu) = machine.cpu.as_mut() {
            cpu.remove(now, slot as u32);
        }
        machine.work[slot] = None;
        machine.free_work.push(slot as u32);
        self.arm_cpu(m);
    }

    /// The index of the machine called `id` (commands are checked first, so it exists).
    pub(super) fn machine_named(&self, id: &str) -> usize {
        self.machines.find(id).unwrap_or(usize::MAX)
    }

    /// Schedule the machine's next finish (earlier `CpuDone`s become stale).
    fn arm_cpu(&mut self, m: usize) {
        let now = self.kernel.now;
        let machine = &mut self.machines.list[m];
        let Some(next) = machine.cpu.as_ref().and_then(|c| c.next_completion(now)) else {
            machine.timer.cancel();
            return;
        };
        let token = machine.timer.arm();
        self.kernel.queue.push(next.0.max(now), Ev::CpuDone { machine: m as u8, token });
    }

    /// A machine's next piece of work is done: deliver every event whose work is finished.
    pub(super) fn on_cpu_done(&mut self, m: usize) {
        let now = self.kernel.now;
        self.machines.list[m].timer.disarm();
        // Through the queue, at this microsecond, rather than by calling `handle` from here:
        // `handle` then never calls itself and stays inlined in the event loop.
        let machine = &mut self.machines.list[m];
        while let Some(slot) = machine.cpu.as_mut().and_then(|c| c.complete(now)) {
            if let Some(done) = machine.work.get_mut(slot as usize).and_then(Option::take) {
                machine.free_work.push(slot);
                self.kernel.queue.push(now, done);
            }
        }
        self.arm_cpu(m);
    }

    /// The whole machine crashes: everything it runs goes down and its work is lost.
    pub(super) fn kill_machine(&mut self, m: usize) {
        if self.machines.list.get(m).is_none_or(|machine| !machine.alive) {
            return;
        }
        for node in self.machines.list[m].nodes.clone() {
            self.kill(node);
        }
        let now = self.kernel.now;
        let machine = &mut self.machines.list[m];
        machine.alive = false;
        machine.down_since = now;
        machine.timer.cancel();
        machine.work.clear();
        machine.free_work.clear();
        if let Some(cpu) = machine.cpu.as_mut() {
            // Same cores, no work: `new` cannot refuse the cores a running CPU already has.
            if let Ok(empty) = Cpu::new(cpu.cores()) {
                *cpu = empty;
            }
        }
    }

    /// The machine boots again: everything it runs starts (empty-handed).
    pub(super) fn restore_machine(&mut self, m: usize) {
        if self.machines.list.get(m).is_none_or(|machine| machine.alive) {
            return;
        }
        let machine = &mut self.machines.list[m];
        machine.alive = true;
        machine.down_us += self.kernel.now - machine.down_since;
        for node in self.machines.list[m].nodes.clone() {
            self.restore(node);
        }
    }

    /// Everything on the machine works `factor` times slower.
    pub(super) fn slow_machine(&mut self, m: usize, factor: f64) {
        let Some(machine) = self.machines.list.get(m) else { return };
        for node in machine.nodes.clone() {
            if matches!(node, NodeId::Web(_) | NodeId::App(_) | NodeId::Db(_)) {
                self.slow(node, factor);
            }
        }
    }

    /// The machines the scenario lists (those that share cores), with their CPU load since
    /// the start; derived machines are left out (their cores are not counted).
    pub fn machine_reports(&self) -> Vec<crate::sim::report::MachineReport> {
        let now = self.kernel.now;
        let listed = self.machines.list.iter().filter_map(|m| m.cpu.as_ref().map(|cpu| (m, cpu)));
        listed
            .map(|(m, cpu)| crate::sim::report::MachineReport {
                id: m.id.clone(),
                cores: cpu.cores(),
                runs: m.components.clone(),
                cpu_utilization: match now {
                    0 => 0.0,
                    _ => cpu.busy_core_us(now) as f64 / (cpu.cores() as f64 * now as f64),
                },
                alive: m.alive,
                downtime_s: (m.down_us + if m.alive { 0 } else { now - m.down_since }) as f64 / 1e6,
            })
            .collect()
    }

    /// Draw listed machine `m`'s next random failure (derived machines fail as their node).
    pub(super) fn schedule_machine_failure(&mut self, m: usize) {
        let mtbf = self.scenario.failures.machine.mtbf_s;
        if mtbf <= 0.0 || self.machines.list.get(m).is_none_or(|machine| machine.cpu.is_none()) {
            return;
        }
        let after = exponential_from(self.kernel.machine_failure_draw(m), mtbf);
        self.kernel.queue.push(self.kernel.now + from_s(after).max(1), Ev::MachineFailure { machine: m as u8 });
    }

    /// A random failure: the machine goes down with all it runs, and is repaired later.
    #[inline(never)]
    pub(super) fn on_machine_failure(&mut self, m: usize) {
        if !self.machines.list[m].alive {
            // Already down by hand: try again later.
            self.schedule_machine_failure(m);
            return;
        }
        self.kill_machine(m);
        let after = exponential_from(self.kernel.machine_failure_draw(m), self.scenario.failures.machine.mttr_s);
        self.kernel.queue.push(self.kernel.now + from_s(after).max(1), Ev::MachineRepair { machine: m as u8 });
    }

    /// The repair: the machine boots (everything it runs starts), then its next failure is drawn.
    #[inline(never)]
    pub(super) fn on_machine_repair(&mut self, m: usize) {
        self.restore_machine(m);
        self.schedule_machine_failure(m);
    }
}
