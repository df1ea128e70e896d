//! Single-point-of-failure analysis: fail each node and each link of the design in turn, on a
//! copy of the model fed the same traffic, and classify what users see once detection and
//! failover have had time to act.

use super::command::{Command, CommandKind, NodeClass};
use super::engine::{Sim, TraceConfig};
use super::metrics::Counters;
use super::node::{Link, NodeId};
use super::time::{from_s, SimTime};
use crate::scenario::{FailureRate, Scenario};
use serde::Serialize;

/// What a single failure does to the site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Most requests fail: the site is down.
    SiteDown,
    /// Reads work, most writes fail: nobody can change anything.
    WritesBlocked,
    /// The site works, with more errors or slower answers.
    Degraded,
    /// No visible effect.
    None,
    /// Too few requests were answered in the measured window to tell (no verdict).
    InsufficientTraffic,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpofEntry {
    /// The failed node (`lb1`) or link (`web1-db1`).
    pub target: String,
    pub effect: Effect,
    /// Fraction of requests answered successfully in the measured window.
    pub success_ratio: f64,
    pub read_success_ratio: f64,
    pub write_success_ratio: f64,
    /// Mean of the per-second p99 latency in the window, milliseconds.
    pub latency_p99_ms: f64,
    /// Requests answered (completed or failed) in the measured window.
    pub answered: u64,
}

/// Fewest answered requests in the measured window for a verdict: with fewer, "under a
/// quarter succeed" cannot be told from chance, so the case says `insufficient_traffic`.
pub const MIN_ANSWERED_FOR_VERDICT: u64 = 20;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SpofReport {
    /// The failure is injected this long after the start, seconds.
    pub fail_at_s: f64,
    /// Time allowed for detection and failover before measuring, seconds.
    pub settle_s: f64,
    /// Length of the measured window, seconds.
    pub window_s: f64,
    pub baseline: SpofEntry,
    pub nodes: Vec<SpofEntry>,
    pub links: Vec<SpofEntry>,
    /// Each machine the scenario lists, failed whole (absent when it lists none: then every
    /// node is a machine of its own and `nodes` says it all).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub machines: Vec<SpofEntry>,
    /// Targets whose failure takes the site down or blocks writes.
    pub single_points_of_failure: Vec<String>,
    /// Targets that got no verdict: too few requests answered (`MIN_ANSWERED_FOR_VERDICT`).
    pub insufficient_traffic: Vec<String>,
    /// Expected fraction of requests served, from the failure and repair rates, counting
    /// simultaneous failures (see `availability_method`). 1 when no failure rate is set.
    pub availability_estimate: f64,
    /// How `availability_estimate` was computed, in words.
    pub availability_method: String,
    /// Whether any failure rate is set (otherwise the estimate says nothing).
    pub failure_rates_set: bool,
}

const FAIL_AT_S: f64 = 20.0;
const SETTLE_S: f64 = 20.0;
const WINDOW_S: f64 = 40.0;
/// Simulated seconds of one measurement (each target's run): what the batch runner's work
/// limit multiplies by the number of measurements.
pub const MEASUREMENT_S: f64 = FAIL_AT_S + SETTLE_S + WINDOW_S;

/// Run the analysis. The scenario should be valid; its random failures are switched off so
/// each run shows exactly one failure. All at once: the page steps a [`SpofAnalysis`] instead.
pub fn analyse(scenario: &Scenario) -> SpofReport {
    let mut analysis = SpofAnalysis::new(scenario);
    while analysis.step() {}
    analysis.finish()
}

/// The analysis one measurement (one model run) at a time, so the page can draw frames between
/// two steps instead of freezing for the whole analysis. The measurements are independent and
/// classified against the baseline, which is measured first, so stepping gives exactly the
/// report of running them all in one go (a test below checks this).
pub struct SpofAnalysis {
    /// As given: its failure rates and write ratio weigh the availability estimate.
    scenario: Scenario,
    /// What every measurement runs: no random failures, no warm-up.
    base: Scenario,
    nodes: Vec<NodeId>,
    links: Vec<Link>,
    /// The listed machines, failed whole after the links.
    machines: Vec<String>,
    /// Measured first: the other measurements are classified against it.
    baseline: Option<SpofEntry>,
    node_entries: Vec<SpofEntry>,
    link_entries: Vec<SpofEntry>,
    machine_entries: Vec<SpofEntry>,
    /// The measurement under way when stepping in slices ([`SpofAnalysis::step_events`]).
    current: Option<Measuring>,
}

/// One measurement part-way: its model, and the counters at the start of the measured window
/// once the clock has reached it.
struct Measuring {
    sim: Sim,
    target: String,
    before: Option<Counters>,
}

/// The baseline's target name in the report.
const BASELINE_TARGET: &str = "none";

impl SpofAnalysis {
    /// Plan the measurements (cheap: nothing is simulated yet).
    pub fn new(scenario: &Scenario) -> Self {
        let (base, nodes, links) = plan(scenario);
        let machines = listed_machines(&base);
        SpofAnalysis {
            scenario: scenario.clone(),
            base,
            node_entries: Vec::with_capacity(nodes.len()),
            link_entries: Vec::with_capacity(links.len()),
            machine_entries: Vec::with_capacity(machines.len()),
            nodes,
            links,
            machines,
            baseline: None,
            current: None,
        }
    }

    /// Do the next measurement (one model run): the baseline, then each node, then each link.
    /// Returns false once every measurement is done (and does nothing when called again).
    pub fn step(&mut self) -> bool {
        let done = self.done();
        while self.done() == done && self.step_events(u64::MAX) {}
        self.remaining() > 0
    }

    /// Advance the measurement under way by at most `max_events` model events (starting the
    /// next one if none is), so a caller can report progress within one long measurement.
    /// Stepping in slices gives exactly the report of [`SpofAnalysis::step`] (a test checks
    /// this). Returns false once every measurement is done.
    pub fn step_events(&mut self, max_events: u64) -> bool {
        if self.remaining() == 0 {
            return false;
        }
        let mut m = match self.current.take() {
            Some(m) => m,
            None => self.start_next(),
        };
        let window_start: SimTime = from_s(FAIL_AT_S + SETTLE_S);
        let until = if m.before.is_none() { window_start } else { from_s(MEASUREMENT_S) };
        if !m.sim.run_until(until, max_events) {
            self.current = Some(m);
            return true;
        }
        match m.before.take() {
            None => {
                m.before = Some(m.sim.metrics.all.clone());
                self.current = Some(m);
            }
            Some(before) => self.record(entry(&m.sim, &before, &m.target)),
        }
        self.remaining() > 0
    }

    /// The model of the next measurement, its failure applied.
    fn start_next(&self) -> Measuring {
        let (failure, target) = if self.baseline.is_none() {
            (None, BASELINE_TARGET.to_string())
        } else if let Some(&node) = self.nodes.get(self.node_entries.len()) {
            (Some(CommandKind::Kill { node }), node.to_string())
        } else if let Some(&link) = self.links.get(self.link_entries.len()) {
            (Some(CommandKind::Cut { link }), link.to_string())
        } else {
            // remaining() > 0, so a machine is left.
            let machine = self.machines[self.machine_entries.len()].clone();
            (Some(CommandKind::KillMachine { machine: machine.clone() }), machine)
        };
        Measuring { sim: start(&self.base, failure), target, before: None }
    }

    /// File a finished measurement: the baseline first, the others classified against it.
    fn record(&mut self, e: SpofEntry) {
        match &self.baseline {
            None => self.baseline = Some(e),
            Some(baseline) if self.node_entries.len() < self.nodes.len() => {
                self.node_entries.push(classify(e, baseline))
            }
            Some(baseline) if self.link_entries.len() < self.links.len() => {
                self.link_entries.push(classify(e, baseline))
            }
            Some(baseline) => self.machine_entries.push(classify(e, baseline)),
        }
    }

    /// Simulated seconds done (including the measurement under way) and in all: finer than
    /// [`SpofAnalysis::progress`], which counts whole measurements.
    pub fn simulated_s(&self) -> (f64, f64) {
        let under_way = self.current.as_ref().map_or(0.0, |m| m.sim.now() as f64 / 1e6);
        (self.done() as f64 * MEASUREMENT_S + under_way, self.total() as f64 * MEASUREMENT_S)
    }

    fn done(&self) -> usize {
        usize::from(self.baseline.is_some())
            + self.node_entries.len()
            + self.link_entries.len()
            + self.machine_entries.len()
    }

    fn total(&self) -> usize {
        1 + self.nodes.len() + self.links.len() + self.machines.len()
    }

    fn remaining(&self) -> usize {
        self.total() - self.done()
    }

    /// Measurements done, measurements in all, and what the next one fails (`None` when
    /// done). The baseline, with nothing failed, is named "normal operation".
    pub fn progress(&self) -> (usize, usize, Option<String>) {
        let next = if self.baseline.is_none() {
            Some("normal operation".to_string())
        } else if let Some(node) = self.nodes.get(self.node_entries.len()) {
            Some(node.to_string())
        } else if let Some(link) = self.links.get(self.link_entries.len()) {
            Some(link.to_string())
        } else {
            self.machines.get(self.machine_entries.len()).cloned()
        };
        (self.done(), self.total(), next)
    }

    /// The report. Any measurement not yet done is done now.
    pub fn finish(mut self) -> SpofReport {
        while self.step() {}
        // Always measured by now (the first step); a neutral baseline rather than a panic if not.
        let baseline =
            self.baseline.unwrap_or_else(|| entry(&start(&self.base, None), &Counters::default(), BASELINE_TARGET));
        let mut report = assemble(&self.scenario, &self.nodes, baseline, self.node_entries, self.link_entries);
        add_machines(&mut report, self.machine_entries);
        report
    }
}

/// What every measurement runs (no random failures, no warm-up), and the nodes and links to fail.
fn plan(scenario: &Scenario) -> (Scenario, Vec<NodeId>, Vec<Link>) {
    let mut base = scenario.clone();
    base.failures = Default::default();
    base.warmup_s = 0.0;
    // The question is whether the application keeps answering: static files that Nginx
    // serves from its own disk would count a site whose every page fails as a quarter up.
    base.web.static_ratio = 0.0;
    let nodes = super::design::components(&base);
    let links = super::design::links(&base);
    (base, nodes, links)
}

/// The machines a scenario lists, by id (derived one-node machines are the nodes themselves).
fn listed_machines(scenario: &Scenario) -> Vec<String> {
    crate::scenario::machines::placement(scenario)
        .into_iter()
        .filter(|m| matches!(m.cores, crate::scenario::machines::Cores::Count(_)))
        .map(|m| m.id)
        .collect()
}

/// Machines failed whole join the report: their single points of failure and the ones without
/// a verdict are listed after the nodes' and links'.
fn add_machines(report: &mut SpofReport, entries: Vec<SpofEntry>) {
    for e in &entries {
        match e.effect {
            Effect::SiteDown | Effect::WritesBlocked => report.single_points_of_failure.push(e.target.clone()),
            Effect::InsufficientTraffic => report.insufficient_traffic.push(e.target.clone()),
            Effect::Degraded | Effect::None => {}
        }
    }
    report.machines = entries;
}

/// The report from the classified measurements: the single points of failure and the
/// availability the scenario's failure rates give (`node_entries` in the order of `nodes`).
fn assemble(
    scenario: &Scenario,
    nodes: &[NodeId],
    baseline: SpofEntry,
    node_entries: Vec<SpofEntry>,
    link_entries: Vec<SpofEntry>,
) -> SpofReport {
    let spofs: Vec<String> = node_entries
        .iter()
        .chain(&link_entries)
        .filter(|e| matches!(e.effect, Effect::SiteDown | Effect::WritesBlocked))
        .map(|e| e.target.clone())
        .collect();
    let f = &scenario.failures;
    let no_verdict: Vec<String> = node_entries
        .iter()
        .chain(&link_entries)
        .filter(|e| e.effect == Effect::InsufficientTraffic)
        .map(|e| e.target.clone())
        .collect();
    let failing: Vec<(NodeId, Effect, f64)> =
        node_entries.iter().zip(nodes).map(|(e, &node)| (node, e.effect, unavailability(scenario, node))).collect();
    let mut method = AVAILABILITY_METHOD.to_string();
    if !no_verdict.is_empty() {
        method.push_str(
            "; targets without a verdict (too little traffic) count as having no effect, so it is an upper bound",
        );
    }
    SpofReport {
        fail_at_s: FAIL_AT_S,
        settle_s: SETTLE_S,
        window_s: WINDOW_S,
        baseline,
        nodes: node_entries,
        links: link_entries,
        machines: Vec::new(),
        single_points_of_failure: spofs,
        insufficient_traffic: no_verdict,
        availability_estimate: estimate_availability(&failing, scenario.traffic.write_ratio),
        availability_method: method,
        failure_rates_set: [&f.lb, &f.web, &f.db, &f.dns].iter().any(|r| r.mtbf_s > 0.0),
    }
}

/// How the estimate is computed, as the report states it.
pub const AVAILABILITY_METHOD: &str = "exact over simultaneous failures of independent nodes: each node is down \
MTTR/(MTBF+MTTR) of the time; requests fail while a single point of failure is down (only writes for a \
writes-blocking one, weighted by the write ratio) or while every node of one kind (dns, balancers, web servers, \
databases) is down";

/// Fraction of the time `node` is down in the steady state of its class's failure rates.
fn unavailability(scenario: &Scenario, node: NodeId) -> f64 {
    let f = &scenario.failures;
    let rate: &FailureRate = match NodeClass::of(node) {
        Some(NodeClass::Lb) => &f.lb,
        Some(NodeClass::Web) => &f.web,
        Some(NodeClass::Db) => &f.db,
        Some(NodeClass::Dns) => &f.dns,
        None => return 0.0,
    };
    if rate.mtbf_s <= 0.0 {
        return 0.0;
    }
    (rate.mttr_s / (rate.mtbf_s + rate.mttr_s)).clamp(0.0, 1.0)
}

/// Expected fraction of requests served when each node fails independently, down a fraction
/// `q` of the time, with the effect its single failure had. Nodes of different kinds are
/// independent, so the probability that no kind breaks service is a product over kinds; within
/// a kind it is exact: no site-down node down, and (when the kind has none) not all down.
pub fn estimate_availability(nodes: &[(NodeId, Effect, f64)], write_ratio: f64) -> f64 {
    let (mut all_ok, mut all_ok_for_writes) = (1.0, 1.0);
    for class in NodeClass::ALL {
        let members: Vec<&(NodeId, Effect, f64)> = nodes.iter().filter(|m| NodeClass::of(m.0) == Some(class)).collect();
        if members.is_empty() {
            continue;
        }
        let up = |effect: Effect| members.iter().filter(|m| m.1 == effect).map(|m| 1.0 - m.2).product::<f64>();
        let has = |effect: Effect| members.iter().any(|m| m.1 == effect);
        let all_down: f64 = members.iter().map(|m| m.2).product();
        let (site_up, writes_up) = (up(Effect::SiteDown), up(Effect::WritesBlocked));
        // P(no site-down node down and not every node down); the same with no writes-blocking one down.
        let ok = site_up - if has(Effect::SiteDown) { 0.0 } else { all_down };
        let ok_for_writes =
            site_up * writes_up - if has(Effect::SiteDown) || has(Effect::WritesBlocked) { 0.0 } else { all_down };
        all_ok *= ok.max(0.0);
        all_ok_for_writes *= ok_for_writes.max(0.0);
    }
    let w = write_ratio.clamp(0.0, 1.0);
    (1.0 - w) * all_ok + w * all_ok_for_writes
}

/// A model of `base` with `failure` applied at [`FAIL_AT_S`].
fn start(base: &Scenario, failure: Option<CommandKind>) -> Sim {
    let mut sim = Sim::new(base.clone(), TraceConfig { enabled: false, capacity: 1 });
    if let Some(what) = failure {
        // The target comes from the design itself, so the command is valid.
        let _ = sim.apply(Command { at_us: from_s(FAIL_AT_S), what });
    }
    sim
}

/// One measurement in a single go (the reference the stepped form is checked against).
#[cfg(test)]
fn measure(base: &Scenario, failure: Option<CommandKind>, target: &str) -> SpofEntry {
    let mut sim = start(base, failure);
    sim.run_until(from_s(FAIL_AT_S + SETTLE_S), u64::MAX);
    let before = sim.metrics.all.clone();
    sim.run_until(from_s(MEASUREMENT_S), u64::MAX);
    entry(&sim, &before, target)
}

/// What users saw in the measured window: from the counters at its start (`before`) to now.
fn entry(sim: &Sim, before: &Counters, target: &str) -> SpofEntry {
    let window = diff(&sim.metrics.all, before);
    let p99: Vec<f64> = sim
        .metrics
        .series
        .iter()
        .filter(|x| x.t_s > FAIL_AT_S + SETTLE_S && x.completed > 0)
        .map(|x| x.latency_p99_ms)
        .collect();
    let ratio = |ok: u64, total: u64| if total == 0 { 1.0 } else { ok as f64 / total as f64 };
    let answered = window.completed + window.failed();
    let writes_ok = window.writes_completed;
    let writes_answered = writes_ok + window.writes_failed;
    let reads_ok = window.completed - writes_ok;
    let reads_answered = answered - writes_answered;
    SpofEntry {
        target: target.to_string(),
        effect: Effect::None,
        success_ratio: ratio(window.completed, answered),
        read_success_ratio: ratio(reads_ok, reads_answered),
        write_success_ratio: ratio(writes_ok, writes_answered),
        latency_p99_ms: if p99.is_empty() { 0.0 } else { p99.iter().sum::<f64>() / p99.len() as f64 },
        answered,
    }
}

fn diff(a: &Counters, b: &Counters) -> Counters {
    let mut failed = [0; super::metrics::FailCause::COUNT];
    for (i, f) in failed.iter_mut().enumerate() {
        *f = a.failed_by_cause[i] - b.failed_by_cause[i];
    }
    Counters {
        arrived: a.arrived - b.arrived,
        completed: a.completed - b.completed,
        failed_by_cause: failed,
        writes_arrived: a.writes_arrived - b.writes_arrived,
        writes_failed: a.writes_failed - b.writes_failed,
        writes_completed: a.writes_completed - b.writes_completed,
    }
}

fn classify(mut e: SpofEntry, baseline: &SpofEntry) -> SpofEntry {
    // "Down" means most requests of a kind fail: under a quarter succeed. Reads are most of
    // the traffic, so reads failing is the site down even when writes still go through.
    const MOSTLY_FAILING: f64 = 0.25;
    e.effect = if e.answered < MIN_ANSWERED_FOR_VERDICT || baseline.answered < MIN_ANSWERED_FOR_VERDICT {
        Effect::InsufficientTraffic
    } else if e.success_ratio < MOSTLY_FAILING || e.read_success_ratio < MOSTLY_FAILING {
        Effect::SiteDown
    } else if e.write_success_ratio < MOSTLY_FAILING && baseline.write_success_ratio >= MOSTLY_FAILING {
        Effect::WritesBlocked
    } else if e.success_ratio < baseline.success_ratio - 0.01 || e.latency_p99_ms > baseline.latency_p99_ms * 1.5 + 5.0
    {
        Effect::Degraded
    } else {
        Effect::None
    };
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::preset;

    /// The analysis as it was before it could be stepped: every run in one loop. Kept as the
    /// reference the stepped form must match exactly.
    fn analyse_in_one_go(scenario: &Scenario) -> SpofReport {
        let (base, nodes, links) = plan(scenario);
        let baseline = measure(&base, None, "none");
        let node_entries: Vec<SpofEntry> = nodes
            .iter()
            .map(|&n| classify(measure(&base, Some(CommandKind::Kill { node: n }), &n.to_string()), &baseline))
            .collect();
        let link_entries: Vec<SpofEntry> = links
            .iter()
            .map(|&l| classify(measure(&base, Some(CommandKind::Cut { link: l }), &l.to_string()), &baseline))
            .collect();
        let machine_entries: Vec<SpofEntry> = listed_machines(&base)
            .into_iter()
            .map(|m| {
                let failure = CommandKind::KillMachine { machine: m.clone() };
                classify(measure(&base, Some(failure), &m), &baseline)
            })
            .collect();
        let mut report = assemble(scenario, &nodes, baseline, node_entries, link_entries);
        add_machines(&mut report, machine_entries);
        report
    }

    /// Step by hand, checking the progress the page shows along the way.
    fn analyse_step_by_step(scenario: &Scenario) -> SpofReport {
        let mut analysis = SpofAnalysis::new(scenario);
        let (done, total, next) = analysis.progress();
        assert_eq!((done, next.as_deref()), (0, Some("normal operation")), "the baseline comes first");
        let mut steps = 0;
        loop {
            let more = analysis.step();
            steps += 1;
            let (done, total_now, next) = analysis.progress();
            assert_eq!((done, total_now), (steps, total), "one measurement per step, the total fixed");
            assert_eq!(more, next.is_some(), "step() says whether there is a next measurement");
            if !more {
                break;
            }
        }
        assert!(!analysis.step(), "a finished analysis does nothing more");
        assert_eq!(analysis.progress().0, total);
        analysis.finish()
    }

    #[test]
    fn the_stepped_analysis_gives_the_same_report_as_the_one_go_analysis() {
        for name in ["three-server", "high-availability"] {
            let mut scenario = preset(name).expect("preset");
            // Rates set, so the availability estimate is not just 1.
            scenario.failures.lb = FailureRate { mtbf_s: 3600.0, mttr_s: 60.0 };
            scenario.failures.db = FailureRate { mtbf_s: 7200.0, mttr_s: 120.0 };
            let reference = analyse_in_one_go(&scenario);
            assert_eq!(analyse_step_by_step(&scenario), reference, "{name}, stepped by hand");
            assert_eq!(analyse(&scenario), reference, "{name}, through analyse()");
            // In slices of a few hundred events (an odd number, so slices end mid-phase).
            let mut sliced = SpofAnalysis::new(&scenario);
            let (mut last_s, total_s) = sliced.simulated_s();
            assert_eq!(total_s, sliced.progress().1 as f64 * MEASUREMENT_S);
            let mut mid_measurement = 0;
            while sliced.step_events(997) {
                let (done_s, _) = sliced.simulated_s();
                assert!(done_s >= last_s && done_s <= total_s, "{name}: {last_s} then {done_s} of {total_s}");
                mid_measurement += usize::from(done_s % MEASUREMENT_S != 0.0);
                last_s = done_s;
            }
            assert!(mid_measurement > 0, "{name}: progress moved within a measurement");
            assert_eq!(sliced.simulated_s().0, total_s);
            assert_eq!(sliced.finish(), reference, "{name}, stepped in slices of 997 events");
            // finish() alone does every measurement left.
            let mut partly_done = SpofAnalysis::new(&scenario);
            partly_done.step();
            partly_done.step();
            assert_eq!(partly_done.finish(), reference, "{name}, finished after two steps");
        }
    }

    #[test]
    fn the_course_design_is_checked_in_twenty_one_steps_naming_each_target() {
        let mut analysis = SpofAnalysis::new(&preset("three-server").expect("preset"));
        let mut names = Vec::new();
        while let (_, _, Some(next)) = analysis.progress() {
            names.push(next);
            analysis.step();
        }
        // The baseline, 6 nodes and 2 application servers, 9 links, then the 3 machines each
        // failed whole.
        assert_eq!(names.len(), 21, "{names:?}");
        assert_eq!(&names[..3], ["normal operation", "dns", "lb1"]);
        assert_eq!(&names[7..9], ["app1", "app2"]);
        assert_eq!(names[17], "db1-db2");
        assert_eq!(&names[18..], ["balancer1", "server1", "server2"]);
        let report = analysis.finish();
        assert_eq!(
            report.single_points_of_failure,
            ["lb1", "db1", "db2", "clients-lb1", "balancer1", "server1", "server2"]
        );
    }
}
