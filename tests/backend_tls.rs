//! TLS terminated at the balancer (issue 16, part 3): the balancer-to-server hop is plain text
//! for a sniffer in the data centre unless `security.backend_tls` re-encrypts it, at a CPU cost
//! charged on both ends' machines.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{assert_close, run, sim};
use infrasim::export::config_files;
use infrasim::export::import::import_haproxy;
use infrasim::scenario::{preset, Scenario};
use infrasim::sim::time::from_s;

#[test]
fn with_tls_ended_at_the_balancer_the_hop_to_the_servers_is_plain_text() {
    let mut m = sim(preset("secured-monitored").unwrap());
    m.run_until(from_s(20.0), u64::MAX);
    let stats = m.security_stats();
    assert_eq!(stats.plaintext_requests, 0, "the internet sees only TLS");
    assert!(stats.backend_plaintext_requests > 1_500, "{stats:?}");
    assert_eq!(stats.backend_encrypted_requests, 0);
    assert!(m.sniffer().is_some_and(|l| l.encrypted), "the public sniffer reads nothing");
    assert!(m.backend_sniffer().is_some_and(|l| !l.encrypted), "the data-centre sniffer reads the request");
}

#[test]
fn backend_tls_encrypts_that_hop_at_a_cpu_cost_on_both_machines() {
    let mut plain = preset("secured-monitored").unwrap();
    plain.warmup_s = 5.0;
    let mut tls = plain.clone();
    tls.security.backend_tls = true;
    tls.security.backend_tls_cpu_ms = 0.5;
    let rate = plain.traffic.arrival_rate_per_s;
    let (m, with) = run(tls.clone(), 200.0);
    let (_, without) = run(plain, 200.0);
    let stats = m.security_stats();
    assert_eq!(stats.backend_plaintext_requests, 0, "{stats:?}");
    assert!(m.backend_sniffer().is_some_and(|l| l.encrypted));
    // balancer1 (2 cores) now encrypts every request: 100/s × 0.5 ms / 2 cores = 2.5 %.
    let lb = with.machines.iter().find(|x| x.id == "balancer1").expect("balancer1");
    assert_close("balancer1 CPU for backend TLS", lb.cpu_utilization, rate * 0.0005 / 2.0, 0.05);
    // Each request pays it twice (encrypt at the balancer, decrypt at Nginx): at least 1 ms.
    // On the servers the decrypt shares cores already about half busy with the application and
    // MySQL, which stretches it and slows them a little: well under twice that.
    let extra = with.latency_ms.mean - without.latency_ms.mean;
    assert!((1.0..2.0).contains(&extra), "backend TLS adds {extra} ms");
}

#[test]
fn the_exported_haproxy_cfg_says_ssl_and_reads_back() {
    let mut s = preset("secured-monitored").unwrap();
    s.security.backend_tls = true;
    let files = config_files(&s);
    let cfg = &files.iter().find(|(n, _)| n == "haproxy.cfg").unwrap().1;
    assert!(cfg.contains("server web1 10.0.0.11:80 weight 1 ssl verify none"), "{cfg}");
    let back = import_haproxy(cfg, &Scenario::default()).unwrap();
    assert!(back.scenario.security.backend_tls);
    let plain = config_files(&preset("secured-monitored").unwrap());
    let cfg = &plain.iter().find(|(n, _)| n == "haproxy.cfg").unwrap().1;
    assert!(!import_haproxy(cfg, &Scenario::default()).unwrap().scenario.security.backend_tls);
}
