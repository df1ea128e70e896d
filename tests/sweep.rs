//! `infrasim sweep` against queueing theory (../shared/reference.md), its output shapes, its
//! bounds and its messages. The statistical checks use 5 % as the issue asks; each run is long
//! enough that the per-seed spread is well inside that (printed).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::infrasim;
use serde_json::Value;

const TOLERANCE: f64 = 0.05;

/// Run a sweep with `--json`; the parsed document.
fn sweep_json(args: &[&str]) -> Value {
    let mut all = vec!["sweep", "--json"];
    all.extend_from_slice(args);
    let (code, out, err) = infrasim(&all);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("sweep --json prints JSON")
}

fn rows(doc: &Value) -> &Vec<Value> {
    doc["rows"].as_array().expect("rows")
}

fn setting<'a>(row: &'a Value, key: &str) -> &'a str {
    row["settings"][key].as_str().expect("setting")
}

fn mean_ms(row: &Value) -> f64 {
    row["latency_ms"]["mean"]["value"].as_f64().expect("mean")
}

fn close(label: &str, measured: f64, expected: f64) {
    let err = (measured - expected).abs() / expected;
    println!("{label}: measured {measured:.3}, expected {expected:.3}, error {:.2} %", err * 100.0);
    assert!(err <= TOLERANCE, "{label}: measured {measured:.3} vs {expected:.3} ({:.2} %)", err * 100.0);
}

#[test]
fn mm1_over_five_loads_matches_one_over_mu_minus_lambda() {
    // One server, 10 ms exponential (μ = 100/s), ρ = 0.2 … 0.8.
    let doc = sweep_json(&[
        "--preset",
        "queue-lab",
        "--set",
        "web.count=1",
        "--set",
        "warmup_s=20",
        "--vary",
        "traffic.arrival_rate_per_s=20..80:15",
        "--seeds",
        "10",
        "--duration-s",
        "3000",
    ]);
    let rows = rows(&doc);
    assert_eq!(rows.len(), 5);
    for row in rows {
        let lambda: f64 = setting(row, "traffic.arrival_rate_per_s").parse().unwrap();
        let expected_ms = 1_000.0 / (100.0 - lambda);
        close(&format!("M/M/1 lambda={lambda}"), mean_ms(row), expected_ms);
        // The theory column is the same formula.
        let theory = row["theory"]["mean_latency_ms"].as_f64().expect("theory covers M/M/1");
        assert!((theory - expected_ms).abs() < 1e-9, "{theory} vs {expected_ms}");
        assert_eq!(row["theory"]["model"], "M/M/1");
    }
}

#[test]
fn a_sweep_over_algorithms_reproduces_the_two_server_table() {
    // reference.md: two identical servers, queues at the servers, W in mean service times.
    let table = [
        ("random", 160, 5.00),
        ("random", 180, 10.0),
        ("roundrobin", 160, 3.84),
        ("roundrobin", 180, 7.59),
        ("leastconn", 160, 2.96),
        ("leastconn", 180, 5.47),
    ];
    let doc = sweep_json(&[
        "--preset",
        "queue-lab",
        "--set",
        "balancer.random_draws=1",
        "--set",
        "warmup_s=50",
        "--vary",
        "balancer.algorithm=random,roundrobin,leastconn",
        "--vary",
        "traffic.arrival_rate_per_s=160,180",
        "--seeds",
        "6",
        "--duration-s",
        "4000",
    ]);
    let rows = rows(&doc);
    assert_eq!(rows.len(), table.len());
    for (algorithm, rate, expected) in table {
        let row = rows
            .iter()
            .find(|r| {
                setting(r, "balancer.algorithm") == algorithm
                    && setting(r, "traffic.arrival_rate_per_s") == rate.to_string()
            })
            .expect("a row per cell");
        close(&format!("{algorithm} at {rate}/s"), mean_ms(row) / 10.0, expected);
        // And theory's column gives the table too (to its printed precision).
        let theory = row["theory"]["mean_latency_ms"].as_f64().expect("theory covers it") / 10.0;
        assert!((theory - expected).abs() < 0.01, "{algorithm} {rate}: theory {theory} vs {expected}");
    }
}

/// A quick sweep: two loads × two algorithms, two seeds, 20 s.
const SMALL: &[&str] = &[
    "sweep",
    "--preset",
    "queue-lab",
    "--vary",
    "traffic.arrival_rate_per_s=50,100",
    "--vary",
    "balancer.algorithm=roundrobin,source",
    "--seeds",
    "2",
    "--duration-s",
    "20",
];

#[test]
fn csv_has_a_header_and_one_line_per_cell_of_equal_width() {
    let mut args = SMALL.to_vec();
    args.push("--csv");
    let (code, out, err) = infrasim(&args);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1 + 4, "{out}");
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(&header[..3], ["traffic.arrival_rate_per_s", "balancer.algorithm", "seeds"]);
    for column in ["mean_ms", "mean_ci95_ms", "p99_ms", "throughput_per_s", "availability", "failed_queue_full"] {
        assert!(header.contains(&column), "no {column} in {header:?}");
    }
    assert_eq!(header.last(), Some(&"theory_drop_probability"));
    // The first key varies slowest; quoted fields (the model names) hold commas.
    let fields = |line: &str| {
        let mut n = 1;
        let mut quoted = false;
        for c in line.chars() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => n += 1,
                _ => {}
            }
        }
        n
    };
    for line in &lines[1..] {
        assert_eq!(fields(line), header.len(), "{line}");
    }
    assert!(lines[1].starts_with("50,roundrobin,2,") && lines[4].starts_with("100,source,2,"), "{out}");
    // Round robin over two servers has a formula; `source` has none: its columns are empty.
    assert!(lines[1].ends_with(",0.000000") && lines[2].ends_with(",,,,"), "{out}");
}

#[test]
fn json_rows_carry_settings_intervals_failures_and_theory() {
    let doc = sweep_json(&SMALL[1..]);
    assert_eq!(doc["cells"], 4);
    assert_eq!(doc["cells_finished"], 4);
    assert!(doc["interval"].as_str().unwrap().contains("95 %"));
    let rows = rows(&doc);
    assert_eq!(rows.len(), 4);
    for row in rows {
        assert_eq!(row["seeds"], 2);
        for q in ["mean", "p50", "p95", "p99"] {
            let stat = &row["latency_ms"][q];
            assert!(stat["value"].as_f64().unwrap() > 0.0 && stat["ci95"].as_f64().unwrap() >= 0.0, "{q}: {stat}");
        }
        assert!(row["throughput_per_s"]["value"].as_f64().unwrap() > 40.0);
        assert!(row["availability"].as_f64().unwrap() > 0.99);
        assert!(row["failed_by_cause"]["queue_full"].is_u64());
        assert!(row["theory"].is_object());
    }
    assert_eq!(rows[1]["theory"]["not_covered"], "no formula for this algorithm, service shape or queue");
    assert_eq!(rows[0]["theory"]["model"], "round robin: 2 x E2/M/1");
    // One seed: no interval.
    let one = sweep_json(&[
        "--preset",
        "queue-lab",
        "--vary",
        "traffic.arrival_rate_per_s=50",
        "--seeds",
        "1",
        "--duration-s",
        "10",
    ]);
    assert!(one["rows"][0]["latency_ms"]["mean"]["ci95"].is_null());
}

#[test]
fn ranges_expand_with_their_end_and_without_rounding_noise() {
    let (code, out, err) = infrasim(&[
        "sweep",
        "--preset",
        "queue-lab",
        "--vary",
        "traffic.write_ratio=0.1..0.3:0.1",
        "--seeds",
        "1",
        "--duration-s",
        "5",
        "--csv",
    ]);
    assert_eq!(code, 0, "{err}");
    let firsts: Vec<&str> = out.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(firsts, ["0.1", "0.2", "0.3"]);
}

/// Exit code 2 and a message on stderr containing every one of `needles`.
fn refused(args: &[&str], needles: &[&str]) {
    let mut all = vec!["sweep", "--preset", "queue-lab"];
    all.extend_from_slice(args);
    let (code, out, err) = infrasim(&all);
    assert_eq!(code, 2, "{args:?} should be refused; stdout {out}");
    assert!(out.is_empty(), "{out}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: '{n}' not in: {err}");
    }
}

#[test]
fn bad_input_is_refused_with_what_was_typed() {
    refused(&["--vary", "traffic.rate=1,2"], &["--vary traffic.rate=1,2", "unknown key 'traffic.rate'"]);
    refused(&["--vary", "traffic.arrival_rate_per_s"], &["expected KEY=V1,V2"]);
    refused(&["--vary", "traffic.arrival_rate_per_s=10..20"], &["no :STEP", "FROM..TO:STEP"]);
    refused(&["--vary", "traffic.arrival_rate_per_s=10..20:0"], &["STEP must be above 0"]);
    refused(&["--vary", "traffic.arrival_rate_per_s=30..20:5"], &["TO at least FROM"]);
    refused(&["--vary", "traffic.arrival_rate_per_s=a..b:1"], &["must be numbers"]);
    refused(&["--vary", "traffic.arrival_rate_per_s=10,,20"], &["an empty value"]);
    refused(&["--vary", "traffic.arrival_rate_per_s=-5"], &["--vary traffic.arrival_rate_per_s=-5", "out of range"]);
    refused(&["--vary", "balancer.algorithm=fastest"], &["--vary balancer.algorithm=fastest", "roundrobin"]);
    refused(&["--vary", "web.weights=1,2"], &["web.weights cannot be varied"]);
    refused(&["--vary", "seed=1,2"], &["seed cannot be varied", "--seeds"]);
    refused(&["--vary", "web.count=1", "--vary", "web.count=2"], &["--vary web.count given twice"]);
    refused(&["--vary", "web.count=1", "--seeds", "0"], &["--seeds 0: allowed 1 to 1000"]);
    refused(&["--vary", "web.count=1", "--jobs", "0"], &["--jobs 0: allowed 1 to 256"]);
    refused(&["--vary", "web.count=1", "--duration-s", "0"], &["--duration-s 0"]);
    refused(&["--vary", "balancer.algorithm=first", "--svg", "x.svg"], &["x axis", "'first' is not"]);
    let (code, _, err) = infrasim(&["sweep", "--preset", "queue-lab"]);
    assert_eq!(code, 2);
    assert!(err.contains("--vary"), "{err}");
}

#[test]
fn the_bounds_on_runs_values_and_work_are_stated_and_enforced() {
    // 1000 cells × 10 seeds = 10 000 runs is the limit; one seed more is refused before running.
    refused(
        &["--vary", "traffic.arrival_rate_per_s=1..1000:1", "--seeds", "11"],
        &["1000 cells × 11 seeds = 11000 runs", "limit is 10000"],
    );
    refused(&["--vary", "traffic.arrival_rate_per_s=1..1001:1"], &["1001 values; at most 1000 per key"]);
    // A huge range is counted, not expanded.
    refused(&["--vary", "traffic.arrival_rate_per_s=0..100000:0.0001"], &["at most 1000 per key"]);
    refused(
        &["--vary", "web.count=1,2", "--vary", "traffic.arrival_rate_per_s=1..400:1", "--vary", "web.workers=1..20:1"],
        &["16000 cells", "at most 10000 runs"],
    );
    // Simulated work: 2 cells × 5 seeds × 100 000 requests/s × 600 s = 6e8 > 5e8.
    refused(
        &[
            "--set",
            "traffic.arrival_rate_per_s=100000",
            "--vary",
            "web.count=2,3",
            "--seeds",
            "5",
            "--duration-s",
            "600",
        ],
        &["10 runs of --duration-s 600", "limit is 5e8"],
    );
}

#[test]
fn svg_draws_a_curve_and_a_dashed_theory_per_value_of_the_second_key() {
    let path = std::env::temp_dir().join(format!("infrasim-sweep-{}.svg", std::process::id()));
    let mut args = SMALL.to_vec();
    args.extend(["--svg", path.to_str().unwrap()]);
    let (code, _, err) = infrasim(&args);
    assert_eq!(code, 0, "{err}");
    let svg = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("traffic.arrival_rate_per_s (requests/s)") && svg.contains("mean latency (ms)"));
    // Legend: the second key, each value, and theory for round robin only.
    for text in [">balancer.algorithm<", ">roundrobin<", ">source<", ">theory: roundrobin<"] {
        assert!(svg.contains(text), "no {text}");
    }
    assert!(!svg.contains("theory: source"));
    // Without colour: the two curves differ in marker shape.
    assert!(svg.contains("<circle") && svg.contains("<rect x="));
    assert!(svg.contains("stroke-dasharray"));
}

#[test]
fn ctrl_c_prints_the_cells_that_finished() {
    // 20 cells of 2 seeds; interrupted after a second, long before the end.
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_infrasim"))
        .args([
            "sweep",
            "--preset",
            "queue-lab",
            "--vary",
            "traffic.arrival_rate_per_s=10..200:10",
            "--seeds",
            "2",
            "--duration-s",
            "10000",
            "--jobs",
            "1",
            "--json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    std::thread::sleep(std::time::Duration::from_millis(1_500));
    let killed = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("sweep: interrupted;") && stderr.contains("of 20 cells finished"), "{stderr}");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON of what finished");
    let finished = doc["cells_finished"].as_u64().unwrap();
    assert!(finished < 20, "finished {finished}");
    assert_eq!(rows(&doc).len() as u64, finished);
    assert_eq!(doc["cells"], 20);
}

#[test]
fn shared_queue_cells_match_erlang_c_and_pollaczek_khinchine_and_say_when_unstable() {
    // maxconn 1: one queue at the balancer; no queue timeout, so no request leaves it early.
    let doc = sweep_json(&[
        "--preset",
        "queue-lab",
        "--set",
        "balancer.maxconn=1",
        "--set",
        "balancer.timeout_queue_ms=0",
        "--set",
        "warmup_s=20",
        "--vary",
        "web.count=2,3",
        "--vary",
        "traffic.arrival_rate_per_s=160,240",
        "--seeds",
        "6",
        "--duration-s",
        "1500",
    ]);
    let rows = rows(&doc);
    let cell = |count: &str, rate: &str| {
        rows.iter()
            .find(|r| setting(r, "web.count") == count && setting(r, "traffic.arrival_rate_per_s") == rate)
            .expect("cell")
    };
    // reference.md: c = 2, μ = 10, λ = 16 → 277.8 ms and c = 3, λ = 24 → 207.9 ms; here μ = 100.
    for (count, rate, expected_ms) in [("2", "160", 27.78), ("3", "240", 20.79)] {
        let row = cell(count, rate);
        close(&format!("M/M/{count} at {rate}/s"), mean_ms(row), expected_ms);
        assert!((row["theory"]["mean_latency_ms"].as_f64().unwrap() - expected_ms).abs() < 0.01);
        assert_eq!(row["theory"]["model"], format!("M/M/{count} shared queue (Erlang C)"));
    }
    assert_eq!(cell("2", "240")["theory"]["not_covered"], "load at or above 1: the queue grows without bound");

    // Constant service, one server at ρ = 0.5: M/D/1, W = 10 + 0.5 × 10 / (2 × 0.5) = 15 ms.
    let doc = sweep_json(&[
        "--preset",
        "queue-lab",
        "--set",
        "web.count=1",
        "--set",
        "balancer.maxconn=1",
        "--set",
        "balancer.timeout_queue_ms=0",
        "--vary",
        "web.service_distribution=exponential,constant",
        "--set",
        "traffic.arrival_rate_per_s=50",
        "--seeds",
        "4",
        "--duration-s",
        "1500",
    ]);
    for (row, expected_ms) in doc["rows"].as_array().unwrap().iter().zip([20.0, 15.0]) {
        close(&format!("{} service", setting(row, "web.service_distribution")), mean_ms(row), expected_ms);
        assert!((row["theory"]["mean_latency_ms"].as_f64().unwrap() - expected_ms).abs() < 1e-9);
    }
}

/// A small sweep with its stdout and stderr as given; (exit code, stderr).
fn sweep_to(stdout: std::process::Stdio, envs: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_infrasim"))
        .args(["sweep", "--preset", "queue-lab", "--vary", "web.count=1,2", "--seeds", "2", "--duration-s", "5"])
        .envs(envs.iter().copied())
        .stdout(stdout)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("ends");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn a_closed_or_full_stdout_is_an_exit_code_and_progress_goes_to_stderr() {
    // The reader went away: a normal end, nothing on stderr.
    let (code, err) = sweep_to(std::process::Stdio::piped(), &[]);
    assert_eq!((code, err.as_str()), (Some(0), ""));
    if let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") {
        let (code, err) = sweep_to(std::process::Stdio::from(full), &[]);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.starts_with("infrasim: cannot write the output: "), "{err}");
    }
    // With an interval of 0 every check point reports: runs done of the total.
    let (code, err) = sweep_to(std::process::Stdio::null(), &[("INFRASIM_PROGRESS_S", "0")]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.lines().any(|l| l.starts_with("infrasim: sweep: ") && l.contains("of 4 runs done")), "{err}");
}

#[test]
fn the_bounds_are_in_the_help() {
    let (code, out, _) = infrasim(&["sweep", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("10000 runs") && out.contains("500000000"), "{out}");
}
