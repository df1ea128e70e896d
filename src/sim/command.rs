//! Every input to the model is a timestamped command: sliders, buttons, scenario faults. A run
//! is seed + scenario + command log, so it can be replayed, shared and scrubbed.

use super::node::{Link, NodeId};
use super::time::SimTime;
use crate::scenario::{Algorithm, Failover, ReadFrom, Replication};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Command {
    /// Simulated time at which the command takes effect, microseconds.
    pub at_us: SimTime,
    pub what: CommandKind,
}

#[rustfmt::skip]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
// Externally tagged (`{"kill":{"node":"web1"}}`, `"pause"`): an internally tagged enum would
// make serde buffer every command through its generic content deserializer, about 70 KB of
// WebAssembly for no gain.
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
    /// A killed node comes back (empty-handed: what it was doing is lost).
    Restore { node: NodeId },
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
    SetHttps { on: bool },
    SetFirewall { on: bool },
    SetMonitoring { on: bool },
}

/// Kinds of node that fail at random with their own rates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
            NodeId::Clients => None,
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

impl CommandKind {
    /// Reject absurd values before they reach the model.
    pub fn check(&self, server_limit: usize) -> Result<(), String> {
        let finite_in = |v: f64, lo: f64, hi: f64, what: &str| {
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
                Err(format!("no server web{} (there are {server_limit})", server + 1))
            }
        };
        match *self {
            CommandKind::SetArrivalRate { per_s } => finite_in(per_s, 0.0, 100_000.0, "arrival rate"),
            CommandKind::SetWriteRatio { ratio } => finite_in(ratio, 0.0, 1.0, "write ratio"),
            CommandKind::SetRandomDraws { draws } => finite_in(draws as f64, 1.0, 8.0, "random draws"),
            CommandKind::SetWeight { server, weight } => {
                server_exists(server)?;
                finite_in(weight as f64, 0.0, 256.0, "weight")
            }
            CommandKind::SetServerCount { count } => {
                finite_in(count as f64, 1.0, crate::scenario::MAX_WEB_SERVERS as f64, "server count")
            }
            CommandKind::SetMaxconn { maxconn } => finite_in(maxconn as f64, 0.0, 100_000.0, "maxconn"),
            CommandKind::SetMaxqueue { maxqueue } => finite_in(maxqueue as f64, 0.0, 1_000_000.0, "maxqueue"),
            CommandKind::SetTimeoutQueue { ms } => finite_in(ms, 0.0, 3_600_000.0, "timeout queue"),
            CommandKind::SetSpeed { factor } => finite_in(factor, 0.01, 1_000.0, "speed"),
            CommandKind::Slow { factor, .. } => finite_in(factor, 1.0, 1_000.0, "slow-down factor"),
            CommandKind::SetBackup { server, .. } => server_exists(server),
            CommandKind::SetRetries { retries } => finite_in(retries as f64, 0.0, 10.0, "retries"),
            CommandKind::SetFailureRate { mtbf_s, mttr_s, .. } => {
                finite_in(mtbf_s, 0.0, 1e9, "mean time between failures")?;
                finite_in(mttr_s, 0.1, 1e9, "mean time to repair")
            }
            CommandKind::SetApplyRate { per_s } => finite_in(per_s, 0.001, 1_000_000.0, "apply rate"),
            CommandKind::SetAlgorithm { .. }
            | CommandKind::SetReplication { .. }
            | CommandKind::SetReadFrom { .. }
            | CommandKind::SetFailover { .. }
            | CommandKind::SetFencing { .. }
            | CommandKind::SetHttps { .. }
            | CommandKind::SetFirewall { .. }
            | CommandKind::SetMonitoring { .. }
            | CommandKind::Pause
            | CommandKind::Resume
            | CommandKind::Kill { .. }
            | CommandKind::Restore { .. }
            | CommandKind::Cut { .. }
            | CommandKind::Heal { .. }
            | CommandKind::SetAllBackups { .. }
            | CommandKind::SetRedispatch { .. } => Ok(()),
        }
    }
}
