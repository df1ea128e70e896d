//! Progress on stderr for long commands: a line every couple of wall-clock seconds with what is
//! done, the total and an estimate of the time left. Work that ends within the first interval
//! prints nothing, so quick commands stay quiet.

use std::time::{Duration, Instant};

/// Seconds between two progress lines, unless `INFRASIM_PROGRESS_S` says otherwise.
pub const DEFAULT_INTERVAL_S: f64 = 2.0;
/// The environment variable that sets the interval (seconds; 0 reports at every check point).
pub const INTERVAL_ENV: &str = "INFRASIM_PROGRESS_S";

pub struct Progress {
    /// What is being done, e.g. `spof` (starts each line).
    what: &'static str,
    /// How the units of work are called, e.g. `simulated s`.
    unit: &'static str,
    total: f64,
    start: Instant,
    next_line_at: Instant,
    interval: Duration,
}

impl Progress {
    pub fn new(what: &'static str, unit: &'static str, total: f64) -> Progress {
        let interval_s = std::env::var(INTERVAL_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 86_400.0)
            .unwrap_or(DEFAULT_INTERVAL_S);
        let interval = Duration::from_secs_f64(interval_s);
        let start = Instant::now();
        Progress { what, unit, total, start, next_line_at: start + interval, interval }
    }

    /// Say how far the work is, if a line is due.
    pub fn update(&mut self, done: f64) {
        let now = Instant::now();
        if now < self.next_line_at {
            return;
        }
        self.next_line_at = now + self.interval;
        super::output::warn(self.line(done, now.duration_since(self.start).as_secs_f64()));
    }

    fn line(&self, done: f64, elapsed_s: f64) -> String {
        let percent = if self.total > 0.0 { 100.0 * done / self.total } else { 100.0 };
        let left = if done > 0.0 {
            format!("about {:.0} s left", elapsed_s * (self.total - done).max(0.0) / done)
        } else {
            "time left not known yet".to_string()
        };
        format!(
            "{}: {:.0} of {:.0} {} done ({percent:.0} %) after {elapsed_s:.0} s, {left}",
            self.what, done, self.total, self.unit
        )
    }
}
