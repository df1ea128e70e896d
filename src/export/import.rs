//! Reading an existing `haproxy.cfg` into a scenario: the balancer settings and servers it
//! describes on top of a base scenario. Directives the model does not simulate are returned
//! with their line numbers (never dropped silently); a line that cannot be understood is an
//! error naming it. The input is bounded and the parser never panics (it is fuzzed in tests).

use crate::scenario::{Algorithm, Scenario, WebServer, MAX_WEB_SERVERS};

/// Largest configuration read, bytes.
pub const MAX_CONFIG_BYTES: usize = 1 << 20;
/// Most lines read.
pub const MAX_CONFIG_LINES: usize = 20_000;
/// Most words on one line.
const MAX_WORDS_PER_LINE: usize = 256;
/// HAProxy's longest timeout (2^31 - 1 ms, about 24.8 days).
const MAX_TIMEOUT_MS: u64 = (1 << 31) - 1;

/// A line whose directive the model does not simulate, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsimulated {
    /// 1-based line number.
    pub line: usize,
    pub text: String,
    pub why: String,
}

/// The first thing in the file that could not be understood (`line` 0: the file as a whole).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

/// A scenario read from a configuration, with everything that was not simulated.
#[derive(Clone, Debug)]
pub struct Imported {
    pub scenario: Scenario,
    pub unsimulated: Vec<Unsimulated>,
}

fn error(line: usize, message: impl Into<String>) -> ImportError {
    ImportError { line, message: message.into() }
}

/// One configuration line cut into words (comments removed), with its number and text.
struct Line<'a> {
    number: usize,
    text: &'a str,
    words: Vec<&'a str>,
}

/// Settings a `server` or `default-server` line may carry (None: not given).
#[derive(Clone, Debug, Default)]
struct ServerParams {
    weight: Option<u32>,
    maxconn: Option<u32>,
    maxqueue: Option<u32>,
    backup: bool,
    check: bool,
    inter_ms: Option<f64>,
    fastinter_ms: Option<f64>,
    downinter_ms: Option<f64>,
    rise: Option<u32>,
    fall: Option<u32>,
    slowstart_ms: Option<f64>,
}

/// Settings of a `defaults` or `backend`/`listen` section (None: not given).
#[derive(Clone, Debug, Default)]
struct Settings {
    algorithm: Option<(Algorithm, u32)>,
    retries: Option<(u32, usize)>,
    redispatch: Option<bool>,
    allbackups: Option<bool>,
    timeout_queue_ms: Option<(f64, usize)>,
    default_server: ServerParams,
}

/// A parsed `server` line.
#[derive(Clone, Debug)]
struct Server {
    line: usize,
    name: String,
    params: ServerParams,
}

/// A backend (or `listen`) section as read.
#[derive(Clone, Debug, Default)]
struct Backend {
    name: String,
    settings: Settings,
    servers: Vec<Server>,
}

/// Everything gathered from the file.
#[derive(Default)]
struct Parsed {
    backends: Vec<Backend>,
    default_backend: Option<String>,
    https: Option<bool>,
    /// `ssl` on a server line: the hop to the servers is re-encrypted.
    backend_tls: bool,
    tls_session_s: Option<f64>,
    unsimulated: Vec<Unsimulated>,
}

impl Parsed {
    fn skip(&mut self, line: &Line, why: impl Into<String>) {
        self.unsimulated.push(Unsimulated { line: line.number, text: line.text.trim().to_string(), why: why.into() });
    }
}

/// Read `text` as a `haproxy.cfg` over `base`: its balancer and web servers are replaced by
/// what the file says (a server's own non-HAProxy settings, such as workers, come from the base
/// server at the same position). The result is validated.
pub fn import_haproxy(text: &str, base: &Scenario) -> Result<Imported, ImportError> {
    let lines = split_lines(text)?;
    let mut parsed = Parsed::default();
    parse_sections(&lines, &mut parsed)?;
    let backend = choose_backend(&mut parsed)?;
    parsed.unsimulated.extend(differences(&backend));
    parsed.unsimulated.sort_by_key(|u| u.line);
    let mut lines_of = Vec::new();
    let scenario = build(base, &backend, &parsed, &mut lines_of)?;
    if let Some(p) = scenario.validate().into_iter().next() {
        let line = lines_of.iter().find(|(path, _)| p.path.starts_with(path.as_str())).map_or(0, |(_, l)| *l);
        return Err(error(line, format!("{}: {}", p.path, p.message)));
    }
    Ok(Imported { scenario, unsimulated: parsed.unsimulated })
}

fn split_lines(text: &str) -> Result<Vec<Line<'_>>, ImportError> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err(error(0, format!("the file has {} bytes: at most {MAX_CONFIG_BYTES} are read", text.len())));
    }
    let mut lines = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        if i >= MAX_CONFIG_LINES {
            return Err(error(i + 1, format!("more than {MAX_CONFIG_LINES} lines")));
        }
        if raw.contains('\0') {
            return Err(error(i + 1, "a NUL byte: this is not a text configuration"));
        }
        let code = raw.split('#').next().unwrap_or("");
        let words: Vec<&str> = code.split_whitespace().collect();
        if words.len() > MAX_WORDS_PER_LINE {
            return Err(error(i + 1, format!("{} words: at most {MAX_WORDS_PER_LINE} on a line", words.len())));
        }
        if !words.is_empty() {
            lines.push(Line { number: i + 1, text: raw, words });
        }
    }
    Ok(lines)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    None,
    Global,
    Defaults,
    Frontend,
    Backend,
    Other,
}

fn section_of(word: &str) -> Option<Section> {
    match word {
        "global" => Some(Section::Global),
        "defaults" => Some(Section::Defaults),
        "frontend" => Some(Section::Frontend),
        "backend" | "listen" => Some(Section::Backend),
        "peers" | "resolvers" | "userlist" | "mailers" | "program" | "http-errors" | "ring" | "cache"
        | "namespace_list" => Some(Section::Other),
        _ => None,
    }
}

fn parse_sections(lines: &[Line], parsed: &mut Parsed) -> Result<(), ImportError> {
    let mut section = Section::None;
    let mut defaults = Settings::default();
    for line in lines {
        let first = line.words[0];
        if let Some(next) = section_of(first) {
            section = next;
            if next == Section::Backend {
                let name = line.words.get(1).ok_or_else(|| error(line.number, format!("'{first}' needs a name")))?;
                parsed.backends.push(Backend {
                    name: name.to_string(),
                    settings: defaults.clone(),
                    servers: Vec::new(),
                });
                if first == "listen" {
                    parsed.https.get_or_insert(false);
                }
            } else if next == Section::Defaults {
                // A later `defaults` section starts from HAProxy's built-in values again.
                defaults = Settings::default();
            } else if next == Section::Frontend {
                parsed.https.get_or_insert(false);
            } else if next == Section::Other {
                parsed.skip(line, format!("a '{first}' section: the model has no counterpart"));
            }
            continue;
        }
        match section {
            Section::None => {
                return Err(error(line.number, format!("'{first}' outside any section (global, defaults, backend…)")))
            }
            Section::Global => global_line(line, parsed)?,
            Section::Defaults => {
                if !setting_line(line, &mut defaults, parsed)? {
                    parsed.skip(line, "a defaults setting the model has no counterpart for");
                }
            }
            Section::Frontend => frontend_line(line, parsed),
            Section::Backend => backend_line(line, parsed)?,
            Section::Other => parsed.skip(line, "inside a section the model has no counterpart for"),
        }
    }
    Ok(())
}

fn global_line(line: &Line, parsed: &mut Parsed) -> Result<(), ImportError> {
    if line.words[0] == "tune.ssl.lifetime" {
        let ms = time_word(line, 1)?;
        parsed.tls_session_s = Some(ms / 1_000.0);
    } else {
        parsed.skip(line, "a global setting the model does not simulate");
    }
    Ok(())
}

fn frontend_line(line: &Line, parsed: &mut Parsed) {
    match line.words[0] {
        "default_backend" if line.words.len() == 2 => parsed.default_backend = Some(line.words[1].to_string()),
        "bind" if line.words.contains(&"ssl") => {
            parsed.https = Some(true);
        }
        "bind" => {}
        _ => parsed.skip(line, "a frontend setting the model does not simulate"),
    }
}

fn backend_line(line: &Line, parsed: &mut Parsed) -> Result<(), ImportError> {
    let Some(mut backend) = parsed.backends.pop() else {
        return Err(error(line.number, "a backend setting outside a backend"));
    };
    let result = backend_line_in(line, &mut backend, parsed);
    parsed.backends.push(backend);
    result
}

fn backend_line_in(line: &Line, backend: &mut Backend, parsed: &mut Parsed) -> Result<(), ImportError> {
    match line.words[0] {
        "server" => {
            if backend.servers.len() >= MAX_WEB_SERVERS {
                return Err(error(line.number, format!("more than {MAX_WEB_SERVERS} servers in one backend")));
            }
            let (name, params) = server_line(line, &backend.settings.default_server, parsed)?;
            backend.servers.push(Server { line: line.number, name, params });
        }
        "bind" if line.words.contains(&"ssl") => parsed.https = Some(true),
        "bind" => {}
        _ => {
            if !setting_line(line, &mut backend.settings, parsed)? {
                parsed.skip(line, "a backend setting the model does not simulate");
            }
        }
    }
    Ok(())
}

/// A setting allowed in `defaults` and backends; false when it is not one the model reads.
fn setting_line(line: &Line, settings: &mut Settings, parsed: &mut Parsed) -> Result<bool, ImportError> {
    let w = &line.words;
    match (w[0], w.get(1).copied()) {
        ("balance", _) => settings.algorithm = Some(balance(line)?),
        ("retries", _) => settings.retries = Some((number_word(line, 1)?, line.number)),
        ("timeout", Some("queue")) => settings.timeout_queue_ms = Some((time_word(line, 2)?, line.number)),
        ("option", Some("redispatch")) => {
            if w.len() > 2 {
                parsed.skip(line, "the redispatch interval is not simulated (the model redispatches each time)");
            }
            settings.redispatch = Some(true);
        }
        ("no", Some("option")) if w.get(2) == Some(&"redispatch") => settings.redispatch = Some(false),
        ("option", Some("allbackups")) => settings.allbackups = Some(true),
        ("no", Some("option")) if w.get(2) == Some(&"allbackups") => settings.allbackups = Some(false),
        ("default-server", _) => {
            let start = settings.default_server.clone();
            settings.default_server = server_params(line, 1, start, parsed)?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn balance(line: &Line) -> Result<(Algorithm, u32), ImportError> {
    let Some(word) = line.words.get(1) else {
        return Err(error(line.number, "'balance' needs an algorithm"));
    };
    if let Some(rest) = word.strip_prefix("random") {
        let draws = match rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
            Some(n) => n.parse().map_err(|_| error(line.number, format!("'{word}': write random(2)")))?,
            None if rest.is_empty() => 2,
            None => return Err(error(line.number, format!("'{word}': write random or random(N)"))),
        };
        return Ok((Algorithm::Random, draws));
    }
    match Algorithm::parse(word) {
        Some(a) if a != Algorithm::Random => Ok((a, 2)),
        _ => Err(error(
            line.number,
            format!(
                "balance '{word}' is not simulated; the model has {}",
                Algorithm::ALL.iter().map(|a| a.name()).collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

fn server_line(
    line: &Line,
    defaults: &ServerParams,
    parsed: &mut Parsed,
) -> Result<(String, ServerParams), ImportError> {
    let (Some(name), Some(_address)) = (line.words.get(1), line.words.get(2)) else {
        return Err(error(line.number, "'server' needs a name and an address"));
    };
    let params = server_params(line, 3, defaults.clone(), parsed)?;
    Ok((name.to_string(), params))
}

/// Server keywords that take one argument and that the model does not simulate.
const UNSIMULATED_WITH_ARG: &[&str] = &[
    "addr",
    "agent-addr",
    "agent-inter",
    "agent-port",
    "agent-send",
    "alpn",
    "ca-file",
    "check-alpn",
    "check-proto",
    "check-sni",
    "cookie",
    "crt",
    "error-limit",
    "id",
    "init-addr",
    "log-proto",
    "max-reuse",
    "minconn",
    "namespace",
    "observe",
    "on-error",
    "on-marked-down",
    "on-marked-up",
    "pool-max-conn",
    "pool-purge-delay",
    "port",
    "proto",
    "redir",
    "resolve-prefer",
    "resolvers",
    "sni",
    "source",
    "track",
    "verify",
    "ws",
];

fn server_params(
    line: &Line,
    from: usize,
    mut p: ServerParams,
    parsed: &mut Parsed,
) -> Result<ServerParams, ImportError> {
    let mut i = from;
    let mut ignored = Vec::new();
    while let Some(&word) = line.words.get(i) {
        i += 1;
        match word {
            "weight" => p.weight = Some(number_word(line, i)?),
            "maxconn" => p.maxconn = Some(number_word(line, i)?),
            "maxqueue" => p.maxqueue = Some(number_word(line, i)?),
            "rise" => p.rise = Some(number_word(line, i)?),
            "fall" => p.fall = Some(number_word(line, i)?),
            "inter" => p.inter_ms = Some(time_word(line, i)?),
            "fastinter" => p.fastinter_ms = Some(time_word(line, i)?),
            "downinter" => p.downinter_ms = Some(time_word(line, i)?),
            "slowstart" => p.slowstart_ms = Some(time_word(line, i)?),
            "backup" => p.backup = true,
            "non-backup" => p.backup = false,
            "check" => p.check = true,
            "no-check" => p.check = false,
            "ssl" => parsed.backend_tls = true,
            other => {
                if UNSIMULATED_WITH_ARG.contains(&other) {
                    ignored.push(format!("{other} {}", line.words.get(i).copied().unwrap_or("")));
                    i += 1;
                } else {
                    ignored.push(other.to_string());
                }
                continue;
            }
        }
        if !matches!(word, "backup" | "non-backup" | "check" | "no-check" | "ssl") {
            i += 1;
        }
    }
    if !ignored.is_empty() {
        parsed.skip(line, format!("not simulated: {}", ignored.join(", ")));
    }
    Ok(p)
}

fn word<'a>(line: &Line<'a>, at: usize) -> Result<&'a str, ImportError> {
    let before = line.words.get(at.wrapping_sub(1)).copied().unwrap_or("");
    line.words.get(at).copied().ok_or_else(|| error(line.number, format!("'{before}' needs a value")))
}

fn number_word(line: &Line, at: usize) -> Result<u32, ImportError> {
    let w = word(line, at)?;
    w.parse().map_err(|_| error(line.number, format!("'{w}' is not a whole number")))
}

/// A time word in milliseconds: HAProxy's default unit is ms; `us`, `ms`, `s`, `m`, `h`, `d`.
fn time_word(line: &Line, at: usize) -> Result<f64, ImportError> {
    let w = word(line, at)?;
    parse_time_ms(w).ok_or_else(|| {
        error(line.number, format!("'{w}' is not a time; write 2000, 2000ms or 2s (units us, ms, s, m, h, d)"))
    })
}

/// `2s` → 2000.0; `250us` → 0.25; None when malformed or beyond HAProxy's longest timeout.
pub fn parse_time_ms(text: &str) -> Option<f64> {
    let digits_end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    let value: u64 = digits.parse().ok()?;
    let us_per_unit: u64 = match unit {
        "us" => 1,
        "" | "ms" => 1_000,
        "s" => 1_000_000,
        "m" => 60_000_000,
        "h" => 3_600_000_000,
        "d" => 86_400_000_000,
        _ => return None,
    };
    let us = value.checked_mul(us_per_unit)?;
    (us <= MAX_TIMEOUT_MS * 1_000).then_some(us as f64 / 1_000.0)
}

fn choose_backend(parsed: &mut Parsed) -> Result<Backend, ImportError> {
    let index = match &parsed.default_backend {
        Some(name) => parsed
            .backends
            .iter()
            .position(|b| &b.name == name)
            .ok_or_else(|| error(0, format!("default_backend '{name}' is not defined")))?,
        None => parsed
            .backends
            .iter()
            .position(|b| !b.servers.is_empty())
            .ok_or_else(|| error(0, "no backend with servers: nothing to simulate"))?,
    };
    let chosen = parsed.backends.swap_remove(index);
    if chosen.servers.is_empty() {
        return Err(error(0, format!("backend '{}' has no servers: nothing to simulate", chosen.name)));
    }
    for other in &parsed.backends {
        for s in &other.servers {
            parsed.unsimulated.push(Unsimulated {
                line: s.line,
                text: format!("server {} (backend {})", s.name, other.name),
                why: format!("the model simulates one backend, '{}'", chosen.name),
            });
        }
    }
    Ok(chosen)
}

/// The scenario: `base` with the backend's balancer settings and servers. `lines_of` gets the
/// line each field came from, so a validation problem can name its line.
fn build(
    base: &Scenario,
    backend: &Backend,
    parsed: &Parsed,
    lines_of: &mut Vec<(String, usize)>,
) -> Result<Scenario, ImportError> {
    let mut s = base.clone();
    let set = &backend.settings;
    let b = &mut s.balancer;
    let (algorithm, draws) = set.algorithm.unwrap_or((Algorithm::Roundrobin, 2));
    b.algorithm = algorithm;
    b.random_draws = draws;
    // HAProxy's own defaults where the file says nothing: retries 3, no redispatch.
    b.retries = set.retries.map_or(3, |(r, _)| r);
    b.redispatch = set.redispatch.unwrap_or(false);
    b.allbackups = set.allbackups.unwrap_or(false);
    // Without `timeout queue` HAProxy uses `timeout connect`; the model then waits without limit.
    b.timeout_queue_ms = set.timeout_queue_ms.map_or(0.0, |(ms, _)| if ms > 3_600_000.0 { 0.0 } else { ms });
    for (path, line) in [
        ("balancer.retries", set.retries.map(|r| r.1)),
        ("balancer.timeout_queue_ms", set.timeout_queue_ms.map(|t| t.1)),
    ] {
        if let Some(line) = line {
            lines_of.push((path.to_string(), line));
        }
    }
    let first = &backend.servers[0];
    let p = &first.params;
    b.health.inter_ms = p.inter_ms.unwrap_or(2_000.0);
    b.health.fastinter_ms = p.fastinter_ms.unwrap_or(0.0);
    b.health.downinter_ms = p.downinter_ms.unwrap_or(0.0);
    b.health.rise = p.rise.unwrap_or(2);
    b.health.fall = p.fall.unwrap_or(3);
    b.slowstart_ms = p.slowstart_ms.unwrap_or(0.0);
    b.maxqueue = backend.servers.iter().filter_map(|s| s.params.maxqueue).max().unwrap_or(0);
    for path in ["balancer.health", "balancer.slowstart_ms", "balancer.maxqueue"] {
        lines_of.push((path.to_string(), first.line));
    }
    if let Some(https) = parsed.https {
        s.security.https = https;
    }
    s.security.backend_tls = parsed.backend_tls;
    if let Some(lifetime_s) = parsed.tls_session_s {
        s.security.tls_session_s = lifetime_s;
    }
    s.web.servers = servers(base, backend, lines_of);
    Ok(s)
}

fn servers(base: &Scenario, backend: &Backend, lines_of: &mut Vec<(String, usize)>) -> Vec<WebServer> {
    let template = base.web.servers.last().cloned().unwrap_or_default();
    backend
        .servers
        .iter()
        .enumerate()
        .map(|(i, server)| {
            lines_of.push((format!("web.servers[{i}]"), server.line));
            let mut w = base.web.servers.get(i).cloned().unwrap_or_else(|| template.clone());
            w.weight = server.params.weight.unwrap_or(1);
            w.maxconn = server.params.maxconn.unwrap_or(0);
            w.backup = server.params.backup;
            w
        })
        .collect()
}

/// Lines where a server's settings differ from the first server's in ways the model cannot
/// hold (one check and slowstart setting for every server), or that have no `check`.
fn differences(backend: &Backend) -> Vec<Unsimulated> {
    let first = &backend.servers[0].params;
    let mut out = Vec::new();
    for server in &backend.servers {
        let p = &server.params;
        let same = (p.inter_ms, p.fastinter_ms, p.downinter_ms, p.rise, p.fall, p.slowstart_ms)
            == (first.inter_ms, first.fastinter_ms, first.downinter_ms, first.rise, first.fall, first.slowstart_ms);
        let mut why = Vec::new();
        if !same {
            why.push(format!(
                "its check/slowstart settings differ from {}'s; the model uses {}'s for every server",
                backend.servers[0].name, backend.servers[0].name
            ));
        }
        if !p.check {
            why.push("no 'check': the model health-checks every server".to_string());
        }
        if !why.is_empty() {
            out.push(Unsimulated { line: server.line, text: format!("server {}", server.name), why: why.join("; ") });
        }
    }
    out
}
