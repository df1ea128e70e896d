//! Flat `key=value` settings over a scenario: the batch runner's `--set`, documented by
//! `infrasim show`, and reused for readable URL parameters. One table is the single source.

use super::{Algorithm, Distribution, ReadFrom, Scenario, WebServer, MAX_WEB_SERVERS};

/// Documentation of one settable key.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SettingDoc {
    pub key: &'static str,
    pub unit: &'static str,
    pub allowed: &'static str,
    pub meaning: &'static str,
}

/// A `--set` that could not be applied: which key, and what is allowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingError {
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for SettingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

type Setter = fn(&mut Scenario, &str) -> Result<(), String>;

struct Setting {
    doc: SettingDoc,
    set: Setter,
}

macro_rules! setting {
    ($key:expr, $unit:expr, $allowed:expr, $meaning:expr, $set:expr) => {
        Setting { doc: SettingDoc { key: $key, unit: $unit, allowed: $allowed, meaning: $meaning }, set: $set }
    };
}

fn num(text: &str, min: f64, max: f64) -> Result<f64, String> {
    let v: f64 = text.trim().parse().map_err(|_| format!("'{text}' is not a number; allowed {min} to {max}"))?;
    if !v.is_finite() || v < min || v > max {
        return Err(format!("{v} is out of range; allowed {min} to {max}"));
    }
    Ok(v)
}

fn int(text: &str, min: u64, max: u64) -> Result<u64, String> {
    let v: u64 = text.trim().parse().map_err(|_| format!("'{text}' is not a whole number; allowed {min} to {max}"))?;
    if v < min || v > max {
        return Err(format!("{v} is out of range; allowed {min} to {max}"));
    }
    Ok(v)
}

fn boolean(text: &str) -> Result<bool, String> {
    match text.trim() {
        "true" | "1" | "on" | "yes" => Ok(true),
        "false" | "0" | "off" | "no" => Ok(false),
        other => Err(format!("'{other}' is not allowed; allowed true or false")),
    }
}

fn for_all_servers(s: &mut Scenario, f: impl Fn(&mut WebServer)) {
    s.web.servers.iter_mut().for_each(f);
}

fn settings() -> &'static [Setting] {
    static SETTINGS: &[Setting] = &[
        setting!(
            "warmup_s",
            "s",
            "0 to 86400",
            "requests arriving before this time are left out of statistics",
            |s, v| {
                s.warmup_s = num(v, 0.0, 86_400.0)?;
                Ok(())
            }
        ),
        setting!("seed", "", "0 to 2^64-1", "seed of the random generator", |s, v| {
            s.seed = v.trim().parse().map_err(|_| format!("'{v}' is not a whole number"))?;
            Ok(())
        }),
        setting!(
            "traffic.arrival_rate_per_s",
            "requests/s",
            "0 to 100000",
            "mean rate of new requests (Poisson)",
            |s, v| {
                s.traffic.arrival_rate_per_s = num(v, 0.0, 100_000.0)?;
                Ok(())
            }
        ),
        setting!("traffic.write_ratio", "", "0 to 1", "fraction of requests that are writes", |s, v| {
            s.traffic.write_ratio = num(v, 0.0, 1.0)?;
            Ok(())
        }),
        setting!(
            "traffic.read_own_write_ratio",
            "",
            "0 to 1",
            "share of writes the same request reads back at once (routed like any read)",
            |s, v| {
                s.traffic.read_own_write_ratio = num(v, 0.0, 1.0)?;
                Ok(())
            }
        ),
        setting!("traffic.clients", "clients", "1 to 1000000", "distinct clients sending requests", |s, v| {
            s.traffic.clients = int(v, 1, 1_000_000)? as u32;
            Ok(())
        }),
        setting!("traffic.burst.enabled", "", "true|false", "periodic bursts on top of the base rate", |s, v| {
            s.traffic.burst.enabled = boolean(v)?;
            Ok(())
        }),
        setting!("traffic.burst.period_s", "s", "1 to 86400", "time from one burst's start to the next", |s, v| {
            s.traffic.burst.period_s = num(v, 1.0, 86_400.0)?;
            Ok(())
        }),
        setting!("traffic.burst.duration_s", "s", "0 to 86400", "length of each burst", |s, v| {
            s.traffic.burst.duration_s = num(v, 0.0, 86_400.0)?;
            Ok(())
        }),
        setting!(
            "traffic.burst.multiplier",
            "×",
            "0 to 100",
            "arrival rate during a burst, as a multiple of the base",
            |s, v| {
                s.traffic.burst.multiplier = num(v, 0.0, 100.0)?;
                Ok(())
            }
        ),
        setting!("network.client_latency_ms", "ms", "0 to 10000", "one-way latency client ↔ balancer", |s, v| {
            s.network.client_latency_ms = num(v, 0.0, 10_000.0)?;
            Ok(())
        }),
        setting!(
            "network.lan_latency_ms",
            "ms",
            "0 to 1000",
            "one-way latency between machines in the data centre",
            |s, v| {
                s.network.lan_latency_ms = num(v, 0.0, 1_000.0)?;
                Ok(())
            }
        ),
        setting!(
            "network.dns_lookup_ms",
            "ms",
            "0 to 10000",
            "time to resolve www.foobar.com on a cache miss",
            |s, v| {
                s.network.dns_lookup_ms = num(v, 0.0, 10_000.0)?;
                Ok(())
            }
        ),
        setting!("network.dns_ttl_s", "s", "0 to 86400", "how long a client caches the DNS answer", |s, v| {
            s.network.dns_ttl_s = num(v, 0.0, 86_400.0)?;
            Ok(())
        }),
        setting!(
            "balancer.algorithm",
            "",
            "roundrobin|static-rr|leastconn|first|source|random",
            "how the balancer picks a web server",
            |s, v| {
                s.balancer.algorithm = Algorithm::parse(v.trim()).ok_or_else(|| {
                    format!("'{v}' is not allowed; allowed roundrobin, static-rr, leastconn, first, source, random")
                })?;
                Ok(())
            }
        ),
        setting!(
            "balancer.random_draws",
            "servers",
            "1 to 8",
            "with random: servers drawn per request (2 = power of two choices)",
            |s, v| {
                s.balancer.random_draws = int(v, 1, 8)? as u32;
                Ok(())
            }
        ),
        setting!(
            "balancer.maxconn",
            "connections",
            "0 to 100000 (0 = unlimited)",
            "per-server connection limit; more wait in the balancer's queue",
            |s, v| {
                let m = int(v, 0, 100_000)? as u32;
                for_all_servers(s, |w| w.maxconn = m);
                Ok(())
            }
        ),
        setting!(
            "balancer.maxqueue",
            "requests",
            "0 to 1000000 (0 = unlimited)",
            "most requests waiting in the balancer's queue; more are answered 503",
            |s, v| {
                s.balancer.maxqueue = int(v, 0, 1_000_000)? as u32;
                Ok(())
            }
        ),
        setting!(
            "balancer.timeout_queue_ms",
            "ms",
            "0 to 3600000",
            "a request queued this long is answered 503",
            |s, v| {
                s.balancer.timeout_queue_ms = num(v, 0.0, 3_600_000.0)?;
                Ok(())
            }
        ),
        setting!("web.count", "servers", "1 to 128", "number of web servers (new ones copy the last)", |s, v| {
            let n = int(v, 1, MAX_WEB_SERVERS as u64)? as usize;
            let template = s.web.servers.last().cloned().unwrap_or_default();
            s.web.servers.resize(n, template);
            Ok(())
        }),
        setting!("web.workers", "workers", "1 to 1024", "requests each web server works on at once", |s, v| {
            let w = int(v, 1, 1024)? as u32;
            for_all_servers(s, |x| x.workers = w);
            Ok(())
        }),
        setting!(
            "web.service_time_ms",
            "ms",
            "0.001 to 600000",
            "mean application time per request on every web server",
            |s, v| {
                let t = num(v, 0.001, 600_000.0)?;
                for_all_servers(s, |x| x.service_time_ms = t);
                Ok(())
            }
        ),
        setting!(
            "web.service_distribution",
            "",
            "exponential|constant|lognormal",
            "shape of the application time",
            |s, v| {
                let d = Distribution::parse(v.trim())
                    .ok_or_else(|| format!("'{v}' is not allowed; allowed exponential, constant, lognormal"))?;
                for_all_servers(s, |x| x.service_distribution = d);
                Ok(())
            }
        ),
        setting!(
            "web.service_time_cv",
            "",
            "0 to 10",
            "coefficient of variation of a lognormal application time",
            |s, v| {
                let cv = num(v, 0.0, 10.0)?;
                for_all_servers(s, |x| x.service_time_cv = cv);
                Ok(())
            }
        ),
        setting!(
            "web.weights",
            "",
            "comma list of 0 to 256, one per server",
            "HAProxy weight of each server (0 drains)",
            |s, v| {
                let weights: Vec<u32> =
                    v.split(',').map(|w| int(w, 0, 256).map(|x| x as u32)).collect::<Result<_, _>>()?;
                if weights.len() != s.web.servers.len() {
                    return Err(format!(
                        "{} weights given for {} servers; give one per server (set web.count first)",
                        weights.len(),
                        s.web.servers.len()
                    ));
                }
                for (server, w) in s.web.servers.iter_mut().zip(weights) {
                    server.weight = w;
                }
                Ok(())
            }
        ),
        setting!("db.enabled", "", "true|false", "whether the application uses the database", |s, v| {
            s.db.enabled = boolean(v)?;
            Ok(())
        }),
        setting!("db.replicas", "replicas", "0 to 4", "replicas following the primary", |s, v| {
            s.db.replicas = int(v, 0, 4)? as u32;
            Ok(())
        }),
        setting!("db.workers", "queries", "1 to 1024", "queries each database node runs at once", |s, v| {
            s.db.workers = int(v, 1, 1024)? as u32;
            Ok(())
        }),
        setting!("db.read_time_ms", "ms", "0.001 to 600000", "mean time of a read query", |s, v| {
            s.db.read_time_ms = num(v, 0.001, 600_000.0)?;
            Ok(())
        }),
        setting!("db.write_time_ms", "ms", "0.001 to 600000", "mean time of a write on the primary", |s, v| {
            s.db.write_time_ms = num(v, 0.001, 600_000.0)?;
            Ok(())
        }),
        setting!("db.ship_latency_ms", "ms", "0 to 600000", "time for a binlog event to reach a replica", |s, v| {
            s.db.ship_latency_ms = num(v, 0.0, 600_000.0)?;
            Ok(())
        }),
        setting!(
            "db.apply_rate_per_s",
            "events/s",
            "0.001 to 1000000",
            "binlog events a replica applies per second",
            |s, v| {
                s.db.apply_rate_per_s = num(v, 0.001, 1_000_000.0)?;
                Ok(())
            }
        ),
        setting!(
            "db.read_from",
            "",
            "replica|primary|proxy",
            "where reads go: replicas in turn, the primary, or a lag-aware proxy",
            |s, v| {
                s.db.read_from = ReadFrom::parse(v.trim())
                    .ok_or_else(|| format!("'{v}' is not allowed; allowed replica, primary, proxy"))?;
                Ok(())
            }
        ),
        setting!(
            "db.replication",
            "",
            "async|semisync",
            "acknowledge writes at commit, or once a replica has them",
            |s, v| {
                s.db.replication = crate::scenario::Replication::parse(v.trim())
                    .ok_or_else(|| format!("'{v}' is not allowed; allowed async, semisync"))?;
                Ok(())
            }
        ),
        setting!(
            "db.semisync_timeout_ms",
            "ms",
            "0 to 3600000",
            "semi-sync falls back to async after this long without a replica's ack",
            |s, v| {
                s.db.semisync_timeout_ms = num(v, 0.0, 3_600_000.0)?;
                Ok(())
            }
        ),
        setting!(
            "db.max_replication_lag_ms",
            "ms",
            "0 to 3600000",
            "the proxy shuns a replica lagging more than this",
            |s, v| {
                s.db.max_replication_lag_ms = num(v, 0.0, 3_600_000.0)?;
                Ok(())
            }
        ),
        setting!("db.failover", "", "none|auto", "promote the most advanced replica when the primary dies", |s, v| {
            s.db.failover = crate::scenario::Failover::parse(v.trim())
                .ok_or_else(|| format!("'{v}' is not allowed; allowed none, auto"))?;
            Ok(())
        }),
        setting!(
            "db.detect_interval_ms",
            "ms",
            "10 to 3600000",
            "how often the failover manager checks the primary",
            |s, v| {
                s.db.detect_interval_ms = num(v, 10.0, 3_600_000.0)?;
                Ok(())
            }
        ),
        setting!(
            "db.detect_misses",
            "checks",
            "1 to 100",
            "failed checks in a row before the primary is declared dead",
            |s, v| {
                s.db.detect_misses = int(v, 1, 100)? as u32;
                Ok(())
            }
        ),
        setting!(
            "db.fencing",
            "",
            "true|false",
            "a returning old primary rejoins as a replica (else: two primaries)",
            |s, v| {
                s.db.fencing = boolean(v)?;
                Ok(())
            }
        ),
        setting!(
            "balancer.retries",
            "retries",
            "0 to 10",
            "times a refused connection is retried before 503",
            |s, v| {
                s.balancer.retries = int(v, 0, 10)? as u32;
                Ok(())
            }
        ),
        setting!(
            "balancer.redispatch",
            "",
            "true|false",
            "the last retry goes to another server (option redispatch)",
            |s, v| {
                s.balancer.redispatch = boolean(v)?;
                Ok(())
            }
        ),
        setting!(
            "balancer.slowstart_ms",
            "ms",
            "0 to 3600000 (0 = off)",
            "a server back UP ramps its weight up over this time",
            |s, v| {
                s.balancer.slowstart_ms = num(v, 0.0, 3_600_000.0)?;
                Ok(())
            }
        ),
        setting!(
            "balancer.allbackups",
            "",
            "true|false",
            "use every backup server, not only the first, when all active ones are down",
            |s, v| {
                s.balancer.allbackups = boolean(v)?;
                Ok(())
            }
        ),
        setting!(
            "balancer.health.inter_ms",
            "ms",
            "10 to 3600000",
            "time between health checks of an UP server",
            |s, v| {
                s.balancer.health.inter_ms = num(v, 10.0, 3_600_000.0)?;
                Ok(())
            }
        ),
        setting!(
            "balancer.health.fastinter_ms",
            "ms",
            "0 to 3600000 (0 = inter)",
            "time between checks while a server changes state",
            |s, v| {
                s.balancer.health.fastinter_ms = num(v, 0.0, 3_600_000.0)?;
                Ok(())
            }
        ),
        setting!(
            "balancer.health.downinter_ms",
            "ms",
            "0 to 3600000 (0 = inter)",
            "time between checks of a DOWN server",
            |s, v| {
                s.balancer.health.downinter_ms = num(v, 0.0, 3_600_000.0)?;
                Ok(())
            }
        ),
        setting!(
            "balancer.health.rise",
            "checks",
            "1 to 100",
            "consecutive passed checks that mark a server UP",
            |s, v| {
                s.balancer.health.rise = int(v, 1, 100)? as u32;
                Ok(())
            }
        ),
        setting!(
            "balancer.health.fall",
            "checks",
            "1 to 100",
            "consecutive failed checks that mark a server DOWN",
            |s, v| {
                s.balancer.health.fall = int(v, 1, 100)? as u32;
                Ok(())
            }
        ),
        setting!("balancer.pair", "", "true|false", "two balancers (lb1, lb2) instead of one", |s, v| {
            s.balancer.pair = boolean(v)?;
            Ok(())
        }),
        setting!(
            "balancer.pair_mode",
            "",
            "vrrp|dns",
            "a floating IP held by the VRRP master, or two DNS records (active-active)",
            |s, v| {
                s.balancer.pair_mode = crate::scenario::PairMode::parse(v.trim())
                    .ok_or_else(|| format!("'{v}' is not allowed; allowed vrrp, dns"))?;
                Ok(())
            }
        ),
        setting!("vrrp.advert_int_ms", "ms", "10 to 255000", "interval of the VRRP master's advertisements", |s, v| {
            s.vrrp.advert_int_ms = num(v, 10.0, 255_000.0)?;
            Ok(())
        }),
        setting!("vrrp.priority_lb1", "", "1 to 255", "lb1's VRRP priority (higher wins)", |s, v| {
            s.vrrp.priority_lb1 = int(v, 1, 255)? as u32;
            Ok(())
        }),
        setting!("vrrp.priority_lb2", "", "1 to 255", "lb2's VRRP priority (higher wins)", |s, v| {
            s.vrrp.priority_lb2 = int(v, 1, 255)? as u32;
            Ok(())
        }),
        setting!(
            "vrrp.preempt",
            "",
            "true|false",
            "a higher-priority balancer that returns takes the floating IP back",
            |s, v| {
                s.vrrp.preempt = boolean(v)?;
                Ok(())
            }
        ),
        setting!(
            "web.backup",
            "",
            "comma list of server numbers, or none",
            "which web servers are backups (e.g. 2 makes web2 the passive one)",
            |s, v| {
                let text = v.trim();
                let mut chosen = Vec::new();
                if !text.is_empty() && text != "none" {
                    for part in text.split(',') {
                        let n = int(part.trim().trim_start_matches("web"), 1, s.web.servers.len() as u64)? as usize;
                        chosen.push(n - 1);
                    }
                }
                for (i, server) in s.web.servers.iter_mut().enumerate() {
                    server.backup = chosen.contains(&i);
                }
                Ok(())
            }
        ),
        setting!(
            "web.backlog",
            "connections",
            "0 to 1000000 (0 = unlimited)",
            "waiting connections beyond which a server refuses new ones",
            |s, v| {
                let b = int(v, 0, 1_000_000)? as u32;
                for_all_servers(s, |x| x.backlog = b);
                Ok(())
            }
        ),
        setting!(
            "failures.lb.mtbf_s",
            "s",
            "0 to 1e9 (0 = never)",
            "mean time between random failures of each balancer",
            |s, v| {
                s.failures.lb.mtbf_s = num(v, 0.0, 1e9)?;
                Ok(())
            }
        ),
        setting!("failures.lb.mttr_s", "s", "0.1 to 1e9", "mean time to repair a balancer", |s, v| {
            s.failures.lb.mttr_s = num(v, 0.1, 1e9)?;
            Ok(())
        }),
        setting!(
            "failures.web.mtbf_s",
            "s",
            "0 to 1e9 (0 = never)",
            "mean time between random failures of each web server",
            |s, v| {
                s.failures.web.mtbf_s = num(v, 0.0, 1e9)?;
                Ok(())
            }
        ),
        setting!("failures.web.mttr_s", "s", "0.1 to 1e9", "mean time to repair a web server", |s, v| {
            s.failures.web.mttr_s = num(v, 0.1, 1e9)?;
            Ok(())
        }),
        setting!(
            "failures.db.mtbf_s",
            "s",
            "0 to 1e9 (0 = never)",
            "mean time between random failures of each database node",
            |s, v| {
                s.failures.db.mtbf_s = num(v, 0.0, 1e9)?;
                Ok(())
            }
        ),
        setting!("failures.db.mttr_s", "s", "0.1 to 1e9", "mean time to repair a database node", |s, v| {
            s.failures.db.mttr_s = num(v, 0.1, 1e9)?;
            Ok(())
        }),
        setting!(
            "failures.dns.mtbf_s",
            "s",
            "0 to 1e9 (0 = never)",
            "mean time between random failures of the DNS service",
            |s, v| {
                s.failures.dns.mtbf_s = num(v, 0.0, 1e9)?;
                Ok(())
            }
        ),
        setting!("failures.dns.mttr_s", "s", "0.1 to 1e9", "mean time to repair the DNS service", |s, v| {
            s.failures.dns.mttr_s = num(v, 0.1, 1e9)?;
            Ok(())
        }),
        setting!("security.https", "", "true|false", "HTTPS with TLS terminated at the balancer", |s, v| {
            s.security.https = boolean(v)?;
            Ok(())
        }),
        setting!(
            "security.tls_handshake_cpu_ms",
            "ms",
            "0 to 10000",
            "balancer CPU time of a full TLS handshake",
            |s, v| {
                s.security.tls_handshake_cpu_ms = num(v, 0.0, 10_000.0)?;
                Ok(())
            }
        ),
        setting!("security.tls_session_s", "s", "0 to 86400", "how long a client reuses its TLS session", |s, v| {
            s.security.tls_session_s = num(v, 0.0, 86_400.0)?;
            Ok(())
        }),
        setting!(
            "security.firewall",
            "",
            "true|false",
            "only the balancer's web ports are reachable from outside",
            |s, v| {
                s.security.firewall = boolean(v)?;
                Ok(())
            }
        ),
        setting!(
            "security.probe_rate_per_s",
            "probes/s",
            "0 to 10000",
            "outside connection attempts aimed at web servers and the database",
            |s, v| {
                s.security.probe_rate_per_s = num(v, 0.0, 10_000.0)?;
                Ok(())
            }
        ),
        setting!(
            "monitoring.enabled",
            "",
            "true|false",
            "a monitoring system watches every node and alerts",
            |s, v| {
                s.monitoring.enabled = boolean(v)?;
                Ok(())
            }
        ),
        setting!(
            "monitoring.check_interval_ms",
            "ms",
            "100 to 3600000",
            "how often monitoring agents report",
            |s, v| {
                s.monitoring.check_interval_ms = num(v, 100.0, 3_600_000.0)?;
                Ok(())
            }
        ),
        setting!(
            "monitoring.lag_alert_ms",
            "ms",
            "0 to 3600000",
            "alert when a replica lags more than this",
            |s, v| {
                s.monitoring.lag_alert_ms = num(v, 0.0, 3_600_000.0)?;
                Ok(())
            }
        ),
    ];
    SETTINGS
}

/// Every settable key with its unit, allowed values and meaning.
pub fn setting_docs() -> Vec<SettingDoc> {
    settings().iter().map(|s| s.doc.clone()).collect()
}

/// Apply one `key=value` setting to a scenario.
pub fn apply_setting(scenario: &mut Scenario, key: &str, value: &str) -> Result<(), SettingError> {
    let Some(setting) = settings().iter().find(|s| s.doc.key == key) else {
        let known: Vec<&str> = settings().iter().map(|s| s.doc.key).collect();
        return Err(SettingError {
            key: key.to_string(),
            message: format!("unknown key; allowed keys: {}", known.join(", ")),
        });
    };
    (setting.set)(scenario, value).map_err(|message| SettingError { key: key.to_string(), message })
}
