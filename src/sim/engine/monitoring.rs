//! Monitoring: which nodes the monitoring system has seen down, which replicas it has alerted
//! on for lag, and the alerts it raised.

use crate::sim::node::NodeId;

#[derive(Default)]
pub(crate) struct Monitoring {
    pub(crate) monitor_generation: u32,
    pub(crate) known_down: Vec<NodeId>,
    pub(crate) lag_alerted: Vec<usize>,
    pub(crate) alerts: Vec<String>,
    pub(crate) alerts_total: u64,
}
