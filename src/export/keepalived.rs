//! `keepalived-lb1.conf` / `keepalived-lb2.conf`: the VRRP pair that holds the floating IP.

use super::{header, VIRTUAL_IP};
use crate::scenario::Scenario;
use std::fmt::Write;

/// The configuration of balancer `lb` (1 or 2).
pub fn render(s: &Scenario, lb: u32) -> String {
    let v = &s.vrrp;
    let (mine, other) = if lb == 1 { (v.priority_lb1, v.priority_lb2) } else { (v.priority_lb2, v.priority_lb1) };
    let mut out = header("#", &format!("keepalived-lb{lb}.conf: VRRP on balancer lb{lb} (keepalived 2.2 or newer)"), s);
    out.push_str("# The model: the backup takes over after 3 \u{d7} advert_int plus its skew, and the two\n");
    out.push_str("# balancers share one view of server health (each HAProxy runs its own checks here).\n");
    // advert_int below one second, or not whole, needs VRRP version 3 (centiseconds).
    let whole_seconds = v.advert_int_ms % 1_000.0 == 0.0;
    let _ = writeln!(out, "\nglobal_defs {{\n    router_id lb{lb}");
    if !whole_seconds {
        out.push_str("    vrrp_version 3\n");
    }
    out.push_str("}\n");
    // nopreempt only works from state BACKUP; with preemption the higher priority starts MASTER.
    let state = if v.preempt && mine > other { "MASTER" } else { "BACKUP" };
    let _ = writeln!(out, "\nvrrp_instance www {{\n    state {state}\n    interface eth0\n    virtual_router_id 51");
    let _ = writeln!(out, "    priority {mine}");
    let _ = writeln!(out, "    advert_int {}", advert_int(v.advert_int_ms));
    if !v.preempt {
        out.push_str("    # A balancer that comes back does not take the floating IP back.\n    nopreempt\n");
    }
    let _ = writeln!(out, "    virtual_ipaddress {{\n        {VIRTUAL_IP}/24\n    }}");
    out.push_str("    # keepalived watches its own interface: with the client-side link down this balancer\n");
    out.push_str("    # gives up the floating IP, as the model does.\n}\n");
    out
}

/// Seconds, with centiseconds when needed (keepalived's resolution).
fn advert_int(ms: f64) -> String {
    let cs = (ms / 10.0).round() as u64;
    if cs % 100 == 0 {
        format!("{}", cs / 100)
    } else {
        format!("{}.{:02}", cs / 100, cs % 100)
    }
}
