//! The event trace: one compact record per model event, formatted to one line only when read.
//! The same lines feed the page's event log and the golden-trace tests.

use super::metrics::FailCause;
use super::node::{Link, NodeId};
use super::time::{SimTime, US_PER_S};
use std::collections::VecDeque;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TraceKind {
    /// A client sends a request (`write` tells which kind).
    Arrive { client: u32, write: bool },
    /// The client had to resolve the name first.
    DnsLookup,
    /// The balancer sent the request to a server.
    Dispatch(NodeId),
    /// Every server was full: the request waits in the balancer's queue.
    Queued,
    /// A worker on this node started on the request.
    Start(NodeId),
    /// The application queried this database node.
    Query(NodeId),
    /// The client received its response after this many microseconds.
    Complete { latency: SimTime },
    /// The request failed.
    Fail(FailCause),
    /// A command from the user or the scenario took effect (its index in the command log).
    Command(u32),
    /// A node or link changed state.
    State(Subject, NodeEvent),
}

/// What a state change is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    Node(NodeId),
    Link(Link),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Node(n) => write!(f, "{n}"),
            Subject::Link(l) => write!(f, "{l}"),
        }
    }
}

impl serde::Serialize for Subject {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// State changes the model detects (the timeline, the alerts, the event log).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeEvent {
    Killed,
    Restored,
    Slowed,
    NormalSpeed,
    LinkCut,
    LinkHealed,
    /// Health checks marked a server DOWN / UP.
    MarkedDown,
    MarkedUp,
    BecameMaster,
    BecameBackup,
    SplitBrainStart,
    SplitBrainEnd,
    SemiSyncOff,
    SemiSyncOn,
    /// The failover manager declared the primary dead.
    DeclaredDead,
    Promoting,
    Promoted,
    RejoinedAsReplica,
    SecondPrimary,
    /// Back with transactions the primary lacks: kept out until rebuilt.
    Diverged,
    Rebuilding,
    Rebuilt,
}

impl NodeEvent {
    pub fn name(self) -> &'static str {
        match self {
            NodeEvent::Killed => "killed",
            NodeEvent::Restored => "restored",
            NodeEvent::Slowed => "slowed",
            NodeEvent::NormalSpeed => "normal speed",
            NodeEvent::LinkCut => "link cut",
            NodeEvent::LinkHealed => "link healed",
            NodeEvent::MarkedDown => "marked down",
            NodeEvent::MarkedUp => "marked up",
            NodeEvent::BecameMaster => "became master",
            NodeEvent::BecameBackup => "became backup",
            NodeEvent::SplitBrainStart => "split brain: both balancers are master",
            NodeEvent::SplitBrainEnd => "split brain over",
            NodeEvent::SemiSyncOff => "semi-sync timed out: async now",
            NodeEvent::SemiSyncOn => "semi-sync on again",
            NodeEvent::DeclaredDead => "declared dead by the failover manager",
            NodeEvent::Promoting => "promoting to primary",
            NodeEvent::Promoted => "promoted: new primary",
            NodeEvent::RejoinedAsReplica => "rejoined as a replica (fenced)",
            NodeEvent::SecondPrimary => "back writable: two primaries (split brain)",
            NodeEvent::Diverged => "diverged",
            NodeEvent::Rebuilding => "rebuilding from the primary",
            NodeEvent::Rebuilt => "rebuilt: rejoined as a replica",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TraceEvent {
    pub at: SimTime,
    /// Request id (0 for events that concern no request).
    pub request: u64,
    pub kind: TraceKind,
}

impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>6}.{:06} ", self.at / US_PER_S, self.at % US_PER_S)?;
        if self.request != 0 {
            write!(f, "r{} ", self.request)?;
        }
        match self.kind {
            TraceKind::Arrive { client, write } => {
                write!(f, "arrive client={client} {}", if write { "write" } else { "read" })
            }
            TraceKind::DnsLookup => write!(f, "dns lookup www.foobar.com"),
            TraceKind::Dispatch(n) => write!(f, "lb1 -> {n}"),
            TraceKind::Queued => write!(f, "queued at lb1"),
            TraceKind::Start(n) => write!(f, "start {n}"),
            TraceKind::Query(n) => write!(f, "query {n}"),
            TraceKind::Complete { latency } => write!(f, "complete {:.3} ms", latency as f64 / 1_000.0),
            TraceKind::Fail(c) => write!(f, "fail {} {}", c.status(), c.name()),
            TraceKind::Command(i) => write!(f, "command #{i}"),
            TraceKind::State(subject, event) => write!(f, "{subject} {}", event.name()),
        }
    }
}

impl TraceEvent {
    /// The nodes this event concerns, for filtering the log by node.
    pub fn node(&self) -> Option<NodeId> {
        match self.kind {
            TraceKind::Dispatch(n) | TraceKind::Start(n) | TraceKind::Query(n) => Some(n),
            TraceKind::Queued | TraceKind::Fail(_) => Some(NodeId::Lb(0)),
            TraceKind::DnsLookup => Some(NodeId::Dns),
            TraceKind::Arrive { .. } | TraceKind::Complete { .. } => Some(NodeId::Clients),
            TraceKind::Command(_) => None,
            TraceKind::State(Subject::Node(n), _) => Some(n),
            TraceKind::State(Subject::Link(l), _) => Some(l.0),
        }
    }
}

/// A bounded trace: keeps the newest `capacity` events; off costs one branch per event.
pub struct Trace {
    pub enabled: bool,
    events: VecDeque<TraceEvent>,
    capacity: usize,
    /// Events ever recorded (including those the ring has dropped).
    pub total: u64,
}

impl Trace {
    pub fn new(enabled: bool, capacity: usize) -> Trace {
        Trace { enabled, events: VecDeque::new(), capacity: capacity.max(1), total: 0 }
    }

    #[inline]
    pub fn record(&mut self, at: SimTime, request: u64, kind: TraceKind) {
        if !self.enabled {
            return;
        }
        if self.events.len() == self.capacity {
            self.events.pop_front();
        }
        self.events.push_back(TraceEvent { at, request, kind });
        self.total += 1;
    }

    pub fn events(&self) -> impl DoubleEndedIterator<Item = &TraceEvent> + ExactSizeIterator {
        self.events.iter()
    }

    /// All kept events as text, one line each.
    pub fn lines(&self) -> Vec<String> {
        self.events.iter().map(|e| e.to_string()).collect()
    }
}
