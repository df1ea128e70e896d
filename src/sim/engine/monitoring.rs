//! Monitoring: which nodes the monitoring system has seen down, which replicas it has alerted
//! on for lag, and the alerts it raised (typed: `render::facts` words them). Its handlers:
//! starting and stopping the agents' reports, and one round of them.

use super::security::{Alert, ALERTS_KEPT};
use super::security::{AlertKind, MonitorView};
use super::timer::Timer;
use super::{Ev, Sim};
use crate::sim::metrics::Ring;
use crate::sim::node::NodeId;
use crate::sim::time::from_ms;

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

impl Sim {
    /// Start or stop the monitoring agents' reports.
    pub(super) fn schedule_monitoring(&mut self) {
        if !self.scenario.monitoring.enabled {
            self.monitoring.timer.cancel();
            self.monitoring.known_down.clear();
            self.monitoring.lag_alerted.clear();
            return;
        }
        let generation = self.monitoring.timer.arm();
        let interval = from_ms(self.scenario.monitoring.check_interval_ms).max(1);
        self.kernel.queue.push(self.kernel.now + interval, Ev::MonitorCheck { generation });
    }

    /// One round of monitoring reports: alert on nodes that went down or came back, and on
    /// replicas lagging past the threshold.
    #[inline(never)]
    pub(super) fn on_monitor_check(&mut self) {
        let generation = self.monitoring.timer.token();
        let interval = from_ms(self.scenario.monitoring.check_interval_ms).max(1);
        self.kernel.queue.push(self.kernel.now + interval, Ev::MonitorCheck { generation });
        let mut nodes = vec![NodeId::Dns];
        nodes.extend((0..self.balancers.lbs.len() as u8).map(NodeId::Lb));
        nodes.extend(
            (0..self.farm.servers.len() as u16).filter(|&i| self.farm.servers[i as usize].active).map(NodeId::Web),
        );
        nodes.extend((0..self.db.nodes.len() as u8).map(NodeId::Db));
        for node in nodes {
            let known = self.monitoring.known_down.contains(&node);
            let alive = self.is_alive(node);
            if !alive && !known {
                self.monitoring.known_down.push(node);
                self.alert(node, AlertKind::Down);
            } else if alive && known {
                self.monitoring.known_down.retain(|&n| n != node);
                self.alert(node, AlertKind::Recovered);
            }
        }
        let threshold = self.scenario.monitoring.lag_alert_ms;
        for n in 0..self.db.nodes.len() {
            // An unknown lag (nothing received) counts as ProxySQL's lag-when-NULL.
            let reported = self.reported_lag(n);
            let lag = reported.as_monitored_ms();
            let alerted = self.monitoring.lag_alerted.contains(&n);
            if lag > threshold && !alerted {
                self.monitoring.lag_alerted.push(n);
                let kind = match reported {
                    super::ReportedLag::Unknown => AlertKind::LagUnknown,
                    super::ReportedLag::Ms(_) => AlertKind::Lagging { lag_ms: lag },
                };
                self.alert(NodeId::Db(n as u8), kind);
            } else if lag <= threshold && alerted {
                self.monitoring.lag_alerted.retain(|&m| m != n);
                self.alert(NodeId::Db(n as u8), AlertKind::CaughtUp);
            }
        }
    }

    pub(super) fn alert(&mut self, node: NodeId, kind: AlertKind) {
        self.monitoring.alerts.push(Alert { at: self.kernel.now, node, kind });
    }

    pub fn monitor_view(&self) -> MonitorView {
        if !self.scenario.monitoring.enabled {
            return MonitorView::default();
        }
        let alerts = self.monitoring.alerts.iter().copied().collect();
        MonitorView { known_down: self.monitoring.known_down.clone(), alerts }
    }

    /// Alerts raised since the start.
    pub fn alerts_total(&self) -> u64 {
        self.monitoring.alerts.len() as u64 + self.monitoring.alerts.dropped()
    }
}
