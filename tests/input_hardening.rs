//! Inputs that used to be accepted but meant nothing, or cost without bound: each is refused
//! with exit code 2 and a message naming what was typed. And one table per setting: `--set`,
//! `show --keys`, `validate()`, the live commands and the page's fields agree on every range.
#![cfg(not(target_arch = "wasm32"))]

use infrasim::scenario::url::{decode, MAX_LINK_CHARS, MAX_LINK_COMMANDS};
use infrasim::scenario::{
    apply_setting, field_limits, preset, preset_names, setting_value, settings, Allowed, Scenario, MAX_PROBLEMS_SHOWN,
    MAX_SCENARIO_BYTES,
};
use infrasim::sim::command::NodeClass;
use infrasim::sim::CommandKind;
use serde_json::Value;
use std::process::Command;

fn infrasim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_infrasim")).args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// A scenario file in the test's temporary directory.
fn scenario_file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("infrasim-hardening-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

fn assert_refused(args: &[&str], names: &str) {
    let (code, out, err) = infrasim(args);
    assert_eq!(code, 2, "{args:?} exits 2; stdout {out} stderr {err}");
    assert!(err.contains(names), "{args:?}: the message names {names:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
}

#[test]
fn meaningless_command_lines_are_refused_naming_what_was_typed() {
    let cases: &[(&[&str], &str)] = &[
        (&["run", "--fault", "30s:cut:web1-web2"], "web1-web2 is not a link"),
        (&["run", "--fault", "30s:cut:clients-db1"], "clients-db1 is not a link"),
        (
            &["run", "--duration-s", "60", "--fault", "90s:kill:web1"],
            "--fault 90s:kill:web1: at or after the run's end",
        ),
        (&["run", "--duration-s", "1e-9"], "--duration-s"),
        (&["run", "--set", "balancer.timeout_queue_ms=0.0004"], "balancer.timeout_queue_ms: 0.0004 ms rounds to 0"),
        (&["run", "--fault", "30sss:kill:web1"], "'30sss' is not a time"),
        (&["run", "--fault", "30s:kill:web+1"], "'web+1' is not a node"),
        (&["run", "--fault", "30s:kill:web01"], "'web01' is not a node"),
        (&["run", "--fault", "30s:kill:web65536"], "web65536 is not part of this design"),
        (&["run", "--set", "web.backup=web+1"], "'web+1' is not a server"),
        (&["run", "--set", "warmup_s=10", "--duration-s", "5"], "warmup_s 10 s is not shorter than --duration-s 5"),
        (&["run", "--set", "warmup_s=5", "--duration-s", "5"], "warmup_s 5 s is not shorter"),
    ];
    for (args, names) in cases {
        assert_refused(args, names);
    }
    // Just inside each bound still runs.
    for args in [
        &["run", "--duration-s", "2", "--fault", "1.999s:kill:web1"][..],
        &["run", "--duration-s", "0.001"],
        &["run", "--duration-s", "2", "--set", "warmup_s=1.5", "--set", "balancer.timeout_queue_ms=0.001"],
        &["run", "--duration-s", "2", "--fault", "1s:cut:lb1-web2", "--fault", "1s:cut:clients-dns"],
    ] {
        let (code, _, err) = infrasim(args);
        assert_eq!(code, 0, "{args:?}: {err}");
    }
}

#[test]
fn a_preset_and_a_scenario_file_together_are_refused() {
    let file = scenario_file("plain.json", "{}");
    let (code, _, err) = infrasim(&["run", "--preset", "queue-lab", "--scenario", &file]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--preset") && err.contains("--scenario"), "{err}");
    let (code, _, err) = infrasim(&["run", "--scenario", &file, "--duration-s", "1"]);
    assert_eq!(code, 0, "the file alone still runs: {err}");
}

#[test]
fn scenario_names_are_short_and_printable() {
    for (name, says) in [
        ("evil\u{1b}[2J\u{1b}[31mred".to_string(), "control character"),
        ("line\nbreak".to_string(), "control character"),
        ("x".repeat(101), "101 characters"),
    ] {
        let text = serde_json::json!({ "name": name }).to_string();
        let file = scenario_file("named.json", &text);
        assert_refused(&["run", "--scenario", &file], "name: ");
        let problems = Scenario::from_json(&text).unwrap_err();
        assert!(problems.iter().any(|p| p.path == "name" && p.message.contains(says)), "{problems:?}");
    }
    let ok = serde_json::json!({ "name": "Trois serveurs — été 2026 (v2)".to_string() + &"x".repeat(70) });
    assert!(Scenario::from_json(&ok.to_string()).is_ok());
}

#[test]
fn scenario_input_is_bounded_in_size_and_in_problems_reported() {
    // A big file is refused before it is parsed, in one line.
    let big = format!("{{\"name\":\"{}\"}}", "a".repeat(MAX_SCENARIO_BYTES));
    let file = scenario_file("big.json", &big);
    let (code, _, err) = infrasim(&["run", "--scenario", &file]);
    assert_eq!(code, 2);
    assert!(err.contains("larger than a scenario may be") && err.lines().count() == 1, "{err}");
    assert!(Scenario::from_json(&big).unwrap_err()[0].message.contains("larger than"));

    // A million bad servers cannot fit; a list over the server limit is one problem, not one per server.
    let servers = vec![serde_json::json!({"workers": 0}); 5_000];
    let text = serde_json::json!({ "web": { "servers": servers } }).to_string();
    let problems = Scenario::from_json(&text).unwrap_err();
    assert_eq!(problems.len(), 1, "{:?}", &problems[..problems.len().min(3)]);
    assert!(problems[0].message.contains("5000 servers: allowed 1 to 128"), "{problems:?}");

    // Many wrong fields: the first 50, then how many more.
    let fields: serde_json::Map<String, Value> = (0..1_000).map(|i| (format!("bad{i}"), Value::from(i))).collect();
    let problems = Scenario::from_json(&Value::Object(fields).to_string()).unwrap_err();
    assert_eq!(problems.len(), MAX_PROBLEMS_SHOWN + 1);
    assert_eq!(problems.last().unwrap().message, format!("and {} more problems", 1_000 - MAX_PROBLEMS_SHOWN));
    let text = serde_json::json!({ "web": { "servers": vec![serde_json::json!({"workers": 0, "weight": 999}); 100] } });
    let file = scenario_file("many.json", &text.to_string());
    let (code, _, err) = infrasim(&["run", "--scenario", &file]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), MAX_PROBLEMS_SHOWN + 1, "{err}");
    assert!(err.lines().last().unwrap().contains("and 150 more problems"), "{err}");
}

/// The JSON path(s) a key's value lives at in a scenario.
fn json_paths(key: &str, servers: usize, machines: usize) -> Vec<Vec<String>> {
    if key == "machines.cores" {
        return (0..machines).map(|i| vec!["machines".into(), i.to_string(), "cores".into()]).collect();
    }
    let server_field = match key {
        "balancer.maxconn" => Some("maxconn"),
        "web.weights" => Some("weight"),
        // Settings of the web tier as a whole, not of each server.
        "web.static_ratio" | "web.nginx_time_ms" => None,
        k => k.strip_prefix("web."),
    };
    match server_field {
        Some(field) => {
            (0..servers).map(|i| vec!["web".into(), "servers".into(), i.to_string(), field.into()]).collect()
        }
        None => vec![key.split('.').map(String::from).collect()],
    }
}

/// The scenario `base` with the value at `key` written straight into its JSON (no `--set`).
fn with_raw_value(base: &Scenario, key: &str, value: Value) -> Result<Scenario, Vec<infrasim::scenario::Problem>> {
    let mut json = serde_json::to_value(base).unwrap();
    for path in json_paths(key, base.web.servers.len(), base.machines.len()) {
        let mut cur = &mut json;
        for part in &path {
            cur = match part.parse::<usize>() {
                Ok(i) => &mut cur[i],
                Err(_) => &mut cur[part.as_str()],
            };
        }
        *cur = value.clone();
    }
    Scenario::from_value(json)
}

/// The error paths `validate()` may report a key under.
fn reported_at(problems: &[infrasim::scenario::Problem], key: &str) -> bool {
    let field = if key == "web.weights" { "weight" } else { key.rsplit('.').next().unwrap() };
    let per_item = |p: &str| p.starts_with("web.servers[") || (key == "machines.cores" && p.starts_with("machines["));
    problems.iter().any(|p| p.path == key || (per_item(&p.path) && p.path.ends_with(field)))
}

/// The next f64 above `v` (v ≥ 0; `f64::next_up` needs a newer Rust than the crate's minimum).
fn just_above(v: f64) -> f64 {
    f64::from_bits(v.to_bits() + 1)
}

/// The next f64 below `v` (v ≥ 0).
fn just_below(v: f64) -> f64 {
    if v == 0.0 {
        -f64::MIN_POSITIVE
    } else {
        f64::from_bits(v.to_bits() - 1)
    }
}

/// A live command that sets the value of one setting.
type MakeCommand = fn(f64) -> CommandKind;

/// Numeric keys and the values just inside and just outside their bounds.
fn bounds() -> Vec<(&'static str, bool, Vec<f64>, Vec<f64>)> {
    let mut out = Vec::new();
    for row in settings() {
        let whole = matches!(row.allowed, Allowed::Whole { .. });
        let (inside, outside) = match row.allowed {
            Allowed::Number { min, max } => (vec![min, max], vec![just_below(min), just_above(max), f64::NAN]),
            Allowed::Whole { min, max } if max == u64::MAX => (vec![min as f64], vec![]),
            Allowed::Whole { min, max } => {
                let mut outside = vec![max as f64 + 1.0];
                if min > 0 {
                    outside.push(min as f64 - 1.0);
                }
                (vec![min as f64, max as f64], outside)
            }
            _ => continue,
        };
        if row.key != "web.count" {
            out.push((row.key, whole, inside, outside));
        }
    }
    out
}

#[test]
fn set_and_validate_agree_with_the_table_at_every_bound() {
    let base = preset("three-server").unwrap();
    let bounded = bounds();
    assert!(bounded.len() > 50, "most settings are numeric: {}", bounded.len());
    let json = |whole: bool, v: f64| if whole { serde_json::json!(v as u64) } else { serde_json::json!(v) };
    // The weights are a list, one per server.
    let text_of = |key: &str, v: f64| {
        let one = format!("{v}");
        if key == "web.weights" {
            vec![one; base.web.servers.len()].join(",")
        } else {
            one
        }
    };
    for (key, whole, inside, outside) in bounded {
        for v in inside {
            let text = text_of(key, v);
            let mut s = base.clone();
            if let Err(e) = apply_setting(&mut s, key, &text) {
                panic!("{key}={text} is within the table's range but --set refuses it: {e}");
            }
            let raw = with_raw_value(&base, key, json(whole, v));
            let problems = raw.err().unwrap_or_default();
            assert!(!reported_at(&problems, key), "{key}={v}: validate refuses a value --set accepts: {problems:?}");
        }
        for v in outside {
            let text = text_of(key, v);
            assert!(apply_setting(&mut base.clone(), key, &text).is_err(), "{key}={text} is outside, --set accepts it");
            if v.is_finite() && v >= 0.0 {
                let problems = with_raw_value(&base, key, json(whole, v)).err().unwrap_or_default();
                assert!(reported_at(&problems, key), "{key}={v}: validate accepts a value the table refuses");
            }
        }
    }
}

#[test]
fn live_commands_check_the_same_ranges_as_the_table() {
    let limits = |key: &str| {
        let l = field_limits(key);
        (l.min, l.max)
    };
    let cases: Vec<(&str, MakeCommand)> = vec![
        ("traffic.arrival_rate_per_s", |v| CommandKind::SetArrivalRate { per_s: v }),
        ("traffic.write_ratio", |v| CommandKind::SetWriteRatio { ratio: v }),
        ("balancer.timeout_queue_ms", |v| CommandKind::SetTimeoutQueue { ms: v }),
        ("db.apply_rate_per_s", |v| CommandKind::SetApplyRate { per_s: v }),
        ("balancer.random_draws", |v| CommandKind::SetRandomDraws { draws: v as u32 }),
        ("balancer.retries", |v| CommandKind::SetRetries { retries: v as u32 }),
        ("balancer.maxqueue", |v| CommandKind::SetMaxqueue { maxqueue: v as u32 }),
        ("balancer.maxconn", |v| CommandKind::SetMaxconn { maxconn: v as u32 }),
        ("web.weights", |v| CommandKind::SetWeight { server: 0, weight: v as u32 }),
        ("web.count", |v| CommandKind::SetServerCount { count: v as u16 }),
        ("failures.db.mtbf_s", |v| CommandKind::SetFailureRate { class: NodeClass::Db, mtbf_s: v, mttr_s: 60.0 }),
        ("failures.web.mttr_s", |v| CommandKind::SetFailureRate { class: NodeClass::Web, mtbf_s: 0.0, mttr_s: v }),
    ];
    for (key, make) in cases {
        let (min, max) = limits(key);
        let whole = field_limits(key).step == "1";
        let step = if whole { 1.0 } else { 0.0 };
        for v in [min, max] {
            assert_eq!(make(v).check(128), Ok(()), "{key}: {v} is inside");
        }
        for v in [if whole { min - step } else { just_below(min) }, if whole { max + step } else { just_above(max) }] {
            if v >= 0.0 {
                assert!(make(v).check(128).is_err(), "{key}: {v} is outside, the command accepts it");
            }
        }
    }
}

#[test]
fn every_value_show_keys_prints_is_accepted_back_and_round_trips() {
    for name in preset_names() {
        let (code, out, err) = infrasim(&["show", "--keys", "--preset", name]);
        assert_eq!(code, 0, "{err}");
        let mut args: Vec<String> = vec!["run".into(), "--preset".into(), name.to_string()];
        let mut printed = 0;
        for line in out.lines().skip(1) {
            let mut cols = line.split_whitespace();
            let (Some(key), Some(value)) = (cols.next(), cols.next()) else { continue };
            assert_eq!(setting_value(&preset(name).unwrap(), key).as_deref(), Some(value), "{name} {key}");
            args.extend(["--set".to_string(), format!("{key}={value}")]);
            printed += 1;
        }
        assert_eq!(printed, settings().len(), "{name}: one line per setting");
        args.extend(["--duration-s", "0.5", "--json"].map(String::from));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, _, err) = infrasim(&refs);
        assert_eq!(code, 0, "{name}: every printed value is accepted by --set: {err}");

        // Written back, every value leaves the scenario as it was.
        let original = preset(name).unwrap();
        for row in settings() {
            let value = setting_value(&original, row.key).unwrap();
            let mut s = original.clone();
            apply_setting(&mut s, row.key, &value).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(s, original, "{name}: {}={value} round-trips", row.key);
        }
    }
    let (_, out, _) = infrasim(&["show", "--keys"]);
    assert!(out.lines().any(|l| l.starts_with("web.backup") && l.contains(" none ")), "{out}");
}

#[test]
fn the_page_fields_take_their_limits_from_the_table() {
    // The replica apply rate once allowed 1 at least in the page and 0.001 in the model.
    let apply = field_limits("db.apply_rate_per_s");
    assert_eq!((apply.min, apply.max, apply.step), (0.001, 1_000_000.0, "any"));
    assert_eq!(field_limits("balancer.retries").step, "1");
    for row in settings() {
        if let Some(limits) = row.field_limits() {
            assert_eq!(field_limits(row.key), limits, "{}", row.key);
            assert!(limits.min <= limits.max && limits.max > 0.0, "{}: {limits:?}", row.key);
        }
    }
    // Every number field of the page names a table key and writes no limit of its own.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/ui");
    let mut fields = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for (at, _) in text.match_indices("<NumberField").chain(text.match_indices("<DecimalField")) {
            let tag = &text[at..at + text[at..].find("/>").unwrap()];
            let key = tag.split("setting=").nth(1).map(|rest| rest.split_whitespace().next().unwrap());
            let Some(key) = key else { panic!("{}: a field without setting=: {tag}", path.display()) };
            assert!(!tag.contains("min=") && !tag.contains("max="), "{}: own limits in {tag}", path.display());
            let key = key.trim_matches(|c| c == '"' || c == '{' || c == '}');
            if !key.contains('(') {
                assert!(settings().iter().any(|r| r.key == key), "{}: no setting {key}", path.display());
            }
            fields += 1;
        }
    }
    assert!(fields >= 5, "found the page's number fields: {fields}");
    for class in NodeClass::ALL {
        assert!(field_limits(class.mtbf_key()).max > 0.0 && field_limits(class.mttr_key()).min > 0.0);
    }
}

/// A link with one parameter `key` of `value` (percent-encoding not needed for these values).
fn link(extra: &str) -> String {
    format!("?v=1&preset=three-server&seed=1&{extra}")
}

fn cmds_param(count: usize) -> String {
    let log: Vec<Value> = (0..count).map(|i| serde_json::json!({"at_us": i as u64 * 1_000, "what": "pause"})).collect();
    format!("cmds={}", infrasim::scenario::url::base64url_encode(Value::Array(log).to_string().as_bytes()))
}

#[test]
fn hostile_links_are_refused_quickly_with_a_message() {
    let started = std::time::Instant::now();
    let cases: Vec<(String, &str, &str)> = vec![
        (link(&format!("name={}", "a".repeat(MAX_LINK_CHARS))), "(link)", "at most"),
        (link(&format!("scenario={}", "QUFB".repeat(1_300_000))), "(link)", "at most"),
        (link(&cmds_param(10_000)), "cmds", "at most 5000"),
        (link(&cmds_param(MAX_LINK_COMMANDS + 1)), "cmds", "at most"),
        (link("name=evil%1B%5B2J"), "name", "control character"),
        (link(&format!("name={}", "n".repeat(5_000))), "name", "characters"),
        (link("traffic.arrival_rate_per_s=1e308"), "traffic.arrival_rate_per_s", "out of range"),
        (link("web.count=99999999999999999999999"), "web.count", "not a whole number"),
        (link("traffic.arrival_rate_per_s=100000&t=1000000000000"), "t", "would replay"),
        (link("t=999999999999"), "t", "would replay"),
        (link("balancer.timeout_queue_ms=0.0000001"), "balancer.timeout_queue_ms", "rounds to 0"),
    ];
    for (query, path, says) in &cases {
        let problems = decode(query).expect_err(path);
        assert!(
            problems.iter().any(|p| p.path == *path && p.message.contains(says)),
            "{path}: {says}: {:?}",
            &problems[..problems.len().min(3)]
        );
        assert!(problems.len() <= 51);
    }
    assert!(started.elapsed().as_secs_f64() < 10.0, "refusing is quick: {:?}", started.elapsed());
    // Just inside the limits still opens.
    assert!(decode(&link(&cmds_param(MAX_LINK_COMMANDS))).is_ok());
    assert!(decode(&link("t=60000&name=Lab%201")).is_ok());
    // Many bad parameters: the first 50, then how many more.
    let many: Vec<String> = (0..300).map(|i| format!("bad{i}=1")).collect();
    let problems = decode(&link(&many.join("&"))).unwrap_err();
    assert_eq!(problems.len(), 51);
    assert_eq!(problems.last().unwrap().message, "and 250 more problems");
}

#[test]
fn links_saved_by_earlier_versions_still_open_the_same_design() {
    // Lines of the links users saved before these limits (kept verbatim).
    let saved = [
        "?v=1&preset=three-server&seed=1&step=1",
        "?v=1&preset=queue-lab&seed=1&step=1",
        "?v=1&preset=three-server&seed=1&step=1&cmds=W3siYXRfdXMiOjExMDAwMDAsIndoYXQiOnsic2V0X2Fycml2YWxfcmF0ZSI6eyJwZXJfcyI6MjUxLjB9fX1d",
        "?v=1&preset=three-server&db.replicas=2&balancer.pair=true&seed=1&step=1&cmds=W3siYXRfdXMiOjI2MTY2MDAsIndoYXQiOnsia2lsbCI6eyJub2RlIjoid2ViMSJ9fX1d",
    ];
    for query in saved {
        let state = decode(query).unwrap_or_else(|e| panic!("{query}: {e:?}"));
        // A v=1 link names the presets as they were then: one machine per node.
        let mut expected = infrasim::scenario::preset_v1(&state.preset).unwrap();
        if query.contains("db.replicas=2") {
            expected.db.replicas = 2;
            expected.balancer.pair = true;
        }
        assert_eq!(state.scenario, expected, "{query}");
        assert_eq!(state.commands.len(), usize::from(query.contains("cmds=")), "{query}");
    }
}
