//! The clients: what each one remembers between requests (its DNS answer and when it expires,
//! which balancer the answer names, its TLS session, its last write) and the arrival process
//! (the pending arrival's exact time, whether a burst is on).

use crate::sim::time::SimTime;

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
