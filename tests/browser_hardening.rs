//! Hostile links in headless Chromium: huge numbers, 10,000 commands, a 5 MB parameter, escape
//! codes in the name, a run too long to replay. Each is refused with a message on the page that
//! names the problem, quickly (no frozen tab), and the page keeps running its design with working
//! controls. And the share button says why it makes no link for a run a link cannot carry.
//!
//! Run with `cargo test --target wasm32-unknown-unknown --test browser_hardening`.
#![cfg(target_arch = "wasm32")]

mod browser_support;

use browser_support::*;
use infrasim::scenario::url::{base64url_encode, MAX_LINK_COMMANDS};
use infrasim::sim::{CommandKind, Driver};
use infrasim::ui::course;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

/// Longest a refusal may take, wall-clock ms: well under what a user calls frozen, with room
/// for a busy machine (decoding 5 MB takes a few ms).
const REFUSAL_BUDGET_MS: f64 = 2_000.0;

/// A `cmds=` log of `n` pauses, one per microsecond.
fn commands(n: usize) -> String {
    let items: Vec<String> = (1..=n).map(|i| format!("{{\"at_us\":{i},\"what\":\"pause\"}}")).collect();
    base64url_encode(format!("[{}]", items.join(",")).as_bytes())
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

fn problems_text(host: &Element) -> String {
    host.query_selector(".problems").ok().flatten().and_then(|e| e.text_content()).unwrap_or_default()
}

/// Open `query` on a running page: refused quickly, `names` shown on the page, the design
/// untouched, time still moving and the traffic slider still working.
async fn refused_and_still_usable(host: &Element, model: &Rc<RefCell<Driver>>, query: &str, names: &[&str]) {
    let what = &query[..query.len().min(80)];
    let before = model.borrow().sim.scenario().clone();
    let start = now_ms();
    let problems = course::load_query(model, query).expect_err(what);
    let took_ms = now_ms() - start;
    assert!(took_ms < REFUSAL_BUDGET_MS, "{what}: refused in {took_ms} ms");
    assert!(!problems.is_empty() && problems.len() <= 51, "{what}: {problems:?}");
    wait_until("the problem is shown", || names.iter().all(|n| problems_text(host).contains(n))).await;
    let text = problems_text(host);
    assert!(text.len() < 2_000, "{what}: the message quotes a bounded amount ({} chars)", text.len());
    assert!(!text.contains('\u{1b}'), "{what}: no escape code reaches the page");
    assert_eq!(model.borrow().sim.scenario(), &before, "{what}: the running design is untouched");
    let now = model.borrow().sim.now();
    wait_until("the page keeps running", || model.borrow().sim.now() > now).await;
    let slider: HtmlInputElement = find(host, "input[name=rate]");
    slider.set_value("750");
    fire(&slider, "input");
    assert_eq!(model.borrow().sim.scenario().traffic.arrival_rate_per_s, 1_000.0, "{what}: the slider works");
    slider.set_value("500");
    fire(&slider, "input");
}

#[wasm_bindgen_test]
async fn hostile_links_show_a_message_and_leave_a_usable_page() {
    let (host, model) = mount().await;
    let huge = "?traffic.arrival_rate_per_s=1e308&seed=99999999999999999999999&web.count=4294967297";
    refused_and_still_usable(&host, &model, huge, &["1e308 is out of range", "seed", "web.count"]).await;
    let many = format!("?cmds={}", commands(10_000));
    refused_and_still_usable(&host, &model, &many, &["cmds", "10000 commands", "at most 5000"]).await;
    let five_mb = format!("?name={}", "a".repeat(5_000_000));
    refused_and_still_usable(&host, &model, &five_mb, &["5000005 characters", "at most 500000"]).await;
    refused_and_still_usable(&host, &model, "?name=%1B%5B31mred%1B%5B0m", &["name", "control character"]).await;
    let replay = "?preset=queue-lab&traffic.arrival_rate_per_s=100000&t=86400000";
    refused_and_still_usable(&host, &model, replay, &["t", "a link may replay at most"]).await;
    // A value of 400,000 digits is quoted cut short, so the list stays readable.
    let long_seed = format!("?seed={}", "9".repeat(400_000));
    refused_and_still_usable(&host, &model, &long_seed, &["seed", "characters left out)", "not a whole number"]).await;
    // A good link still opens after all that.
    course::load_query(&model, "?preset=queue-lab&seed=3").expect("a good link");
    assert_eq!(model.borrow().sim.scenario().seed, 3);
    host.remove();
}

#[wasm_bindgen_test]
async fn the_share_button_says_why_a_run_too_long_for_a_link_gets_none() {
    let (host, model) = mount().await;
    {
        let mut d = model.borrow_mut();
        for _ in 0..=MAX_LINK_COMMANDS {
            d.command(CommandKind::SetWriteRatio { ratio: 0.1 }).expect("a command");
        }
    }
    let button: HtmlElement = find(&host, "button.share-button");
    button.click();
    wait_until("the refusal is shown", || present(&host, ".share-refused")).await;
    let why = find::<Element>(&host, ".share-refused").text_content().unwrap_or_default();
    assert!(why.contains("cannot be shared") && why.contains("reset the run"), "{why}");
    assert!(!present(&host, "input[name=share-link]"), "no link that would be refused");
    host.remove();
}
