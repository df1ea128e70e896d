//! The timeline scrubber: jump to any earlier simulated time by replaying seed + scenario +
//! commands (`sim::replay`), look around (the model holds still there), scrub forward again
//! through the recorded inputs, or continue from there (the inputs after that moment are then
//! dropped: the run takes a new branch).

use super::course::{install, state_for, CourseProps, PAGE_TRACE};
use crate::render::format;
use crate::sim::{CommandKind, Driver, SimTime};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// Rebuild the page's run at simulated time `t_us` (at most the end of the recording) and hold
/// it there, paused.
pub fn seek(driver: &Rc<RefCell<Driver>>, t_us: SimTime) -> Result<(), String> {
    let state = state_for(driver);
    let rebuilt = state.recording.borrow_mut().seek(t_us, PAGE_TRACE).map_err(|e| e.to_string())?;
    install(driver, rebuilt)?;
    {
        let mut d = driver.try_borrow_mut().map_err(|_| "the model is busy; try again".to_string())?;
        if !d.paused() {
            d.command(CommandKind::Pause)?;
        }
        state.recording.borrow_mut().settle(&d.sim);
    }
    state.bump();
    Ok(())
}

fn ms_of(us: SimTime) -> u64 {
    us / 1_000
}

#[component(TimeTravel)]
pub fn time_travel(props: &CourseProps) -> Html {
    let state = super::course::use_course(&props.shared, false);
    let dragging = use_state(|| None::<u64>);
    let error = use_state(|| None::<String>);
    let (now, paused) = props.shared.driver.try_borrow().map(|d| (d.sim.now(), d.paused())).unwrap_or((0, true));
    let (horizon, scrubbed) = {
        let r = state.recording.borrow();
        (r.horizon.max(now), r.scrubbed())
    };
    let go = {
        let (driver, error, dragging) = (props.shared.driver.clone(), error.clone(), dragging.clone());
        Callback::from(move |t_us: SimTime| {
            dragging.set(None);
            error.set(seek(&driver, t_us).err());
        })
    };
    let value_of = |e: &Event| -> Option<u64> {
        e.target()?.dyn_into::<HtmlInputElement>().ok()?.value().trim().parse::<u64>().ok()
    };
    let on_input = {
        let dragging = dragging.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(v) = value_of(&e) {
                dragging.set(Some(v));
            }
        })
    };
    let on_change = {
        let go = go.clone();
        Callback::from(move |e: Event| {
            if let Some(ms) = value_of(&e) {
                go.emit(ms * 1_000);
            }
        })
    };
    let jump = |delta_s: i64| {
        let go = go.clone();
        Callback::from(move |_: MouseEvent| {
            let t = (now as i64 + delta_s * 1_000_000).clamp(0, horizon as i64) as SimTime;
            go.emit(t);
        })
    };
    let on_end = {
        let go = go.clone();
        Callback::from(move |_: MouseEvent| go.emit(horizon))
    };
    let on_continue = {
        let (driver, error) = (props.shared.driver.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            let result = driver
                .try_borrow_mut()
                .map_err(|_| "the model is busy; try again".to_string())
                .and_then(|mut d| d.command(CommandKind::Resume));
            error.set(result.err());
        })
    };
    let shown_ms = dragging.unwrap_or(ms_of(now));
    let status = match scrubbed {
        Some(at) if at >= horizon => format!(
            "At the latest moment recorded, {}, paused. Press Play or Continue to run on.",
            format::sim_time(at)
        ),
        Some(at) => format!(
            "Back at {} of the {} recorded. Scrub on, or continue from here: the inputs given after this moment are then dropped.",
            format::sim_time(at),
            format::sim_time(horizon)
        ),
        None if paused => format!("Paused at {}. Drag back to replay any earlier moment.", format::sim_time(now)),
        None => format!("Recording: {} so far. Drag back to replay any earlier moment.", format::sim_time(horizon)),
    };
    html! {
        <div class="timetravel">
            <label class="timeline">
                <span class="name">{ "Time" }</span>
                <input type="range" name="timeline" min="0" max={ms_of(horizon).to_string()} step="100"
                    value={shown_ms.to_string()} oninput={on_input} onchange={on_change}
                    aria-valuetext={format::sim_time(shown_ms * 1_000)} />
                <span class="value">{ format::sim_time(shown_ms * 1_000) }</span>
            </label>
            <div class="timeline-buttons">
                <button type="button" class="back" onclick={jump(-5)} title="Replay the run up to 5 simulated seconds earlier">{ "−5 s" }</button>
                <button type="button" class="forward" onclick={jump(5)} title="5 simulated seconds later, replaying the recorded inputs">{ "+5 s" }</button>
                <button type="button" class="to-end" onclick={on_end} title="The latest moment recorded">{ "Latest" }</button>
                if scrubbed.is_some() {
                    <button type="button" class="continue" onclick={on_continue}>{ "Continue from here" }</button>
                }
            </div>
            <p class="timeline-status">{ status }</p>
            if let Some(e) = (*error).clone() {
                <p class="command-error" role="alert">{ e }</p>
            }
        </div>
    }
}
