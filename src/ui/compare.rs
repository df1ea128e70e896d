//! Side by side: two configurations run on identical seeded traffic (same seed, same scheduled
//! events), drawn next to each other with the page's canvas painter, their figures in one table.
//!
//! The random streams are split per subsystem (arrivals, service times, failures), so with the
//! same seed both runs see the same visitors at the same moments: the differences in the table
//! come from the design alone.

use super::course::CourseProps;
use crate::render::canvas::{DrawOptions, Painter};
use crate::render::format;
use crate::scenario::{preset, Algorithm, Failover, ReadFrom, Replication, Scenario};
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

/// Two runs of a pairing, advanced together.
pub struct Pair {
    pub a: Driver,
    pub b: Driver,
}

impl Pair {
    pub fn new(pairing: &Pairing, seed: u64) -> Pair {
        let (sa, sb) = (pairing.build)(seed);
        let quiet = TraceConfig { enabled: false, capacity: 1 };
        let mut a = Driver::new(Sim::new(sa, quiet));
        let mut b = Driver::new(Sim::new(sb, quiet));
        for (at_s, what) in pairing.events {
            let command = Command { at_us: from_s(*at_s), what: what.clone() };
            let _ = a.sim.apply(command.clone());
            let _ = b.sim.apply(command);
        }
        Pair { a, b }
    }

    pub fn advance(&mut self, wall_dt_ms: f64) {
        self.a.advance(wall_dt_ms);
        self.b.advance(wall_dt_ms);
    }
}

#[component(Compare)]
pub fn compare(props: &CourseProps) -> Html {
    let running = use_state(|| None::<usize>);
    let choice = use_state(|| 0usize);
    let on_choice = {
        let (choice, running) = (choice.clone(), running.clone());
        Callback::from(move |e: Event| {
            let i = super::controls::event_value(&e).and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
            choice.set(i.min(PAIRINGS.len() - 1));
            if running.is_some() {
                running.set(Some(i.min(PAIRINGS.len() - 1)));
            }
        })
    };
    let on_run = {
        let (choice, running) = (choice.clone(), running.clone());
        Callback::from(move |_: MouseEvent| {
            running.set(if running.is_some() { None } else { Some(*choice) });
        })
    };
    let seed = props.shared.driver.try_borrow().map(|d| d.sim.scenario().seed).unwrap_or(1);
    let pairing = &PAIRINGS[*choice];
    html! {
        <section class="card compare" aria-label="Side by side">
            <h2>{ "Side by side" }</h2>
            <p class="hint">{ "Two designs, the same visitors: both runs use the same seed, so they get identical traffic." }</p>
            <div class="compare-controls">
                <label>
                    <span class="visually-hidden">{ "Comparison" }</span>
                    <select name="comparison" onchange={on_choice}>
                        { for PAIRINGS.iter().enumerate().map(|(i, p)| html! {
                            <option value={i.to_string()} selected={i == *choice}>{ p.title }</option>
                        }) }
                    </select>
                </label>
                <button type="button" class="compare-run" onclick={on_run}>
                    { if running.is_some() { "Stop" } else { "Run side by side" } }
                </button>
            </div>
            <p class="compare-note">{ pairing.note }</p>
            if let Some(i) = *running {
                <CompareRun key={format!("{}-{seed}", PAIRINGS[i].key)} index={i} {seed} />
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct RunProps {
    pub index: usize,
    pub seed: u64,
}

#[component(CompareRun)]
pub fn compare_run(props: &RunProps) -> Html {
    let pairing = &PAIRINGS[props.index];
    let pair = use_mut_ref(|| Pair::new(pairing, props.seed));
    let canvas_a = use_node_ref();
    let canvas_b = use_node_ref();
    let refresh = use_force_update();
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
    let (ra, rb) = {
        let p = pair.borrow();
        (Report::from_sim(&p.a.sim), Report::from_sim(&p.b.sim))
    };
    let rows = figure_rows(&ra, &rb);
    html! {
        <div class="compare-run">
            <div class="compare-stages">
                <figure class="compare-stage">
                    <figcaption>{ format!("A: {}", pairing.a) }</figcaption>
                    <div class="compare-canvas"><canvas ref={canvas_a} class="compare-a" role="img"
                        aria-label={format!("Run A, {}", pairing.a)}></canvas></div>
                </figure>
                <figure class="compare-stage">
                    <figcaption>{ format!("B: {}", pairing.b) }</figcaption>
                    <div class="compare-canvas"><canvas ref={canvas_b} class="compare-b" role="img"
                        aria-label={format!("Run B, {}", pairing.b)}></canvas></div>
                </figure>
            </div>
            <div class="table-scroll">
                <table class="compare-table">
                    <caption>{ format!("After {} of simulated time, seed {}", format::sim_time(from_s(ra.duration_s)), props.seed) }</caption>
                    <thead><tr>
                        <th scope="col">{ "Figure" }</th>
                        <th scope="col" class="num">{ format!("A: {}", pairing.a) }</th>
                        <th scope="col" class="num">{ format!("B: {}", pairing.b) }</th>
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
pub fn figure_rows(a: &Report, b: &Report) -> Vec<(&'static str, String, String)> {
    let both = |f: &dyn Fn(&Report) -> String| (f(a), f(b));
    let mut rows = Vec::new();
    let mut push = |name: &'static str, (x, y): (String, String)| rows.push((name, x, y));
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
        for (k, driver) in [&pair.a, &pair.b].into_iter().enumerate() {
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
                ..DrawOptions::default()
            };
            painter.draw(&view, &options);
        }
    }
}
