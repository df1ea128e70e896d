//! Firewalls are a property of machines (`security.firewalls`, or `security.firewall` on every
//! machine): outside probes try every port the internet should not reach, machine by machine,
//! and are counted per machine, dropped where the machine has a firewall.

use infrasim::scenario::{apply_setting, preset, Scenario};
use infrasim::sim::design::{probe_targets, APP_PORT, HTTP_PORT, MYSQL_PORT, SSH_PORT};
use infrasim::sim::time::from_s;
use infrasim::sim::{MachineProbes, NodeId, SecurityStats, Sim, TraceConfig};

/// Ten probes a second for a minute: 600, dealt to the targets in turn.
fn probed(mut s: Scenario) -> SecurityStats {
    s.security.probe_rate_per_s = 10.0;
    assert!(s.validate().is_empty(), "{:?}", s.validate());
    let mut sim = Sim::new(s, TraceConfig { enabled: false, capacity: 1 });
    sim.run_until(from_s(60.0), u64::MAX);
    sim.security_stats()
}

fn ports(s: &Scenario, machine: &str) -> Vec<u16> {
    probe_targets(s).into_iter().filter(|t| t.machine == machine).map(|t| t.port).collect()
}

fn entry<'a>(stats: &'a SecurityStats, machine: &str) -> &'a MachineProbes {
    stats.probes_by_machine.iter().find(|m| m.machine == machine).unwrap_or_else(|| panic!("{machine} probed"))
}

/// Probes go to the targets in turn, so each machine gets its share of the ports, ±1.
fn assert_shares(stats: &SecurityStats, s: &Scenario, count: fn(&MachineProbes) -> u64) {
    let targets = probe_targets(s).len() as f64;
    let total = (stats.probes_reached + stats.probes_blocked) as f64;
    assert!((total - 600.0).abs() < 100.0, "about 10 probes a second: {total}");
    for m in &stats.probes_by_machine {
        let expected = total * ports(s, &m.machine).len() as f64 / targets;
        assert!(
            (count(m) as f64 - expected).abs() <= 1.0,
            "{}: {} of {total}, expected {expected:.1}",
            m.machine,
            count(m)
        );
    }
}

#[test]
fn each_machine_is_probed_at_the_ports_it_should_not_show_the_internet() {
    let s = preset("three-server").unwrap();
    // HAProxy's 80 and 443 are the site: only SSH is probed on the balancer's machine.
    assert_eq!(ports(&s, "balancer1"), vec![SSH_PORT]);
    // The application listens on 127.0.0.1 beside Nginx: not reachable from outside.
    assert_eq!(ports(&s, "server1"), vec![SSH_PORT, HTTP_PORT, MYSQL_PORT]);
    assert_eq!(ports(&s, "server2"), vec![SSH_PORT, HTTP_PORT, MYSQL_PORT]);
    let stats = probed(s.clone());
    assert_eq!(stats.probes_blocked, 0, "no firewall anywhere");
    assert_eq!(stats.probes_by_machine.len(), 3);
    assert_shares(&stats, &s, |m| m.reached);
}

#[test]
fn the_secured_design_has_a_firewall_on_each_of_its_three_machines() {
    let s = preset("secured-monitored").unwrap();
    assert_eq!(s.security.firewalls.0, ["balancer1", "server1", "server2"]);
    assert!(!s.security.firewall, "three machine firewalls, not one switch for all");
    let stats = probed(s.clone());
    assert_eq!(stats.probes_reached, 0, "every probe is dropped by the firewall of the machine it tried");
    for machine in ["balancer1", "server1", "server2"] {
        assert!(entry(&stats, machine).blocked > 0, "{machine}: {:?}", entry(&stats, machine));
    }
    assert_shares(&stats, &s, |m| m.blocked);
}

#[test]
fn a_firewall_on_the_balancer_alone_leaves_the_servers_open() {
    let mut s = preset("three-server").unwrap();
    apply_setting(&mut s, "security.firewalls", "balancer1").unwrap();
    let stats = probed(s);
    assert_eq!(entry(&stats, "balancer1").reached, 0);
    assert!(entry(&stats, "balancer1").blocked > 0);
    for machine in ["server1", "server2"] {
        let m = entry(&stats, machine);
        assert!(m.reached > 100 && m.blocked == 0, "{machine} has no firewall: {m:?}");
    }
}

#[test]
fn the_switch_for_every_machine_still_blocks_everything() {
    let mut s = preset("three-server").unwrap();
    s.security.firewall = true;
    let stats = probed(s);
    assert_eq!(stats.probes_reached, 0);
    assert_eq!(stats.probes_by_machine.iter().map(|m| m.blocked).sum::<u64>(), stats.probes_blocked);
}

/// Links made before firewalls belonged to machines turned `secured-monitored`'s firewall off
/// with the page's switch (a `set_firewall` command): it still leaves no firewall at all.
#[test]
fn turning_the_firewall_off_leaves_none_as_old_links_meant() {
    let mut s = preset("secured-monitored").unwrap();
    s.security.probe_rate_per_s = 10.0;
    let mut sim = Sim::new(s, TraceConfig { enabled: false, capacity: 1 });
    sim.apply(infrasim::sim::Command {
        at_us: from_s(1.0),
        what: infrasim::sim::CommandKind::SetFirewall { on: false },
    })
    .unwrap();
    sim.run_until(from_s(30.0), u64::MAX);
    assert!(sim.scenario().security.firewalls.is_empty(), "the switch took the machines' firewalls off too");
    let stats = sim.security_stats();
    assert!(stats.probes_blocked <= 15 && stats.probes_reached > 200, "{stats:?}");
}

#[test]
fn the_ports_follow_the_design() {
    // One machine and no balancer: web1's port 80 is the site itself.
    let simple = preset("simple-web-stack").unwrap();
    let targets = probe_targets(&simple);
    assert_eq!(targets.iter().map(|t| t.port).collect::<Vec<_>>(), vec![SSH_PORT, MYSQL_PORT], "{targets:?}");
    // Tiers apart: the application servers' machines listen on 8000 for Nginx.
    let scale_up = preset("scale-up").unwrap();
    let app = probe_targets(&scale_up)
        .into_iter()
        .find(|t| t.node == NodeId::App(0) && t.port != SSH_PORT)
        .expect("app1 probed");
    assert_eq!(app.port, APP_PORT);
    assert!(!app.firewalled);
    for t in probe_targets(&scale_up) {
        assert!(!matches!(t.node, NodeId::Lb(_)) || t.port == SSH_PORT, "only SSH on a balancer: {t:?}");
    }
}

#[test]
fn security_firewalls_names_machines_of_the_design() {
    let mut s = preset("three-server").unwrap();
    apply_setting(&mut s, "security.firewalls", "server1, server3").unwrap();
    let problems: Vec<String> = s.validate().iter().map(|p| p.to_string()).collect();
    assert_eq!(
        problems,
        ["security.firewalls[1]: names server3, which is not a machine of this design; its machines are balancer1, server1, server2"]
    );
    let mut t = preset("three-server").unwrap();
    let e = apply_setting(&mut t, "security.firewalls", "Server1").unwrap_err();
    assert!(e.message.contains("'Server1' is not a machine id"), "{e}");
    apply_setting(&mut t, "security.firewalls", "server1,server1").unwrap();
    assert!(t.validate().iter().any(|p| p.message == "names server1 twice"), "{:?}", t.validate());
    apply_setting(&mut t, "security.firewalls", "none").unwrap();
    assert!(t.security.firewalls.is_empty());
    // A design without listed machines names a component's own machine after it.
    let mut lab = preset("high-availability").unwrap();
    apply_setting(&mut lab, "security.firewalls", "db1").unwrap();
    assert!(lab.validate().is_empty(), "{:?}", lab.validate());
}

/// At most as many names as a design has components (265), in a setting or in JSON.
#[test]
fn a_firewall_list_is_bounded() {
    let ids: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
    let mut s = preset("three-server").unwrap();
    let e = apply_setting(&mut s, "security.firewalls", &ids.join(",")).unwrap_err();
    assert!(e.message.contains("300 machines: a design has at most 265"), "{e}");
    let text = format!(r#"{{"version": 1, "security": {{"firewalls": {}}}}}"#, serde_json::to_string(&ids).unwrap());
    let problems = Scenario::from_json(&text).expect_err("too long");
    assert!(
        problems
            .iter()
            .any(|p| p.path == "security.firewalls" && p.message == "300 machines: a design has at most 265"),
        "{problems:?}"
    );
}

#[test]
fn json_lists_firewalls_by_machine_and_names_a_bad_entry() {
    let text = r#"{"version": 1, "security": {"firewalls": ["server1", 3]}}"#;
    let problems = Scenario::from_json(text).expect_err("a number is not a machine id");
    assert!(
        problems.iter().any(|p| p.path == "security.firewalls[1]" && p.message.contains("expected a machine id")),
        "{problems:?}"
    );
    let s = preset("secured-monitored").unwrap();
    let json = serde_json::to_string(&s).unwrap();
    assert!(json.contains(r#""firewalls":["balancer1","server1","server2"]"#), "{json}");
    assert_eq!(Scenario::from_json(&json).unwrap(), s, "read back unchanged");
    let plain = serde_json::to_string(&preset("three-server").unwrap()).unwrap();
    assert!(!plain.contains("firewalls"), "left out when none is listed");
}

/// The exported Nginx site says whether its machine has a firewall.
#[test]
fn the_nginx_export_follows_each_machines_firewall() {
    let mut s = preset("three-server").unwrap();
    apply_setting(&mut s, "security.firewalls", "server1").unwrap();
    let files = infrasim::export::config_files(&s);
    let site = |name: &str| files.iter().find(|(n, _)| n == name).map(|(_, text)| text.clone()).expect(name);
    assert!(site("nginx-web1.conf").contains("# A firewall on this machine lets only the balancers reach port 80"));
    assert!(site("nginx-web2.conf").contains("# No firewall on this machine"));
}
