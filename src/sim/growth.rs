//! Does a backlog settle or grow without bound?
//!
//! Below capacity a queue wanders around a level; above it (λ > μ) it grows by about λ − μ
//! requests a second until a limit turns requests away. [`BacklogWatch`] samples the requests
//! held in the model and at each web server (in service, waiting at the server, or waiting in
//! the balancer for that server) once per simulated second, keeps the last [`SAMPLES`], and
//! fits a least-squares line through them. A backlog is *growing* when the line rises by more
//! than [`MIN_RISE_REQUESTS`] over the window and by more than [`NOISE_FACTOR`] times the
//! samples' scatter around it, and the means of the window's thirds rise one after the other.
//! A stationary queue wanders, and a run of long requests piles up a few dozen for some seconds
//! (seen at ρ = 0.4 in the three-server design with a slow web1), so the window is 20 s and
//! the minimum rise 20; at ρ = 1.2 on a 100/s server the line rises 20 a second.
//! A grown queue stops at a limit: a web server whose waiting connections sit at its backlog
//! (`web.backlog`, within 5 %) through the window's last third is *full* (it refuses new connections, which
//! the balancer may retry elsewhere), and the whole model is *turning away* requests when its
//! failed count rose in each third of the window while the backlog did not grow.
//!
//! The watch reads [`crate::sim::Sim::view`], so it is outside the engine and costs nothing
//! unless a caller asks.

use crate::sim::time::{from_s, to_s};
use crate::sim::{backlog_bound, NodeId, Sim, SimTime};
use std::collections::VecDeque;

/// Simulated time between samples.
pub const SAMPLE_INTERVAL_S: f64 = 1.0;
/// Samples kept (the window a verdict looks at, and the watch's memory bound).
pub const SAMPLES: usize = 20;
/// A backlog must rise by more than this over the window to count as growing.
pub const MIN_RISE_REQUESTS: f64 = 20.0;
/// …and by more than this many times the residual standard deviation.
pub const NOISE_FACTOR: f64 = 3.0;

/// What a backlog is doing over the last window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Trend {
    /// Fewer than [`SAMPLES`] samples yet.
    TooEarly,
    /// It wanders around a level (mean over the window).
    Steady { level: f64 },
    /// It rose over the whole window, at this rate.
    Growing { per_s: f64 },
    /// It sits at a limit and requests fail, at this rate.
    TurningAway { failed_per_s: f64 },
    /// A web server's waiting connections sit at its backlog limit.
    Full { waiting: u32 },
}

/// The verdict for the whole model and for each web server.
#[derive(Clone, Debug, PartialEq)]
pub struct Backlog {
    /// Requests in the model: arrived, not answered.
    pub total: Trend,
    pub by_server: Vec<(NodeId, Trend)>,
}

impl Backlog {
    /// The web servers whose backlog grows.
    pub fn growing_servers(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.by_server.iter().filter(|(_, t)| matches!(t, Trend::Growing { .. })).map(|(id, _)| *id)
    }

    /// The web servers whose backlog is full.
    pub fn full_servers(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.by_server.iter().filter(|(_, t)| matches!(t, Trend::Full { .. })).map(|(id, _)| *id)
    }
}

#[derive(Clone, Debug)]
struct Sample {
    at_us: SimTime,
    total: u64,
    failed: u64,
    by_server: Vec<ServerSample>,
}

impl ServerSample {
    /// Within 5 % of its limit: a full queue drops below it by one each time a worker frees,
    /// until the next connection refused fills it again.
    fn is_nearly_full(&self) -> bool {
        f64::from(self.waiting) >= (0.95 * f64::from(self.waiting_limit)).ceil()
    }
}

#[derive(Clone, Copy, Debug)]
struct ServerSample {
    id: NodeId,
    /// In service, waiting at the server, or waiting in the balancer for it.
    held: u32,
    /// Waiting at the server for a worker, and the most that may.
    waiting: u32,
    waiting_limit: u32,
}

/// Samples a run's backlogs; see the module comment.
#[derive(Clone, Debug, Default)]
pub struct BacklogWatch {
    samples: VecDeque<Sample>,
    next_at_us: SimTime,
}

impl BacklogWatch {
    pub fn new() -> BacklogWatch {
        BacklogWatch::default()
    }

    /// Takes a sample if one is due (at most one a call: a caller that skips seconds gets
    /// samples at the times it looked, and the fit uses those times).
    pub fn observe(&mut self, sim: &Sim) {
        let now = sim.now();
        if now < self.next_at_us {
            return;
        }
        self.next_at_us = now + from_s(SAMPLE_INTERVAL_S);
        // The balancer's shared queue is in the total, not charged to any one server.
        let backlogs: Vec<u32> = sim.scenario().web.servers.iter().map(|w| backlog_bound(w.backlog)).collect();
        let by_server = sim
            .view(0)
            .web
            .iter()
            .enumerate()
            .filter(|(_, w)| w.active)
            .map(|(i, w)| ServerSample {
                id: w.id,
                held: w.conns + w.queued_for,
                waiting: w.waiting,
                waiting_limit: backlogs.get(i).copied().unwrap_or(u32::MAX),
            })
            .collect();
        if self.samples.len() == SAMPLES {
            self.samples.pop_front();
        }
        self.samples.push_back(Sample {
            at_us: now,
            total: sim.live_requests(),
            failed: sim.metrics.all.failed(),
            by_server,
        });
    }

    pub fn verdict(&self) -> Backlog {
        if self.samples.len() < SAMPLES {
            let by_server = self
                .samples
                .back()
                .map_or(Vec::new(), |s| s.by_server.iter().map(|w| (w.id, Trend::TooEarly)).collect());
            return Backlog { total: Trend::TooEarly, by_server };
        }
        let times: Vec<f64> = self.samples.iter().map(|s| to_s(s.at_us)).collect();
        let totals: Vec<f64> = self.samples.iter().map(|s| s.total as f64).collect();
        let total = match (trend(&times, &totals), self.turning_away_per_s()) {
            (Trend::Steady { .. }, Some(rate)) => Trend::TurningAway { failed_per_s: rate },
            (t, _) => t,
        };
        let last = &self.samples[SAMPLES - 1];
        let by_server = last
            .by_server
            .iter()
            .map(|w| {
                let levels: Vec<f64> = self.samples.iter().map(|s| server_level(s, w.id)).collect();
                let full = self
                    .samples
                    .iter()
                    .skip(SAMPLES - SAMPLES / 3)
                    .all(|s| s.by_server.iter().any(|x| x.id == w.id && x.is_nearly_full()));
                (w.id, if full { Trend::Full { waiting: w.waiting } } else { trend(&times, &levels) })
            })
            .collect();
        Backlog { total, by_server }
    }

    /// The failure rate over the window when failures rose in each third of it.
    fn turning_away_per_s(&self) -> Option<f64> {
        let (third, skip) = (SAMPLES / 3, SAMPLES % 3);
        let failed = |i: usize| self.samples[skip + i].failed;
        let rose_each_third = (0..3).all(|k| failed((k + 1) * third - 1) > failed(k * third));
        let (first, last) = (&self.samples[0], &self.samples[SAMPLES - 1]);
        let span_s = to_s(last.at_us - first.at_us).max(1e-9);
        rose_each_third.then(|| (last.failed - first.failed) as f64 / span_s)
    }
}

/// A server's backlog in a sample (0 when the server had left the farm then).
fn server_level(sample: &Sample, id: NodeId) -> f64 {
    sample.by_server.iter().find(|w| w.id == id).map_or(0.0, |w| w.held as f64)
}

/// The least-squares line's verdict over samples `ys` taken at `ts` (seconds).
fn trend(ts: &[f64], ys: &[f64]) -> Trend {
    let n = ts.len() as f64;
    let (t_mean, y_mean) = (ts.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let sxx: f64 = ts.iter().map(|t| (t - t_mean).powi(2)).sum();
    let sxy: f64 = ts.iter().zip(ys).map(|(t, y)| (t - t_mean) * (y - y_mean)).sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let residual_sd = {
        let ss: f64 = ts.iter().zip(ys).map(|(t, y)| (y - y_mean - slope * (t - t_mean)).powi(2)).sum();
        (ss / (n - 2.0).max(1.0)).sqrt()
    };
    let span_s = ts.last().copied().unwrap_or(0.0) - ts.first().copied().unwrap_or(0.0);
    let rise = slope * span_s;
    // Thirds end at the newest sample; a remainder at the oldest end is left out.
    let third = ys.len() / 3;
    let skip = ys.len() - 3 * third;
    let third_mean = |k: usize| ys[skip + k * third..skip + (k + 1) * third].iter().sum::<f64>() / third.max(1) as f64;
    let thirds_rise = third > 0 && third_mean(0) < third_mean(1) && third_mean(1) < third_mean(2);
    if rise > MIN_RISE_REQUESTS && rise > NOISE_FACTOR * residual_sd && thirds_rise {
        Trend::Growing { per_s: slope }
    } else {
        Trend::Steady { level: y_mean }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::preset;
    use crate::sim::TraceConfig;

    /// However long a run is watched, the watch keeps its last `SAMPLES` only.
    #[test]
    fn the_watch_keeps_a_bounded_window() {
        let mut sim = Sim::new(preset("three-server").unwrap(), TraceConfig { enabled: false, capacity: 1 });
        let mut watch = BacklogWatch::new();
        for second in 0..100 {
            sim.run_until(from_s(second as f64), u64::MAX);
            watch.observe(&sim);
            watch.observe(&sim);
            assert!(watch.samples.len() <= SAMPLES);
        }
        assert_eq!(watch.samples.len(), SAMPLES);
        let first = to_s(watch.samples[0].at_us);
        assert_eq!(first, 80.0, "the oldest kept sample is 20 s old");
    }

    fn seconds() -> Vec<f64> {
        (0..SAMPLES).map(|i| i as f64).collect()
    }

    #[test]
    fn a_straight_rise_grows_at_its_slope() {
        let ys: Vec<f64> = seconds().iter().map(|t| 5.0 + 40.0 * t).collect();
        assert_eq!(trend(&seconds(), &ys), Trend::Growing { per_s: 40.0 });
    }

    #[test]
    fn scatter_around_a_level_is_steady() {
        let pattern = [4.0, 9.0, 1.0, 6.0, 2.0, 8.0, 3.0, 7.0, 0.0, 5.0];
        let ys: Vec<f64> = (0..SAMPLES).map(|i| pattern[i % pattern.len()]).collect();
        assert!(matches!(trend(&seconds(), &ys), Trend::Steady { level } if (level - 4.5).abs() < 0.01));
    }

    #[test]
    fn a_small_rise_is_not_growth() {
        // 0.8 a second is 15.2 over the window's 19 s: under the minimum rise.
        let ys: Vec<f64> = seconds().iter().map(|t| 3.0 + 0.8 * t).collect();
        assert!(matches!(trend(&seconds(), &ys), Trend::Steady { .. }));
    }

    #[test]
    fn a_noisy_rise_must_clear_the_scatter() {
        // Rises 57 over the window but jumps ±20 around the line: not clearly growth.
        let ys: Vec<f64> =
            seconds().iter().enumerate().map(|(i, t)| 3.0 * t + if i % 2 == 0 { 20.0 } else { -20.0 }).collect();
        assert!(matches!(trend(&seconds(), &ys), Trend::Steady { .. }));
    }
}
