//! A run as URL query parameters, and back.
//!
//! A run is seed + scenario + command log (design rule 5), so a link can carry all of it:
//!
//! - `v=3`: the URL format; a link from a newer infrasim is refused rather than misread. A
//!   `v=1` link (made before machines) names the presets as they were then
//!   ([`super::presets_v1`]), a `v=2` link the presets before Nginx's static files and CPU
//!   time ([`super::preset_v2`]), and every parameter reads as it did.
//! - `preset=NAME`: the starting point (default `three-server`).
//! - `machines=…` (a setting like any other): the machines as `ID:CORES:COMPONENT/…` or
//!   `none` (one machine per component).
//! - `name=…`: the scenario's name, when it differs from the preset's.
//! - `key=value` for every setting that differs from the preset, with the keys of the flat
//!   settings table (`traffic.arrival_rate_per_s=250`, `balancer.algorithm=leastconn`), so a
//!   teacher can read and edit a link by hand.
//! - `scenario=…`: only when a setting has no key (one server slower than the others, a renamed
//!   scenario): the whole scenario as JSON, base64url-encoded. It replaces the preset.
//! - `seed=N`, `speed=F` (simulated seconds per wall second), `step=N` (lesson step, from 1),
//!   `embed=1` (compact layout for an iframe), `t=MS` (the simulated time the link was made at).
//! - `cmds=…`: the command log, JSON base64url-encoded.
//!
//! Decoding never panics and reports every problem with its path (the parameter name, or a
//! field path inside `scenario`/`cmds`).

use super::{
    apply_setting, preset, preset_names_v1, preset_v1, preset_v2, setting_docs, setting_value, Problem, Scenario,
};
use crate::sim::{Command, CommandKind};
use serde_json::Value;

/// The URL format this build writes; it reads this and every earlier one. Format 2 came with
/// machines: `preset=three-server` in a format-1 link is the design before machines (one
/// machine per node), in format 2 the course's co-located three servers. Format 3: the course
/// presets' Nginx answers static files and spends CPU time of its own.
pub const URL_VERSION: u32 = 3;
/// The preset a link without `preset=` starts from.
pub const DEFAULT_PRESET: &str = "three-server";
/// Longest link query read, in characters. The largest legitimate link (128 different servers
/// as `scenario=` and a log of [`MAX_LINK_COMMANDS`] commands) is about 400,000.
pub const MAX_LINK_CHARS: usize = 500_000;
/// Most commands a link's log may carry (a long session of slider moves makes a few thousand).
pub const MAX_LINK_COMMANDS: usize = 5_000;
/// Most requests a link may make the page replay (arrival rate × time, summed over the log):
/// opening a link rebuilds the run from its start, and more would freeze the tab for long.
pub const MAX_LINK_REPLAY_REQUESTS: f64 = 10_000_000.0;

/// Everything a link carries.
#[derive(Clone, Debug, PartialEq)]
pub struct UrlState {
    /// The preset the scenario starts from: a name in `PRESETS` or an old name of one
    /// (`PRESET_ALIASES`); from a `v=1` link, a name in `PRESETS_V1`, whose design it then has.
    pub preset: String,
    /// The scenario as the run started (before any command), seed included.
    pub scenario: Scenario,
    /// Simulated seconds per wall second to start at (`None`: the page's default).
    pub speed: Option<f64>,
    /// Lesson step, from 1.
    pub step: Option<u32>,
    /// Compact layout for an iframe.
    pub embed: bool,
    /// Simulated time the link was made at, microseconds (`None`: the last command's time).
    pub at_us: Option<u64>,
    /// The command log, in time order.
    pub commands: Vec<Command>,
}

impl Default for UrlState {
    fn default() -> Self {
        UrlState {
            preset: DEFAULT_PRESET.into(),
            scenario: preset(DEFAULT_PRESET).unwrap_or_default(),
            speed: None,
            step: None,
            embed: false,
            at_us: None,
            commands: Vec::new(),
        }
    }
}

impl UrlState {
    /// A state for a scenario started from `preset_name`, with nothing else set.
    pub fn new(preset_name: &str, scenario: Scenario) -> UrlState {
        UrlState { preset: preset_name.into(), scenario, ..UrlState::default() }
    }

    /// Simulated time to rebuild the run to: the time given, or the last command's.
    pub fn target_us(&self) -> u64 {
        self.at_us.unwrap_or_else(|| self.commands.last().map_or(0, |c| c.at_us))
    }
}

/// Parameters that are not setting keys.
const PARAMS: [&str; 10] = ["v", "preset", "scenario", "seed", "speed", "step", "embed", "t", "cmds", "name"];

// ---------------------------------------------------------------------------------------------
// Encoding

/// Most of the decoder's problems quoted when a run cannot be shared (the rest are counted).
const SHARE_PROBLEMS_QUOTED: usize = 3;

/// The query string of a link that reproduces `state`, or why sharing it now would make a link
/// the page refuses to open (more than [`MAX_LINK_COMMANDS`] commands, more than
/// [`MAX_LINK_REPLAY_REQUESTS`] to replay, longer than [`MAX_LINK_CHARS`]) and what to do. The
/// link is decoded back here, so the verdict is exactly the one opening it would get.
pub fn shareable_link(state: &UrlState) -> Result<String, String> {
    let query = encode(state);
    let Err(problems) = decode(&query) else { return Ok(query) };
    let mut quoted: Vec<String> = problems.iter().take(SHARE_PROBLEMS_QUOTED).map(ToString::to_string).collect();
    if problems.len() > SHARE_PROBLEMS_QUOTED {
        quoted.push(format!("and {} more", problems.len() - SHARE_PROBLEMS_QUOTED));
    }
    Err(format!(
        "This run cannot be shared as a link: {}. Go back in time to an earlier moment and share from there, \
         or reset the run and share a shorter one.",
        quoted.join("; ")
    ))
}

/// The query string (without `?`) for a state.
pub fn encode(state: &UrlState) -> String {
    let mut out: Vec<(String, String)> = vec![("v".into(), URL_VERSION.to_string())];
    let base_name = if preset(&state.preset).is_some() { state.preset.as_str() } else { DEFAULT_PRESET };
    out.push(("preset".into(), base_name.into()));
    match readable_settings(base_name, &state.scenario) {
        Some(settings) => out.extend(settings),
        None => {
            let json = serde_json::to_value(&state.scenario).map(|v| v.to_string()).unwrap_or_default();
            out.push(("scenario".into(), base64url_encode(json.as_bytes())));
        }
    }
    out.push(("seed".into(), state.scenario.seed.to_string()));
    if let Some(speed) = state.speed {
        out.push(("speed".into(), number_text(speed)));
    }
    if let Some(step) = state.step {
        out.push(("step".into(), step.to_string()));
    }
    if state.embed {
        out.push(("embed".into(), "1".into()));
    }
    if let Some(at) = state.at_us {
        out.push(("t".into(), number_text(at as f64 / 1_000.0)));
    }
    if !state.commands.is_empty() {
        let json = serde_json::to_value(&state.commands).map(|v| v.to_string()).unwrap_or_default();
        out.push(("cmds".into(), base64url_encode(json.as_bytes())));
    }
    out.iter().map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v))).collect::<Vec<_>>().join("&")
}

/// `key=value` settings (and `name=`) that turn preset `base_name` into `scenario` (seed
/// aside), or `None` when some difference has no key. Verified by applying them: what is returned reproduces the
/// scenario exactly.
fn readable_settings(base_name: &str, scenario: &Scenario) -> Option<Vec<(String, String)>> {
    let mut cur = preset(base_name)?;
    let mut out = Vec::new();
    let set = |cur: &mut Scenario, key: &str, value: String, out: &mut Vec<(String, String)>| -> Option<()> {
        apply_setting(cur, key, &value).ok()?;
        out.push((key.to_string(), value));
        Some(())
    };
    if cur.web.servers.len() != scenario.web.servers.len() {
        set(&mut cur, "web.count", scenario.web.servers.len().to_string(), &mut out)?;
    }
    for doc in setting_docs() {
        if doc.key == "seed" || doc.key == "web.count" {
            continue;
        }
        // Read through the settings table, so the text is what `apply_setting` reads back.
        let Some(want) = setting_value(scenario, doc.key) else { continue };
        let have = setting_value(&cur, doc.key);
        if have.as_ref() != Some(&want) {
            set(&mut cur, doc.key, want, &mut out)?;
        }
    }
    if cur.name != scenario.name {
        cur.name = scenario.name.clone();
        out.push(("name".into(), scenario.name.clone()));
    }
    cur.seed = scenario.seed;
    (cur == *scenario).then_some(out)
}

/// The shortest text that parses back to the same f64 (`100`, `0.25`).
fn number_text(v: f64) -> String {
    format!("{v}")
}

// ---------------------------------------------------------------------------------------------
// Decoding

/// Read a query string (with or without the leading `?`). Every problem is reported, each with
/// its path; nothing panics whatever the input.
pub fn decode(query: &str) -> Result<UrlState, Vec<Problem>> {
    let query = query.strip_prefix('?').unwrap_or(query);
    if query.len() > MAX_LINK_CHARS {
        let message = format!("the link has {} characters; a link may have at most {MAX_LINK_CHARS}", query.len());
        return Err(vec![problem("(link)", message)]);
    }
    decode_params(query).map_err(super::cap_problems)
}

/// [`decode`] of a query of bounded length.
fn decode_params(query: &str) -> Result<UrlState, Vec<Problem>> {
    let mut problems = Vec::new();
    let params = split_params(query, &mut problems);
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    check_param_names(&params, &mut problems);
    let format = read_format(get("v"), &mut problems);
    let mut state = UrlState { scenario: preset_of_format(format, DEFAULT_PRESET), ..UrlState::default() };
    let preset_ok = read_preset(&mut state, get("preset"), format, &mut problems);
    if let Some(text) = get("scenario") {
        read_scenario_param(&mut state, text, &mut problems);
    }
    apply_setting_params(&mut state.scenario, &params, &mut problems);
    read_run_params(&mut state, &get, &mut problems);
    if let Some(name) = get("name") {
        state.scenario.name = name.to_string();
    }
    if preset_ok && problems.is_empty() {
        problems.extend(state.scenario.validate());
    }
    check_time_after_commands(&state, &mut problems);
    if problems.is_empty() {
        check_replay_work(&state)?;
        Ok(state)
    } else {
        Err(problems)
    }
}

/// The `key=value` pairs of a query, percent-decoded, each name once.
fn split_params(query: &str, problems: &mut Vec<Problem>) -> Vec<(String, String)> {
    let mut params: Vec<(String, String)> = Vec::new();
    for (i, part) in query.split('&').enumerate() {
        if part.is_empty() {
            continue;
        }
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let key = match percent_decode(k) {
            Ok(key) => key,
            Err(e) => {
                problems.push(problem(format!("(parameter {})", i + 1), format!("the name {e}")));
                continue;
            }
        };
        let value = match percent_decode(v) {
            Ok(value) => value,
            Err(e) => {
                problems.push(problem(&key, format!("the value {e}")));
                continue;
            }
        };
        if params.iter().any(|(seen, _)| *seen == key) {
            problems.push(problem(&key, "given more than once; give it once"));
            continue;
        }
        params.push((key, value));
    }
    params
}

/// Whether `key` is a setting of the table.
fn is_setting(key: &str) -> bool {
    super::setting(key).is_some()
}

/// A problem for every parameter that is neither a link parameter nor a setting key.
fn check_param_names(params: &[(String, String)], problems: &mut Vec<Problem>) {
    for (k, _) in params {
        if !PARAMS.contains(&k.as_str()) && !is_setting(k) {
            let message = format!(
                "unknown parameter; allowed: {} or a setting key such as traffic.arrival_rate_per_s",
                PARAMS.join(", ")
            );
            problems.push(problem(k, message));
        }
    }
}

/// The link format of `v=` (absent: this build's); a newer or impossible one is a problem.
fn read_format(v: Option<&str>, problems: &mut Vec<Problem>) -> u32 {
    let Some(v) = v else { return URL_VERSION };
    match v.trim().parse::<u32>() {
        Ok(n) if n > URL_VERSION => problems.push(problem(
            "v",
            format!("this link was made by a newer infrasim (format {n}); this one reads formats 1 to {URL_VERSION}"),
        )),
        Ok(0) => problems.push(problem("v", format!("format 0 does not exist: use {URL_VERSION}"))),
        Ok(n) => return n,
        Err(_) => problems.push(problem("v", format!("'{v}' is not a whole number; allowed 1 to {URL_VERSION}"))),
    }
    URL_VERSION
}

/// The presets a link of `format` names: format 1 meant the designs before machines.
fn preset_of_format(format: u32, name: &str) -> Scenario {
    preset_in_format(format, name).unwrap_or_default()
}

/// The preset `name` as a link of `format` means it.
fn preset_in_format(format: u32, name: &str) -> Option<Scenario> {
    match format {
        1 => preset_v1(name),
        2 => preset_v2(name),
        _ => preset(name),
    }
}

/// Start `state` from `preset=NAME` as the link's format means it; false when there is no
/// such preset (then the scenario is not validated: every setting would be reported against
/// the wrong design).
fn read_preset(state: &mut UrlState, name: Option<&str>, format: u32, problems: &mut Vec<Problem>) -> bool {
    let Some(name) = name else { return true };
    let name = name.trim();
    let found = preset_in_format(format, name);
    match found {
        Some(s) => {
            state.preset = name.to_string();
            state.scenario = s;
            true
        }
        None => {
            let names = if format == 1 { preset_names_v1() } else { super::preset_names() };
            problems.push(problem("preset", format!("no preset '{name}'; allowed: {}", names.join(", "))));
            false
        }
    }
}

/// `scenario=`: the whole scenario as base64url JSON, replacing the preset.
fn read_scenario_param(state: &mut UrlState, text: &str, problems: &mut Vec<Problem>) {
    let json = match base64url_decode(text).map(String::from_utf8) {
        Err(e) => return problems.push(problem("scenario", e)),
        Ok(Err(_)) => return problems.push(problem("scenario", "the decoded scenario is not UTF-8 text")),
        Ok(Ok(json)) => json,
    };
    match Scenario::from_json(&json) {
        Ok(s) => state.scenario = s,
        Err(found) => problems.extend(found.into_iter().map(|p| Problem {
            path: if p.path == "(file)" { "scenario".into() } else { format!("scenario.{}", p.path) },
            message: p.message,
        })),
    }
}

/// When a setting is applied: the server count first (weights and backups name servers by
/// number), the machines last (they name components of every count), the rest as given.
fn setting_order(key: &str) -> u8 {
    match key {
        "web.count" => 0,
        "machines" | "machines.cores" => 2,
        _ => 1,
    }
}

/// Apply every setting parameter to the scenario, in [`setting_order`].
fn apply_setting_params(scenario: &mut Scenario, params: &[(String, String)], problems: &mut Vec<Problem>) {
    let mut settings: Vec<&(String, String)> = params.iter().filter(|(k, _)| is_setting(k) && k != "seed").collect();
    settings.sort_by_key(|(k, _)| setting_order(k));
    for (k, v) in settings {
        if let Err(e) = apply_setting(scenario, k, v) {
            problems.push(problem(k, e.message));
        }
    }
}

/// `seed`, `speed`, `step`, `embed`, `t` and `cmds`.
fn read_run_params<'a>(state: &mut UrlState, get: &dyn Fn(&str) -> Option<&'a str>, problems: &mut Vec<Problem>) {
    if let Some(v) = get("seed") {
        match v.trim().parse::<u64>() {
            Ok(seed) => state.scenario.seed = seed,
            Err(_) => problems.push(problem("seed", format!("'{v}' is not a whole number from 0 to 2^64-1"))),
        }
    }
    if let Some(v) = get("speed") {
        match v.trim().parse::<f64>() {
            Ok(f) if (CommandKind::SetSpeed { factor: f }).check(1).is_ok() => state.speed = Some(f),
            _ => problems.push(problem("speed", format!("'{v}' is not allowed; allowed a number from 0.01 to 1000"))),
        }
    }
    if let Some(v) = get("step") {
        match v.trim().parse::<u32>() {
            Ok(n) if n >= 1 => state.step = Some(n),
            _ => problems.push(problem("step", format!("'{v}' is not a lesson step; allowed a whole number from 1"))),
        }
    }
    if let Some(v) = get("embed") {
        match v.trim() {
            "1" | "true" | "on" | "yes" | "" => state.embed = true,
            "0" | "false" | "off" | "no" => state.embed = false,
            other => problems.push(problem("embed", format!("'{other}' is not allowed; allowed 1 or 0"))),
        }
    }
    if let Some(v) = get("t") {
        match v.trim().parse::<f64>() {
            Ok(ms) if ms.is_finite() && (0.0..=1e12).contains(&ms) => state.at_us = Some((ms * 1_000.0).round() as u64),
            _ => problems.push(problem("t", format!("'{v}' is not a time; allowed milliseconds from 0 to 1e12"))),
        }
    }
    if let Some(text) = get("cmds") {
        match decode_commands(text) {
            Ok(commands) => state.commands = commands,
            Err(found) => problems.extend(found),
        }
    }
}

/// A link's time may not come before its last command.
fn check_time_after_commands(state: &UrlState, problems: &mut Vec<Problem>) {
    if let (Some(at), Some(last)) = (state.at_us, state.commands.last()) {
        if last.at_us > at {
            problems.push(problem(
                "t",
                format!("{} ms is before the last command ({} ms)", at / 1_000, last.at_us / 1_000),
            ));
        }
    }
}

/// The link format of a query (`v=`, 1 or later), so the page can say that a link was made by
/// an earlier version; a query without `v=` is this build's format.
pub fn link_format(query: &str) -> u32 {
    let query = query.strip_prefix('?').unwrap_or(query);
    let v = query.split('&').find_map(|part| part.strip_prefix("v="));
    v.and_then(|v| v.trim().parse().ok()).unwrap_or(URL_VERSION)
}

/// Refuse a link whose run would take too long to rebuild: about how many requests arrive
/// from the start to the link's time, with every burst at its full multiplier.
fn check_replay_work(state: &UrlState) -> Result<(), Vec<Problem>> {
    let burst = &state.scenario.traffic.burst;
    let factor = if burst.enabled { burst.multiplier.max(1.0) } else { 1.0 };
    let (mut rate, mut since_us, mut requests) = (state.scenario.traffic.arrival_rate_per_s, 0u64, 0.0);
    for c in &state.commands {
        if let CommandKind::SetArrivalRate { per_s } = c.what {
            requests += rate * c.at_us.saturating_sub(since_us) as f64 / 1e6;
            (rate, since_us) = (per_s, c.at_us);
        }
    }
    requests += rate * state.target_us().saturating_sub(since_us) as f64 / 1e6;
    requests *= factor;
    if requests > MAX_LINK_REPLAY_REQUESTS {
        let message = format!(
            "opening this link would replay about {requests:.0} requests (rate × time up to {} s); \
             a link may replay at most {MAX_LINK_REPLAY_REQUESTS:.0}: make it at an earlier time or a lower rate",
            state.target_us() / 1_000_000
        );
        return Err(vec![problem("t", message)]);
    }
    Ok(())
}

/// The command log from its `cmds=` text: base64url of a JSON list of commands in time order.
fn decode_commands(text: &str) -> Result<Vec<Command>, Vec<Problem>> {
    let bytes = base64url_decode(text).map_err(|e| vec![problem("cmds", e)])?;
    let json = String::from_utf8(bytes).map_err(|_| vec![problem("cmds", "the decoded log is not UTF-8 text")])?;
    let value: Value =
        serde_json::from_str(&json).map_err(|e| vec![problem("cmds", format!("not valid JSON: {e}"))])?;
    let Value::Array(items) = value else {
        return Err(vec![problem("cmds", "the command log is a JSON list")]);
    };
    if items.len() > MAX_LINK_COMMANDS {
        let message = format!("{} commands; a link may carry at most {MAX_LINK_COMMANDS}", items.len());
        return Err(vec![problem("cmds", message)]);
    }
    let mut problems = Vec::new();
    let mut commands = Vec::with_capacity(items.len());
    let mut last_at = 0;
    for (i, item) in items.iter().enumerate() {
        let path = format!("cmds[{i}]");
        match Command::from_json(item) {
            Ok(c) => {
                if let Err(e) = c.what.check(super::MAX_WEB_SERVERS) {
                    problems.push(problem(format!("{path}.what"), e));
                } else if c.at_us < last_at {
                    problems.push(problem(format!("{path}.at_us"), "earlier than the command before it"));
                } else {
                    last_at = c.at_us;
                    commands.push(c);
                }
            }
            // A wrong `what` is reported on the command itself, the time on its field.
            Err(("at_us", e)) => problems.push(problem(format!("{path}.at_us"), e)),
            Err((_, e)) => problems.push(problem(path, e)),
        }
    }
    if problems.is_empty() {
        Ok(commands)
    } else {
        Err(problems)
    }
}

fn problem(path: impl Into<String>, message: impl Into<String>) -> Problem {
    let path = path.into();
    let path = if path.trim().is_empty() { "(a parameter with no name)".to_string() } else { path };
    Problem { path, message: message.into() }
}

// ---------------------------------------------------------------------------------------------
// Codecs

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// base64url without padding (RFC 4648 §5).
pub fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for k in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * k) & 63) as usize] as char);
        }
    }
    out
}

/// Decode base64url; `=` padding and standard `+`/`/` are accepted too.
pub fn base64url_decode(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim().trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for (i, c) in text.bytes().enumerate() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => {
                return Err(format!(
                    "not base64url: character {} ('{}') is not allowed",
                    i + 1,
                    (c as char).escape_default()
                ))
            }
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if text.len() % 4 == 1 {
        return Err("not base64url: the text is cut short".into());
    }
    Ok(out)
}

/// Percent-encode everything but unreserved characters and `,`, `:` and `/` (readable lists
/// and machines; a query may carry `:` and `/` as they are, RFC 3986 §3.4).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b',' | b':' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decode `%XX` escapes and `+` (a space in form encoding).
pub fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => out.push(b),
                    None => {
                        return Err(format!("has a bad escape at character {}: use %XX with two hex digits", i + 1))
                    }
                }
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| "is not UTF-8 text once decoded".to_string())
}
