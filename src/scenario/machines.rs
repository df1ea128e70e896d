//! Machines that carry components: which HAProxy, Nginx, application server and MySQL run on
//! which machine, and how many CPU cores each machine has.
//!
//! Component ids are global (`lb1`, `web1`, `app1`, `db1`), so faults, links and old scenarios
//! keep their meaning whatever the machines. A scenario lists machines in `machines`; every
//! component no machine names gets a machine of its own (see [`placement`]), so a scenario
//! without `machines` is today's design: one box per node.

use super::{parse_index, Problem, Scenario, MAX_REPLICAS, MAX_WEB_SERVERS};
use serde::Serialize;

/// Most machines a scenario may list.
pub const MAX_MACHINES: usize = 64;
/// Most CPU cores of one machine.
pub const MAX_CORES: u32 = 64;
/// Longest machine id, in characters.
pub const MAX_MACHINE_ID_CHARS: usize = 32;
/// Most components a design can have: two balancers with their keepalived, a web server and an
/// application server per web server, a primary and its replicas.
pub const MAX_COMPONENTS: usize = 2 + 2 + 2 * MAX_WEB_SERVERS + 1 + MAX_REPLICAS as usize;

/// One machine of the design, as the scenario lists it.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Machine {
    /// Name of the machine (`server1`): 1 to 32 characters of a-z, 0-9 and `-`, unique, and not
    /// a component's id.
    pub id: String,
    /// CPU cores its components share (1 to 64).
    pub cores: u32,
    /// Ids of the components it runs (`web1`, `app1`, `db1`); each component on one machine.
    pub runs: Vec<String>,
}

/// What a component is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ComponentKind {
    /// HAProxy: `lb1`, `lb2`.
    Lb,
    /// keepalived (VRRP) beside HAProxy i: `keepalived1`, `keepalived2`.
    Keepalived,
    /// Nginx: `web1` … (one per `web.servers[i]`).
    Web,
    /// The application server behind Nginx i: `app1` … (`web.servers[i]`'s workers and
    /// service time are its settings).
    App,
    /// MySQL: `db1` (the primary at start), `db2` … (replicas).
    Db,
}

impl ComponentKind {
    pub const ALL: [ComponentKind; 5] =
        [ComponentKind::Lb, ComponentKind::Keepalived, ComponentKind::Web, ComponentKind::App, ComponentKind::Db];

    /// The letters of its ids (`web` in `web2`).
    pub fn prefix(self) -> &'static str {
        match self {
            ComponentKind::Lb => "lb",
            ComponentKind::Keepalived => "keepalived",
            ComponentKind::Web => "web",
            ComponentKind::App => "app",
            ComponentKind::Db => "db",
        }
    }

    /// The program it is, in words.
    pub fn program(self) -> &'static str {
        match self {
            ComponentKind::Lb => "HAProxy",
            ComponentKind::Keepalived => "keepalived",
            ComponentKind::Web => "Nginx",
            ComponentKind::App => "application server",
            ComponentKind::Db => "MySQL",
        }
    }
}

/// A component's global id: `web2` is `ComponentId { kind: Web, index: 1 }` (index from 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ComponentId {
    pub kind: ComponentKind,
    pub index: usize,
}

impl ComponentId {
    pub fn new(kind: ComponentKind, index: usize) -> ComponentId {
        ComponentId { kind, index }
    }
}

impl std::fmt::Display for ComponentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.kind.prefix(), self.index + 1)
    }
}

impl std::str::FromStr for ComponentId {
    type Err = String;

    /// `web2` → Web #1. Numbers as people write them (`web01`, `web+1` are refused).
    fn from_str(text: &str) -> Result<ComponentId, String> {
        let digits_at = text.find(|c: char| c.is_ascii_digit()).unwrap_or(text.len());
        let (letters, digits) = text.split_at(digits_at);
        let kind = ComponentKind::ALL.into_iter().find(|k| k.prefix() == letters);
        match (kind, parse_index(digits)) {
            (Some(kind), Some(n)) => Ok(ComponentId::new(kind, n - 1)),
            _ => Err(format!(
                "'{}' is not a component; components are lb1, keepalived1, web1, app1, db1 (a kind and a number from 1)",
                shown_text(text)
            )),
        }
    }
}

/// How many cores a placed machine has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cores {
    /// A listed machine's cores.
    Count(u32),
    /// A machine no scenario listed: as many cores as its work needs, so its components never
    /// wait for CPU (today's model of a box).
    Dedicated,
}

/// A machine with the components it runs, listed or derived.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlacedMachine {
    pub id: String,
    pub cores: Cores,
    #[serde(serialize_with = "ids_as_text")]
    pub components: Vec<ComponentId>,
}

fn ids_as_text<S: serde::Serializer>(ids: &[ComponentId], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(ids.iter().map(ToString::to_string))
}

/// Why `id` is not part of the design of `s`, or `None` when it is.
pub fn absent_because(s: &Scenario, id: ComponentId) -> Option<String> {
    let servers = s.web.servers.len();
    let i = id.index;
    match id.kind {
        ComponentKind::Lb | ComponentKind::Keepalived if i >= 2 => {
            Some("a design has at most two balancers (balancer.pair)".into())
        }
        ComponentKind::Lb if !s.balancer.enabled => Some("balancer.enabled is false".into()),
        ComponentKind::Lb if i == 1 && !s.balancer.pair => Some("balancer.pair is false".into()),
        ComponentKind::Keepalived if !s.balancer.enabled => Some("balancer.enabled is false".into()),
        ComponentKind::Keepalived if !s.balancer.pair => {
            Some("balancer.pair is false (keepalived runs only with a pair)".into())
        }
        ComponentKind::Web | ComponentKind::App if i >= servers => Some(format!("web.servers has {servers}")),
        ComponentKind::Db if !s.db.enabled => Some("db.enabled is false".into()),
        ComponentKind::Db if i > s.db.replicas as usize => Some(format!("db.replicas is {}", s.db.replicas)),
        _ => None,
    }
}

/// Every component of the design, each balancer's HAProxy and keepalived together, then each
/// web server's Nginx and application server, then the database nodes.
pub fn components(s: &Scenario) -> Vec<ComponentId> {
    use ComponentKind::*;
    let balancers = match (s.balancer.enabled, s.balancer.pair) {
        (false, _) => 0,
        (true, false) => 1,
        (true, true) => 2,
    };
    let mut out = Vec::new();
    for i in 0..balancers {
        out.push(ComponentId::new(Lb, i));
        if s.balancer.pair {
            out.push(ComponentId::new(Keepalived, i));
        }
    }
    for i in 0..s.web.servers.len().min(MAX_WEB_SERVERS) {
        out.extend([ComponentId::new(Web, i), ComponentId::new(App, i)]);
    }
    if s.db.enabled {
        let nodes = 1 + s.db.replicas.min(MAX_REPLICAS) as usize;
        out.extend((0..nodes).map(|i| ComponentId::new(Db, i)));
    }
    out
}

/// The component whose machine an unnamed one joins: the application server joins its Nginx,
/// keepalived its HAProxy (today's web box and balancer box).
fn partner(id: ComponentId) -> Option<ComponentId> {
    match id.kind {
        ComponentKind::App => Some(ComponentId::new(ComponentKind::Web, id.index)),
        ComponentKind::Keepalived => Some(ComponentId::new(ComponentKind::Lb, id.index)),
        _ => None,
    }
}

/// Where every component runs: the listed machines (in order, each with the components of the
/// design it names), then a machine of its own for every component no machine names, named
/// after it and with [`Cores::Dedicated`]; an unnamed `appI` joins `webI`'s machine and an
/// unnamed `keepalivedI` joins `lbI`'s. Never fails: names that are not part of the design are
/// left out (`validate()` reports them).
pub fn placement(s: &Scenario) -> Vec<PlacedMachine> {
    let design = components(s);
    let mut machines: Vec<PlacedMachine> = Vec::new();
    let mut home: std::collections::BTreeMap<ComponentId, usize> = std::collections::BTreeMap::new();
    for m in s.machines.iter().take(MAX_MACHINES) {
        let mut placed = PlacedMachine { id: m.id.clone(), cores: Cores::Count(m.cores), components: Vec::new() };
        for id in m.runs.iter().filter_map(|text| text.parse::<ComponentId>().ok()) {
            if design.contains(&id) && !home.contains_key(&id) {
                home.insert(id, machines.len());
                placed.components.push(id);
            }
        }
        machines.push(placed);
    }
    for &id in &design {
        if home.contains_key(&id) {
            continue;
        }
        match partner(id).and_then(|p| home.get(&p).copied()) {
            Some(at) => machines[at].components.push(id),
            None => {
                home.insert(id, machines.len());
                machines.push(PlacedMachine { id: id.to_string(), cores: Cores::Dedicated, components: vec![id] });
            }
        }
    }
    machines
}

/// The placement written out as listed machines of `cores` cores each, for a scenario that
/// lists none: a derived machine named after its component gets `-host` added, since a listed
/// machine may not carry a component's id.
pub fn listed_from_placement(s: &Scenario, cores: u32) -> Vec<Machine> {
    placement(s)
        .into_iter()
        .map(|m| Machine {
            id: if m.cores == Cores::Dedicated { format!("{}-host", m.id) } else { m.id },
            cores: match m.cores {
                Cores::Count(n) => n,
                Cores::Dedicated => cores,
            },
            runs: m.components.iter().map(ToString::to_string).collect(),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The `machines` setting as text: `server1:2:web1/app1/db1,balancer1:2:lb1`, or `none`.

/// Separators accepted between a machine's components: `/` as written, `+` as typed, and a
/// space, which is what a `+` typed into a link becomes.
const RUNS_SEPARATORS: [char; 3] = ['/', '+', ' '];

/// The machines as the `machines` setting writes them.
pub fn list_text(machines: &[Machine]) -> String {
    if machines.is_empty() {
        return "none".into();
    }
    let one = |m: &Machine| format!("{}:{}:{}", m.id, m.cores, m.runs.join("/"));
    machines.iter().map(one).collect::<Vec<_>>().join(",")
}

/// Read the `machines` setting: `none` (or nothing) for one machine per component, else a
/// comma list of `ID:CORES:COMPONENT/COMPONENT…`. Ids and components are checked by
/// `validate()`; this checks the shape, the cores and the count.
pub fn parse_list(text: &str) -> Result<Vec<Machine>, String> {
    let text = text.trim();
    if text.is_empty() || text == "none" {
        return Ok(Vec::new());
    }
    let parts: Vec<&str> = text.split(',').collect();
    if parts.len() > MAX_MACHINES {
        return Err(format!("{} machines: allowed at most {MAX_MACHINES}", parts.len()));
    }
    parts.into_iter().map(parse_one).collect()
}

fn parse_one(part: &str) -> Result<Machine, String> {
    let mut fields = part.trim().splitn(3, ':');
    let (Some(id), Some(cores), Some(runs)) = (fields.next(), fields.next(), fields.next()) else {
        return Err(format!(
            "'{}' is not a machine; write ID:CORES:COMPONENTS, e.g. server1:2:web1/app1/db1",
            shown_text(part)
        ));
    };
    let cores = match cores.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_CORES).contains(&n) => n,
        _ => {
            return Err(format!(
                "'{}': '{}' cores is not allowed; allowed 1 to {MAX_CORES}",
                shown_text(part),
                shown_text(cores)
            ))
        }
    };
    let runs = runs.split(RUNS_SEPARATORS).filter(|r| !r.is_empty()).map(str::to_string).collect();
    Ok(Machine { id: id.trim().to_string(), cores, runs })
}

// ---------------------------------------------------------------------------------------------
// Validation

/// Typed text as a message quotes it: control characters escaped, and cut short when long.
pub(crate) fn shown_text(text: &str) -> String {
    const SHOWN_CHARS: usize = 40;
    let escaped: String = text.chars().flat_map(char::escape_debug).collect();
    if escaped.chars().count() > SHOWN_CHARS {
        format!("{}…", escaped.chars().take(SHOWN_CHARS).collect::<String>())
    } else {
        escaped
    }
}

/// Why `id` cannot name a machine, or `None`.
pub fn id_problem(id: &str) -> Option<String> {
    let chars = id.chars().count();
    if id.is_empty() {
        return Some("the machine id is empty; give a name such as server1".into());
    }
    if chars > MAX_MACHINE_ID_CHARS {
        return Some(format!("'{}' has {chars} characters; allowed at most {MAX_MACHINE_ID_CHARS}", shown_text(id)));
    }
    if let Some(c) = id.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Some(format!("'{}' contains '{}'; allowed a-z, 0-9 and -", shown_text(id), c.escape_debug()));
    }
    if id.parse::<ComponentId>().is_ok() {
        return Some(format!("'{id}' is a component's id; name the machine otherwise, e.g. server1"));
    }
    None
}

/// Every problem of the listed machines, with field paths: ids, the count, what each runs.
/// Cores are checked by the settings table (`machines.cores`).
pub(super) fn check(s: &Scenario, out: &mut Vec<Problem>) {
    let mut push = |path: String, message: String| out.push(Problem { path, message });
    if s.machines.len() > MAX_MACHINES {
        push("machines".into(), format!("{} machines: allowed at most {MAX_MACHINES}", s.machines.len()));
        return;
    }
    for (i, m) in s.machines.iter().enumerate() {
        if let Some(message) = id_problem(&m.id) {
            push(format!("machines[{i}].id"), message);
        } else if let Some(first) = s.machines[..i].iter().position(|other| other.id == m.id) {
            push(format!("machines[{i}].id"), format!("'{}' is the id of machines[{first}] too; ids are unique", m.id));
        }
        if m.runs.len() > MAX_COMPONENTS {
            let message = format!("{} components: a design has at most {MAX_COMPONENTS}", m.runs.len());
            push(format!("machines[{i}].runs"), message);
        }
    }
    check_runs(s, &mut push);
    check_firewalls(s, &mut push);
}

/// Each machine `security.firewalls` names is a machine of the design, named once.
fn check_firewalls(s: &Scenario, push: &mut impl FnMut(String, String)) {
    let listed = &s.security.firewalls.0;
    if listed.is_empty() {
        return;
    }
    let machines: Vec<String> = placement(s).into_iter().map(|m| m.id).collect();
    for (i, id) in listed.iter().enumerate().take(MAX_COMPONENTS) {
        let path = format!("security.firewalls[{i}]");
        if listed[..i].contains(id) {
            push(path, format!("names {} twice", shown_text(id)));
        } else if !machines.contains(id) {
            let message = format!(
                "names {}, which is not a machine of this design; its machines are {}",
                shown_text(id),
                machines.join(", ")
            );
            push(path, message);
        }
    }
}

/// The `security.firewalls` setting as text: machine ids separated by commas, or `none`.
pub fn parse_ids(text: &str) -> Result<Vec<String>, String> {
    let text = text.trim();
    if text.is_empty() || text == "none" {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = text.split(',').map(|id| id.trim().to_string()).collect();
    if ids.len() > MAX_COMPONENTS {
        return Err(format!("{} machines: a design has at most {MAX_COMPONENTS}", ids.len()));
    }
    for id in &ids {
        // A component's own machine is named after it (web1), so only the characters are checked.
        if id.is_empty()
            || id.chars().count() > MAX_MACHINE_ID_CHARS
            || !id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(format!(
                "'{}' is not a machine id: 1 to {MAX_MACHINE_ID_CHARS} characters of a-z, 0-9 and -",
                shown_text(id)
            ));
        }
    }
    Ok(ids)
}

/// Each name in `runs` is a component of the design, on one machine only, and keepalived i
/// runs beside HAProxy i.
fn check_runs(s: &Scenario, push: &mut impl FnMut(String, String)) {
    let mut home: std::collections::BTreeMap<ComponentId, usize> = std::collections::BTreeMap::new();
    for (i, m) in s.machines.iter().enumerate() {
        let path = format!("machines[{i}].runs");
        for text in m.runs.iter().take(MAX_COMPONENTS) {
            let id = match text.parse::<ComponentId>() {
                Ok(id) => id,
                Err(message) => {
                    push(path.clone(), message);
                    continue;
                }
            };
            if let Some(why) = absent_because(s, id) {
                push(path.clone(), format!("names {id}, but {why}"));
            } else if let Some(&first) = home.get(&id) {
                let where_else =
                    if first == i { "twice".to_string() } else { format!("but machines[{first}] runs it") };
                push(path.clone(), format!("names {id} {where_else}; a component runs on one machine"));
            } else {
                home.insert(id, i);
            }
        }
    }
    for (&id, &at) in &home {
        if id.kind != ComponentKind::Keepalived {
            continue;
        }
        let lb = ComponentId::new(ComponentKind::Lb, id.index);
        if home.get(&lb) != Some(&at) {
            push(
                format!("machines[{at}].runs"),
                format!("names {id} but not {lb}: keepalived watches the HAProxy on its own machine; put both on one"),
            );
        }
    }
}
