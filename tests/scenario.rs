//! Scenarios as data: presets validate, JSON round-trips, and malformed input never panics and
//! always says where the problem is.
#![cfg(not(target_arch = "wasm32"))]

use infrasim::scenario::{apply_setting, preset, preset_names, setting_docs, Scenario};
use rand::{Rng, SeedableRng};

#[test]
fn every_preset_validates_and_round_trips() {
    for name in preset_names() {
        let s = preset(name).unwrap();
        assert!(s.validate().is_empty(), "{name}: {:?}", s.validate());
        let back = Scenario::from_json(&s.to_json_pretty()).unwrap();
        assert_eq!(back, s, "{name} round trip");
    }
}

/// The lesson's texts name nodes: designs that differ only in settings have the same nodes.
#[test]
fn same_nodes_compares_the_nodes_not_the_settings() {
    let course = preset("three-server").unwrap();
    for same in ["three-server-leastconn", "secured-monitored"] {
        assert!(course.same_nodes(&preset(same).unwrap()), "{same}");
    }
    for other in ["high-availability", "single-server", "queue-lab"] {
        assert!(!course.same_nodes(&preset(other).unwrap()), "{other}");
    }
    let mut three_web = course.clone();
    three_web.web.servers.push(three_web.web.servers[0].clone());
    assert!(!course.same_nodes(&three_web));
}

#[test]
fn a_partial_file_takes_defaults() {
    let s = Scenario::from_json(r#"{"traffic":{"write_ratio":0.5}}"#).unwrap();
    assert_eq!(s.traffic.write_ratio, 0.5);
    assert_eq!(s.web, Scenario::default().web);
}

#[test]
fn every_problem_is_reported_with_its_path() {
    let text = r#"{
        "version": 9,
        "seed": -3,
        "traffic": {"arrival_rate_per_s": -5, "write_ratio": "half", "burst": {"enabled": "yes"}},
        "balancer": {"algorithm": "fastest", "maxqueue": 2.5},
        "web": {"servers": [{"weight": 300}, {"service_distribution": "pareto"}, 7]},
        "db": {"replicas": 9, "colour": "blue"},
        "extra": true
    }"#;
    let problems = Scenario::from_json(text).unwrap_err();
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    for expected in [
        "version",
        "seed",
        "traffic.arrival_rate_per_s",
        "traffic.write_ratio",
        "traffic.burst.enabled",
        "balancer.algorithm",
        "balancer.maxqueue",
        "web.servers[0].weight",
        "web.servers[1].service_distribution",
        "web.servers[2]",
        "db.replicas",
        "db.colour",
        "extra",
    ] {
        assert!(paths.contains(&expected), "{expected} not in {paths:?}");
    }
    let algo = problems.iter().find(|p| p.path == "balancer.algorithm").unwrap();
    assert!(algo.message.contains("roundrobin"), "says what is allowed: {}", algo.message);
}

#[test]
fn generated_malformed_inputs_never_panic_and_always_name_a_path() {
    let base = serde_json::to_value(Scenario::default()).unwrap();
    let junk = [
        serde_json::json!(null),
        serde_json::json!(-1),
        serde_json::json!(1e308),
        serde_json::json!("text"),
        serde_json::json!([1, 2]),
        serde_json::json!({"x": 1}),
        serde_json::json!(true),
        serde_json::json!(4_294_967_296u64),
    ];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(99);
    let mut failures = 0;
    for _ in 0..3_000 {
        let mut v = base.clone();
        // Replace a random field somewhere in the tree with junk.
        let mut cur = &mut v;
        loop {
            let keys: Vec<String> = match cur {
                serde_json::Value::Object(m) => m.keys().cloned().collect(),
                serde_json::Value::Array(a) if !a.is_empty() => (0..a.len()).map(|i| i.to_string()).collect(),
                _ => break,
            };
            if keys.is_empty() {
                break;
            }
            let k = &keys[rng.random_range(0..keys.len())];
            let stop = rng.random_bool(0.4);
            let next = match cur {
                serde_json::Value::Object(m) => m.get_mut(k).unwrap(),
                serde_json::Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
                _ => unreachable!(),
            };
            if stop || !(next.is_object() || next.is_array()) {
                *next = junk[rng.random_range(0..junk.len())].clone();
                break;
            }
            cur = next;
        }
        if let Err(problems) = Scenario::from_value(v.clone()) {
            failures += 1;
            assert!(!problems.is_empty());
            for p in &problems {
                assert!(!p.path.is_empty() && !p.message.is_empty(), "{p:?} from {v}");
            }
        }
        // Text mangling: truncations and garbage never panic.
        let text = v.to_string();
        let cut = rng.random_range(0..text.len());
        let _ = Scenario::from_json(&text[..cut]);
    }
    assert!(failures > 1_000, "most mutations are invalid: {failures}");
}

#[test]
fn settings_reach_the_scenario_and_are_documented() {
    let docs = setting_docs();
    for required in [
        "balancer.algorithm",
        "balancer.random_draws",
        "balancer.maxconn",
        "balancer.maxqueue",
        "balancer.timeout_queue_ms",
        "web.count",
        "web.workers",
        "web.service_time_ms",
        "web.service_distribution",
        "web.service_time_cv",
        "web.weights",
        "traffic.arrival_rate_per_s",
        "traffic.write_ratio",
        "warmup_s",
    ] {
        assert!(docs.iter().any(|d| d.key == required), "{required} documented");
    }
    let mut s = Scenario::default();
    apply_setting(&mut s, "web.count", "4").unwrap();
    apply_setting(&mut s, "web.weights", "1,2,3,0").unwrap();
    apply_setting(&mut s, "balancer.maxconn", "7").unwrap();
    apply_setting(&mut s, "web.service_distribution", "lognormal").unwrap();
    assert_eq!(s.web.servers.iter().map(|w| w.weight).collect::<Vec<_>>(), vec![1, 2, 3, 0]);
    assert!(s.web.servers.iter().all(|w| w.maxconn == 7));
    assert!(s.validate().is_empty());
    assert!(apply_setting(&mut s, "web.workers", "1e9").is_err());
    assert!(apply_setting(&mut s, "traffic.arrival_rate_per_s", "NaN").is_err());
    assert!(apply_setting(&mut s, "traffic.arrival_rate_per_s", "inf").is_err());
}
