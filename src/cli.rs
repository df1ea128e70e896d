//! The native batch runner: the same model as the page, scenario in, JSON metrics out.
//!
//! Exit codes: 0 success, 2 bad input (unknown preset, key or value; bad scenario file).

use clap::{Parser, Subcommand};
use infrasim::scenario::{self, apply_setting, preset, preset_names, setting_docs, Scenario, PRESETS};
use infrasim::sim::node::Link;
use infrasim::sim::time::from_s;
use infrasim::sim::{Command, CommandKind, NodeId, Report, Sim, TraceConfig};

#[derive(Parser)]
#[command(name = "infrasim", version, about = "Simulate the www.foobar.com infrastructure: scenario in, metrics out")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

/// Where the scenario comes from, shared by `run` and `spof`.
#[derive(clap::Args)]
struct ScenarioArgs {
    /// Start from this preset (see `infrasim presets`).
    #[arg(long, default_value = "three-server")]
    preset: String,
    /// Start from this scenario JSON file instead of a preset.
    #[arg(long)]
    scenario: Option<std::path::PathBuf>,
    /// Change one setting, `key=value`; repeatable (see `infrasim show --keys`).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Seed of the random generator.
    #[arg(long)]
    seed: Option<u64>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a scenario and print its metrics.
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
    Spof {
        #[command(flatten)]
        scenario: ScenarioArgs,
    },
    /// List the presets.
    Presets,
    /// Print a preset's full scenario JSON, or with --keys every settable key with its value.
    Show {
        #[arg(long, default_value = "three-server")]
        preset: String,
        /// Document every `--set` key: value in this preset, unit, allowed values, meaning.
        #[arg(long)]
        keys: bool,
    },
    /// Measure simulated requests per wall-clock second (M/M/2, λ = 150/s, μ = 100/s).
    Bench {
        /// Requests to simulate.
        #[arg(long, default_value_t = 5_000_000)]
        requests: u64,
    },
    /// Run for hours of simulated time and print memory each hour: memory stays flat
    /// however long the model runs.
    Soak {
        #[command(flatten)]
        scenario: ScenarioArgs,
        #[arg(long, default_value_t = 24.0)]
        hours: f64,
    },
}

fn fail(message: impl std::fmt::Display) -> i32 {
    eprintln!("infrasim: {message}");
    2
}

fn load_preset(name: &str) -> Result<Scenario, String> {
    preset(name).ok_or_else(|| format!("unknown preset '{name}'; allowed: {}", preset_names().join(", ")))
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match cli.command {
        Cmd::Presets => {
            for p in PRESETS {
                println!("{:<24} {}", p.name, p.summary);
            }
            0
        }
        Cmd::Show { preset, keys } => {
            let s = match load_preset(&preset) {
                Ok(s) => s,
                Err(e) => return fail(e),
            };
            if keys {
                print_keys(&s);
            } else {
                println!("{}", s.to_json_pretty());
            }
            0
        }
        Cmd::Run { scenario, faults, duration_s, json, trace } => {
            let s = match load_scenario(&scenario) {
                Ok(s) => s,
                Err(code) => return code,
            };
            if !duration_s.is_finite() || duration_s <= 0.0 || duration_s > 30.0 * 86_400.0 {
                return fail(format!("--duration-s {duration_s}: allowed more than 0 up to 2592000"));
            }
            let mut sim = Sim::new(s, TraceConfig { enabled: trace, capacity: usize::MAX });
            for text in &faults {
                let command = match parse_fault(text) {
                    Ok(c) => c,
                    Err(e) => return fail(format!("--fault {text}: {e}")),
                };
                if let Err(e) = sim.apply(command) {
                    return fail(format!("--fault {text}: {e}"));
                }
            }
            sim.run_until(from_s(duration_s), u64::MAX);
            if trace {
                for line in sim.trace.lines() {
                    eprintln!("{line}");
                }
            }
            let report = Report::from_sim(&sim);
            if json {
                println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            } else {
                print_summary(&report);
            }
            0
        }
        Cmd::Spof { scenario } => {
            let s = match load_scenario(&scenario) {
                Ok(s) => s,
                Err(code) => return code,
            };
            let report = infrasim::sim::spof::analyse(&s);
            println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            0
        }
        Cmd::Bench { requests } => {
            bench(requests);
            0
        }
        Cmd::Soak { scenario, hours } => match load_scenario(&scenario) {
            Ok(s) => soak(s, hours),
            Err(code) => code,
        },
    }
}

fn print_keys(s: &Scenario) {
    let value_of = |key: &str| -> String {
        let v = serde_json::to_value(s).unwrap_or_default();
        let servers = &s.web.servers;
        match key {
            "web.count" => servers.len().to_string(),
            "web.weights" => servers.iter().map(|w| w.weight.to_string()).collect::<Vec<_>>().join(","),
            "balancer.maxconn" => servers.first().map_or(String::new(), |w| w.maxconn.to_string()),
            k if k.starts_with("web.") => {
                let field = &k[4..];
                servers
                    .first()
                    .and_then(|w| serde_json::to_value(w).ok())
                    .map_or(String::new(), |w| w[field].to_string())
            }
            k => {
                let mut cur = &v;
                for part in k.split('.') {
                    cur = &cur[part];
                }
                cur.to_string()
            }
        }
    };
    println!("{:<30} {:<14} {:<12} {:<48} meaning", "key", "value", "unit", "allowed");
    for d in setting_docs() {
        println!("{:<30} {:<14} {:<12} {:<48} {}", d.key, value_of(d.key), d.unit, d.allowed, d.meaning);
    }
}

fn print_summary(r: &Report) {
    println!("scenario {} seed {} over {:.1} s (warm-up {:.1} s)", r.scenario, r.seed, r.duration_s, r.warmup_s);
    println!(
        "requests: {} arrived, {} completed, {} failed, {} in flight",
        r.requests.arrived, r.requests.completed, r.requests.failed, r.requests.in_flight
    );
    for (cause, n) in &r.requests.failed_by_cause {
        if *n > 0 {
            println!("  failed {cause}: {n}");
        }
    }
    let l = &r.latency_ms;
    println!("latency ms: mean {:.2} p50 {:.2} p95 {:.2} p99 {:.2} max {:.2}", l.mean, l.p50, l.p95, l.p99, l.max);
    println!("throughput {:.1}/s, fairness (Jain) {:.3}", r.throughput_per_s, r.fairness_jain);
    for s in &r.by_server {
        println!("  {:<6} weight {:>3} completed {:>8} utilization {:.3}", s.id, s.weight, s.completed, s.utilization);
    }
}

/// M/M/2 with a shared queue: the queue-lab preset, two servers, maxconn 1, λ = 150/s, 10 ms.
fn bench(requests: u64) {
    let s = scenario::benchmark_mm2();
    let rate = s.traffic.arrival_rate_per_s;
    let mut sim = Sim::new(s, TraceConfig { enabled: false, capacity: 1 });
    let sim_s = requests as f64 / rate;
    let start = std::time::Instant::now();
    sim.run_until(from_s(sim_s), u64::MAX);
    let wall = start.elapsed().as_secs_f64();
    let done = sim.metrics.all.completed;
    println!(
        "{{\"workload\":\"M/M/2 lambda=150/s mu=100/s\",\"requests\":{done},\"events\":{},\"wall_s\":{wall:.3},\"requests_per_wall_s\":{:.0}}}",
        sim.events_processed(),
        done as f64 / wall
    );
}

/// Resident memory of this process in KiB (Linux), for the soak run.
fn rss_kib() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4)
}

fn soak(s: Scenario, hours: f64) -> i32 {
    if !(hours > 0.0 && hours <= 24.0 * 30.0) {
        return fail(format!("--hours {hours}: allowed more than 0 up to 720"));
    }
    // The page's trace settings: a bounded ring of the newest events.
    let mut sim = Sim::new(s, TraceConfig { enabled: true, capacity: 2_000 });
    let start = std::time::Instant::now();
    let whole_hours = hours.ceil() as u64;
    for hour in 1..=whole_hours {
        let until = from_s((hour as f64).min(hours) * 3_600.0);
        sim.run_until(until, u64::MAX);
        println!(
            "{{\"sim_hours\":{:.2},\"requests\":{},\"in_flight\":{},\"rss_kib\":{},\"wall_s\":{:.1}}}",
            until as f64 / 3.6e9,
            sim.metrics.all.arrived,
            sim.live_requests(),
            rss_kib().unwrap_or(0),
            start.elapsed().as_secs_f64()
        );
    }
    0
}

/// The scenario named by the arguments, with every `--set` applied and validated.
/// Err carries the exit code (2) after printing what is wrong.
fn load_scenario(args: &ScenarioArgs) -> Result<Scenario, i32> {
    let mut s = match &args.scenario {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => match Scenario::from_json(&text) {
                Ok(s) => s,
                Err(problems) => {
                    for p in &problems {
                        eprintln!("infrasim: {}: {p}", path.display());
                    }
                    return Err(2);
                }
            },
            Err(e) => return Err(fail(format!("cannot read {}: {e}", path.display()))),
        },
        None => load_preset(&args.preset).map_err(fail)?,
    };
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
        for p in problems {
            eprintln!("infrasim: {p}");
        }
        return Err(2);
    }
    Ok(s)
}

/// `30s:kill:web1`, `1500ms:slow=4:db1`, `20:cut:lb1-lb2` (a bare number is seconds).
fn parse_fault(text: &str) -> Result<Command, String> {
    let mut parts = text.splitn(3, ':');
    let (Some(time), Some(action), Some(target)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("expected TIME:ACTION:TARGET, e.g. 30s:kill:web1".into());
    };
    let seconds: f64 = if let Some(ms) = time.strip_suffix("ms") {
        ms.parse::<f64>().map(|v| v / 1_000.0)
    } else {
        time.trim_end_matches('s').parse::<f64>()
    }
    .map_err(|_| format!("'{time}' is not a time; write 30s or 1500ms"))?;
    if !(seconds.is_finite() && seconds >= 0.0) {
        return Err(format!("'{time}' is not a time; write 30s or 1500ms"));
    }
    let node = || {
        NodeId::parse(target)
            .ok_or_else(|| format!("'{target}' is not a node; nodes are lb1, lb2, web1..webN, db1..dbN, dns"))
    };
    let link = || Link::parse(target).ok_or_else(|| format!("'{target}' is not a link; write two nodes like lb1-lb2"));
    let what = match action {
        "kill" => CommandKind::Kill { node: node()? },
        "restore" => CommandKind::Restore { node: node()? },
        "rebuild" => CommandKind::Rebuild { node: node()? },
        "cut" => CommandKind::Cut { link: link()? },
        "heal" => CommandKind::Heal { link: link()? },
        a if a.starts_with("slow=") => {
            let factor: f64 = a[5..].parse().map_err(|_| format!("'{a}': write slow=FACTOR, e.g. slow=4"))?;
            CommandKind::Slow { node: node()?, factor }
        }
        other => {
            return Err(format!("'{other}' is not an action; allowed kill, restore, rebuild, slow=FACTOR, cut, heal"))
        }
    };
    Ok(Command { at_us: from_s(seconds), what })
}
