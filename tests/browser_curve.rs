//! The capacity curve panel draws its points as the runs finish, keeps the page animating
//! (the longest gap between two frames is printed and bounded), marks the load now, and drops a
//! run whose design changed under it (headless Chromium).
//!
//! Run with `cargo test --target wasm32-unknown-unknown --test browser_curve`.
#![cfg(target_arch = "wasm32")]

mod browser_support;

use browser_support::*;
use infrasim::render::format;
use infrasim::scenario::preset;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

/// The longest gap between two animation frames tolerated while the curves run. A tick is
/// 8 ms of model work; one exact join-shortest-queue solution near ρ = 0.95 takes tens of ms
/// more. A frozen page (the whole sweep at once) would show 1 s or more.
const LONGEST_FRAME_GAP_MS: f64 = 250.0;

fn button(host: &Element) -> HtmlElement {
    find(host, "button[name=capacity]")
}

fn running(host: &Element) -> bool {
    button(host).get_attribute("aria-disabled").as_deref() == Some("true")
}

/// Markers drawn for measured points (circles for the first curve, squares for the second),
/// the legend's two markers not counted.
fn points_drawn(host: &Element) -> u32 {
    let count = |s: &str| host.query_selector_all(s).map(|l| l.length()).unwrap_or(0);
    (count(".capacity-chart circle") + count(".capacity-chart rect[width=\"8\"]")).saturating_sub(2)
}

type FrameCallback = Rc<RefCell<Option<Closure<dyn FnMut(f64)>>>>;

/// Record the gaps between animation frames until `stop` is set; returns the longest so far.
fn watch_frames(stop: Rc<Cell<bool>>) -> Rc<Cell<f64>> {
    let longest = Rc::new(Cell::new(0.0f64));
    let last = Rc::new(Cell::new(None::<f64>));
    let callback: FrameCallback = Rc::new(RefCell::new(None));
    let again = callback.clone();
    let record = longest.clone();
    *callback.borrow_mut() = Some(Closure::new(move |t: f64| {
        if let Some(before) = last.replace(Some(t)) {
            record.set(record.get().max(t - before));
        }
        if stop.get() {
            again.borrow_mut().take();
            return;
        }
        if let Some(f) = again.borrow().as_ref() {
            let _ = web_sys::window().unwrap().request_animation_frame(f.as_ref().unchecked_ref());
        }
    }));
    if let Some(f) = callback.borrow().as_ref() {
        let _ = web_sys::window().unwrap().request_animation_frame(f.as_ref().unchecked_ref());
    }
    longest
}

#[wasm_bindgen_test]
async fn the_curves_arrive_point_by_point_with_theory_and_the_load_now_marked() {
    let (host, model) = mount_scenario(preset("queue-lab").unwrap()).await;
    let stop = Rc::new(Cell::new(false));
    let longest = watch_frames(stop.clone());
    button(&host).click();
    wait_until("the run starts", || running(&host)).await;
    let mut partial_seen = false;
    let mut progress_seen = Vec::<String>::new();
    let deadline = js_sys::Date::now() + 30_000.0;
    while running(&host) && js_sys::Date::now() < deadline {
        let drawn = points_drawn(&host);
        partial_seen |= drawn > 0 && drawn < 16;
        let text = find::<Element>(&host, ".capacity .run-progress").text_content().unwrap_or_default();
        if !text.is_empty() && progress_seen.last() != Some(&text) {
            progress_seen.push(text);
        }
        sleep(5).await;
    }
    stop.set(true);
    assert!(!running(&host), "the curves finished within 30 s");
    console_log!("capacity curve: longest frame gap {:.1} ms, {} progress lines", longest.get(), progress_seen.len());
    assert!(longest.get() < LONGEST_FRAME_GAP_MS, "the page froze for {:.1} ms", longest.get());
    assert!(partial_seen, "points appeared while the runs went on, not all at the end");
    assert!(progress_seen.iter().any(|t| t.contains("of 48 runs")), "progress named the runs: {progress_seen:?}");
    assert_eq!(points_drawn(&host), 16, "two curves of eight loads");
    let chart = find::<Element>(&host, ".capacity-chart").inner_html();
    assert!(chart.contains("roundrobin") && chart.contains("leastconn"), "each curve named");
    assert!(chart.contains("theory: roundrobin") && chart.contains("stroke-dasharray=\"6 4\""), "theory dashed");
    assert!(chart.contains("now: 150/s"), "the load now is marked");
    let summary = find::<Element>(&host, ".capacity-summary").text_content().unwrap_or_default();
    assert!(summary.contains("full at about") && summary.contains("150/s"), "{summary}");

    // More traffic moves the mark, and the curves stay: the load is not part of the design.
    let rate: HtmlInputElement = find(&host, "input[name=rate]");
    rate.set_value(&format::slider_from_rate(100.0).to_string());
    fire(&rate, "input");
    let now = || model.borrow().sim.scenario().traffic.arrival_rate_per_s;
    wait_until("the traffic changes", || now() != 150.0).await;
    let mark = format!("now: {}/s", format::rate(now()));
    wait_until("the mark follows the traffic", || {
        find::<Element>(&host, ".capacity-chart").inner_html().contains(&mark)
    })
    .await;
    assert_eq!(points_drawn(&host), 16);
    assert!(!find::<Element>(&host, ".capacity")
        .text_content()
        .unwrap_or_default()
        .contains("before your last change"));
}

#[wasm_bindgen_test]
async fn a_run_whose_design_changes_is_dropped_and_a_changed_design_is_flagged() {
    let (host, _model) = mount_scenario(three_server()).await;
    button(&host).click();
    wait_until("the run starts", || running(&host)).await;
    choose(&host, "select[name=algorithm]", "first");
    wait_until("the run is dropped", || {
        find::<Element>(&host, ".capacity").text_content().unwrap_or_default().contains("design changed during the run")
    })
    .await;
    assert!(!running(&host) && !present(&host, "button[name=capacity-cancel]"));
    // A finished run, then a change: the curves stay, flagged as for the design before it.
    button(&host).click();
    wait_until("the run starts", || running(&host)).await;
    wait_for("the curves finish", 30, || !running(&host)).await;
    assert_eq!(points_drawn(&host), 16);
    choose(&host, "select[name=algorithm]", "roundrobin");
    wait_until("the curves are flagged", || {
        find::<Element>(&host, ".capacity").text_content().unwrap_or_default().contains("before your last change")
    })
    .await;
}
