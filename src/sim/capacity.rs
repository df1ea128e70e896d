//! The capacity curve of a design: mean latency against offered load, one curve per balancing
//! algorithm, with theory beside each point where a formula covers it — the picture `infrasim
//! sweep --svg` draws, for the page's current design.
//!
//! The loads are fractions of the design's capacity, which a probe run estimates: the offered
//! load over the utilisation of the busiest web server or machine. The runs are those of
//! `infrasim sweep` (same scenario, seeds `seed`, `seed + 1`, …, figures over seeds from
//! [`super::sweep`]), done in slices of events so a page can draw frames between two slices.
//! Random failures are switched off: the curve is about load, not luck.

use super::sweep::{ci95_half_width, mean, SeedResult, Stat};
use super::theory;
use super::time::from_s;
use super::{Report, Sim, TraceConfig};
use crate::scenario::{setting, Algorithm, Allowed, Scenario};

/// The loads measured, as fractions of the estimated capacity. Denser towards 1, where the
/// curve bends.
pub const LOAD_FRACTIONS: [f64; 8] = [0.1, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
/// Seeds per point: enough for an interval, few enough for the page (8 loads × 2 curves × 3
/// seeds = 48 runs).
pub const SEEDS: u32 = 3;
/// A run lasts long enough for about this many requests (within the bounds below), so every
/// point has a comparable amount of evidence whatever the load.
pub const REQUESTS_PER_RUN: f64 = 20_000.0;
pub const MIN_RUN_S: f64 = 2.0;
pub const MAX_RUN_S: f64 = 120.0;
/// The first tenth of each run is warm-up when the design sets none (queues start empty).
const WARMUP_SHARE: f64 = 0.1;
/// Probe runs to find a load that keeps the busiest resource measurably busy.
const MAX_PROBES: u32 = 4;
/// Below this utilisation the capacity estimate is noise: probe again at a higher load.
const MIN_PROBE_UTILISATION: f64 = 0.2;
/// The load the probe aims for when it tries again.
const PROBE_TARGET_UTILISATION: f64 = 0.5;
/// The probe's load when the design has no traffic at all.
const FIRST_PROBE_PER_S: f64 = 10.0;

/// Why no curve can be drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CurveError {
    /// Nothing served requests in the probes (every server down, or no servers).
    NothingBusy,
}

/// A measured point of a curve.
#[derive(Clone, Debug, PartialEq)]
pub struct CurvePoint {
    pub curve: usize,
    pub load_per_s: f64,
    pub mean_ms: Stat,
    pub p95_ms: Stat,
    /// Failed requests over arrived ones, all seeds together.
    pub failed_share: f64,
    /// What the formula gives at this load, when one covers the design.
    pub theory_mean_ms: Option<f64>,
}

/// One curve: the design with one algorithm (`None`: the design as it is, which has no
/// balancer to vary).
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    pub algorithm: Option<Algorithm>,
}

/// Where the sweep is.
enum Phase {
    /// Estimating the capacity: the probe's load and its run.
    Probing {
        probes: u32,
        load_per_s: f64,
        sim: Box<Sim>,
    },
    /// Measuring point `index` (curve-major) with seed `seed_index`.
    Measuring {
        index: usize,
        seed_index: u32,
        sim: Box<Sim>,
        results: Vec<SeedResult>,
    },
    Finished,
}

/// A capacity sweep under way.
pub struct CapacitySweep {
    design: Scenario,
    pub curves: Vec<Curve>,
    /// The design's own load, to mark on the curves.
    pub current_load_per_s: f64,
    /// Known once the probe is done.
    pub capacity_per_s: Option<f64>,
    pub points: Vec<CurvePoint>,
    phase: Phase,
}

/// The curves drawn for a design: its algorithm and the other of round robin and least
/// connections (the course's pair), or one curve when there is nothing to balance.
pub fn curves_for(design: &Scenario) -> Vec<Curve> {
    if !design.balancer.enabled || design.web.servers.len() < 2 {
        return vec![Curve { algorithm: None }];
    }
    let mine = design.balancer.algorithm;
    let other = if mine == Algorithm::Leastconn { Algorithm::Roundrobin } else { Algorithm::Leastconn };
    vec![Curve { algorithm: Some(mine) }, Curve { algorithm: Some(other) }]
}

/// How long a run at `load_per_s` lasts.
pub fn run_length_s(load_per_s: f64) -> f64 {
    (REQUESTS_PER_RUN / load_per_s.max(1e-9)).clamp(MIN_RUN_S, MAX_RUN_S)
}

impl CapacitySweep {
    pub fn new(design: &Scenario) -> CapacitySweep {
        let mut design = design.clone();
        design.failures = Default::default();
        let current_load_per_s = design.traffic.arrival_rate_per_s;
        let first = if current_load_per_s > 0.0 { current_load_per_s } else { FIRST_PROBE_PER_S }.min(max_load_per_s());
        let sim = Box::new(start(&design, first, 0));
        CapacitySweep {
            curves: curves_for(&design),
            design,
            current_load_per_s,
            capacity_per_s: None,
            points: Vec::new(),
            phase: Phase::Probing { probes: 1, load_per_s: first, sim },
        }
    }

    /// Runs in all (probes not counted) and runs done.
    pub fn progress(&self) -> (usize, usize) {
        let total = self.curves.len() * LOAD_FRACTIONS.len() * SEEDS as usize;
        let done = match &self.phase {
            Phase::Probing { .. } => 0,
            Phase::Measuring { index, seed_index, .. } => index * SEEDS as usize + *seed_index as usize,
            Phase::Finished => total,
        };
        (done, total)
    }

    /// The curve and load being measured now, if measuring.
    pub fn measuring(&self) -> Option<(usize, f64)> {
        match &self.phase {
            Phase::Measuring { index, .. } => Some(self.cell(*index)),
            _ => None,
        }
    }

    pub fn finished(&self) -> bool {
        matches!(self.phase, Phase::Finished)
    }

    /// The curve and load of point `index`.
    fn cell(&self, index: usize) -> (usize, f64) {
        let capacity = self.capacity_per_s.unwrap_or(0.0);
        (index / LOAD_FRACTIONS.len(), LOAD_FRACTIONS[index % LOAD_FRACTIONS.len()] * capacity)
    }

    /// The design of point `index`: its curve's algorithm, its load.
    fn cell_design(&self, index: usize) -> Scenario {
        let (curve, load_per_s) = self.cell(index);
        let mut s = self.design.clone();
        if let Some(algorithm) = self.curves[curve].algorithm {
            s.balancer.algorithm = algorithm;
        }
        s.traffic.arrival_rate_per_s = load_per_s;
        s
    }

    /// Simulate at most `max_events` events. Returns whether there is more to do; an error when
    /// the capacity cannot be estimated (the sweep is then finished).
    pub fn step(&mut self, max_events: u64) -> Result<bool, CurveError> {
        let phase = std::mem::replace(&mut self.phase, Phase::Finished);
        self.phase = match phase {
            Phase::Probing { probes, load_per_s, mut sim } => {
                if !sim.run_until(from_s(run_length_s(load_per_s)), max_events) {
                    Phase::Probing { probes, load_per_s, sim }
                } else {
                    self.after_probe(probes, load_per_s, &sim)?
                }
            }
            Phase::Measuring { index, seed_index, mut sim, mut results } => {
                let load_per_s = self.cell(index).1;
                if !sim.run_until(from_s(run_length_s(load_per_s)), max_events) {
                    Phase::Measuring { index, seed_index, sim, results }
                } else {
                    results.push(SeedResult::from_report(&Report::from_sim(&sim)));
                    self.next_run(index, seed_index + 1, results)
                }
            }
            Phase::Finished => Phase::Finished,
        };
        Ok(!self.finished())
    }

    /// Estimate the capacity from a finished probe, or probe again at a load that keeps the
    /// busiest resource busier.
    fn after_probe(&mut self, probes: u32, load_per_s: f64, sim: &Sim) -> Result<Phase, CurveError> {
        let busiest = busiest_utilisation(&Report::from_sim(sim));
        // At the table's highest load a probe cannot go higher: what it saw is the estimate.
        let last = probes >= MAX_PROBES || load_per_s >= max_load_per_s();
        if busiest >= MIN_PROBE_UTILISATION || (busiest > 0.0 && last) {
            self.capacity_per_s = Some((load_per_s / busiest).min(max_load_per_s()));
            return Ok(self.next_run(0, 0, Vec::new()));
        }
        if last {
            return Err(CurveError::NothingBusy);
        }
        // Nothing busy at all: try ten times the load; else aim at half the capacity.
        let next = if busiest > 0.0 { load_per_s * PROBE_TARGET_UTILISATION / busiest } else { load_per_s * 10.0 };
        let next = next.min(max_load_per_s());
        let sim = Box::new(start(&self.design, next, 0));
        Ok(Phase::Probing { probes: probes + 1, load_per_s: next, sim })
    }

    /// Start run `seed_index` of point `index`, filing the point when its seeds are all done.
    fn next_run(&mut self, index: usize, seed_index: u32, results: Vec<SeedResult>) -> Phase {
        let (index, seed_index, results) = if seed_index < SEEDS {
            (index, seed_index, results)
        } else {
            self.points.push(self.point(index, &results));
            (index + 1, 0, Vec::new())
        };
        if index >= self.curves.len() * LOAD_FRACTIONS.len() {
            return Phase::Finished;
        }
        let design = self.cell_design(index);
        let load_per_s = design.traffic.arrival_rate_per_s;
        let sim = Box::new(start(&design, load_per_s, seed_index));
        Phase::Measuring { index, seed_index, sim, results }
    }

    fn point(&self, index: usize, runs: &[SeedResult]) -> CurvePoint {
        let stat = |f: fn(&SeedResult) -> f64| {
            let values: Vec<f64> = runs.iter().map(f).collect();
            Stat { value: mean(&values), ci95: ci95_half_width(&values) }
        };
        let arrived: u64 = runs.iter().map(|r| r.arrived).sum();
        let failed: u64 = runs.iter().map(|r| r.failed).sum();
        let (curve, load_per_s) = self.cell(index);
        CurvePoint {
            curve,
            load_per_s,
            mean_ms: stat(|r| r.mean_ms),
            p95_ms: stat(|r| r.p95_ms),
            failed_share: failed as f64 / arrived.max(1) as f64,
            theory_mean_ms: theory::predict(&self.cell_design(index)).ok().map(|p| p.mean_latency_ms),
        }
    }
}

/// The highest load the settings table allows: the curve's loads stay within what a user could
/// set.
fn max_load_per_s() -> f64 {
    match setting("traffic.arrival_rate_per_s").map(|s| s.allowed) {
        Some(Allowed::Number { max, .. }) => max,
        _ => f64::INFINITY,
    }
}

/// The utilisation of the busiest web server or listed machine.
fn busiest_utilisation(r: &Report) -> f64 {
    let servers = r.by_server.iter().map(|s| s.utilization);
    let machines = r.machines.iter().map(|m| m.cpu_utilization);
    servers.chain(machines).filter(|u| u.is_finite()).fold(0.0, f64::max)
}

/// A run of `design` at `load_per_s` with its `seed_index`-th seed, warm-up set.
fn start(design: &Scenario, load_per_s: f64, seed_index: u32) -> Sim {
    let mut s = design.clone();
    s.traffic.arrival_rate_per_s = load_per_s;
    s.seed = design.seed.wrapping_add(seed_index as u64);
    let length_s = run_length_s(load_per_s);
    if s.warmup_s <= 0.0 || s.warmup_s >= length_s {
        s.warmup_s = length_s * WARMUP_SHARE;
    }
    Sim::new(s, TraceConfig { enabled: false, capacity: 1 })
}
