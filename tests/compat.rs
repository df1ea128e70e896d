//! Links and scenario files saved by the version before machines (`../shared/compat`, made at
//! commit d74949d) still open the same design: the same components, settings and commands, one
//! machine per node. New links are format 2 and carry machines.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::infrasim;

use infrasim::scenario::url::{base64url_decode, decode, encode, link_format, percent_decode, UrlState};
use infrasim::scenario::{
    apply_setting, components, preset, preset_names_v1, preset_v1, preset_v2, setting_docs, setting_value,
    ComponentKind, Cores, Machine, Scenario,
};
use infrasim::sim::Command;
use serde_json::Value;

const COMPAT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/compat");

fn saved_links() -> Vec<String> {
    let text = std::fs::read_to_string(format!("{COMPAT}/links-v1.txt")).expect("links-v1.txt");
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from).collect()
}

fn saved_scenario_text(name: &str) -> String {
    std::fs::read_to_string(format!("{COMPAT}/scenarios-v1/{name}.json")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn saved_scenario(name: &str) -> Scenario {
    Scenario::from_json(&saved_scenario_text(name)).unwrap_or_else(|p| panic!("{name}.json: {p:?}"))
}

/// A link's parameters, percent-decoded, read here without the decoder under test.
fn params(query: &str) -> Vec<(String, String)> {
    let query = query.strip_prefix('?').unwrap_or(query);
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k).unwrap(), percent_decode(v).unwrap())
        })
        .collect()
}

/// What the version before machines made of a saved link: the saved preset file, the link's
/// settings and seed applied, and its command log read straight from the JSON.
fn expected_from_saved(query: &str) -> (Scenario, Vec<Command>) {
    let params = params(query);
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let mut scenario = saved_scenario(&get("preset").unwrap_or_else(|| "three-server".into()));
    let link_params = ["v", "preset", "seed", "step", "speed", "embed", "t", "cmds", "name", "scenario"];
    for (k, v) in params.iter().filter(|(k, _)| !link_params.contains(&k.as_str())) {
        apply_setting(&mut scenario, k, v).unwrap_or_else(|e| panic!("{query}: {e}"));
    }
    if let Some(seed) = get("seed") {
        scenario.seed = seed.parse().unwrap();
    }
    let commands = match get("cmds") {
        None => Vec::new(),
        Some(text) => {
            let json: Value = serde_json::from_slice(&base64url_decode(&text).unwrap()).unwrap();
            json.as_array().unwrap().iter().map(|c| Command::from_json(c).unwrap()).collect()
        }
    };
    (scenario, commands)
}

/// The boxes the version before machines drew: a balancer box (HAProxy, keepalived with a
/// pair), a web box per server (Nginx and the application), a box per database node.
fn assert_one_machine_per_node(s: &Scenario, label: &str) {
    assert!(s.machines.is_empty(), "{label}: no machine listed");
    let placed = s.placement();
    let nodes = components(s)
        .iter()
        .filter(|c| matches!(c.kind, ComponentKind::Lb | ComponentKind::Web | ComponentKind::Db))
        .count();
    assert_eq!(placed.len(), nodes, "{label}: one machine per node: {placed:?}");
    for m in &placed {
        assert_eq!(m.cores, Cores::Dedicated, "{label}: {}", m.id);
        assert_eq!(m.id, m.components[0].to_string(), "{label}: named after its node");
        let kinds: Vec<ComponentKind> = m.components.iter().map(|c| c.kind).collect();
        let expected: &[ComponentKind] = match kinds[0] {
            ComponentKind::Lb if s.balancer.pair => &[ComponentKind::Lb, ComponentKind::Keepalived],
            ComponentKind::Lb => &[ComponentKind::Lb],
            ComponentKind::Web => &[ComponentKind::Web, ComponentKind::App],
            _ => &[ComponentKind::Db],
        };
        assert_eq!(kinds, expected, "{label}: {}", m.id);
        assert!(m.components.iter().all(|c| c.index == m.components[0].index), "{label}: {m:?}");
    }
}

#[test]
fn every_saved_link_opens_the_design_it_was_made_with() {
    let links = saved_links();
    assert!(links.len() >= 8, "the saved links are read: {links:?}");
    for query in &links {
        let state = decode(query).unwrap_or_else(|p| panic!("{query}: {p:?}"));
        let (scenario, commands) = expected_from_saved(query);
        assert_eq!(state.scenario, scenario, "{query}");
        assert_eq!(components(&state.scenario), components(&scenario), "{query}");
        for doc in setting_docs() {
            assert_eq!(
                setting_value(&state.scenario, doc.key),
                setting_value(&scenario, doc.key),
                "{query}: {}",
                doc.key
            );
        }
        assert_eq!(state.commands, commands, "{query}");
        assert_eq!(state.step, Some(1), "{query}");
        assert_one_machine_per_node(&state.scenario, query);
        assert_eq!(link_format(query), 1, "{query}");
    }
}

#[test]
fn a_saved_link_shared_again_is_format_3_and_opens_the_same_run() {
    for query in saved_links() {
        let state = decode(&query).unwrap();
        let again = encode(&state);
        assert!(again.starts_with("v=3&"), "{again}");
        assert_eq!(link_format(&again), 3);
        assert!(!again.contains("scenario="), "every difference from today's preset has a key: {again}");
        assert_eq!(decode(&again).unwrap_or_else(|p| panic!("{again}: {p:?}")), state, "{query} -> {again}");
    }
    // The presets whose design changed say so in the link.
    let three = encode(&decode("?v=1&preset=three-server&seed=1").unwrap());
    assert_eq!(three, "v=3&preset=three-server&web.static_ratio=0&web.nginx_time_ms=0&machines=none&seed=1");
    let queue = encode(&decode("?v=1&preset=queue-lab&seed=1").unwrap());
    assert_eq!(queue, "v=3&preset=queue-lab&seed=1", "queue-lab did not change");
    // A format-2 link (machines, before Nginx's own work) keeps its design too.
    let two = encode(&decode("?v=2&preset=scale-up&seed=1").unwrap());
    assert_eq!(two, "v=3&preset=scale-up&web.static_ratio=0&web.nginx_time_ms=0&seed=1");
}

#[test]
fn format_1_names_the_old_presets_and_format_2_the_new() {
    for name in preset_names_v1() {
        let old = decode(&format!("v=1&preset={name}")).unwrap().scenario;
        assert_eq!(old, saved_scenario(name), "{name}: the v1 table is the saved one");
    }
    let old = decode("v=1&preset=three-server").unwrap().scenario;
    let new = decode("v=3&preset=three-server").unwrap().scenario;
    assert_eq!(new, preset("three-server").unwrap());
    assert_eq!(new.machines.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["balancer1", "server1", "server2"]);
    let two = decode("v=2&preset=three-server").unwrap().scenario;
    assert_eq!((two.web.static_ratio, two.web.nginx_time_ms), (0.0, 0.0), "format 2 had no Nginx work");
    assert_eq!(Scenario { machines: Vec::new(), ..two.clone() }, old, "from 1 to 2 only the machines differ");
    // A link without v= is this version's.
    assert_eq!(decode("preset=three-server").unwrap().scenario, new);
    assert_eq!(two.web, preset_v2("three-server").unwrap().web);
    assert_eq!(decode("v=1").unwrap().scenario, old, "v=1 without preset= is the old default design");
    // Names that format 1 did not have are refused in it, naming what it had.
    let problems = decode("v=1&preset=scale-up").unwrap_err();
    assert_eq!(problems[0].path, "preset");
    assert!(problems[0].message.contains("single-server"), "{problems:?}");
    // The old name still opens in format 2, as the preset it now stands for.
    let simple = decode("v=3&preset=single-server").unwrap();
    assert_eq!(simple.scenario, preset("simple-web-stack").unwrap());
    assert_eq!(simple.preset, "single-server");
}

#[test]
fn every_saved_scenario_file_loads_and_shows_the_same_settings() {
    let dir = std::fs::read_dir(format!("{COMPAT}/scenarios-v1")).unwrap();
    let mut files = 0;
    for entry in dir {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let loaded = saved_scenario(&name);
        assert_eq!(Some(&loaded), preset_v1(&name).as_ref(), "{name}: the frozen v1 builder");
        assert_one_machine_per_node(&loaded, &name);
        // `show` prints every value the file had, unchanged (fields added since take defaults).
        let (code, shown, err) = infrasim(&["show", "--scenario", path.to_str().unwrap()]);
        assert_eq!(code, 0, "{name}: {err}");
        let shown: Value = serde_json::from_str(&shown).unwrap();
        for (leaf, value) in leaves(&serde_json::from_str(&text).unwrap(), String::new()) {
            assert_eq!(pointer(&shown, &leaf), Some(&value), "{name}: {leaf}");
        }
        let (code, keys, err) = infrasim(&["show", "--keys", "--scenario", path.to_str().unwrap()]);
        assert_eq!(code, 0, "{name}: {err}");
        for doc in setting_docs() {
            let line = keys.lines().find(|l| l.split_whitespace().next() == Some(doc.key)).expect(doc.key);
            let value = line.split_whitespace().nth(1).unwrap();
            assert_eq!(Some(value), setting_value(&loaded, doc.key).as_deref(), "{name}: {}", doc.key);
        }
        files += 1;
    }
    assert_eq!(files, preset_names_v1().len(), "one saved file per v1 preset");
}

/// Every leaf of a JSON value with its pointer (`/web/servers/0/workers`).
fn leaves(v: &Value, at: String) -> Vec<(String, Value)> {
    match v {
        Value::Object(map) => map.iter().flat_map(|(k, c)| leaves(c, format!("{at}/{k}"))).collect(),
        Value::Array(items) => items.iter().enumerate().flat_map(|(i, c)| leaves(c, format!("{at}/{i}"))).collect(),
        leaf => vec![(at, leaf.clone())],
    }
}

fn pointer<'a>(v: &'a Value, at: &str) -> Option<&'a Value> {
    v.pointer(at)
}

#[test]
fn a_format_2_link_round_trips_machines() {
    let mut s = preset("three-server").unwrap();
    // db1 moved off server1 onto a machine of its own, server2 given more cores.
    s.machines[1].runs.retain(|r| r != "db1");
    s.machines[2].cores = 8;
    s.machines.push(Machine { id: "db-box".into(), cores: 4, runs: vec!["db1".into()] });
    assert!(s.validate().is_empty(), "{:?}", s.validate());
    let state = UrlState { step: Some(2), ..UrlState::new("three-server", s.clone()) };
    let query = encode(&state);
    assert!(
        query.contains("machines=balancer1:2:lb1,server1:2:web1/app1,server2:8:web2/app2/db2,db-box:4:db1"),
        "{query}"
    );
    assert!(!query.contains("scenario="), "{query}");
    assert_eq!(decode(&query).unwrap(), state);
    // Typed by hand, `+` between components (a space once the link is decoded) reads the same.
    let typed =
        decode("v=3&machines=balancer1:2:lb1,server1:2:web1+app1,server2:8:web2+app2+db2,db-box:4:db1").unwrap();
    assert_eq!(typed.scenario, s);
    // Every machine's cores at once.
    let all_four = decode("v=2&preset=three-server&machines.cores=4").unwrap().scenario;
    assert!(all_four.machines.iter().all(|m| m.cores == 4) && all_four.machines.len() == 3);
}

#[test]
fn a_bad_machine_in_a_link_is_reported_at_its_parameter_or_field() {
    let cases = [
        ("v=2&machines=server1:0:web1", "machines", "cores"),
        ("v=2&machines=server1", "machines", "ID:CORES:COMPONENTS"),
        ("v=2&machines=server1:2:web1/db3", "machines[0].runs", "names db3, but db.replicas is 1"),
        ("v=2&machines=Server1:2:web1", "machines[0].id", "allowed a-z"),
        ("v=2&machines=web1:2:web1", "machines[0].id", "component's id"),
        ("v=2&machines=a:2:web1,a:2:web2", "machines[1].id", "unique"),
        ("v=2&machines=a:2:web1,b:2:web1", "machines[1].runs", "machines[0] runs it"),
        ("v=2&machines.cores=65", "machines.cores", "out of range"),
    ];
    for (query, path, says) in cases {
        let problems = decode(query).expect_err(query);
        assert!(problems.iter().any(|p| p.path == path && p.message.contains(says)), "{query}: {problems:?}");
    }
}
