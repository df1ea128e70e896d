//! keepalived and HAProxy as separate processes (issue 19, part 5): a SIGKILLed keepalived
//! leaves its floating IP configured, so after the backup takes over both machines have it
//! (a duplicate address); a SIGTERM removes it; a dead HAProxy goes unnoticed by keepalived
//! unless `vrrp.track_haproxy` is on; a machine's kill takes both down.
//!
//! The design is `scale-up`, whose machines name `keepalived1` and `keepalived2`, so `lb1` is
//! HAProxy alone there (its keepalived tracks HAProxy unless a test turns that off). Priorities are the defaults: lb1 101 (master from 0 s, adverts at whole
//! seconds), lb2 100, so lb2's master-down interval is 3 + 156/256 s and its skew 156/256 s.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{at, infrasim, sim, when};
use infrasim::render::facts::duplicate_address_text;
use infrasim::scenario::{parse_fault, preset, PairMode, Scenario};
use infrasim::sim::replay::rebuild;
use infrasim::sim::time::{from_s, SimTime};
use infrasim::sim::trace::NodeEvent;
use infrasim::sim::{Command, CommandKind, DuplicateAddress, NodeId, Report, Sim, TraceConfig};

const LB1: NodeId = NodeId::Lb(0);
const LB2: NodeId = NodeId::Lb(1);

/// lb2 (priority 100) waits 3 × 1 s + (256 − 100)/256 s without adverts before taking over.
fn lb2_master_down() -> SimTime {
    from_s(3.0) + 156 * 1_000_000 / 256
}

/// lb2's skew time, after a priority-0 advert.
fn lb2_skew() -> SimTime {
    156 * 1_000_000 / 256
}

/// lb1's master-down interval (priority 101).
fn lb1_master_down() -> SimTime {
    from_s(3.0) + 155 * 1_000_000 / 256
}

fn scale_up() -> Scenario {
    let mut s = preset("scale-up").unwrap();
    s.warmup_s = 0.0;
    s.seed = 7;
    s
}

/// Requests that failed because nobody answered at the floating IP, up to now.
fn lb_down(m: &Sim) -> u64 {
    let report = serde_json::to_value(Report::from_sim(m)).unwrap();
    report["requests"]["failed_by_cause"]["lb_down"].as_u64().unwrap()
}

fn kill_keepalived1() -> CommandKind {
    CommandKind::KillKeepalived { lb: 0 }
}

#[test]
fn a_killed_keepalived_leaves_its_address_and_both_machines_have_it_after_the_takeover() {
    let mut m = sim(scale_up());
    at(&mut m, 10.5, kill_keepalived1());
    at(&mut m, 30.0, CommandKind::RestoreKeepalived { lb: 0 });
    m.run_until(from_s(13.5), u64::MAX);
    // Before the takeover the stale address still takes the traffic, and HAProxy on lb1 runs:
    // nothing fails.
    assert!(m.is_alive(LB1), "HAProxy on lb1 runs on");
    assert_eq!(m.vip_owner(), Some(0));
    assert_eq!(m.duplicate_address(), None, "only lb1 has the address yet");
    assert_eq!(lb_down(&m), 0, "no request failed: the address is still answered");
    m.run_until(from_s(20.0), u64::MAX);
    let takeover = from_s(10.0) + lb2_master_down();
    assert_eq!(when(&m, LB2, NodeEvent::BecameMaster), vec![takeover], "after master_down_interval, no priority 0");
    assert_eq!(when(&m, LB1, NodeEvent::DuplicateAddressStart), vec![takeover]);
    let d = m.duplicate_address().expect("both machines have the address");
    assert_eq!(d, DuplicateAddress { stale_on: LB1, also_on: LB2, traffic_to: Some(LB2) });
    assert!(duplicate_address_text(&d).contains("lb2's gratuitous ARP"), "{}", duplicate_address_text(&d));
    let view = m.view(0);
    assert!(view.duplicate_address.is_some() && view.lbs[0].stale_ip && !view.lbs[0].keepalived);
    assert!(view.lbs[1].holds_ip && !view.lbs[0].holds_ip, "traffic follows the newest gratuitous ARP");
    assert_eq!(lb_down(&m), 0, "the new master's gratuitous ARP moved the clients without a gap");
    m.run_until(from_s(40.0), u64::MAX);
    // keepalived1 starts, removes the stale address (the duplicate ends), listens as backup
    // and, with the higher priority, takes the address back after its own master-down.
    assert_eq!(when(&m, LB1, NodeEvent::DuplicateAddressEnd), vec![from_s(30.0)]);
    assert_eq!(when(&m, LB1, NodeEvent::BecameMaster), vec![from_s(30.0) + lb1_master_down()]);
    let counted = m.duplicate_address_s();
    let expected = 30.0 - 10.0 - 3.0 - 156.0 / 256.0;
    assert!((counted - expected).abs() < 1e-6, "duplicate address {counted} s, expected {expected}");
    let report = serde_json::to_value(Report::from_sim(&m)).unwrap();
    assert!((report["duplicate_address_s"].as_f64().unwrap() - expected).abs() < 1e-6, "{report}");
    assert_eq!(m.split_brain_s(), 0.0, "one live master at a time: no split brain");
    m.check_invariants().unwrap();
}

#[test]
fn a_stopped_keepalived_removes_its_address_and_the_backup_takes_over_after_its_skew() {
    let mut m = sim(scale_up());
    at(&mut m, 10.5, CommandKind::StopKeepalived { lb: 0 });
    m.run_until(from_s(20.0), u64::MAX);
    assert_eq!(when(&m, LB2, NodeEvent::BecameMaster), vec![from_s(10.5) + lb2_skew()]);
    assert_eq!(when(&m, LB1, NodeEvent::KeepalivedStopped), vec![from_s(10.5)]);
    assert!(m.is_alive(LB1), "HAProxy on lb1 runs on");
    assert!(when(&m, LB1, NodeEvent::DuplicateAddressStart).is_empty());
    assert_eq!(m.duplicate_address_s(), 0.0);
    assert_eq!(m.vip_owner(), Some(1));
    m.check_invariants().unwrap();
}

#[test]
fn a_dead_haproxy_without_a_track_script_keeps_the_address_and_clients_are_refused() {
    let mut s = scale_up();
    s.vrrp.track_haproxy = false;
    let mut m = sim(s);
    at(&mut m, 10.5, CommandKind::Kill { node: LB1 });
    m.run_until(from_s(10.4), u64::MAX);
    let before = lb_down(&m);
    m.run_until(from_s(30.0), u64::MAX);
    assert!(!m.is_alive(LB1), "HAProxy on lb1 is dead");
    assert!(when(&m, LB2, NodeEvent::BecameMaster).is_empty(), "keepalived1 keeps advertising: no takeover");
    assert_eq!(m.vip_owner(), Some(0), "lb1 keeps the floating IP");
    let refused = lb_down(&m) - before;
    // About 19.5 s of the preset's arrivals, every one refused at the address.
    assert!(refused > 1_000, "requests refused at the floating IP: {refused}");
    let view = m.view(0);
    assert!(view.lbs[0].holds_ip && !view.lbs[0].alive && view.lbs[0].keepalived);
    m.check_invariants().unwrap();
}

#[test]
fn with_track_haproxy_the_backup_takes_over_when_haproxy_dies_and_gives_back_when_it_returns() {
    let s = scale_up();
    assert!(s.vrrp.track_haproxy, "scale-up's keepalived checks HAProxy");
    let mut m = sim(s);
    at(&mut m, 10.5, CommandKind::Kill { node: LB1 });
    at(&mut m, 20.5, CommandKind::Restore { node: LB1 });
    m.run_until(from_s(40.0), u64::MAX);
    // The check runs every second from keepalived's start (0 s): 11 s is the first to fail;
    // FAULT sends priority 0, so lb2 waits its skew only.
    assert_eq!(when(&m, LB1, NodeEvent::TrackFault), vec![from_s(11.0)]);
    assert_eq!(when(&m, LB2, NodeEvent::BecameMaster), vec![from_s(11.0) + lb2_skew()]);
    assert_eq!(when(&m, LB1, NodeEvent::TrackPassed), vec![from_s(21.0)]);
    // Back as backup at 21 s; lb2's lower-priority adverts do not hold it, its timer runs out.
    assert_eq!(when(&m, LB1, NodeEvent::BecameMaster), vec![from_s(21.0) + lb1_master_down()]);
    assert_eq!(when(&m, LB2, NodeEvent::BecameBackup).len(), 1, "lb2 steps down once");
    assert_eq!(m.duplicate_address_s(), 0.0, "FAULT removes the address: no duplicate");
    assert_eq!(m.vip_owner(), Some(0));
    m.check_invariants().unwrap();
}

#[test]
fn killing_the_balancer_machine_takes_haproxy_keepalived_and_the_address() {
    let mut m = sim(scale_up());
    at(&mut m, 10.5, CommandKind::KillMachine { machine: "balancer1".into() });
    at(&mut m, 20.0, CommandKind::RestoreMachine { machine: "balancer1".into() });
    m.run_until(from_s(15.0), u64::MAX);
    assert!(!m.is_alive(LB1));
    assert_eq!(m.vip_owner(), Some(1));
    m.run_until(from_s(30.0), u64::MAX);
    assert_eq!(when(&m, LB2, NodeEvent::BecameMaster), vec![from_s(10.0) + lb2_master_down()]);
    assert_eq!(m.duplicate_address_s(), 0.0, "the address went down with the machine");
    assert!(m.is_alive(LB1), "the machine's boot starts HAProxy");
    assert_eq!(when(&m, LB1, NodeEvent::BecameMaster), vec![from_s(20.0) + lb1_master_down()], "and keepalived");
    m.check_invariants().unwrap();
}

#[test]
fn a_killed_keepalived_on_a_machine_that_then_dies_leaves_no_address_behind() {
    let mut m = sim(scale_up());
    at(&mut m, 5.5, kill_keepalived1());
    at(&mut m, 12.0, CommandKind::KillMachine { machine: "balancer1".into() });
    m.run_until(from_s(20.0), u64::MAX);
    let takeover = from_s(5.0) + lb2_master_down();
    assert_eq!(when(&m, LB1, NodeEvent::DuplicateAddressStart), vec![takeover]);
    assert_eq!(when(&m, LB1, NodeEvent::DuplicateAddressEnd), vec![from_s(12.0)]);
    assert_eq!(m.duplicate_address(), None);
    m.check_invariants().unwrap();
}

#[test]
fn where_keepalived_has_no_name_of_its_own_lb1_is_still_the_whole_balancer() {
    // three-server with a pair: no machine lists keepalived1, so `kill:lb1` is today's crash
    // of the balancer box, and keepalived1 can still be killed alone.
    let mut s = preset("three-server").unwrap();
    s.balancer.pair = true;
    let mut m = sim(s.clone());
    at(&mut m, 10.5, CommandKind::Kill { node: LB1 });
    m.run_until(from_s(20.0), u64::MAX);
    assert_eq!(when(&m, LB2, NodeEvent::BecameMaster), vec![from_s(10.0) + lb2_master_down()]);
    assert_eq!(m.duplicate_address_s(), 0.0);
    let mut m = sim(s);
    at(&mut m, 10.5, kill_keepalived1());
    m.run_until(from_s(20.0), u64::MAX);
    assert!(m.is_alive(LB1) && m.duplicate_address().is_some(), "keepalived alone: the stale address stays");
}

#[test]
fn keepalived_targets_parse_for_kill_stop_and_restore() {
    let parsed = |text: &str| parse_fault(text).map(|c| (c.at_us, c.what));
    assert_eq!(parsed("20s:kill:keepalived1"), Ok((from_s(20.0), CommandKind::KillKeepalived { lb: 0 })));
    assert_eq!(parsed("1500ms:stop:keepalived2"), Ok((1_500_000, CommandKind::StopKeepalived { lb: 1 })));
    assert_eq!(parsed("30:restore:keepalived1"), Ok((from_s(30.0), CommandKind::RestoreKeepalived { lb: 0 })));
    // lb1 stays the balancer's own name.
    assert_eq!(parsed("20s:kill:lb1"), Ok((from_s(20.0), CommandKind::Kill { node: LB1 })));
}

#[test]
fn mistyped_or_absent_keepalived_targets_say_what_was_typed() {
    for (text, words) in [
        ("20s:kill:keepalived3", "'keepalived3' is not part of any design"),
        ("20s:kill:keepalived0", "'keepalived0' is not a node"),
        ("20s:kill:keepalived01", "'keepalived01' is not a node"),
        ("20s:slow=2:keepalived1", "'keepalived1' is keepalived: it can be killed, stopped or restored, not 'slow=2'"),
        ("20s:rebuild:keepalived2", "not 'rebuild'"),
        ("20s:kill:keepalived99999999999999999999", "is not a node"),
    ] {
        let message = parse_fault(text).unwrap_err();
        assert!(message.contains(words), "{text}: {message}");
    }
    // Hostile targets: an escape code, a huge name. The message shows neither raw.
    for hostile in ["keepalived1\u{1b}[31m".to_string(), format!("keepalived{}", "9".repeat(10_000))] {
        let message = parse_fault(&format!("20s:kill:{hostile}")).unwrap_err();
        assert!(!message.contains('\u{1b}') && message.len() < 400, "{} chars: {message:.200}", message.len());
    }
    let refused = |s: Scenario, what: CommandKind| sim(s).apply(Command { at_us: 1, what }).unwrap_err();
    let lone = preset("three-server").unwrap();
    let message = refused(lone, kill_keepalived1());
    assert!(message.contains("keepalived1") && message.contains("balancer.pair is false"), "{message}");
    let mut dns = preset("three-server").unwrap();
    dns.balancer.pair = true;
    dns.balancer.pair_mode = PairMode::Dns;
    let message = refused(dns, CommandKind::StopKeepalived { lb: 1 });
    assert!(message.contains("keepalived2") && message.contains("pair_mode is dns"), "{message}");
    let message = refused(scale_up(), CommandKind::Stop { node: LB1 });
    assert!(message.contains("HAProxy alone") && message.contains("stop keepalived1"), "{message}");
    // The balancer whole is down where keepalived has no machine of its own: restore lb1.
    let mut pair = preset("three-server").unwrap();
    pair.balancer.pair = true;
    let mut m = sim(pair);
    at(&mut m, 1.0, CommandKind::Kill { node: LB1 });
    m.run_until(from_s(2.0), u64::MAX);
    let message = m.apply(Command { at_us: from_s(3.0), what: CommandKind::RestoreKeepalived { lb: 0 } }).unwrap_err();
    assert!(message.contains("lb1 is the balancer whole") && message.contains("restore lb1"), "{message}");
    // A machine down: restore the machine.
    let mut m = sim(scale_up());
    at(&mut m, 1.0, CommandKind::KillMachine { machine: "balancer2".into() });
    m.run_until(from_s(2.0), u64::MAX);
    let message = m.apply(Command { at_us: from_s(3.0), what: CommandKind::RestoreKeepalived { lb: 1 } }).unwrap_err();
    assert!(message.contains("machine balancer2 is down"), "{message}");
    let bad = serde_json::json!({"at_us": 1, "what": {"kill_keepalived": {"lb": 7}}});
    let (field, message) = Command::from_json(&bad).unwrap_err();
    assert!(field == "what" && message.contains("kill_keepalived.lb: 7"), "{message}");
}

#[test]
fn a_command_log_with_keepalived_targets_replays_to_the_same_run() {
    let s = scale_up();
    let mut m = Sim::new(s.clone(), TraceConfig { enabled: true, capacity: usize::MAX });
    for text in
        ["5.5s:kill:keepalived1", "12s:kill:lb2", "14s:restore:lb2", "20s:restore:keepalived1", "26s:stop:keepalived2"]
    {
        m.apply(parse_fault(text).unwrap()).unwrap();
    }
    m.run_until(from_s(35.0), u64::MAX);
    // The log as it is saved and read back.
    let saved = serde_json::to_string(m.commands()).unwrap();
    let values: Vec<serde_json::Value> = serde_json::from_str(&saved).unwrap();
    let log: Vec<Command> = values.iter().map(|v| Command::from_json(v).unwrap()).collect();
    assert_eq!(log, m.commands());
    assert!(saved.contains(r#"{"kill_keepalived":{"lb":0}}"#), "{saved}");
    let replayed = rebuild(&s, &log, m.now(), TraceConfig { enabled: true, capacity: usize::MAX }).unwrap();
    assert_eq!(replayed.sim.trace.lines(), m.trace.lines());
    // Everything but the count of model events: commands given up front wait in the queue as
    // events of their own, a replay applies each at its time.
    let report = |sim: &Sim| {
        let mut r = serde_json::to_value(Report::from_sim(sim)).unwrap();
        r.as_object_mut().unwrap().remove("events");
        r
    };
    assert_eq!(report(&replayed.sim), report(&m));
    assert!(m.duplicate_address_s() > 0.0, "the run had a duplicate address to replay");
}

#[test]
fn the_batch_runner_takes_keepalived_faults_and_reports_the_duplicate_address() {
    let run = |fault: &str| {
        let (code, out, err) =
            infrasim(&["run", "--preset", "scale-up", "--duration-s", "30", "--fault", fault, "--json"]);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    let r = run("10.5s:kill:keepalived1");
    // From lb2's takeover at 10 + 3 + 156/256 s to the end of the run.
    assert_eq!(r["duplicate_address_s"].as_f64(), Some(30.0 - 10.0 - 3.0 - 156.0 / 256.0));
    assert_eq!(r["requests"]["failed_by_cause"]["lb_down"], 0, "{r}");
    let r = run("10.5s:kill:lb1");
    assert!(r.get("duplicate_address_s").is_none(), "absent while 0: {r}");
    let (code, _, err) = infrasim(&["run", "--preset", "three-server", "--fault", "1s:kill:keepalived2"]);
    assert_ne!(code, 0);
    assert!(err.contains("keepalived2 is not part of this design") && err.contains("balancer.pair is false"), "{err}");
}
