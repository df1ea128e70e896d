//! Helpers shared by the browser tests (headless Chromium): mounting a page in its own container,
//! waiting on the browser, finding elements and acting on them like a user.
//!
//! A directory module, so cargo does not build it as a test of its own: each `tests/browser_*.rs`
//! says `mod browser_support;` and uses the part it needs.
#![cfg(target_arch = "wasm32")]
#![allow(dead_code)]

use infrasim::scenario::{preset, Scenario};
use infrasim::sim::Driver;
use infrasim::ui::PageHandle;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, EventInit, HtmlElement, HtmlSelectElement, KeyboardEvent, KeyboardEventInit};

/// The model a mounted page drives: the very `Driver` its controls command and its animation
/// loop advances.
pub type Model = Rc<RefCell<Driver>>;

/// How often the waits below look again, ms.
pub const POLL_MS: u32 = 50;

/// How long [`wait_until`] (and so every mount) waits: the longest default any test file had
/// (`browser_course.rs` polled 150 times, the others 100).
pub const WAIT_UNTIL_MS: u32 = 7_500;

pub fn document() -> web_sys::Document {
    web_sys::window().expect("a window").document().expect("a document")
}

/// Yield to the browser for `ms` milliseconds (a `setTimeout` promise: gloo's timer futures need
/// a gloo feature this crate does not enable).
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let window = web_sys::window().expect("a window");
        window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms).expect("setTimeout");
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.expect("the timeout resolves");
}

/// Poll `done` every [`POLL_MS`] for up to `ms` milliseconds; panic naming `what` if it never holds.
pub async fn wait_ms(what: &str, ms: u32, mut done: impl FnMut() -> bool) {
    for _ in 0..ms.div_ceil(POLL_MS) {
        if done() {
            return;
        }
        sleep(POLL_MS as i32).await;
    }
    panic!("timed out after {ms} ms waiting until {what}");
}

/// Poll for up to `seconds` (for what takes longer than [`wait_until`] allows).
pub async fn wait_for(what: &str, seconds: u32, done: impl FnMut() -> bool) {
    wait_ms(what, seconds * 1_000, done).await
}

/// Poll for up to [`WAIT_UNTIL_MS`].
pub async fn wait_until(what: &str, done: impl FnMut() -> bool) {
    wait_ms(what, WAIT_UNTIL_MS, done).await
}

/// The first element under `root` that matches `selector`, as a `T`; panics if there is none.
pub fn find<T: JsCast>(root: &Element, selector: &str) -> T {
    root.query_selector(selector)
        .expect("valid selector")
        .unwrap_or_else(|| panic!("no element matches {selector}"))
        .dyn_into::<T>()
        .unwrap_or_else(|_| panic!("{selector} is not the expected element type"))
}

/// Whether an element under `root` matches `selector`.
pub fn present(root: &Element, selector: &str) -> bool {
    root.query_selector(selector).ok().flatten().is_some()
}

/// The button under `root` whose text, trimmed, is `text`; panics if there is none.
pub fn button_with_text(root: &Element, text: &str) -> HtmlElement {
    let buttons = root.query_selector_all("button").expect("valid selector");
    for i in 0..buttons.length() {
        let b: HtmlElement = buttons.get(i).expect("a listed node").dyn_into().expect("a button element");
        if b.text_content().unwrap_or_default().trim() == text {
            return b;
        }
    }
    panic!("no button says {text}");
}

/// Fire an event the way a user's input would (bubbling, like the browser's own).
pub fn fire(target: &Element, kind: &str) {
    let init = EventInit::new();
    init.set_bubbles(true);
    let event = Event::new_with_event_init_dict(kind, &init).expect("create event");
    target.dispatch_event(&event).expect("dispatch event");
}

/// Pick `value` in the `select` under `host` (it must offer it) and tell the page it changed.
pub fn choose(host: &Element, select: &str, value: &str) {
    let s: HtmlSelectElement = find(host, select);
    s.set_value(value);
    assert_eq!(s.value(), value, "{select} offers {value}");
    fire(&s, "change");
}

/// Press `key` with `target` focused: a cancelable `keydown` that starts there and bubbles to the
/// document, with the `code` a keyboard gives the keys the page listens for.
pub fn press(target: &Element, key: &str) {
    let init = KeyboardEventInit::new();
    init.set_key(key);
    match key {
        " " => init.set_code("Space"),
        "." => init.set_code("Period"),
        _ => {}
    }
    init.set_bubbles(true);
    init.set_cancelable(true);
    let event = KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).expect("keyboard event");
    target.dispatch_event(&event).expect("dispatch keydown");
}

/// The course's design.
pub fn three_server() -> Scenario {
    preset("three-server").expect("preset")
}

/// A fresh container at the end of the document's body.
fn new_host() -> Element {
    let doc = document();
    let host = doc.create_element("div").expect("create div");
    doc.body().expect("a body").append_child(&host).expect("append host");
    host
}

/// Wait for a freshly mounted page to render, size its canvas like a desktop's and wait for the
/// model to run.
async fn settle(host: &Element, model: &Model) {
    wait_until("the page renders", || present(host, ".canvas-wrap") && present(host, ".course-bar")).await;
    // The test page has no stylesheet: give the canvas's box the size the page's CSS would.
    let wrap: HtmlElement = find(host, ".canvas-wrap");
    wrap.style().set_property("width", "960px").expect("set width");
    wrap.style().set_property("height", "480px").expect("set height");
    wait_until("the model starts running", || model.borrow().sim.now() > 0).await;
}

/// A fresh page (`infrasim::ui::mount`, the page's own first design) in its own container, once
/// it runs.
pub async fn mount() -> (Element, Model) {
    let host = new_host();
    let model = infrasim::ui::mount(host.clone());
    settle(&host, &model).await;
    (host, model)
}

/// A fresh page with `scenario` in its own container, once it runs.
pub async fn mount_scenario(scenario: Scenario) -> (Element, Model) {
    let host = new_host();
    let model = infrasim::ui::mount_scenario(host.clone(), scenario);
    settle(&host, &model).await;
    (host, model)
}

/// [`mount_scenario`], also handing back the page's frame times.
pub async fn mount_page(scenario: Scenario) -> (Element, PageHandle) {
    let host = new_host();
    let page = infrasim::ui::mount_page(host.clone(), scenario);
    settle(&host, &page.driver).await;
    (host, page)
}
