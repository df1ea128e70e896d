//! Scenarios are data: what the simulated infrastructure looks like and how it is loaded.
//!
//! Every field has a default, so a scenario file only names what differs. `validate()` reports
//! every problem with its field path; the batch runner, the URL loader and the JSON importer all
//! go through it before anything reaches `Sim::new`.

pub mod edit;
mod faults;
pub(crate) mod json;
mod keys;
pub mod machines;
mod presets;
pub mod presets_v1;
pub mod url;

pub use faults::parse_fault;
pub use keys::{
    apply_setting, check_value, field_limits, setting, setting_docs, setting_value, settings, Allowed, FieldLimits,
    Setting, SettingDoc, SettingError,
};
pub use machines::{components, placement, ComponentId, ComponentKind, Cores, Machine, PlacedMachine};
pub use presets::{
    benchmark_mm2, canonical_preset_name, preset, preset_names, preset_v2, Preset, PRESETS, PRESET_ALIASES,
};
pub use presets_v1::{preset_names_v1, preset_v1, PRESETS_V1};

use json::{fill_leaf, fill_struct, named_from_json, Fill};

use serde::Serialize;

/// The scenario format this build reads and writes.
pub const SCENARIO_VERSION: u32 = 1;
/// Most web servers a scenario may have (the power-of-d lessons use 100).
pub const MAX_WEB_SERVERS: usize = 128;
/// Most replicas behind one primary.
pub const MAX_REPLICAS: u32 = 4;

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Scenario {
    /// Format version; a file from a newer infrasim is rejected rather than misread.
    pub version: u32,
    /// Name shown in the page and in batch output.
    pub name: String,
    /// Seed of the random generator: same seed + scenario + commands = same run.
    pub seed: u64,
    /// Requests arriving before this simulated time (seconds) are left out of statistics.
    pub warmup_s: f64,
    pub traffic: Traffic,
    pub network: Network,
    pub balancer: Balancer,
    pub web: WebTier,
    pub db: Database,
    pub vrrp: Vrrp,
    pub failures: Failures,
    pub security: Security,
    pub monitoring: Monitoring,
    /// How a deploy of new code restarts the application servers.
    pub deploy: Deploy,
    /// The machines and the components each runs; a component no machine names gets a machine
    /// of its own (see [`placement`]). Empty: one machine per node, as before machines existed.
    #[serde(default)]
    pub machines: Vec<Machine>,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            version: SCENARIO_VERSION,
            name: "three-server".into(),
            seed: 1,
            warmup_s: 0.0,
            traffic: Traffic::default(),
            network: Network::default(),
            balancer: Balancer::default(),
            web: WebTier::default(),
            db: Database::default(),
            vrrp: Vrrp::default(),
            failures: Failures::default(),
            security: Security::default(),
            monitoring: Monitoring::default(),
            deploy: Deploy::default(),
            machines: Vec::new(),
        }
    }
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Traffic {
    /// Mean rate of new requests (Poisson arrivals), requests per second.
    pub arrival_rate_per_s: f64,
    /// Fraction of requests that are writes (0 to 1); the rest are reads.
    pub write_ratio: f64,
    /// Share of writes that the same request reads back at once (0 to 1), routed like any read.
    pub read_own_write_ratio: f64,
    /// Number of distinct clients; each request comes from one chosen at random.
    pub clients: u32,
    /// Optional periodic burst on top of the base rate.
    pub burst: Burst,
}

impl Default for Traffic {
    fn default() -> Self {
        Traffic {
            arrival_rate_per_s: 100.0,
            write_ratio: 0.2,
            read_own_write_ratio: 0.0,
            clients: 1000,
            burst: Burst::default(),
        }
    }
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Burst {
    /// Whether bursts happen at all.
    pub enabled: bool,
    /// Time from the start of one burst to the start of the next, seconds.
    pub period_s: f64,
    /// How long each burst lasts, seconds.
    pub duration_s: f64,
    /// Arrival rate during a burst as a multiple of the base rate.
    pub multiplier: f64,
}

impl Default for Burst {
    fn default() -> Self {
        Burst { enabled: false, period_s: 60.0, duration_s: 10.0, multiplier: 3.0 }
    }
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Network {
    /// One-way latency between a client and the load balancer (the internet), milliseconds.
    pub client_latency_ms: f64,
    /// One-way latency between machines in the data centre, milliseconds.
    pub lan_latency_ms: f64,
    /// Time a client spends resolving www.foobar.com when its cached answer has expired, milliseconds.
    pub dns_lookup_ms: f64,
    /// How long a client keeps a DNS answer, seconds.
    pub dns_ttl_s: f64,
}

impl Default for Network {
    fn default() -> Self {
        Network { client_latency_ms: 20.0, lan_latency_ms: 0.5, dns_lookup_ms: 15.0, dns_ttl_s: 300.0 }
    }
}

/// HAProxy `balance` algorithms.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    /// Smooth weighted round robin; weights may change while running.
    Roundrobin,
    /// Round robin with the weights fixed at start (0 still drains).
    StaticRr,
    /// Fewest (served + queued) connections relative to weight, round robin among ties.
    Leastconn,
    /// First server in id order with a free connection slot.
    First,
    /// Hash of the client id: a client always lands on the same server while it is up.
    Source,
    /// `random_draws` servers drawn at random (by weight); the least loaded wins.
    Random,
}

impl Algorithm {
    pub const ALL: [Algorithm; 6] = [
        Algorithm::Roundrobin,
        Algorithm::StaticRr,
        Algorithm::Leastconn,
        Algorithm::First,
        Algorithm::Source,
        Algorithm::Random,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Roundrobin => "roundrobin",
            Algorithm::StaticRr => "static-rr",
            Algorithm::Leastconn => "leastconn",
            Algorithm::First => "first",
            Algorithm::Source => "source",
            Algorithm::Random => "random",
        }
    }

    pub fn parse(text: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == text)
    }
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Balancer {
    /// An HAProxy in front of the web servers. False only for the one-server design: DNS then
    /// points at web1, so there must be one web server and no pair.
    pub enabled: bool,
    /// How the balancer picks a web server.
    pub algorithm: Algorithm,
    /// With `random`: how many servers are drawn (2 = power of two choices).
    pub random_draws: u32,
    /// Most requests waiting in the balancer's queue when every server is full (0 = HAProxy's
    /// unlimited, which the model bounds at `UNLIMITED_QUEUE_BOUND`).
    pub maxqueue: u32,
    /// A request waiting this long in the balancer's queue is answered 503, milliseconds (0 = no limit).
    pub timeout_queue_ms: f64,
    /// Times a refused connection is tried again before answering 503 (HAProxy `retries`).
    pub retries: u32,
    /// Retry a refused connection on another server (`option redispatch`; when, see
    /// `on_connect_failed` in the engine).
    pub redispatch: bool,
    /// A server that comes back UP ramps its weight from 0 to full over this time, milliseconds (0 = off).
    pub slowstart_ms: f64,
    /// With every active server down, use all backup servers rather than only the first (`option allbackups`).
    pub allbackups: bool,
    /// Health checks of the web servers.
    pub health: HealthCheck,
    /// Two balancers, lb1 and lb2, instead of one.
    pub pair: bool,
    /// How clients reach a pair: a floating IP held by the VRRP master, or two DNS records.
    pub pair_mode: PairMode,
}

impl Default for Balancer {
    fn default() -> Self {
        Balancer {
            enabled: true,
            algorithm: Algorithm::Roundrobin,
            random_draws: 2,
            maxqueue: 0,
            timeout_queue_ms: 5000.0,
            retries: 3,
            redispatch: true,
            slowstart_ms: 0.0,
            allbackups: false,
            health: HealthCheck::default(),
            pair: false,
            pair_mode: PairMode::Vrrp,
        }
    }
}

/// HAProxy `check` parameters (defaults from HAProxy: inter 2 s, rise 2, fall 3).
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct HealthCheck {
    /// Time between checks of a server that is UP and healthy, milliseconds.
    pub inter_ms: f64,
    /// Time between checks while a server is changing state, milliseconds (0 = same as inter).
    pub fastinter_ms: f64,
    /// Time between checks of a server that is DOWN, milliseconds (0 = same as inter).
    pub downinter_ms: f64,
    /// Consecutive successful checks that mark a DOWN server UP.
    pub rise: u32,
    /// Consecutive failed checks that mark an UP server DOWN.
    pub fall: u32,
}

impl Default for HealthCheck {
    fn default() -> Self {
        HealthCheck { inter_ms: 2000.0, fastinter_ms: 0.0, downinter_ms: 0.0, rise: 2, fall: 3 }
    }
}

/// How a pair of balancers is presented to clients.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PairMode {
    /// Active-passive: one floating IP, held by the VRRP master (keepalived).
    Vrrp,
    /// Active-active: www.foobar.com has two A records; clients stick to theirs for the TTL.
    Dns,
}

impl PairMode {
    pub const ALL: [PairMode; 2] = [PairMode::Vrrp, PairMode::Dns];

    pub fn name(self) -> &'static str {
        match self {
            PairMode::Vrrp => "vrrp",
            PairMode::Dns => "dns",
        }
    }

    pub fn parse(text: &str) -> Option<PairMode> {
        PairMode::ALL.into_iter().find(|m| m.name() == text)
    }
}

/// keepalived VRRP settings for the balancer pair (defaults from keepalived).
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Vrrp {
    /// Interval between the master's advertisements, milliseconds.
    pub advert_int_ms: f64,
    /// lb1's priority (1 to 255; the higher wins).
    pub priority_lb1: u32,
    /// lb2's priority (1 to 255).
    pub priority_lb2: u32,
    /// A higher-priority balancer that comes back takes the floating IP back.
    pub preempt: bool,
    /// VRRP version: 2 (keepalived's default; whole-second adverts, skew not scaled) or 3.
    pub version: u32,
    /// keepalived `preempt_delay`: a returning higher-priority balancer keeps listening this
    /// long after the first lower-priority advert it hears before it takes the IP back, seconds.
    pub preempt_delay_s: f64,
    /// keepalived tracks HAProxy (`vrrp_script` + `track_script`): when HAProxy dies the
    /// balancer's keepalived enters FAULT and gives up the floating IP. Off by default, as in
    /// keepalived's own configuration, which tracks nothing unless told to.
    pub track_haproxy: bool,
}

impl Default for Vrrp {
    fn default() -> Self {
        Vrrp {
            advert_int_ms: 1000.0,
            priority_lb1: 101,
            priority_lb2: 100,
            preempt: true,
            version: 2,
            preempt_delay_s: 0.0,
            track_haproxy: false,
        }
    }
}

impl Vrrp {
    /// The advert interval keepalived 2.2 actually uses, milliseconds: version 2 carries whole
    /// seconds (rounded to the nearest, at least 1 s, at most 255 s), version 3 centiseconds
    /// (at least 10 ms, at most 40.95 s).
    pub fn advert_int_used_ms(&self) -> f64 {
        let ms = if self.advert_int_ms.is_finite() { self.advert_int_ms.max(0.0) } else { 1_000.0 };
        if self.version == 3 {
            ((ms / 10.0).round() * 10.0).clamp(10.0, 40_950.0)
        } else {
            ((ms / 1_000.0).round() * 1_000.0).clamp(1_000.0, 255_000.0)
        }
    }
}

/// Random failures of one class of node: exponential times between failures and to repair.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct FailureRate {
    /// Mean time between failures of each node of the class, seconds (0 = never fails).
    pub mtbf_s: f64,
    /// Mean time to repair, seconds.
    pub mttr_s: f64,
}

impl Default for FailureRate {
    fn default() -> Self {
        FailureRate { mtbf_s: 0.0, mttr_s: 60.0 }
    }
}

/// The security weaknesses of the course design, as switches.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Security {
    /// HTTPS with TLS terminated at the balancer (off: requests cross the internet in plaintext).
    pub https: bool,
    /// Balancer CPU time of one full TLS handshake, milliseconds.
    pub tls_handshake_cpu_ms: f64,
    /// How long a client reuses its TLS session before a new full handshake, seconds.
    pub tls_session_s: f64,
    /// A firewall on every machine: from outside only the balancer's web ports are reachable.
    pub firewall: bool,
    /// Machines with a firewall of their own (ids as the placement names them, `server1` or a
    /// component's own machine `web1`): it lets in only what the design needs of that machine,
    /// so outside probes at its other ports are dropped there. The course's secured design has
    /// three. Empty (and left out of the JSON) when none is listed.
    #[serde(skip_serializing_if = "MachineIds::is_empty")]
    pub firewalls: MachineIds,
    /// Connection attempts from the internet aimed straight at the web servers and the database, per second.
    pub probe_rate_per_s: f64,
    /// The balancer re-encrypts the hop to the web servers (HAProxy `ssl` on its server lines):
    /// off, a sniffer in the data centre reads that hop in plain text even with HTTPS on.
    pub backend_tls: bool,
    /// CPU time of encrypting a request and its answer on that hop, milliseconds, charged on
    /// each end: the balancer's machine and the web server's.
    pub backend_tls_cpu_ms: f64,
}

impl Default for Security {
    fn default() -> Self {
        Security {
            https: false,
            tls_handshake_cpu_ms: 1.0,
            tls_session_s: 300.0,
            firewall: false,
            firewalls: MachineIds::default(),
            probe_rate_per_s: 2.0,
            backend_tls: false,
            backend_tls_cpu_ms: 0.05,
        }
    }
}

impl Security {
    /// The page's firewall switch (the `set_firewall` command): on puts a firewall on every
    /// machine; off leaves no firewall anywhere, the machines' own included, which is what it
    /// meant before firewalls belonged to machines (links made then turn it off this way). The
    /// `security.firewall` setting stays the field alone, so every value `show --keys` prints
    /// writes back unchanged.
    pub fn set_firewall_everywhere(&mut self, on: bool) {
        self.firewall = on;
        if !on {
            self.firewalls = MachineIds::default();
        }
    }
}

/// Machine ids, as a setting or a JSON list names them.
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(transparent)]
pub struct MachineIds(pub Vec<String>);

impl MachineIds {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, id: &str) -> bool {
        self.0.iter().any(|m| m == id)
    }
}

/// A monitoring system (agents on every node reporting to a dashboard).
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Monitoring {
    /// Without monitoring nobody sees node health: failures are noticed late or never.
    pub enabled: bool,
    /// How often the agents report, milliseconds.
    pub check_interval_ms: f64,
    /// Alert when a replica lags more than this, milliseconds.
    pub lag_alert_ms: f64,
}

impl Default for Monitoring {
    fn default() -> Self {
        Monitoring { enabled: false, check_interval_ms: 5_000.0, lag_alert_ms: 1_000.0 }
    }
}

/// A deploy of new code: each application server restarts (down this long) to load it.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Deploy {
    /// Seconds an application server is down while it restarts with the new code.
    pub restart_s: f64,
}

impl Default for Deploy {
    fn default() -> Self {
        Deploy { restart_s: 10.0 }
    }
}

/// Random failures per class of node, and of each listed machine (which takes down
/// everything it runs).
#[derive(Serialize, Clone, Debug, PartialEq, Default)]
pub struct Failures {
    pub lb: FailureRate,
    pub web: FailureRate,
    pub db: FailureRate,
    pub dns: FailureRate,
    pub machine: FailureRate,
}

/// Shape of a server's service-time distribution.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Distribution {
    Exponential,
    Constant,
    /// Log-normal with the given mean and coefficient of variation.
    Lognormal,
}

impl Distribution {
    pub const ALL: [Distribution; 3] = [Distribution::Exponential, Distribution::Constant, Distribution::Lognormal];

    pub fn name(self) -> &'static str {
        match self {
            Distribution::Exponential => "exponential",
            Distribution::Constant => "constant",
            Distribution::Lognormal => "lognormal",
        }
    }

    pub fn parse(text: &str) -> Option<Distribution> {
        Distribution::ALL.into_iter().find(|d| d.name() == text)
    }
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct WebServer {
    /// Share of balanced traffic (HAProxy `weight`, 0 to 256; 0 drains the server).
    pub weight: u32,
    /// Most connections the balancer opens to this server; more wait in its queue (0 = unlimited).
    pub maxconn: u32,
    /// Requests the server works on at once (Nginx + application workers).
    pub workers: u32,
    /// Mean application time per request, milliseconds (database time comes on top).
    pub service_time_ms: f64,
    /// Shape of the application time.
    pub service_distribution: Distribution,
    /// Coefficient of variation (standard deviation / mean) for `lognormal`.
    pub service_time_cv: f64,
    /// Connections waiting for a worker beyond which the server refuses new ones (listen backlog).
    pub backlog: u32,
    /// A backup server takes traffic only when every active server is down (active-passive).
    pub backup: bool,
}

impl Default for WebServer {
    fn default() -> Self {
        WebServer {
            weight: 1,
            maxconn: 0,
            workers: 4,
            service_time_ms: 20.0,
            service_distribution: Distribution::Exponential,
            service_time_cv: 1.0,
            backlog: 511,
            backup: false,
        }
    }
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct WebTier {
    /// The web servers web1, web2, … in order; each may differ (heterogeneous farms).
    pub servers: Vec<WebServer>,
    /// Share of reads that are static files (images, stylesheets) which Nginx answers itself
    /// without the application; writes always reach the application. 0 as before Nginx and
    /// the application were told apart, so older scenarios keep their figures.
    pub static_ratio: f64,
    /// Nginx's own CPU time per request, milliseconds (parsing, proxying, sending the answer),
    /// on its machine's cores. 0: free, as before machines existed.
    pub nginx_time_ms: f64,
}

impl Default for WebTier {
    fn default() -> Self {
        WebTier { servers: vec![WebServer::default(), WebServer::default()], static_ratio: 0.0, nginx_time_ms: 0.0 }
    }
}

/// Which database node the application sends reads to.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ReadFrom {
    /// The application sends reads to the replicas in turn, writes to the primary: the seeds' split.
    Replica,
    /// Everything goes to the primary; replicas only follow.
    Primary,
    /// A proxy (ProxySQL) routes reads to replicas that are up and within `max_replication_lag_ms`,
    /// and to the primary when every replica is shunned.
    Proxy,
}

impl ReadFrom {
    pub const ALL: [ReadFrom; 3] = [ReadFrom::Replica, ReadFrom::Primary, ReadFrom::Proxy];

    pub fn name(self) -> &'static str {
        match self {
            ReadFrom::Replica => "replica",
            ReadFrom::Primary => "primary",
            ReadFrom::Proxy => "proxy",
        }
    }

    pub fn parse(text: &str) -> Option<ReadFrom> {
        ReadFrom::ALL.into_iter().find(|r| r.name() == text)
    }
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Database {
    /// Whether the application uses a database at all (off in `queue-lab`).
    pub enabled: bool,
    /// Replicas following the primary (0 to 4).
    pub replicas: u32,
    /// Queries each database node runs at once.
    pub workers: u32,
    /// Mean time of a read query, milliseconds (exponential).
    pub read_time_ms: f64,
    /// Mean time of a write (commit) on the primary, milliseconds (exponential).
    pub write_time_ms: f64,
    /// Time for a binlog event to reach a replica, milliseconds.
    pub ship_latency_ms: f64,
    /// Binlog events a replica applies per second (its single applier thread).
    pub apply_rate_per_s: f64,
    /// Where the application sends reads.
    pub read_from: ReadFrom,
    /// How the primary waits for replicas before acknowledging a write.
    pub replication: Replication,
    /// Semi-sync: without a replica's acknowledgement for this long the primary falls back to
    /// asynchronous replication (`rpl_semi_sync_source_timeout`), milliseconds.
    pub semisync_timeout_ms: f64,
    /// Replicas have the primary side of semi-sync enabled beforehand
    /// (`rpl_semi_sync_master_enabled=ON`, as configurations prepared for failover do): a
    /// promoted replica then starts with semi-sync on. Off: it starts asynchronous and turns
    /// semi-sync on when a replica catches up.
    pub semisync_master_on_replicas: bool,
    /// MariaDB's `rpl_semi_sync_master_wait_no_slave`: with no semi-sync replica connected a
    /// commit still waits for the timeout (on), or does not wait at all (off).
    pub semisync_wait_no_slave: bool,
    /// Proxy routing: a replica lagging more than this is shunned, milliseconds.
    pub max_replication_lag_ms: f64,
    /// What happens when the primary dies.
    pub failover: Failover,
    /// The failover manager checks the primary this often, milliseconds.
    pub detect_interval_ms: f64,
    /// Consecutive failed checks before the primary is declared dead.
    pub detect_misses: u32,
    /// An old primary that returns after a failover is fenced (rejoins as a replica); without
    /// fencing it comes back writable: two primaries (split brain).
    pub fencing: bool,
}

/// Replication mode (MySQL).
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Replication {
    /// The primary acknowledges a write as soon as it commits; replicas catch up later.
    Async,
    /// AFTER_SYNC: the client's write is acknowledged once a replica has received it.
    Semisync,
}

impl Replication {
    pub const ALL: [Replication; 2] = [Replication::Async, Replication::Semisync];

    pub fn name(self) -> &'static str {
        match self {
            Replication::Async => "async",
            Replication::Semisync => "semisync",
        }
    }

    pub fn parse(text: &str) -> Option<Replication> {
        Replication::ALL.into_iter().find(|r| r.name() == text)
    }
}

/// Primary failover.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Failover {
    /// Nobody promotes a replica: writes fail until the primary comes back.
    None,
    /// A manager (orchestrator, MHA) detects the death, promotes the most advanced replica and
    /// repoints the application.
    Auto,
}

impl Failover {
    pub const ALL: [Failover; 2] = [Failover::None, Failover::Auto];

    pub fn name(self) -> &'static str {
        match self {
            Failover::None => "none",
            Failover::Auto => "auto",
        }
    }

    pub fn parse(text: &str) -> Option<Failover> {
        Failover::ALL.into_iter().find(|f| f.name() == text)
    }
}

impl Default for Database {
    fn default() -> Self {
        Database {
            enabled: true,
            replicas: 1,
            workers: 8,
            read_time_ms: 2.0,
            write_time_ms: 5.0,
            ship_latency_ms: 2.0,
            apply_rate_per_s: 400.0,
            read_from: ReadFrom::Replica,
            replication: Replication::Async,
            semisync_timeout_ms: 10_000.0,
            semisync_master_on_replicas: false,
            semisync_wait_no_slave: true,
            max_replication_lag_ms: 1_000.0,
            failover: Failover::None,
            detect_interval_ms: 1_000.0,
            detect_misses: 3,
            fencing: true,
        }
    }
}

/// One thing wrong with a scenario, with the path of the field (`web.servers[1].workers`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Most problems reported for one input; the rest are counted ("and N more").
pub const MAX_PROBLEMS_SHOWN: usize = 50;
/// Largest scenario JSON read, in bytes. The largest legitimate scenario (128 servers, every
/// field written out, pretty-printed) is about 33 KB; a megabyte is 30 times that.
pub const MAX_SCENARIO_BYTES: usize = 1_000_000;
/// Longest scenario name, in characters (it is shown in the page's title and batch output).
pub const MAX_NAME_CHARS: usize = 100;

/// At most [`MAX_PROBLEMS_SHOWN`] problems, then one that says how many more there were.
pub fn cap_problems(mut problems: Vec<Problem>) -> Vec<Problem> {
    if problems.len() > MAX_PROBLEMS_SHOWN {
        let more = problems.len() - MAX_PROBLEMS_SHOWN;
        problems.truncate(MAX_PROBLEMS_SHOWN);
        problems.push(Problem { path: "(more)".into(), message: format!("and {more} more problems") });
    }
    problems
}

/// Shortest run, seconds: the model's clock counts microseconds, and a run shorter than a
/// millisecond holds no request.
pub const MIN_RUN_S: f64 = 0.001;
/// Longest run, seconds (30 days).
pub const MAX_RUN_S: f64 = 30.0 * 86_400.0;

/// Whether a run of `duration_s` seconds of `scenario` means something: long enough to hold a
/// request, and longer than the warm-up (otherwise nothing would be counted).
pub fn check_run_length(scenario: &Scenario, duration_s: f64) -> Result<(), String> {
    if !(duration_s.is_finite() && (MIN_RUN_S..=MAX_RUN_S).contains(&duration_s)) {
        return Err(format!("--duration-s {duration_s}: allowed {MIN_RUN_S} to {MAX_RUN_S} s"));
    }
    check_warmup(scenario, duration_s, &format!("--duration-s {duration_s}"))
}

/// Refuse a warm-up as long as the run (`duration_s`, asked for as `asked`, e.g. `--hours 1`):
/// no request would be counted, yet utilization would be reported. `run` and `soak` share it.
pub fn check_warmup(scenario: &Scenario, duration_s: f64, asked: &str) -> Result<(), String> {
    if scenario.warmup_s >= duration_s {
        return Err(format!(
            "warmup_s {} s is not shorter than {asked}: no request would be counted; \
             shorten the warm-up or run longer",
            scenario.warmup_s
        ));
    }
    Ok(())
}

/// The text of a scenario file, refusing one larger than [`MAX_SCENARIO_BYTES`] without reading
/// all of it.
pub fn read_limited(path: &std::path::Path) -> Result<String, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(MAX_SCENARIO_BYTES as u64 + 1).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    if bytes.len() > MAX_SCENARIO_BYTES {
        return Err(format!("larger than a scenario may be ({MAX_SCENARIO_BYTES} bytes)"));
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())
}

/// A server or node number as people write it: `1`, `12` (no sign, no leading zero, no
/// spaces), so `web+1` and `web01` are not read as web1.
pub fn parse_index(text: &str) -> Option<usize> {
    let plain = !text.is_empty() && text.len() <= 9 && text.bytes().all(|b| b.is_ascii_digit());
    (plain && !text.starts_with('0')).then(|| text.parse().ok()).flatten()
}

/// Whether a scenario name can be shown as it is: not too long, no control characters
/// (terminal escape codes, new lines).
fn check_name(name: &str) -> Result<(), String> {
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(format!("the name has {chars} characters; allowed at most {MAX_NAME_CHARS}"));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(format!(
            "the name contains the control character {}; use letters, digits and punctuation",
            c.escape_unicode()
        ));
    }
    Ok(())
}

impl Scenario {
    /// Every problem in the scenario, each with its field path; empty when it can run.
    /// Whether `other` has the same nodes with the same names (balancers, web servers, database
    /// nodes), whatever their settings: text about lb1, web2 or db2 then reads true for both.
    pub fn same_nodes(&self, other: &Scenario) -> bool {
        let db_nodes = |s: &Scenario| if s.db.enabled { 1 + s.db.replicas } else { 0 };
        self.balancer.pair == other.balancer.pair
            && self.balancer.enabled == other.balancer.enabled
            && self.web.servers.len() == other.web.servers.len()
            && db_nodes(self) == db_nodes(other)
    }

    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut push = |path: &str, message: String| problems.push(Problem { path: path.into(), message });
        if self.version > SCENARIO_VERSION {
            push("version", format!("version {} is newer than this infrasim reads ({SCENARIO_VERSION})", self.version));
        }
        if self.version == 0 {
            push("version", "version 0 does not exist: use 1".into());
        }
        if let Err(message) = check_name(&self.name) {
            push("name", message);
        }
        let burst = &self.traffic.burst;
        if burst.duration_s > burst.period_s {
            // On the pair, not on either field: each is within its own range.
            let message = format!("duration_s {} s is longer than period_s {} s", burst.duration_s, burst.period_s);
            push("traffic.burst", message);
        }
        let d = &self.db;
        if d.enabled && d.read_from == ReadFrom::Replica && d.replicas == 0 {
            push(
                "db.read_from",
                "reads go to a replica but db.replicas is 0: add a replica or read from the primary".into(),
            );
        }
        self.check_balancer_enabled(&mut problems);
        machines::check(self, &mut problems);
        keys::check_scenario(self, &mut problems);
        problems
    }

    /// Without a balancer DNS points at web1: one web server, and nothing to pair.
    fn check_balancer_enabled(&self, problems: &mut Vec<Problem>) {
        if self.balancer.enabled {
            return;
        }
        let servers = self.web.servers.len();
        if servers != 1 {
            problems.push(Problem {
                path: "balancer.enabled".into(),
                message: format!(
                    "false (no HAProxy: DNS points at web1) needs exactly one web server; web.servers has {servers}"
                ),
            });
        }
        if self.balancer.pair {
            problems.push(Problem {
                path: "balancer.enabled".into(),
                message: "false (no HAProxy) with balancer.pair true: there is no balancer to pair".into(),
            });
        }
    }

    /// Parse a scenario from JSON text, reporting every problem with its path: syntax errors,
    /// unknown fields, wrong types, and then everything `validate()` finds.
    pub fn from_json(text: &str) -> Result<Scenario, Vec<Problem>> {
        if text.len() > MAX_SCENARIO_BYTES {
            return Err(vec![Problem {
                path: "(file)".into(),
                message: format!("{} bytes is larger than a scenario may be ({MAX_SCENARIO_BYTES} bytes)", text.len()),
            }]);
        }
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| vec![Problem { path: "(file)".into(), message: format!("not valid JSON: {e}") }])?;
        Scenario::from_value(value)
    }

    /// Read a scenario from a JSON value, collecting every problem rather than the first: each
    /// wrong field is reported and keeps its default, then everything `validate()` finds.
    pub fn from_value(value: serde_json::Value) -> Result<Scenario, Vec<Problem>> {
        if !value.is_object() {
            return Err(vec![Problem { path: "(file)".into(), message: "a scenario is a JSON object".into() }]);
        }
        let mut problems = Vec::new();
        let mut scenario = Scenario::default();
        scenario.fill(&value, "", &mut problems);
        problems.extend(scenario.validate());
        if problems.is_empty() {
            Ok(scenario)
        } else {
            Err(cap_problems(problems))
        }
    }

    pub fn to_json_pretty(&self) -> String {
        // Through `Value`: the page then carries one serializer for scenarios, not three.
        serde_json::to_value(self).and_then(|v| serde_json::to_string_pretty(&v)).unwrap_or_default()
    }

    /// Where every component runs: the listed machines, then one of its own for each component
    /// no machine names (see [`machines::placement`]).
    pub fn placement(&self) -> Vec<PlacedMachine> {
        machines::placement(self)
    }

    /// The node id of web server `index` (0-based): web1, web2, …
    pub fn web_id(index: usize) -> String {
        format!("web{}", index + 1)
    }
}

named_from_json!(Algorithm, PairMode, Distribution, ReadFrom, Replication, Failover);
fill_leaf!(Algorithm, PairMode, Distribution, ReadFrom, Replication, Failover);
fill_struct!(Scenario {
    version,
    name,
    seed,
    warmup_s,
    traffic,
    network,
    balancer,
    web,
    db,
    vrrp,
    failures,
    security,
    monitoring,
    deploy,
    machines
});
fill_struct!(Deploy { restart_s });
fill_struct!(Traffic { arrival_rate_per_s, write_ratio, read_own_write_ratio, clients, burst });
fill_struct!(Burst { enabled, period_s, duration_s, multiplier });
fill_struct!(Network { client_latency_ms, lan_latency_ms, dns_lookup_ms, dns_ttl_s });
fill_struct!(Balancer {
    enabled,
    algorithm,
    random_draws,
    maxqueue,
    timeout_queue_ms,
    retries,
    redispatch,
    slowstart_ms,
    allbackups,
    health,
    pair,
    pair_mode
});
fill_struct!(HealthCheck { inter_ms, fastinter_ms, downinter_ms, rise, fall });
fill_struct!(Vrrp { advert_int_ms, priority_lb1, priority_lb2, preempt, version, preempt_delay_s, track_haproxy });
fill_struct!(FailureRate { mtbf_s, mttr_s });
fill_struct!(Failures { lb, web, db, dns, machine });
fill_struct!(Security {
    https,
    tls_handshake_cpu_ms,
    tls_session_s,
    firewall,
    firewalls,
    probe_rate_per_s,
    backend_tls,
    backend_tls_cpu_ms
});
fill_struct!(Monitoring { enabled, check_interval_ms, lag_alert_ms });
fill_struct!(WebTier { servers, static_ratio, nginx_time_ms });
fill_struct!(Machine { id, cores, runs });
fill_struct!(WebServer {
    weight,
    maxconn,
    workers,
    service_time_ms,
    service_distribution,
    service_time_cv,
    backlog,
    backup
});
fill_struct!(Database {
    enabled,
    replicas,
    workers,
    read_time_ms,
    write_time_ms,
    ship_latency_ms,
    apply_rate_per_s,
    read_from,
    replication,
    semisync_timeout_ms,
    semisync_master_on_replicas,
    semisync_wait_no_slave,
    max_replication_lag_ms,
    failover,
    detect_interval_ms,
    detect_misses,
    fencing
});

impl Fill for Vec<WebServer> {
    /// A list of servers; one that is not an object becomes a default server, so the indices
    /// of the others keep their meaning.
    fn fill(&mut self, v: &serde_json::Value, path: &str, problems: &mut Vec<Problem>) {
        let Some(items) = v.as_array() else {
            return json::problem(problems, path, format!("expected a list of servers, found {}", json::kind_of(v)));
        };
        if items.len() > MAX_WEB_SERVERS {
            // Not read at all: a list far too long would otherwise report each of its servers.
            let message = format!("{} servers: allowed 1 to {MAX_WEB_SERVERS}", items.len());
            return json::problem(problems, path, message);
        }
        *self = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let mut server = WebServer::default();
                server.fill(item, &format!("{path}[{i}]"), problems);
                server
            })
            .collect();
    }
}

impl Fill for Vec<Machine> {
    /// A list of machines; one that is not an object becomes an empty machine (reported), so
    /// the indices of the others keep their meaning.
    fn fill(&mut self, v: &serde_json::Value, path: &str, problems: &mut Vec<Problem>) {
        let Some(items) = v.as_array() else {
            return json::problem(problems, path, format!("expected a list of machines, found {}", json::kind_of(v)));
        };
        if items.len() > machines::MAX_MACHINES {
            let message = format!("{} machines: allowed at most {}", items.len(), machines::MAX_MACHINES);
            return json::problem(problems, path, message);
        }
        *self = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let mut machine = Machine { id: String::new(), cores: 1, runs: Vec::new() };
                machine.fill(item, &format!("{path}[{i}]"), problems);
                machine
            })
            .collect();
    }
}

/// What a list of ids in a scenario names, for its messages: ("machine id", "machines",
/// "server1") or ("component id", "components", "web1").
struct IdList {
    id: &'static str,
    things: &'static str,
    example: &'static str,
}

/// A JSON list of ids (at most a design's components), each problem reported at its path;
/// `None` when the value is not a list or is too long.
fn fill_ids(v: &serde_json::Value, path: &str, problems: &mut Vec<Problem>, what: IdList) -> Option<Vec<String>> {
    let Some(items) = v.as_array() else {
        json::problem(problems, path, format!("expected a list of {}s, found {}", what.id, json::kind_of(v)));
        return None;
    };
    if items.len() > machines::MAX_COMPONENTS {
        let message = format!("{} {}: a design has at most {}", items.len(), what.things, machines::MAX_COMPONENTS);
        json::problem(problems, path, message);
        return None;
    }
    let mut ids = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(text) => ids.push(text.to_string()),
            None => {
                let message = format!("expected a {} such as {}, found {}", what.id, what.example, json::kind_of(item));
                json::problem(problems, &format!("{path}[{i}]"), message);
            }
        }
    }
    Some(ids)
}

impl Fill for MachineIds {
    /// A list of machine ids (whether each names a machine of the design is `validate()`'s).
    fn fill(&mut self, v: &serde_json::Value, path: &str, problems: &mut Vec<Problem>) {
        let what = IdList { id: "machine id", things: "machines", example: "server1" };
        if let Some(ids) = fill_ids(v, path, problems, what) {
            self.0 = ids;
        }
    }
}

impl Fill for Vec<String> {
    /// A list of component ids.
    fn fill(&mut self, v: &serde_json::Value, path: &str, problems: &mut Vec<Problem>) {
        let what = IdList { id: "component id", things: "components", example: "web1" };
        if let Some(ids) = fill_ids(v, path, problems, what) {
            *self = ids;
        }
    }
}
