//! Simulated requests per wall-clock second in the browser, on the same workload as the native
//! `infrasim bench` (M/M/2: λ = 150/s, two servers each μ = 100/s, one shared FIFO queue).
//!
//! The figure is printed only with `--nocapture`:
//! `cargo test --target wasm32-unknown-unknown --test browser_bench -- --nocapture`
//! prints `BENCH browser requests_per_wall_s=NNN ...`.
#![cfg(target_arch = "wasm32")]

use infrasim::scenario::{preset, Scenario};
use infrasim::sim::time::from_s;
use infrasim::sim::{Sim, TraceConfig};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const REQUESTS: f64 = 1_000_000.0;

/// The same workload as `bench_scenario()` in src/cli.rs.
fn bench_scenario() -> Scenario {
    let mut s = preset("queue-lab").expect("preset queue-lab exists");
    s.traffic.arrival_rate_per_s = 150.0;
    for w in &mut s.web.servers {
        w.maxconn = 1;
        w.workers = 1;
        w.service_time_ms = 10.0;
    }
    s
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or_else(js_sys::Date::now, |p| p.now())
}

#[wasm_bindgen_test]
fn bench_requests_per_wall_second() {
    let s = bench_scenario();
    let rate = s.traffic.arrival_rate_per_s;
    let mut sim = Sim::new(s, TraceConfig { enabled: false, capacity: 1 });
    let start = now_ms();
    sim.run_until(from_s(REQUESTS / rate), u64::MAX);
    let wall_s = ((now_ms() - start) / 1000.0).max(1e-9);
    let done = sim.metrics.all.completed;
    console_log!(
        "BENCH browser requests_per_wall_s={:.0} requests={} wall_s={:.3}",
        done as f64 / wall_s,
        done,
        wall_s
    );
    assert!(done > 0, "the benchmark completed no request");
}
