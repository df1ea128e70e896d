//! The page (browser only).
//!
//! The model lives outside Yew, in an `Rc<RefCell<Driver>>` shared by:
//! - the animation loop ([`topology`]), which advances it and draws the canvas every frame;
//! - the Yew components, which re-render ~10 times a second from a [`Snapshot`] of it, and
//!   whose controls send it commands.

mod controls;
mod panels;
pub mod panic;
mod snapshot;
mod topology;

pub use snapshot::Snapshot;
pub use topology::FrameStats;

use crate::render::format;
use crate::scenario::{preset, Scenario};
use crate::sim::{CommandKind, Driver, Sim, TraceConfig};
use controls::Controls;
use gloo::events::EventListener;
use gloo::timers::callback::Interval;
use panels::{EventLog, Figures, ServerTable};
use std::cell::{Cell, RefCell};
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
    {
        let refresh = refresh.clone();
        use_effect_with((), move |_| {
            let timer = Interval::new(REFRESH_MS, move || refresh.force_update());
            move || drop(timer)
        });
    }
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
    // Space plays and pauses, unless the focus is somewhere Space means something else.
    {
        let (shared, on_result) = (props.shared.clone(), on_result.clone());
        use_effect_with((), move |_| {
            let listener = web_sys::window().and_then(|w| w.document()).map(|doc| {
                EventListener::new(&doc, "keydown", move |e| {
                    let Some(e) = e.dyn_ref::<web_sys::KeyboardEvent>() else { return };
                    if e.key() != " " || e.ctrl_key() || e.alt_key() || e.meta_key() || e.repeat() {
                        return;
                    }
                    if space_belongs_to_target(e.target()) {
                        return;
                    }
                    e.prevent_default();
                    on_result.emit(shared.toggle_pause());
                })
            });
            move || drop(listener)
        });
    }
    let on_particles = {
        let (shared, show_particles) = (props.shared.clone(), show_particles.clone());
        Callback::from(move |e: Event| {
            if let Some(input) = e.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                shared.show_particles.set(input.checked());
                show_particles.set(input.checked());
            }
        })
    };

    let snap = match props.shared.driver.try_borrow() {
        Ok(driver) => Rc::new(Snapshot::take(&driver, props.shared.frame.get())),
        Err(_) => return html! { <p>{ "Loading…" }</p> },
    };
    let canvas_label = format!(
        "Topology of www.foobar.com: clients and DNS, load balancer lb1, {} web server{}, {}",
        snap.servers.len(),
        if snap.servers.len() == 1 { "" } else { "s" },
        match snap.db.len() {
            0 => "no database".to_string(),
            1 => "MySQL primary db1".to_string(),
            n => format!("MySQL primary db1 and {} replica{}", n - 1, if n == 2 { "" } else { "s" }),
        }
    );
    let drawn = snap.travelling.min(props.shared.max_particles);
    let f = snap.frame;
    let frame_text = format!(
        "frame {:.1} ms · {:.0} fps · {} events/frame{}",
        f.work_ms,
        f.fps,
        format::count(f.events),
        if f.kept_up { "" } else { " · model slower than real time" }
    );

    html! {
        <div class="app">
            <header class="top">
                <h1>{ "infrasim" }<span class="tagline">{ " · www.foobar.com, simulated live" }</span></h1>
                <p class="intro">
                    { "A visitor's browser looks up www.foobar.com in DNS and reaches lb1, an HAProxy load \
                       balancer, which passes each request to one of the web servers (Nginx in front of the \
                       application). The application reads from a MySQL replica and writes to the primary, which \
                       copies every change to the replicas. It is all a discrete-event simulation running in your \
                       browser: change the traffic or the balancing and watch queues, latency and errors respond." }
                </p>
            </header>
            if let Some(message) = (*error).clone() {
                <p class="command-error" role="alert">{ message }</p>
            }
            <main class="layout">
                <section class="stage" aria-label="Simulation">
                    <Figures snap={snap.clone()} />
                    <div class="canvas-wrap">
                        <Topology shared={props.shared.clone()} label={AttrValue::from(canvas_label)} />
                    </div>
                    <div class="canvas-caption">
                        <p class="legend">
                            <span class="key read" aria-hidden="true">{ "●" }</span>{ " read " }
                            <span class="key write" aria-hidden="true">{ "◆" }</span>{ " write " }
                            <span class="key error" aria-hidden="true">{ "✕" }</span>{ " error " }
                            <span class="key reply" aria-hidden="true">{ "○" }</span>{ " hollow: response " }
                            <span class="key repl" aria-hidden="true">{ "┄" }</span>{ " replication" }
                        </p>
                        <p class="status">
                            { format!("{} of {} requests in transit drawn · ", format::count(drawn as u64), format::count(snap.travelling as u64)) }
                            <span class="frame">{ frame_text }</span>
                        </p>
                        <label class="inline">
                            <input type="checkbox" checked={*show_particles} onchange={on_particles} />
                            { "Show requests moving" }
                        </label>
                    </div>
                </section>
                <aside class="panel">
                    <Controls shared={props.shared.clone()} snap={snap.clone()} on_result={on_result.clone()} />
                    <ServerTable shared={props.shared.clone()} snap={snap.clone()} on_result={on_result} />
                </aside>
                <EventLog snap={snap} />
            </main>
        </div>
    }
}

/// True when Space typed at `target` should keep its usual meaning (typing, pressing a button,
/// ticking a box, opening a list, scrolling the event log).
fn space_belongs_to_target(target: Option<web_sys::EventTarget>) -> bool {
    let Some(el) = target.and_then(|t| t.dyn_into::<Element>().ok()) else { return false };
    let tag = el.tag_name().to_ascii_lowercase();
    matches!(tag.as_str(), "input" | "textarea" | "select" | "button" | "a" | "summary" | "option")
        || el.closest("[contenteditable], [data-keep-space]").ok().flatten().is_some()
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
    let sim = Sim::new(scenario, TraceConfig { enabled: true, capacity: 2_000 });
    let driver = Rc::new(RefCell::new(Driver::new(sim)));
    let reduced = prefers_reduced_motion();
    let shared = Shared {
        driver: driver.clone(),
        frame: Rc::new(Cell::new(FrameStats::default())),
        show_particles: Rc::new(Cell::new(true)),
        max_particles: if reduced { MAX_PARTICLES_REDUCED } else { MAX_PARTICLES },
    };
    yew::Renderer::<App>::with_root_and_props(root, AppProps { shared }).render();
    driver
}

/// Start the page: install the crash banner, then mount on `#root`.
pub fn start() {
    panic::install();
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
