//! Time travel: a run rebuilt from seed + scenario + command log is the same run (same trace,
//! same metrics), and scrubbing back and forth lands on the same states.
#![cfg(not(target_arch = "wasm32"))]

use infrasim::scenario::{preset, Algorithm, Scenario};
use infrasim::sim::replay::{rebuild, rebuild_sim, Recording};
use infrasim::sim::time::from_s;
use infrasim::sim::{CommandKind, Driver, NodeId, Report, Sim, TraceConfig};

const FULL: TraceConfig = TraceConfig { enabled: true, capacity: usize::MAX };

/// Metrics as data: the batch runner's report, serialised.
fn metrics(sim: &Sim) -> String {
    serde_json::to_string(&Report::from_sim(sim)).unwrap()
}

/// A live session as the page has it: frames of irregular length, inputs between frames.
fn live_session(scenario: Scenario) -> Driver {
    let mut d = Driver::new(Sim::new(scenario, FULL));
    let inputs: Vec<(f64, CommandKind)> = vec![
        (400.0, CommandKind::SetArrivalRate { per_s: 180.0 }),
        (900.0, CommandKind::SetAlgorithm { algorithm: Algorithm::Leastconn }),
        (1_400.0, CommandKind::Kill { node: NodeId::Web(0) }),
        (1_400.0, CommandKind::SetWriteRatio { ratio: 0.5 }),
        (2_000.0, CommandKind::SetSpeed { factor: 2.0 }),
        (2_600.0, CommandKind::Kill { node: NodeId::Db(0) }),
        (3_300.0, CommandKind::Restore { node: NodeId::Web(0) }),
        (3_700.0, CommandKind::Pause),
        (3_700.0, CommandKind::Resume),
    ];
    let mut wall = 0.0;
    let mut next = 0;
    let mut frame = 0u32;
    while wall < 4_500.0 {
        // 16.7 ms frames with jitter, as a browser gives them.
        let dt = 16.7 + ((frame * 7919) % 13) as f64;
        frame += 1;
        d.advance(dt);
        wall += dt;
        while next < inputs.len() && inputs[next].0 <= wall {
            // queue-lab has no database: a refused input is not logged, as on the page.
            let _ = d.command(inputs[next].1.clone());
            next += 1;
        }
    }
    d
}

#[test]
fn replaying_the_command_log_gives_the_identical_trace_and_metrics() {
    for name in ["three-server", "high-availability", "queue-lab"] {
        let mut s = preset(name).unwrap();
        s.seed = 42;
        let live = live_session(s.clone());
        assert!(live.sim.commands().len() >= 8, "{name}: the session's inputs are logged");
        let replayed = rebuild(&s, live.sim.commands(), live.sim.now(), FULL).unwrap();
        assert_eq!(replayed.sim.now(), live.sim.now());
        assert_eq!(replayed.sim.commands(), live.sim.commands(), "{name}: the same log");
        assert_eq!(replayed.sim.trace.lines(), live.sim.trace.lines(), "{name}: the same trace");
        assert_eq!(metrics(&replayed.sim), metrics(&live.sim), "{name}: the same metrics");
        assert_eq!(replayed.speed(), live.speed(), "{name}: speed comes back with the log");
        assert_eq!(replayed.paused(), live.paused());
        assert!(live.sim.trace.lines().len() > 1_000);
    }
}

#[test]
fn rebuilding_at_an_earlier_time_matches_the_run_at_that_time() {
    let mut s = preset("three-server").unwrap();
    s.seed = 7;
    let live = live_session(s.clone());
    let log = live.sim.commands().to_vec();
    // A run that stops at 3 s on its own, with the commands given up to then.
    let t = from_s(3.0);
    let mut reference = Driver::new(Sim::new(s.clone(), FULL));
    for c in log.iter().filter(|c| c.at_us <= t) {
        reference.sim.run_until(c.at_us, u64::MAX);
        reference.command(c.what.clone()).unwrap();
    }
    reference.sim.run_until(t, u64::MAX);
    let back = rebuild_sim(&s, &log, t, FULL).unwrap();
    assert_eq!(back.now(), t);
    assert_eq!(metrics(&back), metrics(&reference.sim));
    assert_eq!(back.trace.lines(), reference.sim.trace.lines());
}

#[test]
fn scrubbing_back_and_forward_lands_on_identical_metrics() {
    let mut s = preset("three-server").unwrap();
    s.seed = 3;
    let mut page = Driver::new(Sim::new(s.clone(), FULL));
    let mut rec = Recording::new(s.clone());
    let session = live_session(s.clone());
    // Follow a live run the way the page does.
    for c in session.sim.commands() {
        page.sim.run_until(c.at_us, u64::MAX);
        page.command(c.what.clone()).unwrap();
        rec.observe(&page.sim);
    }
    page.sim.run_until(session.sim.now(), u64::MAX);
    rec.observe(&page.sim);
    let end = page.sim.now();
    assert_eq!(rec.horizon, end);
    let at_end = metrics(&page.sim);

    let t1 = from_s(1.2);
    let t2 = from_s(3.9);
    let first = rec.seek(t1, FULL).unwrap();
    let m1 = metrics(&first.sim);
    assert!(!rec.observe(&first.sim), "holding still at a scrubbed time keeps the future");
    let forward = rec.seek(t2, FULL).unwrap();
    let m2 = metrics(&forward.sim);
    assert_ne!(m1, m2);
    assert_eq!(metrics(&rec.seek(t1, FULL).unwrap().sim), m1, "back again: the same state");
    assert_eq!(metrics(&rec.seek(t2, FULL).unwrap().sim), m2, "forward again: the same state");
    let end_again = rec.seek(end, FULL).unwrap();
    assert_eq!(metrics(&end_again.sim), at_end, "the end of the timeline is the live run");
    assert_eq!(end_again.sim.trace.lines(), page.sim.trace.lines());
    // Beyond the horizon is the horizon.
    assert_eq!(rec.seek(end + 5_000_000, FULL).unwrap().sim.now(), end);

    // Continue from an earlier time: the run branches and the old future is dropped.
    let mut branch = rec.seek(t1, FULL).unwrap();
    let kept = branch.sim.commands().len();
    assert!(kept < rec.log.len());
    branch.command(CommandKind::Pause).unwrap();
    rec.settle(&branch.sim);
    assert!(!rec.observe(&branch.sim), "a pause added while scrubbing is not a branch");
    branch.command(CommandKind::Resume).unwrap();
    branch.advance(100.0);
    assert!(rec.observe(&branch.sim), "continuing is a branch");
    assert_eq!(rec.log.len(), kept + 2);
    assert_eq!(rec.horizon, branch.sim.now());
}

/// A restart the recording notices only after the new run has taken commands: the recording
/// must start from the new run's initial scenario, not its current one (which already has the
/// commands' effects, so replaying the log on top would apply them from time 0).
#[test]
fn a_restart_noticed_late_replays_from_the_scenario_the_run_started_with() {
    let mut s = preset("three-server").unwrap();
    s.seed = 5;
    // The page advances its model in frames of about 16 ms of wall time.
    let advance_frames = |d: &mut Driver, wall_ms: f64| {
        for _ in 0..(wall_ms / 16.0) as u32 {
            d.advance(16.0);
        }
    };
    let mut rec = Recording::new(s.clone());
    let mut page = Driver::new(Sim::new(s.clone(), FULL));
    advance_frames(&mut page, 1_000.0);
    assert!(!rec.observe(&page.sim));
    let mut other = s.clone();
    other.traffic.arrival_rate_per_s = 150.0;
    page = Driver::new(Sim::new(other.clone(), FULL));
    advance_frames(&mut page, 100.0);
    page.command(CommandKind::SetArrivalRate { per_s: 400.0 }).unwrap();
    advance_frames(&mut page, 300.0);
    assert!(page.sim.now() < from_s(1.0), "the new run is behind the old one");
    assert!(rec.observe(&page.sim), "the recording sees the restart");
    assert_eq!(rec.scenario, other, "it starts from the new run's initial scenario");
    let end = page.sim.now();
    let rebuilt = rec.seek(end, FULL).unwrap();
    assert_eq!(rebuilt.sim.trace.lines(), page.sim.trace.lines());
    assert_eq!(metrics(&rebuilt.sim), metrics(&page.sim));
}

#[test]
fn a_refused_command_in_a_log_is_reported_with_its_index() {
    let s = preset("single-server").unwrap();
    let log = vec![
        infrasim::sim::Command { at_us: 10, what: CommandKind::Pause },
        infrasim::sim::Command { at_us: 20, what: CommandKind::Kill { node: NodeId::Db(3) } },
    ];
    let err = rebuild(&s, &log, 1_000, FULL).err().expect("db4 does not exist");
    assert_eq!(err.index, 1);
}
