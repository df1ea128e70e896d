//! Issue 11, the model's part: figures that were wrong or grew without bound. Each test fails
//! on the model as it was and names the bound or the figure it holds to.

mod common;

use common::run;
use infrasim::scenario::{preset, FailureRate};
use infrasim::sim::time::SimTime;
use infrasim::sim::trace::NodeEvent;
use infrasim::sim::{NodeId, Sim};

/// Kills and restores of every node but `except`, from the timeline, in order.
fn failure_times(sim: &Sim, except: Option<NodeId>) -> Vec<(String, SimTime, &'static str)> {
    sim.timeline
        .iter()
        .filter(|e| matches!(e.event, NodeEvent::Killed | NodeEvent::Restored | NodeEvent::MarkedDown))
        .filter(|e| except.is_none_or(|n| e.subject != infrasim::sim::trace::Subject::Node(n)))
        .map(|e| (e.subject.to_string(), e.at, e.event.name()))
        .collect()
}

/// Item 9: each node draws its random failures and its health-check phase from its own stream,
/// so adding a web server moves no other node's failures, repairs or DOWN marks.
#[test]
fn adding_a_web_server_leaves_the_other_nodes_failure_times_unchanged() {
    for seed in [1, 2, 3] {
        let mut two = preset("three-server").unwrap();
        two.seed = seed;
        two.traffic.arrival_rate_per_s = 0.0;
        two.failures.web = FailureRate { mtbf_s: 60.0, mttr_s: 10.0 };
        two.failures.lb = FailureRate { mtbf_s: 120.0, mttr_s: 5.0 };
        two.failures.db = FailureRate { mtbf_s: 90.0, mttr_s: 20.0 };
        let mut three = two.clone();
        three.web.servers.push(three.web.servers[0].clone());
        let (a, _) = run(two, 600.0);
        let (b, _) = run(three, 600.0);
        let before = failure_times(&a, None);
        let after = failure_times(&b, Some(NodeId::Web(2)));
        assert!(before.len() > 20, "seed {seed}: too few failures to compare ({})", before.len());
        assert_eq!(before, after, "seed {seed}: web3's arrival shifted other nodes' failures");
    }
}
