//! What the Yew-rendered part of the page shows, copied out of the model ~10 times a second so
//! components get plain props and never hold a borrow of the model while rendering.

use super::topology::FrameStats;
use crate::scenario::Algorithm;
use crate::sim::metrics::FailCause;
use crate::sim::trace::{TraceEvent, TraceKind};
use crate::sim::view::{DbView, WebView};
use crate::sim::{Command, Driver, SimTime};

/// Newest trace lines kept for the event log.
pub const LOG_LINES: usize = 50;

#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub now_us: SimTime,
    pub paused: bool,
    pub speed: f64,
    pub algorithm: Algorithm,
    pub random_draws: u32,
    pub rate_per_s: f64,
    pub write_ratio: f64,
    /// Servers in the farm, in order (removed ones left out).
    pub servers: Vec<WebView>,
    pub db: Vec<DbView>,
    pub balancer_queue: u32,
    /// Completed requests in the last whole simulated second.
    pub throughput_per_s: Option<u32>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub arrived: u64,
    pub completed: u64,
    pub failed: u64,
    /// (cause, count) for every cause seen.
    pub failed_by_cause: Vec<(FailCause, u64)>,
    pub in_flight: u64,
    /// Requests on links now, and how many of them the canvas draws.
    pub travelling: usize,
    pub commands: usize,
    /// Newest first.
    pub log: Vec<String>,
    pub frame: FrameStats,
}

impl Snapshot {
    pub fn take(driver: &Driver, frame: FrameStats) -> Snapshot {
        let sim = &driver.sim;
        let view = sim.view(0);
        let last = sim.metrics.series.last();
        let all = &sim.metrics.all;
        let latency = |v: f64| if last.is_some_and(|s| s.completed > 0) { Some(v) } else { None };
        Snapshot {
            now_us: view.now_us,
            paused: driver.paused(),
            speed: driver.speed(),
            algorithm: view.algorithm,
            random_draws: sim.scenario().balancer.random_draws,
            rate_per_s: view.arrival_rate_per_s,
            write_ratio: view.write_ratio,
            servers: view.web.iter().filter(|w| w.active).cloned().collect(),
            db: view.db.clone(),
            balancer_queue: view.balancer_queue,
            throughput_per_s: last.map(|s| s.completed),
            p50_ms: last.and_then(|s| latency(s.latency_p50_ms)),
            p99_ms: last.and_then(|s| latency(s.latency_p99_ms)),
            arrived: all.arrived,
            completed: all.completed,
            failed: all.failed(),
            failed_by_cause: FailCause::ALL
                .iter()
                .map(|c| (*c, all.failed_by_cause[*c as usize]))
                .filter(|(_, n)| *n > 0)
                .collect(),
            in_flight: all.in_flight(),
            travelling: view.travelling,
            commands: sim.commands().len(),
            log: sim.trace.events().rev().take(LOG_LINES).map(|e| log_line(e, sim.commands())).collect(),
            frame,
        }
    }
}

/// A failure cause in a word or two (the model's own name, spaced, for causes added later).
pub fn cause_words(cause: FailCause) -> String {
    match cause.name() {
        "queue_full" => "queue full".into(),
        "queue_timeout" => "queue timeout".into(),
        "no_server" => "no server".into(),
        "connect_failed" => "refused".into(),
        "dns_failure" => "DNS failed".into(),
        other => other.replace('_', " "),
    }
}

/// A trace line for the log; a command's line also says what the command was.
fn log_line(event: &TraceEvent, commands: &[Command]) -> String {
    let line = event.to_string().trim_start().to_string();
    let TraceKind::Command(index) = event.kind else { return line };
    let Some(command) = commands.get(index as usize) else { return line };
    match serde_json::to_value(&command.what) {
        Ok(serde_json::Value::Object(fields)) => {
            let mut text = line;
            if let Some(op) = fields.get("op").and_then(|v| v.as_str()) {
                text.push_str(": ");
                text.push_str(&op.replace('_', " "));
            }
            for (key, value) in fields.iter().filter(|(k, _)| k.as_str() != "op") {
                let value = value.as_str().map_or_else(|| value.to_string(), str::to_string);
                text.push_str(&format!(" {key}={value}"));
            }
            text
        }
        _ => line,
    }
}
