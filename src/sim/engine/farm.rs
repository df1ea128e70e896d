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
