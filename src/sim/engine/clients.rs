//! The clients: what each one remembers between requests (its DNS answer and when it expires,
//! which balancer the answer names, its TLS session, its last write) and the arrival process
//! (the pending arrival's exact time, whether a burst is on). Its handlers: arrivals, bursts,
//! the DNS lookup and the choice of balancer, and the traffic commands.

use super::{database, unit32, Ev, ReqRef, Request, Sim, Stage, MAX_LIVE_REQUESTS};
use crate::scenario::PairMode;
use crate::sim::command::CommandKind;
use crate::sim::metrics::FailCause;
use crate::sim::node::NodeId;
use crate::sim::rng::{exponential_from, mix64, uniform};
use crate::sim::time::SimTime;
use crate::sim::time::{from_ms, from_s, MAX_DURATION_US, US_PER_S};
use crate::sim::trace::TraceKind;
use rand::RngCore;

pub(crate) struct Clients {
    /// Active-active pair: the balancer each client's DNS answer points to.
    pub(crate) client_lb: Vec<u8>,
    pub(crate) dns_lookups: u64,
    pub(crate) dns_expiry: Vec<SimTime>,
    pub(crate) burst_on: bool,
    /// The pending arrival's exact time, fractional microseconds (the queue holds it rounded).
    pub(crate) arrival_exact_us: f64,
    /// HTTPS: until when each client's TLS session lasts.
    pub(crate) tls_expiry: Vec<SimTime>,
    /// The binlog position of each client's latest write (stale reads are judged against it).
    pub(crate) client_last_write: Vec<u64>,
}

impl Clients {
    pub(crate) fn new(clients: usize, lb_count: usize, db_enabled: bool) -> Clients {
        Clients {
            client_lb: vec![0; if lb_count > 1 { clients } else { 0 }],
            dns_lookups: 0,
            dns_expiry: vec![0; clients],
            burst_on: false,
            arrival_exact_us: 0.0,
            tls_expiry: vec![0; clients],
            client_last_write: vec![0; if db_enabled { clients } else { 0 }],
        }
    }
}

impl Sim {
    /// Commands on the clients' traffic and the driver's clock (the latter change nothing here).
    pub(super) fn traffic_command(&mut self, what: &CommandKind) -> bool {
        match *what {
            CommandKind::SetArrivalRate { per_s } => {
                self.scenario.traffic.arrival_rate_per_s = per_s;
                self.schedule_next_arrival();
            }
            CommandKind::SetWriteRatio { ratio } => self.scenario.traffic.write_ratio = ratio,
            CommandKind::Pause | CommandKind::Resume | CommandKind::SetSpeed { .. } => {}
            _ => return false,
        }
        true
    }

    pub(super) fn current_arrival_rate(&self) -> f64 {
        let t = &self.scenario.traffic;
        let multiplier = if self.clients.burst_on { t.burst.multiplier } else { 1.0 };
        t.arrival_rate_per_s * multiplier
    }

    /// Draw the next arrival from now at the current rate. Poisson arrivals are memoryless, so
    /// redrawing when the rate changes is exact; the new one replaces the pending one.
    pub(super) fn schedule_next_arrival(&mut self) {
        self.schedule_arrival_after(self.kernel.now as f64);
    }

    /// Draw the next arrival a gap after `base_us`, kept in fractional microseconds: the clock
    /// rounds each arrival to its microsecond, but the gaps add up exactly, so a rate above one
    /// per microsecond still gives rate × time arrivals (several share a microsecond).
    pub(super) fn schedule_arrival_after(&mut self, base_us: f64) {
        let rate = self.current_arrival_rate();
        if rate <= 0.0 {
            self.kernel.queue.cancel_single();
            return;
        }
        let gap_us = exponential_from(uniform(&mut self.kernel.rngs.arrivals), US_PER_S as f64 / rate);
        let exact_us = (base_us + gap_us).min(MAX_DURATION_US as f64);
        self.clients.arrival_exact_us = exact_us;
        // Rounded to the nearest microsecond, never before now (`base_us` may be up to half a
        // microsecond behind the clock).
        let at = ((exact_us + 0.5) as SimTime).max(self.kernel.now);
        self.kernel.queue.schedule_single(at, Ev::Arrival);
    }

    #[inline(never)]
    pub(super) fn on_burst_edge(&mut self) {
        let b = self.scenario.traffic.burst.clone();
        self.clients.burst_on = !self.clients.burst_on && b.enabled;
        let next = if self.clients.burst_on { b.duration_s } else { (b.period_s - b.duration_s).max(0.0) };
        if b.enabled {
            self.kernel.queue.push(self.kernel.now + from_s(next).max(1), Ev::BurstEdge);
        }
        self.schedule_next_arrival();
    }

    pub(super) fn on_arrival(&mut self) {
        let clients = self.scenario.traffic.clients.max(1);
        let rng = &mut self.kernel.rngs.arrivals;
        // A fixed number of draws per arrival keeps the traffic identical across designs. Two
        // 64-bit words carry four 32-bit uniforms: client, read/write, and the request's work
        // on the web server and on the database.
        let (a, b) = (rng.next_u64(), rng.next_u64());
        let client = ((unit32(a >> 32) * clients as f64) as u32).min(clients - 1);
        let write = unit32(a) < self.scenario.traffic.write_ratio;
        // The same draw, so the traffic is unchanged: a write is read back with this share.
        let read_back_below = self.scenario.traffic.write_ratio * self.scenario.traffic.read_own_write_ratio;
        let read_back =
            if write && unit32(a) < read_back_below { database::ReadBack::Wanted } else { database::ReadBack::No };
        let web_u = unit32(b >> 32);
        let db_u = unit32(b);
        // A read's draw rescaled to [0, 1) is independent of everything else drawn: the static
        // share needs no draw of its own, so traffic stays the same whatever the share.
        let write_ratio = self.scenario.traffic.write_ratio;
        let static_ratio = self.scenario.web.static_ratio;
        let is_static = static_ratio > 0.0 && !write && (unit32(a) - write_ratio) / (1.0 - write_ratio) < static_ratio;
        self.schedule_arrival_after(self.clients.arrival_exact_us);

        let measured = self.kernel.now >= self.kernel.warmup_end;
        let id = self.requests.take_id();
        if self.requests.live >= MAX_LIVE_REQUESTS {
            self.refuse_beyond_model_limit(id, client, write, measured);
            return;
        }
        let request = Request {
            generation: 0,
            id,
            client,
            write,
            measured,
            arrived_at: self.kernel.now,
            web_u,
            db_u,
            lb: 0,
            at_lb: false,
            server: None,
            is_static,
            app: 0,
            remote_app: false,
            app_attempt: crate::sim::upstream::Attempt::default(),
            db: 0,
            attempts: 0,
            excluded: None,
            stage: Stage::Free,
            hop: (NodeId::Clients, NodeId::Clients),
            hop_start: self.kernel.now,
            hop_end: self.kernel.now,
            fail: None,
            read_back,
        };
        let r = self.requests.alloc(request);
        self.metrics.on_arrival(measured, write);
        self.trace.record(self.kernel.now, id, TraceKind::Arrive { client, write });
        self.resolve_then_send(r, id, client);
    }

    /// The client resolves www.foobar.com unless its cached answer is still fresh, then sends
    /// the request to the balancer.
    #[inline]
    pub(super) fn resolve_then_send(&mut self, r: ReqRef, id: u64, client: u32) {
        let c = client as usize;
        if c < self.clients.dns_expiry.len() && self.kernel.now >= self.clients.dns_expiry[c] {
            if !self.edge.dns_alive || self.is_cut(NodeId::Clients, NodeId::Dns) {
                self.fail_now(r, FailCause::DnsFailure);
                return;
            }
            let net = &self.scenario.network;
            let lookup = from_ms(net.dns_lookup_ms);
            self.clients.dns_expiry[c] = self.kernel.now + lookup + from_s(net.dns_ttl_s);
            if !self.clients.client_lb.is_empty() {
                self.clients.client_lb[c] = self.resolve_balancer(client);
            }
            if lookup > 0 {
                self.trace.record(self.kernel.now, id, TraceKind::DnsLookup);
                self.travel(r, Stage::Dns, NodeId::Clients, NodeId::Dns, lookup, Ev::DnsDone(r));
                return;
            }
        }
        self.send_to_lb(r);
    }

    /// An arrival the model does not simulate (it holds `MAX_LIVE_REQUESTS`): counted as
    /// arrived and failed at once, with no request slot, so memory stays bounded.
    pub(super) fn refuse_beyond_model_limit(&mut self, id: u64, client: u32, write: bool, measured: bool) {
        self.metrics.on_arrival(measured, write);
        self.metrics.on_fail(measured, FailCause::ModelLimit, write);
        self.trace.record(self.kernel.now, id, TraceKind::Arrive { client, write });
        self.trace.record(self.kernel.now, id, TraceKind::Fail { cause: FailCause::ModelLimit, lb: None });
    }

    /// Active-active pair: the DNS answer a client gets, among the balancers alive now (the
    /// DNS service is assumed to check its targets; the client keeps the answer for the TTL).
    pub(super) fn resolve_balancer(&mut self, client: u32) -> u8 {
        self.clients.dns_lookups += 1;
        let alive: Vec<u8> =
            (0..self.balancers.lbs.len() as u8).filter(|&k| self.balancers.lbs[k as usize].alive).collect();
        if alive.is_empty() {
            return 0;
        }
        alive[(mix64(((client as u64) << 32) ^ self.clients.dns_lookups) % alive.len() as u64) as usize]
    }

    /// The balancer a client's packets reach now: the single one, the floating IP's owner, or
    /// the one its DNS answer names.
    pub(super) fn entry_balancer(&self, client: u32) -> Option<u8> {
        if self.balancers.lbs.len() == 1 {
            return Some(0);
        }
        match self.scenario.balancer.pair_mode {
            PairMode::Vrrp => self.vip_owner(),
            PairMode::Dns => self.clients.client_lb.get(client as usize).copied(),
        }
    }
}
