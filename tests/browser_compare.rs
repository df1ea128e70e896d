//! Side by side, your design against a variant (headless Chromium): a slow server is marked on
//! both drawings (pixels checked), each server's share of the requests is a row, a queue that
//! grows instead of settling is said in words, and a value the setting does not take is named
//! without starting anything.
//!
//! Run with `cargo test --target wasm32-unknown-unknown --test browser_compare`.
#![cfg(target_arch = "wasm32")]

mod browser_support;

use browser_support::*;
use infrasim::render::layout::{Layout, Rect};
use infrasim::scenario::{apply_setting, Scenario};
use infrasim::sim::{NodeId, Sim, TraceConfig};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{CanvasRenderingContext2d, Element, HtmlCanvasElement, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

/// The course design with web1 taking 100 ms a request: with 4 workers it serves 40 a second,
/// while round robin sends it half of 100.
fn slow_web1() -> Scenario {
    let mut s = three_server();
    apply_setting(&mut s, "web.service_time_ms", "100,20").expect("per-server list");
    s
}

/// The test page has no stylesheet: give the two drawings the size the page's CSS would.
fn size_drawings(host: &Element) {
    let list = host.query_selector_all(".compare-canvas").expect("valid selector");
    for i in 0..list.length() {
        let wrap: HtmlElement = list.item(i).expect("item").dyn_into().expect("an element");
        wrap.style().set_property("width", "480px").expect("width");
        wrap.style().set_property("height", "320px").expect("height");
        let canvas: HtmlElement = wrap.first_element_child().expect("its canvas").dyn_into().expect("an element");
        canvas.style().set_property("width", "100%").expect("width");
        canvas.style().set_property("height", "100%").expect("height");
    }
}

fn canvas(host: &Element, which: &str) -> HtmlCanvasElement {
    find(host, &format!("canvas.compare-{which}"))
}

/// Pixels of the error colour in a band just outside `r`'s top edge, where the slow mark's
/// outline runs and nothing else of the drawing is red.
fn red_on_top_edge(canvas: &HtmlCanvasElement, r: Rect) -> usize {
    let scale = canvas.width() as f64 / canvas.get_bounding_client_rect().width();
    let ctx: CanvasRenderingContext2d = canvas.get_context("2d").unwrap().unwrap().dyn_into().unwrap();
    let (x, y, w, h) = ((r.x - 4.0) * scale, (r.y - 4.0) * scale, (r.w + 8.0) * scale, 4.0 * scale);
    let data = ctx.get_image_data(x.floor(), y.floor(), w.ceil(), h.ceil()).expect("pixels").data();
    let red = [0xf8u8, 0x71, 0x71];
    data.chunks(4).filter(|p| p[..3].iter().zip(red).all(|(a, b)| a.abs_diff(b) <= 24)).count()
}

/// Where an application server is drawn on a compare canvas: the layout is the page's own,
/// computed for the design at the canvas's size.
fn app_rect(canvas: &HtmlCanvasElement, design: &Scenario, server: u16) -> Rect {
    let r = canvas.get_bounding_client_rect();
    let view = Sim::new(design.clone(), TraceConfig { enabled: false, capacity: 1 }).view(0);
    Layout::for_view(r.width(), r.height(), &view).rect(NodeId::App(server)).expect("laid out")
}

/// The table's cells for a figure: (A, B).
fn row(host: &Element, figure: &str) -> Option<(String, String)> {
    let rows = host.query_selector_all(".compare-table tbody tr").ok()?;
    (0..rows.length()).filter_map(|i| rows.item(i)?.dyn_into::<Element>().ok()).find_map(|tr| {
        let name = tr.query_selector("th").ok()??.text_content()?;
        if name != figure {
            return None;
        }
        let cells = tr.query_selector_all("td").ok()?;
        Some((cells.get(0)?.text_content()?, cells.get(1)?.text_content()?))
    })
}

fn percent(cell: &str) -> f64 {
    cell.trim_end_matches(" %").parse().unwrap_or(f64::NAN)
}

fn type_value(host: &Element, value: &str) {
    let input: HtmlInputElement = find(host, "input[name=variant-value]");
    input.set_value(value);
    fire(&input, "input");
}

#[wasm_bindgen_test]
async fn a_slow_web1_is_marked_on_both_drawings_and_its_growing_queue_is_said() {
    let design = slow_web1();
    let (host, _model) = mount_scenario(design.clone()).await;
    choose(&host, "select[name=comparison]", "variant");
    choose(&host, "select[name=variant-key]", "balancer.algorithm");
    type_value(&host, "leastconn");
    // Ten simulated seconds a second: the backlog watch needs a full 20 s window.
    choose(&host, "select[name=compare-speed]", "10");
    sleep(50).await;
    button_with_text(&host, "Run side by side").click();
    wait_until("two drawings", || present(&host, "canvas.compare-b")).await;
    size_drawings(&host);
    sleep(600).await;
    assert!(find::<Element>(&host, ".compare-b")
        .closest("figure")
        .unwrap()
        .unwrap()
        .text_content()
        .unwrap()
        .contains("balancer.algorithm = leastconn"));
    let mut variant = design.clone();
    apply_setting(&mut variant, "balancer.algorithm", "leastconn").unwrap();
    for (which, scenario) in [("a", &design), ("b", &variant)] {
        let c = canvas(&host, which);
        let (web1, web2) = (app_rect(&c, scenario, 0), app_rect(&c, scenario, 1));
        let (marked, unmarked) = (red_on_top_edge(&c, web1), red_on_top_edge(&c, web2));
        console_log!("drawing {which}: {marked} red pixels on web1's edge, {unmarked} on web2's");
        assert!(marked > 40, "drawing {which}: the slow web1 is outlined ({marked} red pixels)");
        assert!(unmarked < 5, "drawing {which}: web2 is not marked ({unmarked} red pixels)");
    }
    assert_eq!(row(&host, "Slow server (marked)"), Some(("web1".into(), "web1".into())));
    wait_for("enough requests served", 20, || {
        row(&host, "Served").is_some_and(|(a, _)| a.replace(',', "").parse::<u64>().unwrap_or(0) >= 600)
    })
    .await;
    let (a, b) = row(&host, "web1 share of served").expect("a share row per server");
    console_log!("web1's share of the requests served: round robin {a}, least connections {b}");
    // Round robin sends web1 half, but it serves only 40 of its 50 a second: 40 / 140 ≈ 29 %
    // once its queue is full, more while it fills.
    assert!((25.0..=50.0).contains(&percent(&a)), "round robin: web1 serves about a third: {a}");
    assert!(percent(&b) < percent(&a) - 10.0, "least connections gives the slow web1 less: {b} vs {a}");
    assert!(row(&host, "web2 share of served").is_some());
    // Round robin gives web1 50 a second for 40 served: its queue grows by about 10 a second, and
    // the watch needs a full 20 s window to say so.
    wait_for("run A's backlog is said to grow", 15, || {
        row(&host, "Backlog").is_some_and(|(a, _)| a.contains("growing at web1") || a.contains("web1 full"))
    })
    .await;
    let (a, b) = row(&host, "Backlog").unwrap();
    console_log!("backlog: A {a}; B {b}");
    assert!(b.starts_with("steady"), "least connections settles: {b}");
    let warning = find::<Element>(&host, ".compare-warning").text_content().unwrap_or_default();
    assert!(warning.starts_with("A: web1's queue grow"), "{warning}");
    // The sentence appearing above the table must not replace the drawings (it once did: the
    // new canvases were never painted).
    sleep(200).await;
    let c = canvas(&host, "a");
    let marked = red_on_top_edge(&c, app_rect(&c, &design, 0));
    assert!(marked > 40, "after the warning, drawing A still shows the slow web1 ({marked} red pixels)");
    assert!(!host.text_content().unwrap_or_default().contains("B: web1's queue"), "B is not said to grow");
    button_with_text(&host, "Stop").click();
    host.remove();
}

#[wasm_bindgen_test]
async fn a_value_the_setting_does_not_take_is_named_and_an_example_runs() {
    let (host, _model) = mount_scenario(three_server()).await;
    choose(&host, "select[name=variant-key]", "web.service_time_ms");
    type_value(&host, "fast");
    sleep(50).await;
    button_with_text(&host, "Run side by side").click();
    wait_until("the value is refused", || present(&host, ".compare-error")).await;
    let error: Element = find(&host, ".compare-error");
    assert_eq!(error.get_attribute("role").as_deref(), Some("alert"));
    let text = error.text_content().unwrap_or_default();
    assert!(text.contains("web.service_time_ms = 'fast'"), "the message names what was typed: {text}");
    assert!(!present(&host, "canvas.compare-b"), "nothing runs");
    button_with_text(&host, "web1 four times slower").click();
    wait_until("the example runs", || present(&host, "canvas.compare-b")).await;
    assert!(!present(&host, ".compare-error"), "the message goes once a run starts");
    let caption = find::<Element>(&host, ".compare-stages").text_content().unwrap_or_default();
    assert!(caption.contains("B: web.service_time_ms = 80,20"), "{caption}");
    wait_until("the table fills", || row(&host, "Slow server (marked)").is_some()).await;
    assert_eq!(row(&host, "Slow server (marked)"), Some(("none".into(), "web1".into())));
    button_with_text(&host, "Stop").click();
    host.remove();
}
