//! The typed facts of the course design's other weaknesses, made measurable: no TLS (a sniffer
//! on the public link reads requests in plaintext; with HTTPS the balancer pays a handshake per
//! new session), no firewall (probes from the internet reach the web servers and the database
//! port directly), and no monitoring (nobody learns that a node died). The edge (`edge.rs`) and
//! monitoring (`monitoring.rs`) parts produce them; `render::facts` words them.

use crate::sim::node::NodeId;
use crate::sim::time::SimTime;
use serde::Serialize;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SecurityStats {
    /// Requests that crossed the internet readable by anyone on the path.
    pub plaintext_requests: u64,
    pub encrypted_requests: u64,
    /// Full TLS handshakes the balancer performed.
    pub tls_handshakes: u64,
    /// Requests the balancer sent on to a web server in plain text: readable by a sniffer in
    /// the data centre, HTTPS or not (TLS ended at the balancer).
    pub backend_plaintext_requests: u64,
    /// Requests re-encrypted on that hop (`security.backend_tls`).
    pub backend_encrypted_requests: u64,
    /// Outside connection attempts that reached a web server or the database directly.
    pub probes_reached: u64,
    /// Outside connection attempts the firewall dropped at the edge.
    pub probes_blocked: u64,
    /// The same, machine by machine (machines the probes reached so far, in that order).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub probes_by_machine: Vec<MachineProbes>,
}

/// Outside probes at one machine's ports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MachineProbes {
    pub machine: String,
    /// Probes that reached a port the design does not serve to the internet.
    pub reached: u64,
    /// Probes its firewall dropped.
    pub blocked: u64,
}

/// The latest request a sniffer on the clients ↔ balancer link saw: its fields, not its words
/// (`render::facts` writes what the sniffer reads).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnifferLine {
    pub request: u64,
    pub client: u32,
    pub write: bool,
    /// HTTPS was on: the sniffer sees only TLS records.
    pub encrypted: bool,
}

/// What monitoring noticed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AlertKind {
    Down,
    Recovered,
    /// A replica's lag passed the alert threshold.
    Lagging {
        lag_ms: f64,
    },
    /// A replica's lag is unknown: it receives nothing (counted as lagging).
    LagUnknown,
    /// A lagging replica is back under the threshold.
    CaughtUp,
}

/// One alert the monitoring system raised.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Alert {
    pub at: SimTime,
    pub node: NodeId,
    pub kind: AlertKind,
}

/// What the monitoring system believes and has said.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MonitorView {
    /// Nodes the monitoring system has seen down (empty when monitoring is off).
    pub known_down: Vec<NodeId>,
    /// The latest alerts, oldest first.
    pub alerts: Vec<Alert>,
}

/// One connection attempt from the internet to a web server or a database port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutsideProbe {
    /// Probes sent before this one (the page counts new ones by it).
    pub seq: u64,
    pub target: NodeId,
    pub sent_at: SimTime,
    /// When it reaches its target, or the edge where the firewall drops it.
    pub arrives_at: SimTime,
    /// Dropped by the firewall at the edge.
    pub blocked: bool,
}

/// Alerts kept for the dashboard.
pub(super) const ALERTS_KEPT: usize = 50;
/// Probes kept for drawing.
pub(super) const PROBES_KEPT: usize = 16;
