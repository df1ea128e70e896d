//! The edge: what stands between the internet and the design — the DNS service, cut links,
//! TLS and firewall figures, the latest request a sniffer on the public link saw, and the
//! outside probes. Its handlers: the TLS handshake, the public link's count and sniffer, and
//! the probes.

use super::security::{MachineProbes, OutsideProbe, SecurityStats, SnifferLine, PROBES_KEPT};
use super::timer::Timer;
use super::{Ev, ReqRef, Sim, Stage};
use crate::sim::metrics::Ring;
use crate::sim::node::{Link, NodeId};
use crate::sim::rng::{exponential_from, uniform};
use crate::sim::time::{from_ms, from_s};
use std::collections::BTreeSet;

pub(crate) struct Edge {
    pub(crate) dns_alive: bool,
    pub(crate) cut_links: BTreeSet<Link>,
    pub(crate) security: SecurityStats,
    /// The latest request on the public link.
    pub(crate) last_public: Option<SnifferLine>,
    /// The latest request on a balancer-to-server hop.
    pub(crate) last_backend: Option<SnifferLine>,
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
            last_backend: None,
            probe_timer: Timer::default(),
            probes_sent: 0,
            probes: Ring::new(PROBES_KEPT),
        }
    }
}

impl Sim {
    /// HTTPS: a client without a live TLS session pays a full handshake at the balancer: one
    /// more round trip over the internet plus the balancer's CPU time.
    /// Returns true when the request must wait for the handshake first.
    pub(super) fn needs_handshake(&mut self, r: ReqRef) -> bool {
        if !self.scenario.security.https {
            return false;
        }
        let c = self.requests.get(r).client as usize;
        if c >= self.clients.tls_expiry.len() || self.kernel.now < self.clients.tls_expiry[c] {
            return false;
        }
        let delay = 2 * self.client_latency() + from_ms(self.scenario.security.tls_handshake_cpu_ms);
        self.clients.tls_expiry[c] = self.kernel.now + delay + from_s(self.scenario.security.tls_session_s);
        self.edge.security.tls_handshakes += 1;
        let now = self.kernel.now;
        let lb = self.requests.get(r).lb;
        let q = self.requests.get_mut(r);
        q.stage = Stage::Handshake;
        q.hop = (NodeId::Lb(lb), NodeId::Lb(lb));
        q.hop_start = now;
        self.kernel.queue.push(now + delay.max(1), Ev::HandshakeDone(r));
        true
    }

    /// A request crosses the public link: what a sniffer sees, and the count.
    pub(super) fn crossed_public_link(&mut self, r: ReqRef) {
        if self.scenario.security.https {
            self.edge.security.encrypted_requests += 1;
        } else {
            self.edge.security.plaintext_requests += 1;
        }
        let q = self.requests.get(r);
        let encrypted = self.scenario.security.https;
        self.edge.last_public = Some(SnifferLine { request: q.id, client: q.client, write: q.write, encrypted });
    }

    /// A request crosses the balancer-to-server hop: counted plain or encrypted, and what a
    /// sniffer in the data centre sees. True when it is re-encrypted (`security.backend_tls`).
    pub(super) fn crossed_backend_link(&mut self, r: ReqRef) -> bool {
        let encrypted = self.scenario.security.backend_tls;
        if encrypted {
            self.edge.security.backend_encrypted_requests += 1;
        } else {
            self.edge.security.backend_plaintext_requests += 1;
        }
        let q = self.requests.get(r);
        self.edge.last_backend = Some(SnifferLine { request: q.id, client: q.client, write: q.write, encrypted });
        encrypted
    }

    /// The latest request on a balancer-to-server hop, as a sniffer in the data centre sees it.
    pub fn backend_sniffer(&self) -> Option<SnifferLine> {
        self.edge.last_backend.clone()
    }

    pub fn security_stats(&self) -> SecurityStats {
        self.edge.security.clone()
    }

    /// The latest request on the public link, as a sniffer there sees it.
    pub fn sniffer(&self) -> Option<SnifferLine> {
        self.edge.last_public.clone()
    }

    /// Outside probes arrive as a Poisson stream on their own random stream.
    pub(super) fn schedule_probe(&mut self) {
        let rate = self.scenario.security.probe_rate_per_s;
        if rate <= 0.0 {
            return;
        }
        let gap = exponential_from(uniform(&mut self.kernel.rngs.security), 1.0 / rate);
        let generation = self.edge.probe_timer.arm();
        self.kernel.queue.push(self.kernel.now + from_s(gap).max(1), Ev::Probe { generation });
    }

    #[inline(never)]
    pub(super) fn on_probe(&mut self) {
        self.schedule_probe();
        // Targets in turn: every port of every machine that the internet should not reach.
        let targets = crate::sim::design::probe_targets(&self.scenario);
        if targets.is_empty() {
            return;
        }
        let at = &targets[(self.edge.probes_sent % targets.len() as u64) as usize];
        self.edge.probes_sent += 1;
        let (target, blocked) = (at.node, at.firewalled);
        let security = &mut self.edge.security;
        if blocked {
            security.probes_blocked += 1;
        } else {
            security.probes_reached += 1;
        }
        // One entry per machine probed: at most the design's machines.
        let entry = match security.probes_by_machine.iter().position(|m| m.machine == at.machine) {
            Some(i) => &mut security.probes_by_machine[i],
            None => {
                security
                    .probes_by_machine
                    .push(MachineProbes { machine: at.machine.clone(), ..MachineProbes::default() });
                security.probes_by_machine.last_mut().expect("just pushed")
            }
        };
        if blocked {
            entry.blocked += 1;
        } else {
            entry.reached += 1;
        }
        let travel = self.client_latency().max(from_ms(20.0));
        let (seq, sent_at) = (self.edge.probes_sent - 1, self.kernel.now);
        self.edge.probes.push(OutsideProbe { seq, target, sent_at, arrives_at: sent_at + travel, blocked });
    }

    /// The latest outside probes, oldest first (at most `PROBES_KEPT`).
    pub fn recent_probes(&self) -> impl DoubleEndedIterator<Item = &OutsideProbe> {
        self.edge.probes.iter()
    }
}
