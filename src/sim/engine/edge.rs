//! The edge: what stands between the internet and the design — the DNS service, cut links,
//! TLS and firewall figures, the latest request a sniffer on the public link saw, and the
//! outside probes.

use super::security::{OutsideProbe, SecurityStats, SnifferLine, PROBES_KEPT};
use super::timer::Timer;
use crate::sim::metrics::Ring;
use crate::sim::node::{Link, NodeId};
use std::collections::BTreeSet;

pub(crate) struct Edge {
    pub(crate) dns_alive: bool,
    pub(crate) cut_links: BTreeSet<Link>,
    pub(crate) security: SecurityStats,
    /// The latest request on the public link.
    pub(crate) last_public: Option<SnifferLine>,
    /// The next outside probe.
    pub(crate) probe_timer: Timer,
    pub(crate) probes_sent: u64,
    pub(crate) probes: Ring<OutsideProbe>,
}

impl Edge {
    /// The link between `a` and `b` is cut (read on every hop: the common case, no cut link,
    /// costs one test).
    #[inline]
    pub(crate) fn is_cut(&self, a: NodeId, b: NodeId) -> bool {
        !self.cut_links.is_empty() && self.cut_links.contains(&Link::new(a, b))
    }

    pub(crate) fn new() -> Edge {
        Edge {
            dns_alive: true,
            cut_links: BTreeSet::new(),
            security: SecurityStats::default(),
            last_public: None,
            probe_timer: Timer::default(),
            probes_sent: 0,
            probes: Ring::new(PROBES_KEPT),
        }
    }
}
