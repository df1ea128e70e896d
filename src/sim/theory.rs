//! Queueing theory for the designs it covers: the formulas the model is tested against
//! (tests/queueing.rs) and the columns `infrasim sweep` prints beside what it measured.
//! One copy of each formula, so a test and a sweep cannot disagree about what theory says.
//!
//! Rates are per second, times in seconds unless a name says otherwise.

use crate::scenario::{Algorithm, Distribution, Scenario};

/// M/M/1: mean response time 1/(μ − λ).
pub fn mm1_response_s(lambda: f64, mu: f64) -> f64 {
    1.0 / (mu - lambda)
}

/// Erlang C: the probability that an arrival waits in M/M/c, with offered load a = λ/μ.
pub fn erlang_c_wait_probability(c: u32, a: f64) -> f64 {
    let rho = a / c as f64;
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..c {
        if k > 0 {
            term *= a / k as f64;
        }
        sum += term;
    }
    let top = term * a / c as f64 / (1.0 - rho);
    top / (sum + top)
}

/// M/M/c with one shared queue: W = C/(cμ − λ) + 1/μ.
pub fn mmc_response_s(c: u32, lambda: f64, mu: f64) -> f64 {
    erlang_c_wait_probability(c, lambda / mu) / (c as f64 * mu - lambda) + 1.0 / mu
}

/// M/G/c by the Allen–Cunneen approximation: the Erlang C wait scaled by (1 + cv²)/2, where cv is
/// the service time's coefficient of variation. Exact for c = 1 (Pollaczek–Khinchine).
pub fn mgc_response_s(c: u32, lambda: f64, mu: f64, cv: f64) -> f64 {
    let wait = erlang_c_wait_probability(c, lambda / mu) / (c as f64 * mu - lambda);
    wait * (1.0 + cv * cv) / 2.0 + 1.0 / mu
}

/// M/M/1/K (K counts the one in service): (mean response time of the admitted, drop probability).
pub fn mm1k(lambda: f64, mu: f64, k: u32) -> (f64, f64) {
    let rho = lambda / mu;
    let k_f = k as f64;
    let (mean_in_system, drop) = if (rho - 1.0).abs() < 1e-9 {
        (k_f / 2.0, 1.0 / (k_f + 1.0))
    } else {
        let rk1 = rho.powi(k as i32 + 1);
        (rho / (1.0 - rho) - (k_f + 1.0) * rk1 / (1.0 - rk1), (1.0 - rho) * rho.powi(k as i32) / (1.0 - rk1))
    };
    (mean_in_system / (lambda * (1.0 - drop)), drop)
}

/// Mitzenmacher's limit for the supermarket model (n → ∞ servers, each arrival joins the
/// shortest of d drawn at random): mean time in system in service times at load `rho`,
/// T_d = Σ_{i≥1} ρ^((d^i − d)/(d − 1)).
pub fn power_of_d_service_times(rho: f64, d: u32) -> f64 {
    if d == 1 {
        return 1.0 / (1.0 - rho);
    }
    let d = d as f64;
    (1..60).map(|i| rho.powf((d.powi(i) - d) / (d - 1.0))).sum()
}

/// Round robin over c identical exponential servers: each server sees every c-th Poisson
/// arrival, an Erlang-c stream, so it is an E_c/M/1 queue. W = 1/(μ(1 − σ)) where σ is the root
/// in (0, 1) of σ = (λ/(λ + μ(1 − σ)))^c, found by fixed-point iteration from 0 (monotone).
pub fn round_robin_response_s(c: u32, lambda: f64, mu: f64) -> f64 {
    let mut sigma: f64 = 0.0;
    for _ in 0..100_000 {
        let next = (lambda / (lambda + mu * (1.0 - sigma))).powi(c as i32);
        let done = (next - sigma).abs() < 1e-13;
        sigma = next;
        if done {
            break;
        }
    }
    1.0 / (mu * (1.0 - sigma))
}

/// Largest difference between the two queues kept in the join-shortest-queue chain: the
/// difference falls at rate λ + μ and grows at rate μ, so beyond 40 its probability is below
/// (1/2)^40.
const JSQ_MAX_DIFFERENCE: usize = 40;
/// Most requests per queue the chain holds: enough for the loads it is offered for (ρ ≤ 0.95);
/// lower loads hold fewer, as many as put about 1e-10 of the probability past twice the number.
const JSQ_MAX_QUEUE: usize = 220;

/// Join the shortest of two exponential queues (ties split evenly), solved exactly on the
/// truncated chain of the two queue lengths, then W = L/λ (Little). `None` above ρ = 0.95,
/// where the truncation would show.
///
/// The chain moves one level of total length N = i + j at a time (an arrival up, a departure
/// down), so it is solved level by level (linear level reduction): from the top level down,
/// π_{N+1} = π_N R_N with R_{N−1} = U_{N−1} (Λ_N − R_N D_{N+1})⁻¹, where U holds the arrival
/// rates into the level above, D the departure rates into the level below and Λ each state's
/// rate of leaving; then up from the empty state. No iteration: about a thousand times faster
/// than the Gauss–Seidel sweeps it replaced near ρ = 0.95 (seconds there), same equations.
pub fn jsq_two_servers_response_s(lambda: f64, mu: f64) -> Option<f64> {
    let rho = lambda / (2.0 * mu);
    if !(rho > 0.0 && rho <= 0.95) {
        return None;
    }
    let n = ((1e-10f64).ln() / (2.0 * rho.ln())).ceil().clamp(10.0, JSQ_MAX_QUEUE as f64) as usize;
    let chain = JsqChain { n, lambda, mu };
    let top = 2 * n;
    // R_{N} for N = top − 1 down to 0, stored by N.
    let mut r: Vec<Vec<f64>> = vec![Vec::new(); top];
    for level in (1..=top).rev() {
        let (below, here) = (chain.states(level - 1), chain.states(level));
        // M = Λ_N − R_N D_{N+1} (k × k, row-major).
        let k = here.len();
        let mut m = vec![0.0; k * k];
        for (a, &i) in here.iter().enumerate() {
            m[a * k + a] = chain.leave(i, level - i);
        }
        if level < top {
            let above = chain.states(level + 1);
            // A state's departures reach at most two states below (first queue i − 1 or i);
            // the states of a level are consecutive in i, so their index is i − here[0].
            let first = here[0];
            for a in 0..k {
                for (c, &i) in above.iter().enumerate() {
                    let r_ac = r[level][a * above.len() + c];
                    for target in i.saturating_sub(1)..=i {
                        let rate = chain.departure(i, level + 1 - i, target);
                        if let (Some(b), true) = (target.checked_sub(first).filter(|b| *b < k), rate > 0.0) {
                            m[a * k + b] -= r_ac * rate;
                        }
                    }
                }
            }
        }
        // R_{N−1} = U_{N−1} M⁻¹: solve X M = U, that is Mᵀ Xᵀ = Uᵀ.
        let u: Vec<f64> = below
            .iter()
            .flat_map(|&i| here.iter().map(move |&target| (i, target)))
            .map(|(i, target)| chain.arrival(i, level - 1 - i, target))
            .collect();
        r[level - 1] = solve_right(&m, k, &u, below.len());
    }
    // Up from the empty state (π_0 = 1), summing the mass and the mean length as we go.
    let (mut pi, mut total, mut length) = (vec![1.0], 1.0, 0.0);
    for (level, r_level) in r.iter().enumerate() {
        let width = chain.states(level + 1).len();
        let next: Vec<f64> =
            (0..width).map(|b| pi.iter().enumerate().map(|(a, p)| p * r_level[a * width + b]).sum()).collect();
        let mass: f64 = next.iter().sum();
        total += mass;
        length += mass * (level + 1) as f64;
        pi = next;
    }
    Some(length / total / lambda)
}

/// The truncated join-shortest-queue chain: states (i, j) with both queues at most `n` and
/// their difference at most [`JSQ_MAX_DIFFERENCE`].
struct JsqChain {
    n: usize,
    lambda: f64,
    mu: f64,
}

impl JsqChain {
    fn inside(&self, i: usize, j: usize) -> bool {
        i <= self.n && j <= self.n && i.abs_diff(j) <= JSQ_MAX_DIFFERENCE
    }

    /// The first queue's lengths i of the states at level i + j = `level`, in order: consecutive
    /// (the bounds on i, j and their difference each cut the level at one end).
    fn states(&self, level: usize) -> Vec<usize> {
        (level.saturating_sub(self.n)..=level.min(self.n)).filter(|&i| self.inside(i, level - i)).collect()
    }

    /// Rate from (i, j) to the state one level up whose first queue is `target`.
    fn arrival(&self, i: usize, j: usize, target: usize) -> f64 {
        let rate = match i.cmp(&j) {
            std::cmp::Ordering::Less => (target == i + 1) as u8 as f64 * self.lambda,
            std::cmp::Ordering::Greater => (target == i) as u8 as f64 * self.lambda,
            std::cmp::Ordering::Equal => (target == i || target == i + 1) as u8 as f64 * self.lambda / 2.0,
        };
        let j_after = i + j + 1 - target;
        if self.inside(target, j_after) {
            rate
        } else {
            0.0
        }
    }

    /// Rate from (i, j) to the state one level down whose first queue is `target`.
    fn departure(&self, i: usize, j: usize, target: usize) -> f64 {
        let to_first = i > 0 && target == i - 1;
        let to_second = j > 0 && target == i;
        (to_first as u8 + to_second as u8) as f64 * self.mu
    }

    /// Total rate of leaving (i, j): arrivals that stay in the chain, and every departure (one
    /// that would leave the truncated chain is lost, as in the Gauss–Seidel form).
    fn leave(&self, i: usize, j: usize) -> f64 {
        let up: f64 = (i..=i + 1).map(|target| self.arrival(i, j, target)).sum();
        up + (i > 0) as u8 as f64 * self.mu + (j > 0) as u8 as f64 * self.mu
    }
}

/// X with X M = U, for M k × k and U rows × k (row-major): Gaussian elimination with partial
/// pivoting on Mᵀ, every row of U a right-hand side.
fn solve_right(m: &[f64], k: usize, u: &[f64], rows: usize) -> Vec<f64> {
    // A = Mᵀ (k × k), B = Uᵀ (k × rows).
    let mut a: Vec<f64> = (0..k * k).map(|x| m[(x % k) * k + x / k]).collect();
    let mut b: Vec<f64> = (0..k * rows).map(|x| u[(x % rows) * k + x / rows]).collect();
    for col in 0..k {
        let pivot = (col..k).max_by(|&p, &q| a[p * k + col].abs().total_cmp(&a[q * k + col].abs())).unwrap_or(col);
        if pivot != col {
            for x in 0..k {
                a.swap(col * k + x, pivot * k + x);
            }
            for x in 0..rows {
                b.swap(col * rows + x, pivot * rows + x);
            }
        }
        let diagonal = a[col * k + col];
        if diagonal == 0.0 {
            continue;
        }
        for row in col + 1..k {
            let factor = a[row * k + col] / diagonal;
            if factor == 0.0 {
                continue;
            }
            for x in col..k {
                a[row * k + x] -= factor * a[col * k + x];
            }
            for x in 0..rows {
                b[row * rows + x] -= factor * b[col * rows + x];
            }
        }
    }
    for col in (0..k).rev() {
        let diagonal = a[col * k + col];
        for x in 0..rows {
            let rest: f64 = (col + 1..k).map(|y| a[col * k + y] * b[y * rows + x]).sum();
            b[col * rows + x] = if diagonal == 0.0 { 0.0 } else { (b[col * rows + x] - rest) / diagonal };
        }
    }
    // X = Bᵀ (rows × k).
    (0..rows * k).map(|x| b[(x % k) * rows + x / k]).collect()
}

/// Which formula a scenario's figures come from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Model {
    /// One server, a bounded shared queue: K places including the one in service.
    Mm1k { k: u32 },
    /// c servers behind one shared queue, exponential service (Erlang C).
    Mmc { c: u32 },
    /// c servers behind one shared queue, general service (exact for c = 1, else Allen–Cunneen).
    Mgc { c: u32, cv: f64 },
    /// Each request to one of c servers at random: c separate M/G/1 queues at λ/c.
    RandomSplit { c: u32, cv: f64 },
    /// The best of d random draws among many servers (the n → ∞ limit).
    PowerOfD { c: u32, d: u32 },
    /// Round robin over c servers: c E_c/M/1 queues.
    RoundRobin { c: u32 },
    /// Join the shortest queue of two servers (least connections).
    JoinShortestQueue,
}

impl Model {
    /// Whether the figure is exact (for the model's assumptions) rather than an approximation or
    /// a many-server limit.
    pub fn exact(self) -> bool {
        match self {
            Model::Mgc { c, .. } => c == 1,
            Model::PowerOfD { .. } => false,
            _ => true,
        }
    }
}

/// What theory says about a scenario.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prediction {
    pub model: Model,
    /// Mean response time of the requests served.
    pub mean_latency_ms: f64,
    /// Share of arrivals refused because the queue is full (0 for an unbounded queue).
    pub drop_probability: f64,
}

/// Why theory says nothing about a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotCovered {
    /// Something besides the balancer and identical one-worker servers shapes the response time
    /// (database, network delay, bursts, failures, TLS, shared machines...).
    Design,
    /// The servers differ (time, shape, weight, workers, maxconn) or one is a backup.
    UnequalServers,
    /// No formula for this algorithm (with this service shape or number of servers).
    Algorithm,
    /// A shared queue with `timeout queue`: the longest waits are answered 503 (set it to 0).
    QueueTimeout,
    /// Servers' backlogs small enough to refuse connections at this load.
    SmallBacklog,
    /// Load ρ ≥ 1 with an unbounded queue: it grows without end, there is no steady state.
    Unstable,
    /// Beyond the range where the numeric solution is accurate (join-shortest-queue above ρ = 0.95).
    OutOfRange,
}

/// The fewest servers power of d is offered for: Mitzenmacher's formula is the limit for many
/// servers, close (within about 1 %) from 100.
pub const POWER_OF_D_MIN_SERVERS: usize = 100;

/// The figures theory gives for a scenario, if it covers it.
pub fn predict(s: &Scenario) -> Result<Prediction, NotCovered> {
    plain_queueing_design(s)?;
    let first = &s.web.servers[0];
    let c = s.web.servers.len() as u32;
    let lambda = s.traffic.arrival_rate_per_s;
    let mu = 1_000.0 / first.service_time_ms;
    let cv = match first.service_distribution {
        Distribution::Exponential => 1.0,
        Distribution::Constant => 0.0,
        Distribution::Lognormal => first.service_time_cv,
    };
    let exponential = first.service_distribution == Distribution::Exponential;
    let rho = lambda / (c as f64 * mu);
    let seconds = |model, w_s: f64| Ok(Prediction { model, mean_latency_ms: w_s * 1_000.0, drop_probability: 0.0 });
    if lambda <= 0.0 {
        return Err(NotCovered::Design);
    }
    if first.maxconn == 1 {
        // One shared queue at the balancer; maxqueue 0 is HAProxy's unlimited. A queue timeout
        // answers the longest waits with 503, which no formula here has.
        if s.balancer.timeout_queue_ms != 0.0 {
            return Err(NotCovered::QueueTimeout);
        }
        let maxqueue = s.balancer.maxqueue;
        if maxqueue > 0 && c == 1 && exponential {
            let k = maxqueue + 1;
            let (w_s, drop) = mm1k(lambda, mu, k);
            return Ok(Prediction { model: Model::Mm1k { k }, mean_latency_ms: w_s * 1_000.0, drop_probability: drop });
        }
        if maxqueue > 0 {
            return Err(NotCovered::Algorithm);
        }
        if rho >= 1.0 {
            return Err(NotCovered::Unstable);
        }
        return if exponential {
            seconds(Model::Mmc { c }, mmc_response_s(c, lambda, mu))
        } else {
            seconds(Model::Mgc { c, cv }, mgc_response_s(c, lambda, mu, cv))
        };
    }
    if first.maxconn != 0 {
        return Err(NotCovered::Algorithm);
    }
    if rho >= 1.0 {
        return Err(NotCovered::Unstable);
    }
    // Each server's own queue holds its backlog: theory treats it as unbounded, so offered only
    // while an M/M/1 at this load would fill it less than once in 10 000 arrivals.
    if rho.powf(crate::sim::backlog_bound(first.backlog) as f64) > 1e-4 {
        return Err(NotCovered::SmallBacklog);
    }
    let per_server = lambda / c as f64;
    match s.balancer.algorithm {
        Algorithm::Random if s.balancer.random_draws == 1 || c == 1 => {
            seconds(Model::RandomSplit { c, cv }, mgc_response_s(1, per_server, mu, cv))
        }
        Algorithm::Random if exponential && s.web.servers.len() >= POWER_OF_D_MIN_SERVERS => {
            let d = s.balancer.random_draws;
            seconds(Model::PowerOfD { c, d }, power_of_d_service_times(rho, d) / mu)
        }
        Algorithm::Roundrobin | Algorithm::StaticRr if exponential => {
            seconds(Model::RoundRobin { c }, round_robin_response_s(c, lambda, mu))
        }
        Algorithm::Leastconn if exponential && c == 2 => match jsq_two_servers_response_s(lambda, mu) {
            Some(w_s) => seconds(Model::JoinShortestQueue, w_s),
            None => Err(NotCovered::OutOfRange),
        },
        _ => Err(NotCovered::Algorithm),
    }
}

/// Whether the scenario is a textbook queue: Poisson arrivals straight to identical one-worker
/// servers behind one balancer, with nothing else adding time or taking servers away.
fn plain_queueing_design(s: &Scenario) -> Result<(), NotCovered> {
    let n = &s.network;
    let f = &s.failures;
    let nothing_else = s.balancer.enabled
        && !s.balancer.pair
        && !s.db.enabled
        && n.client_latency_ms == 0.0
        && n.lan_latency_ms == 0.0
        && n.dns_lookup_ms == 0.0
        && !s.traffic.burst.enabled
        && [f.lb.mtbf_s, f.web.mtbf_s, f.db.mtbf_s, f.dns.mtbf_s].iter().all(|m| *m == 0.0)
        && !s.security.https
        && s.machines.is_empty()
        && !s.web.servers.is_empty();
    if !nothing_else {
        return Err(NotCovered::Design);
    }
    let first = &s.web.servers[0];
    let identical = s.web.servers.iter().all(|w| {
        w.workers == 1
            && !w.backup
            && w.weight == first.weight
            && w.maxconn == first.maxconn
            && w.service_time_ms == first.service_time_ms
            && w.service_distribution == first.service_distribution
            && w.service_time_cv == first.service_time_cv
            && w.backlog == first.backlog
    });
    if !identical {
        return Err(NotCovered::UnequalServers);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same chain solved by Gauss–Seidel sweeps (the solver before the exact one): the
    /// reference the exact solution is checked against. Seconds at ρ = 0.95.
    fn jsq_gauss_seidel_response_s(lambda: f64, mu: f64) -> Option<f64> {
        let rho = lambda / (2.0 * mu);
        if !(rho > 0.0 && rho <= 0.95) {
            return None;
        }
        let n = ((1e-10f64).ln() / (2.0 * rho.ln())).ceil().clamp(10.0, JSQ_MAX_QUEUE as f64) as usize;
        let inside = |i: usize, j: usize| i <= n && j <= n && i.abs_diff(j) <= JSQ_MAX_DIFFERENCE;
        let index = |i: usize, j: usize| i * (n + 1) + j;
        let mut p = vec![0.0f64; (n + 1) * (n + 1)];
        p[0] = 1.0;
        // Gauss–Seidel in order of growing queues: a sweep carries the mass all the way up.
        // Rate at which state (i, j) is left, and at which an arrival in it joins queue 1 or 2.
        let joins = |i: usize, j: usize| -> (f64, f64) {
            match i.cmp(&j) {
                std::cmp::Ordering::Less => (lambda, 0.0),
                std::cmp::Ordering::Greater => (0.0, lambda),
                std::cmp::Ordering::Equal => (lambda / 2.0, lambda / 2.0),
            }
        };
        let leave = |i: usize, j: usize| {
            let (a1, a2) = joins(i, j);
            let a1 = if inside(i + 1, j) { a1 } else { 0.0 };
            let a2 = if inside(i, j + 1) { a2 } else { 0.0 };
            a1 + a2 + if i > 0 { mu } else { 0.0 } + if j > 0 { mu } else { 0.0 }
        };
        for _sweep in 0..20_000 {
            let mut change: f64 = 0.0;
            for i in 0..=n {
                for j in 0..=n {
                    // The empty state is held at its value: the balance equations fix p only up
                    // to a factor, and updating every state would let it collapse to zero.
                    if !inside(i, j) || (i, j) == (0, 0) {
                        continue;
                    }
                    let mut inflow = 0.0;
                    if i > 0 && inside(i - 1, j) {
                        inflow += p[index(i - 1, j)] * joins(i - 1, j).0;
                    }
                    if j > 0 && inside(i, j - 1) {
                        inflow += p[index(i, j - 1)] * joins(i, j - 1).1;
                    }
                    if inside(i + 1, j) {
                        inflow += p[index(i + 1, j)] * mu;
                    }
                    if inside(i, j + 1) {
                        inflow += p[index(i, j + 1)] * mu;
                    }
                    let next = inflow / leave(i, j);
                    change = change.max((next - p[index(i, j)]).abs());
                    p[index(i, j)] = next;
                }
            }
            if change < 1e-13 {
                break;
            }
        }
        let total: f64 = p.iter().sum();
        p.iter_mut().for_each(|x| *x /= total);
        let mean_in_system: f64 =
            (0..=n).flat_map(|i| (0..=n).map(move |j| (i, j))).map(|(i, j)| p[index(i, j)] * (i + j) as f64).sum();
        Some(mean_in_system / lambda)
    }

    /// The exact level-by-level solution solves the same equations as the Gauss–Seidel sweeps it
    /// replaced: the same figures to 1e-7 (the sweeps stop at a change below 1e-13 per state).
    #[test]
    fn jsq_exact_solution_agrees_with_gauss_seidel() {
        for rho in [0.1, 0.3, 0.5, 0.7, 0.8, 0.85] {
            let (exact, reference) = (
                jsq_two_servers_response_s(2.0 * rho, 1.0).unwrap(),
                jsq_gauss_seidel_response_s(2.0 * rho, 1.0).unwrap(),
            );
            assert!((exact - reference).abs() <= 1e-7 * reference, "rho {rho}: {exact} against {reference}");
        }
    }

    #[test]
    fn formulas_give_the_reference_figures() {
        // reference.md, queueing theory: two servers, μ = 1, W in service times.
        assert!((mm1_response_s(8.0, 10.0) - 0.5).abs() < 1e-12);
        assert!((mmc_response_s(2, 16.0, 10.0) - 0.2778).abs() < 1e-4);
        assert!((round_robin_response_s(2, 1.6, 1.0) - 3.84).abs() < 0.01);
        assert!((round_robin_response_s(2, 1.8, 1.0) - 7.59).abs() < 0.01);
        assert!((mmc_response_s(2, 1.6, 1.0) - 2.78).abs() < 0.01);
        assert!((mmc_response_s(2, 1.8, 1.0) - 5.26).abs() < 0.01);
        let (_, drop) = mm1k(0.8, 1.0, 11);
        assert!((drop - 0.0184).abs() < 1e-4);
        // One server: round robin and Allen–Cunneen are both plain M/M/1.
        assert!((round_robin_response_s(1, 0.5, 1.0) - 2.0).abs() < 1e-9);
        assert!((mgc_response_s(1, 0.5, 1.0, 1.0) - 2.0).abs() < 1e-12);
        // Constant service halves the wait (M/D/1).
        assert!((mgc_response_s(1, 0.5, 1.0, 0.0) - 1.5).abs() < 1e-12);
    }

    #[test]
    fn join_shortest_queue_matches_the_reference_table() {
        assert!((jsq_two_servers_response_s(1.6, 1.0).unwrap() - 2.96).abs() < 0.01);
        assert!((jsq_two_servers_response_s(1.8, 1.0).unwrap() - 5.47).abs() < 0.01);
        // A bounded queue of many places is the unbounded one.
        let (w, _) = mm1k(0.5, 1.0, 200);
        assert!((w - 2.0).abs() < 1e-9);
        assert_eq!(jsq_two_servers_response_s(1.95, 1.0), None);
    }

    fn lab() -> Scenario {
        let mut s = crate::scenario::preset("queue-lab").expect("queue-lab");
        s.traffic.arrival_rate_per_s = 80.0;
        s
    }

    #[test]
    fn predict_picks_the_formula_of_the_design() {
        // queue-lab as it is: two servers in round robin, queues at the servers.
        let p = predict(&lab()).unwrap();
        assert_eq!(p.model, Model::RoundRobin { c: 2 });
        assert!((p.mean_latency_ms - round_robin_response_s(2, 80.0, 100.0) * 1_000.0).abs() < 1e-9);
        // One server, a shared queue of 10: M/M/1/11 (reference.md: 1.84 % dropped at ρ = 0.8).
        let mut s = lab();
        s.web.servers.truncate(1);
        s.web.servers[0].maxconn = 1;
        s.balancer.maxqueue = 10;
        assert_eq!(predict(&s), Err(NotCovered::QueueTimeout));
        s.balancer.timeout_queue_ms = 0.0;
        let p = predict(&s).unwrap();
        assert_eq!(p.model, Model::Mm1k { k: 11 });
        assert!((p.drop_probability - 0.0184).abs() < 1e-4);
        // What no formula here covers.
        let mut s = lab();
        s.db.enabled = true;
        assert_eq!(predict(&s), Err(NotCovered::Design));
        let mut s = lab();
        s.web.servers[1].service_time_ms = 20.0;
        assert_eq!(predict(&s), Err(NotCovered::UnequalServers));
        let mut s = lab();
        s.traffic.arrival_rate_per_s = 200.0;
        assert_eq!(predict(&s), Err(NotCovered::Unstable));
        let mut s = lab();
        s.web.servers.iter_mut().for_each(|w| w.backlog = 5);
        assert_eq!(predict(&s), Err(NotCovered::SmallBacklog));
        let mut s = lab();
        s.balancer.algorithm = Algorithm::Random;
        s.balancer.random_draws = 2;
        assert_eq!(predict(&s), Err(NotCovered::Algorithm), "power of d needs many servers");
    }
}
