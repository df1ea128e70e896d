//! The edge: what stands between the internet and the design — the DNS service, cut links,
//! TLS and firewall figures, the latest request a sniffer on the public link saw, and the
//! outside probes.

use super::security::{Probe, SecurityStats};
use super::timer::Timer;
use crate::sim::node::Link;
use std::collections::BTreeSet;

#[derive(Default)]
pub(crate) struct Edge {
    pub(crate) dns_alive: bool,
    pub(crate) cut_links: BTreeSet<Link>,
    pub(crate) security: SecurityStats,
    /// The latest request on the public link: (id, client, write, encrypted).
    pub(crate) last_public: Option<(u64, u32, bool, bool)>,
    /// The next outside probe.
    pub(crate) probe_timer: Timer,
    pub(crate) probes_sent: u64,
    pub(crate) probes: Vec<Probe>,
}

impl Edge {
    pub(crate) fn new() -> Edge {
        Edge { dns_alive: true, ..Edge::default() }
    }
}
