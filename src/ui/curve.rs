//! The capacity curve panel: the design as it is now, run over a range of loads (a curve per
//! balancing algorithm, theory dashed beside it), drawn point by point as the runs finish, with
//! the load the design runs at now marked.
//!
//! The runs are stepped on the page's thread, a few milliseconds at a time between frames, like
//! the single-point-of-failure check. Web Workers would spread them over the cores, but a Trunk
//! worker is a second WebAssembly build of the model (about as large as the page again, against
//! a size budget the page already fills) loaded by a second script, and the whole sweep takes
//! one to three seconds stepped; so it stays on one thread.

use super::Shared;
use crate::render::curve_svg::{self, Frame};
use crate::render::format;
use crate::scenario::Scenario;
use crate::sim::capacity::CapacitySweep;
use gloo::timers::callback::Timeout;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use yew::prelude::*;

/// Model events between two looks at the clock (well under a millisecond of work).
const EVENTS_PER_SLICE: u64 = 5_000;
/// Work per tick before the page gets the thread back: half a 60 Hz frame.
const TICK_BUDGET_MS: f64 = 8.0;

#[derive(Properties, PartialEq)]
pub struct CurveProps {
    pub shared: Shared,
    /// The load now and the number of commands given: when either changes the panel re-renders,
    /// to move the mark or flag curves drawn for an earlier design.
    pub rate_per_s: f64,
    pub commands: usize,
}

/// What the panel shows besides the chart.
#[derive(Clone, PartialEq)]
enum Status {
    Idle,
    Running,
    /// The design changed during the run, so it was dropped.
    Stale,
    NothingBusy,
    Done,
}

/// The sweep under way or finished, and the design it is for.
struct Run {
    /// Tells this run's ticks from those of a run cancelled or replaced.
    id: u32,
    sweep: CapacitySweep,
    design: Scenario,
}

#[derive(Default)]
struct Runs {
    started: u32,
    current: Option<Run>,
}

/// The design with its load left out: moving the traffic slider moves the mark, not the curves.
fn without_load(s: &Scenario) -> Scenario {
    let mut s = s.clone();
    s.traffic.arrival_rate_per_s = 0.0;
    s
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

/// Step run `id` for one tick's budget on a fresh task, then schedule the next tick. Setting
/// the status re-renders the panel: the progress and any new point show at once.
fn tick(shared: Shared, runs: Weak<RefCell<Runs>>, id: u32, status: UseStateHandle<Status>) {
    Timeout::new(0, move || {
        let Some(runs_alive) = runs.upgrade() else { return };
        let Ok(mut runs_now) = runs_alive.try_borrow_mut() else { return };
        let Some(run) = runs_now.current.as_mut().filter(|run| run.id == id) else { return };
        let changed =
            shared.driver.try_borrow().is_ok_and(|d| without_load(d.sim.scenario()) != without_load(&run.design));
        if changed {
            runs_now.current = None;
            status.set(Status::Stale);
            return;
        }
        let start = now_ms();
        let mut more = Ok(true);
        while matches!(more, Ok(true)) && now_ms() - start < TICK_BUDGET_MS {
            more = run.sweep.step(EVENTS_PER_SLICE);
        }
        match more {
            Ok(true) => {
                status.set(Status::Running);
                drop(runs_now);
                tick(shared, runs, id, status);
            }
            Ok(false) => status.set(Status::Done),
            Err(_) => status.set(Status::NothingBusy),
        }
    })
    .forget();
}

#[component(CapacityPanel)]
pub fn capacity_panel(props: &CurveProps) -> Html {
    let status = use_state(|| Status::Idle);
    let runs = use_mut_ref(Runs::default);
    let on_run = {
        let (shared, runs, status) = (props.shared.clone(), runs.clone(), status.clone());
        Callback::from(move |_: MouseEvent| {
            let (Some(design), Ok(mut runs_now)) = (shared.scenario(), runs.try_borrow_mut()) else { return };
            if *status == Status::Running {
                return; // the button is marked aria-disabled
            }
            runs_now.started = runs_now.started.wrapping_add(1);
            let id = runs_now.started;
            runs_now.current = Some(Run { id, sweep: CapacitySweep::new(&design), design });
            drop(runs_now);
            status.set(Status::Running);
            tick(shared.clone(), Rc::downgrade(&runs), id, status.clone());
        })
    };
    let on_cancel = {
        let (runs, status) = (runs.clone(), status.clone());
        Callback::from(move |_: MouseEvent| {
            if let Ok(mut runs_now) = runs.try_borrow_mut() {
                runs_now.current = None;
            }
            status.set(Status::Idle);
        })
    };
    let running = *status == Status::Running;
    let live = props.shared.scenario();
    let current_load = props.rate_per_s;
    let runs_now = runs.borrow();
    let run = runs_now.current.as_ref();
    let words = match (&*status, run) {
        (Status::Running, Some(run)) => {
            let (done, total) = run.sweep.progress();
            match run.sweep.measuring() {
                Some((curve, load)) => format!(
                    "Running {} at {}/s… ({} of {total} runs)",
                    run.sweep.curves[curve].algorithm.map_or("the design", |a| a.name()),
                    format::rate(load),
                    done + 1
                ),
                None => "Estimating the design's capacity…".to_string(),
            }
        }
        (Status::Stale, _) => {
            "The design changed during the run, so it was dropped. Press the button to draw the design as it is now."
                .to_string()
        }
        (Status::NothingBusy, _) => {
            "No server did any work in the trial runs, so there is no capacity to draw against.".to_string()
        }
        _ => String::new(),
    };
    let summary = run.and_then(|r| r.sweep.capacity_per_s).map(|c| format::capacity_summary(c, current_load));
    let outdated = *status == Status::Done
        && run.zip(live.as_ref()).is_some_and(|(r, s)| without_load(&r.design) != without_load(s));
    let chart = run.filter(|r| !r.sweep.points.is_empty()).map(|r| {
        let svg = curve_svg::draw(&curve_svg::capacity_chart(&r.sweep, current_load), Frame::Page);
        Html::from_html_unchecked(AttrValue::from(svg))
    });
    html! {
        <section class="card capacity" aria-labelledby="capacity-title">
            <h2 id="capacity-title">{ "Capacity curve" }</h2>
            <p class="hint">
                { "Runs this design at eight loads up to its capacity, three seeds each, and draws the mean latency against the load: flat at first, then climbing steeply as the busiest server fills. Bars show each point's 95 % interval over the seeds; dashed lines are queueing theory, where a formula covers the design. Random failures are left out." }
            </p>
            <div class="run-buttons">
                <button type="button" name="capacity" onclick={on_run} aria-disabled={running.to_string()}>
                    { "Draw capacity curves" }
                </button>
                if running {
                    <button type="button" name="capacity-cancel" onclick={on_cancel}>{ "Cancel" }</button>
                }
            </div>
            <p class="run-progress" role="status" aria-live="polite">{ words }</p>
            if let Some(summary) = summary {
                <p class="capacity-summary">{ summary }</p>
            }
            if outdated {
                <p class="hint">{ "These curves are for the design before your last change; draw them again to see it." }</p>
            }
            if let Some(chart) = chart {
                <div class="capacity-chart" role="img" aria-label="Mean latency against offered load, a curve per algorithm">
                    { chart }
                </div>
            }
        </section>
    }
}
