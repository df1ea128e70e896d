//! What monitoring would see: counters, latency histograms (HdrHistogram), per-second series in
//! bounded ring buffers. Memory stays flat however long the run.

use super::time::{SimTime, MAX_DURATION_US, US_PER_S};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::VecDeque;

/// Why a request failed. Every failed request has exactly one cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailCause {
    /// 503: the balancer's queue was full (`maxqueue`).
    QueueFull,
    /// 503: the request waited longer than `timeout queue`.
    QueueTimeout,
    /// 503: no web server can take traffic (all drained or down).
    NoServer,
    /// 503: every connection attempt to a server was refused, retries included.
    ConnectFailed,
    /// 502: the web server died while handling the request.
    ServerDied,
    /// 502 from Nginx: no application server could take the request (the one beside it is
    /// down, or every peer of its upstream refused or failed).
    AppDown,
    /// 500: the database node the application needed was down or unreachable.
    DbDown,
    /// No answer: the client could not reach a balancer (dead, or the floating IP had no owner).
    LbDown,
    /// No answer: www.foobar.com could not be resolved.
    DnsFailure,
    /// No answer: a network link on the way was cut.
    Unreachable,
    /// Not simulated: the model already held `MAX_LIVE_REQUESTS` requests (a bound of the
    /// simulator, not of the design; it keeps memory flat at absurd rates and latencies).
    ModelLimit,
}

impl FailCause {
    pub const ALL: [FailCause; 11] = [
        FailCause::QueueFull,
        FailCause::QueueTimeout,
        FailCause::NoServer,
        FailCause::ConnectFailed,
        FailCause::ServerDied,
        FailCause::AppDown,
        FailCause::DbDown,
        FailCause::LbDown,
        FailCause::DnsFailure,
        FailCause::Unreachable,
        FailCause::ModelLimit,
    ];
    pub const COUNT: usize = Self::ALL.len();

    pub fn name(self) -> &'static str {
        match self {
            FailCause::QueueFull => "queue_full",
            FailCause::QueueTimeout => "queue_timeout",
            FailCause::NoServer => "no_server",
            FailCause::ConnectFailed => "connect_failed",
            FailCause::ServerDied => "server_died",
            FailCause::AppDown => "app_down",
            FailCause::DbDown => "db_down",
            FailCause::LbDown => "lb_down",
            FailCause::DnsFailure => "dns_failure",
            FailCause::Unreachable => "unreachable",
            FailCause::ModelLimit => "model_limit",
        }
    }

    /// The HTTP status the client sees (0: no HTTP answer at all, the connection failed).
    pub fn status(self) -> u16 {
        match self {
            FailCause::QueueFull | FailCause::QueueTimeout | FailCause::NoServer | FailCause::ConnectFailed => 503,
            FailCause::ServerDied | FailCause::AppDown => 502,
            FailCause::DbDown => 500,
            FailCause::LbDown | FailCause::DnsFailure | FailCause::Unreachable | FailCause::ModelLimit => 0,
        }
    }
}

/// Request counters for one cohort of requests.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    pub arrived: u64,
    pub completed: u64,
    pub failed_by_cause: [u64; FailCause::COUNT],
    /// Writes among the arrived / failed requests (the rest are reads).
    pub writes_arrived: u64,
    pub writes_failed: u64,
    pub writes_completed: u64,
}

impl Counters {
    pub fn failed(&self) -> u64 {
        self.failed_by_cause.iter().sum()
    }

    /// Requests of this cohort neither completed nor failed yet.
    pub fn in_flight(&self) -> u64 {
        self.arrived - self.completed - self.failed()
    }
}

/// A fixed-capacity ring buffer: the oldest sample goes when a new one comes.
#[derive(Clone, Debug)]
pub struct Ring<T> {
    items: VecDeque<T>,
    capacity: usize,
    /// Items pushed out by newer ones (so a reader can say the history is truncated).
    dropped: u64,
}

impl<T> Ring<T> {
    pub fn new(capacity: usize) -> Self {
        Ring { items: VecDeque::with_capacity(capacity), capacity: capacity.max(1), dropped: 0 }
    }

    pub fn push(&mut self, item: T) {
        if self.items.len() == self.capacity {
            self.items.pop_front();
            self.dropped += 1;
        }
        self.items.push_back(item);
    }

    /// How many of the oldest items were dropped to make room.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator {
        self.items.iter()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn last(&self) -> Option<&T> {
        self.items.back()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

/// One second of the run, as a chart would show it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sample {
    /// End of the second, seconds of simulated time.
    pub t_s: f64,
    pub arrived: u32,
    pub completed: u32,
    pub failed: u32,
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
    pub latency_p99_ms: f64,
    pub in_flight: u32,
    pub balancer_queue: u32,
    /// Open connections per web server at the end of the second.
    pub server_conns: Vec<u32>,
    /// Largest replica lag at the end of the second, milliseconds.
    pub replication_lag_ms: f64,
    /// Failures of the second by cause (indexed like `FailCause::ALL`).
    pub failed_by_cause: [u32; FailCause::COUNT],
}

/// Seconds of history kept for charts.
pub const SERIES_CAPACITY: usize = 600;

/// The highest latency the histogram tracks: the longest time the model represents, so no
/// latency a run can produce is clipped (three significant digits all the way; ~330 KB).
pub const LATENCY_MAX_TRACKED_US: u64 = MAX_DURATION_US;

/// Latencies are recorded in microseconds, three significant digits.
fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_MAX_TRACKED_US, 3).expect("static histogram bounds are valid")
}

/// Exact percentiles of one second's latencies, for ascending `quantiles` (`values` is
/// reordered in place). A second holds at most as many values as requests completed in it, and
/// selecting a few ranks is cheaper than clearing and scanning a histogram every simulated
/// second at low traffic. Each selection leaves larger values to the right of its rank, so the
/// next, higher rank is looked for only there.
fn percentiles_ms<const N: usize>(values: &mut [u64], quantiles: [f64; N]) -> [f64; N] {
    let mut out = [0.0; N];
    if values.is_empty() {
        return out;
    }
    let mut start = 0;
    for (q, o) in quantiles.iter().zip(&mut out) {
        let rank = (((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1).max(start);
        let (_, v, _) = values[start..].select_nth_unstable(rank - start);
        *o = *v as f64 / 1_000.0;
        start = rank;
    }
    out
}

pub struct Metrics {
    /// Every request since the start (for conservation checks).
    pub all: Counters,
    /// Requests that arrived after the warm-up (for statistics).
    pub measured: Counters,
    /// End-to-end latency of measured completed requests, microseconds.
    pub latency_us: Histogram<u64>,
    /// Measured latencies above `LATENCY_MAX_TRACKED_US`, recorded as that value (reported, so
    /// a clipped figure is never silent; the model's clock stops there, so it stays 0).
    pub latency_clipped: u64,
    /// Latencies (µs) of requests completed in the current second.
    second_latency_us: Vec<u64>,
    second: Counters,
    pub series: Ring<Sample>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        Metrics {
            all: Counters::default(),
            measured: Counters::default(),
            latency_us: new_histogram(),
            latency_clipped: 0,
            second_latency_us: Vec::new(),
            second: Counters::default(),
            series: Ring::new(SERIES_CAPACITY),
        }
    }

    pub fn on_arrival(&mut self, measured: bool, write: bool) {
        self.all.arrived += 1;
        self.all.writes_arrived += write as u64;
        self.second.arrived += 1;
        if measured {
            self.measured.arrived += 1;
            self.measured.writes_arrived += write as u64;
        }
    }

    pub fn on_complete(&mut self, measured: bool, latency: SimTime, write: bool) {
        self.all.completed += 1;
        self.all.writes_completed += write as u64;
        self.second.completed += 1;
        let v = latency.max(1);
        self.second_latency_us.push(v);
        if measured {
            self.measured.completed += 1;
            self.measured.writes_completed += write as u64;
            self.latency_clipped += (v > LATENCY_MAX_TRACKED_US) as u64;
            self.latency_us.saturating_record(v);
        }
    }

    pub fn on_fail(&mut self, measured: bool, cause: FailCause, write: bool) {
        self.all.failed_by_cause[cause as usize] += 1;
        self.all.writes_failed += write as u64;
        self.second.failed_by_cause[cause as usize] += 1;
        if measured {
            self.measured.failed_by_cause[cause as usize] += 1;
            self.measured.writes_failed += write as u64;
        }
    }

    /// Close the current second into the series.
    pub fn close_second(
        &mut self,
        now: SimTime,
        in_flight: u32,
        balancer_queue: u32,
        server_conns: Vec<u32>,
        replication_lag_ms: f64,
    ) {
        let h = &mut self.second_latency_us;
        let [p50, p95, p99] = percentiles_ms(h, [0.50, 0.95, 0.99]);
        let sample = Sample {
            t_s: now as f64 / US_PER_S as f64,
            arrived: self.second.arrived as u32,
            completed: self.second.completed as u32,
            failed: self.second.failed() as u32,
            latency_p50_ms: p50,
            latency_p95_ms: p95,
            latency_p99_ms: p99,
            in_flight,
            balancer_queue,
            server_conns,
            replication_lag_ms,
            failed_by_cause: self.second.failed_by_cause.map(|n| n as u32),
        };
        self.series.push(sample);
        self.second = Counters::default();
        self.second_latency_us.clear();
    }
}

/// Jain's fairness index of a set of loads: 1 when all equal, 1/n when one takes everything.
pub fn jain_fairness(loads: &[f64]) -> f64 {
    let n = loads.len() as f64;
    let sum: f64 = loads.iter().sum();
    let sum_sq: f64 = loads.iter().map(|x| x * x).sum();
    if n == 0.0 || sum_sq == 0.0 {
        1.0
    } else {
        sum * sum / (n * sum_sq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_keeps_only_the_newest() {
        let mut r = Ring::new(3);
        for i in 0..10 {
            r.push(i);
        }
        assert_eq!(r.iter().copied().collect::<Vec<_>>(), vec![7, 8, 9]);
        assert_eq!(r.dropped(), 7);
    }

    #[test]
    fn percentiles_of_a_second_are_exact_ranks() {
        let mut v: Vec<u64> = (1..=100).rev().map(|x| x * 1_000).collect();
        assert_eq!(percentiles_ms(&mut v, [0.50, 0.99, 1.0]), [50.0, 99.0, 100.0]);
        assert_eq!(percentiles_ms(&mut [], [0.5]), [0.0]);
    }

    #[test]
    fn narrowed_selection_agrees_with_sorting() {
        let mut state = 12_345_u32;
        for len in [1_usize, 2, 3, 7, 20, 101, 1_000] {
            let values: Vec<u64> = (0..len)
                .map(|_| {
                    state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (state >> 16) as u64 % 50 * 1_000 // many duplicates
                })
                .collect();
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let quantiles = [0.5, 0.95, 0.99];
            let expected = quantiles.map(|q| {
                let rank = ((q * len as f64).ceil() as usize).clamp(1, len) - 1;
                sorted[rank] as f64 / 1_000.0
            });
            assert_eq!(percentiles_ms(&mut values.clone(), quantiles), expected, "len {len}");
        }
    }

    #[test]
    fn jain_index_bounds() {
        assert!((jain_fairness(&[1.0, 1.0, 1.0]) - 1.0).abs() < 1e-12);
        assert!((jain_fairness(&[1.0, 0.0, 0.0, 0.0]) - 0.25).abs() < 1e-12);
        assert!((jain_fairness(&[3.0, 1.0]) - 0.8).abs() < 1e-12);
    }
}
