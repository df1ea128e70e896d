//! The batch runner under hostile conditions: a closed or full output, absurd amounts of work,
//! long runs that must say how far they are, tiny benchmarks, and a trace that must not grow
//! in memory.
#![cfg(not(target_arch = "wasm32"))]

use infrasim::scenario::preset;
use infrasim::sim::time::from_s;
use infrasim::sim::trace::{run_streaming, TraceEvent};
use infrasim::sim::{Sim, TraceConfig};
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Longer than any command below needs in a debug build; a command that ignores its limit
/// (hours of work) is killed and fails the test instead of hanging the suite.
const TIMEOUT: Duration = Duration::from_secs(60);

struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

fn infrasim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_infrasim"))
}

/// Wait for `child`, reading its piped outputs, killing it after [`TIMEOUT`].
fn finish(mut child: Child, what: &str) -> Ran {
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = read(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = read(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ran {
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().expect("reads stdout"),
        stderr: stderr.join().expect("reads stderr"),
    }
}

fn run(args: &[&str], envs: &[(&str, &str)]) -> Ran {
    let child = infrasim()
        .args(args)
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    finish(child, &format!("{args:?}"))
}

/// Commands whose output is longer than a line, each quick.
const PRINTING: &[&[&str]] = &[
    &["show", "--keys"],
    &["show", "--preset", "queue-lab"],
    &["presets"],
    &["run", "--duration-s", "5", "--json"],
    &["run", "--duration-s", "5"],
    &["spof", "--set", "traffic.arrival_rate_per_s=20"],
    &["bench", "--requests", "1000"],
    &["soak", "--hours", "0.01"],
    &["--help"],
    &["run", "--help"],
];

#[test]
fn a_closed_stdout_ends_quietly_with_exit_0() {
    for args in PRINTING {
        let mut child = infrasim().args(*args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("starts");
        // The reader goes away before the command writes, as `| head -c 0` would.
        drop(child.stdout.take());
        let ran = finish(child, &format!("{args:?}"));
        assert_eq!(ran.code, 0, "{args:?}: {}", ran.stderr);
        assert!(ran.stderr.is_empty(), "{args:?} printed on stderr: {}", ran.stderr);
    }
}

#[test]
fn a_closed_stderr_ends_a_traced_run_quietly() {
    let mut child = infrasim()
        .args(["run", "--duration-s", "5", "--trace", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    drop(child.stderr.take());
    let ran = finish(child, "run --trace");
    assert_eq!(ran.code, 0);
}

#[test]
fn a_full_output_exits_1_with_one_line() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("no /dev/full here: nothing to check");
        return;
    };
    for args in PRINTING {
        let child = infrasim()
            .args(*args)
            .stdout(Stdio::from(full.try_clone().expect("clones")))
            .stderr(Stdio::piped())
            .spawn()
            .expect("starts");
        let ran = finish(child, &format!("{args:?}"));
        assert_eq!(ran.code, 1, "{args:?}: {}", ran.stderr);
        assert_eq!(ran.stderr.lines().count(), 1, "{args:?}: {}", ran.stderr);
        assert!(ran.stderr.starts_with("infrasim: cannot write the output: "), "{args:?}: {}", ran.stderr);
    }
}

#[test]
fn absurd_work_is_refused_with_exit_2_naming_what_was_typed() {
    let cases: [(&[&str], &str); 7] = [
        (&["spof", "--set", "traffic.arrival_rate_per_s=100000", "--set", "web.count=128"], "100000 requests/s"),
        (&["run", "--set", "traffic.arrival_rate_per_s=100000", "--duration-s", "2592000"], "--duration-s 2592000"),
        (&["run", "--set", "traffic.arrival_rate_per_s=100000", "--duration-s", "6000"], "--duration-s 6000"),
        (&["soak", "--hours", "720", "--set", "traffic.arrival_rate_per_s=1000"], "--hours 720"),
        (&["bench", "--requests", "18446744073709551615"], "--requests 18446744073709551615"),
        (&["bench", "--requests", "500000001"], "--requests 500000001: allowed 1 to 500000000"),
        (&["bench", "--requests", "0"], "--requests 0"),
    ];
    for (args, typed) in cases {
        let ran = run(args, &[]);
        assert_eq!(ran.code, 2, "{args:?}: {}", ran.stderr);
        assert!(ran.stderr.contains(typed), "{args:?}: {}", ran.stderr);
        assert!(ran.stdout.is_empty(), "{args:?}");
    }
    let ran = run(&["run", "--set", "traffic.arrival_rate_per_s=100000", "--duration-s", "6000"], &[]);
    assert!(ran.stderr.contains("the limit is 5e8"), "{}", ran.stderr);
}

#[test]
fn the_limits_are_in_the_help() {
    for (command, bound) in [("bench", "500000000"), ("run", "500000000"), ("spof", "500000000"), ("soak", "720")] {
        let ran = run(&[command, "--help"], &[]);
        assert_eq!(ran.code, 0);
        assert!(ran.stdout.contains(bound), "{command} --help: {}", ran.stdout);
    }
}

/// Progress lines of `what` in stderr.
fn progress_lines<'a>(stderr: &'a str, what: &str) -> Vec<&'a str> {
    let prefix = format!("infrasim: {what}: ");
    stderr.lines().filter(|l| l.starts_with(&prefix)).collect()
}

#[test]
fn long_work_reports_progress_and_short_work_does_not() {
    // An interval of 0 reports at every check point, so a short command shows the lines a
    // long one shows every two seconds.
    let every = [("INFRASIM_PROGRESS_S", "0")];
    let cases: [(&[&str], &str, &str); 3] = [
        (&["run", "--set", "traffic.arrival_rate_per_s=2000", "--duration-s", "10"], "run", "of 10 simulated s done"),
        (&["spof", "--set", "traffic.arrival_rate_per_s=20"], "spof", "simulated s done"),
        (&["bench", "--requests", "100000"], "bench", "of 100000 requests done"),
    ];
    for (args, what, says) in cases {
        let ran = run(args, &every);
        assert_eq!(ran.code, 0, "{args:?}: {}", ran.stderr);
        let lines = progress_lines(&ran.stderr, what);
        assert!(lines.len() >= 2, "{args:?}: {}", ran.stderr);
        assert!(lines.iter().all(|l| l.contains(says) && l.contains(" s left")), "{args:?}: {}", ran.stderr);
        // Work that ends before the first interval says nothing (an hour here, so that a slow
        // debug build on a busy machine cannot cross it).
        let quiet = run(args, &[("INFRASIM_PROGRESS_S", "3600")]);
        assert_eq!(quiet.code, 0);
        assert!(quiet.stderr.is_empty(), "{args:?}: {}", quiet.stderr);
        assert_eq!(quiet.stdout.lines().count(), ran.stdout.lines().count(), "{args:?}: the same output");
    }
}

#[test]
fn bench_reports_exactly_the_requests_asked_for() {
    for n in [1u64, 2, 3, 10, 1_000, 25_000] {
        let ran = run(&["bench", "--requests", &n.to_string()], &[]);
        assert_eq!(ran.code, 0, "{n}: {}", ran.stderr);
        let v: serde_json::Value = serde_json::from_str(&ran.stdout).expect("one JSON object");
        assert_eq!(v["requests"], n, "--requests {n}: {}", ran.stdout);
        // Every request takes an arrival and a completion, and the rate is a finite number.
        assert!(v["events"].as_u64().unwrap() >= 2 * n, "{}", ran.stdout);
        assert!(v["requests_per_wall_s"].as_f64().is_some_and(|r| r.is_finite() && r > 0.0), "{}", ran.stdout);
    }
}

/// The trace's buffer bound while streaming: one step records a handful of events.
const STREAMED_TRACE_BOUND: usize = 64;

#[test]
fn a_streamed_trace_keeps_memory_flat_and_loses_nothing() {
    let mut scenario = preset("three-server").expect("preset");
    scenario.traffic.arrival_rate_per_s = 400.0;
    scenario.seed = 11;
    let until = from_s(60.0);
    // The reference keeps everything in memory, as `run --trace` used to.
    let mut whole = Sim::new(scenario.clone(), TraceConfig { enabled: true, capacity: usize::MAX });
    whole.run_until(until, u64::MAX);
    let expected = whole.trace.lines();
    assert!(expected.len() > 100_000, "a long trace: {}", expected.len());

    let mut sim = Sim::new(scenario, TraceConfig { enabled: true, capacity: 4_096 });
    let mut streamed = Vec::new();
    let mut most_held = 0;
    let mut sink = |e: &TraceEvent| -> Result<(), ()> {
        streamed.push(e.to_string());
        Ok(())
    };
    // In slices, to watch the buffer between them as well as its own high-water mark.
    for second in 1..=60 {
        assert_eq!(run_streaming(&mut sim, from_s(second as f64), u64::MAX, &mut sink), Ok(true));
        most_held = most_held.max(sim.trace.events().len());
    }
    assert_eq!(most_held, 0, "drained after every step");
    assert!(sim.trace.peak_len() <= STREAMED_TRACE_BOUND, "held {} events at once", sim.trace.peak_len());
    assert_eq!(sim.trace.dropped(), 0);
    assert_eq!(sim.trace.total, expected.len() as u64);
    assert_eq!(streamed, expected, "the same trace, in the same order");
}

#[test]
fn a_sink_error_stops_the_traced_run_at_once() {
    let mut sim = Sim::new(preset("three-server").expect("preset"), TraceConfig { enabled: true, capacity: 64 });
    let mut seen = 0;
    let mut sink = |_: &TraceEvent| {
        seen += 1;
        if seen == 10 {
            Err("reader gone")
        } else {
            Ok(())
        }
    };
    assert_eq!(run_streaming(&mut sim, from_s(60.0), u64::MAX, &mut sink), Err("reader gone"));
    assert_eq!(seen, 10);
    assert!(sim.now() < from_s(1.0), "stopped early, at {} us", sim.now());
}

#[test]
fn the_cli_trace_is_the_model_trace() {
    let ran = run(&["run", "--duration-s", "5", "--seed", "3", "--trace", "--json"], &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let mut scenario = preset("three-server").expect("preset");
    scenario.seed = 3;
    let mut sim = Sim::new(scenario, TraceConfig { enabled: true, capacity: usize::MAX });
    sim.run_until(from_s(5.0), u64::MAX);
    let printed: Vec<&str> = ran.stderr.lines().collect();
    assert!(printed.len() > 100);
    assert_eq!(printed, sim.trace.lines());
}
