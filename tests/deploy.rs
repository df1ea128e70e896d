//! Deploys of new code (issue 16, part 1): all application servers restart at once, or one at
//! a time, each drained from the balancer first. A single server shows the downtime the course
//! asks about; the three-server design with a rolling deploy shows none.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{assert_close, at, sim, when};
use infrasim::scenario::{parse_fault, preset};
use infrasim::sim::time::from_s;
use infrasim::sim::trace::NodeEvent;
use infrasim::sim::{Command, CommandKind, NodeId, Report};

fn failed_by(r: &Report, cause: &str) -> u64 {
    r.requests.failed_by_cause[cause]
}

#[test]
fn deploying_to_the_single_server_takes_the_site_down_for_the_restart() {
    // simple-web-stack: 100 requests/s, a quarter of the reads (20 % of all) static. For the
    // 10 s restart every dynamic request gets Nginx's 502: 0.8 × 100 × 10 = 800.
    let s = preset("simple-web-stack").unwrap();
    let (rate, restart_s) = (s.traffic.arrival_rate_per_s, s.deploy.restart_s);
    let mut m = sim(s);
    at(&mut m, 20.0, CommandKind::Deploy { rolling: false });
    m.run_until(from_s(60.0), u64::MAX);
    let r = Report::from_sim(&m);
    assert_close("502s during the restart", failed_by(&r, "app_down") as f64, 0.8 * rate * restart_s, 0.1);
    assert_eq!(when(&m, NodeId::App(0), NodeEvent::Redeploying), vec![from_s(20.0)]);
    assert_eq!(when(&m, NodeId::App(0), NodeEvent::Restored), vec![from_s(20.0 + restart_s)]);
    // A rolling deploy cannot help one server: there is nowhere to drain it to.
    let mut m = sim(preset("simple-web-stack").unwrap());
    at(&mut m, 20.0, CommandKind::Deploy { rolling: true });
    m.run_until(from_s(60.0), u64::MAX);
    assert!(failed_by(&Report::from_sim(&m), "app_down") > 500);
}

#[test]
fn a_rolling_deploy_of_the_three_server_design_fails_no_request() {
    let s = preset("three-server").unwrap();
    let restart_s = s.deploy.restart_s;
    let mut m = sim(s);
    at(&mut m, 20.0, CommandKind::Deploy { rolling: true });
    m.run_until(from_s(80.0), u64::MAX);
    let r = Report::from_sim(&m);
    assert_eq!(r.requests.failed, 0, "{:?}", r.requests.failed_by_cause);
    // Each server was drained, then restarted, one after the other.
    let (drain1, drain2) =
        (when(&m, NodeId::Web(0), NodeEvent::Draining), when(&m, NodeId::Web(1), NodeEvent::Draining));
    let (up1, up2) = (when(&m, NodeId::App(0), NodeEvent::Restored), when(&m, NodeId::App(1), NodeEvent::Restored));
    assert_eq!((drain1.len(), drain2.len(), up1.len(), up2.len()), (1, 1, 1, 1));
    assert!(drain1[0] == from_s(20.0) && up1[0] <= drain2[0], "one at a time: {drain1:?} {up1:?} {drain2:?}");
    assert!(up1[0] - drain1[0] >= from_s(restart_s), "down for the restart after the drain");
    assert!(!m.deploy_under_way(), "done by 80 s");
    // The same deploy all at once: both applications down together for the restart.
    let mut m = sim(preset("three-server").unwrap());
    at(&mut m, 20.0, CommandKind::Deploy { rolling: false });
    m.run_until(from_s(80.0), u64::MAX);
    assert!(failed_by(&Report::from_sim(&m), "app_down") > 500);
}

#[test]
fn deploys_parse_replay_and_refuse_a_second_one_under_way() {
    assert_eq!(parse_fault("20s:deploy:all").unwrap().what, CommandKind::Deploy { rolling: false });
    assert_eq!(parse_fault("20s:deploy:rolling").unwrap().what, CommandKind::Deploy { rolling: true });
    let e = parse_fault("20s:deploy:sideways").unwrap_err();
    assert!(e.contains("sideways") && e.contains("deploy:rolling"), "{e}");
    let mut m = sim(preset("three-server").unwrap());
    at(&mut m, 1.0, CommandKind::Deploy { rolling: true });
    m.run_until(from_s(2.0), u64::MAX);
    let e = m.apply(Command { at_us: from_s(2.0), what: CommandKind::Deploy { rolling: false } }).unwrap_err();
    assert!(e.contains("under way"), "{e}");
    // The command log replays the same run.
    let json = serde_json::to_string(&m.commands()).unwrap();
    assert!(json.contains("\"deploy\":{\"rolling\":true}"), "{json}");
}

#[test]
fn the_batch_runner_deploys() {
    let (code, out, err) = common::infrasim(&[
        "run",
        "--preset",
        "simple-web-stack",
        "--duration-s",
        "40",
        "--fault",
        "10s:deploy:all",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["requests"]["failed_by_cause"]["app_down"].as_u64().unwrap() > 500, "{out}");
}

#[test]
fn a_drain_that_never_empties_gives_up_after_its_limit() {
    // Requests of 10 minutes never let web1 go idle: after DRAIN_LIMIT_S the deploy restarts it
    // anyway (what it holds fails) and goes on to web2.
    use infrasim::sim::DRAIN_LIMIT_S;
    let mut s = preset("three-server").unwrap();
    s.web.static_ratio = 0.0;
    for w in &mut s.web.servers {
        w.service_time_ms = 600_000.0;
        w.service_distribution = infrasim::scenario::Distribution::Constant;
    }
    let mut m = sim(s);
    at(&mut m, 5.0, CommandKind::Deploy { rolling: true });
    m.run_until(from_s(5.0 + DRAIN_LIMIT_S + 1.0), u64::MAX);
    assert_eq!(when(&m, NodeId::App(0), NodeEvent::Redeploying), vec![from_s(5.0 + DRAIN_LIMIT_S)]);
    assert!(failed_by(&Report::from_sim(&m), "app_down") > 0, "what web1 held fails");
}
