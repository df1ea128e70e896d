//! Gaps left by the first hardening pass: `soak` refuses a warm-up as long as the soak (as
//! `run` does), `spof` reports progress within one long measurement, and a failed request in
//! the trace is filed under the balancer that had it, not always lb1, and the share button
//! refuses to make a link the page would refuse to open.
#![cfg(not(target_arch = "wasm32"))]

use infrasim::scenario::preset;
use infrasim::scenario::url::{decode, encode, shareable_link, UrlState, MAX_LINK_COMMANDS};
use infrasim::sim::metrics::FailCause;
use infrasim::sim::node::NodeId;
use infrasim::sim::time::from_s;
use infrasim::sim::trace::TraceKind;
use infrasim::sim::{Command, CommandKind, Sim, TraceConfig};
use std::process::Command as Process;

fn infrasim(args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    let out =
        Process::new(env!("CARGO_BIN_EXE_infrasim")).args(args).envs(envs.iter().copied()).output().expect("runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[test]
fn soak_refuses_a_warm_up_as_long_as_the_soak_like_run() {
    // 0.001 h is 3.6 s: a warm-up of 3.6 s or more would count no request.
    for warmup in ["3.6", "10", "7200"] {
        let set = format!("warmup_s={warmup}");
        let (code, out, err) = infrasim(&["soak", "--hours", "0.001", "--set", &set], &[]);
        assert_eq!(code, 2, "warm-up {warmup}: stdout {out} stderr {err}");
        assert!(err.contains(&format!("warmup_s {warmup} s is not shorter than --hours 0.001")), "{err}");
        assert!(out.is_empty(), "nothing simulated: {out}");
        // `run` says the same of the same figures.
        let (code, _, err) = infrasim(&["run", "--duration-s", "3.6", "--set", &set], &[]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(&format!("warmup_s {warmup} s is not shorter than --duration-s 3.6")), "{err}");
    }
    // Shorter than the soak: accepted, one line per (part of an) hour.
    let (code, out, err) = infrasim(&["soak", "--hours", "0.001", "--set", "warmup_s=3.5"], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
}

/// `(done, total)` of each `spof` progress line (`spof: 40 of 1280 simulated s done ...`).
fn spof_progress(stderr: &str) -> Vec<(f64, f64)> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("infrasim: spof: "))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let done = words.next()?.parse().ok()?;
            let total = words.nth(1)?.parse().ok()?;
            Some((done, total))
        })
        .collect()
}

#[test]
fn spof_reports_progress_within_a_measurement() {
    // 21 measurements of 80 s (the baseline, 6 nodes, 2 application servers, 9 links, 3
    // machines); at 2,000 requests/s each is about 100,000 model events, so
    // slices of 20,000 events end inside measurements.
    let (code, out, err) =
        infrasim(&["spof", "--set", "traffic.arrival_rate_per_s=2000"], &[("INFRASIM_PROGRESS_S", "0")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("single_points_of_failure"), "{out}");
    let lines = spof_progress(&err);
    assert!(lines.len() > 21, "more lines than measurements: {err}");
    assert!(lines.iter().all(|&(_, total)| total == 21.0 * 80.0), "in simulated seconds: {err}");
    let inside = lines.iter().filter(|&&(done, _)| done % 80.0 != 0.0).count();
    assert!(inside * 2 > lines.len(), "most lines fall within a measurement: {err}");
    assert!(lines.windows(2).all(|w| w[0].0 <= w[1].0), "never goes back: {err}");
}

#[test]
fn a_failed_request_is_filed_under_the_balancer_that_had_it() {
    // The VRRP pair: lb1 dies at 5 s and lb2 takes the address; every web server dies at
    // 15 s, so lb2 answers 503 from then on.
    let mut s = preset("high-availability").expect("preset");
    s.traffic.arrival_rate_per_s = 200.0;
    let mut sim = Sim::new(s.clone(), TraceConfig { enabled: true, capacity: 200_000 });
    let kill = |at_s: f64, node| Command { at_us: from_s(at_s), what: CommandKind::Kill { node } };
    sim.apply(kill(5.0, NodeId::Lb(0))).expect("kill lb1");
    for i in 0..s.web.servers.len() as u16 {
        sim.apply(kill(15.0, NodeId::Web(i))).expect("kill a web server");
    }
    sim.run_until(from_s(25.0), u64::MAX);
    let late_fails: Vec<_> = sim
        .trace
        .events()
        .filter(|e| e.at > from_s(20.0) && matches!(e.kind, TraceKind::Fail { .. }))
        .cloned()
        .collect();
    assert!(late_fails.len() > 100, "{} failures after 20 s", late_fails.len());
    for e in &late_fails {
        // 503 no_server or connect_failed, depending on whether lb2's checks saw them die yet.
        assert!(matches!(e.kind, TraceKind::Fail { lb: Some(1), .. }), "{e}: {:?}", e.kind);
        assert!(e.concerns_node(NodeId::Lb(1)) && !e.concerns_node(NodeId::Lb(0)), "{e}");
        assert_eq!(e.node(), Some(NodeId::Lb(1)), "{e}");
    }
    // Before the failover lb1 had them all; dispatches are filed under their balancer too.
    let early: Vec<_> =
        sim.trace.events().filter(|e| e.at < from_s(4.0) && matches!(e.kind, TraceKind::Dispatch { .. })).collect();
    assert!(early.len() > 100, "{} dispatches before 4 s", early.len());
    assert!(early.iter().all(|e| e.concerns_node(NodeId::Lb(0)) && !e.concerns_node(NodeId::Lb(1))));
}

#[test]
fn a_request_that_never_reached_a_balancer_is_not_filed_under_one() {
    // DNS dead from the start: every client's first lookup fails before any balancer.
    let mut s = preset("three-server").expect("preset");
    s.traffic.arrival_rate_per_s = 200.0;
    let mut sim = Sim::new(s, TraceConfig { enabled: true, capacity: 100_000 });
    sim.apply(Command { at_us: 0, what: CommandKind::Kill { node: NodeId::Dns } }).expect("kill dns");
    sim.run_until(from_s(2.0), u64::MAX);
    let fails: Vec<_> = sim.trace.events().filter(|e| matches!(e.kind, TraceKind::Fail { .. })).cloned().collect();
    assert!(fails.len() > 100, "{}", fails.len());
    for e in &fails {
        assert_eq!(e.kind, TraceKind::Fail { cause: FailCause::DnsFailure, lb: None }, "{e}");
        assert!(!e.concerns_node(NodeId::Lb(0)), "{e}");
        assert_eq!(e.node(), Some(NodeId::Dns), "{e}");
    }
}

/// A link state of the course design with `n` weight changes, one per millisecond.
fn link_with_commands(n: usize) -> UrlState {
    let mut state = UrlState::new("three-server", preset("three-server").expect("preset"));
    state.commands = (0..n as u64)
        .map(|i| Command {
            at_us: 1_000 * (i + 1),
            what: CommandKind::SetWeight { server: 0, weight: 1 + i as u32 % 3 },
        })
        .collect();
    state
}

#[test]
fn sharing_a_run_the_page_would_refuse_to_open_says_why_and_what_to_do() {
    // At the bound: shared, and the link opens to the same run.
    let at_bound = link_with_commands(MAX_LINK_COMMANDS);
    let query = shareable_link(&at_bound).expect("5,000 commands may be shared");
    assert_eq!(decode(&query).expect("opens"), at_bound);
    // One command more: no link (opening it would be refused), a message saying what to do.
    let over = link_with_commands(MAX_LINK_COMMANDS + 1);
    assert!(decode(&encode(&over)).is_err(), "the plain link would be refused");
    let why = shareable_link(&over).unwrap_err();
    assert!(why.contains("5001 commands") && why.contains("at most 5000"), "{why}");
    assert!(why.contains("reset the run") && why.contains("earlier moment"), "{why}");
    // Too much to replay: a day at 1,000 requests/s is 86,400,000 requests.
    let mut long = UrlState::new("three-server", preset("three-server").expect("preset"));
    long.scenario.traffic.arrival_rate_per_s = 1_000.0;
    long.at_us = Some(from_s(86_400.0));
    let why = shareable_link(&long).unwrap_err();
    assert!(why.contains("replay about 86400000 requests") && why.contains("cannot be shared"), "{why}");
    // Within the replay bound (10,000 s at 1,000/s is exactly 10,000,000): shared.
    long.at_us = Some(from_s(10_000.0));
    assert!(shareable_link(&long).is_ok_and(|q| decode(&q).is_ok()));
}

#[test]
fn a_huge_number_is_quoted_as_typed_not_in_three_hundred_digits() {
    let problems = decode("?traffic.arrival_rate_per_s=1e308").unwrap_err();
    let text = problems[0].to_string();
    assert!(text.contains("1e308 is out of range; allowed 0 to 100000"), "{text}");
    assert!(text.len() < 120, "short enough for a phone: {text}");
    let (code, _, err) = infrasim(&["run", "--set", "traffic.arrival_rate_per_s=1e308"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("1e308 is out of range") && err.len() < 200, "{err}");
    // Ordinary numbers are shown as before.
    let text = decode("?traffic.arrival_rate_per_s=100001").unwrap_err()[0].to_string();
    assert!(text.contains("100001 is out of range"), "{text}");
}
