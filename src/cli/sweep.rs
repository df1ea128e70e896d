//! `infrasim sweep`: the cross product of `--vary` settings, each cell run with several seeds on
//! every core, one row per cell with confidence intervals over the seeds and, where queueing
//! theory covers the design, the formula's figure beside the measured one.
//!
//! Memory is bounded: a run leaves a handful of numbers (its `Report` is dropped at once), and
//! the runs are at most [`MAX_RUNS`]. Ctrl-C stops the runs under way and prints the cells whose
//! seeds had all finished.

use super::limits;
use super::output::{warn, Outcome};
use super::progress::Progress;
use super::sweep_stats::{ci95_half_width, mean, CellRow, SeedResult, Stat, TheoryColumns};
use infrasim::scenario::{self, apply_setting, setting, Allowed, Scenario};
use infrasim::sim::time::from_s;
use infrasim::sim::{theory, Report, Sim, TraceConfig};
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// The most runs (cells × seeds) one sweep may ask for: each leaves about 200 bytes, and a run
/// costs a process start's worth of setup at least, so more is a mistake rather than a study.
pub const MAX_RUNS: usize = 10_000;
/// The most values one `--vary` key may take (a range is counted before it is expanded).
pub const MAX_VALUES_PER_KEY: usize = 1_000;
/// The most `--vary` keys.
pub const MAX_VARY_KEYS: usize = 4;
/// The most seeds per cell.
pub const MAX_SEEDS: u32 = 1_000;
/// The most worker threads.
pub const MAX_JOBS: usize = 256;

/// Model events a worker runs between two looks at the Ctrl-C flag (a few milliseconds).
const EVENTS_PER_CHECK: u64 = 20_000;

/// Set by Ctrl-C: the workers stop, what finished is printed.
static STOP: AtomicBool = AtomicBool::new(false);

/// One `--vary`: a key of the settings table and the values it takes, as `--set` reads them.
#[derive(Clone, Debug)]
pub struct Vary {
    pub key: &'static str,
    pub values: Vec<String>,
}

/// What the user asked for, checked.
pub struct SweepArgs {
    pub vary: Vec<String>,
    pub seeds: u32,
    pub jobs: Option<usize>,
    pub duration_s: f64,
    pub format: Format,
    pub svg: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// One cell of the cross product: its settings and the scenario they make.
pub struct Cell {
    pub settings: Vec<(&'static str, String)>,
    pub scenario: Scenario,
}

/// Read `KEY=V1,V2,…` or `KEY=FROM..TO:STEP`; the key must be in the settings table.
pub fn parse_vary(text: &str) -> Result<Vary, String> {
    let Some((key, values)) = text.split_once('=') else {
        return Err(format!("--vary {text}: expected KEY=V1,V2,… or KEY=FROM..TO:STEP"));
    };
    let key = key.trim();
    let Some(row) = setting(key) else {
        return Err(format!("--vary {text}: unknown key '{key}' (see `infrasim show --keys`)"));
    };
    // Values are split at commas, so a key whose one value is a comma list cannot be varied.
    let is_list = matches!(row.allowed, Allowed::List) || row.note.starts_with("comma list");
    if is_list || key == "seed" {
        let why = if key == "seed" { "use --seeds and --seed" } else { "its value is a list" };
        return Err(format!("--vary {text}: {key} cannot be varied ({why})"));
    }
    let values = match values.split_once("..") {
        Some((from, rest)) => expand_range(text, from, rest)?,
        None => values.split(',').map(|v| v.trim().to_string()).collect(),
    };
    if values.iter().any(String::is_empty) {
        return Err(format!("--vary {text}: an empty value"));
    }
    if values.len() > MAX_VALUES_PER_KEY {
        return Err(format!("--vary {text}: {} values; at most {MAX_VALUES_PER_KEY} per key", values.len()));
    }
    Ok(Vary { key: row.key, values })
}

/// `FROM..TO:STEP` (after `FROM..` has been split off): FROM, FROM+STEP, … up to TO.
fn expand_range(text: &str, from: &str, rest: &str) -> Result<Vec<String>, String> {
    let bad = |why: &str| format!("--vary {text}: {why}; a range is FROM..TO:STEP, e.g. 50..150:25");
    let (to, step) = rest.split_once(':').ok_or_else(|| bad("no :STEP"))?;
    let number = |t: &str| t.trim().parse::<f64>().ok().filter(|v| v.is_finite());
    let (Some(from), Some(to), Some(step)) = (number(from), number(to), number(step)) else {
        return Err(bad("FROM, TO and STEP must be numbers"));
    };
    if step <= 0.0 || to < from {
        return Err(bad("STEP must be above 0 and TO at least FROM"));
    }
    // A small allowance so 0.1..0.3:0.1 includes 0.3 despite rounding.
    let count = ((to - from) / step + 1e-9).floor() + 1.0;
    if count > MAX_VALUES_PER_KEY as f64 {
        return Err(format!("--vary {text}: {count:.0} values; at most {MAX_VALUES_PER_KEY} per key"));
    }
    // Rounded to 9 decimals, so 0.1 + 2 × 0.1 is written 0.3.
    Ok((0..count as usize).map(|i| ((from + i as f64 * step) * 1e9).round() / 1e9).map(|v| v.to_string()).collect())
}

/// Every cell of the cross product, each value applied through `--set`'s path and the scenario
/// validated; the first key varies slowest.
pub fn build_cells(base: &Scenario, varies: &[Vary]) -> Result<Vec<Cell>, String> {
    if varies.is_empty() {
        return Err("sweep: give at least one --vary KEY=V1,V2,…".into());
    }
    if varies.len() > MAX_VARY_KEYS {
        return Err(format!("sweep: {} --vary keys; at most {MAX_VARY_KEYS}", varies.len()));
    }
    if let Some(v) = varies.iter().enumerate().find_map(|(i, v)| varies[..i].iter().find(|w| w.key == v.key)) {
        return Err(format!("sweep: --vary {} given twice", v.key));
    }
    let cells: f64 = varies.iter().map(|v| v.values.len() as f64).product();
    if cells > MAX_RUNS as f64 {
        return Err(format!("sweep: {cells:.0} cells; at most {MAX_RUNS} runs (cells × seeds)"));
    }
    let mut out = vec![Cell { settings: Vec::new(), scenario: base.clone() }];
    for vary in varies {
        let mut next = Vec::with_capacity(out.len() * vary.values.len());
        for cell in &out {
            for value in &vary.values {
                let mut s = cell.scenario.clone();
                apply_setting(&mut s, vary.key, value).map_err(|e| format!("--vary {}={value}: {e}", vary.key))?;
                let mut settings = cell.settings.clone();
                settings.push((vary.key, value.clone()));
                next.push(Cell { settings, scenario: s });
            }
        }
        out = next;
    }
    for cell in &out {
        if let Some(p) = cell.scenario.validate().first() {
            return Err(format!("sweep: the cell {}: {p}", describe(&cell.settings)));
        }
    }
    Ok(out)
}

/// `key=value key2=value2`, for messages.
pub fn describe(settings: &[(&'static str, String)]) -> String {
    settings.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
}

/// Refuse more than [`MAX_RUNS`] runs or more simulated work than any one command may do.
pub fn check_size(cells: &[Cell], seeds: u32, duration_s: f64) -> Result<(), String> {
    if !(1..=MAX_SEEDS).contains(&seeds) {
        return Err(format!("--seeds {seeds}: allowed 1 to {MAX_SEEDS}"));
    }
    let runs = cells.len() * seeds as usize;
    if runs > MAX_RUNS {
        return Err(format!(
            "sweep: {} cells × {seeds} seeds = {runs} runs; the limit is {MAX_RUNS} (fewer values or seeds)",
            cells.len()
        ));
    }
    for cell in cells {
        scenario::check_run_length(&cell.scenario, duration_s)
            .map_err(|e| format!("sweep: the cell {}: {e}", describe(&cell.settings)))?;
    }
    let work: f64 = cells.iter().map(|c| limits::expected_work(&c.scenario, duration_s)).sum::<f64>() * seeds as f64;
    let asked = format!("{runs} runs of --duration-s {duration_s}");
    limits::check_work("sweep", work, &asked)
}

/// Worker threads: `--jobs`, or every core.
fn job_count(jobs: Option<usize>) -> Result<usize, String> {
    match jobs {
        Some(n) if (1..=MAX_JOBS).contains(&n) => Ok(n),
        Some(n) => Err(format!("--jobs {n}: allowed 1 to {MAX_JOBS}")),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

/// `infrasim sweep`: check everything, run, print.
pub fn sweep(base: &Scenario, args: &SweepArgs, out: &mut dyn Write) -> Result<Outcome, String> {
    let varies: Vec<Vary> = args.vary.iter().map(|v| parse_vary(v)).collect::<Result<_, _>>()?;
    let cells = build_cells(base, &varies)?;
    check_size(&cells, args.seeds, args.duration_s)?;
    let jobs = job_count(args.jobs)?;
    if args.svg.is_some() {
        super::sweep_svg::check_drawable(&varies)?;
    }
    // Ctrl-C from now on stops the sweep instead of the process (a second handler cannot be set,
    // which only happens when a test calls this twice in one process).
    let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst));
    let results = run_all(&cells, args.seeds, args.duration_s, jobs);
    let interrupted = STOP.load(Ordering::SeqCst);
    let rows = rows(&cells, results, args.seeds);
    if interrupted {
        warn(format_args!("sweep: interrupted; {} of {} cells finished, printed below", rows.len(), cells.len()));
    }
    if let Some(path) = &args.svg {
        let svg = super::sweep_svg::draw(&varies, &rows);
        std::fs::write(path, svg).map_err(|e| format!("--svg {}: cannot write: {e}", path.display()))?;
    }
    let written = match args.format {
        Format::Json => super::sweep_stats::write_json(&rows, args, cells.len(), out),
        Format::Csv => super::sweep_stats::write_csv(&varies, &rows, out),
        Format::Table => super::sweep_stats::write_table(&varies, &rows, out),
    };
    Ok(written.map(|()| if interrupted { 130 } else { 0 }))
}

/// Run every (cell, seed) on `jobs` threads; results by cell, each in seed order.
fn run_all(cells: &[Cell], seeds: u32, duration_s: f64, jobs: usize) -> Vec<Vec<Option<SeedResult>>> {
    let total = cells.len() * seeds as usize;
    // Longest runs first, so the last runs to finish are short and no core idles long at the end.
    let work: Vec<f64> = cells.iter().map(|c| limits::expected_work(&c.scenario, duration_s)).collect();
    let mut order: Vec<usize> = (0..total).collect();
    order.sort_by(|a, b| work[b / seeds as usize].total_cmp(&work[a / seeds as usize]));
    let next = AtomicUsize::new(0);
    let mut results: Vec<Vec<Option<SeedResult>>> = cells.iter().map(|_| vec![None; seeds as usize]).collect();
    let (send, receive) = mpsc::channel::<(usize, SeedResult)>();
    let mut progress = Progress::new("sweep", "runs", total as f64);
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(total) {
            let send = send.clone();
            let (next, order) = (&next, &order);
            scope.spawn(move || loop {
                let taken = next.fetch_add(1, Ordering::SeqCst);
                if taken >= total || STOP.load(Ordering::SeqCst) {
                    break;
                }
                let job = order[taken];
                let cell = &cells[job / seeds as usize];
                let seed_index = job % seeds as usize;
                let Some(result) = run_one(&cell.scenario, seed_index as u64, duration_s) else { break };
                if send.send((job, result)).is_err() {
                    break;
                }
            });
        }
        drop(send);
        let mut done = 0;
        loop {
            match receive.recv_timeout(Duration::from_millis(200)) {
                Ok((job, result)) => {
                    results[job / seeds as usize][job % seeds as usize] = Some(result);
                    done += 1;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            progress.update(done as f64);
        }
    });
    results
}

/// One run of a cell with its `seed_index`-th seed; `None` when Ctrl-C stopped it.
fn run_one(base: &Scenario, seed_index: u64, duration_s: f64) -> Option<SeedResult> {
    let mut s = base.clone();
    s.seed = base.seed.wrapping_add(seed_index);
    let mut sim = Sim::new(s, TraceConfig { enabled: false, capacity: 1 });
    let until = from_s(duration_s);
    while !sim.run_until(until, EVENTS_PER_CHECK) {
        if STOP.load(Ordering::SeqCst) {
            return None;
        }
    }
    Some(SeedResult::from_report(&Report::from_sim(&sim)))
}

/// One row per cell whose seeds all finished, in cell order.
fn rows(cells: &[Cell], results: Vec<Vec<Option<SeedResult>>>, seeds: u32) -> Vec<CellRow> {
    cells
        .iter()
        .zip(results)
        .filter_map(|(cell, runs)| {
            let runs: Vec<SeedResult> = runs.into_iter().collect::<Option<_>>()?;
            Some(cell_row(cell, &runs, seeds))
        })
        .collect()
}

fn cell_row(cell: &Cell, runs: &[SeedResult], seeds: u32) -> CellRow {
    let stat = |f: fn(&SeedResult) -> f64| {
        let values: Vec<f64> = runs.iter().map(f).collect();
        Stat { value: mean(&values), ci95: ci95_half_width(&values) }
    };
    let mean_ms = stat(|r| r.mean_ms);
    let mut failed_by_cause = std::collections::BTreeMap::new();
    for r in runs {
        for (cause, n) in &r.failed_by_cause {
            *failed_by_cause.entry(*cause).or_insert(0) += n;
        }
    }
    let arrived: u64 = runs.iter().map(|r| r.arrived).sum();
    let failed: u64 = runs.iter().map(|r| r.failed).sum();
    let known: Vec<f64> = runs.iter().filter_map(|r| r.availability).collect();
    let theory = match theory::predict(&cell.scenario) {
        Ok(p) => TheoryColumns::Covered {
            prediction: p,
            difference_pct: 100.0 * (mean_ms.value - p.mean_latency_ms) / p.mean_latency_ms,
        },
        Err(why) => TheoryColumns::NotCovered(why),
    };
    CellRow {
        settings: cell.settings.clone(),
        seeds,
        mean_ms,
        p50_ms: stat(|r| r.p50_ms),
        p95_ms: stat(|r| r.p95_ms),
        p99_ms: stat(|r| r.p99_ms),
        throughput_per_s: stat(|r| r.throughput_per_s),
        availability: (!known.is_empty()).then(|| mean(&known)),
        arrived,
        completed: runs.iter().map(|r| r.completed).sum(),
        failed,
        failed_share: if arrived > 0 { failed as f64 / arrived as f64 } else { 0.0 },
        failed_by_cause,
        theory,
    }
}
