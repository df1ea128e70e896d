//! `foobar.com.zone`: the DNS zone the design needs, in the master-file format BIND and NSD
//! read. `www` is an A record: it names an address (the balancer's floating IP, each balancer's
//! own address when two DNS records spread the clients, or the one server's when there is no
//! balancer), with the TTL for which clients keep the answer (`network.dns_ttl_s`).

use super::{header, VIRTUAL_IP};
use crate::scenario::{PairMode, Scenario};
use std::fmt::Write;

/// Public address of balancer `index` (0-based) when each balancer has a DNS record.
pub fn balancer_public_address(index: usize) -> String {
    format!("203.0.113.{}", 11 + index)
}

/// Public address of web1 when DNS points straight at it (no balancer).
pub const SERVER_PUBLIC_IP: &str = "203.0.113.21";

/// What `www.foobar.com` resolves to: each A record's address and what holds it.
pub fn www_records(s: &Scenario) -> Vec<(String, &'static str)> {
    if !s.balancer.enabled {
        return vec![(SERVER_PUBLIC_IP.to_string(), "web1 itself: there is no balancer")];
    }
    if s.balancer.pair && s.balancer.pair_mode == PairMode::Dns {
        return (0..2).map(|k| (balancer_public_address(k), "one of the two balancers (active-active)")).collect();
    }
    let holder = if s.balancer.pair { "the floating IP, held by the VRRP master" } else { "the balancer" };
    vec![(VIRTUAL_IP.to_string(), holder)]
}

pub fn render(s: &Scenario) -> String {
    let ttl = s.network.dns_ttl_s.round().max(0.0) as u64;
    let mut out = header(";", "foobar.com.zone: the zone of foobar.com (BIND master-file format)", s);
    out.push_str("; www is an A record: a name for an address. A CNAME would name another name, and\n");
    out.push_str("; still need an A record at the end of the chain.\n");
    let _ = writeln!(out, "$ORIGIN foobar.com.\n$TTL {ttl}");
    out.push_str("@    IN SOA ns1.foobar.com. hostmaster.foobar.com. (1 3600 600 604800 300)\n");
    out.push_str("@    IN NS  ns1.foobar.com.\nns1  IN A   203.0.113.2\n");
    for (address, holder) in www_records(s) {
        let _ = writeln!(out, "www  IN A   {address}   ; {holder}");
    }
    out
}
