//! Machines in the scenario format: component ids, where each component runs (listed machines
//! and the derived ones), the course's presets, validation with field paths, and the settings.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::infrasim;

use infrasim::scenario::{
    apply_setting, components, preset, preset_names, setting_value, ComponentId, ComponentKind, Cores, Machine,
    PlacedMachine, Scenario,
};

/// Each machine as `id cores: component component`, to compare placements at a glance.
fn layout(placed: &[PlacedMachine]) -> Vec<String> {
    placed
        .iter()
        .map(|m| {
            let cores = match m.cores {
                Cores::Count(n) => n.to_string(),
                Cores::Dedicated => "dedicated".into(),
            };
            let runs: Vec<String> = m.components.iter().map(ToString::to_string).collect();
            format!("{} {cores}: {}", m.id, runs.join(" "))
        })
        .collect()
}

#[test]
fn component_ids_read_and_print_as_people_write_them() {
    let web2 = ComponentId { kind: ComponentKind::Web, index: 1 };
    assert_eq!(web2.to_string(), "web2");
    assert_eq!("web2".parse::<ComponentId>(), Ok(web2));
    for kind in ComponentKind::ALL {
        for index in [0, 1, 127] {
            let id = ComponentId { kind, index };
            assert_eq!(id.to_string().parse::<ComponentId>(), Ok(id), "{id}");
        }
    }
    for bad in ["", "web", "web0", "web01", "web+1", "1web", "cache1", "Web1", "web1 ", "keepalive1", "web99999999999"]
    {
        let err = bad.parse::<ComponentId>().expect_err(bad);
        assert!(err.contains("is not a component"), "{bad}: {err}");
    }
}

#[test]
fn the_course_designs_place_their_components_as_the_course_draws_them() {
    let cases: &[(&str, &[&str])] = &[
        ("simple-web-stack", &["server1 2: web1 app1 db1"]),
        ("three-server", &["balancer1 2: lb1", "server1 2: web1 app1 db1", "server2 2: web2 app2 db2"]),
        ("secured-monitored", &["balancer1 2: lb1", "server1 2: web1 app1 db1", "server2 2: web2 app2 db2"]),
        (
            "scale-up",
            &[
                "balancer1 4: lb1 keepalived1",
                "balancer2 4: lb2 keepalived2",
                "web-server1 4: web1",
                "web-server2 4: web2",
                "app-server1 4: app1",
                "app-server2 4: app2",
                "db-server1 4: db1",
                "db-server2 4: db2",
            ],
        ),
        // Textbook queueing: one node per machine, as before machines.
        ("queue-lab", &["lb1 dedicated: lb1", "web1 dedicated: web1 app1", "web2 dedicated: web2 app2"]),
        (
            "high-availability",
            &[
                "lb1 dedicated: lb1 keepalived1",
                "lb2 dedicated: lb2 keepalived2",
                "web1 dedicated: web1 app1",
                "web2 dedicated: web2 app2",
                "web3 dedicated: web3 app3",
                "db1 dedicated: db1",
                "db2 dedicated: db2",
                "db3 dedicated: db3",
            ],
        ),
    ];
    for (name, expected) in cases {
        let s = preset(name).unwrap();
        assert_eq!(layout(&s.placement()), *expected, "{name}");
    }
    let simple = preset("simple-web-stack").unwrap();
    assert!(!simple.balancer.enabled, "DNS points at web1");
    assert!(preset("scale-up").unwrap().balancer.pair, "a cluster of two HAProxy");
    let three = preset("three-server").unwrap();
    let leastconn = preset("three-server-leastconn").unwrap();
    assert_eq!(three.machines, leastconn.machines);
}

/// Every component of the design on exactly one machine, whatever the settings.
fn assert_each_component_placed_once(s: &Scenario, label: &str) {
    let mut placed: Vec<ComponentId> = s.placement().into_iter().flat_map(|m| m.components).collect();
    placed.sort();
    let mut design = components(s);
    design.sort();
    assert_eq!(placed, design, "{label}");
}

#[test]
fn every_component_runs_on_exactly_one_machine() {
    for name in preset_names() {
        let mut s = preset(name).unwrap();
        assert_each_component_placed_once(&s, name);
        if s.balancer.enabled {
            for (k, v) in [("web.count", "5"), ("db.replicas", "3"), ("balancer.pair", "true")] {
                apply_setting(&mut s, k, v).unwrap();
                assert_each_component_placed_once(&s, &format!("{name} {k}={v}"));
            }
            // web3..web5 no machine names: each gets its own, the application beside Nginx.
            let ids: Vec<String> = s.placement().into_iter().map(|m| m.id).collect();
            assert!(ids.contains(&"web5".to_string()), "{name}: {ids:?}");
        }
    }
}

#[test]
fn an_unnamed_application_joins_its_nginx_and_keepalived_its_haproxy() {
    let mut s = preset("high-availability").unwrap();
    s.machines = vec![
        Machine { id: "edge".into(), cores: 2, runs: vec!["lb2".into()] },
        Machine { id: "front".into(), cores: 4, runs: vec!["web1".into(), "web2".into()] },
    ];
    assert!(s.validate().is_empty(), "{:?}", s.validate());
    let placed = layout(&s.placement());
    assert_eq!(placed[0], "edge 2: lb2 keepalived2");
    assert_eq!(placed[1], "front 4: web1 web2 app1 app2");
    assert!(placed.contains(&"lb1 dedicated: lb1 keepalived1".to_string()), "{placed:?}");
    assert!(placed.contains(&"web3 dedicated: web3 app3".to_string()), "{placed:?}");
}

fn problems_of(s: &Scenario) -> Vec<String> {
    s.validate().iter().map(ToString::to_string).collect()
}

#[test]
fn bad_machines_are_reported_with_their_paths_and_what_was_typed() {
    let base = preset("three-server").unwrap();
    let with = |machines: Vec<Machine>| Scenario { machines, ..base.clone() };
    let m = |id: &str, cores: u32, runs: &[&str]| Machine {
        id: id.into(),
        cores,
        runs: runs.iter().map(|r| r.to_string()).collect(),
    };
    let mut no_replica = with(vec![m("server1", 2, &["web1"]), m("server2", 2, &["db2"])]);
    no_replica.db.replicas = 0;
    no_replica.db.read_from = infrasim::scenario::ReadFrom::Primary;
    let mut pair = with(vec![m("balancer1", 2, &["lb1"]), m("helper", 1, &["keepalived1"])]);
    pair.balancer.pair = true;
    let cases: Vec<(Scenario, &str)> = vec![
        (no_replica, "machines[1].runs: names db2, but db.replicas is 0"),
        (with(vec![m("", 2, &[])]), "machines[0].id: the machine id is empty"),
        (with(vec![m(&"x".repeat(33), 2, &[])]), "has 33 characters; allowed at most 32"),
        (with(vec![m("server_1", 2, &[])]), "machines[0].id: 'server_1' contains '_'; allowed a-z, 0-9 and -"),
        (with(vec![m("evil\u{1b}[2J", 2, &[])]), "contains '\\u{1b}'"),
        (with(vec![m("db1", 2, &[])]), "machines[0].id: 'db1' is a component's id"),
        (with(vec![m("a", 2, &[]), m("a", 2, &[])]), "machines[1].id: 'a' is the id of machines[0] too"),
        (with(vec![m("a", 0, &[])]), "machines[0].cores: 0 is out of range; allowed 1 to 64"),
        (with(vec![m("a", 65, &[])]), "machines[0].cores: 65 is out of range"),
        (with(vec![m("a", 2, &["web1", "web1"])]), "machines[0].runs: names web1 twice"),
        (with(vec![m("a", 2, &["web1"]), m("b", 2, &["web1"])]), "names web1 but machines[0] runs it"),
        (with(vec![m("a", 2, &["cache1"])]), "machines[0].runs: 'cache1' is not a component"),
        (with(vec![m("a", 2, &["lb2"])]), "names lb2, but balancer.pair is false"),
        (with(vec![m("a", 2, &["keepalived1"])]), "names keepalived1, but balancer.pair is false"),
        (pair, "machines[1].runs: names keepalived1 but not lb1"),
        (with((0..65).map(|i| m(&format!("m{i}"), 1, &[])).collect()), "machines: 65 machines: allowed at most 64"),
    ];
    for (s, expected) in cases {
        let problems = problems_of(&s);
        assert!(problems.iter().any(|p| p.contains(expected)), "{expected}: {problems:?}");
    }
    let mut two_servers_no_balancer = base.clone();
    two_servers_no_balancer.balancer.enabled = false;
    let problems = problems_of(&two_servers_no_balancer);
    assert!(
        problems.iter().any(|p| p.contains("balancer.enabled: false") && p.contains("web.servers has 2")),
        "{problems:?}"
    );
    assert!(problems.iter().any(|p| p.contains("names lb1, but balancer.enabled is false")), "{problems:?}");
    // Within every limit: 64 machines of 64 cores, ids of 32 characters.
    let most = with((0..64).map(|i| m(&format!("{i:0>32}"), 64, &[])).collect());
    assert!(most.validate().is_empty(), "{:?}", most.validate());
}

#[test]
fn hostile_machine_json_never_panics_and_names_the_field() {
    let cases = [
        (r#"{"machines": "server1"}"#, "machines"),
        (r#"{"machines": [7]}"#, "machines[0]"),
        (r#"{"machines": [{"id": 1, "cores": "two", "runs": "web1"}]}"#, "machines[0].id"),
        (r#"{"machines": [{"id": "a", "cores": -1}]}"#, "machines[0].cores"),
        (r#"{"machines": [{"id": "a", "runs": [1, null]}]}"#, "machines[0].runs[0]"),
        (r#"{"machines": [{"id": "a", "colour": "red"}]}"#, "machines[0].colour"),
        (r#"{"machines": [{"id": "a", "cores": 99999999999}]}"#, "machines[0].cores"),
    ];
    for (text, path) in cases {
        let problems = Scenario::from_json(text).expect_err(text);
        assert!(problems.iter().any(|p| p.path == path), "{text}: {problems:?}");
    }
    let huge: Vec<String> = (0..1_000).map(|i| format!(r#"{{"id":"m{i}","cores":1}}"#)).collect();
    let problems = Scenario::from_json(&format!(r#"{{"machines":[{}]}}"#, huge.join(","))).unwrap_err();
    assert_eq!(problems[0].path, "machines");
    assert!(problems[0].message.contains("at most 64"), "{problems:?}");
    let long_runs = vec!["\"web1\""; 10_000].join(",");
    let text = format!(r#"{{"machines":[{{"id":"a","cores":1,"runs":[{long_runs}]}}]}}"#);
    let problems = Scenario::from_json(&text).unwrap_err();
    assert!(problems.iter().any(|p| p.path == "machines[0].runs" && p.message.contains("at most")), "{problems:?}");
}

#[test]
fn an_old_scenario_without_machines_loads_unchanged_and_round_trips_with_them() {
    let old = Scenario::from_json(r#"{"version":1,"name":"mine","web":{"servers":[{},{},{}]}}"#).unwrap();
    assert!(old.machines.is_empty() && old.balancer.enabled);
    assert_eq!(old.placement().len(), 1 + 3 + 2, "lb1, three web boxes, db1 and db2");
    for name in preset_names() {
        let s = preset(name).unwrap();
        let json = s.to_json_pretty();
        assert!(json.contains("\"machines\""), "{name}: machines are written");
        assert_eq!(Scenario::from_json(&json).unwrap(), s, "{name}");
    }
}

#[test]
fn machines_cores_sets_every_machine_and_writes_the_derived_ones_out_first() {
    let mut s = preset("three-server").unwrap();
    apply_setting(&mut s, "machines.cores", "8").unwrap();
    assert!(s.machines.iter().all(|m| m.cores == 8));
    assert_eq!(setting_value(&s, "machines.cores").as_deref(), Some("8"));

    let mut derived = preset("queue-lab").unwrap();
    assert_eq!(setting_value(&derived, "machines.cores").as_deref(), Some("auto"));
    apply_setting(&mut derived, "machines.cores", "auto").unwrap();
    assert!(derived.machines.is_empty(), "auto keeps one machine per component");
    let before: Vec<Vec<ComponentId>> = derived.placement().into_iter().map(|m| m.components).collect();
    apply_setting(&mut derived, "machines.cores", "1").unwrap();
    assert!(derived.validate().is_empty(), "{:?}", derived.validate());
    let after = derived.placement();
    assert_eq!(after.iter().map(|m| m.components.clone()).collect::<Vec<_>>(), before, "same grouping");
    assert_eq!(layout(&after)[1], "web1-host 1: web1 app1");
    let err = apply_setting(&mut derived, "machines.cores", "auto").unwrap_err();
    assert!(err.message.contains("machines=none"), "{err}");
    for bad in ["0", "65", "two", "-1", "1.5"] {
        assert!(apply_setting(&mut derived, "machines.cores", bad).is_err(), "{bad}");
    }
}

#[test]
fn the_machines_setting_reads_what_it_writes() {
    for name in preset_names() {
        let s = preset(name).unwrap();
        let text = setting_value(&s, "machines").unwrap();
        let mut back = Scenario { machines: Vec::new(), ..s.clone() };
        apply_setting(&mut back, "machines", &text).unwrap();
        assert_eq!(back, s, "{name}: {text}");
    }
    let mut s = preset("three-server").unwrap();
    apply_setting(&mut s, "machines", "none").unwrap();
    assert!(s.machines.is_empty());
    for (bad, says) in [
        ("server1", "is not a machine"),
        ("server1:x:web1", "cores is not allowed"),
        ("server1:0:web1", "allowed 1 to 64"),
    ] {
        let err = apply_setting(&mut s, "machines", bad).unwrap_err();
        assert!(err.message.contains(says), "{bad}: {err}");
    }
    let many: Vec<String> = (0..65).map(|i| format!("m{i}:1:")).collect();
    assert!(apply_setting(&mut s, "machines", &many.join(",")).unwrap_err().message.contains("at most 64"));
}

#[test]
fn show_lists_the_machines_with_cores_and_components() {
    let (code, out, err) = infrasim(&["show", "--machines", "--preset", "three-server"]);
    assert_eq!(code, 0, "{err}");
    let server1 = out.lines().find(|l| l.starts_with("server1")).expect(&out);
    assert!(
        server1.contains(" 2 ") && server1.contains("web1 (Nginx), app1 (application server), db1 (MySQL)"),
        "{out}"
    );
    let (code, out, _) = infrasim(&["show", "--machines", "--preset", "queue-lab", "--set", "web.count=3"]);
    assert_eq!(code, 0);
    assert!(out.lines().any(|l| l.starts_with("web3") && l.contains("dedicated")), "{out}");
    let (code, out, err) = infrasim(&["show", "--machines", "--json", "--preset", "scale-up"]);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let machines = json.as_array().unwrap();
    assert_eq!(machines.len(), 8);
    assert_eq!(machines[0]["id"], "balancer1");
    assert_eq!(machines[0]["cores"], serde_json::json!({"count": 4}));
    assert_eq!(machines[0]["components"], serde_json::json!(["lb1", "keepalived1"]));
    let (code, out, _) = infrasim(&["show", "--keys"]);
    assert_eq!(code, 0);
    for key in ["machines", "machines.cores", "balancer.enabled"] {
        assert!(out.lines().any(|l| l.split_whitespace().next() == Some(key)), "show --keys lists {key}");
    }
    let (code, out, _) = infrasim(&["presets"]);
    assert_eq!(code, 0);
    for name in ["simple-web-stack", "three-server", "secured-monitored", "scale-up", "single-server"] {
        assert!(out.contains(name), "{out}");
    }
    let (code, _, err) = infrasim(&["show", "--preset", "three-server", "--set", "machines=server1:2:db3"]);
    assert_eq!(code, 2);
    assert!(err.contains("machines[0].runs: names db3, but db.replicas is 1"), "{err}");
}

/// Random machine lists over random designs: validation never panics, and whatever it accepts
/// places every component once, keepalived beside its HAProxy, the listed machines first.
#[test]
fn random_machine_lists_never_panic_and_what_validates_places_every_component_once() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(14);
    let ids = ["server1", "server2", "box-a", "web1", "", "Big", "a", "a", "x-y-z", "m\u{7}"];
    let names = [
        "lb1",
        "lb2",
        "keepalived1",
        "keepalived2",
        "web1",
        "web2",
        "web3",
        "app1",
        "app2",
        "app3",
        "db1",
        "db2",
        "db3",
        "web0",
        "nginx1",
    ];
    let mut accepted = 0;
    for round in 0..3_000 {
        let mut s = preset(preset_names()[round % preset_names().len()]).unwrap();
        s.balancer.pair = rng.random_bool(0.3);
        s.balancer.enabled = rng.random_bool(0.9);
        s.db.replicas = rng.random_range(0..3);
        s.db.read_from = infrasim::scenario::ReadFrom::Primary;
        let servers = rng.random_range(1..4);
        s.web.servers.resize(servers, s.web.servers[0].clone());
        s.machines = (0..rng.random_range(0..5))
            .map(|_| Machine {
                id: ids[rng.random_range(0..ids.len())].to_string(),
                cores: rng.random_range(0..70),
                runs: (0..rng.random_range(0..4))
                    .map(|_| names[rng.random_range(0..names.len())].to_string())
                    .collect(),
            })
            .collect();
        let problems = s.validate();
        assert!(problems.iter().all(|p| !p.path.is_empty() && !p.message.is_empty()));
        let placed = s.placement();
        if !problems.is_empty() {
            continue;
        }
        accepted += 1;
        assert_each_component_placed_once(&s, &format!("round {round}: {:?}", s.machines));
        for (m, listed) in placed.iter().zip(&s.machines) {
            assert_eq!(m.id, listed.id);
            assert_eq!(m.cores, Cores::Count(listed.cores));
        }
        for m in &placed {
            for c in m.components.iter().filter(|c| c.kind == ComponentKind::Keepalived) {
                let lb = ComponentId { kind: ComponentKind::Lb, index: c.index };
                assert!(m.components.contains(&lb), "round {round}: {m:?}");
            }
        }
        let text = setting_value(&s, "machines").unwrap();
        let mut back = Scenario { machines: Vec::new(), ..s.clone() };
        apply_setting(&mut back, "machines", &text).unwrap();
        assert_eq!(back, s, "round {round}: {text}");
    }
    assert!(accepted > 300, "the sweep reaches valid designs: {accepted}");
    // Junk as the setting's text: refused or accepted, never a panic.
    for _ in 0..3_000 {
        let len = rng.random_range(0..40);
        let junk: String =
            (0..len).map(|_| [':', ',', '/', '+', ' ', 'a', '1', '\u{0}', 'é'][rng.random_range(0..9)]).collect();
        let mut s = preset("three-server").unwrap();
        if apply_setting(&mut s, "machines", &junk).is_ok() {
            let _ = s.validate();
            let _ = s.placement();
        }
    }
}
