//! Words for the model's typed facts: an alert, what a sniffer on the public link reads. The
//! model says what happened (node, kind, fields); the words live here, so the page, the tests
//! and a future translation read the same facts.

use crate::sim::rng::mix64;
use crate::sim::time::to_s;
use crate::sim::{Alert, AlertKind, DuplicateAddress, SnifferLine};

/// An alert as the dashboard lists it: its simulated time, then what happened.
pub fn alert_line(alert: &Alert) -> String {
    format!("{:.1} s  {}", to_s(alert.at), alert_text(alert))
}

/// What happened, in words (`web2 is down`, `db2 replication lag 1.5 s`).
pub fn alert_text(alert: &Alert) -> String {
    let node = alert.node;
    match alert.kind {
        AlertKind::Down => format!("{node} is down"),
        AlertKind::Recovered => format!("{node} recovered"),
        AlertKind::Lagging { lag_ms } => format!("{node} replication lag {:.1} s", lag_ms / 1_000.0),
        AlertKind::LagUnknown => format!("{node} replication lag unknown (nothing received)"),
        AlertKind::CaughtUp => format!("{node} caught up"),
    }
}

/// A duplicate floating IP, in words: where it is left, where else it is, where clients go.
pub fn duplicate_address_text(d: &DuplicateAddress) -> String {
    let DuplicateAddress { stale_on, also_on, traffic_to } = *d;
    let traffic = match traffic_to {
        Some(node) if node == stale_on => format!("clients still reach {node}: no newer gratuitous ARP"),
        Some(node) => format!("clients follow {node}'s gratuitous ARP"),
        None => "neither is reachable from the clients".to_string(),
    };
    format!(
        "duplicate address: the floating IP is on {stale_on} (its killed keepalived left it there) and on {also_on}; {traffic}"
    )
}

/// What a sniffer reads of a request on the public link: opaque TLS records when encrypted,
/// otherwise the request itself (a made-up but typical page, cookie and form).
pub fn sniffed_text(line: &SnifferLine) -> String {
    let SnifferLine { request, client, write, encrypted } = *line;
    if encrypted {
        // TLS records: the sniffer sees only opaque bytes.
        let mut bytes = String::from("TLS 1.3 application data: ");
        let mut x = mix64(request);
        for _ in 0..12 {
            bytes.push_str(&format!("{:02x} ", x & 0xff));
            x = mix64(x);
        }
        bytes.push('…');
        bytes
    } else if write {
        format!(
            "POST /account/settings HTTP/1.1  Host: www.foobar.com  Cookie: session={:016x}  email=user{client}@example.com&password=hunter{}",
            mix64(client as u64),
            client % 100
        )
    } else {
        format!(
            "GET /products/{} HTTP/1.1  Host: www.foobar.com  Cookie: session={:016x}",
            request % 997,
            mix64(client as u64)
        )
    }
}

/// Which machines have a firewall of their own; `others_open` when some machine has none.
pub fn firewalls_text(machines: &[String], others_open: bool) -> String {
    let named = match machines {
        [] => return String::new(),
        [one] => format!("A firewall on {one} lets in only what the design needs of that machine."),
        [rest @ .., last] => {
            format!("Firewalls on {} and {last} let in only what the design needs of each machine.", rest.join(", "))
        }
    };
    if others_open {
        format!("{named} The machines without one are open to the internet.")
    } else {
        named
    }
}

/// One machine's outside probes.
pub fn machine_probes_text(m: &crate::sim::MachineProbes) -> String {
    match (m.reached, m.blocked) {
        (0, blocked) => format!("{}: {} dropped by its firewall", m.machine, crate::render::format::count(blocked)),
        (reached, 0) => {
            format!("{}: {} reached its ports (no firewall)", m.machine, crate::render::format::count(reached))
        }
        (reached, blocked) => format!(
            "{}: {} reached its ports, {} dropped",
            m.machine,
            crate::render::format::count(reached),
            crate::render::format::count(blocked)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firewalls_are_named_in_a_sentence() {
        let names = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            firewalls_text(&names(&["balancer1"]), true),
            "A firewall on balancer1 lets in only what the design needs of that machine. The machines without one are open to the internet."
        );
        assert_eq!(
            firewalls_text(&names(&["balancer1", "server1", "server2"]), false),
            "Firewalls on balancer1, server1 and server2 let in only what the design needs of each machine."
        );
        let m = crate::sim::MachineProbes { machine: "server1".into(), reached: 1200, blocked: 0 };
        assert_eq!(machine_probes_text(&m), "server1: 1,200 reached its ports (no firewall)");
    }
    use crate::sim::NodeId;

    #[test]
    fn alerts_name_the_node_the_kind_and_the_time() {
        let at = 12_345_678;
        let line = |node, kind| alert_line(&Alert { at, node, kind });
        assert_eq!(line(NodeId::Web(1), AlertKind::Down), "12.3 s  web2 is down");
        assert_eq!(line(NodeId::Lb(0), AlertKind::Recovered), "12.3 s  lb1 recovered");
        assert_eq!(line(NodeId::Db(1), AlertKind::Lagging { lag_ms: 1_549.0 }), "12.3 s  db2 replication lag 1.5 s");
        assert_eq!(
            line(NodeId::Db(2), AlertKind::LagUnknown),
            "12.3 s  db3 replication lag unknown (nothing received)"
        );
        assert_eq!(line(NodeId::Db(1), AlertKind::CaughtUp), "12.3 s  db2 caught up");
    }

    #[test]
    fn a_duplicate_address_names_both_machines_and_where_clients_go() {
        let (lb1, lb2) = (NodeId::Lb(0), NodeId::Lb(1));
        let d = DuplicateAddress { stale_on: lb1, also_on: lb2, traffic_to: Some(lb2) };
        assert_eq!(
            duplicate_address_text(&d),
            "duplicate address: the floating IP is on lb1 (its killed keepalived left it there) and on lb2; clients follow lb2's gratuitous ARP"
        );
        let stale = duplicate_address_text(&DuplicateAddress { traffic_to: Some(lb1), ..d });
        assert!(stale.ends_with("clients still reach lb1: no newer gratuitous ARP"), "{stale}");
        let cut = duplicate_address_text(&DuplicateAddress { traffic_to: None, ..d });
        assert!(cut.ends_with("neither is reachable from the clients"), "{cut}");
    }

    #[test]
    fn a_sniffer_reads_plaintext_requests_and_only_bytes_of_encrypted_ones() {
        let read = SnifferLine { request: 1_000, client: 7, write: false, encrypted: false };
        let text = sniffed_text(&read);
        assert!(text.starts_with("GET /products/3 HTTP/1.1"), "{text}");
        let write = sniffed_text(&SnifferLine { write: true, ..read });
        assert!(write.contains("password=hunter7") && write.contains("user7@example.com"), "{write}");
        let sealed = sniffed_text(&SnifferLine { encrypted: true, ..read });
        assert!(sealed.starts_with("TLS 1.3 application data: ") && !sealed.contains("HTTP"), "{sealed}");
        assert_eq!(sealed.matches(' ').count(), 4 + 12, "twelve bytes shown: {sealed}");
    }
}
