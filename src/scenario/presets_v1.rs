//! The presets as link format 1 (`?v=1&preset=NAME`) named them, frozen: the builders exactly
//! as they were before machines, so a saved v1 link opens the design it was made with (one
//! machine per node), not today's preset of the same name. Do not edit these builders; change
//! [`super::presets`] instead.

use super::presets::Preset;
use super::{Algorithm, Scenario, WebServer};

/// Every preset of link format 1, in its display order.
pub static PRESETS_V1: &[Preset] = &[
    Preset {
        name: "three-server",
        summary: "The course design: DNS, one HAProxy (round robin), two web servers, MySQL primary + replica",
        build: three_server,
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
        name: "single-server",
        summary: "The design before this one: one web server and one database, nothing redundant",
        build: || {
            let mut s = three_server();
            s.name = "single-server".into();
            s.web.servers.truncate(1);
            s.db.replicas = 0;
            s.db.read_from = super::ReadFrom::Primary;
            s
        },
    },
    Preset {
        name: "secured-monitored",
        summary: "The course design with HTTPS at the balancer, a firewall and monitoring",
        build: || {
            let mut s = three_server();
            s.name = "secured-monitored".into();
            s.security.https = true;
            s.security.firewall = true;
            s.monitoring.enabled = true;
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

fn three_server() -> Scenario {
    Scenario::default()
}

fn high_availability() -> Scenario {
    let mut s = three_server();
    s.name = "high-availability".into();
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

/// The scenario a v1 link's `preset=NAME` meant.
pub fn preset_v1(name: &str) -> Option<Scenario> {
    PRESETS_V1.iter().find(|p| p.name == name).map(|p| (p.build)())
}

/// Names of every v1 preset, in display order.
pub fn preset_names_v1() -> Vec<&'static str> {
    PRESETS_V1.iter().map(|p| p.name).collect()
}
