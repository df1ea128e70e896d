//! The batch runner as a user calls it.
#![cfg(not(target_arch = "wasm32"))]

use std::process::Command;

fn infrasim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_infrasim")).args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

const RUN_ARGS: &[&str] = &[
    "run",
    "--preset",
    "three-server",
    "--set",
    "traffic.arrival_rate_per_s=150",
    "--set",
    "web.count=3",
    "--seed",
    "5",
    "--duration-s",
    "30",
    "--json",
];

#[test]
fn run_prints_the_documented_json() {
    let (code, out, err) = infrasim(RUN_ARGS);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    for key in ["arrived", "completed", "failed", "in_flight"] {
        assert!(v["requests"][key].is_u64(), "requests.{key}");
    }
    for key in ["mean", "p50", "p95", "p99", "max"] {
        assert!(v["latency_ms"][key].is_f64(), "latency_ms.{key}");
    }
    assert!(v["requests"]["failed_by_cause"].is_object());
    assert!(v["fairness_jain"].as_f64().unwrap() > 0.9);
    let rate = v["throughput_per_s"].as_f64().unwrap();
    assert!((rate - 150.0).abs() < 10.0, "throughput {rate}");
    let servers = v["by_server"].as_array().unwrap();
    assert_eq!(servers.len(), 3);
    assert_eq!(servers[2]["id"], "web3");
    assert!(servers[0]["utilization"].as_f64().unwrap() > 0.0);
    assert_eq!(v["seed"], 5);
    // Same arguments, same output.
    let (_, again, _) = infrasim(RUN_ARGS);
    assert_eq!(out, again);
}

#[test]
fn bad_keys_and_values_exit_2_naming_the_key_and_what_is_allowed() {
    let cases: [(&[&str], &str); 6] = [
        (&["run", "--set", "web.cont=3"], "web.cont: unknown key; allowed keys:"),
        (&["run", "--set", "web.count=0"], "web.count: 0 is out of range; allowed 1 to 128"),
        (&["run", "--set", "traffic.write_ratio=lots"], "traffic.write_ratio: 'lots' is not a number"),
        (
            &["run", "--set", "balancer.algorithm=fastest"],
            "allowed roundrobin, static-rr, leastconn, first, source, random",
        ),
        (&["run", "--set", "web.weights=1,2,3"], "3 weights given for 2 servers"),
        (&["run", "--preset", "nope"], "unknown preset 'nope'; allowed: three-server"),
    ];
    for (args, expected) in cases {
        let (code, _, err) = infrasim(args);
        assert_eq!(code, 2, "{args:?}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn presets_and_show() {
    let (code, out, _) = infrasim(&["presets"]);
    assert_eq!(code, 0);
    for name in ["three-server", "queue-lab", "single-server"] {
        assert!(out.contains(name), "{out}");
    }
    let (code, out, _) = infrasim(&["show", "--preset", "queue-lab"]);
    assert_eq!(code, 0);
    let s = infrasim::scenario::Scenario::from_json(&out).expect("show prints a loadable scenario");
    assert_eq!(s, infrasim::scenario::preset("queue-lab").unwrap());
    let (code, out, _) = infrasim(&["show", "--keys"]);
    assert_eq!(code, 0);
    for key in ["balancer.algorithm", "web.service_time_cv", "warmup_s", "traffic.arrival_rate_per_s"] {
        assert!(out.lines().any(|l| l.starts_with(key)), "show --keys documents {key}");
    }
    assert!(out.contains("requests/s"), "units are shown");
}

#[test]
fn scenario_files_load_and_bad_ones_exit_2_with_paths() {
    let dir = std::env::temp_dir().join(format!("infrasim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.json");
    std::fs::write(&good, r#"{"version":1,"name":"mine","traffic":{"arrival_rate_per_s":20}}"#).unwrap();
    let (code, out, err) = infrasim(&["run", "--scenario", good.to_str().unwrap(), "--duration-s", "10", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"scenario\": \"mine\""));
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"version":1,"traffic":{"arrival_rate_per_s":"fast","colour":1},"web":{"servers":[{"workers":0}]}}"#,
    )
    .unwrap();
    let (code, _, err) = infrasim(&["run", "--scenario", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    for path in ["traffic.arrival_rate_per_s", "traffic.colour", "web.servers[0].workers"] {
        assert!(err.contains(path), "{path} missing from: {err}");
    }
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn faults_from_the_command_line_show_in_the_timeline() {
    // 50 requests/s: with web1 down, server2's two cores must carry the whole site (and web2 is
    // slowed four times), which they can at this load, not at the preset's 100/s.
    let (code, out, err) = infrasim(&[
        "run",
        "--set",
        "traffic.arrival_rate_per_s=50",
        "--fault",
        "30s:kill:web1",
        "--fault",
        "45s:restore:web1",
        "--fault",
        "10s:slow=4:web2",
        "--duration-s",
        "60",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let events: Vec<(String, String)> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["node"].as_str().unwrap().to_string(), e["event"].as_str().unwrap().to_string()))
        .collect();
    for expected in
        [("web2", "slowed"), ("web1", "killed"), ("web1", "marked down"), ("web1", "restored"), ("web1", "marked up")]
    {
        assert!(events.iter().any(|(n, e)| n == expected.0 && e == expected.1), "{expected:?} in {events:?}");
    }
    let availability = v["availability"].as_f64().unwrap();
    assert!(availability > 0.9 && availability < 1.0, "{availability}");
    for bad in
        ["30s:explode:web1", "soon:kill:web1", "30s:kill:web9", "30s:cut:lb1", "30s:slow=x:web1", "30s:slow=4:lb1"]
    {
        let (code, _, err) = infrasim(&["run", "--fault", bad]);
        assert_eq!(code, 2, "{bad}");
        assert!(err.contains("--fault"), "{bad}: {err}");
    }
}

#[test]
fn spof_prints_json_with_the_single_points_of_failure() {
    let (code, out, err) = infrasim(&["spof", "--preset", "three-server"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let spofs: Vec<&str> =
        v["single_points_of_failure"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
    assert!(spofs.contains(&"lb1") && spofs.contains(&"db1"), "{spofs:?}");
    assert!(v["nodes"].as_array().unwrap().iter().all(|n| n["effect"].is_string()));
}

#[test]
fn database_keys_and_json() {
    let (code, out, err) = infrasim(&[
        "run",
        "--set",
        "db.replicas=2",
        "--set",
        "db.replication=semisync",
        "--set",
        "db.failover=auto",
        "--set",
        "db.read_from=proxy",
        "--set",
        "db.detect_interval_ms=500",
        "--set",
        "db.detect_misses=2",
        "--fault",
        "20s:kill:db1",
        "--duration-s",
        "40",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let db = &v["db"];
    for key in [
        "writes_acknowledged",
        "writes_lost",
        "stale_reads",
        "replication_lag_ms_max",
        "replication_lag_ms_mean",
        "promotions",
        "split_brain_s",
        "semisync_fallbacks",
    ] {
        assert!(db[key].is_number(), "db.{key} in {db}");
    }
    assert_eq!(db["promotions"], 1);
    assert_eq!(db["writes_lost"], 0);
    let (code, _, err) = infrasim(&["run", "--set", "db.replication=sync"]);
    assert_eq!(code, 2);
    assert!(err.contains("allowed async, semisync"), "{err}");
}
