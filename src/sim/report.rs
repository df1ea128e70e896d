//! Results as data: the batch runner's JSON, built from the model's metrics.

use super::engine::{DbStats, Sim};
use super::metrics::FailCause;
use super::time::to_s;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub scenario: String,
    pub seed: u64,
    /// Simulated time covered, seconds.
    pub duration_s: f64,
    pub warmup_s: f64,
    pub requests: RequestCounts,
    pub latency_ms: Latency,
    /// Completed requests per second of measured time.
    pub throughput_per_s: f64,
    /// Jain's index of server utilization (1 = perfectly even).
    pub fairness_jain: f64,
    pub by_server: Vec<ServerReport>,
    /// The machines the scenario lists (absent when it lists none: one dedicated box per node).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub machines: Vec<MachineReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db: Option<DbStats>,
    /// Fraction of measured requests that succeeded (completed / answered); `None` (JSON
    /// null) when no measured request was answered: requests still in flight at the end
    /// count neither way, and a run that answered nothing says nothing about availability.
    pub availability: Option<f64>,
    /// Why `availability` is null (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_unknown: Option<String>,
    /// Seconds both balancers held the floating IP.
    pub split_brain_s: f64,
    /// Seconds both machines had the floating IP because a killed keepalived left it on one
    /// (absent while 0, so reports of runs without it keep their shape).
    #[serde(skip_serializing_if = "is_zero")]
    pub duplicate_address_s: f64,
    /// State changes the model detected, in order: the newest `TIMELINE_CAPACITY`.
    pub timeline: Vec<TimelineItem>,
    /// The oldest state changes left out of `timeline` to keep it bounded (0: it is complete).
    pub timeline_dropped: u64,
    pub security: super::engine::SecurityStats,
    /// Alerts the monitoring system raised (0 when monitoring is off).
    pub alerts: u64,
    /// Model events processed.
    pub events: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct TimelineItem {
    pub t_s: f64,
    pub node: String,
    pub event: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct RequestCounts {
    pub arrived: u64,
    pub completed: u64,
    pub failed: u64,
    pub in_flight: u64,
    pub failed_by_cause: BTreeMap<&'static str, u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
    /// Latencies above the histogram's highest trackable value, counted as that value.
    pub clipped: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct ServerReport {
    pub id: String,
    pub weight: u32,
    pub completed: u64,
    /// Fraction of worker time busy over the measured period.
    pub utilization: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct MachineReport {
    pub id: String,
    pub cores: u32,
    /// The components it runs (`web1`, `app1`, `db1`).
    pub runs: Vec<String>,
    /// Busy share of its cores over the whole run, warm-up included (0 to 1).
    pub cpu_utilization: f64,
    pub alive: bool,
    /// Seconds it was down since the start (killed by hand or by a random failure).
    pub downtime_s: f64,
}

impl Report {
    /// Statistics over requests that arrived after the warm-up.
    pub fn from_sim(sim: &Sim) -> Report {
        let s = sim.scenario();
        let m = &sim.metrics.measured;
        let h = &sim.metrics.latency_us;
        let ms = |us: u64| us as f64 / 1_000.0;
        let (mean, p50, p95, p99, max) = if h.is_empty() {
            (0.0, 0.0, 0.0, 0.0, 0.0)
        } else {
            (
                h.mean() / 1_000.0,
                ms(h.value_at_quantile(0.50)),
                ms(h.value_at_quantile(0.95)),
                ms(h.value_at_quantile(0.99)),
                ms(h.max()),
            )
        };
        let measured_s = (to_s(sim.now()) - s.warmup_s).max(1e-9);
        let util = sim.utilization();
        let view = sim.view(0);
        Report {
            scenario: s.name.clone(),
            seed: s.seed,
            duration_s: to_s(sim.now()),
            warmup_s: s.warmup_s,
            requests: RequestCounts {
                arrived: m.arrived,
                completed: m.completed,
                failed: m.failed(),
                in_flight: m.in_flight(),
                failed_by_cause: FailCause::ALL.iter().map(|c| (c.name(), m.failed_by_cause[*c as usize])).collect(),
            },
            latency_ms: Latency { mean, p50, p95, p99, max, clipped: sim.metrics.latency_clipped },
            throughput_per_s: m.completed as f64 / measured_s,
            fairness_jain: sim.fairness_jain(),
            by_server: view
                .web
                .iter()
                .zip(util)
                .map(|(w, u)| ServerReport {
                    id: w.id.to_string(),
                    weight: w.weight,
                    completed: w.completed,
                    utilization: u,
                })
                .collect(),
            machines: sim.machine_reports(),
            db: if s.db.enabled { Some(sim.db_stats()) } else { None },
            availability: availability(m.completed, m.failed()),
            availability_unknown: (m.completed + m.failed() == 0)
                .then(|| format!("no measured request was answered ({} still in flight at the end)", m.in_flight())),
            split_brain_s: sim.split_brain_s(),
            duplicate_address_s: sim.duplicate_address_s(),
            security: sim.security_stats(),
            alerts: sim.alerts_total(),
            timeline: sim
                .timeline
                .iter()
                .map(|e| TimelineItem { t_s: to_s(e.at), node: e.subject.to_string(), event: e.event.name() })
                .collect(),
            timeline_dropped: sim.timeline.dropped(),
            events: sim.events_processed(),
        }
    }
}

/// Completed over answered; none when nothing was answered.
pub fn availability(completed: u64, failed: u64) -> Option<f64> {
    let answered = completed + failed;
    (answered > 0).then(|| completed as f64 / answered as f64)
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}
