//! The page as an operator and a keyboard user meet it (issue 6), and its frame time at
//! 10 000 requests/s (headless Chromium).
//!
//! Run with `cargo test --target wasm32-unknown-unknown --test browser_dashboard -- --nocapture`;
//! the benchmark prints `FRAME median_ms=… p95_ms=…`.
#![cfg(target_arch = "wasm32")]

mod browser_support;

use browser_support::*;
use infrasim::sim::{CommandKind, NodeId};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

fn tick(host: &Element, name: &str, on: bool) {
    let input: HtmlInputElement = find(host, &format!("input[name={name}]"));
    input.set_checked(on);
    fire(&input, "change");
}

fn text(host: &Element, selector: &str) -> String {
    host.query_selector(selector).ok().flatten().and_then(|e| e.text_content()).unwrap_or_default()
}

/// The accessible name of a control, the simple way a screen reader finds it: aria-label,
/// aria-labelledby, an enclosing or `for` label, else its own text.
fn accessible_name(el: &Element) -> String {
    if let Some(label) = el.get_attribute("aria-label").filter(|l| !l.trim().is_empty()) {
        return label;
    }
    if let Some(ids) = el.get_attribute("aria-labelledby") {
        let doc = document();
        let words: String = ids
            .split_whitespace()
            .filter_map(|id| doc.get_element_by_id(id).and_then(|e| e.text_content()))
            .collect::<Vec<_>>()
            .join(" ");
        if !words.trim().is_empty() {
            return words;
        }
    }
    if let Some(label) = el.closest("label").ok().flatten() {
        let words = label.text_content().unwrap_or_default();
        if !words.trim().is_empty() {
            return words;
        }
    }
    if !el.id().is_empty() {
        if let Some(label) = document().query_selector(&format!("label[for='{}']", el.id())).ok().flatten() {
            return label.text_content().unwrap_or_default();
        }
    }
    if el.tag_name().eq_ignore_ascii_case("button") {
        return el.text_content().unwrap_or_default();
    }
    String::new()
}

#[wasm_bindgen_test]
async fn every_control_has_an_accessible_name() {
    let (host, _model) = mount_scenario(three_server()).await;
    // Show the controls that appear only on demand: a picked node's buttons, the SPOF results.
    let node: web_sys::HtmlSelectElement = find(&host, "select[name=node]");
    node.set_value("web1");
    fire(&node, "change");
    sleep(200).await;
    let controls = host.query_selector_all("input, select, button, textarea").expect("valid selector");
    assert!(controls.length() > 30, "the page has its controls ({})", controls.length());
    let mut unnamed = Vec::new();
    for i in 0..controls.length() {
        let Some(el) = controls.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else { continue };
        if accessible_name(&el).trim().is_empty() {
            unnamed.push(el.outer_html().chars().take(160).collect::<String>());
        }
    }
    assert!(unnamed.is_empty(), "controls without an accessible name: {unnamed:#?}");
}

#[wasm_bindgen_test]
async fn the_keyboard_plays_pauses_and_steps() {
    let (host, model) = mount_scenario(three_server()).await;
    let body: Element = document().body().expect("a body").into();
    let was = model.borrow().paused();
    press(&body, " ");
    assert_ne!(model.borrow().paused(), was, "Space toggles play/pause");
    if !model.borrow().paused() {
        press(&body, " ");
    }
    assert!(model.borrow().paused());
    let events = model.borrow().sim.events_processed();
    press(&body, ".");
    assert_eq!(model.borrow().sim.events_processed(), events + 1, "'.' steps one event");
    // The Step button is a button: Enter or Space on it clicks it.
    let step: HtmlElement = find(&host, "button.step");
    step.focus().expect("focus the step button");
    step.click();
    assert_eq!(model.borrow().sim.events_processed(), events + 2, "Step processes one event");
    assert!(model.borrow().paused(), "stepping leaves the model paused");
    press(&body, " ");
    assert!(!model.borrow().paused(), "Space plays again");
}

#[wasm_bindgen_test]
async fn monitoring_off_hides_health_and_on_shows_it_with_alerts() {
    let (host, model) = mount_scenario(three_server()).await;
    assert!(!model.borrow().sim.scenario().monitoring.enabled, "the course design has no monitoring");
    model.borrow_mut().command(CommandKind::Kill { node: NodeId::Web(0) }).expect("kill web1");
    model.borrow_mut().command(CommandKind::SetSpeed { factor: 10.0 }).expect("speed up");
    sleep(1_000).await;
    let grid = text(&host, ".health-grid");
    assert!(grid.contains("unknown") && !grid.contains("down"), "blind dashboard: {grid}");
    assert!(!present(&host, ".alert-list"), "no alerts without monitoring");
    assert!(!present(&host, ".chart"), "no charts without monitoring");
    assert!(text(&host, ".blind").contains("no way of knowing the status of each server"));
    assert!(text(&host, ".servers tbody").contains("health unknown"), "the server table is blind too");
    tick(&host, "monitoring", true);
    assert!(model.borrow().sim.scenario().monitoring.enabled);
    wait_for("monitoring sees web1 down", 10, || text(&host, ".health-grid").contains("web1down")).await;
    wait_until("an alert names web1", || text(&host, ".alert-list").contains("web1 is down")).await;
    assert!(host.query_selector_all(".chart").expect("valid selector").length() >= 5, "the charts appear");
}

#[wasm_bindgen_test]
async fn https_and_firewall_change_what_the_model_counts() {
    let (host, model) = mount_scenario(three_server()).await;
    model.borrow_mut().command(CommandKind::SetSpeed { factor: 5.0 }).expect("speed up");
    wait_for("requests cross in plain text", 10, || {
        let s = model.borrow().sim.security_stats();
        s.plaintext_requests > 10 && s.probes_reached > 0
    })
    .await;
    wait_until("the sniffer reads plaintext", || {
        present(&host, ".sniffer.plain") && text(&host, ".sniffer").contains("HTTP/1.1")
    })
    .await;
    tick(&host, "https", true);
    tick(&host, "firewall", true);
    assert!(model.borrow().sim.scenario().security.https && model.borrow().sim.scenario().security.firewall);
    let before = model.borrow().sim.security_stats();
    wait_for("encrypted requests and blocked probes are counted", 15, || {
        let s = model.borrow().sim.security_stats();
        s.encrypted_requests > before.encrypted_requests + 10 && s.probes_blocked > before.probes_blocked
    })
    .await;
    let after = model.borrow().sim.security_stats();
    assert_eq!(after.probes_reached, before.probes_reached, "the firewall lets no probe through");
    assert!(after.plaintext_requests <= before.plaintext_requests + 5, "HTTPS leaves (almost) no plaintext");
    assert!(after.tls_handshakes > before.tls_handshakes, "new visitors pay handshakes");
    wait_until("the sniffer reads ciphertext", || {
        present(&host, ".sniffer.encrypted") && !text(&host, ".sniffer").contains("Cookie")
    })
    .await;
}

/// Median and 95th percentile of a list of durations.
fn percentiles(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
    (at(0.5), at(0.95))
}

#[wasm_bindgen_test]
async fn frame_time_at_10000_requests_per_second() {
    let (_host, page) = mount_page(three_server()).await;
    let model = page.driver.clone();
    model.borrow_mut().command(CommandKind::SetArrivalRate { per_s: 10_000.0 }).expect("10 000 requests/s");
    // Let the queues fill, then measure ~300 frames.
    sleep(1_000).await;
    page.frame_times.borrow_mut().clear();
    wait_for("300 frames are drawn", 30, || page.frame_times.borrow().len() >= 300).await;
    let times: Vec<f64> = page.frame_times.borrow().iter().copied().collect();
    let (median, p95) = percentiles(times.clone());
    let travelling = model.borrow().sim.view(0).travelling;
    console_log!(
        "FRAME median_ms={median:.2} p95_ms={p95:.2} frames={} rate_per_s=10000 in_transit={travelling}",
        times.len()
    );
    assert!(median <= 8.0, "median frame work {median:.2} ms exceeds 8 ms");
}
