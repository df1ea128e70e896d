//! Simulated requests per wall-clock second in the browser, on the same workload as the native
//! `infrasim bench` (`scenario::benchmark_mm2`: M/M/2, λ = 150/s, two servers each μ = 100/s,
//! one shared FIFO queue).
//!
//! The figure is printed only with `--nocapture`:
//! `cargo test --target wasm32-unknown-unknown --test browser_bench -- --nocapture`
//! prints `BENCH browser requests_per_wall_s=NNN ...`: the median of three runs, each of a
//! million requests (one run of half a second varies by 20 % on a shared machine).
#![cfg(target_arch = "wasm32")]

use infrasim::scenario::benchmark_mm2;
use infrasim::sim::time::from_s;
use infrasim::sim::{Sim, TraceConfig};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const REQUESTS: f64 = 1_000_000.0;
const RUNS: usize = 3;

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or_else(js_sys::Date::now, |p| p.now())
}

/// One run: (requests completed, wall seconds).
fn run_once() -> (u64, f64) {
    let s = benchmark_mm2();
    let rate = s.traffic.arrival_rate_per_s;
    let mut sim = Sim::new(s, TraceConfig { enabled: false, capacity: 1 });
    let start = now_ms();
    sim.run_until(from_s(REQUESTS / rate), u64::MAX);
    let wall_s = ((now_ms() - start) / 1000.0).max(1e-9);
    (sim.metrics.all.completed, wall_s)
}

#[wasm_bindgen_test]
fn bench_requests_per_wall_second() {
    let mut runs: Vec<(f64, u64, f64)> = (0..RUNS)
        .map(|_| {
            let (done, wall_s) = run_once();
            assert!(done > 0, "the benchmark completed no request");
            (done as f64 / wall_s, done, wall_s)
        })
        .collect();
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let all: Vec<String> = runs.iter().map(|r| format!("{:.0}", r.0)).collect();
    let (rate, done, wall_s) = runs[RUNS / 2];
    console_log!(
        "BENCH browser requests_per_wall_s={rate:.0} requests={done} wall_s={wall_s:.3} (median of {RUNS}: {})",
        all.join(" ")
    );
}
