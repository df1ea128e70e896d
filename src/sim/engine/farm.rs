//! The web farm: each web server's machine state (alive, slowed), its workers and their
//! waiting line, its health as the balancer sees it, and its utilisation figures.

use super::{HealthState, ReqRef};
use crate::scenario::WebServer;
use crate::sim::time::SimTime;
use std::collections::VecDeque;

pub(crate) struct WebState {
    pub(crate) spec: WebServer,
    /// Weight at start: `static-rr` keeps it (runtime weights only drain or restore).
    pub(crate) start_weight: u32,
    /// Runtime weight as set by the operator.
    pub(crate) weight: u32,
    /// Within the configured server count.
    pub(crate) active: bool,
    /// The machine is running.
    pub(crate) alive: bool,
    /// Service times are multiplied by this (1 = normal).
    pub(crate) slow: f64,
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
}

impl Farm {
    pub(crate) fn new(specs: &[WebServer]) -> Farm {
        Farm { servers: specs.iter().map(|s| new_web_state(s.clone())).collect() }
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
        slow: 1.0,
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
