//! Every input to the model is a timestamped command: sliders, buttons, scenario faults. A run
//! is seed + scenario + command log, so it can be replayed, shared and scrubbed.

use super::time::SimTime;
use crate::scenario::Algorithm;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Command {
    /// Simulated time at which the command takes effect, microseconds.
    pub at_us: SimTime,
    pub what: CommandKind,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum CommandKind {
    SetArrivalRate {
        per_s: f64,
    },
    SetWriteRatio {
        ratio: f64,
    },
    SetAlgorithm {
        algorithm: Algorithm,
    },
    SetRandomDraws {
        draws: u32,
    },
    /// HAProxy `set weight`: server index from 0.
    SetWeight {
        server: u16,
        weight: u32,
    },
    /// Grow or shrink the farm; removed servers finish what they hold, then idle.
    SetServerCount {
        count: u16,
    },
    SetMaxconn {
        maxconn: u32,
    },
    SetMaxqueue {
        maxqueue: u32,
    },
    SetTimeoutQueue {
        ms: f64,
    },
    /// Stop simulated time (the driver's concern; recorded so a replay knows).
    Pause,
    Resume,
    /// Simulated seconds per wall second.
    SetSpeed {
        factor: f64,
    },
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
        match *self {
            CommandKind::SetArrivalRate { per_s } => finite_in(per_s, 0.0, 100_000.0, "arrival rate"),
            CommandKind::SetWriteRatio { ratio } => finite_in(ratio, 0.0, 1.0, "write ratio"),
            CommandKind::SetRandomDraws { draws } => finite_in(draws as f64, 1.0, 8.0, "random draws"),
            CommandKind::SetWeight { server, weight } => {
                if (server as usize) >= server_limit {
                    Err(format!("no server {} (there are {server_limit})", server + 1))
                } else {
                    finite_in(weight as f64, 0.0, 256.0, "weight")
                }
            }
            CommandKind::SetServerCount { count } => {
                finite_in(count as f64, 1.0, crate::scenario::MAX_WEB_SERVERS as f64, "server count")
            }
            CommandKind::SetMaxconn { maxconn } => finite_in(maxconn as f64, 0.0, 100_000.0, "maxconn"),
            CommandKind::SetMaxqueue { maxqueue } => finite_in(maxqueue as f64, 0.0, 1_000_000.0, "maxqueue"),
            CommandKind::SetTimeoutQueue { ms } => finite_in(ms, 0.0, 3_600_000.0, "timeout queue"),
            CommandKind::SetSpeed { factor } => finite_in(factor, 0.01, 1_000.0, "speed"),
            CommandKind::SetAlgorithm { .. } | CommandKind::Pause | CommandKind::Resume => Ok(()),
        }
    }
}
