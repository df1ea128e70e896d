//! Monitoring: which nodes the monitoring system has seen down, which replicas it has alerted
//! on for lag, and the alerts it raised (typed: `render::facts` words them).

use super::security::{Alert, ALERTS_KEPT};
use super::timer::Timer;
use crate::sim::metrics::Ring;
use crate::sim::node::NodeId;

pub(crate) struct Monitoring {
    /// The next round of monitoring reports (periodic).
    pub(crate) timer: Timer,
    pub(crate) known_down: Vec<NodeId>,
    pub(crate) lag_alerted: Vec<usize>,
    /// The latest alerts; every alert raised is `len + dropped`.
    pub(crate) alerts: Ring<Alert>,
}

impl Default for Monitoring {
    fn default() -> Monitoring {
        Monitoring {
            timer: Timer::default(),
            known_down: Vec::new(),
            lag_alerted: Vec::new(),
            alerts: Ring::new(ALERTS_KEPT),
        }
    }
}
