//! The design's nodes and links, from the scenario: the one place that says which nodes a
//! design has and how they are wired, in the order the page lists them and the
//! single-point-of-failure analysis fails them.
//!
//! ```text
//!  clients ──▶ dns
//!  clients ──▶ lb1 ── lb2            (the pair's link when there are two balancers)
//!  clients ──▶ web1                   (instead, when there is no balancer)
//!  lb* ──▶ web1 … webN                (every balancer to every web server)
//!  web* ──▶ db1 … dbM                 (every web server to every database node)
//!  db1 ──▶ db2 … dbM                  (the initial primary to each replica)
//! ```
//! When the machines put application servers apart from their web servers (`scale-up`), the
//! web servers reach them over the network and they, not Nginx, talk to the database:
//! `web* ──▶ app*` (Nginx's upstream) and `app* ──▶ db*` replace `web* ──▶ db*` for them.
//!
//! The scenario is the running model's (`Sim::scenario`), live changes included: the
//! server-count command resizes `web.servers`, and the balancer pair and the replicas change
//! only by a restart, so these lists are always the model's own.

use super::node::{Link, NodeId};
use crate::scenario::{Scenario, MAX_REPLICAS};

/// The balancers: `lb1`, and `lb2` when the scenario asks for a pair.
fn balancers(s: &Scenario) -> impl Iterator<Item = NodeId> + Clone {
    let count: u8 = match (s.balancer.enabled, s.balancer.pair) {
        (false, _) => 0,
        (true, true) => 2,
        (true, false) => 1,
    };
    (0..count).map(NodeId::Lb)
}

/// The web servers in the farm, in order.
fn web_servers(s: &Scenario) -> impl Iterator<Item = NodeId> + Clone {
    (0..s.web.servers.len() as u16).map(NodeId::Web)
}

/// The database nodes: the primary and its replicas (clamped as the model clamps them), none
/// when the scenario has no database.
fn databases(s: &Scenario) -> impl Iterator<Item = NodeId> + Clone {
    let count = if s.db.enabled { 1 + s.db.replicas.min(MAX_REPLICAS) as u8 } else { 0 };
    (0..count).map(NodeId::Db)
}

/// Every node of the design that can fail, in the page's order: dns, the balancers, the web
/// servers, the database nodes (the clients are not a node of the design).
pub fn nodes(s: &Scenario) -> Vec<NodeId> {
    let mut nodes = vec![NodeId::Dns];
    nodes.extend(balancers(s));
    nodes.extend(web_servers(s));
    nodes.extend(databases(s));
    nodes
}

/// For each web server `i`, whether application server `i` runs on a machine apart from it
/// (so the web servers reach it through Nginx's upstream): the one rule the model's routes,
/// the links and the Nginx export follow.
pub fn apps_apart(s: &Scenario) -> Vec<bool> {
    use crate::scenario::machines::{placement, ComponentKind};
    let count = s.web.servers.len();
    if s.machines.is_empty() {
        return vec![false; count];
    }
    let placed = placement(s);
    let home = |kind: ComponentKind, index: usize| {
        placed.iter().position(|m| m.components.iter().any(|c| c.kind == kind && c.index == index))
    };
    (0..count).map(|i| home(ComponentKind::Web, i) != home(ComponentKind::App, i)).collect()
}

/// Every component a failure analysis fails one at a time: the nodes, and each application
/// server (`app1`), which can die while Nginx in front of it stays up.
pub fn components(s: &Scenario) -> Vec<NodeId> {
    let mut all = nodes(s);
    all.extend((0..s.web.servers.len() as u16).map(NodeId::App));
    all
}

/// Every link of the design, in the page's order: clients to dns, clients to each balancer,
/// the pair's link, each balancer to each web server, each web server to each database node,
/// and the initial primary to each replica.
pub fn links(s: &Scenario) -> Vec<Link> {
    let lbs: Vec<NodeId> = balancers(s).collect();
    let mut links = vec![Link::new(NodeId::Clients, NodeId::Dns)];
    links.extend(lbs.iter().map(|&lb| Link::new(NodeId::Clients, lb)));
    if lbs.is_empty() {
        // No balancer: DNS points at web1 and the clients connect to it.
        links.extend(web_servers(s).take(1).map(|w| Link::new(NodeId::Clients, w)));
    }
    if let [lb1, lb2] = lbs[..] {
        links.push(Link::new(lb1, lb2));
    }
    for &lb in &lbs {
        links.extend(web_servers(s).map(|w| Link::new(lb, w)));
    }
    let apart_flags = apps_apart(s);
    let apart: Vec<NodeId> =
        apart_flags.iter().enumerate().filter(|(_, &a)| a).map(|(i, _)| NodeId::App(i as u16)).collect();
    for (i, w) in web_servers(s).enumerate() {
        if apart_flags[i] {
            links.extend(apart.iter().map(|&a| Link::new(w, a)));
        } else {
            links.extend(databases(s).map(|d| Link::new(w, d)));
        }
    }
    for &a in &apart {
        links.extend(databases(s).map(|d| Link::new(a, d)));
    }
    links.extend(databases(s).skip(1).map(|d| Link::new(NodeId::Db(0), d)));
    links
}

/// Ports the design's programs listen on: SSH on every machine, Nginx, the application server
/// (gunicorn's 8000, which the Nginx export proxies to) and MySQL.
pub const SSH_PORT: u16 = 22;
pub const HTTP_PORT: u16 = 80;
pub const APP_PORT: u16 = 8000;
pub const MYSQL_PORT: u16 = 3306;

/// A port an outside probe can try: one a program listens on, on the machine that runs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeTarget {
    pub machine: String,
    pub port: u16,
    /// The node drawn as the probe's target (the machine's first component for SSH).
    pub node: NodeId,
    /// The machine's firewall drops it: the design needs that port only from inside.
    pub firewalled: bool,
}

/// Every port an attacker on the internet could reach but should not, machine by machine in
/// placement order: the site's public entry (HAProxy's 80 and 443, or web1's when there is no
/// balancer) is left out, as is an application server beside its Nginx (it listens on
/// 127.0.0.1). A machine has a firewall when `security.firewall` puts one on every machine
/// or `security.firewalls` names it.
pub fn probe_targets(s: &Scenario) -> Vec<ProbeTarget> {
    use crate::scenario::machines::{placement, ComponentKind};
    let apart = apps_apart(s);
    let mut targets = Vec::new();
    for m in placement(s) {
        let firewalled = has_firewall(s, &m.id);
        let nodes: Vec<(NodeId, Option<u16>)> = m
            .components
            .iter()
            .map(|c| match c.kind {
                ComponentKind::Lb | ComponentKind::Keepalived => (NodeId::Lb(c.index as u8), None),
                ComponentKind::Web => (NodeId::Web(c.index as u16), s.balancer.enabled.then_some(HTTP_PORT)),
                ComponentKind::App => {
                    (NodeId::App(c.index as u16), apart.get(c.index).copied().unwrap_or(false).then_some(APP_PORT))
                }
                ComponentKind::Db => (NodeId::Db(c.index as u8), Some(MYSQL_PORT)),
            })
            .collect();
        let Some(&(first, _)) = nodes.first() else { continue };
        let mut push = |port, node| targets.push(ProbeTarget { machine: m.id.clone(), port, node, firewalled });
        push(SSH_PORT, first);
        for (node, port) in nodes {
            if let Some(port) = port {
                push(port, node);
            }
        }
    }
    targets
}

/// Whether the machine `machine` has a firewall: `security.firewall` puts one on every
/// machine, `security.firewalls` on those it names. The one rule the probes, the drawing and
/// the Nginx export follow.
pub fn has_firewall(s: &Scenario, machine: &str) -> bool {
    s.security.firewall || s.security.firewalls.contains(machine)
}

/// Whether web server `index` runs on a machine with a firewall.
pub fn web_has_firewall(s: &Scenario, index: usize) -> bool {
    use crate::scenario::machines::{placement, ComponentKind};
    placement(s)
        .iter()
        .find(|m| m.components.iter().any(|c| c.kind == ComponentKind::Web && c.index == index))
        .is_some_and(|m| has_firewall(s, &m.id))
}

/// A server is marked slow when its application time is at least this many times the fastest's.
pub const SLOW_FACTOR: f64 = 1.5;

/// The web servers whose mean application time is at least [`SLOW_FACTOR`] times the fastest
/// server's: the ones a comparison marks on its drawings.
pub fn slow_servers(s: &Scenario) -> Vec<NodeId> {
    let fastest = s.web.servers.iter().map(|w| w.service_time_ms).fold(f64::INFINITY, f64::min);
    s.web
        .servers
        .iter()
        .enumerate()
        .filter(|(_, w)| w.service_time_ms >= SLOW_FACTOR * fastest)
        .map(|(i, _)| NodeId::Web(i as u16))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{preset, preset_names};
    use crate::sim::command::is_design_link;
    use crate::sim::{Command, CommandKind, Sim, TraceConfig, View};

    fn model(s: &Scenario) -> Sim {
        Sim::new(s.clone(), TraceConfig { enabled: false, capacity: 1 })
    }

    /// The nodes as the running model's view has them (the farm's active servers only).
    fn nodes_in_view(view: &View) -> Vec<NodeId> {
        let mut nodes = vec![NodeId::Dns];
        nodes.extend(view.lbs.iter().map(|l| l.id));
        nodes.extend(view.web.iter().filter(|w| w.active).map(|w| w.id));
        nodes.extend(view.db.iter().map(|d| d.id));
        nodes
    }

    #[test]
    fn every_preset_lists_the_nodes_its_model_has() {
        for name in preset_names() {
            let s = preset(name).expect("preset");
            assert_eq!(nodes(&s), nodes_in_view(&model(&s).view(0)), "{name}");
        }
    }

    #[test]
    fn the_course_design_in_order() {
        let s = preset("three-server").expect("preset");
        let names = |v: Vec<String>| v.join(" ");
        assert_eq!(names(nodes(&s).iter().map(|n| n.to_string()).collect()), "dns lb1 web1 web2 db1 db2");
        assert_eq!(
            names(links(&s).iter().map(|l| l.to_string()).collect()),
            "clients-dns clients-lb1 lb1-web1 lb1-web2 web1-db1 web1-db2 web2-db1 web2-db2 db1-db2"
        );
    }

    #[test]
    fn every_link_of_every_preset_joins_two_of_its_nodes_and_is_a_design_link() {
        for name in preset_names() {
            let s = preset(name).expect("preset");
            let nodes = components(&s);
            let links = links(&s);
            for link in &links {
                assert!(is_design_link(*link), "{name}: {link}");
                let known = |n: NodeId| n == NodeId::Clients || nodes.contains(&n);
                assert!(known(link.0) && known(link.1), "{name}: {link}");
            }
            let mut distinct = links.clone();
            distinct.sort();
            distinct.dedup();
            assert_eq!(distinct.len(), links.len(), "{name}: a link listed twice");
            // Each link can be cut in the model it belongs to.
            let mut sim = model(&s);
            for &link in &links {
                sim.apply(Command { at_us: 0, what: CommandKind::Cut { link } }).expect("cut");
            }
        }
    }

    #[test]
    fn split_tiers_wire_nginx_to_the_application_tier_and_the_application_to_the_database() {
        let s = preset("scale-up").expect("preset");
        let links = links(&s);
        let has = |a: NodeId, b: NodeId| links.contains(&Link::new(a, b));
        assert!(has(NodeId::Web(0), NodeId::App(1)) && has(NodeId::App(0), NodeId::Db(1)), "{links:?}");
        assert!(!has(NodeId::Web(0), NodeId::Db(0)), "Nginx does not query MySQL: {links:?}");
        let three = links_of("three-server");
        assert!(three.iter().all(|l| !matches!(l.1, NodeId::App(_))), "co-located: {three:?}");
    }

    fn links_of(name: &str) -> Vec<Link> {
        links(&preset(name).expect("preset"))
    }

    #[test]
    fn a_pair_and_no_database_change_the_lists() {
        let mut s = preset("three-server").expect("preset");
        s.balancer.pair = true;
        s.db.enabled = false;
        assert_eq!(nodes(&s), nodes_in_view(&model(&s).view(0)));
        let links = links(&s);
        assert!(links.contains(&Link::new(NodeId::Lb(0), NodeId::Lb(1))));
        assert!(links.iter().all(|l| !matches!(l.1, NodeId::Db(_))), "{links:?}");
    }

    #[test]
    fn the_server_count_command_changes_the_running_scenario_and_so_the_lists() {
        let s = preset("three-server").expect("preset");
        let mut sim = model(&s);
        sim.apply(Command { at_us: 0, what: CommandKind::SetServerCount { count: 5 } }).expect("grow");
        assert_eq!(nodes(sim.scenario()), nodes_in_view(&sim.view(0)));
        sim.apply(Command { at_us: 0, what: CommandKind::SetServerCount { count: 1 } }).expect("shrink");
        assert_eq!(nodes(sim.scenario()), nodes_in_view(&sim.view(0)));
        assert!(links(sim.scenario()).iter().all(|l| l.1 != NodeId::Web(1) && l.0 != NodeId::Web(1)));
    }
}
