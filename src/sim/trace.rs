//! The event trace: one compact record per model event, formatted to one line only when read.
//! The same lines feed the page's event log and the golden-trace tests.

use super::command::Command;
use super::engine::Sim;
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
    /// Balancer `lb` (numbered from 0) sent the request to server `to`.
    Dispatch { lb: u8, to: NodeId },
    /// Every server was full: the request waits in balancer `lb`'s queue.
    Queued { lb: u8 },
    /// A worker on this node started on the request.
    Start(NodeId),
    /// The application queried this database node.
    Query(NodeId),
    /// The client received its response after this many microseconds.
    Complete { latency: SimTime },
    /// The request failed; `lb` is the balancer that had it (numbered from 0), `None` when it
    /// failed before reaching one (DNS failed, no balancer owned the address, the model's limit).
    Fail { cause: FailCause, lb: Option<u8> },
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

impl Subject {
    /// Whether this is `node`, or a link with `node` at one end.
    pub fn involves(self, node: NodeId) -> bool {
        match self {
            Subject::Node(n) => n == node,
            Subject::Link(l) => l.0 == node || l.1 == node,
        }
    }
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
    /// A balancer's planned stop (keepalived sent its priority-0 advert).
    Stopped,
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
    /// keepalived alone was killed (SIGKILL): no adverts; a floating IP it had stays configured.
    KeepalivedKilled,
    /// keepalived alone stopped (SIGTERM): a master's priority-0 advert, the IP removed.
    KeepalivedStopped,
    KeepalivedStarted,
    /// keepalived's HAProxy check failed: FAULT, the floating IP given up.
    TrackFault,
    /// keepalived's HAProxy check passes again: BACKUP.
    TrackPassed,
    /// Both machines have the floating IP: a killed keepalived left it on this one.
    DuplicateAddressStart,
    DuplicateAddressEnd,
    /// A rolling deploy drains this web server: weight 0 until it holds no request.
    Draining,
    /// A deploy restarts this application server with the new code.
    Redeploying,
}

impl NodeEvent {
    pub fn name(self) -> &'static str {
        match self {
            NodeEvent::Killed => "killed",
            NodeEvent::Stopped => "stopped (planned: priority-0 advert)",
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
            NodeEvent::Draining => "draining for a deploy (weight 0)",
            NodeEvent::Redeploying => "restarting with the new code",
            NodeEvent::KeepalivedKilled => {
                "keepalived killed (SIGKILL): no more adverts, the floating IP left configured"
            }
            NodeEvent::KeepalivedStopped => "keepalived stopped (SIGTERM: priority-0 advert, floating IP removed)",
            NodeEvent::KeepalivedStarted => "keepalived started: backup, stale floating IP removed",
            NodeEvent::TrackFault => "keepalived: HAProxy check failed, FAULT (floating IP given up)",
            NodeEvent::TrackPassed => "keepalived: HAProxy check passes, backup again",
            NodeEvent::DuplicateAddressStart => "duplicate address: a killed keepalived left the floating IP here",
            NodeEvent::DuplicateAddressEnd => "duplicate address over",
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
            TraceKind::Dispatch { lb, to } => write!(f, "{} -> {to}", NodeId::Lb(lb)),
            TraceKind::Queued { lb } => write!(f, "queued at {}", NodeId::Lb(lb)),
            TraceKind::Start(n) => write!(f, "start {n}"),
            TraceKind::Query(n) => write!(f, "query {n}"),
            TraceKind::Complete { latency } => write!(f, "complete {:.3} ms", latency as f64 / 1_000.0),
            TraceKind::Fail { cause: c, .. } => write!(f, "fail {} {}", c.status(), c.name()),
            TraceKind::Command(i) => write!(f, "command #{i}"),
            TraceKind::State(subject, event) => write!(f, "{subject} {}", event.name()),
        }
    }
}

impl TraceEvent {
    /// Whether the event names `node` as where it happened: the balancer that dispatched,
    /// queued or had a failed request (not always lb1: lb2 serves after a failover), the server
    /// picked, a worker, a query, a state change of the node or of one of its links. Commands
    /// are resolved by [`TraceEvent::concerns`], which has the command log.
    pub fn concerns_node(&self, node: NodeId) -> bool {
        match self.kind {
            TraceKind::Dispatch { lb, to } => to == node || NodeId::Lb(lb) == node,
            TraceKind::Queued { lb } | TraceKind::Fail { lb: Some(lb), .. } => NodeId::Lb(lb) == node,
            TraceKind::Start(n) | TraceKind::Query(n) => n == node,
            TraceKind::State(subject, _) => subject.involves(node),
            _ => false,
        }
    }

    /// Whether the event concerns `node`: [`TraceEvent::concerns_node`], and for a command the
    /// node or link it was aimed at ([`CommandKind::subject`], looked up in `commands`, the
    /// model's command log). The page's event log filters by this.
    ///
    /// [`CommandKind::subject`]: super::command::CommandKind::subject
    pub fn concerns(&self, node: NodeId, commands: &[Command]) -> bool {
        match self.kind {
            TraceKind::Command(i) => commands.get(i as usize).is_some_and(|c| c.what.concerns(node)),
            _ => self.concerns_node(node),
        }
    }

    /// The nodes this event concerns, for filtering the log by node.
    pub fn node(&self) -> Option<NodeId> {
        match self.kind {
            TraceKind::Dispatch { to: n, .. } | TraceKind::Start(n) | TraceKind::Query(n) => Some(n),
            TraceKind::Queued { lb } => Some(NodeId::Lb(lb)),
            TraceKind::Fail { lb: Some(lb), .. } => Some(NodeId::Lb(lb)),
            TraceKind::Fail { cause: FailCause::DnsFailure, lb: None } => Some(NodeId::Dns),
            TraceKind::Fail { lb: None, .. } => Some(NodeId::Clients),
            TraceKind::DnsLookup => Some(NodeId::Dns),
            TraceKind::Arrive { .. } | TraceKind::Complete { .. } => Some(NodeId::Clients),
            TraceKind::Command(_) => None,
            TraceKind::State(Subject::Node(n), _) => Some(n),
            TraceKind::State(Subject::Link(l), _) => Some(l.0),
        }
    }
}

/// A bounded trace: keeps the newest `capacity` events; off costs one branch per event.
/// A reader that wants every event drains it as it goes ([`run_streaming`]) instead of
/// raising the capacity, so memory stays flat however long the run.
pub struct Trace {
    pub enabled: bool,
    events: VecDeque<TraceEvent>,
    capacity: usize,
    /// Events ever recorded (including those the ring has dropped).
    pub total: u64,
    /// The most events the buffer has held at once.
    peak_len: usize,
    /// Events the ring pushed out before anyone read them.
    dropped: u64,
}

impl Trace {
    pub fn new(enabled: bool, capacity: usize) -> Trace {
        Trace { enabled, events: VecDeque::new(), capacity: capacity.max(1), total: 0, peak_len: 0, dropped: 0 }
    }

    #[inline]
    pub fn record(&mut self, at: SimTime, request: u64, kind: TraceKind) {
        if !self.enabled {
            return;
        }
        if self.events.len() == self.capacity {
            self.events.pop_front();
            self.dropped += 1;
        }
        self.events.push_back(TraceEvent { at, request, kind });
        self.peak_len = self.peak_len.max(self.events.len());
        self.total += 1;
    }

    pub fn events(&self) -> impl DoubleEndedIterator<Item = &TraceEvent> + ExactSizeIterator {
        self.events.iter()
    }

    /// All kept events as text, one line each.
    pub fn lines(&self) -> Vec<String> {
        self.events.iter().map(|e| e.to_string()).collect()
    }

    /// Take the kept events out, oldest first, leaving the buffer empty.
    pub fn drain(&mut self) -> impl Iterator<Item = TraceEvent> + '_ {
        self.events.drain(..)
    }

    /// The most events the buffer has held at once since the start: the trace's memory bound.
    pub fn peak_len(&self) -> usize {
        self.peak_len
    }

    /// The buffer's bound, in events.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Events pushed out of the full buffer before they were read (lost to a reader that drains).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// Run `sim` up to `until` one event at a time, handing every trace event to `sink` as soon as
/// the step that made it is done, and then forgetting it. The buffer so never holds more than
/// one step's events (a handful), and a sink error stops the run at once and is returned.
/// Returns whether `until` was reached (false when `max_events` ran out first), as
/// [`Sim::run_until`] does.
pub fn run_streaming<E>(
    sim: &mut Sim,
    until: SimTime,
    max_events: u64,
    sink: &mut impl FnMut(&TraceEvent) -> Result<(), E>,
) -> Result<bool, E> {
    let mut done = 0;
    loop {
        if done >= max_events {
            return Ok(false);
        }
        let reached = sim.run_until(until, 1);
        done += 1;
        for event in sim.trace.drain() {
            sink(&event)?;
        }
        if reached {
            return Ok(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::CommandKind;

    #[test]
    fn a_command_concerns_the_node_or_link_it_was_aimed_at() {
        let (lb1, web2, db1) = (NodeId::Lb(0), NodeId::Web(1), NodeId::Db(0));
        let commands: Vec<Command> = [
            CommandKind::Kill { node: web2 },
            CommandKind::Cut { link: Link::new(lb1, web2) },
            CommandKind::SetWeight { server: 1, weight: 3 },
            CommandKind::SetArrivalRate { per_s: 10.0 },
        ]
        .into_iter()
        .map(|what| Command { at_us: 0, what })
        .collect();
        let event = |i: u32| TraceEvent { at: 0, request: 0, kind: TraceKind::Command(i) };
        let about = |node: NodeId| (0..5).filter(|&i| event(i).concerns(node, &commands)).collect::<Vec<_>>();
        assert_eq!(about(web2), [0, 1, 2]);
        assert_eq!(about(lb1), [1]);
        assert_eq!(about(db1), Vec::<u32>::new());
        // Other events answer as concerns_node does, whatever the command log.
        let queued = TraceEvent { at: 0, request: 1, kind: TraceKind::Queued { lb: 0 } };
        assert!(queued.concerns(lb1, &[]) && !queued.concerns(web2, &commands));
        let cut = TraceEvent {
            at: 0,
            request: 0,
            kind: TraceKind::State(Subject::Link(Link::new(web2, db1)), NodeEvent::LinkCut),
        };
        assert!(cut.concerns(web2, &[]) && cut.concerns(db1, &[]) && !cut.concerns(lb1, &[]));
    }
}
