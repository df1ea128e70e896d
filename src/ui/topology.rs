//! The topology canvas and the animation loop. Each `requestAnimationFrame` advances the model by
//! the wall-clock time since the last frame and draws it straight onto the canvas: no Yew
//! rendering happens per frame (the rest of the page refreshes at ~10 Hz, see `super::App`).

use super::Shared;
use crate::render::canvas::{DrawOptions, Painter};
use crate::render::layout::{Layout, Point};
use crate::sim::{NodeId, SimTime};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

/// Frames whose work time is kept (for the frame-time benchmark).
pub const FRAME_TIMES_KEPT: usize = 1_000;

/// How the last frames went, for the page's frame-time readout.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FrameStats {
    /// Time spent advancing the model and drawing, per frame (smoothed), ms.
    pub work_ms: f64,
    /// Frames per second (smoothed).
    pub fps: f64,
    /// Model events processed in the last frame.
    pub events: u64,
    /// False when the per-frame event cap held the model back (slower than real time).
    pub kept_up: bool,
}

#[derive(Properties, PartialEq)]
pub struct TopologyProps {
    pub shared: Shared,
    /// The canvas's accessible description.
    pub label: AttrValue,
    /// Told which node the user clicked or tapped (none: the background).
    pub on_select: Callback<Option<NodeId>>,
}

#[component(Topology)]
pub fn topology(props: &TopologyProps) -> Html {
    let canvas = use_node_ref();
    {
        let (canvas, shared) = (canvas.clone(), props.shared.clone());
        use_effect_with((), move |_| {
            let running = FrameLoop::start(canvas, shared);
            move || drop(running)
        });
    }
    // A click or a tap picks the node under it, using the same layout the drawing used.
    let onclick = {
        let (canvas, shared, on_select) = (canvas.clone(), props.shared.clone(), props.on_select.clone());
        Callback::from(move |e: MouseEvent| {
            let Some(el) = canvas.cast::<HtmlCanvasElement>() else { return };
            let rect = el.get_bounding_client_rect();
            let Ok(driver) = shared.driver.try_borrow() else { return };
            let layout = Layout::for_view(rect.width(), rect.height(), &driver.sim.view(0));
            let at = Point { x: e.client_x() as f64 - rect.left(), y: e.client_y() as f64 - rect.top() };
            let hit = layout.hit(at).filter(|id| *id != NodeId::Clients);
            drop(driver);
            shared.selected.set(hit);
            on_select.emit(hit);
        })
    };
    html! {
        <canvas id="topology" class="topology" ref={canvas} role="img" aria-label={props.label.clone()} {onclick}></canvas>
    }
}

/// Redraw only when something visible may have changed.
#[derive(Clone, Copy, PartialEq)]
struct DrawKey {
    now: SimTime,
    events: u64,
    commands: usize,
    particles: bool,
    selected: Option<NodeId>,
}

struct FrameState {
    shared: Shared,
    canvas: NodeRef,
    painter: Option<Painter>,
    last_ts: Option<f64>,
    last_key: Option<DrawKey>,
    probes: ProbeTrails,
}

/// Outside probes cross the internet in a few simulated milliseconds, too fast to see. Each
/// one the model counts is replayed here as an arrow that takes [`PROBE_SHOW_MS`] of wall time,
/// aimed at the target the model recorded for it.
#[derive(Default)]
struct ProbeTrails {
    counted: Option<u64>,
    /// (target, dropped at the edge, wall-clock start in ms).
    live: Vec<(NodeId, bool, f64)>,
}

const PROBE_SHOW_MS: f64 = 900.0;
const PROBES_SHOWN: usize = 12;

impl ProbeTrails {
    fn update(&mut self, sim: &crate::sim::Sim, now: f64) {
        // Probes sent so far: the newest recorded one's sequence number plus one.
        let total = sim.recent_probes().next_back().map_or(0, |p| p.seq + 1);
        let seen = self.counted.unwrap_or(total);
        let first = seen.max(total.saturating_sub(PROBES_SHOWN as u64));
        for p in sim.recent_probes().filter(|p| p.seq >= first) {
            self.live.push((p.target, p.blocked, now));
        }
        self.counted = Some(total);
        self.live.retain(|(_, _, start)| now - start < PROBE_SHOW_MS * 1.3);
        if self.live.len() > PROBES_SHOWN {
            self.live.drain(..self.live.len() - PROBES_SHOWN);
        }
    }

    fn particles(&self, now: f64, still: bool) -> Vec<crate::sim::Particle> {
        self.live
            .iter()
            .enumerate()
            .map(|(k, (target, blocked, start))| crate::sim::Particle {
                request: k as u64,
                from: NodeId::Clients,
                to: if *blocked { NodeId::Lb(0) } else { *target },
                progress: if still { 1.0 } else { ((now - start) / PROBE_SHOW_MS).clamp(0.0, 1.0) as f32 },
                kind: crate::sim::ParticleKind::Error,
                reply: false,
            })
            .collect()
    }
}

/// The frame callback handed to `requestAnimationFrame` (made once, reused every frame).
type FrameCallback = Closure<dyn FnMut(f64)>;

struct LoopInner {
    callback: RefCell<Option<FrameCallback>>,
    request_id: Cell<Option<i32>>,
    state: RefCell<FrameState>,
}

/// A running animation loop; dropping it cancels the next frame and frees the loop.
pub struct FrameLoop(Rc<LoopInner>);

impl FrameLoop {
    pub fn start(canvas: NodeRef, shared: Shared) -> FrameLoop {
        let inner = Rc::new(LoopInner {
            callback: RefCell::new(None),
            request_id: Cell::new(None),
            state: RefCell::new(FrameState {
                shared,
                canvas,
                painter: None,
                last_ts: None,
                last_key: None,
                probes: ProbeTrails::default(),
            }),
        });
        let weak: Weak<LoopInner> = Rc::downgrade(&inner);
        let callback = FrameCallback::new(move |ts: f64| {
            if let Some(inner) = weak.upgrade() {
                inner.request_id.set(None);
                if let Ok(mut state) = inner.state.try_borrow_mut() {
                    state.frame(ts);
                }
                request(&inner);
            }
        });
        *inner.callback.borrow_mut() = Some(callback);
        request(&inner);
        FrameLoop(inner)
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

impl Drop for FrameLoop {
    fn drop(&mut self) {
        if let (Some(id), Some(window)) = (self.0.request_id.take(), web_sys::window()) {
            let _ = window.cancel_animation_frame(id);
        }
    }
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

impl FrameState {
    fn frame(&mut self, ts: f64) {
        let dt = self.last_ts.map_or(0.0, |last| (ts - last).max(0.0));
        self.last_ts = Some(ts);
        let started = now_ms();
        if self.painter.is_none() {
            let Some(canvas) = self.canvas.cast::<HtmlCanvasElement>() else { return };
            match Painter::new(canvas) {
                Ok(p) => self.painter = Some(p),
                Err(e) => {
                    web_sys::console::error_1(&e.into());
                    return;
                }
            }
        }
        let Some(painter) = self.painter.as_mut() else { return };
        let resized = painter.fit();
        let particles = self.shared.show_particles.get();
        let (view, options, report) = {
            let Ok(mut driver) = self.shared.driver.try_borrow_mut() else { return };
            let report = driver.advance(dt);
            let key = DrawKey {
                now: driver.sim.now(),
                events: driver.sim.events_processed(),
                commands: driver.sim.commands().len(),
                particles,
                selected: self.shared.selected.get(),
            };
            self.probes.update(&driver.sim, started);
            if !resized && self.last_key == Some(key) && self.probes.live.is_empty() {
                self.record(dt, started, report.events, report.kept_up);
                return;
            }
            self.last_key = Some(key);
            // Still counts per link need every request on the move, not a sample of them.
            let cap = match (particles, self.shared.reduced_motion) {
                (false, _) => 0,
                (true, true) => usize::MAX,
                (true, false) => self.shared.max_particles,
            };
            let mut view = driver.sim.view(cap);
            view.probes = self.probes.particles(started, self.shared.reduced_motion);
            let s = driver.sim.scenario();
            let options = DrawOptions {
                particles,
                random_draws: s.balancer.random_draws,
                selected: self.shared.selected.get(),
                phase: if self.shared.reduced_motion { 0.0 } else { driver.sim.now() as f64 / 1e6 },
                fall: s.balancer.health.fall,
                rise: s.balancer.health.rise,
                https: s.security.https,
                firewall: s.security.firewall,
                reduced_motion: self.shared.reduced_motion,
                slow: Default::default(),
            };
            (view, options, report)
        };
        painter.draw(&view, &options);
        self.record(dt, started, report.events, report.kept_up);
    }

    fn record(&self, dt: f64, started: f64, events: u64, kept_up: bool) {
        let mut s = self.shared.frame.get();
        let work = (now_ms() - started).max(0.0);
        let smooth = |old: f64, new: f64| if old == 0.0 { new } else { old * 0.9 + new * 0.1 };
        s.work_ms = smooth(s.work_ms, work);
        if dt > 0.0 {
            s.fps = smooth(s.fps, 1_000.0 / dt);
        }
        s.events = events;
        s.kept_up = kept_up;
        self.shared.frame.set(s);
        if let Ok(mut times) = self.shared.frame_times.try_borrow_mut() {
            if times.len() >= FRAME_TIMES_KEPT {
                times.pop_front();
            }
            times.push_back(work);
        }
    }
}
