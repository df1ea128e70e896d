//! Bounds on the work one command may ask for, so an absurd request is refused at once with
//! exit 2 instead of running for hours. Work is counted in simulated requests plus the other
//! periodic events that cost about as much (health checks, outside probes); on a 2-core machine
//! of 2026 the runner does roughly 300,000 to 3,000,000 of them per wall-clock second.

use infrasim::scenario::Scenario;

/// The most simulated requests (and checks) one `run`, `spof` or `soak` may ask for: a month
/// at 100 requests/s (2.6e8) and `spof` of the course design at the highest rate (1.3e8) fit;
/// at worst it takes about half an hour, with progress shown.
pub const MAX_SIMULATED_WORK: f64 = 500_000_000.0;

/// The most requests `bench --requests` may ask for (about 3 minutes at its usual speed).
pub const MAX_BENCH_REQUESTS: u64 = 500_000_000;

/// Requests, health checks and probes that `seconds` of `scenario` simulate, about.
pub fn expected_work(scenario: &Scenario, seconds: f64) -> f64 {
    let traffic = &scenario.traffic;
    let burst = &traffic.burst;
    // Bursts raise the mean rate by (multiplier - 1) over the fraction of time they last.
    let burst_factor = if burst.enabled && burst.period_s > 0.0 {
        1.0 + (burst.multiplier - 1.0).max(0.0) * (burst.duration_s / burst.period_s).min(1.0)
    } else {
        1.0
    };
    let inter_ms = scenario.balancer.health.inter_ms.max(1.0);
    let checks_per_s = scenario.web.servers.len() as f64 * 1_000.0 / inter_ms;
    let per_s = traffic.arrival_rate_per_s * burst_factor + checks_per_s + scenario.security.probe_rate_per_s;
    per_s * seconds
}

/// Refuse work beyond [`MAX_SIMULATED_WORK`]; `asked` says how the figure was reached, in the
/// terms the user typed.
pub fn check_work(command: &str, work: f64, asked: &str) -> Result<(), String> {
    if work <= MAX_SIMULATED_WORK {
        return Ok(());
    }
    Err(format!(
        "{command}: {asked} asks for about {work:.2e} simulated requests and checks; the limit is {MAX_SIMULATED_WORK:.0e} \
         per command (lower traffic.arrival_rate_per_s, the number of servers or the simulated time)"
    ))
}

/// `bench --requests N`: at least 1, at most [`MAX_BENCH_REQUESTS`].
pub fn check_bench_requests(requests: u64) -> Result<(), String> {
    if (1..=MAX_BENCH_REQUESTS).contains(&requests) {
        return Ok(());
    }
    Err(format!("--requests {requests}: allowed 1 to {MAX_BENCH_REQUESTS}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_grows_with_rate_time_servers_and_bursts() {
        let mut s = infrasim::scenario::preset("three-server").expect("preset");
        s.traffic.arrival_rate_per_s = 1_000.0;
        let base = expected_work(&s, 10.0);
        // 1000/s for 10 s, plus two servers checked every 2 s and 2 probes/s.
        assert!((base - (10_000.0 + 10.0 + 20.0)).abs() < 1e-6, "{base}");
        assert!((expected_work(&s, 20.0) - 2.0 * base).abs() < 1e-6);
        s.traffic.burst.enabled = true;
        s.traffic.burst.period_s = 10.0;
        s.traffic.burst.duration_s = 1.0;
        s.traffic.burst.multiplier = 11.0;
        // A tenth of the time at 11 times the rate doubles the mean rate.
        assert!((expected_work(&s, 10.0) - (20_000.0 + 30.0)).abs() < 1e-6);
    }

    #[test]
    fn the_limit_refuses_only_above_it() {
        assert!(check_work("run", MAX_SIMULATED_WORK, "x").is_ok());
        let e = check_work("run", MAX_SIMULATED_WORK * 1.01, "--duration-s 9").unwrap_err();
        assert!(e.contains("--duration-s 9") && e.contains("limit is 5e8"), "{e}");
        assert!(check_bench_requests(0).is_err() && check_bench_requests(MAX_BENCH_REQUESTS + 1).is_err());
        assert!(check_bench_requests(1).is_ok() && check_bench_requests(MAX_BENCH_REQUESTS).is_ok());
    }
}
