//! The single-point-of-failure analysis runs a measurement at a time, so the page keeps
//! animating and shows its progress (headless Chromium).
//!
//! Each test mounts its own copy of the page with `infrasim::ui::mount_scenario` and works the
//! panel's buttons like a user, with the helpers of `browser_support`.
//!
//! Run with `cargo test --target wasm32-unknown-unknown --test browser_spof`.
#![cfg(target_arch = "wasm32")]

mod browser_support;

use browser_support::*;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

fn spof_button(host: &Element) -> HtmlElement {
    find(host, "button[name=spof]")
}

/// Marked unavailable (aria-disabled keeps it focusable, so keyboard users do not lose their place).
fn disabled(button: &HtmlElement) -> bool {
    button.get_attribute("aria-disabled").as_deref() == Some("true")
}

/// The progress line's text, while the analysis runs.
fn progress(host: &Element) -> Option<String> {
    host.query_selector(".spof .run-progress").ok().flatten().and_then(|p| p.text_content())
}

fn result_rows(host: &Element) -> u32 {
    host.query_selector_all(".spof tbody tr").expect("valid selector").length()
}

#[wasm_bindgen_test]
async fn the_analysis_shows_its_progress_while_the_page_keeps_running_then_the_course_designs_spofs() {
    let (host, model) = mount_scenario(three_server()).await;
    spof_button(&host).focus().expect("focus the button");
    spof_button(&host).click();
    // Poll often: the three-server design takes 19 measurements of about ten milliseconds each.
    let mut seen = Vec::<String>::new();
    let mut model_time_first_seen = None;
    let mut model_time_last_seen = 0;
    let deadline_ms = js_sys::Date::now() + 20_000.0;
    while js_sys::Date::now() < deadline_ms {
        if present(&host, ".spof-summary") {
            break;
        }
        if let Some(text) = progress(&host) {
            let status: Element = find(&host, ".spof .run-progress");
            assert_eq!(status.get_attribute("role").as_deref(), Some("status"), "announced to screen readers");
            assert_eq!(status.get_attribute("aria-live").as_deref(), Some("polite"));
            assert!(disabled(&spof_button(&host)), "the button is disabled during the analysis");
            let focused = document().active_element().and_then(|e| e.get_attribute("name"));
            assert_eq!(focused.as_deref(), Some("spof"), "the button keeps keyboard focus while unavailable");
            if seen.len() == 1 {
                // A second press while checking is ignored: the check goes on, it does not restart.
                spof_button(&host).click();
            }
            assert!(present(&host, "button[name=spof-cancel]"), "a Cancel button during the analysis");
            let now = model.borrow().sim.now();
            model_time_first_seen.get_or_insert(now);
            model_time_last_seen = now;
            if seen.last() != Some(&text) {
                seen.push(text);
            }
        }
        sleep(1).await;
    }
    assert!(present(&host, ".spof-summary"), "the analysis finished; progress seen: {seen:?}");
    assert!(!seen.is_empty(), "the progress line showed while the analysis ran");
    for text in &seen {
        assert!(text.starts_with("Checking ") && text.ends_with(" of 21)"), "progress reads like {text:?}");
    }
    assert!(seen.len() >= 2, "the progress line moved on as measurements were done: {seen:?}");
    let counts: Vec<u32> = seen.iter().filter_map(|t| t.rsplit('(').next()?.split(' ').next()?.parse().ok()).collect();
    assert_eq!(counts.len(), seen.len(), "every progress line has its count: {seen:?}");
    assert!(counts.windows(2).all(|w| w[0] < w[1]), "the check never started over: {seen:?}");
    // The animation loop advances the model every frame: it kept going between measurements.
    let first = model_time_first_seen.unwrap_or_default();
    assert!(
        model_time_last_seen > first,
        "the page kept animating during the analysis (model time {first} → {model_time_last_seen} µs)"
    );

    let summary = find::<Element>(&host, ".spof-summary").text_content().unwrap_or_default();
    assert!(summary.contains("lb1") && summary.contains("db1"), "{summary}");
    assert!(!summary.contains("web1") && !summary.contains("web2"), "two web servers cover each other: {summary}");
    assert!(summary.contains("server1"), "the machine with web1 and the primary: {summary}");
    assert_eq!(result_rows(&host), 20, "a row for each node (6), application server (2), link (9) and machine (3)");
    assert!(progress(&host).is_none(), "the progress line is gone once the result shows");
    assert!(!disabled(&spof_button(&host)), "the button works again");
    assert!(!present(&host, "button[name=spof-cancel]"));
}

#[wasm_bindgen_test]
async fn cancel_stops_the_analysis() {
    let (host, _model) = mount_scenario(three_server()).await;
    spof_button(&host).click();
    wait_for("the progress line", 5, || progress(&host).is_some()).await;
    find::<HtmlElement>(&host, "button[name=spof-cancel]").click();
    wait_for("the progress line goes", 5, || progress(&host).is_none()).await;
    assert!(!disabled(&spof_button(&host)), "the button works again");
    // Longer than the whole analysis takes.
    sleep(1_500).await;
    assert!(!present(&host, ".spof-summary"), "a cancelled analysis shows no result");
    assert!(progress(&host).is_none(), "and does not come back");
}

#[wasm_bindgen_test]
async fn a_design_change_during_the_analysis_drops_its_result() {
    let (host, _model) = mount_scenario(three_server()).await;
    spof_button(&host).click();
    wait_for("the progress line", 5, || progress(&host).is_some()).await;
    // Restart with a balancer pair: the running analysis is for a design that is gone.
    choose(&host, "select[name=balancers]", "vrrp");
    wait_for("the page says the check was dropped", 5, || {
        progress(&host).is_some_and(|text| text.contains("design changed"))
    })
    .await;
    sleep(1_500).await;
    assert!(!present(&host, ".spof-summary"), "no result for the old design");
    assert!(!disabled(&spof_button(&host)), "the button works again");

    // Checking again checks the pair: lb1 is no longer a single point of failure.
    spof_button(&host).click();
    wait_for("the analysis of the pair reports", 20, || present(&host, ".spof-summary")).await;
    let summary = find::<Element>(&host, ".spof-summary").text_content().unwrap_or_default();
    assert!(summary.contains("db1") && !summary.contains("lb1"), "{summary}");
    assert_eq!(
        result_rows(&host),
        25,
        "the pair's nodes (7), application servers (2), links (13) and the three machines listed"
    );
    assert!(progress(&host).is_none(), "the dropped-check note is gone");
}
