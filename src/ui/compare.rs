//! Side by side: two configurations run on identical seeded traffic (same seed, same scheduled
//! events), drawn next to each other with the page's canvas painter, their figures in one table.
//! Either the design as it is now against a variant of it (any setting of the settings table
//! changed, checked by the same rules as `--set`), or one of the fixed pairings. Slow servers
//! are marked on both drawings, each server's share of the requests is a row, and a backlog
//! that grows instead of settling is said in words ([`crate::sim::growth`]).
//!
//! The random streams are split per subsystem (arrivals, service times, failures), so with the
//! same seed both runs see the same visitors at the same moments: the differences in the table
//! come from the design alone.

use super::course::CourseProps;
use crate::render::canvas::{DrawOptions, Painter, ServerSet};
use crate::render::format;
use crate::scenario::edit::{variant, variant_examples, VariantExample};
use crate::scenario::{preset, setting, setting_value, settings, Algorithm, Failover, ReadFrom, Replication, Scenario};
use crate::sim::design::slow_servers;
use crate::sim::growth::{Backlog, BacklogWatch};
use crate::sim::time::from_s;
use crate::sim::{Command, CommandKind, Driver, NodeId, Report, Sim, TraceConfig};
use gloo::timers::callback::Interval;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

/// A pair of designs to compare.
pub struct Pairing {
    pub key: &'static str,
    pub title: &'static str,
    pub a: &'static str,
    pub b: &'static str,
    /// What to look at in the table.
    pub note: &'static str,
    /// Both scenarios, from the page's seed.
    pub build: fn(u64) -> (Scenario, Scenario),
    /// Inputs given to both runs at the same simulated times (seconds).
    pub events: &'static [(f64, CommandKind)],
}

fn slow_web1(mut s: Scenario) -> Scenario {
    s.web.servers[0].service_time_ms *= 4.0;
    s
}

pub static PAIRINGS: &[Pairing] = &[
    Pairing {
        key: "algorithms",
        title: "Round robin vs least connections (web1 four times slower)",
        a: "round robin",
        b: "least connections",
        note: "Round robin keeps giving the slow web1 half of the requests; least connections sends it fewer. \
               Compare the p95 and p99 latency.",
        build: |seed| {
            let mut a = slow_web1(preset("three-server").unwrap_or_default());
            a.seed = seed;
            let mut b = a.clone();
            b.balancer.algorithm = Algorithm::Leastconn;
            a.balancer.algorithm = Algorithm::Roundrobin;
            (a, b)
        },
        events: &[],
    },
    Pairing {
        key: "replication",
        title: "Asynchronous vs semi-synchronous replication (the primary crashes at 8 s)",
        a: "async",
        b: "semi-sync",
        note: "The replicas are 60 ms away. Both runs promote a replica after the crash. With async replication, \
               writes the primary had already confirmed but not yet shipped are lost. Semi-sync waits for a replica \
               on every write, so none are lost, but every write takes longer.",
        build: |seed| {
            let mut a = preset("three-server").unwrap_or_default();
            a.seed = seed;
            a.traffic.arrival_rate_per_s = 150.0;
            a.traffic.write_ratio = 0.5;
            a.db.replicas = 2;
            a.db.read_from = ReadFrom::Proxy;
            a.db.failover = Failover::Auto;
            // Replicas in another data centre: each change takes 60 ms to reach them.
            a.db.ship_latency_ms = 60.0;
            let mut b = a.clone();
            a.db.replication = Replication::Async;
            b.db.replication = Replication::Semisync;
            (a, b)
        },
        events: &[(8.0, CommandKind::Kill { node: NodeId::Db(0) })],
    },
    Pairing {
        key: "servers",
        title: "One web server vs two (heavy traffic)",
        a: "single server",
        b: "three-server design",
        note: "At 300 requests a second one server's queue grows without limit while two servers keep up.",
        build: |seed| {
            let mut a = preset("single-server").unwrap_or_default();
            let mut b = preset("three-server").unwrap_or_default();
            for s in [&mut a, &mut b] {
                s.seed = seed;
                s.traffic.arrival_rate_per_s = 300.0;
            }
            (a, b)
        },
        events: &[],
    },
];

/// What to run side by side: two scenarios, their names, and inputs given to both.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    pub a: Scenario,
    pub b: Scenario,
    pub a_name: String,
    pub b_name: String,
    pub events: Vec<(f64, CommandKind)>,
}

impl RunSpec {
    fn of_pairing(pairing: &Pairing, seed: u64) -> RunSpec {
        let (a, b) = (pairing.build)(seed);
        RunSpec { a, b, a_name: pairing.a.into(), b_name: pairing.b.into(), events: pairing.events.to_vec() }
    }
}

/// Two runs, advanced together, each with a watch on its backlog and its slow servers (the
/// scenarios do not change during a comparison, so they are found once).
pub struct Pair {
    pub a: Driver,
    pub b: Driver,
    pub watches: [BacklogWatch; 2],
    pub slow: [Vec<NodeId>; 2],
}

impl Pair {
    pub fn new(spec: &RunSpec) -> Pair {
        let quiet = TraceConfig { enabled: false, capacity: 1 };
        let mut a = Driver::new(Sim::new(spec.a.clone(), quiet));
        let mut b = Driver::new(Sim::new(spec.b.clone(), quiet));
        for (at_s, what) in &spec.events {
            let command = Command { at_us: from_s(*at_s), what: what.clone() };
            let _ = a.sim.apply(command.clone());
            let _ = b.sim.apply(command);
        }
        let slow = [slow_servers(&spec.a), slow_servers(&spec.b)];
        Pair { a, b, watches: [BacklogWatch::new(), BacklogWatch::new()], slow }
    }

    pub fn advance(&mut self, wall_dt_ms: f64) {
        self.a.advance(wall_dt_ms);
        self.b.advance(wall_dt_ms);
        self.watches[0].observe(&self.a.sim);
        self.watches[1].observe(&self.b.sim);
    }
}

/// The speeds both runs can go at: a growing queue needs the watch's 20 s window to be said.
const COMPARE_SPEEDS: [f64; 4] = [1.0, 2.0, 5.0, 10.0];

/// The fixed pairing a menu choice names (`None`: the variant).
fn pairing_of(choice: &str) -> Option<&'static Pairing> {
    choice.parse::<usize>().ok().and_then(|i| PAIRINGS.get(i))
}

/// The option of the comparison menu that runs the design against a variant.
const VARIANT: &str = "variant";

/// A setting's meaning as the start of a sentence. The meanings start with an ASCII letter;
/// `char::to_uppercase` would bring Unicode's case tables into the page (about 7 KB).
fn capitalised(text: &str) -> String {
    let mut out = text.to_string();
    if let Some(first) = out.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    out
}

/// The words of a ready-made variant's button.
fn example_label(example: VariantExample) -> String {
    match example {
        VariantExample::OtherAlgorithm(a) => format!("{} instead", algorithm_words(a)),
        VariantExample::SlowFirstServer => "web1 four times slower".into(),
        VariantExample::MoreTraffic => "Traffic × 1.5".into(),
    }
}

fn algorithm_words(a: Algorithm) -> &'static str {
    match a {
        Algorithm::Roundrobin => "Round robin",
        Algorithm::Leastconn => "Least connections",
        _ => a.name(),
    }
}

#[component(Compare)]
pub fn compare(props: &CourseProps) -> Html {
    let running = use_state(|| None::<Rc<RunSpec>>);
    let choice = use_state(|| VARIANT.to_string());
    let key = use_state(|| "balancer.algorithm".to_string());
    let value = use_state(String::new);
    let error = use_state(|| None::<String>);
    let speed = use_state(|| 1.0f64);
    let shared = props.shared.clone();
    let seed = shared.driver.try_borrow().map(|d| d.sim.scenario().seed).unwrap_or(1);
    let design = shared.scenario().unwrap_or_default();
    // Until the user types one, the variant is the first example (the other algorithm).
    let examples = variant_examples(&design);
    let typed_value = if value.is_empty() && *key == "balancer.algorithm" {
        examples.first().filter(|(_, k, _)| *k == "balancer.algorithm").map_or(String::new(), |(_, _, v)| v.clone())
    } else {
        (*value).clone()
    };
    let start = {
        let (running, error, shared) = (running.clone(), error.clone(), shared.clone());
        move |choice: &str, key: &str, value: &str| {
            let seed = shared.driver.try_borrow().map(|d| d.sim.scenario().seed).unwrap_or(1);
            let spec = match pairing_of(choice) {
                Some(pairing) => Ok(RunSpec::of_pairing(pairing, seed)),
                None => variant_spec(&shared.scenario().unwrap_or_default(), key, value),
            };
            match spec {
                Ok(spec) => {
                    error.set(None);
                    running.set(Some(Rc::new(spec)));
                }
                Err(message) => {
                    error.set(Some(message));
                    running.set(None);
                }
            }
        }
    };
    let on_choice = {
        let (choice, running, start, key, typed) =
            (choice.clone(), running.clone(), start.clone(), key.clone(), typed_value.clone());
        Callback::from(move |e: Event| {
            let picked = super::controls::event_value(&e).unwrap_or_else(|| VARIANT.into());
            if running.is_some() {
                start(&picked, &key, &typed);
            }
            choice.set(picked);
        })
    };
    let on_run = {
        let (choice, running, start, key, typed) =
            (choice.clone(), running.clone(), start.clone(), key.clone(), typed_value.clone());
        Callback::from(move |_: MouseEvent| match running.is_some() {
            true => running.set(None),
            false => start(&choice, &key, &typed),
        })
    };
    let on_key = {
        let (key, value) = (key.clone(), value.clone());
        Callback::from(move |e: Event| {
            if let Some(k) = super::controls::event_value(&e) {
                key.set(k);
                value.set(String::new());
            }
        })
    };
    let on_value = {
        let value = value.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(v) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                value.set(v.value());
            }
        })
    };
    let on_submit = {
        let (choice, running, start, key, typed) =
            (choice.clone(), running.clone(), start.clone(), key.clone(), typed_value.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if running.is_none() {
                start(&choice, &key, &typed);
            }
        })
    };
    let on_speed = {
        let speed = speed.clone();
        Callback::from(move |e: Event| {
            if let Some(x) = super::controls::event_value(&e).and_then(|v| v.parse::<f64>().ok()) {
                speed.set(x.clamp(1.0, COMPARE_SPEEDS[COMPARE_SPEEDS.len() - 1]));
            }
        })
    };
    let is_variant = pairing_of(&choice).is_none();
    let note = match pairing_of(&choice) {
        Some(pairing) => pairing.note.to_string(),
        None => "Your design as it is now, from the start, against a copy with one setting changed. Pick a setting \
                 and type its new value, or take an example. A per-server setting takes one value for all \
                 servers or a list, web1 first (80,20)."
            .to_string(),
    };
    let examples_html = examples.iter().map(|(example, k, v)| {
        let (key, value, start, choice) = (key.clone(), value.clone(), start.clone(), choice.clone());
        let (k, v) = (k.to_string(), v.clone());
        let onclick = Callback::from(move |_: MouseEvent| {
            key.set(k.clone());
            value.set(v.clone());
            choice.set(VARIANT.into());
            start(VARIANT, &k, &v);
        });
        html! { <button type="button" class="variant-example" {onclick}>{ example_label(*example) }</button> }
    });
    let now_value = setting_value(&design, &key).unwrap_or_else(|| "differs by server".into());
    let meaning = setting(&key)
        .map(|s| {
            let unit = if s.unit.is_empty() { String::new() } else { format!(" {}", s.unit) };
            format!("{}. Allowed: {}{unit}. Now: {now_value}.", capitalised(s.meaning), s.allowed_text())
        })
        .unwrap_or_default();
    html! {
        <section class="card compare" aria-label="Side by side">
            <h2>{ "Side by side" }</h2>
            <p class="hint">{ "Two designs, the same visitors: both runs use the same seed, so they get identical traffic." }</p>
            <div class="compare-controls">
                <label>
                    <span class="visually-hidden">{ "Comparison" }</span>
                    <select name="comparison" onchange={on_choice}>
                        <option value={VARIANT} selected={is_variant}>{ "Your design vs a variant" }</option>
                        { for PAIRINGS.iter().enumerate().map(|(i, p)| html! {
                            <option value={i.to_string()} selected={*choice == i.to_string()}>{ p.title }</option>
                        }) }
                    </select>
                </label>
                <button type="button" class="compare-run" onclick={on_run}>
                    { if running.is_some() { "Stop" } else { "Run side by side" } }
                </button>
                <label class="compare-speed">
                    <span>{ "Speed" }</span>
                    <select name="compare-speed" onchange={on_speed}>
                        { for COMPARE_SPEEDS.iter().map(|x| html! {
                            <option value={x.to_string()} selected={*speed == *x}>{ format::speed(*x) }</option>
                        }) }
                    </select>
                </label>
            </div>
            <p class="compare-note">{ note }</p>
            if is_variant {
                <form class="variant-form" onsubmit={on_submit}>
                    <label>
                        <span>{ "Setting" }</span>
                        <select name="variant-key" onchange={on_key}>
                            { for settings().iter().filter(|s| s.key != "seed").map(|s| html! {
                                <option value={s.key} selected={*key == s.key}>{ s.key }</option>
                            }) }
                        </select>
                    </label>
                    <label>
                        <span>{ "New value" }</span>
                        <input name="variant-value" type="text" maxlength="400" spellcheck="false"
                            autocomplete="off" value={typed_value.clone()} oninput={on_value}
                            placeholder={now_value.clone()} />
                    </label>
                    <p class="hint variant-meaning">{ meaning }</p>
                    <div class="variant-examples">{ for examples_html }</div>
                </form>
            }
            if let Some(message) = &*error {
                <p class="compare-error" role="alert">{ message }</p>
            }
            if let Some(spec) = &*running {
                <CompareRun key={format!("{:p}-{seed}", Rc::as_ptr(spec))} spec={spec.clone()} {seed} speed={*speed} />
            }
        </section>
    }
}

/// The design as it is now against the same with `key` set to `value`, both from the start.
fn variant_spec(design: &Scenario, key: &str, value: &str) -> Result<RunSpec, String> {
    let b = variant(design, key, value)?;
    Ok(RunSpec {
        a: design.clone(),
        b,
        a_name: "your design".into(),
        b_name: format!("{key} = {}", value.trim()),
        events: Vec::new(),
    })
}

#[derive(Properties, PartialEq)]
pub struct RunProps {
    pub spec: Rc<RunSpec>,
    pub seed: u64,
    /// Simulated seconds per wall second, for both runs.
    pub speed: f64,
}

#[component(CompareRun)]
pub fn compare_run(props: &RunProps) -> Html {
    let spec = props.spec.clone();
    let pair = use_mut_ref(|| Pair::new(&spec));
    let canvas_a = use_node_ref();
    let canvas_b = use_node_ref();
    let refresh = use_force_update();
    {
        let pair = pair.clone();
        use_effect_with(props.speed, move |&factor| {
            if let Ok(mut p) = pair.try_borrow_mut() {
                let _ = p.a.command(CommandKind::SetSpeed { factor });
                let _ = p.b.command(CommandKind::SetSpeed { factor });
            }
        });
    }
    {
        let (pair, ca, cb) = (pair.clone(), canvas_a.clone(), canvas_b.clone());
        use_effect_with((), move |_| {
            let looped = PairLoop::start(pair, ca, cb);
            let timer = Interval::new(250, move || refresh.force_update());
            move || {
                drop(timer);
                drop(looped);
            }
        });
    }
    let (ra, rb, backlogs) = {
        let p = pair.borrow();
        (Report::from_sim(&p.a.sim), Report::from_sim(&p.b.sim), [p.watches[0].verdict(), p.watches[1].verdict()])
    };
    let slow = pair.borrow().slow.clone();
    let mut rows = figure_rows(&ra, &rb);
    rows.extend(server_rows(&ra, &rb, &slow, &backlogs));
    let warnings: Vec<String> = [("A", &backlogs[0]), ("B", &backlogs[1])]
        .into_iter()
        .filter_map(|(run, b)| format::backlog_warning(run, b))
        .collect();
    html! {
        <div class="compare-run">
            <div class="compare-stages">
                <figure class="compare-stage">
                    <figcaption>{ format!("A: {}", spec.a_name) }</figcaption>
                    <div class="compare-canvas"><canvas ref={canvas_a} class="compare-a" role="img"
                        aria-label={format!("Run A, {}", spec.a_name)}></canvas></div>
                </figure>
                <figure class="compare-stage">
                    <figcaption>{ format!("B: {}", spec.b_name) }</figcaption>
                    <div class="compare-canvas"><canvas ref={canvas_b} class="compare-b" role="img"
                        aria-label={format!("Run B, {}", spec.b_name)}></canvas></div>
                </figure>
            </div>
            <div class="compare-warnings" role="status" aria-live="polite">
                { for warnings.iter().map(|w| html! { <p class="compare-warning">{ w }</p> }) }
            </div>
            <div class="table-scroll">
                <table class="compare-table">
                    <caption>{ format!("After {} of simulated time, seed {}. A: {}; B: {}.", format::sim_time(from_s(ra.duration_s)), props.seed, spec.a_name, spec.b_name) }</caption>
                    <thead><tr>
                        <th scope="col">{ "Figure" }</th>
                        // A and B are named above the drawings: short headers keep the table
                        // within a phone's width.
                        <th scope="col" class="num"><abbr title={format!("A: {}", spec.a_name)}>{ "A" }</abbr></th>
                        <th scope="col" class="num"><abbr title={format!("B: {}", spec.b_name)}>{ "B" }</abbr></th>
                    </tr></thead>
                    <tbody>
                        { for rows.into_iter().map(|(name, a, b)| html! {
                            <tr><th scope="row">{ name }</th><td class="num">{ a }</td><td class="num">{ b }</td></tr>
                        }) }
                    </tbody>
                </table>
            </div>
        </div>
    }
}

/// The table's rows: (figure, A, B).
pub fn figure_rows(a: &Report, b: &Report) -> Vec<(String, String, String)> {
    let both = |f: &dyn Fn(&Report) -> String| (f(a), f(b));
    let mut rows = Vec::new();
    let mut push = |name: &str, (x, y): (String, String)| rows.push((name.to_string(), x, y));
    push("Requests", both(&|r| format::count(r.requests.arrived)));
    push("Served", both(&|r| format::count(r.requests.completed)));
    push("Failed", both(&|r| format::count(r.requests.failed)));
    push("Availability", both(&|r| format::availability(r.availability)));
    push("Mean latency", both(&|r| format::ms(r.latency_ms.mean)));
    push("p95 latency", both(&|r| format::ms(r.latency_ms.p95)));
    push("p99 latency", both(&|r| format::ms(r.latency_ms.p99)));
    push("Throughput", both(&|r| format!("{}/s", format::rate(r.throughput_per_s))));
    if a.db.is_some() || b.db.is_some() {
        let db = |r: &Report, f: &dyn Fn(&crate::sim::DbStats) -> String| r.db.as_ref().map_or("–".into(), f);
        push("Writes lost", (db(a, &|d| d.writes_lost.to_string()), db(b, &|d| d.writes_lost.to_string())));
        push("Stale reads", (db(a, &|d| d.stale_reads.to_string()), db(b, &|d| d.stale_reads.to_string())));
        push(
            "Worst replica lag",
            (db(a, &|d| format::ms(d.replication_lag_ms_max)), db(b, &|d| format::ms(d.replication_lag_ms_max))),
        );
        push("Promotions", (db(a, &|d| d.promotions.to_string()), db(b, &|d| d.promotions.to_string())));
    }
    rows
}

/// The rows about servers: which are marked slow, each one's share of the requests served,
/// and whether the backlog settles.
fn server_rows(
    a: &Report,
    b: &Report,
    slow: &[Vec<NodeId>; 2],
    backlogs: &[Backlog; 2],
) -> Vec<(String, String, String)> {
    let names = |ids: &Vec<NodeId>| match ids.is_empty() {
        true => "none".to_string(),
        false => ids.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(", "),
    };
    let mut rows = vec![("Slow server (marked)".to_string(), names(&slow[0]), names(&slow[1]))];
    let servers = a.by_server.len().max(b.by_server.len());
    let share = |r: &Report, i: usize| {
        let served: u64 = r.by_server.iter().map(|s| s.completed).sum();
        r.by_server.get(i).map_or("–".to_string(), |s| format::share(s.completed, served))
    };
    for i in 0..servers {
        let id = a.by_server.get(i).or(b.by_server.get(i)).map_or(String::new(), |s| s.id.clone());
        rows.push((format!("{id} share of served"), share(a, i), share(b, i)));
    }
    rows.push(("Backlog".to_string(), format::backlog(&backlogs[0]), format::backlog(&backlogs[1])));
    rows
}

type FrameCallback = Closure<dyn FnMut(f64)>;

struct LoopInner {
    callback: RefCell<Option<FrameCallback>>,
    request_id: Cell<Option<i32>>,
    pair: Rc<RefCell<Pair>>,
    canvases: [NodeRef; 2],
    painters: RefCell<[Option<Painter>; 2]>,
    last_ts: Cell<Option<f64>>,
}

/// The side-by-side animation loop; dropping it stops it.
struct PairLoop(Rc<LoopInner>);

impl PairLoop {
    fn start(pair: Rc<RefCell<Pair>>, a: NodeRef, b: NodeRef) -> PairLoop {
        let inner = Rc::new(LoopInner {
            callback: RefCell::new(None),
            request_id: Cell::new(None),
            pair,
            canvases: [a, b],
            painters: RefCell::new([None, None]),
            last_ts: Cell::new(None),
        });
        let weak: Weak<LoopInner> = Rc::downgrade(&inner);
        let callback = FrameCallback::new(move |ts: f64| {
            if let Some(inner) = weak.upgrade() {
                inner.request_id.set(None);
                inner.frame(ts);
                request(&inner);
            }
        });
        *inner.callback.borrow_mut() = Some(callback);
        request(&inner);
        PairLoop(inner)
    }
}

fn request(inner: &LoopInner) {
    let Some(window) = web_sys::window() else { return };
    if let Some(callback) = inner.callback.borrow().as_ref() {
        if let Ok(id) = window.request_animation_frame(callback.as_ref().unchecked_ref()) {
            inner.request_id.set(Some(id));
        }
    }
}

impl Drop for PairLoop {
    fn drop(&mut self) {
        if let (Some(id), Some(window)) = (self.0.request_id.take(), web_sys::window()) {
            let _ = window.cancel_animation_frame(id);
        }
        // Break the cycle closure → inner.
        self.0.callback.borrow_mut().take();
    }
}

impl LoopInner {
    fn frame(&self, ts: f64) {
        let dt = self.last_ts.get().map_or(0.0, |last| (ts - last).max(0.0));
        self.last_ts.set(Some(ts));
        let Ok(mut pair) = self.pair.try_borrow_mut() else { return };
        pair.advance(dt);
        let Ok(mut painters) = self.painters.try_borrow_mut() else { return };
        for (k, (driver, slow)) in [&pair.a, &pair.b].into_iter().zip(&pair.slow).enumerate() {
            if painters[k].is_none() {
                if let Some(canvas) = self.canvases[k].cast::<HtmlCanvasElement>() {
                    painters[k] = Painter::new(canvas).ok();
                }
            }
            let Some(painter) = painters[k].as_mut() else { continue };
            painter.fit();
            let view = driver.sim.view(150);
            let options = DrawOptions {
                particles: true,
                random_draws: driver.sim.scenario().balancer.random_draws,
                slow: ServerSet::of(slow),
                ..DrawOptions::default()
            };
            painter.draw(&view, &options);
        }
    }
}
