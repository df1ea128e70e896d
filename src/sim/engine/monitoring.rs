//! Monitoring: which nodes the monitoring system has seen down, which replicas it has alerted
//! on for lag, and the alerts it raised.

use super::timer::Timer;
use crate::sim::node::NodeId;

#[derive(Default)]
pub(crate) struct Monitoring {
    /// The next round of monitoring reports (periodic).
    pub(crate) timer: Timer,
    pub(crate) known_down: Vec<NodeId>,
    pub(crate) lag_alerted: Vec<usize>,
    pub(crate) alerts: Vec<String>,
    pub(crate) alerts_total: u64,
}
