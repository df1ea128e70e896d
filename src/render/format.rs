//! Words and numbers the page and the canvas show, and the scales of its sliders. Pure, so the
//! wording and the slider arithmetic are tested natively.

use crate::scenario::Algorithm;
use crate::sim::metrics::FailCause;
use crate::sim::view::{DbView, WebView};
use crate::sim::SimTime;

/// The page's introduction. index.html shows it too, while the WebAssembly loads, so that
/// text is on screen at once; a unit test keeps the two copies equal.
pub const PAGE_INTRO: &str = "A visitor's browser looks up www.foobar.com in DNS and reaches lb1, an HAProxy load \
    balancer, which passes each request to one of the web servers (Nginx in front of the application). The \
    application reads from a MySQL replica and writes to the primary, which copies every change to the replicas. \
    It is all a discrete-event simulation running in your browser: change the traffic or the balancing and watch \
    queues, latency and errors respond.";

/// The traffic slider runs from 0 to this, on a log scale from 1 to 10 000 requests/s.
pub const RATE_SLIDER_MAX: u32 = 1_000;
/// Slider steps per decade of traffic.
const RATE_STEPS_PER_DECADE: f64 = 250.0;
pub const RATE_MIN_PER_S: f64 = 1.0;
pub const RATE_MAX_PER_S: f64 = 10_000.0;

/// Speeds offered by the speed selector (simulated seconds per wall second).
pub const SPEEDS: [f64; 10] = [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0];

/// Most servers the page's server-count slider offers.
pub const MAX_SERVERS_UI: u16 = 32;

/// A failure cause in a word or two, for the dashboard and the figures. Every cause is
/// spelt out, so a new cause does not compile until it has its words.
pub fn cause_words(cause: FailCause) -> String {
    match cause {
        FailCause::QueueFull => "queue full",
        FailCause::QueueTimeout => "queue timeout",
        FailCause::NoServer => "no server",
        FailCause::ConnectFailed => "refused",
        FailCause::ServerDied => "server died",
        FailCause::AppDown => "app down",
        FailCause::DbDown => "db down",
        FailCause::LbDown => "lb down",
        FailCause::DnsFailure => "DNS failed",
        FailCause::Unreachable => "unreachable",
        FailCause::ModelLimit => "beyond the model's limit",
    }
    .into()
}

/// Round to three significant digits (a slider value should read as a plain number).
fn three_digits(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 0.0;
    }
    let magnitude = 10f64.powi(v.log10().floor() as i32 - 2);
    (v / magnitude).round() * magnitude
}

/// Requests per second for a traffic slider position (0 → 1/s, 500 → 100/s, 1000 → 10 000/s).
pub fn rate_from_slider(position: u32) -> f64 {
    let p = position.min(RATE_SLIDER_MAX) as f64;
    three_digits(10f64.powf(p / RATE_STEPS_PER_DECADE)).clamp(RATE_MIN_PER_S, RATE_MAX_PER_S)
}

/// The slider position closest to a rate (rates outside 1..10 000 pin to the ends).
pub fn slider_from_rate(per_s: f64) -> u32 {
    if !per_s.is_finite() || per_s <= RATE_MIN_PER_S {
        return 0;
    }
    let p = (per_s.log10() * RATE_STEPS_PER_DECADE).round();
    p.clamp(0.0, RATE_SLIDER_MAX as f64) as u32
}

/// Group the thousands of a whole number: 12345 → "12,345".
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A count in at most five characters: "9,999", "33.8k", "338k", "1.2M".
pub fn compact(n: u64) -> String {
    if n < 10_000 {
        count(n)
    } else if n < 100_000 {
        format!("{:.1}k", n as f64 / 1e3)
    } else if n < 1_000_000 {
        format!("{:.0}k", n as f64 / 1e3)
    } else if n < 100_000_000 {
        format!("{:.1}M", n as f64 / 1e6)
    } else {
        format!("{:.0}M", n as f64 / 1e6)
    }
}

/// A rate in requests per second, without the unit: "0.5", "12", "1,200".
pub fn rate(per_s: f64) -> String {
    if !per_s.is_finite() || per_s < 0.0 {
        "–".into()
    } else if per_s < 10.0 && per_s.fract().abs() > 1e-9 {
        format!("{per_s:.1}")
    } else {
        count(per_s.round() as u64)
    }
}

/// A duration in milliseconds with sensible precision: "0.84 ms", "23.1 ms", "412 ms", "5.2 s".
/// A single-point-of-failure verdict as the page words it, and its tone (a CSS class).
pub fn spof_effect(effect: crate::sim::spof::Effect) -> (&'static str, &'static str) {
    use crate::sim::spof::Effect;
    match effect {
        Effect::SiteDown => ("site down", "bad"),
        Effect::WritesBlocked => ("writes blocked", "warn"),
        Effect::Degraded => ("degraded", "plain"),
        Effect::None => ("no effect", "good"),
        Effect::InsufficientTraffic => ("too little traffic to tell", "plain"),
    }
}

/// Why some failures got no verdict, or nothing when every one got one.
pub fn spof_no_verdict(targets: &[String]) -> Option<String> {
    (!targets.is_empty()).then(|| {
        format!(
            "Too little traffic to judge {} of the failures ({}): fewer than {} requests were answered while \
             measuring. Raise the arrival rate and check again.",
            targets.len(),
            targets.join(", "),
            crate::sim::spof::MIN_ANSWERED_FOR_VERDICT
        )
    })
}

/// A run's availability as a percentage, or a dash with the reason when nothing was answered
/// (then the run says nothing about availability either way).
pub fn availability(a: Option<f64>) -> String {
    match a {
        Some(v) => format!("{:.2} %", v * 100.0),
        None => "– (nothing answered yet)".into(),
    }
}

pub fn ms(v: f64) -> String {
    if !v.is_finite() || v < 0.0 {
        "–".into()
    } else if v < 10.0 {
        format!("{v:.2} ms")
    } else if v < 100.0 {
        format!("{v:.1} ms")
    } else if v < 10_000.0 {
        format!("{v:.0} ms")
    } else {
        format!("{:.1} s", v / 1_000.0)
    }
}

/// Simulated time: "12.3 s", "4 min 05 s", "2 h 03 min".
pub fn sim_time(us: SimTime) -> String {
    let s = us as f64 / 1e6;
    if s < 60.0 {
        format!("{s:.1} s")
    } else if s < 3_600.0 {
        let whole = s as u64;
        format!("{} min {:02} s", whole / 60, whole % 60)
    } else {
        let whole = s as u64;
        format!("{} h {:02} min", whole / 3_600, (whole % 3_600) / 60)
    }
}

/// A speed factor: "0.25×", "1×", "100×".
pub fn speed(factor: f64) -> String {
    if (factor - factor.round()).abs() < 1e-9 {
        format!("{}×", factor.round() as u64)
    } else {
        format!("{}×", (factor * 100.0).round() / 100.0)
    }
}

/// What the balancer box says it runs: HAProxy and its `balance` line.
pub fn lb_role(algorithm: Algorithm, draws: u32) -> String {
    match algorithm {
        Algorithm::Random => format!("HAProxy · random({draws})"),
        a => format!("HAProxy · {}", a.name()),
    }
}

/// How a line of text should read: as usual, as a warning, or as a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Normal,
    Warn,
    Bad,
}

/// The second line of a web server box, and its tone. `fall` and `rise` are the health
/// checks' thresholds, so a half-way state reads "check failed 1/3".
pub fn web_role(w: &WebView, fall: u32, rise: u32) -> (String, Tone) {
    role_of_web(w, fall, rise, "Nginx + app")
}

/// The same for the Nginx chip of a machine drawn as a machine, where the application has a
/// chip of its own: a healthy Nginx is simply serving.
pub fn nginx_chip_role(w: &WebView, fall: u32, rise: u32) -> (String, Tone) {
    role_of_web(w, fall, rise, "serving")
}

/// A web server's state in words, `serving` being the words for a healthy one in the pool.
fn role_of_web(w: &WebView, fall: u32, rise: u32, serving: &str) -> (String, Tone) {
    use crate::sim::HealthState as H;
    let mut role = if !w.active {
        return ("removed · finishing".into(), Tone::Normal);
    } else if !w.alive {
        return match w.health {
            H::Up | H::Starting => ("crashed · checks still say up".into(), Tone::Bad),
            H::Suspect(n) => (format!("crashed · check failed {n}/{fall}"), Tone::Bad),
            H::Down | H::Rising(_) => ("down".into(), Tone::Bad),
        };
    } else {
        match w.health {
            H::Down => return ("up, but marked down by checks".into(), Tone::Warn),
            H::Rising(n) => return (format!("recovering · check passed {n}/{rise}"), Tone::Warn),
            H::Suspect(n) => return (format!("suspect · check failed {n}/{fall}"), Tone::Warn),
            H::Up | H::Starting if w.backup && !w.in_pool => "standby (backup)".to_string(),
            H::Up | H::Starting if w.backup => "backup · now serving".to_string(),
            H::Up | H::Starting if w.weight == 0 => "draining (weight 0)".to_string(),
            H::Up | H::Starting => serving.to_string(),
        }
    };
    if w.slow > 1.0 + 1e-9 {
        role.push_str(&format!(" · {}× slower", (w.slow * 10.0).round() / 10.0));
        return (role, Tone::Warn);
    }
    (role, Tone::Normal)
}

/// A short tag for a server whose state is not plain "serving" (the page's server table).
pub fn web_tag(w: &WebView) -> Option<(String, Tone)> {
    use crate::sim::HealthState as H;
    if !w.active {
        Some(("removed".into(), Tone::Normal))
    } else if !w.alive {
        Some((if w.health.is_up() { "crashed" } else { "down" }.into(), Tone::Bad))
    } else if !w.health.is_up() {
        Some((if matches!(w.health, H::Rising(_)) { "recovering" } else { "checks: down" }.into(), Tone::Warn))
    } else if matches!(w.health, H::Suspect(_)) {
        Some(("suspect".into(), Tone::Warn))
    } else if w.slow > 1.0 + 1e-9 {
        Some((format!("{}× slower", (w.slow * 10.0).round() / 10.0), Tone::Warn))
    } else if w.weight == 0 {
        Some(("draining".into(), Tone::Normal))
    } else if w.backup && !w.in_pool {
        Some(("standby".into(), Tone::Normal))
    } else if w.backup {
        Some(("backup serving".into(), Tone::Warn))
    } else {
        None
    }
}

/// What the balancer's health checks believe of a server, HAProxy-style ("UP", "DOWN 1/2").
pub fn health_words(h: crate::sim::HealthState, fall: u32, rise: u32) -> String {
    use crate::sim::HealthState as H;
    match h {
        H::Starting => "UP, not checked yet".into(),
        H::Up => "UP".into(),
        H::Suspect(n) => format!("UP, {n}/{fall} failed"),
        H::Down => "DOWN".into(),
        H::Rising(n) => format!("DOWN, {n}/{rise} passed"),
    }
}

/// A replica's lag in words: "in sync", "lag 3 ms", "lag 12.3 s".
pub fn lag(lag_ms: f64) -> String {
    if lag_ms < 0.5 {
        "in sync".into()
    } else if lag_ms < 10_000.0 {
        format!("lag {lag_ms:.0} ms")
    } else {
        format!("lag {:.1} s", lag_ms / 1_000.0)
    }
}

/// The second line of a database box and its tone: "MySQL primary", "replica · lag 3 ms",
/// "promoting…", "fenced", "second primary".
pub fn db_role(d: &DbView) -> (String, Tone) {
    use crate::sim::DbRole as R;
    if !d.alive {
        return if matches!(d.role, R::Primary | R::SecondPrimary) {
            ("primary · down".into(), Tone::Bad)
        } else {
            ("down · out of the cluster".into(), Tone::Bad)
        };
    }
    match d.role {
        R::Primary => ("MySQL · writes here".into(), Tone::Normal),
        R::Replica => match d.reported_lag {
            // Seconds_Behind_Master is NULL: nothing arrives, so nobody knows how far behind.
            crate::sim::ReportedLag::Unknown => ("replica · lag unknown (nothing received)".into(), Tone::Warn),
            crate::sim::ReportedLag::Ms(_) => {
                let tone = if d.lag_ms >= 100.0 { Tone::Warn } else { Tone::Normal };
                (format!("replica · {}", lag(d.lag_ms)), tone)
            }
        },
        R::Promoting => ("promoting to primary…".into(), Tone::Warn),
        R::Fenced => ("fenced: old primary, shut out".into(), Tone::Warn),
        R::SecondPrimary => ("second primary! split brain".into(), Tone::Bad),
        R::Diverged => ("diverged: writes the primary lacks · rebuild it".into(), Tone::Bad),
        R::Rebuilding => ("rebuilding: copying the primary…".into(), Tone::Warn),
    }
}

/// A database node's role in one word, for tables and alerts.
pub fn db_role_word(role: crate::sim::DbRole) -> &'static str {
    use crate::sim::DbRole as R;
    match role {
        R::Primary => "primary",
        R::Replica => "replica",
        R::Promoting => "promoting",
        R::Fenced => "fenced",
        R::SecondPrimary => "second primary",
        R::Diverged => "diverged",
        R::Rebuilding => "rebuilding",
    }
}

/// A balancer's state in a pair, and its tone; `None` for a lone balancer that is up.
pub fn lb_status(lb: &crate::sim::view::LbView, pair: bool, dns: bool) -> Option<(String, Tone)> {
    use crate::sim::VrrpRole;
    if !lb.alive && lb.holds_ip && pair && !dns {
        Some(("HAProxy down · holds the IP: refused".into(), Tone::Bad))
    } else if !lb.alive {
        Some(("down".into(), Tone::Bad))
    } else if !pair {
        None
    } else if dns {
        Some(("active · own DNS record".into(), Tone::Normal))
    } else if !lb.keepalived && lb.stale_ip {
        Some(("keepalived killed · IP left configured".into(), Tone::Bad))
    } else if !lb.keepalived {
        Some(("keepalived down".into(), Tone::Bad))
    } else if lb.holds_ip {
        Some(("MASTER · holds the IP".into(), Tone::Normal))
    } else if lb.role == VrrpRole::Master {
        Some(("MASTER too!".into(), Tone::Bad))
    } else {
        Some((format!("BACKUP · standby (prio {})", lb.priority), Tone::Normal))
    }
}

/// One line on how each algorithm picks a server, for the page.
pub fn algorithm_blurb(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::Roundrobin => {
            "Takes the servers in turn, in proportion to their weights; a new weight counts at once."
        }
        Algorithm::StaticRr => {
            "Takes the servers in turn with the weights they started with; a weight of 0 still drains a server."
        }
        Algorithm::Leastconn => "Sends each request to the server with the fewest open connections for its weight.",
        Algorithm::First => "Fills the lowest-numbered server with a free slot first; the others wait in reserve.",
        Algorithm::Source => "Hashes the client: the same client always lands on the same server.",
        Algorithm::Random => "Draws a few servers at random (by weight) and sends the request to the least busy.",
    }
}

/// A round number at or above `v` (1, 2, 5 × 10ⁿ), for the top of a chart's axis.
pub fn nice_ceiling(v: f64) -> f64 {
    if !v.is_finite() || v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * p >= v * (1.0 - 1e-12) {
            return m * p;
        }
    }
    10.0 * p
}

/// Fraction of a server's workers in use, 0 to 1.
pub fn utilisation(busy: u32, workers: u32) -> f64 {
    if workers == 0 {
        0.0
    } else {
        (busy as f64 / workers as f64).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::cause_words;
    use crate::sim::metrics::FailCause;

    /// The words the page showed when they were derived from `FailCause::name()`: its own
    /// name, spaced, except for the causes with words of their own.
    #[test]
    fn every_cause_keeps_the_words_the_page_showed() {
        let own = [
            (FailCause::QueueFull, "queue full"),
            (FailCause::QueueTimeout, "queue timeout"),
            (FailCause::NoServer, "no server"),
            (FailCause::ConnectFailed, "refused"),
            (FailCause::DnsFailure, "DNS failed"),
            (FailCause::ModelLimit, "beyond the model's limit"),
        ];
        for cause in FailCause::ALL {
            let expected = own
                .iter()
                .find(|(c, _)| *c == cause)
                .map_or_else(|| cause.name().replace('_', " "), |(_, w)| w.to_string());
            assert_eq!(cause_words(cause), expected, "{cause:?}");
        }
        let mut all: Vec<String> = FailCause::ALL.iter().map(|c| cause_words(*c)).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), FailCause::ALL.len(), "two causes share words: {all:?}");
    }

    /// index.html shows the introduction before the app runs; it must say what the app says.
    #[test]
    fn index_html_carries_the_same_introduction() {
        let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        let page = words(include_str!("../../index.html"));
        assert!(page.contains(&format!("<p class=\"intro\">{}</p>", words(PAGE_INTRO))), "index.html's intro differs");
    }

    use super::*;

    #[test]
    fn rate_slider_is_logarithmic_and_round_trips() {
        assert_eq!(rate_from_slider(0), 1.0);
        assert_eq!(rate_from_slider(250), 10.0);
        assert_eq!(rate_from_slider(500), 100.0);
        assert_eq!(rate_from_slider(750), 1_000.0);
        assert_eq!(rate_from_slider(1_000), 10_000.0);
        assert_eq!(rate_from_slider(5_000), 10_000.0);
        let mut last = 0.0;
        for p in 0..=RATE_SLIDER_MAX {
            let r = rate_from_slider(p);
            assert!(r > last, "position {p} gives {r}, not above {last}");
            assert_eq!(slider_from_rate(r), p, "rate {r}");
            last = r;
        }
        assert_eq!(slider_from_rate(0.0), 0);
        assert_eq!(slider_from_rate(f64::NAN), 0);
        assert_eq!(slider_from_rate(1e9), RATE_SLIDER_MAX);
    }

    #[test]
    fn axis_tops_are_round() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(12.0), 20.0);
        assert_eq!(nice_ceiling(450.0), 500.0);
        assert_eq!(nice_ceiling(1000.0), 1000.0);
        assert_eq!(nice_ceiling(f64::NAN), 1.0);
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(compact(9_999), "9,999");
        assert_eq!(compact(33_790), "33.8k");
        assert_eq!(compact(338_000), "338k");
        assert_eq!(compact(1_234_567), "1.2M");
        assert_eq!(rate(1.5), "1.5");
        assert_eq!(rate(100.0), "100");
        assert_eq!(rate(10_000.0), "10,000");
        assert_eq!(ms(0.844), "0.84 ms");
        assert_eq!(ms(23.14), "23.1 ms");
        assert_eq!(ms(412.4), "412 ms");
        assert_eq!(ms(5_210.0), "5210 ms");
        assert_eq!(ms(12_300.0), "12.3 s");
        assert_eq!(sim_time(12_345_678), "12.3 s");
        assert_eq!(sim_time(245_000_000), "4 min 05 s");
        assert_eq!(sim_time(7_380_000_000), "2 h 03 min");
        assert_eq!(speed(1.0), "1×");
        assert_eq!(speed(0.25), "0.25×");
        assert_eq!(speed(100.0), "100×");
    }

    #[test]
    fn roles_name_the_software() {
        assert_eq!(lb_role(Algorithm::Roundrobin, 2), "HAProxy · roundrobin");
        assert_eq!(lb_role(Algorithm::Random, 3), "HAProxy · random(3)");
        // Database views as the model makes them, with the lag set by hand.
        let view =
            crate::sim::Sim::new(crate::scenario::Scenario::default(), crate::sim::TraceConfig::default()).view(0);
        let db = |primary: bool, lag_ms: f64| {
            let mut d = view.db[if primary { 0 } else { 1 }].clone();
            d.lag_ms = lag_ms;
            d
        };
        assert_eq!(db_role(&db(true, 0.0)).0, "MySQL · writes here");
        assert_eq!(db_role(&db(false, 3.2)).0, "replica · lag 3 ms");
        assert_eq!(db_role(&db(false, 0.0)).0, "replica · in sync");
        assert_eq!(db_role(&db(false, 12_345.0)), ("replica · lag 12.3 s".to_string(), Tone::Warn));
        let mut dead = db(true, 0.0);
        dead.alive = false;
        assert_eq!(db_role(&dead), ("primary · down".to_string(), Tone::Bad));
        let mut fenced = db(false, 0.0);
        fenced.role = crate::sim::DbRole::Fenced;
        assert_eq!(db_role(&fenced).1, Tone::Warn);
        fenced.role = crate::sim::DbRole::SecondPrimary;
        assert_eq!(db_role(&fenced).1, Tone::Bad);
        fenced.role = crate::sim::DbRole::Diverged;
        assert!(db_role(&fenced).0.contains("rebuild"));
        let mut unknown = db(false, 12_345.0);
        unknown.reported_lag = crate::sim::ReportedLag::Unknown;
        assert_eq!(db_role(&unknown), ("replica · lag unknown (nothing received)".to_string(), Tone::Warn));
        for a in Algorithm::ALL {
            assert!(!algorithm_blurb(a).is_empty());
        }
        let web = |edit: fn(&mut WebView)| {
            let mut w = view.web[0].clone();
            edit(&mut w);
            web_role(&w, 3, 2)
        };
        assert_eq!(web(|_| {}), ("Nginx + app".to_string(), Tone::Normal));
        assert_eq!(web(|w| w.weight = 0), ("draining (weight 0)".to_string(), Tone::Normal));
        assert_eq!(web(|w| w.alive = false), ("crashed · checks still say up".to_string(), Tone::Bad));
        assert_eq!(
            web(|w| {
                w.alive = false;
                w.health = crate::sim::HealthState::Suspect(2)
            }),
            ("crashed · check failed 2/3".to_string(), Tone::Bad)
        );
        assert_eq!(
            web(|w| {
                w.alive = false;
                w.health = crate::sim::HealthState::Down
            }),
            ("down".to_string(), Tone::Bad)
        );
        assert_eq!(
            web(|w| {
                w.backup = true;
                w.in_pool = false
            }),
            ("standby (backup)".to_string(), Tone::Normal)
        );
        assert_eq!(web(|w| w.health = crate::sim::HealthState::Rising(1)).0, "recovering · check passed 1/2");
        assert_eq!(health_words(crate::sim::HealthState::Suspect(1), 3, 2), "UP, 1/3 failed");
        // Not checked yet is UP to the balancer: a serving server, not a suspect one.
        assert_eq!(web(|w| w.health = crate::sim::HealthState::Starting).0, "Nginx + app");
        assert_eq!(web(|w| w.active = false).1, Tone::Normal);
        assert_eq!(web(|w| w.slow = 3.0), ("Nginx + app · 3× slower".to_string(), Tone::Warn));
        assert_eq!(nginx_chip_role(&view.web[0], 3, 2).0, "serving", "the chip beside the application's");
        let mut down = view.web[0].clone();
        down.alive = false;
        assert_eq!(nginx_chip_role(&down, 3, 2), web_role(&down, 3, 2), "only the healthy words differ");
        let mut w = view.web[0].clone();
        assert_eq!(web_tag(&w), None);
        w.slow = 2.5;
        assert_eq!(web_tag(&w), Some(("2.5× slower".to_string(), Tone::Warn)));
        w.alive = false;
        assert_eq!(web_tag(&w), Some(("crashed".to_string(), Tone::Bad)));
        w.health = crate::sim::HealthState::Down;
        assert_eq!(web_tag(&w), Some(("down".to_string(), Tone::Bad)));
    }
}

/// A machine's CPU load as a short moving average over simulated time: the share of its cores
/// busy between two frames, smoothed with a time constant of [`LoadAverage::TAU_US`], so the
/// bar on the box moves at a readable pace rather than jumping every frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadAverage {
    last: Option<(u64, u128)>,
    average: f64,
}

impl LoadAverage {
    /// Half a second of simulated time.
    pub const TAU_US: f64 = 500_000.0;

    /// Take a sample (`busy_core_us` since the start at `now_us`) and return the average, 0 to 1.
    pub fn update(&mut self, now_us: u64, busy_core_us: u128, cores: u32) -> f64 {
        if let Some((then, busy_then)) = self.last {
            if now_us > then && busy_core_us >= busy_then {
                let span = (now_us - then) as f64;
                let load = ((busy_core_us - busy_then) as f64 / (cores.max(1) as f64 * span)).clamp(0.0, 1.0);
                let weight = 1.0 - (-span / Self::TAU_US).exp();
                self.average += (load - self.average) * weight;
            } else if now_us < then {
                // Time went back (a replay from the start): start again.
                self.average = 0.0;
            }
        }
        self.last = Some((now_us, busy_core_us));
        self.average
    }
}

/// A machine's label (`server1 · 2 cores`, `server1 · DOWN`) and its load in words (`CPU 45%`).
pub fn machine_label(id: &str, cores: Option<u32>, alive: bool, load: Option<f64>) -> (String, String) {
    let cores = match cores {
        Some(1) => " · 1 core".to_string(),
        Some(n) => format!(" · {n} cores"),
        None => String::new(),
    };
    let label = if alive { format!("{id}{cores}") } else { format!("{id}{cores} · DOWN") };
    let load = load.map_or(String::new(), |l| format!("CPU {:.0}%", l * 100.0));
    (label, load)
}

/// The balancer queue's figure under "in flight": at whichever balancer holds the floating IP
/// (`3 queued at lb2` after a failover), or that there is no balancer to queue in.
pub fn balancer_queue(holder: Option<crate::sim::NodeId>, queued: u32) -> String {
    match holder {
        Some(lb) => format!("{} queued at {lb}", count(queued as u64)),
        None => "no balancer queue".to_string(),
    }
}

#[cfg(test)]
mod machine_words_tests {
    use super::*;
    use crate::sim::NodeId;

    #[test]
    fn the_queue_is_named_after_the_balancer_holding_it() {
        assert_eq!(balancer_queue(Some(NodeId::Lb(1)), 3), "3 queued at lb2");
        assert_eq!(balancer_queue(Some(NodeId::Lb(0)), 0), "0 queued at lb1");
        assert_eq!(balancer_queue(None, 0), "no balancer queue");
    }

    #[test]
    fn machine_labels_name_cores_and_state() {
        assert_eq!(
            machine_label("server1", Some(2), true, Some(0.456)),
            ("server1 · 2 cores".into(), "CPU 46%".into())
        );
        assert_eq!(machine_label("db-server1", Some(1), false, None).0, "db-server1 · 1 core · DOWN");
        assert_eq!(machine_label("web5", None, true, None), ("web5".into(), String::new()));
    }
}

/// What the capacity curve found, in a sentence: the capacity and where the load sits now.
pub fn capacity_summary(capacity_per_s: f64, current_load_per_s: f64) -> String {
    let share = current_load_per_s / capacity_per_s.max(1e-9);
    let now = if current_load_per_s <= 0.0 {
        "There is no traffic now.".to_string()
    } else if share >= 1.0 {
        format!("Now {}/s is beyond it: queues grow until requests time out.", rate(current_load_per_s))
    } else {
        format!("Now {}/s uses {:.0} % of it.", rate(current_load_per_s), share * 100.0)
    };
    format!("The busiest server or machine is full at about {}/s. {now}", rate(capacity_per_s))
}

/// A backlog's trend in a table cell: "steady (about 4 in the system)", "growing at web1
/// (+12/s)", "web1 full (511 waiting)", "turning away 30/s".
pub fn backlog(b: &crate::sim::growth::Backlog) -> String {
    use crate::sim::growth::Trend;
    let mut parts: Vec<String> = b
        .by_server
        .iter()
        .filter_map(|(id, t)| match t {
            Trend::Growing { per_s } => Some(format!("growing at {id} (+{}/s)", rate(*per_s))),
            Trend::Full { waiting } => Some(format!("{id} full ({} waiting)", count(u64::from(*waiting)))),
            _ => None,
        })
        .collect();
    match b.total {
        Trend::TooEarly => return "too early to tell".to_string(),
        Trend::Growing { per_s } if parts.is_empty() => parts.push(format!("growing (+{}/s)", rate(per_s))),
        Trend::TurningAway { failed_per_s } => parts.push(format!("turning away {}/s", rate(failed_per_s))),
        Trend::Steady { level } if parts.is_empty() => parts.push(format!("steady (about {level:.0} in the system)")),
        _ => {}
    }
    parts.join(", ")
}

/// A sentence for a run whose backlog does not settle (`None` while it does, or too early).
pub fn backlog_warning(run: &str, b: &crate::sim::growth::Backlog) -> Option<String> {
    use crate::sim::growth::Trend;
    let growing: Vec<String> = b.growing_servers().map(|id| id.to_string()).collect();
    let full: Vec<String> = b.full_servers().map(|id| id.to_string()).collect();
    let mut sentences = Vec::new();
    match growing.as_slice() {
        [] => {}
        [one] => sentences.push(format!("{one}'s queue grows without bound instead of settling: more requests reach it than it can serve, so each waits longer than the one before.")),
        many => sentences.push(format!("The queues of {} grow without bound instead of settling: more requests reach them than they can serve.", many.join(" and "))),
    }
    match full.as_slice() {
        [] => {}
        [one] => sentences.push(format!("{one}'s queue grew until it was full: it refuses new connections now, and requests already waiting there wait longest.")),
        many => sentences.push(format!("The queues of {} grew until they were full: they refuse new connections now.", many.join(" and "))),
    }
    match b.total {
        Trend::Growing { .. } if sentences.is_empty() => {
            sentences.push("The requests in the system grow without bound instead of settling: the design gets more than it can serve.".into())
        }
        Trend::TurningAway { .. } => sentences.push("Requests are turned away: more arrive than the design can serve.".into()),
        _ => {}
    }
    (!sentences.is_empty()).then(|| format!("{run}: {}", sentences.join(" ")))
}

/// A share of a whole as a whole percentage ("41 %"), "–" when the whole is 0.
pub fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        "–".to_string()
    } else {
        format!("{:.0} %", part as f64 * 100.0 / whole as f64)
    }
}
