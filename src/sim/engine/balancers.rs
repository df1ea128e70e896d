//! The balancers: what HAProxy knows of each server (the candidates the selector draws from),
//! the shared queue and its `timeout queue` timer, slowstart's ramp, and the balancer machines
//! themselves with their VRRP state and the split-brain accounting of the pair.

use super::timer::{Stopwatch, Timer};
use super::{ReqRef, VrrpRole};
use crate::scenario::WebServer;
use crate::sim::balancer::{Candidate, Selector};
use crate::sim::time::SimTime;
use std::collections::VecDeque;

pub(crate) struct LbState {
    pub(crate) alive: bool,
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
    /// Both balancers master at once.
    pub(crate) split_brain: Stopwatch,
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
                    role: VrrpRole::Backup,
                    priority: priority.clamp(1, 255),
                    master_since: 0,
                    master_down: Timer::default(),
                    advert: Timer::default(),
                    preempt_until: None,
                })
                .collect(),
            split_brain: Stopwatch::default(),
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
