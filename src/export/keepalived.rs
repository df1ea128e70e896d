//! `keepalived-lb1.conf` / `keepalived-lb2.conf`: the VRRP pair that holds the floating IP.

use super::{header, trim_number, VIRTUAL_IP};
use crate::scenario::Scenario;
use std::fmt::Write;

/// The configuration of balancer `lb` (1 or 2).
pub fn render(s: &Scenario, lb: u32) -> String {
    let v = &s.vrrp;
    let mine = if lb == 1 { v.priority_lb1 } else { v.priority_lb2 };
    let mut out = header("#", &format!("keepalived-lb{lb}.conf: VRRP on balancer lb{lb} (keepalived 2.2 or newer)"), s);
    out.push_str("# The model: the backup takes over after 3 \u{d7} advert_int plus its skew, and the two\n");
    out.push_str("# balancers share one view of server health (each HAProxy runs its own checks here).\n");
    // Version 2 carries whole seconds (keepalived rounds), version 3 centiseconds.
    let version = if v.version == 3 { 3 } else { 2 };
    let _ = write!(out, "\nglobal_defs {{\n    router_id lb{lb}\n    vrrp_version {version}\n");
    if v.track_haproxy {
        // The check runs as root; script security makes keepalived refuse a script that a
        // non-root user could change.
        out.push_str("    script_user root\n    enable_script_security\n");
    }
    out.push_str("}\n");
    if v.track_haproxy {
        out.push_str(&track_script());
    }
    // Both start BACKUP: nopreempt and preempt_delay require it, and a `state MASTER` node
    // that returns claims the IP after one advert interval (keepalived's init), where the
    // model's returning balancer listens for 3 × advert_int + skew first.
    let delay_s = v.preempt_delay_s.max(0.0);
    let state = "BACKUP";
    let _ = writeln!(out, "\nvrrp_instance www {{\n    state {state}\n    interface eth0\n    virtual_router_id 51");
    let _ = writeln!(out, "    priority {mine}");
    let _ = writeln!(out, "    advert_int {}", advert_int(v.advert_int_used_ms()));
    if !v.preempt {
        out.push_str("    # A balancer that comes back does not take the floating IP back.\n    nopreempt\n");
    } else if delay_s > 0.0 {
        out.push_str("    # A returning higher-priority balancer waits this long before taking the IP back.\n");
        let _ = writeln!(out, "    preempt_delay {}", trim_number(delay_s));
    }
    let _ = writeln!(out, "    virtual_ipaddress {{\n        {VIRTUAL_IP}/24\n    }}");
    if v.track_haproxy {
        out.push_str("    # HAProxy dead: FAULT, the floating IP given up (weight 0, keepalived's default).\n");
        out.push_str("    track_script {\n        chk_haproxy\n    }\n");
    }
    out.push_str("    # keepalived watches its own interface: with the client-side link down this balancer\n");
    out.push_str("    # gives up the floating IP, as the model does.\n}\n");
    out
}

/// keepalived's check of HAProxy (`vrrp.track_haproxy`): `killall -0` succeeds while a process
/// called haproxy runs. Interval, fall and rise as the model runs it.
fn track_script() -> String {
    let interval_s = trim_number(crate::sim::TRACK_INTERVAL_MS / 1_000.0);
    format!(
        "\n# Is HAProxy running? One failed check puts the instance in FAULT, one passing check ends it.\n\
         vrrp_script chk_haproxy {{\n    script \"/usr/bin/killall -0 haproxy\"\n    interval {interval_s}\n    fall 1\n    rise 1\n}}\n"
    )
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
