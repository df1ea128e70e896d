//! Named starting points. Each is a function of the default scenario, so a new field with a
//! default reaches every preset without editing it.

use super::{Algorithm, Scenario, WebServer};

/// A named scenario with a one-line summary for `infrasim presets` and the page's picker.
pub struct Preset {
    pub name: &'static str,
    pub summary: &'static str,
    build: fn() -> Scenario,
}

pub static PRESETS: &[Preset] = &[
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

/// Names of every preset, in display order.
pub fn preset_names() -> Vec<&'static str> {
    PRESETS.iter().map(|p| p.name).collect()
}

/// The scenario of a preset by name.
pub fn preset(name: &str) -> Option<Scenario> {
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
