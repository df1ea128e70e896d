//! `haproxy.cfg` for the balancer (one file serves both balancers of a pair).

use super::{haproxy_time, header, web_address};
use crate::scenario::{Algorithm, Balancer, PairMode, Scenario, WebServer};
use std::fmt::Write;

/// Where the exported configuration expects the site's certificate (the operator supplies it).
pub const CERT_PATH: &str = "/etc/haproxy/certs/www.foobar.com.pem";
/// The backend every exported configuration names.
pub const BACKEND: &str = "web_servers";

/// The whole `haproxy.cfg` for `s`.
pub fn render(s: &Scenario) -> String {
    let mut out = header("#", "haproxy.cfg: the load balancer (HAProxy 2.6 or newer)", s);
    out.push_str(&pair_note(s));
    out.push_str(&global(s));
    out.push_str(&defaults(&s.balancer));
    out.push_str(&frontend(s));
    out.push_str(&backend(s));
    out
}

fn pair_note(s: &Scenario) -> String {
    match (s.balancer.pair, s.balancer.pair_mode) {
        (false, _) => "# One balancer: it is a single point of failure.\n".into(),
        (true, PairMode::Vrrp) => {
            "# Both balancers (lb1, lb2) run this file; keepalived moves the floating IP between them.\n".into()
        }
        (true, PairMode::Dns) => {
            "# Both balancers (lb1, lb2) run this file; www.foobar.com has one A record for each.\n".into()
        }
    }
}

fn global(s: &Scenario) -> String {
    let mut out = String::from("\nglobal\n    log /dev/log local0\n");
    if s.security.https {
        let _ = writeln!(
            out,
            "    # A client reuses its TLS session this long before a new full handshake.\n    tune.ssl.lifetime {}",
            haproxy_time(s.security.tls_session_s * 1_000.0)
        );
        let _ = writeln!(
            out,
            "    # The model charges {} ms of balancer CPU per full handshake; here that is the CPU's own cost.",
            s.security.tls_handshake_cpu_ms
        );
    }
    out
}

fn defaults(b: &Balancer) -> String {
    let mut out = String::from("\ndefaults\n    mode http\n    log global\n    option httplog\n");
    out.push_str("    # Not simulated (the model has no client or server timeouts): usual values.\n");
    out.push_str("    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n");
    out.push_str("    # A request that waits this long for a free server slot gets a 503.\n");
    if b.timeout_queue_ms > 0.0 {
        let _ = writeln!(out, "    timeout queue {}", haproxy_time(b.timeout_queue_ms));
    } else {
        out.push_str("    # The model waits without limit (0); HAProxy's longest timeout stands in for that.\n");
        out.push_str("    timeout queue 24d\n");
    }
    out.push_str("    # A refused connection is tried again this many times, one second apart.\n");
    let _ = writeln!(out, "    retries {}", b.retries);
    if b.redispatch {
        out.push_str("    # A retry may go to another server.\n    option redispatch\n");
    } else {
        out.push_str("    # Every retry goes to the same server.\n    no option redispatch\n");
    }
    out
}

fn frontend(s: &Scenario) -> String {
    let mut out = String::from("\nfrontend www\n");
    if s.security.https {
        let _ = writeln!(
            out,
            "    bind :80\n    # The operator supplies this certificate and key (one PEM file); infrasim does not.\n    bind :443 ssl crt {CERT_PATH}\n    http-request redirect scheme https unless {{ ssl_fc }}"
        );
    } else {
        out.push_str("    # Plain HTTP: requests cross the internet unencrypted (the model's https=false).\n");
        out.push_str("    bind :80\n");
    }
    let _ = writeln!(out, "    default_backend {BACKEND}");
    out
}

fn balance(b: &Balancer) -> String {
    match b.algorithm {
        Algorithm::Random => format!("random({})", b.random_draws),
        other => other.name().to_string(),
    }
}

fn backend(s: &Scenario) -> String {
    let b = &s.balancer;
    let mut out = format!("\nbackend {BACKEND}\n    balance {}\n", balance(b));
    if b.algorithm == Algorithm::Source {
        out.push_str("    # The model hashes a client id; HAProxy hashes the client's source address.\n");
    }
    if b.allbackups {
        out.push_str("    # With every active server down, use all backup servers, not only the first.\n");
        out.push_str("    option allbackups\n");
    }
    out.push_str(&default_server(b));
    for (i, w) in s.web.servers.iter().enumerate() {
        out.push_str(&server_line(i, w, s.security.backend_tls));
    }
    out
}

/// The check and slowstart settings, the same for every server in the model.
fn default_server(b: &Balancer) -> String {
    let h = &b.health;
    let mut line = format!("    default-server inter {} rise {} fall {}", haproxy_time(h.inter_ms), h.rise, h.fall);
    if h.fastinter_ms > 0.0 {
        let _ = write!(line, " fastinter {}", haproxy_time(h.fastinter_ms));
    }
    if h.downinter_ms > 0.0 {
        let _ = write!(line, " downinter {}", haproxy_time(h.downinter_ms));
    }
    if b.slowstart_ms > 0.0 {
        let _ = write!(line, " slowstart {}", haproxy_time(b.slowstart_ms));
    }
    let mut out =
        String::from("    # Health checks are TCP connects: the model asks only whether the server answers.\n");
    if b.maxqueue > 0 {
        out.push_str("    # The model bounds the balancer's whole queue by maxqueue; HAProxy bounds each server's.\n");
        let _ = write!(line, " maxqueue {}", b.maxqueue);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

fn server_line(i: usize, w: &WebServer, backend_tls: bool) -> String {
    let mut line = format!("    server {} {}:80 weight {}", Scenario::web_id(i), web_address(i), w.weight);
    if backend_tls {
        // Re-encrypted to the server; `verify none` because the example has no CA file to check
        // the servers' certificates against (a real deployment names one with `ca-file`).
        line.push_str(" ssl verify none");
    }
    if w.maxconn > 0 {
        let _ = write!(line, " maxconn {}", w.maxconn);
    }
    if w.backup {
        line.push_str(" backup");
    }
    line.push_str(" check\n");
    line
}
