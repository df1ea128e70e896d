//! The design exported as configuration files, and `haproxy.cfg` read back (issue 12, parts 2–3).
//! The real programs' own checks of these files are in `tests/real_haproxy.rs`.

use infrasim::export::import::{import_haproxy, parse_time_ms, MAX_CONFIG_BYTES, MAX_CONFIG_LINES};
use infrasim::export::{config_files, haproxy};
use infrasim::scenario::{apply_setting, preset, preset_names, Balancer, Failover, Replication, Scenario};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::process::Command;

fn file<'a>(files: &'a [(String, String)], name: &str) -> &'a str {
    &files.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no {name} in {files:?}")).1
}

/// The balancer settings a haproxy.cfg carries (the pair is keepalived's business).
fn balancer_part(b: &Balancer) -> Balancer {
    Balancer { pair: false, pair_mode: infrasim::scenario::PairMode::Vrrp, ..b.clone() }
}

/// Every preset, and presets with every balancer setting moved off its default.
fn designs() -> Vec<Scenario> {
    let mut out: Vec<Scenario> = preset_names().into_iter().filter_map(preset).collect();
    let variants: &[&[(&str, &str)]] = &[
        &[("balancer.algorithm", "random"), ("balancer.random_draws", "3"), ("balancer.maxqueue", "50")],
        &[("balancer.redispatch", "false"), ("balancer.retries", "0"), ("balancer.timeout_queue_ms", "0")],
        &[("balancer.health.fastinter_ms", "500"), ("balancer.health.downinter_ms", "7500")],
        &[("balancer.slowstart_ms", "1250.5"), ("balancer.allbackups", "true"), ("balancer.algorithm", "first")],
        &[("balancer.health.inter_ms", "1000"), ("balancer.health.fall", "2"), ("balancer.health.rise", "5")],
        &[("web.count", "3"), ("web.weights", "3,0,1"), ("balancer.maxconn", "7"), ("balancer.algorithm", "source")],
    ];
    // Balancer settings need a balancer: the variants start from the designs that have one.
    let balanced: Vec<Scenario> = out.iter().filter(|s| s.balancer.enabled).cloned().collect();
    for (i, sets) in variants.iter().enumerate() {
        let mut s = balanced[i % balanced.len()].clone();
        for (k, v) in *sets {
            apply_setting(&mut s, k, v).unwrap_or_else(|e| panic!("{k}={v}: {e}"));
        }
        s.web.servers.last_mut().unwrap().backup = i % 2 == 0;
        assert!(s.validate().is_empty(), "{:?}", s.validate());
        out.push(s);
    }
    out
}

#[test]
fn importing_the_exported_haproxy_cfg_gives_back_the_same_balancer_for_every_design() {
    let base = Scenario::default();
    // A design without HAProxy (DNS points at web1) has no haproxy.cfg to read back.
    for s in designs().into_iter().filter(|s| s.balancer.enabled) {
        let files = config_files(&s);
        let imported = import_haproxy(file(&files, "haproxy.cfg"), &base)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", s.name, file(&files, "haproxy.cfg")));
        let got = &imported.scenario;
        assert_eq!(balancer_part(&got.balancer), balancer_part(&s.balancer), "{}", s.name);
        assert_eq!(got.web.servers.len(), s.web.servers.len(), "{}", s.name);
        for (a, b) in got.web.servers.iter().zip(&s.web.servers) {
            assert_eq!((a.weight, a.maxconn, a.backup), (b.weight, b.maxconn, b.backup), "{}", s.name);
        }
        assert_eq!(got.security.https, s.security.https, "{}", s.name);
        assert_eq!(got.security.tls_session_s, if s.security.https { s.security.tls_session_s } else { 300.0 });
        // Nothing about the balancer is reported as unsimulated: only timeouts, logging, binds.
        for u in &imported.unsimulated {
            assert!(!u.text.starts_with("server") && !u.text.starts_with("balance"), "{}: {u:?}", s.name);
        }
    }
}

#[test]
fn every_file_is_there_and_carries_its_settings() {
    let s = preset("high-availability").unwrap();
    let files = config_files(&s);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "haproxy.cfg",
            "keepalived-lb1.conf",
            "keepalived-lb2.conf",
            "nginx-web1.conf",
            "nginx-web2.conf",
            "nginx-web3.conf",
            "foobar.com.zone",
            "my-db1.cnf",
            "my-db2.cnf",
            "my-db3.cnf"
        ]
    );
    let cfg = file(&files, "haproxy.cfg");
    assert!(cfg.contains(&format!("bind :443 ssl crt {}", haproxy::CERT_PATH)), "{cfg}");
    assert!(cfg.contains("operator supplies"), "{cfg}");
    let lb1 = file(&files, "keepalived-lb1.conf");
    let lb2 = file(&files, "keepalived-lb2.conf");
    assert!(lb1.contains(&format!("priority {}", s.vrrp.priority_lb1)) && lb1.contains("203.0.113.10/24"));
    assert!(lb2.contains(&format!("priority {}", s.vrrp.priority_lb2)) && lb2.contains("state BACKUP"));
    let primary = file(&files, "my-db1.cnf");
    let replica = file(&files, "my-db2.cnf");
    assert!(primary.contains("server_id = 1") && primary.contains("log_bin = mysql-bin"));
    assert!(primary.contains(&format!("rpl_semi_sync_master_timeout = {}", s.db.semisync_timeout_ms)));
    assert!(replica.contains("server_id = 2") && replica.contains("read_only = ON"));
    assert!(replica.contains("rpl_semi_sync_slave_enabled = ON"));
    // Without the pair, HTTPS, semi-sync or a database, their files and lines are absent.
    let plain = config_files(&preset("queue-lab").unwrap());
    assert_eq!(
        plain.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["haproxy.cfg", "nginx-web1.conf", "nginx-web2.conf", "foobar.com.zone"]
    );
    assert!(!file(&plain, "haproxy.cfg").contains("ssl"));
    let async_replica = config_files(&preset("three-server").unwrap());
    assert!(!file(&async_replica, "my-db2.cnf").contains("rpl_semi_sync"));
}

#[test]
fn nopreempt_and_sub_second_adverts() {
    let mut s = preset("high-availability").unwrap();
    s.vrrp.preempt = false;
    s.vrrp.advert_int_ms = 250.0;
    // Version 2 (keepalived's default) carries whole seconds: 250 ms is rounded to 1 s.
    let files = config_files(&s);
    for name in ["keepalived-lb1.conf", "keepalived-lb2.conf"] {
        let f = file(&files, name);
        assert!(f.contains("nopreempt") && f.contains("state BACKUP"), "{f}");
        assert!(f.contains("advert_int 1\n") && f.contains("vrrp_version 2"), "{f}");
    }
    s.vrrp.version = 3;
    let files = config_files(&s);
    for name in ["keepalived-lb1.conf", "keepalived-lb2.conf"] {
        let f = file(&files, name);
        assert!(f.contains("advert_int 0.25") && f.contains("vrrp_version 3"), "{f}");
    }
}

#[test]
fn preempt_delay_is_exported_from_state_backup() {
    let mut s = preset("high-availability").unwrap();
    s.vrrp.preempt_delay_s = 5.0;
    let files = config_files(&s);
    for name in ["keepalived-lb1.conf", "keepalived-lb2.conf"] {
        let f = file(&files, name);
        assert!(f.contains("preempt_delay 5\n") && f.contains("state BACKUP") && !f.contains("nopreempt"), "{f}");
    }
    s.vrrp.preempt_delay_s = 0.0;
    assert!(!file(&config_files(&s), "keepalived-lb1.conf").contains("preempt_delay"));
}

#[test]
fn track_haproxy_is_exported_as_a_vrrp_script_the_instance_tracks() {
    let mut s = preset("high-availability").unwrap();
    assert!(!s.vrrp.track_haproxy, "keepalived's default tracks nothing");
    assert!(!file(&config_files(&s), "keepalived-lb1.conf").contains("track_script"));
    s.vrrp.track_haproxy = true;
    let files = config_files(&s);
    for name in ["keepalived-lb1.conf", "keepalived-lb2.conf"] {
        let f = file(&files, name);
        let script = "vrrp_script chk_haproxy {\n    script \"/usr/bin/killall -0 haproxy\"\n    interval 1\n    fall 1\n    rise 1\n}";
        assert!(f.contains(script), "{f}");
        let instance = &f[f.find("vrrp_instance").expect("the instance")..];
        assert!(instance.contains("    track_script {\n        chk_haproxy\n    }\n"), "{f}");
        assert!(
            !f.lines().any(|l| l.trim_start().starts_with("weight")),
            "weight 0, keepalived's default: a failed check is FAULT: {f}"
        );
    }
}

const SAMPLE: &str = "\
global
    log /dev/log local0
    maxconn 4096
defaults
    mode http
    timeout queue 2500
    retries 2
frontend www
    bind :80
    acl is_api path_beg /api
    default_backend app
backend other
    server x1 10.9.9.9:80
backend app
    balance leastconn
    option redispatch
    default-server inter 1s fall 2 rise 3 slowstart 10s
    server a 10.0.0.1:8080 weight 3 maxconn 20 check cookie a
    server b 10.0.0.2:8080 weight 1 check agent-check
    server c 10.0.0.3:8080 backup check inter 5s
";

#[test]
fn import_reads_the_backend_and_lists_every_line_it_does_not_simulate() {
    let got = import_haproxy(SAMPLE, &Scenario::default()).expect("valid");
    let b = &got.scenario.balancer;
    assert_eq!(b.algorithm, infrasim::scenario::Algorithm::Leastconn);
    assert_eq!((b.retries, b.redispatch, b.timeout_queue_ms, b.slowstart_ms), (2, true, 2500.0, 10_000.0));
    assert_eq!((b.health.inter_ms, b.health.fall, b.health.rise), (1000.0, 2, 3));
    let w: Vec<_> = got.scenario.web.servers.iter().map(|s| (s.weight, s.maxconn, s.backup)).collect();
    assert_eq!(w, [(3, 20, false), (1, 0, false), (1, 0, true)]);
    let lines: Vec<usize> = got.unsimulated.iter().map(|u| u.line).collect();
    // log, maxconn, mode, acl, the other backend's server, cookie, agent-check, c's own inter.
    assert_eq!(lines, [2, 3, 5, 10, 13, 18, 19, 20], "{:#?}", got.unsimulated);
    assert!(got.unsimulated[4].why.contains("one backend"));
    assert!(got.unsimulated[5].why.contains("cookie a"));
    assert!(got.unsimulated[7].why.contains("differ"));
}

#[test]
fn a_line_that_cannot_be_understood_is_named() {
    let cases = [
        ("backend b\n    balance uri\n    server a 1.2.3.4:80\n", 2, "balance 'uri'"),
        ("backend b\n    server a\n", 2, "name and an address"),
        ("backend b\n    server a 1.2.3.4:80 weight heavy\n", 2, "'heavy'"),
        ("backend b\n    server a 1.2.3.4:80 weight 300\n", 2, "weight"),
        ("backend b\n    retries 11\n    server a 1.2.3.4:80\n", 2, "retries"),
        ("backend b\n    timeout queue 5parsecs\n", 2, "not a time"),
        ("    server a 1.2.3.4:80\n", 1, "outside any section"),
        ("backend b\n    server a 1.2.3.4:80 inter 0\n", 2, "inter"),
        ("frontend f\n    default_backend nope\nbackend b\n    server a 1.2.3.4:80\n", 0, "'nope'"),
        ("global\n    daemon\n", 0, "no backend"),
    ];
    for (text, line, words) in cases {
        let e = import_haproxy(text, &Scenario::default()).expect_err(text);
        assert_eq!(e.line, line, "{text}: {e}");
        assert!(e.to_string().contains(words), "{text}: {e}");
    }
}

#[test]
fn import_is_bounded() {
    let too_big = "#".repeat(MAX_CONFIG_BYTES + 1);
    assert!(import_haproxy(&too_big, &Scenario::default()).unwrap_err().message.contains("bytes"));
    let too_long = "\n".repeat(MAX_CONFIG_LINES + 1);
    assert_eq!(import_haproxy(&too_long, &Scenario::default()).unwrap_err().line, MAX_CONFIG_LINES + 1);
    let mut many = String::from("backend b\n");
    for i in 0..=infrasim::scenario::MAX_WEB_SERVERS {
        many.push_str(&format!("    server s{i} 10.0.0.1:80\n"));
    }
    let e = import_haproxy(&many, &Scenario::default()).unwrap_err();
    assert_eq!(e.line, infrasim::scenario::MAX_WEB_SERVERS + 2, "{e}");
    assert_eq!(parse_time_ms("24d"), Some(2_073_600_000.0));
    assert_eq!(parse_time_ms("25d"), None, "beyond HAProxy's longest timeout");
    assert_eq!(parse_time_ms("99999999999999999999999s"), None);
    assert_eq!(parse_time_ms("250us"), Some(0.25));
}

/// Vocabulary for the fuzzer: words HAProxy files use, and hostile ones.
const WORDS: &[&str] = &[
    "backend",
    "frontend",
    "listen",
    "defaults",
    "global",
    "server",
    "default-server",
    "balance",
    "random(",
    "random(0)",
    "random(99999999999)",
    "weight",
    "maxconn",
    "check",
    "inter",
    "9999999999d",
    "-1",
    "0",
    "1",
    "1s",
    "ms",
    "option",
    "no",
    "redispatch",
    "retries",
    "timeout",
    "queue",
    "bind",
    "ssl",
    "\u{1f600}",
    "é",
    "#",
    "(",
    ")",
    "\t",
    "default_backend",
    "web_servers",
    "tune.ssl.lifetime",
    "backup",
    "slowstart",
    "fall",
    "rise",
];

fn mutate(rng: &mut ChaCha8Rng, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for _ in 0..rng.random_range(1..6) {
        let n = lines.len().max(1);
        let at = rng.random_range(0..n);
        match rng.random_range(0..5) {
            0 if !lines.is_empty() => {
                lines.remove(at);
            }
            1 if !lines.is_empty() => {
                let copy = lines[at].clone();
                lines.insert(at, copy);
            }
            2 => {
                let line: Vec<&str> =
                    (0..rng.random_range(1..6)).map(|_| WORDS[rng.random_range(0..WORDS.len())]).collect();
                lines.insert(at.min(lines.len()), format!("    {}", line.join(" ")));
            }
            3 if !lines.is_empty() => {
                let chars: Vec<char> = lines[at].chars().collect();
                let cut = rng.random_range(0..=chars.len());
                lines[at] = chars[..cut].iter().collect();
            }
            _ if !lines.is_empty() => {
                let word = WORDS[rng.random_range(0..WORDS.len())];
                lines[at].push(' ');
                lines[at].push_str(word);
            }
            _ => {}
        }
    }
    lines.join("\n")
}

#[test]
fn fuzzed_configurations_never_panic_and_results_are_valid() {
    let seeds: Vec<String> = designs().iter().map(haproxy::render).chain([SAMPLE.to_string()]).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let (mut ok, mut errors) = (0, 0);
    for i in 0..4_000 {
        let text = mutate(&mut rng, &seeds[i % seeds.len()]);
        match import_haproxy(&text, &Scenario::default()) {
            Ok(got) => {
                ok += 1;
                assert!(got.scenario.validate().is_empty(), "{text}");
                assert!(got.unsimulated.iter().all(|u| u.line >= 1 && u.line <= text.lines().count()));
            }
            Err(e) => {
                errors += 1;
                assert!(e.line <= text.lines().count(), "{e} in\n{text}");
                assert!(!e.message.is_empty());
            }
        }
    }
    // The mutations reach both outcomes, so neither path goes untested.
    println!("fuzz: {ok} imported, {errors} refused");
    assert!(ok > 400 && errors > 400, "{ok} imported, {errors} refused");
}

fn infrasim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_infrasim")).args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn export_import_and_run_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("infrasim-export-test-{}", std::process::id()));
    let d = dir.to_str().unwrap();
    let (code, out, err) =
        infrasim(&["export", "--preset", "secured-monitored", "--set", "balancer.retries=5", "--out", d]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 6, "{out}");
    let cfg = dir.join("haproxy.cfg");
    let cfg_path = cfg.to_str().unwrap();
    let (code, json, err) = infrasim(&["import", "--haproxy", cfg_path]);
    assert_eq!(code, 0, "{err}");
    let s = Scenario::from_json(&json).expect("import prints a valid scenario");
    assert_eq!(s.balancer.retries, 5);
    assert!(s.security.https);
    // The timeouts the model does not simulate are listed with their line numbers.
    assert!(err.contains(&format!("{cfg_path}:")) && err.contains("timeout connect"), "{err}");
    let (code, json, err) = infrasim(&["run", "--haproxy", cfg_path, "--duration-s", "2", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(json.contains("\"by_server\""));
    std::fs::write(dir.join("bad.cfg"), "backend b\n  balance hdr(host)\n  server a 1.1.1.1:80\n").unwrap();
    let bad = dir.join("bad.cfg");
    let (code, _, err) = infrasim(&["run", "--haproxy", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.cfg: line 2: balance 'hdr(host)'"), "{err}");
    let (code, _, err) = infrasim(&["import", "--haproxy", "/nonexistent/haproxy.cfg"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read /nonexistent/haproxy.cfg"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn my_cnf_on_replicas_says_whether_semi_sync_s_primary_side_is_on_as_the_model_is_set() {
    let mut s = preset("high-availability").unwrap();
    assert_eq!((s.db.replication, s.db.failover), (Replication::Semisync, Failover::Auto));
    let files = config_files(&s);
    let replica = file(&files, "my-db2.cnf");
    assert!(replica.contains("rpl_semi_sync_master_enabled = OFF"), "{replica}");
    assert!(!replica.contains("rpl_semi_sync_master_wait_no_slave"), "{replica}");
    assert!(file(&files, "my-db1.cnf").contains("rpl_semi_sync_master_wait_no_slave = ON"));
    s.db.semisync_master_on_replicas = true;
    s.db.semisync_wait_no_slave = false;
    let files = config_files(&s);
    for name in ["my-db1.cnf", "my-db2.cnf", "my-db3.cnf"] {
        let cnf = file(&files, name);
        assert!(cnf.contains("rpl_semi_sync_master_enabled = ON"), "{name}: {cnf}");
        assert!(cnf.contains("rpl_semi_sync_master_wait_no_slave = OFF"), "{name}: {cnf}");
    }
}

#[test]
fn the_zone_has_www_as_an_a_record_pointing_where_the_design_is_reached() {
    use infrasim::export::dns::www_records;
    let zone_of = |s: &Scenario| file(&config_files(s), "foobar.com.zone").to_string();
    let three = preset("three-server").unwrap();
    let zone = zone_of(&three);
    assert!(zone.contains("www  IN A   203.0.113.10   ; the balancer"), "{zone}");
    assert!(zone.contains("$TTL 300") && !zone.contains("IN CNAME"), "{zone}");
    let mut pair_dns = three.clone();
    pair_dns.balancer.pair = true;
    pair_dns.balancer.pair_mode = infrasim::scenario::PairMode::Dns;
    assert_eq!(www_records(&pair_dns).len(), 2, "a record per balancer");
    let simple = preset("simple-web-stack").unwrap();
    assert!(www_records(&simple)[0].1.contains("no balancer"));
    let mut short = three;
    short.network.dns_ttl_s = 30.0;
    assert!(zone_of(&short).contains("$TTL 30\n"));
}
