//! Every input to the model is a timestamped command: sliders, buttons, scenario faults. A run
//! is seed + scenario + command log, so it can be replayed, shared and scrubbed.

use super::node::{Link, NodeId};
use super::time::SimTime;
use super::trace::Subject;
use crate::scenario::json::{named_from_json, FromJson};
use crate::scenario::{Algorithm, Failover, ReadFrom, Replication};
use serde::Serialize;
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Command {
    /// Simulated time at which the command takes effect, microseconds.
    pub at_us: SimTime,
    pub what: CommandKind,
}

#[rustfmt::skip]
#[derive(Clone, Debug, PartialEq, Serialize)]
// Externally tagged (`{"kill":{"node":"web1"}}`, `"pause"`); read back by `CommandKind::from_json`.
#[serde(rename_all = "snake_case")]
pub enum CommandKind {
    SetArrivalRate { per_s: f64 },
    SetWriteRatio { ratio: f64 },
    SetAlgorithm { algorithm: Algorithm },
    SetRandomDraws { draws: u32 },
    /// HAProxy `set weight`: server index from 0.
    SetWeight { server: u16, weight: u32 },
    /// Grow or shrink the farm; removed servers finish what they hold, then idle.
    SetServerCount { count: u16 },
    SetMaxconn { maxconn: u32 },
    SetMaxqueue { maxqueue: u32 },
    SetTimeoutQueue { ms: f64 },
    /// Stop simulated time (the driver's concern; recorded so a replay knows).
    Pause,
    Resume,
    /// Simulated seconds per wall second.
    SetSpeed { factor: f64 },
    /// A node stops: a crashed machine answers nothing.
    Kill { node: NodeId },
    /// A planned stop of a balancer (keepalived SIGTERM): its priority-0 advert lets the backup
    /// take over after its skew time only; HAProxy on it stops too.
    Stop { node: NodeId },
    /// A killed node comes back (empty-handed: what it was doing is lost).
    Restore { node: NodeId },
    /// keepalived beside balancer `lb` (index from 0: `keepalived1` is 0) is killed with
    /// SIGKILL: its adverts stop, the floating IP it had stays configured; HAProxy runs on.
    KillKeepalived { lb: u8 },
    /// keepalived alone stops (SIGTERM): a master's priority-0 advert, the IP removed.
    StopKeepalived { lb: u8 },
    /// keepalived alone starts again (as backup; it removes a stale floating IP).
    RestoreKeepalived { lb: u8 },
    /// Deploy new code: every application server restarts (each down `deploy.restart_s`), all
    /// at once, or `rolling`: one at a time, each first drained from the balancer (weight 0
    /// until idle) and put back once it runs again.
    Deploy { rolling: bool },
    /// A whole machine crashes: every component it runs goes down at once.
    KillMachine { machine: String },
    /// A crashed machine boots again and starts everything it runs.
    RestoreMachine { machine: String },
    /// Everything on a machine works `factor` times slower.
    SlowMachine { machine: String, factor: f64 },
    /// A node works `factor` times slower (1 = normal speed).
    Slow { node: NodeId, factor: f64 },
    /// Cut a network link (a partition): nothing crosses it.
    Cut { link: Link },
    Heal { link: Link },
    /// Make a web server a backup (used only when every active server is down) or active again.
    SetBackup { server: u16, backup: bool },
    SetAllBackups { on: bool },
    SetRetries { retries: u32 },
    SetRedispatch { on: bool },
    /// Random failures of one class of node; mtbf 0 = never.
    SetFailureRate { class: NodeClass, mtbf_s: f64, mttr_s: f64 },
    SetReplication { mode: Replication },
    SetReadFrom { mode: ReadFrom },
    SetFailover { mode: Failover },
    /// Binlog events each replica applies per second.
    SetApplyRate { per_s: f64 },
    SetFencing { on: bool },
    /// Re-clone a database node from the current primary (a diverged old primary's way back).
    Rebuild { node: NodeId },
    SetHttps { on: bool },
    SetFirewall { on: bool },
    SetMonitoring { on: bool },
    /// Re-encrypt the balancer-to-server hop (`security.backend_tls`, HAProxy `ssl` on its
    /// server lines). Last, so the older commands keep their places.
    SetBackendTls { on: bool },
}

/// Kinds of node that fail at random with their own rates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeClass {
    Lb,
    Web,
    Db,
    Dns,
}

impl NodeClass {
    pub const ALL: [NodeClass; 4] = [NodeClass::Lb, NodeClass::Web, NodeClass::Db, NodeClass::Dns];

    pub fn of(node: NodeId) -> Option<NodeClass> {
        match node {
            NodeId::Lb(_) => Some(NodeClass::Lb),
            NodeId::Web(_) => Some(NodeClass::Web),
            NodeId::Db(_) => Some(NodeClass::Db),
            NodeId::Dns => Some(NodeClass::Dns),
            // Application servers fail with their machine (or by hand), not at a rate of their own.
            NodeId::Clients | NodeId::App(_) => None,
        }
    }

    /// The settings-table key of this class's mean time between failures.
    pub fn mtbf_key(self) -> &'static str {
        match self {
            NodeClass::Lb => "failures.lb.mtbf_s",
            NodeClass::Web => "failures.web.mtbf_s",
            NodeClass::Db => "failures.db.mtbf_s",
            NodeClass::Dns => "failures.dns.mtbf_s",
        }
    }

    /// The settings-table key of this class's mean time to repair.
    pub fn mttr_key(self) -> &'static str {
        match self {
            NodeClass::Lb => "failures.lb.mttr_s",
            NodeClass::Web => "failures.web.mttr_s",
            NodeClass::Db => "failures.db.mttr_s",
            NodeClass::Dns => "failures.dns.mttr_s",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            NodeClass::Lb => "lb",
            NodeClass::Web => "web",
            NodeClass::Db => "db",
            NodeClass::Dns => "dns",
        }
    }
}

/// Fastest and slowest the page's clock may run, simulated seconds per wall second (not a
/// scenario setting, so not in the settings table).
pub const SPEED_RANGE: (f64, f64) = (0.01, 1_000.0);
/// Most a node may be slowed down (`slow=FACTOR`).
pub const SLOW_RANGE: (f64, f64) = (1.0, 1_000.0);

/// Whether the design ever wires these two kinds of node together: clients reach DNS and the
/// balancers, balancers reach each other and the web servers, web servers reach the database
/// nodes, and database nodes replicate among themselves. `web1-web2` or `clients-db1` is not a
/// link, so cutting it would do nothing.
pub fn is_design_link(link: Link) -> bool {
    use NodeId::*;
    // `Link` keeps the lower id first: Clients < Dns < Lb < Web < Db < App.
    matches!(
        (link.0, link.1),
        (Clients, Dns)
            | (Clients, Lb(_))
            | (Clients, Web(_))
            | (Lb(_), Lb(_))
            | (Lb(_), Web(_))
            | (Web(_), Db(_))
            | (Db(_), Db(_))
            | (Web(_), App(_))
            | (Db(_), App(_))
    )
}

/// The setting (in the settings table) each live command changes, and the value it sets.
fn setting_checks(what: &CommandKind) -> Vec<(&'static str, f64)> {
    let one = |key: &'static str, v: f64| vec![(key, v)];
    match *what {
        CommandKind::SetArrivalRate { per_s } => one("traffic.arrival_rate_per_s", per_s),
        CommandKind::SetWriteRatio { ratio } => one("traffic.write_ratio", ratio),
        CommandKind::SetRandomDraws { draws } => one("balancer.random_draws", draws as f64),
        CommandKind::SetWeight { weight, .. } => one("web.weights", weight as f64),
        CommandKind::SetServerCount { count } => one("web.count", count as f64),
        CommandKind::SetMaxconn { maxconn } => one("balancer.maxconn", maxconn as f64),
        CommandKind::SetMaxqueue { maxqueue } => one("balancer.maxqueue", maxqueue as f64),
        CommandKind::SetTimeoutQueue { ms } => one("balancer.timeout_queue_ms", ms),
        CommandKind::SetRetries { retries } => one("balancer.retries", retries as f64),
        CommandKind::SetApplyRate { per_s } => one("db.apply_rate_per_s", per_s),
        CommandKind::SetFailureRate { class, mtbf_s, mttr_s } => {
            vec![(class.mtbf_key(), mtbf_s), (class.mttr_key(), mttr_s)]
        }
        _ => Vec::new(),
    }
}

impl CommandKind {
    /// The node or link this command is aimed at (a server's weight or backup flag is aimed at
    /// that server), `None` for a command about the whole design or the clock. The page files
    /// a command under it in the event log, and the model checks that it exists.
    pub fn subject(&self) -> Option<Subject> {
        match *self {
            CommandKind::Kill { node }
            | CommandKind::Stop { node }
            | CommandKind::Restore { node }
            | CommandKind::Rebuild { node }
            | CommandKind::Slow { node, .. } => Some(Subject::Node(node)),
            CommandKind::KillKeepalived { lb }
            | CommandKind::StopKeepalived { lb }
            | CommandKind::RestoreKeepalived { lb } => Some(Subject::Node(NodeId::Lb(lb))),
            CommandKind::Cut { link } | CommandKind::Heal { link } => Some(Subject::Link(link)),
            CommandKind::SetWeight { server, .. } | CommandKind::SetBackup { server, .. } => {
                Some(Subject::Node(NodeId::Web(server)))
            }
            _ => None,
        }
    }

    /// Whether this command is aimed at `node` or at one of its links.
    pub fn concerns(&self, node: NodeId) -> bool {
        self.subject().is_some_and(|s| s.involves(node))
    }

    /// Reject absurd values before they reach the model: the settings table's ranges, the
    /// same ones `--set` and `validate()` use.
    pub fn check(&self, server_limit: usize) -> Result<(), String> {
        for (key, value) in setting_checks(self) {
            crate::scenario::check_value(key, value).map_err(|e| format!("{key}: {e}"))?;
        }
        let finite_in = |v: f64, (lo, hi): (f64, f64), what: &str| {
            if v.is_finite() && v >= lo && v <= hi {
                Ok(())
            } else {
                Err(format!("{what} {v} is out of range: allowed {lo} to {hi}"))
            }
        };
        let server_exists = |server: u16| {
            if (server as usize) < server_limit {
                Ok(())
            } else {
                Err(format!("no server web{} (there are {server_limit})", server as u32 + 1))
            }
        };
        match *self {
            CommandKind::SetSpeed { factor } => finite_in(factor, SPEED_RANGE, "speed"),
            CommandKind::Slow { factor, .. } | CommandKind::SlowMachine { factor, .. } => {
                finite_in(factor, SLOW_RANGE, "slow-down factor")
            }
            CommandKind::SetWeight { server, .. } | CommandKind::SetBackup { server, .. } => server_exists(server),
            CommandKind::Cut { link } | CommandKind::Heal { link } if !is_design_link(link) => {
                Err(format!("{link} is not a link of this design; links join clients to dns and the balancers, balancers to each other and to web servers, web servers to databases or to application servers, application servers to databases, and databases to each other"))
            }
            _ => Ok(()),
        }
    }
}

named_from_json!(NodeClass);

impl FromJson for NodeId {
    fn from_json(v: &Value) -> Result<NodeId, String> {
        let text = String::from_json(v)?;
        NodeId::parse(&text).ok_or_else(|| format!("'{text}' is not a node like web1"))
    }
}

impl FromJson for Link {
    fn from_json(v: &Value) -> Result<Link, String> {
        let text = String::from_json(v)?;
        Link::parse(&text).ok_or_else(|| format!("'{text}' is not a link like lb1-lb2"))
    }
}

/// The most keepalived processes a design has: one beside each balancer of the pair.
pub const MAX_KEEPALIVED: u8 = 2;

/// keepalived's balancer index as a command carries it (0 or 1).
fn keepalived_index(f: &Fields, lb: u16) -> Result<u8, String> {
    if lb < MAX_KEEPALIVED as u16 {
        Ok(lb as u8)
    } else {
        Err(format!("{}.lb: {lb} is not a balancer of the pair; write 0 (keepalived1) or 1 (keepalived2)", f.name))
    }
}

/// A machine's id as a command carries it: checked like the scenario's (`server1`), so a
/// hostile link cannot smuggle in a long or odd string.
pub fn machine_id(text: String) -> Result<String, String> {
    match crate::scenario::machines::id_problem(&text) {
        None => Ok(text),
        Some(problem) => Err(problem),
    }
}

/// Every command's name in JSON, for the message about an unknown one.
const COMMAND_NAMES: &str = "set_arrival_rate, set_write_ratio, set_algorithm, set_random_draws, set_weight, \
set_server_count, set_maxconn, set_maxqueue, set_timeout_queue, pause, resume, set_speed, kill, stop, restore, \
kill_keepalived, stop_keepalived, restore_keepalived, deploy, kill_machine, restore_machine, slow_machine, slow, cut, heal, set_backup, set_all_backups, set_retries, set_redispatch, set_failure_rate, set_replication, set_read_from, \
set_failover, set_apply_rate, set_fencing, rebuild, set_https, set_firewall, set_monitoring, set_backend_tls";

/// The fields of one command in JSON (`{"set_weight":{"server":0,"weight":3}}`).
struct Fields<'a> {
    name: &'a str,
    fields: Option<&'a serde_json::Map<String, Value>>,
}

impl Fields<'_> {
    fn field(&self, key: &str) -> Result<&Value, String> {
        self.fields.and_then(|m| m.get(key)).ok_or_else(|| format!("{} needs the field {key}", self.name))
    }

    fn get<T: FromJson>(&self, key: &str) -> Result<T, String> {
        T::from_json(self.field(key)?).map_err(|e| format!("{}.{key}: {e}", self.name))
    }
}

impl CommandKind {
    /// Read a command as it serialises: `"pause"` or `{"kill":{"node":"web1"}}`.
    pub fn from_json(v: &Value) -> Result<CommandKind, String> {
        let entry = match v {
            Value::Object(m) if m.len() == 1 => m.iter().next(),
            _ => None,
        };
        let (name, body) = match (v, entry) {
            (Value::String(name), _) => (name.as_str(), None),
            (_, Some((name, body))) => (name.as_str(), Some(body)),
            _ => {
                return Err(format!(
                    "expected a command such as \"pause\" or {{\"kill\":{{\"node\":\"web1\"}}}}, found {}",
                    crate::scenario::json::kind_of(v)
                ))
            }
        };
        let f = Fields { name, fields: body.and_then(Value::as_object) };
        let unit = |kind: CommandKind| match body {
            None | Some(Value::Null) => Ok(kind),
            Some(_) => Err(format!("{name} takes no fields")),
        };
        use CommandKind::*;
        Ok(match name {
            "set_arrival_rate" => SetArrivalRate { per_s: f.get("per_s")? },
            "set_write_ratio" => SetWriteRatio { ratio: f.get("ratio")? },
            "set_algorithm" => SetAlgorithm { algorithm: f.get("algorithm")? },
            "set_random_draws" => SetRandomDraws { draws: f.get("draws")? },
            "set_weight" => SetWeight { server: f.get("server")?, weight: f.get("weight")? },
            "set_server_count" => SetServerCount { count: f.get("count")? },
            "set_maxconn" => SetMaxconn { maxconn: f.get("maxconn")? },
            "set_maxqueue" => SetMaxqueue { maxqueue: f.get("maxqueue")? },
            "set_timeout_queue" => SetTimeoutQueue { ms: f.get("ms")? },
            "pause" => unit(Pause)?,
            "resume" => unit(Resume)?,
            "set_speed" => SetSpeed { factor: f.get("factor")? },
            "kill" => Kill { node: f.get("node")? },
            "stop" => Stop { node: f.get("node")? },
            "restore" => Restore { node: f.get("node")? },
            "kill_keepalived" => KillKeepalived { lb: keepalived_index(&f, f.get("lb")?)? },
            "stop_keepalived" => StopKeepalived { lb: keepalived_index(&f, f.get("lb")?)? },
            "restore_keepalived" => RestoreKeepalived { lb: keepalived_index(&f, f.get("lb")?)? },
            "deploy" => Deploy { rolling: f.get("rolling")? },
            "kill_machine" => KillMachine { machine: machine_id(f.get("machine")?)? },
            "restore_machine" => RestoreMachine { machine: machine_id(f.get("machine")?)? },
            "slow_machine" => SlowMachine { machine: machine_id(f.get("machine")?)?, factor: f.get("factor")? },
            "slow" => Slow { node: f.get("node")?, factor: f.get("factor")? },
            "cut" => Cut { link: f.get("link")? },
            "heal" => Heal { link: f.get("link")? },
            "set_backup" => SetBackup { server: f.get("server")?, backup: f.get("backup")? },
            "set_all_backups" => SetAllBackups { on: f.get("on")? },
            "set_retries" => SetRetries { retries: f.get("retries")? },
            "set_redispatch" => SetRedispatch { on: f.get("on")? },
            "set_failure_rate" => {
                SetFailureRate { class: f.get("class")?, mtbf_s: f.get("mtbf_s")?, mttr_s: f.get("mttr_s")? }
            }
            "set_replication" => SetReplication { mode: f.get("mode")? },
            "set_read_from" => SetReadFrom { mode: f.get("mode")? },
            "set_failover" => SetFailover { mode: f.get("mode")? },
            "set_apply_rate" => SetApplyRate { per_s: f.get("per_s")? },
            "set_fencing" => SetFencing { on: f.get("on")? },
            "rebuild" => Rebuild { node: f.get("node")? },
            "set_https" => SetHttps { on: f.get("on")? },
            "set_firewall" => SetFirewall { on: f.get("on")? },
            "set_monitoring" => SetMonitoring { on: f.get("on")? },
            "set_backend_tls" => SetBackendTls { on: f.get("on")? },
            _ => return Err(format!("unknown command '{name}'; allowed: {COMMAND_NAMES}")),
        })
    }
}

impl Command {
    /// Read a command as it serialises: `{"at_us":1000,"what":"pause"}`. The error names the
    /// field at fault (`at_us` or `what`) and says what is wrong.
    pub fn from_json(v: &Value) -> Result<Command, (&'static str, String)> {
        let field = |key: &'static str| v.get(key).ok_or((key, format!("a command needs the field {key}")));
        let at_us = u64::from_json(field("at_us")?).map_err(|e| ("at_us", e))?;
        let what = CommandKind::from_json(field("what")?).map_err(|e| ("what", e))?;
        Ok(Command { at_us, what })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Algorithm, Failover, ReadFrom, Replication};

    #[test]
    fn a_command_names_what_it_is_aimed_at() {
        let (lb1, web2) = (NodeId::Lb(0), NodeId::Web(1));
        let link = Link::new(lb1, web2);
        assert_eq!(CommandKind::Stop { node: lb1 }.subject(), Some(Subject::Node(lb1)));
        assert_eq!(CommandKind::Slow { node: web2, factor: 2.0 }.subject(), Some(Subject::Node(web2)));
        assert_eq!(CommandKind::Heal { link }.subject(), Some(Subject::Link(link)));
        assert_eq!(CommandKind::SetBackup { server: 1, backup: true }.subject(), Some(Subject::Node(web2)));
        assert_eq!(CommandKind::SetHttps { on: true }.subject(), None);
        assert!(CommandKind::Cut { link }.concerns(lb1) && CommandKind::Cut { link }.concerns(web2));
        assert!(!CommandKind::Kill { node: web2 }.concerns(lb1));
        assert!(!CommandKind::SetServerCount { count: 2 }.concerns(web2));
    }

    #[test]
    fn every_command_reads_back_as_it_serialises() {
        let (web2, db1) = (NodeId::Web(1), NodeId::Db(0));
        let link = Link::new(NodeId::Lb(0), web2);
        let all = [
            CommandKind::SetArrivalRate { per_s: 250.5 },
            CommandKind::SetWriteRatio { ratio: 0.25 },
            CommandKind::SetAlgorithm { algorithm: Algorithm::StaticRr },
            CommandKind::SetRandomDraws { draws: 3 },
            CommandKind::SetWeight { server: 1, weight: 7 },
            CommandKind::SetServerCount { count: 5 },
            CommandKind::SetMaxconn { maxconn: 30 },
            CommandKind::SetMaxqueue { maxqueue: 40 },
            CommandKind::SetTimeoutQueue { ms: 1500.0 },
            CommandKind::Pause,
            CommandKind::Resume,
            CommandKind::SetSpeed { factor: 0.5 },
            CommandKind::Kill { node: web2 },
            CommandKind::Restore { node: db1 },
            CommandKind::Deploy { rolling: true },
            CommandKind::KillKeepalived { lb: 0 },
            CommandKind::StopKeepalived { lb: 1 },
            CommandKind::RestoreKeepalived { lb: 0 },
            CommandKind::Slow { node: web2, factor: 4.0 },
            CommandKind::Cut { link },
            CommandKind::Heal { link },
            CommandKind::SetBackup { server: 2, backup: true },
            CommandKind::SetAllBackups { on: true },
            CommandKind::SetRetries { retries: 2 },
            CommandKind::SetRedispatch { on: false },
            CommandKind::SetFailureRate { class: NodeClass::Db, mtbf_s: 600.0, mttr_s: 30.0 },
            CommandKind::SetReplication { mode: Replication::Semisync },
            CommandKind::SetReadFrom { mode: ReadFrom::Proxy },
            CommandKind::SetFailover { mode: Failover::Auto },
            CommandKind::SetApplyRate { per_s: 90.0 },
            CommandKind::SetFencing { on: false },
            CommandKind::Rebuild { node: db1 },
            CommandKind::SetHttps { on: true },
            CommandKind::SetFirewall { on: true },
            CommandKind::SetMonitoring { on: true },
            CommandKind::SetBackendTls { on: true },
        ];
        for (i, what) in all.into_iter().enumerate() {
            let command = Command { at_us: i as u64 * 1_000, what };
            let json = serde_json::to_value(&command).unwrap();
            assert_eq!(Command::from_json(&json), Ok(command), "{json}");
            let name = match &json["what"] {
                Value::String(name) => name.clone(),
                Value::Object(m) => m.keys().next().unwrap().clone(),
                other => panic!("{other}"),
            };
            assert!(COMMAND_NAMES.split(", ").any(|n| n == name), "{name} is listed");
        }
    }

    #[test]
    fn bad_commands_say_what_is_wrong() {
        let read = |text: &str| Command::from_json(&serde_json::from_str(text).unwrap());
        assert_eq!(read(r#"{"what":"pause"}"#).unwrap_err().0, "at_us");
        assert_eq!(read(r#"{"at_us":-1,"what":"pause"}"#).unwrap_err().0, "at_us");
        for bad in [
            r#"{"at_us":1,"what":"teleport"}"#,
            r#"{"at_us":1,"what":{"pause":{}}}"#,
            r#"{"at_us":1,"what":{"kill":{"node":"cache9"}}}"#,
            r#"{"at_us":1,"what":{"set_weight":{"server":1}}}"#,
            r#"{"at_us":1,"what":{"kill":{"node":"web1"},"pause":null}}"#,
            r#"{"at_us":1,"what":7}"#,
            r#"{"at_us":1,"what":{"kill_keepalived":{"lb":2}}}"#,
            r#"{"at_us":1,"what":{"stop_keepalived":{"lb":"keepalived1"}}}"#,
            r#"{"at_us":1,"what":{"restore_keepalived":{}}}"#,
        ] {
            let (field, message) = read(bad).unwrap_err();
            assert!(field == "what" && !message.is_empty(), "{bad}: {message}");
        }
        assert_eq!(read(r#"{"at_us":1,"what":{"pause":null}}"#).unwrap().what, CommandKind::Pause);
    }
}
