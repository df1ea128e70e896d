//! The balancer against queueing theory (../shared/reference.md). Every figure is a mean over
//! a sweep of seeds with the warm-up discarded; the tolerance is 5 % as the issue asks.
//! Service rate μ = 100/s (10 ms) throughout, so "W in mean service times" = W_ms / 10.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{assert_close, lab, mean_latency_over_seeds, run};
use infrasim::scenario::Algorithm;
use infrasim::sim::theory;

const SERVICE_MS: f64 = 10.0;
const TOLERANCE: f64 = 0.05;

#[test]
fn mm1k_drop_probability() {
    // K = 11 (one in service + 10 waiting), ρ = 0.8: P_drop = (1 − ρ)ρ^K / (1 − ρ^(K+1)).
    let rho: f64 = 0.8;
    let k = 11u32;
    let (_, expected) = theory::mm1k(rho, 1.0, k);
    let (mut dropped, mut arrived) = (0u64, 0u64);
    // Drops are rare (1.8 %) and bunch up in busy periods: a large sample (~3.8 M arrivals).
    for seed in 1..17 {
        let mut s = lab(1, SERVICE_MS, 80.0, Algorithm::Roundrobin, 1);
        s.balancer.maxqueue = 10;
        s.balancer.timeout_queue_ms = 0.0;
        s.warmup_s = 10.0;
        s.seed = seed;
        let (_, r) = run(s, 3_000.0);
        dropped += r.requests.failed_by_cause["queue_full"];
        arrived += r.requests.arrived;
        assert_eq!(r.requests.failed, r.requests.failed_by_cause["queue_full"], "only queue-full failures");
    }
    assert_close("M/M/1/11 drop probability", dropped as f64 / arrived as f64, expected, TOLERANCE);
    assert!((expected - 0.0184).abs() < 0.0001, "reference.md gives 1.84 %");
}

/// Erlang C response time for M/M/c, in ms.
fn erlang_c_w_ms(c: u32, lambda: f64, mu: f64) -> f64 {
    theory::mmc_response_s(c, lambda, mu) * 1_000.0
}

#[test]
fn mmc_with_maxconn_one_and_shared_queue_matches_erlang_c() {
    // reference.md: c = 2, μ = 10, λ = 16 → W = 277.8 ms; c = 3, λ = 24 → 207.9 ms.
    assert!((erlang_c_w_ms(2, 16.0, 10.0) - 277.8).abs() < 0.1);
    assert!((erlang_c_w_ms(3, 24.0, 10.0) - 207.9).abs() < 0.1);
    for (c, lambda) in [(2usize, 160.0), (3, 240.0)] {
        let mut s = lab(c, SERVICE_MS, lambda, Algorithm::Roundrobin, 1);
        s.balancer.timeout_queue_ms = 0.0;
        s.warmup_s = 20.0;
        let measured = mean_latency_over_seeds(&s, 1..7, 2_000.0);
        assert_close(&format!("M/M/{c} (Erlang C)"), measured, erlang_c_w_ms(c as u32, lambda, 100.0), TOLERANCE);
    }
}

/// The benchmark compared with Ciw must be the M/M/2 it claims: W = 10 ms + Erlang C wait
/// (λ = 150/s, μ = 100/s, c = 2: 22.86 ms).
#[test]
fn benchmark_workload_is_the_mm2_it_claims() {
    let mut s = infrasim::scenario::benchmark_mm2();
    assert!(s.validate().is_empty(), "{:?}", s.validate());
    s.warmup_s = 20.0;
    let measured = mean_latency_over_seeds(&s, 1..5, 2_000.0);
    assert_close("benchmark M/M/2", measured, erlang_c_w_ms(2, 150.0, 100.0), TOLERANCE);
}

#[test]
fn two_servers_by_algorithm_match_the_reference_table() {
    // W in mean service times, two identical servers, queues at the servers (maxconn 0).
    let table = [
        (Algorithm::Random, 0.8, 5.00),
        (Algorithm::Random, 0.9, 10.0),
        (Algorithm::Roundrobin, 0.8, 3.84),
        (Algorithm::Roundrobin, 0.9, 7.59),
        (Algorithm::Leastconn, 0.8, 2.96),
        (Algorithm::Leastconn, 0.9, 5.47),
    ];
    for (algorithm, rho, expected) in table {
        let mut s = lab(2, SERVICE_MS, 2.0 * rho * 100.0, algorithm, 0);
        s.balancer.random_draws = 1;
        s.warmup_s = 50.0;
        // Higher load decorrelates slower: run longer.
        let seconds = if rho > 0.85 { 6_000.0 } else { 2_500.0 };
        let measured = mean_latency_over_seeds(&s, 1..7, seconds) / SERVICE_MS;
        assert_close(&format!("{} rho={rho}", algorithm.name()), measured, expected, TOLERANCE);
    }
}

/// Mitzenmacher's limit for the supermarket model, in mean service times.
fn power_of_d(lambda: f64, d: u32) -> f64 {
    theory::power_of_d_service_times(lambda, d)
}

#[test]
fn power_of_d_choices_with_100_servers() {
    let expected_table = [(0.5, [2.00, 1.266, 1.125]), (0.8, [5.00, 1.947, 1.581]), (0.9, [10.0, 2.614, 2.028])];
    for (lambda, row) in expected_table {
        for (d, reference) in (1..=3).zip(row) {
            assert!((power_of_d(lambda, d) - reference).abs() < 0.01, "formula vs reference.md at λ={lambda} d={d}");
            let mut s = lab(100, SERVICE_MS, lambda * 100.0 * 100.0, Algorithm::Random, 0);
            s.balancer.random_draws = d;
            s.warmup_s = 20.0;
            let seconds = if d == 1 && lambda > 0.85 { 400.0 } else { 150.0 };
            let measured = mean_latency_over_seeds(&s, 1..3, seconds) / SERVICE_MS;
            assert_close(&format!("random({d}) lambda={lambda}"), measured, reference, TOLERANCE);
        }
    }
}
