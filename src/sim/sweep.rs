//! What one run of a sweep leaves, and figures over seeds: shared by `infrasim sweep` and the
//! page's capacity curve, so both print the same numbers for the same runs.

use super::Report;
use std::collections::BTreeMap;

/// The figures one run leaves behind (its report is dropped at once: bounded memory).
#[derive(Clone, Debug)]
pub struct SeedResult {
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub throughput_per_s: f64,
    pub availability: Option<f64>,
    pub arrived: u64,
    pub completed: u64,
    pub failed: u64,
    pub failed_by_cause: BTreeMap<&'static str, u64>,
}

impl SeedResult {
    pub fn from_report(r: &Report) -> SeedResult {
        SeedResult {
            mean_ms: r.latency_ms.mean,
            p50_ms: r.latency_ms.p50,
            p95_ms: r.latency_ms.p95,
            p99_ms: r.latency_ms.p99,
            throughput_per_s: r.throughput_per_s,
            availability: r.availability,
            arrived: r.requests.arrived,
            completed: r.requests.completed,
            failed: r.requests.failed,
            failed_by_cause: r.requests.failed_by_cause.clone(),
        }
    }
}

/// A figure over seeds: the mean of the per-seed values and the half-width of its 95 % Student t
/// interval (`None` with one seed).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Stat {
    pub value: f64,
    pub ci95: Option<f64>,
}

pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// Two-sided 97.5 % quantiles of Student's t for 1 to 30 degrees of freedom.
const T_975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
    2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/// The t quantile for `df` degrees of freedom; beyond 30 interpolated in 1/df towards the normal
/// 1.960 (within 0.1 % of the exact value).
fn t_975(df: usize) -> f64 {
    match df {
        0 => f64::NAN,
        1..=30 => T_975[df - 1],
        _ => 1.960 + (T_975[29] - 1.960) * 30.0 / df as f64,
    }
}

/// Half-width of the 95 % t interval of the mean of `values` (`None` for fewer than two).
pub fn ci95_half_width(values: &[f64]) -> Option<f64> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    let m = mean(values);
    let variance = values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1) as f64;
    Some(t_975(n - 1) * (variance / n as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_interval_of_known_values() {
        assert_eq!(ci95_half_width(&[1.0]), None);
        // Two values 0 and 2: mean 1, s = √2, half-width 12.706 × √2/√2.
        assert!((ci95_half_width(&[0.0, 2.0]).unwrap() - 12.706).abs() < 1e-9);
        // Beyond the table the quantile falls towards 1.960: 120 df → 1.980 (exact 1.980).
        assert!((t_975(120) - 1.980).abs() < 0.002);
        assert!(t_975(31) < t_975(30) && t_975(31) > 1.96);
    }
}
