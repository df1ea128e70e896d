//! The native batch runner: the same model as the page, scenario in, JSON metrics out.
//!
//! Exit codes: 0 success, 2 bad input (unknown preset, key or value; bad scenario file).

use clap::{Parser, Subcommand};
use infrasim::export::cli as export_cli;
use infrasim::scenario::parse_fault;
use infrasim::scenario::{self, apply_setting, preset, preset_names, setting_docs, Scenario, PRESETS, PRESET_ALIASES};
use infrasim::sim::time::from_s;
use infrasim::sim::SimTime;
use infrasim::sim::{Report, Sim, TraceConfig};

#[derive(Parser)]
#[command(name = "infrasim", version, about = "Simulate the www.foobar.com infrastructure: scenario in, metrics out")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

/// Where the scenario comes from, shared by `run` and `spof`.
#[derive(clap::Args)]
struct ScenarioArgs {
    /// Start from this preset (see `infrasim presets`; default three-server).
    #[arg(long, conflicts_with = "scenario")]
    preset: Option<String>,
    /// Start from this scenario JSON file instead of a preset.
    #[arg(long)]
    scenario: Option<std::path::PathBuf>,
    /// Change one setting, `key=value`; repeatable (see `infrasim show --keys`).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Seed of the random generator.
    #[arg(long)]
    seed: Option<u64>,
    /// Take the balancer and its servers from this haproxy.cfg (applied before --set).
    #[arg(long, value_name = "FILE")]
    haproxy: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a scenario and print its metrics.
    ///
    /// Refused (exit 2) when it would simulate more than 500000000 requests and checks
    /// (about rate × duration). Runs longer than 2 s report progress on stderr.
    Run {
        #[command(flatten)]
        scenario: ScenarioArgs,
        /// Inject a fault, `TIME:ACTION:TARGET`: `30s:kill:web1`, `45s:restore:web1`,
        /// `60s:rebuild:db1`, `10s:slow=4:web2`, `20s:cut:lb1-lb2`, `50s:heal:lb1-lb2`; repeatable.
        #[arg(long = "fault", value_name = "T:ACTION:TARGET")]
        faults: Vec<String>,
        /// Simulated seconds to run.
        #[arg(long, default_value_t = 60.0)]
        duration_s: f64,
        /// Print one JSON object (otherwise a short summary).
        #[arg(long)]
        json: bool,
        /// Also print the event trace, one line per event, to stderr.
        #[arg(long)]
        trace: bool,
    },
    /// Fail each node and link in turn and report what it does to the site, as JSON.
    ///
    /// Refused (exit 2) when it would simulate more than 500000000 requests and checks (about
    /// rate × 80 s × the number of measurements). Progress on stderr after 2 s.
    Spof {
        #[command(flatten)]
        scenario: ScenarioArgs,
    },
    /// Write the design as real configuration files: haproxy.cfg, keepalived, Nginx, my.cnf.
    Export {
        #[command(flatten)]
        scenario: ScenarioArgs,
        /// Directory to write the files into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: std::path::PathBuf,
    },
    /// Print the scenario JSON that an existing haproxy.cfg describes.
    Import {
        /// The haproxy.cfg to read.
        #[arg(long, value_name = "FILE")]
        haproxy: std::path::PathBuf,
        /// Everything the file does not describe comes from this preset.
        #[arg(long, default_value = "three-server")]
        preset: String,
    },
    /// Run the cross product of --vary settings, each cell with several seeds, on every core;
    /// one row per cell: latency with 95 % intervals over seeds, throughput, availability,
    /// failures by cause, and queueing theory's figure where it covers the design.
    ///
    /// Refused (exit 2) above 10000 runs (cells × seeds) or 500000000 simulated requests and
    /// checks in all. Progress on stderr after 2 s; Ctrl-C prints the cells that finished (exit 130).
    Sweep {
        #[command(flatten)]
        scenario: ScenarioArgs,
        /// `KEY=V1,V2,…` or `KEY=FROM..TO:STEP`, a key of `infrasim show --keys`; repeatable
        /// (up to 4), the first varies slowest.
        #[arg(long = "vary", value_name = "KEY=VALUES", required = true)]
        vary: Vec<String>,
        /// Seeds per cell, 1 to 1000: the scenario's seed and the ones after it.
        #[arg(long, default_value_t = 5)]
        seeds: u32,
        /// Worker threads, 1 to 256 (default: every core).
        #[arg(long)]
        jobs: Option<usize>,
        /// Simulated seconds per run.
        #[arg(long, default_value_t = 60.0)]
        duration_s: f64,
        /// Print one JSON object.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Print CSV, one line per cell.
        #[arg(long)]
        csv: bool,
        /// Also draw mean latency against the first --vary key, a curve per value of the second.
        #[arg(long, value_name = "FILE")]
        svg: Option<std::path::PathBuf>,
    },
    /// List the presets.
    Presets,
    /// Print a scenario's full JSON (a preset, or a scenario file, with any --set applied); with
    /// --keys every settable key with its value; with --machines its machines.
    Show {
        #[command(flatten)]
        scenario: ScenarioArgs,
        /// Document every `--set` key: value in this scenario, unit, allowed values, meaning.
        #[arg(long, conflicts_with = "machines")]
        keys: bool,
        /// List the machines: each with its cores and the components it runs, the ones no
        /// machine names included (each on a machine of its own).
        #[arg(long)]
        machines: bool,
        /// With --machines: print them as JSON.
        #[arg(long, requires = "machines")]
        json: bool,
    },
    /// Measure simulated requests per wall-clock second (M/M/2, λ = 150/s, μ = 100/s).
    Bench {
        /// Requests to simulate, 1 to 500000000.
        #[arg(long, default_value_t = 5_000_000)]
        requests: u64,
    },
    /// Run for hours of simulated time and print memory each hour: memory stays flat
    /// however long the model runs.
    Soak {
        #[command(flatten)]
        scenario: ScenarioArgs,
        /// Simulated hours, more than 0 up to 720, and at most 500000000 simulated requests and
        /// checks (rate × hours × 3600).
        #[arg(long, default_value_t = 24.0)]
        hours: f64,
    },
}

mod limits;
mod output;
mod progress;
mod sweep;
mod sweep_stats;
mod sweep_svg;

use output::{run_with_stdout, warn, Outcome};
use progress::Progress;
use std::io::{self, Write};

fn fail(message: impl std::fmt::Display) -> i32 {
    warn(message);
    2
}

fn load_preset(name: &str) -> Result<Scenario, String> {
    preset(name).ok_or_else(|| format!("unknown preset '{name}'; allowed: {}", preset_names().join(", ")))
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            let _ = e.print();
            return 2;
        }
        // --help and --version: their output can meet a closed or full stdout too.
        Err(e) => return output::exit_code(e.print().map(|()| 0)),
    };
    run_with_stdout(|out| match cli.command {
        Cmd::Presets => presets(out),
        Cmd::Show { scenario, keys, machines, json } => show(&scenario, ShowWhat { keys, machines, json }, out),
        Cmd::Run { scenario, faults, duration_s, json, trace } => {
            run(&scenario, &faults, duration_s, RunOutput { json, trace }, out)
        }
        Cmd::Spof { scenario } => spof(&scenario, out),
        Cmd::Sweep { scenario, vary, seeds, jobs, duration_s, json, csv, svg } => {
            let format = if json {
                sweep::Format::Json
            } else if csv {
                sweep::Format::Csv
            } else {
                sweep::Format::Table
            };
            let args = sweep::SweepArgs { vary, seeds, jobs, duration_s, format, svg };
            match load_scenario(&scenario) {
                Ok(s) => sweep::sweep(&s, &args, out).unwrap_or_else(|e| Ok(fail(e))),
                Err(code) => Ok(code),
            }
        }
        Cmd::Bench { requests } => bench(requests, out),
        Cmd::Export { scenario, out: dir } => export(&scenario, &dir, out),
        Cmd::Import { haproxy, preset } => import(&haproxy, &preset, out),
        Cmd::Soak { scenario, hours } => match load_scenario(&scenario) {
            Ok(s) => soak(s, hours, out),
            Err(code) => Ok(code),
        },
    })
}

fn export(args: &ScenarioArgs, dir: &std::path::Path, out: &mut dyn Write) -> Outcome {
    let s = match load_scenario(args) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    match export_cli::export_to_dir(&s, dir) {
        Ok(paths) => {
            for p in paths {
                writeln!(out, "{}", p.display())?;
            }
            Ok(0)
        }
        Err(e) => Ok(fail(e)),
    }
}

fn import(haproxy: &std::path::Path, preset: &str, out: &mut dyn Write) -> Outcome {
    let base = match load_preset(preset) {
        Ok(s) => s,
        Err(e) => return Ok(fail(e)),
    };
    match export_cli::import_file(haproxy, &base) {
        Ok(imported) => {
            export_cli::report_unsimulated(haproxy, &imported);
            writeln!(out, "{}", imported.scenario.to_json_pretty())?;
            Ok(0)
        }
        Err(e) => Ok(fail(e)),
    }
}

fn presets(out: &mut dyn Write) -> Outcome {
    for p in PRESETS {
        writeln!(out, "{:<24} {}", p.name, p.summary)?;
    }
    for (old, now) in PRESET_ALIASES {
        writeln!(out, "{old:<24} the old name of {now}, still accepted")?;
    }
    Ok(0)
}

/// What `show` prints: the scenario JSON unless one of these says otherwise.
struct ShowWhat {
    keys: bool,
    machines: bool,
    json: bool,
}

fn show(args: &ScenarioArgs, what: ShowWhat, out: &mut dyn Write) -> Outcome {
    let s = match load_scenario(args) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    if what.keys {
        print_keys(&s, out)?;
    } else if what.machines && what.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&s.placement()).unwrap_or_default())?;
    } else if what.machines {
        print_machines(&s, out)?;
    } else {
        writeln!(out, "{}", s.to_json_pretty())?;
    }
    Ok(0)
}

/// One line per machine: its id, its cores, and each component with the program it is.
fn print_machines(s: &Scenario, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{:<20} {:<10} runs", "machine", "cores")?;
    for m in s.placement() {
        let cores = match m.cores {
            scenario::Cores::Count(n) => n.to_string(),
            scenario::Cores::Dedicated => "dedicated".into(),
        };
        let runs: Vec<String> = m.components.iter().map(|c| format!("{c} ({})", c.kind.program())).collect();
        writeln!(out, "{:<20} {:<10} {}", m.id, cores, runs.join(", "))?;
    }
    Ok(())
}

/// What `run` prints besides its result: the JSON or the summary, and the trace.
struct RunOutput {
    json: bool,
    trace: bool,
}

/// Events the `--trace` buffer may hold: it is drained after every event, which records a
/// handful, so this is never reached (and the count of lost events would say so if it were).
const TRACE_BUFFER_EVENTS: usize = 4_096;

fn run(args: &ScenarioArgs, faults: &[String], duration_s: f64, print: RunOutput, out: &mut dyn Write) -> Outcome {
    let s = match load_scenario(args) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    if let Err(e) = scenario::check_run_length(&s, duration_s) {
        return Ok(fail(e));
    }
    let work = limits::expected_work(&s, duration_s);
    let asked = format!("--duration-s {duration_s} at {} requests/s", s.traffic.arrival_rate_per_s);
    if let Err(e) = limits::check_work("run", work, &asked) {
        return Ok(fail(e));
    }
    let mut sim = Sim::new(s, TraceConfig { enabled: print.trace, capacity: TRACE_BUFFER_EVENTS });
    for text in faults {
        let command = match parse_fault(text) {
            Ok(c) if c.at_us >= from_s(duration_s) => {
                return Ok(fail(format!("--fault {text}: at or after the run's end ({duration_s} s)")))
            }
            Ok(c) => c,
            Err(e) => return Ok(fail(format!("--fault {text}: {e}"))),
        };
        if let Err(e) = sim.apply(command) {
            return Ok(fail(format!("--fault {text}: {e}")));
        }
    }
    let until = from_s(duration_s);
    if print.trace {
        run_traced(&mut sim, until)?;
    } else {
        let mut progress = Progress::new("run", "simulated s", duration_s);
        run_watched(&mut sim, until, &mut progress);
    }
    let report = Report::from_sim(&sim);
    if print.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report).unwrap_or_default())?;
    } else {
        print_summary(&report, out)?;
    }
    Ok(0)
}

/// Model events between two looks at the wall clock (a few milliseconds of work).
const EVENTS_PER_CHECK: u64 = 20_000;

/// Run to `until` in slices, reporting progress in simulated seconds.
fn run_watched(sim: &mut Sim, until: SimTime, progress: &mut Progress) {
    while !sim.run_until(until, EVENTS_PER_CHECK) {
        progress.update(sim.now() as f64 / 1e6);
    }
}

/// Run to `until` writing each trace event to stderr as it is made (no progress lines: they
/// would mix with the trace). A closed stderr ends the command like a closed stdout.
fn run_traced(sim: &mut Sim, until: SimTime) -> io::Result<()> {
    let mut err = io::BufWriter::new(io::stderr().lock());
    let mut sink = |event: &infrasim::sim::trace::TraceEvent| writeln!(err, "{event}");
    infrasim::sim::trace::run_streaming(sim, until, u64::MAX, &mut sink)?;
    err.flush()?;
    drop(err);
    let dropped = sim.trace.dropped();
    if dropped > 0 {
        warn(format_args!("trace: {dropped} events were lost (more than {TRACE_BUFFER_EVENTS} in one step)"));
    }
    Ok(())
}

fn spof(args: &ScenarioArgs, out: &mut dyn Write) -> Outcome {
    let s = match load_scenario(args) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let mut analysis = infrasim::sim::spof::SpofAnalysis::new(&s);
    let (_, measurements, _) = analysis.progress();
    let measurement_s = infrasim::sim::spof::MEASUREMENT_S;
    let work = limits::expected_work(&s, measurement_s) * measurements as f64;
    let asked =
        format!("{measurements} measurements of {measurement_s} s at {} requests/s", s.traffic.arrival_rate_per_s);
    if let Err(e) = limits::check_work("spof", work, &asked) {
        return Ok(fail(e));
    }
    // In simulated seconds, stepped in slices: one measurement at 100,000 requests/s takes
    // about half a minute, which a count of measurements would leave silent.
    let mut progress = Progress::new("spof", "simulated s", analysis.simulated_s().1);
    while analysis.step_events(EVENTS_PER_CHECK) {
        progress.update(analysis.simulated_s().0);
    }
    let report = analysis.finish();
    writeln!(out, "{}", serde_json::to_string_pretty(&report).unwrap_or_default())?;
    Ok(0)
}

fn print_keys(s: &Scenario, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{:<30} {:<14} {:<12} {:<48} meaning", "key", "value", "unit", "allowed")?;
    for d in setting_docs() {
        // Written as `--set` reads it back; "(differs)" when the web servers disagree.
        let value = scenario::setting_value(s, d.key).unwrap_or_else(|| "(differs)".into());
        writeln!(out, "{:<30} {:<14} {:<12} {:<48} {}", d.key, value, d.unit, d.allowed, d.meaning)?;
    }
    Ok(())
}

fn print_summary(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "scenario {} seed {} over {:.1} s (warm-up {:.1} s)", r.scenario, r.seed, r.duration_s, r.warmup_s)?;
    writeln!(
        out,
        "requests: {} arrived, {} completed, {} failed, {} in flight",
        r.requests.arrived, r.requests.completed, r.requests.failed, r.requests.in_flight
    )?;
    for (cause, n) in &r.requests.failed_by_cause {
        if *n > 0 {
            writeln!(out, "  failed {cause}: {n}")?;
        }
    }
    let l = &r.latency_ms;
    writeln!(
        out,
        "latency ms: mean {:.2} p50 {:.2} p95 {:.2} p99 {:.2} max {:.2}",
        l.mean, l.p50, l.p95, l.p99, l.max
    )?;
    writeln!(out, "throughput {:.1}/s, fairness (Jain) {:.3}", r.throughput_per_s, r.fairness_jain)?;
    for s in &r.by_server {
        writeln!(
            out,
            "  {:<6} weight {:>3} completed {:>8} utilization {:.3}",
            s.id, s.weight, s.completed, s.utilization
        )?;
    }
    Ok(())
}

/// M/M/2 with a shared queue: the queue-lab preset, two servers, maxconn 1, λ = 150/s, 10 ms.
/// Runs until exactly `requests` have completed, so the figure is right for any count.
fn bench(requests: u64, out: &mut dyn Write) -> Outcome {
    if let Err(e) = limits::check_bench_requests(requests) {
        return Ok(fail(e));
    }
    let mut sim = Sim::new(scenario::benchmark_mm2(), TraceConfig { enabled: false, capacity: 1 });
    let mut progress = Progress::new("bench", "requests", requests as f64);
    let start = std::time::Instant::now();
    // One request completes per event at most, so stepping stops exactly at `requests`.
    while sim.metrics.all.completed < requests && sim.step() {
        if sim.events_processed() % EVENTS_PER_CHECK == 0 {
            progress.update(sim.metrics.all.completed as f64);
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let done = sim.metrics.all.completed;
    writeln!(
        out,
        "{{\"workload\":\"M/M/2 lambda=150/s mu=100/s\",\"requests\":{done},\"events\":{},\"wall_s\":{wall:.6},\"requests_per_wall_s\":{:.0}}}",
        sim.events_processed(),
        done as f64 / wall.max(1e-9)
    )?;
    Ok(0)
}

/// Resident memory of this process in KiB (Linux), for the soak run.
fn rss_kib() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4)
}

fn soak(s: Scenario, hours: f64, out: &mut dyn Write) -> Outcome {
    if !(hours > 0.0 && hours <= 24.0 * 30.0) {
        return Ok(fail(format!("--hours {hours}: allowed more than 0 up to 720")));
    }
    if let Err(e) = scenario::check_warmup(&s, hours * 3_600.0, &format!("--hours {hours} ({} s)", hours * 3_600.0)) {
        return Ok(fail(e));
    }
    let asked = format!("--hours {hours} at {} requests/s", s.traffic.arrival_rate_per_s);
    if let Err(e) = limits::check_work("soak", limits::expected_work(&s, hours * 3_600.0), &asked) {
        return Ok(fail(e));
    }
    // The page's trace settings: a bounded ring of the newest events.
    let mut sim = Sim::new(s, TraceConfig { enabled: true, capacity: 2_000 });
    let mut progress = Progress::new("soak", "simulated s", hours * 3_600.0);
    let start = std::time::Instant::now();
    let whole_hours = hours.ceil() as u64;
    for hour in 1..=whole_hours {
        let until = from_s((hour as f64).min(hours) * 3_600.0);
        run_watched(&mut sim, until, &mut progress);
        writeln!(
            out,
            "{{\"sim_hours\":{:.2},\"requests\":{},\"in_flight\":{},\"rss_kib\":{},\"wall_s\":{:.1}}}",
            until as f64 / 3.6e9,
            sim.metrics.all.arrived,
            sim.live_requests(),
            rss_kib().unwrap_or(0),
            start.elapsed().as_secs_f64()
        )?;
        // Each hour's line is news: show it now, not when the run ends.
        out.flush()?;
    }
    Ok(0)
}

/// The scenario named by the arguments, with every `--set` applied and validated.
/// Err carries the exit code (2) after printing what is wrong.
fn load_scenario(args: &ScenarioArgs) -> Result<Scenario, i32> {
    let mut s = match &args.scenario {
        Some(path) => match scenario::read_limited(path) {
            Ok(text) => match Scenario::from_json(&text) {
                Ok(s) => s,
                Err(problems) => {
                    for p in &problems {
                        warn(format_args!("{}: {p}", path.display()));
                    }
                    return Err(2);
                }
            },
            Err(e) => return Err(fail(format!("cannot read {}: {e}", path.display()))),
        },
        None => load_preset(args.preset.as_deref().unwrap_or("three-server")).map_err(fail)?,
    };
    if let Some(path) = &args.haproxy {
        let imported = export_cli::import_file(path, &s).map_err(fail)?;
        export_cli::report_unsimulated(path, &imported);
        s = imported.scenario;
    }
    for kv in &args.set {
        let Some((key, value)) = kv.split_once('=') else {
            return Err(fail(format!("--set {kv}: expected key=value")));
        };
        apply_setting(&mut s, key.trim(), value).map_err(fail)?;
    }
    if let Some(seed) = args.seed {
        s.seed = seed;
    }
    let problems = s.validate();
    if !problems.is_empty() {
        for p in scenario::cap_problems(problems) {
            warn(p);
        }
        return Err(2);
    }
    Ok(s)
}
