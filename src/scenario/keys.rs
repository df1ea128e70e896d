//! Flat `key=value` settings over a scenario: the batch runner's `--set`, documented by
//! `infrasim show --keys`, and reused for readable URL parameters.
//!
//! One table, [`settings()`], is the single source of each setting's key, unit, range and
//! meaning, and of how to read and write it. `--set`, `show --keys`, `Scenario::validate()`,
//! the live commands' range checks and the page's field limits all read it, so they cannot
//! disagree. Adding a setting is one row.

use super::{
    Algorithm, Distribution, Failover, PairMode, Problem, ReadFrom, Replication, Scenario, WebServer, MAX_REPLICAS,
    MAX_WEB_SERVERS,
};

/// What values a setting takes.
#[derive(Clone, Copy, Debug)]
pub enum Allowed {
    /// A finite number from `min` to `max`.
    Number { min: f64, max: f64 },
    /// A whole number from `min` to `max`.
    Whole { min: u64, max: u64 },
    /// `true` or `false` (also `1`/`0`, `on`/`off`, `yes`/`no`).
    Switch,
    /// One of these names.
    Choice(fn() -> Vec<&'static str>),
    /// A list, described by the setting's note and read by the setting itself.
    List,
}

/// One settable key: what it is, and how to read, write and check it in a scenario.
pub struct Setting {
    pub key: &'static str,
    pub unit: &'static str,
    pub allowed: Allowed,
    /// What a special value means or how a list is written ("0 = unlimited").
    pub note: &'static str,
    pub meaning: &'static str,
    /// The value in a scenario, as `--set` reads it back; `None` when the web servers differ.
    get: fn(&Scenario) -> Option<String>,
    set: fn(&Setting, &mut Scenario, &str) -> Result<(), String>,
    /// Problems of the value (or of each server's value) in a scenario, with field paths.
    check: fn(&Setting, &Scenario, &mut Vec<Problem>),
}

/// Documentation of one settable key, as `show --keys` prints it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SettingDoc {
    pub key: &'static str,
    pub unit: &'static str,
    pub allowed: String,
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

/// The limits of the page's input field for a setting (`min`, `max` and `step` attributes).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldLimits {
    pub min: f64,
    pub max: f64,
    /// `"1"` for whole numbers, `"any"` for decimals.
    pub step: &'static str,
}

/// The smallest non-zero value of a time in `unit`: the model's clock counts microseconds, so
/// anything smaller would round to 0, which for several settings means "off" or "no limit".
fn clock_tick(unit: &str) -> Option<f64> {
    match unit {
        "ms" => Some(0.001),
        "s" => Some(0.000_001),
        _ => None,
    }
}

/// A number for a message: huge or tiny ones in exponent form (`1e308`, as typed, not 309
/// digits that overflow a phone's width), the rest as Rust prints them.
fn shown(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-6..1e15).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        v.to_string()
    }
}

impl Setting {
    /// Whether `v` is allowed, or what is allowed.
    pub fn check_number(&self, v: f64) -> Result<(), String> {
        let v_text = shown(v);
        let unit = if self.unit.is_empty() { String::new() } else { format!(" {}", self.unit) };
        let (min, max) = match self.allowed {
            Allowed::Number { min, max } => (min, max),
            Allowed::Whole { min, max } => {
                if v.fract() != 0.0 {
                    return Err(format!("{v_text} is not a whole number; allowed {min} to {max}{unit}"));
                }
                (min as f64, max as f64)
            }
            _ => return Ok(()),
        };
        if !v.is_finite() || v < min || v > max {
            return Err(format!("{v_text} is out of range; allowed {min} to {max}{unit}"));
        }
        match clock_tick(self.unit) {
            Some(tick) if v != 0.0 && v.abs() < tick => {
                Err(format!("{v_text}{unit} rounds to 0 on the model's 1 µs clock; give 0 or at least {tick}"))
            }
            _ => Ok(()),
        }
    }

    /// A whole number from text, within the allowed range.
    fn read_whole(&self, text: &str) -> Result<u64, String> {
        let (min, max) = match self.allowed {
            Allowed::Whole { min, max } => (min, max),
            _ => (0, u64::MAX),
        };
        let unit = if self.unit.is_empty() { String::new() } else { format!(" {}", self.unit) };
        let v: u64 =
            text.trim().parse().map_err(|_| format!("'{text}' is not a whole number; allowed {min} to {max}{unit}"))?;
        if v < min || v > max {
            return Err(format!("{v} is out of range; allowed {min} to {max}{unit}"));
        }
        Ok(v)
    }

    /// The allowed values in words, as `show --keys` prints them.
    pub fn allowed_text(&self) -> String {
        let range = match self.allowed {
            Allowed::Number { min, max } => format!("{min} to {max}"),
            Allowed::Whole { min, max } if max == u64::MAX => format!("{min} to 2^64-1"),
            Allowed::Whole { min, max } => format!("{min} to {max}"),
            Allowed::Switch => "true|false".into(),
            Allowed::Choice(names) => names().join("|"),
            Allowed::List => return self.note.to_string(),
        };
        if self.note.is_empty() {
            range
        } else {
            format!("{range} ({})", self.note)
        }
    }

    /// The page's field limits, for numeric settings.
    pub fn field_limits(&self) -> Option<FieldLimits> {
        match self.allowed {
            Allowed::Number { min, max } => Some(FieldLimits { min, max, step: "any" }),
            Allowed::Whole { min, max } => Some(FieldLimits { min: min as f64, max: max as f64, step: "1" }),
            _ => None,
        }
    }

    fn report(&self, path: String, result: Result<(), String>, out: &mut Vec<Problem>) {
        if let Err(message) = result {
            out.push(Problem { path, message });
        }
    }
}

/// A value of one scenario field, read from and written as `--set` text.
trait Leaf: Sized {
    fn text(&self) -> String;
    fn read(text: &str, row: &Setting) -> Result<Self, String>;
    /// Whether a value already in a scenario is allowed (for `validate()`).
    fn check(&self, _row: &Setting) -> Result<(), String> {
        Ok(())
    }
}

impl Leaf for f64 {
    fn text(&self) -> String {
        // The shortest text that parses back to the same f64 (`100`, `0.25`).
        format!("{self}")
    }
    fn read(text: &str, row: &Setting) -> Result<f64, String> {
        let v: f64 =
            text.trim().parse().map_err(|_| format!("'{text}' is not a number; allowed {}", row.allowed_text()))?;
        row.check_number(v)?;
        Ok(v)
    }
    fn check(&self, row: &Setting) -> Result<(), String> {
        row.check_number(*self)
    }
}

impl Leaf for u64 {
    fn text(&self) -> String {
        self.to_string()
    }
    fn read(text: &str, row: &Setting) -> Result<u64, String> {
        row.read_whole(text)
    }
    fn check(&self, row: &Setting) -> Result<(), String> {
        match row.allowed {
            Allowed::Whole { min, max } if *self < min || *self > max => {
                Err(format!("{self} is out of range; allowed {min} to {max}"))
            }
            _ => Ok(()),
        }
    }
}

impl Leaf for u32 {
    fn text(&self) -> String {
        self.to_string()
    }
    fn read(text: &str, row: &Setting) -> Result<u32, String> {
        let v = row.read_whole(text)?;
        u32::try_from(v).map_err(|_| format!("{v} is too large"))
    }
    fn check(&self, row: &Setting) -> Result<(), String> {
        (*self as u64).check(row)
    }
}

impl Leaf for bool {
    fn text(&self) -> String {
        self.to_string()
    }
    fn read(text: &str, _row: &Setting) -> Result<bool, String> {
        match text.trim() {
            "true" | "1" | "on" | "yes" => Ok(true),
            "false" | "0" | "off" | "no" => Ok(false),
            other => Err(format!("'{other}' is not allowed; allowed true or false")),
        }
    }
}

/// `Leaf` for the named enums: written by `name()`, read by `parse()`.
macro_rules! named_leaf {
    ($($ty:ty),*) => {$(
        impl Leaf for $ty {
            fn text(&self) -> String {
                self.name().to_string()
            }
            fn read(text: &str, _row: &Setting) -> Result<$ty, String> {
                <$ty>::parse(text.trim()).ok_or_else(|| {
                    let names: Vec<&str> = <$ty>::ALL.iter().map(|x| x.name()).collect();
                    format!("'{text}' is not allowed; allowed {}", names.join(", "))
                })
            }
        }
    )*};
}
named_leaf!(Algorithm, Distribution, Failover, PairMode, ReadFrom, Replication);

/// A row for a scenario field (`field!(… , traffic.write_ratio)`).
macro_rules! field {
    ($key:literal, $unit:literal, $allowed:expr, $note:literal, $meaning:literal, $($f:ident).+) => {
        Setting {
            key: $key,
            unit: $unit,
            allowed: $allowed,
            note: $note,
            meaning: $meaning,
            get: |s| Some(Leaf::text(&s.$($f).+)),
            set: |row, s, v| {
                s.$($f).+ = Leaf::read(v, row)?;
                Ok(())
            },
            check: |row, s, out| row.report(row.key.to_string(), Leaf::check(&s.$($f).+, row), out),
        }
    };
}

/// A row for a field of every web server: set on all, read when all agree, checked on each.
macro_rules! server_field {
    ($key:literal, $unit:literal, $allowed:expr, $note:literal, $meaning:literal, $f:ident) => {
        Setting {
            key: $key,
            unit: $unit,
            allowed: $allowed,
            note: $note,
            meaning: concat!($meaning, " (one value for all, or a comma list with one per server, web1 first)"),
            get: |s| uniform(s, |w| Leaf::text(&w.$f)),
            set: |row, s, v| {
                let texts = per_server(v, s.web.servers.len())?;
                let values = texts.iter().map(|t| Leaf::read(t, row)).collect::<Result<Vec<_>, String>>()?;
                s.web.servers.iter_mut().zip(values).for_each(|(w, x)| w.$f = x);
                Ok(())
            },
            check: |row, s, out| {
                for (i, w) in s.web.servers.iter().enumerate() {
                    row.report(format!("web.servers[{i}].{}", stringify!($f)), Leaf::check(&w.$f, row), out);
                }
            },
        }
    };
}

/// A per-server setting's value for each of `servers` servers: one value for all, or a comma
/// list with exactly one per server.
fn per_server(value: &str, servers: usize) -> Result<Vec<&str>, String> {
    let parts: Vec<&str> = value.split(',').map(str::trim).collect();
    match parts.len() {
        1 => Ok(vec![parts[0]; servers]),
        n if n == servers => Ok(parts),
        n => Err(format!(
            "'{value}' lists {n} values for {servers} web server{}: give one value for all, or one per server",
            if servers == 1 { "" } else { "s" }
        )),
    }
}

/// The text of a per-server value when every server has the same.
fn uniform(s: &Scenario, text: impl Fn(&WebServer) -> String) -> Option<String> {
    let first = text(s.web.servers.first()?);
    s.web.servers.iter().all(|w| text(w) == first).then_some(first)
}

const fn num(min: f64, max: f64) -> Allowed {
    Allowed::Number { min, max }
}

const fn whole(min: u64, max: u64) -> Allowed {
    Allowed::Whole { min, max }
}

const SWITCH: Allowed = Allowed::Switch;
/// Times in milliseconds up to an hour.
const HOUR_MS: f64 = 3_600_000.0;
const DAY_S: f64 = 86_400.0;

fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|&x| name(x)).collect()
}

/// The web server count: new servers copy the last.
const fn web_count() -> Setting {
    Setting {
        key: "web.count",
        unit: "servers",
        allowed: whole(1, MAX_WEB_SERVERS as u64),
        note: "",
        meaning: "number of web servers (new ones copy the last)",
        get: |s| Some(s.web.servers.len().to_string()),
        set: |row, s, v| {
            let n = row.read_whole(v)? as usize;
            let template = s.web.servers.last().cloned().unwrap_or_default();
            s.web.servers.resize(n, template);
            Ok(())
        },
        check: |row, s, out| {
            let n = s.web.servers.len();
            if row.check_number(n as f64).is_err() {
                out.push(Problem {
                    path: "web.servers".into(),
                    message: format!("{n} servers: allowed 1 to {MAX_WEB_SERVERS}"),
                });
            }
        },
    }
}

/// Each server's HAProxy weight, as a comma list.
const fn web_weights() -> Setting {
    Setting {
        key: "web.weights",
        unit: "",
        allowed: whole(0, 256),
        note: "comma list, one per server",
        meaning: "HAProxy weight of each server (0 drains)",
        get: |s| Some(s.web.servers.iter().map(|w| w.weight.to_string()).collect::<Vec<_>>().join(",")),
        set: |row, s, v| {
            let weights: Vec<u32> = v.split(',').map(|w| u32::read(w, row)).collect::<Result<_, _>>()?;
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
        },
        check: |row, s, out| {
            for (i, w) in s.web.servers.iter().enumerate() {
                row.report(format!("web.servers[{i}].weight"), w.weight.check(row), out);
            }
        },
    }
}

/// Which servers are backups, by number (`2`, `2,3`, `web2`, or `none`).
const fn web_backup() -> Setting {
    Setting {
        key: "web.backup",
        unit: "",
        allowed: Allowed::List,
        note: "comma list of server numbers, or none",
        meaning: "which web servers are backups (e.g. 2 makes web2 the passive one)",
        get: |s| {
            let chosen: Vec<String> =
                s.web.servers.iter().enumerate().filter(|(_, w)| w.backup).map(|(i, _)| (i + 1).to_string()).collect();
            Some(if chosen.is_empty() { "none".into() } else { chosen.join(",") })
        },
        set: |_, s, v| {
            let text = v.trim();
            let count = s.web.servers.len();
            let mut chosen = Vec::new();
            if !text.is_empty() && text != "none" {
                for part in text.split(',') {
                    let digits = part.trim().strip_prefix("web").unwrap_or(part.trim());
                    match super::parse_index(digits) {
                        Some(n) if (1..=count).contains(&n) => chosen.push(n - 1),
                        _ => return Err(format!("'{part}' is not a server; allowed 1 to {count}, or none")),
                    }
                }
            }
            for (i, server) in s.web.servers.iter_mut().enumerate() {
                server.backup = chosen.contains(&i);
            }
            Ok(())
        },
        check: |_, _, _| {},
    }
}

/// The listed machines as text (`server1:2:web1/app1/db1,…`), or `none`.
const fn machines_list() -> Setting {
    Setting {
        key: "machines",
        unit: "",
        allowed: Allowed::List,
        note: "comma list of ID:CORES:COMPONENT/COMPONENT…, or none (one machine per component)",
        meaning: "the machines and what each runs, e.g. server1:2:web1/app1/db1 (unnamed components get a machine of their own)",
        get: |s| Some(super::machines::list_text(&s.machines)),
        set: |_, s, v| {
            s.machines = super::machines::parse_list(v)?;
            Ok(())
        },
        // Ids and components: `machines::check`, from `validate()`; cores: `machines.cores`.
        check: |_, _, _| {},
    }
}

/// What `machines.cores` reads while no machine is listed.
const AUTO_CORES: &str = "auto";

/// Every listed machine's cores; on a design that lists none, the one-per-component machines
/// are written out first.
const fn machines_cores() -> Setting {
    Setting {
        key: "machines.cores",
        unit: "cores",
        allowed: whole(1, super::machines::MAX_CORES as u64),
        note: "auto = no machine listed: one per component, each with the cores its work needs",
        meaning: "CPU cores of every machine (on a design without machines, first lists one machine per component)",
        get: |s| {
            let first = s.machines.first().map(|m| m.cores);
            match first {
                None => Some(AUTO_CORES.into()),
                Some(n) => s.machines.iter().all(|m| m.cores == n).then(|| n.to_string()),
            }
        },
        set: |row, s, v| {
            if v.trim() == AUTO_CORES {
                return match s.machines.is_empty() {
                    true => Ok(()),
                    false => Err(format!(
                        "'{AUTO_CORES}' means no machine is listed, but {} are: give a number from 1 to {}, or set machines=none",
                        s.machines.len(),
                        super::machines::MAX_CORES
                    )),
                };
            }
            let cores = u32::read(v, row)?;
            if s.machines.is_empty() {
                s.machines = super::machines::listed_from_placement(s, cores);
            }
            s.machines.iter_mut().for_each(|m| m.cores = cores);
            Ok(())
        },
        check: |row, s, out| {
            for (i, m) in s.machines.iter().enumerate() {
                row.report(format!("machines[{i}].cores"), m.cores.check(row), out);
            }
        },
    }
}

/// The machines with a firewall of their own.
const fn security_firewalls() -> Setting {
    Setting {
        key: "security.firewalls",
        unit: "",
        allowed: Allowed::List,
        note: "comma list of machine ids, or none",
        meaning: "machines with a firewall of their own, letting in only what the design needs of each (e.g. balancer1,server1,server2)",
        get: |s| Some(if s.security.firewalls.is_empty() { "none".into() } else { s.security.firewalls.0.join(",") }),
        set: |_, s, v| {
            s.security.firewalls.0 = super::machines::parse_ids(v)?;
            Ok(())
        },
        // That each names a machine of the design: `machines::check`, from `validate()`.
        check: |_, _, _| {},
    }
}

/// Every setting, in the order `show --keys` lists them.
pub fn settings() -> &'static [Setting] {
    SETTINGS
}

/// A constant, so the rows are data in the page's WebAssembly rather than code that builds
/// them at run time (about 9 KB of code).
#[rustfmt::skip]
static SETTINGS: &[Setting] = &[
        field!("warmup_s", "s", num(0.0, DAY_S), "", "requests arriving before this time are left out of statistics", warmup_s),
        field!("seed", "", whole(0, u64::MAX), "", "seed of the random generator", seed),
        field!("traffic.arrival_rate_per_s", "requests/s", num(0.0, 100_000.0), "", "mean rate of new requests (Poisson)", traffic.arrival_rate_per_s),
        field!("traffic.write_ratio", "", num(0.0, 1.0), "", "fraction of requests that are writes", traffic.write_ratio),
        field!("traffic.read_own_write_ratio", "", num(0.0, 1.0), "", "share of writes the same request reads back at once (routed like any read)", traffic.read_own_write_ratio),
        field!("traffic.clients", "clients", whole(1, 1_000_000), "", "distinct clients sending requests", traffic.clients),
        field!("traffic.burst.enabled", "", SWITCH, "", "periodic bursts on top of the base rate", traffic.burst.enabled),
        field!("traffic.burst.period_s", "s", num(1.0, DAY_S), "", "time from one burst's start to the next", traffic.burst.period_s),
        field!("traffic.burst.duration_s", "s", num(0.0, DAY_S), "at most the period", "length of each burst", traffic.burst.duration_s),
        field!("traffic.burst.multiplier", "×", num(0.0, 100.0), "", "arrival rate during a burst, as a multiple of the base", traffic.burst.multiplier),
        field!("network.client_latency_ms", "ms", num(0.0, 10_000.0), "", "one-way latency client ↔ balancer", network.client_latency_ms),
        field!("network.lan_latency_ms", "ms", num(0.0, 1_000.0), "", "one-way latency between machines in the data centre", network.lan_latency_ms),
        field!("network.dns_lookup_ms", "ms", num(0.0, 10_000.0), "", "time to resolve www.foobar.com on a cache miss", network.dns_lookup_ms),
        field!("network.dns_ttl_s", "s", num(0.0, DAY_S), "", "how long a client caches the DNS answer", network.dns_ttl_s),
        field!("balancer.algorithm", "", Allowed::Choice(|| names(&Algorithm::ALL, Algorithm::name)), "", "how the balancer picks a web server", balancer.algorithm),
        field!("balancer.random_draws", "servers", whole(1, 8), "", "with random: servers drawn per request (2 = power of two choices)", balancer.random_draws),
        server_field!("balancer.maxconn", "connections", whole(0, 100_000), "0 = unlimited", "per-server connection limit; more wait in the balancer's queue", maxconn),
        field!("balancer.maxqueue", "requests", whole(0, 1_000_000), "0 = HAProxy's unlimited, bounded at 100000", "most requests waiting in the balancer's queue; more are answered 503", balancer.maxqueue),
        field!("balancer.timeout_queue_ms", "ms", num(0.0, HOUR_MS), "0 = no limit", "a request queued this long is answered 503", balancer.timeout_queue_ms),
        web_count(),
        server_field!("web.workers", "workers", whole(1, 1024), "", "requests each web server works on at once", workers),
        server_field!("web.service_time_ms", "ms", num(0.001, 600_000.0), "", "mean application time per request on a web server", service_time_ms),
        server_field!("web.service_distribution", "", Allowed::Choice(|| names(&Distribution::ALL, Distribution::name)), "", "shape of the application time", service_distribution),
        server_field!("web.service_time_cv", "", num(0.0, 10.0), "", "coefficient of variation of a lognormal application time", service_time_cv),
        field!("web.static_ratio", "", num(0.0, 1.0), "", "share of reads that are static files Nginx answers itself, without the application", web.static_ratio),
        field!("web.nginx_time_ms", "ms", num(0.0, 60_000.0), "0 = free", "Nginx's own CPU time per request, on its machine's cores", web.nginx_time_ms),
        web_weights(),
        field!("db.enabled", "", SWITCH, "", "whether the application uses the database", db.enabled),
        field!("db.replicas", "replicas", whole(0, MAX_REPLICAS as u64), "", "replicas following the primary", db.replicas),
        field!("db.workers", "queries", whole(1, 1024), "", "queries each database node runs at once", db.workers),
        field!("db.read_time_ms", "ms", num(0.001, 600_000.0), "", "mean time of a read query", db.read_time_ms),
        field!("db.write_time_ms", "ms", num(0.001, 600_000.0), "", "mean time of a write on the primary", db.write_time_ms),
        field!("db.ship_latency_ms", "ms", num(0.0, 600_000.0), "", "time for a binlog event to reach a replica", db.ship_latency_ms),
        field!("db.apply_rate_per_s", "events/s", num(0.001, 1_000_000.0), "", "binlog events a replica applies per second", db.apply_rate_per_s),
        field!("db.read_from", "", Allowed::Choice(|| names(&ReadFrom::ALL, ReadFrom::name)), "", "where reads go: replicas in turn, the primary, or a lag-aware proxy", db.read_from),
        field!("db.replication", "", Allowed::Choice(|| names(&Replication::ALL, Replication::name)), "", "acknowledge writes at commit, or once a replica has them", db.replication),
        field!("db.semisync_timeout_ms", "ms", num(0.0, HOUR_MS), "", "semi-sync falls back to async after this long without a replica's ack", db.semisync_timeout_ms),
        field!("db.semisync_master_on_replicas", "", SWITCH, "", "replicas have semi-sync's primary side on beforehand: a promoted one starts semi-sync", db.semisync_master_on_replicas),
        field!("db.semisync_wait_no_slave", "", SWITCH, "", "with no semi-sync replica connected a commit still waits for the timeout (rpl_semi_sync_master_wait_no_slave)", db.semisync_wait_no_slave),
        field!("db.max_replication_lag_ms", "ms", num(0.0, HOUR_MS), "", "the proxy shuns a replica lagging more than this", db.max_replication_lag_ms),
        field!("db.failover", "", Allowed::Choice(|| names(&Failover::ALL, Failover::name)), "", "promote the most advanced replica when the primary dies", db.failover),
        field!("db.detect_interval_ms", "ms", num(10.0, HOUR_MS), "", "how often the failover manager checks the primary", db.detect_interval_ms),
        field!("db.detect_misses", "checks", whole(1, 100), "", "failed checks in a row before the primary is declared dead", db.detect_misses),
        field!("db.fencing", "", SWITCH, "", "a returning old primary rejoins as a replica (else: two primaries)", db.fencing),
        field!("balancer.retries", "retries", whole(0, 10), "", "times a refused connection is retried before 503", balancer.retries),
        field!("balancer.redispatch", "", SWITCH, "", "retry a refused connection on another server (option redispatch)", balancer.redispatch),
        field!("balancer.slowstart_ms", "ms", num(0.0, HOUR_MS), "0 = off", "a server back UP ramps its weight up over this time", balancer.slowstart_ms),
        field!("balancer.allbackups", "", SWITCH, "", "use every backup server, not only the first, when all active ones are down", balancer.allbackups),
        field!("balancer.health.inter_ms", "ms", num(10.0, HOUR_MS), "", "time between health checks of an UP server", balancer.health.inter_ms),
        field!("balancer.health.fastinter_ms", "ms", num(0.0, HOUR_MS), "0 = inter", "time between checks while a server changes state", balancer.health.fastinter_ms),
        field!("balancer.health.downinter_ms", "ms", num(0.0, HOUR_MS), "0 = inter", "time between checks of a DOWN server", balancer.health.downinter_ms),
        field!("balancer.health.rise", "checks", whole(1, 100), "", "consecutive passed checks that mark a server UP", balancer.health.rise),
        field!("balancer.health.fall", "checks", whole(1, 100), "", "consecutive failed checks that mark a server DOWN", balancer.health.fall),
        field!("balancer.enabled", "", SWITCH, "", "an HAProxy in front of the web servers (false: DNS points at web1; one server, no pair)", balancer.enabled),
        field!("balancer.pair", "", SWITCH, "", "two balancers (lb1, lb2) instead of one", balancer.pair),
        field!("balancer.pair_mode", "", Allowed::Choice(|| names(&PairMode::ALL, PairMode::name)), "", "a floating IP held by the VRRP master, or two DNS records (active-active)", balancer.pair_mode),
        field!("vrrp.advert_int_ms", "ms", num(10.0, 255_000.0), "", "interval of the VRRP master's advertisements (version 2 rounds it to whole seconds, at least 1 s)", vrrp.advert_int_ms),
        field!("vrrp.priority_lb1", "", whole(1, 255), "", "lb1's VRRP priority (higher wins)", vrrp.priority_lb1),
        field!("vrrp.priority_lb2", "", whole(1, 255), "", "lb2's VRRP priority (higher wins)", vrrp.priority_lb2),
        field!("vrrp.preempt", "", SWITCH, "", "a higher-priority balancer that returns takes the floating IP back", vrrp.preempt),
        field!("vrrp.version", "", whole(2, 3), "", "VRRP version: 2 (keepalived's default, skew (256 - priority)/256 s) or 3 (skew scaled by advert_int)", vrrp.version),
        field!("vrrp.preempt_delay_s", "s", num(0.0, 1_000.0), "", "a returning higher-priority balancer waits this long before taking the floating IP back (keepalived preempt_delay)", vrrp.preempt_delay_s),
        field!("vrrp.track_haproxy", "", SWITCH, "", "keepalived checks HAProxy every second (vrrp_script): when HAProxy is dead its balancer gives up the floating IP", vrrp.track_haproxy),
        web_backup(),
        server_field!("web.backlog", "connections", whole(0, 1_000_000), "0 = Linux's minimum, one", "waiting connections beyond which a server refuses new ones", backlog),
        field!("failures.lb.mtbf_s", "s", num(0.0, 1e9), "0 = never", "mean time between random failures of each balancer", failures.lb.mtbf_s),
        field!("failures.lb.mttr_s", "s", num(0.1, 1e9), "", "mean time to repair a balancer", failures.lb.mttr_s),
        field!("failures.web.mtbf_s", "s", num(0.0, 1e9), "0 = never", "mean time between random failures of each web server", failures.web.mtbf_s),
        field!("failures.web.mttr_s", "s", num(0.1, 1e9), "", "mean time to repair a web server", failures.web.mttr_s),
        field!("failures.db.mtbf_s", "s", num(0.0, 1e9), "0 = never", "mean time between random failures of each database node", failures.db.mtbf_s),
        field!("failures.db.mttr_s", "s", num(0.1, 1e9), "", "mean time to repair a database node", failures.db.mttr_s),
        field!("failures.dns.mtbf_s", "s", num(0.0, 1e9), "0 = never", "mean time between random failures of the DNS service", failures.dns.mtbf_s),
        field!("failures.dns.mttr_s", "s", num(0.1, 1e9), "", "mean time to repair the DNS service", failures.dns.mttr_s),
        field!("deploy.restart_s", "s", num(0.1, 3_600.0), "", "how long each application server is down while a deploy restarts it with new code", deploy.restart_s),
        field!("failures.machine.mtbf_s", "s", num(0.0, 1e9), "0 = never", "mean time between random failures of each listed machine (everything it runs goes down)", failures.machine.mtbf_s),
        field!("failures.machine.mttr_s", "s", num(0.1, 1e9), "", "mean time to repair a listed machine", failures.machine.mttr_s),
        field!("security.https", "", SWITCH, "", "HTTPS with TLS terminated at the balancer", security.https),
        field!("security.tls_handshake_cpu_ms", "ms", num(0.0, 10_000.0), "", "balancer CPU time of a full TLS handshake", security.tls_handshake_cpu_ms),
        field!("security.tls_session_s", "s", num(0.0, DAY_S), "", "how long a client reuses its TLS session", security.tls_session_s),
        field!("security.backend_tls", "", SWITCH, "", "the balancer re-encrypts the hop to the web servers (HAProxy ssl on server lines)", security.backend_tls),
        field!("security.backend_tls_cpu_ms", "ms", num(0.0, 1_000.0), "", "CPU time of that encryption per request, on the balancer's machine and on the web server's", security.backend_tls_cpu_ms),
        field!("security.firewall", "", SWITCH, "", "a firewall on every machine: from outside only the balancer's web ports are reachable", security.firewall),
        security_firewalls(),
        field!("security.probe_rate_per_s", "probes/s", num(0.0, 10_000.0), "", "outside connection attempts aimed at web servers and the database", security.probe_rate_per_s),
        field!("monitoring.enabled", "", SWITCH, "", "a monitoring system watches every node and alerts", monitoring.enabled),
        field!("monitoring.check_interval_ms", "ms", num(100.0, HOUR_MS), "", "how often monitoring agents report", monitoring.check_interval_ms),
        field!("monitoring.lag_alert_ms", "ms", num(0.0, HOUR_MS), "", "alert when a replica lags more than this", monitoring.lag_alert_ms),
        // Last: a design's machines name its components, so they follow every count.
        machines_list(),
        machines_cores(),
];

/// The row of `key`.
pub fn setting(key: &str) -> Option<&'static Setting> {
    settings().iter().find(|s| s.key == key)
}

/// Every settable key with its unit, allowed values and meaning.
pub fn setting_docs() -> Vec<SettingDoc> {
    settings()
        .iter()
        .map(|s| SettingDoc { key: s.key, unit: s.unit, allowed: s.allowed_text(), meaning: s.meaning })
        .collect()
}

/// Apply one `key=value` setting to a scenario.
pub fn apply_setting(scenario: &mut Scenario, key: &str, value: &str) -> Result<(), SettingError> {
    let Some(row) = setting(key) else {
        let known: Vec<&str> = settings().iter().map(|s| s.key).collect();
        return Err(SettingError {
            key: key.to_string(),
            message: format!("unknown key; allowed keys: {}", known.join(", ")),
        });
    };
    (row.set)(row, scenario, value).map_err(|message| SettingError { key: key.to_string(), message })
}

/// The value of `key` in a scenario as `--set` reads it back (`None`: unknown key, or web servers
/// that differ in it).
pub fn setting_value(scenario: &Scenario, key: &str) -> Option<String> {
    setting(key).and_then(|row| (row.get)(scenario))
}

/// Whether a live command's value for setting `key` is allowed: the same rule as `--set`.
pub fn check_value(key: &str, value: f64) -> Result<(), String> {
    match setting(key) {
        Some(row) => row.check_number(value),
        None => Err(format!("no setting {key}")),
    }
}

/// The page's input limits for setting `key` (min, max, step); a key without numeric limits
/// gets an empty range, which a test keeps from happening.
pub fn field_limits(key: &str) -> FieldLimits {
    setting(key).and_then(Setting::field_limits).unwrap_or(FieldLimits { min: 0.0, max: 0.0, step: "any" })
}

/// Every problem the table finds in a scenario's values, each with its field path.
pub(super) fn check_scenario(scenario: &Scenario, out: &mut Vec<Problem>) {
    for row in settings() {
        (row.check)(row, scenario, out);
    }
}
