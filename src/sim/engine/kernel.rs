//! The kernel: simulated time, the event queue, the random streams (traffic, routing, phases,
//! and each node's own failure stream), the command log, the warm-up boundary and the network
//! delays every hop reads. Every other part asks the kernel for "now" and schedules through it.

use super::timer::Generation;
use super::Ev;
use crate::scenario::Scenario;
use crate::sim::command::Command;
use crate::sim::node::NodeId;
use crate::sim::queue::EventQueue;
use crate::sim::rng::{uniform, Rngs, Stream};
use crate::sim::time::{from_ms, from_s, SimTime};
use std::collections::BTreeMap;

pub(crate) struct Kernel {
    pub(crate) now: SimTime,
    pub(crate) queue: EventQueue<Ev>,
    pub(crate) rngs: Rngs,
    /// Each node's own random-failure stream, made when the node first needs one.
    pub(crate) failure_rngs: BTreeMap<NodeId, rand_chacha::ChaCha8Rng>,
    /// The failure stream of each listed machine, by machine index (made when first drawn).
    pub(crate) machine_failure_rngs: BTreeMap<usize, rand_chacha::ChaCha8Rng>,
    /// Random failures per node class (stale unless their generation is current).
    pub(crate) failure_generation: [Generation; 4],
    pub(crate) events_processed: u64,
    pub(crate) commands: Vec<Command>,
    pub(crate) warmup_end: SimTime,
    pub(crate) stats_since: SimTime,
    /// Network delays in simulated time, converted once (they are read on every hop).
    pub(crate) lan_us: SimTime,
    pub(crate) client_latency_us: SimTime,
}

impl Kernel {
    pub(crate) fn new(scenario: &Scenario) -> Kernel {
        Kernel {
            now: 0,
            queue: EventQueue::new(),
            rngs: Rngs::new(scenario.seed),
            failure_rngs: BTreeMap::new(),
            machine_failure_rngs: BTreeMap::new(),
            failure_generation: [Generation::default(); 4],
            events_processed: 0,
            commands: Vec::new(),
            warmup_end: from_s(scenario.warmup_s),
            stats_since: 0,
            lan_us: from_ms(scenario.network.lan_latency_ms),
            client_latency_us: from_ms(scenario.network.client_latency_ms),
        }
    }

    /// The next uniform number of machine `m`'s own failure stream.
    pub(crate) fn machine_failure_draw(&mut self, m: usize) -> f64 {
        let rngs = &self.rngs;
        let rng = self.machine_failure_rngs.entry(m).or_insert_with(|| rngs.machine_stream(m));
        uniform(rng)
    }

    /// The next uniform number of `node`'s own failure stream (other nodes do not shift it).
    pub(crate) fn failure_draw(&mut self, node: NodeId) -> f64 {
        let rngs = &self.rngs;
        let rng = self.failure_rngs.entry(node).or_insert_with(|| rngs.node_stream(Stream::NodeFailures, node));
        uniform(rng)
    }
}
