//! The page (browser only).
//!
//! The model lives outside Yew, in an `Rc<RefCell<Driver>>` shared by:
//! - the animation loop ([`topology`]), which advances it and draws the canvas every frame;
//! - the Yew components, which re-render ~10 times a second from a [`Snapshot`] of it, and
//!   whose controls send it commands.

mod actions;
mod controls;
// Course-page features (issue 7): compare, course, importexport, lesson, share, timetravel.
pub mod compare;
pub mod course;
pub mod curve;
mod dashboard;
mod dbpanel;
pub mod export_panel;
pub mod importexport;
pub mod lesson;
mod panels;
pub mod panic;
mod security;
pub mod share;
mod snapshot;
pub mod timetravel;
mod topology;

pub use snapshot::Snapshot;
pub use topology::FrameStats;

use crate::render::format;
use crate::scenario::{preset, Scenario};
use crate::sim::{CommandKind, Driver, NodeId, Sim, TraceConfig};
use gloo::events::EventListener;
use gloo::timers::callback::Interval;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use topology::Topology;
use wasm_bindgen::JsCast;
use web_sys::Element;
use yew::prelude::*;

/// Particles drawn per frame, and fewer when the user asks for reduced motion.
const MAX_PARTICLES: usize = 400;
const MAX_PARTICLES_REDUCED: usize = 60;
/// How often the Yew-rendered figures refresh, ms.
const REFRESH_MS: u32 = 100;

/// What the animation loop and the components share.
#[derive(Clone)]
pub struct Shared {
    pub driver: Rc<RefCell<Driver>>,
    pub frame: Rc<Cell<FrameStats>>,
    pub show_particles: Rc<Cell<bool>>,
    pub max_particles: usize,
    /// The node picked on the canvas or in the node selector.
    pub selected: Rc<Cell<Option<NodeId>>>,
    /// The event log shows only lines about this node.
    pub log_filter: Rc<Cell<Option<NodeId>>>,
    /// The user asked for less motion: no moving dashes, fewer particles.
    pub reduced_motion: bool,
    /// Work time (model step + drawing) of the latest frames, ms.
    pub frame_times: Rc<RefCell<VecDeque<f64>>>,
}

/// What [`mount_page`] hands back: the page's model and its frame times.
#[derive(Clone)]
pub struct PageHandle {
    pub driver: Rc<RefCell<Driver>>,
    /// Work time (model step + drawing) of each recent frame, ms, oldest first.
    pub frame_times: Rc<RefCell<VecDeque<f64>>>,
}

/// What the page's panels are drawn from. The panels are plain functions of it, not Yew
/// components: they hold no state of their own, and each component type cost the page about
/// 1.5 KB of WebAssembly (its own copy of Yew's generic lifecycle and rendering code).
pub struct Panel {
    pub shared: Shared,
    pub snap: Rc<Snapshot>,
    /// Told the outcome of every command (to show or clear an error, and refresh).
    pub on_result: Callback<Result<(), String>>,
}

impl PartialEq for Shared {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.driver, &other.driver)
    }
}

impl Shared {
    /// Send a command to the running model.
    pub fn send(&self, kind: CommandKind) -> Result<(), String> {
        let mut driver = self.driver.try_borrow_mut().map_err(|_| "the model is busy; try again".to_string())?;
        driver.command(kind)
    }

    /// Pause (if running) and process exactly one event.
    pub fn step(&self) -> Result<(), String> {
        let mut driver = self.driver.try_borrow_mut().map_err(|_| "the model is busy; try again".to_string())?;
        if !driver.paused() {
            driver.command(CommandKind::Pause)?;
        }
        if driver.step_event() {
            Ok(())
        } else {
            Err("nothing left to simulate".into())
        }
    }

    /// Start the run again from the beginning with `scenario` (structural changes: balancer
    /// pair, replicas, seed). Pause and speed stay as they were.
    pub fn restart(&self, scenario: Scenario) -> Result<(), String> {
        let problems = scenario.validate();
        if let Some(p) = problems.first() {
            return Err(format!("cannot restart with that setting: {p}"));
        }
        let mut driver = self.driver.try_borrow_mut().map_err(|_| "the model is busy; try again".to_string())?;
        driver.sim = Sim::new(scenario, TraceConfig { enabled: true, capacity: TRACE_CAPACITY });
        if self.selected.get().is_some_and(|id| !exists(&driver.sim, id)) {
            self.selected.set(None);
        }
        Ok(())
    }

    /// The scenario as it runs now (live changes included), to edit and restart with.
    pub fn scenario(&self) -> Option<Scenario> {
        self.driver.try_borrow().ok().map(|d| d.sim.scenario().clone())
    }

    fn toggle_pause(&self) -> Result<(), String> {
        let paused = self.driver.try_borrow().map(|d| d.paused()).unwrap_or(false);
        self.send(if paused { CommandKind::Resume } else { CommandKind::Pause })
    }
}

#[derive(Properties, PartialEq)]
pub struct AppProps {
    pub shared: Shared,
}

#[component(App)]
pub fn app(props: &AppProps) -> Html {
    let refresh = use_force_update();
    let error = use_state(|| None::<String>);
    let show_particles = use_state(|| props.shared.show_particles.get());
    // Figures refresh at ~10 Hz; the canvas animates on its own every frame.
    use_refresh_every(REFRESH_MS, refresh.clone());
    let on_result = {
        let (error, refresh) = (error.clone(), refresh.clone());
        Callback::from(move |result: Result<(), String>| {
            match result {
                Ok(()) => error.set(None),
                Err(e) => error.set(Some(e)),
            }
            refresh.force_update();
        })
    };
    use_play_keys(props.shared.clone(), on_result.clone());

    let snap = match props.shared.driver.try_borrow() {
        Ok(driver) => Rc::new(Snapshot::take(
            &driver,
            props.shared.frame.get(),
            props.shared.selected.get(),
            props.shared.log_filter.get(),
        )),
        Err(_) => return html! { <p>{ "Loading…" }</p> },
    };
    let on_select = Callback::from(move |_: Option<NodeId>| refresh.force_update());
    let stage = stage(&props.shared, &snap, on_select, show_particles);
    let panel = Panel { shared: props.shared.clone(), snap, on_result };

    html! {
        <div class="app">
            <header class="top">
                <h1>{ "infrasim" }<span class="tagline">{ " · www.foobar.com, simulated live" }</span></h1>
                <p class="intro">{ format::PAGE_INTRO }</p>
            </header>
            // Course bar (issue 7): design picker, share, time travel, link problems.
            <course::CourseBar shared={props.shared.clone()} />
            if let Some(message) = (*error).clone() {
                <p class="command-error" role="alert">{ message }</p>
            }
            <main class="layout">
                { stage }
                <aside class="panel">
                    // Lesson card (issue 7).
                    { course::lesson_card(&props.shared) }
                    { controls::controls(&panel) }
                    { actions::node_actions(&panel) }
                    { panels::server_table(&panel) }
                    { dbpanel::db_panel(&panel) }
                    { security::security_panel(&panel) }
                </aside>
                <div class="lower">
                    { dashboard::dashboard(&panel) }
                    <curve::CapacityPanel shared={props.shared.clone()} rate_per_s={panel.snap.rate_per_s} commands={panel.snap.commands} />
                    { actions::redundancy(&panel) }
                    { panels::event_log(&panel) }
                </div>
            </main>
            // Side by side, save/load, embed snippet (issue 7).
            { course::course_lower(&props.shared) }
        </div>
    }
}

/// Re-render every `period_ms` while the page is mounted.
#[hook]
fn use_refresh_every(period_ms: u32, refresh: UseForceUpdateHandle) {
    use_effect_with((), move |_| {
        let timer = Interval::new(period_ms, move || refresh.force_update());
        move || drop(timer)
    });
}

/// Space plays and pauses and "." steps, unless the focus is somewhere the key means
/// something else.
#[hook]
fn use_play_keys(shared: Shared, on_result: Callback<Result<(), String>>) {
    use_effect_with((), move |_| {
        let listener = web_sys::window().and_then(|w| w.document()).map(|doc| {
            EventListener::new(&doc, "keydown", move |e| {
                let Some(e) = e.dyn_ref::<web_sys::KeyboardEvent>() else { return };
                let key = e.key();
                if !(key == " " || key == ".") || e.ctrl_key() || e.alt_key() || e.meta_key() {
                    return;
                }
                if space_belongs_to_target(e.target()) {
                    return;
                }
                e.prevent_default();
                if key == "." {
                    // "." steps one event, like a video player's frame step.
                    on_result.emit(shared.step());
                } else if !e.repeat() {
                    on_result.emit(shared.toggle_pause());
                }
            })
        });
        move || drop(listener)
    });
}

/// The simulation: the headline figures, the canvas and its caption.
fn stage(
    shared: &Shared,
    snap: &Snapshot,
    on_select: Callback<Option<NodeId>>,
    show_particles: UseStateHandle<bool>,
) -> Html {
    let canvas_label = canvas_description(snap);
    html! {
        <section class="stage" aria-label="Simulation">
            { panels::figures(snap) }
            <div class="canvas-wrap">
                <Topology shared={shared.clone()} label={AttrValue::from(canvas_label)} {on_select} />
            </div>
            { canvas_caption(shared, snap, show_particles) }
        </section>
    }
}

/// Under the canvas: the legend, what is drawn and how fast, and the particles switch.
fn canvas_caption(shared: &Shared, snap: &Snapshot, show_particles: UseStateHandle<bool>) -> Html {
    let drawn = snap.travelling.min(shared.max_particles);
    let f = snap.frame;
    let frame_text = format!(
        "frame {:.1} ms · {:.0} fps · {} events/frame{}",
        f.work_ms,
        f.fps,
        format::count(f.events),
        if f.kept_up { "" } else { " · model slower than real time" }
    );
    let shown = *show_particles;
    let on_particles = {
        let shared = shared.clone();
        Callback::from(move |e: Event| {
            if let Some(input) = e.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                shared.show_particles.set(input.checked());
                show_particles.set(input.checked());
            }
        })
    };
    html! {
        <div class="canvas-caption">
            <p class="legend">
                <span class="key read" aria-hidden="true">{ "●" }</span>{ " read " }
                <span class="key write" aria-hidden="true">{ "◆" }</span>{ " write " }
                <span class="key error" aria-hidden="true">{ "✕" }</span>{ " error " }
                <span class="key reply" aria-hidden="true">{ "○" }</span>{ " hollow: response " }
                <span class="key repl" aria-hidden="true">{ "┄" }</span>{ " replication " }
                <span class="key probe" aria-hidden="true">{ "➤" }</span>{ " outside probe · " }
                { "dashed grey box: standby · dashed red: down · click a node to act on it" }
            </p>
            <p class="status">
                { format!("{} of {} requests in transit drawn · ", format::count(drawn as u64), format::count(snap.travelling as u64)) }
                <span class="frame">{ frame_text }</span>
            </p>
            <label class="inline">
                <input type="checkbox" checked={shown} onchange={on_particles} />
                { "Show requests moving" }
            </label>
        </div>
    }
}

/// The canvas's text alternative: the design and every node's state in words.
fn canvas_description(snap: &Snapshot) -> String {
    let mut parts = vec!["Topology of www.foobar.com".to_string()];
    parts.push(if snap.dns_alive { "DNS up".into() } else { "DNS down".into() });
    let pair = snap.lbs.len() >= 2;
    for lb in &snap.lbs {
        let state = format::lb_status(lb, pair, snap.lb_pair_dns).map_or_else(|| "up".to_string(), |(t, _)| t);
        parts.push(format!("{} {state}", lb.id));
    }
    if snap.split_brain {
        parts.push("split brain".into());
    }
    if let Some(words) = &snap.duplicate_address {
        parts.push(words.clone());
    }
    for w in &snap.servers {
        parts.push(format!("{} {}", w.id, format::web_role(w, snap.ha.fall, snap.ha.rise).0));
    }
    for d in &snap.db {
        let role = format::db_role(d).0;
        if d.alive {
            parts.push(format!("{} {}: {role}", d.id, format::db_role_word(d.role)));
        } else {
            parts.push(format!("{} {role}", d.id));
        }
    }
    if !snap.cut_links.is_empty() {
        parts
            .push(format!("cut links {}", snap.cut_links.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", ")));
    }
    parts.join("; ")
}

/// True when Space typed at `target` should keep its usual meaning (typing, pressing a button,
/// ticking a box, opening a list, scrolling the event log).
fn space_belongs_to_target(target: Option<web_sys::EventTarget>) -> bool {
    let Some(el) = target.and_then(|t| t.dyn_into::<Element>().ok()) else { return false };
    let tag = el.tag_name().to_ascii_lowercase();
    matches!(tag.as_str(), "input" | "textarea" | "select" | "button" | "a" | "summary" | "option")
        || el.closest("[contenteditable], [data-keep-space]").ok().flatten().is_some()
}

/// Model events kept for the event log.
const TRACE_CAPACITY: usize = 2_000;

/// Whether a node is part of the running design (the clients always are).
fn exists(sim: &Sim, id: NodeId) -> bool {
    id == NodeId::Clients || crate::sim::design::nodes(sim.scenario()).contains(&id)
}

/// Does the user ask for less motion?
fn prefers_reduced_motion() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-reduced-motion: reduce)").ok().flatten())
        .is_some_and(|m| m.matches())
}

/// The scenario the page opens with.
fn initial_scenario() -> Scenario {
    preset("three-server").unwrap_or_default()
}

/// Mount the page on `root` and return the model it drives.
///
/// `start()` calls this for `#root`. It is also the browser tests' seam: the returned handle is
/// the very `Driver` the page's controls command and its animation loop advances, so a test can
/// move a control in the DOM and read the effect on the model.
pub fn mount(root: Element) -> Rc<RefCell<Driver>> {
    mount_scenario(root, initial_scenario())
}

/// [`mount`] with a given scenario (which must have passed `Scenario::validate`).
pub fn mount_scenario(root: Element, scenario: Scenario) -> Rc<RefCell<Driver>> {
    mount_page(root, scenario).driver
}

/// [`mount_scenario`], also handing back the frame times (for the frame-time benchmark).
pub fn mount_page(root: Element, scenario: Scenario) -> PageHandle {
    let sim = Sim::new(scenario, TraceConfig { enabled: true, capacity: TRACE_CAPACITY });
    let driver = Rc::new(RefCell::new(Driver::new(sim)));
    let reduced = prefers_reduced_motion();
    let frame_times = Rc::new(RefCell::new(VecDeque::with_capacity(topology::FRAME_TIMES_KEPT)));
    let shared = Shared {
        driver: driver.clone(),
        frame: Rc::new(Cell::new(FrameStats::default())),
        show_particles: Rc::new(Cell::new(true)),
        max_particles: if reduced { MAX_PARTICLES_REDUCED } else { MAX_PARTICLES },
        selected: Rc::new(Cell::new(None)),
        log_filter: Rc::new(Cell::new(None)),
        reduced_motion: reduced,
        frame_times: frame_times.clone(),
    };
    yew::Renderer::<App>::with_root_and_props(root, AppProps { shared }).render();
    PageHandle { driver, frame_times }
}

/// Start the page: install the crash banner, then mount on `#root`.
pub fn start() {
    panic::install();
    // Issue 7: this page reads its run from the address bar and keeps the bar in step.
    course::enable_location();
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        web_sys::console::error_1(&"infrasim: no document to draw in".into());
        return;
    };
    let root = match doc.get_element_by_id("root") {
        Some(root) => root,
        None => {
            panic::show_banner("the page has no element with id \"root\" to mount on");
            return;
        }
    };
    mount(root);
}
