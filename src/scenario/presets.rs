//! Named starting points: the course's four designs (`simple-web-stack`, `three-server`,
//! `secured-monitored`, `scale-up`) with their machines, and the labs. Each is a function of
//! the default scenario, so a new field with a default reaches every preset without editing it.
//!
//! Link format 1 named presets before machines existed; those live, frozen, in
//! [`super::presets_v1`].

use super::{Algorithm, Machine, MachineIds, Scenario, WebServer};

/// A named scenario with a one-line summary for `infrasim presets` and the page's picker.
pub struct Preset {
    pub name: &'static str,
    pub summary: &'static str,
    pub(super) build: fn() -> Scenario,
}

/// In the page's order: the default first, then the course's designs, then the labs.
pub static PRESETS: &[Preset] = &[
    Preset {
        name: "three-server",
        summary: "The course design: HAProxy on balancer1; server1 and server2 each run Nginx, the application and MySQL (primary, replica)",
        build: three_server,
    },
    Preset {
        name: "simple-web-stack",
        summary: "One machine (2 cores) running Nginx, the application and MySQL; no balancer, nothing redundant",
        build: simple_web_stack,
    },
    Preset {
        name: "secured-monitored",
        summary: "The course design with HTTPS at the balancer, a firewall on each of its three machines, and monitoring",
        build: || {
            let mut s = three_server();
            s.name = "secured-monitored".into();
            s.security.https = true;
            s.security.firewalls = MachineIds(["balancer1", "server1", "server2"].map(String::from).to_vec());
            s.monitoring.enabled = true;
            s
        },
    },
    Preset {
        name: "scale-up",
        summary: "A VRRP cluster of two HAProxy machines, and Nginx, the application and MySQL each on machines of their own",
        build: scale_up,
    },
    Preset {
        name: "three-server-leastconn",
        summary: "The same design with least-connections balancing",
        build: || {
            let mut s = three_server();
            s.name = "three-server-leastconn".into();
            s.balancer.algorithm = Algorithm::Leastconn;
            s
        },
    },
    Preset {
        name: "high-availability",
        summary: "Redundant everything: VRRP balancer pair, three web servers, semi-sync replicas behind a proxy, automatic failover",
        build: high_availability,
    },
    Preset {
        name: "queue-lab",
        summary: "Balancer + identical servers, exponential service, reads only, no database: textbook queueing",
        build: queue_lab,
    },
];

/// Old preset names still accepted (`--preset`, `v=2` links), each with the preset it now
/// means. Not listed as presets of their own: `infrasim presets` names them beside the preset.
pub static PRESET_ALIASES: &[(&str, &str)] = &[("single-server", "simple-web-stack")];

/// The course designs' web tier: Nginx answers a quarter of the reads itself (stylesheets,
/// images) and spends 0.2 ms of CPU on each request, so what it does apart from the
/// application shows.
fn course_web_tier(s: &mut Scenario) {
    s.web.static_ratio = 0.25;
    s.web.nginx_time_ms = 0.2;
}

/// A listed machine.
fn machine(id: &str, cores: u32, runs: &[&str]) -> Machine {
    Machine { id: id.into(), cores, runs: runs.iter().map(|r| r.to_string()).collect() }
}

/// The one-server design: everything on one 2-core machine, DNS pointing straight at it.
fn simple_web_stack() -> Scenario {
    let mut s = Scenario { name: "simple-web-stack".into(), ..Scenario::default() };
    s.balancer.enabled = false;
    s.web.servers.truncate(1);
    s.db.replicas = 0;
    s.db.read_from = super::ReadFrom::Primary;
    s.machines = vec![machine("server1", 2, &["web1", "app1", "db1"])];
    course_web_tier(&mut s);
    s
}

/// The course's three servers: the balancer's machine, and two servers each carrying Nginx,
/// the application and MySQL (the primary on server1, the replica on server2).
fn three_server() -> Scenario {
    let machines = vec![
        machine("balancer1", 2, &["lb1"]),
        machine("server1", 2, &["web1", "app1", "db1"]),
        machine("server2", 2, &["web2", "app2", "db2"]),
    ];
    let mut s = Scenario { machines, ..Scenario::default() };
    course_web_tier(&mut s);
    s
}

/// Cores of every `scale-up` machine: one machine size for the whole fleet, as a cloud
/// deployment picks one instance type. Four is the application server's worker pool
/// (`web.servers[i].workers`), so the application never waits for a core; HAProxy and Nginx are
/// event-driven and use little CPU; MySQL runs 8 queries at once but each lasts milliseconds,
/// so at the course's load it rarely has more than four running.
const SCALE_UP_CORES: u32 = 4;

/// The course's "scale up": a second HAProxy forms a VRRP cluster with the first, and the web
/// server, application server and database each get machines of their own.
fn scale_up() -> Scenario {
    let mut s = Scenario { name: "scale-up".into(), ..Scenario::default() };
    s.balancer.pair = true;
    // keepalived checks HAProxy, as a cluster of two HAProxy machines is deployed: without it
    // a dead HAProxy keeps the floating IP (keepalived's default tracks nothing), and the
    // pair would not cover HAProxy failing alone.
    s.vrrp.track_haproxy = true;
    let tier = |id: &str, runs: &[&str]| machine(id, SCALE_UP_CORES, runs);
    s.machines = vec![
        tier("balancer1", &["lb1", "keepalived1"]),
        tier("balancer2", &["lb2", "keepalived2"]),
        tier("web-server1", &["web1"]),
        tier("web-server2", &["web2"]),
        tier("app-server1", &["app1"]),
        tier("app-server2", &["app2"]),
        tier("db-server1", &["db1"]),
        tier("db-server2", &["db2"]),
    ];
    course_web_tier(&mut s);
    s
}

/// One machine per node (none listed), as before machines existed.
fn high_availability() -> Scenario {
    let mut s = Scenario { name: "high-availability".into(), ..Scenario::default() };
    s.balancer.pair = true;
    s.web.servers.push(WebServer::default());
    s.db.replicas = 2;
    s.db.replication = super::Replication::Semisync;
    s.db.read_from = super::ReadFrom::Proxy;
    s.db.failover = super::Failover::Auto;
    s.security.https = true;
    s.security.firewall = true;
    s.monitoring.enabled = true;
    s
}

/// Textbook queueing: one component per machine with its own cores (none listed), no
/// network delay, so the formulas hold.
fn queue_lab() -> Scenario {
    let mut s = Scenario { name: "queue-lab".into(), ..Scenario::default() };
    s.traffic.arrival_rate_per_s = 150.0;
    s.traffic.write_ratio = 0.0;
    s.network.client_latency_ms = 0.0;
    s.network.lan_latency_ms = 0.0;
    s.network.dns_lookup_ms = 0.0;
    s.db.enabled = false;
    s.db.replicas = 0;
    s.db.read_from = super::ReadFrom::Primary;
    let server = WebServer { workers: 1, service_time_ms: 10.0, ..WebServer::default() };
    s.web.servers = vec![server.clone(), server];
    s
}

/// Names of every preset, in display order (aliases left out).
pub fn preset_names() -> Vec<&'static str> {
    PRESETS.iter().map(|p| p.name).collect()
}

/// The preset `name` means now: itself, or the preset an old name stands for.
pub fn canonical_preset_name(name: &str) -> &str {
    PRESET_ALIASES.iter().find(|(old, _)| *old == name).map_or(name, |(_, now)| now)
}

/// A preset as link format 2 named it: the same machines, before Nginx's own work was told
/// apart from the application's (no static files, no Nginx time). Format 3 presets add them.
pub fn preset_v2(name: &str) -> Option<Scenario> {
    let mut s = preset(name)?;
    s.web.static_ratio = 0.0;
    s.web.nginx_time_ms = 0.0;
    Some(s)
}

/// The scenario of a preset by name (an old name gives the preset it now stands for).
pub fn preset(name: &str) -> Option<Scenario> {
    let name = canonical_preset_name(name);
    PRESETS.iter().find(|p| p.name == name).map(|p| (p.build)())
}

/// The benchmark workload, M/M/2 as Ciw runs it: queue-lab with Poisson arrivals at 150/s, two
/// servers each serving one request at a time (exponential, mean 10 ms), and one shared FIFO
/// queue with no timeout. `infrasim bench` and the browser benchmark both run this.
pub fn benchmark_mm2() -> Scenario {
    let mut s = queue_lab();
    s.traffic.arrival_rate_per_s = 150.0;
    s.balancer.timeout_queue_ms = 0.0;
    for w in &mut s.web.servers {
        w.maxconn = 1;
        w.workers = 1;
        w.service_time_ms = 10.0;
    }
    s
}
