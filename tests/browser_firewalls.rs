//! Firewalls on machines in the page (headless Chromium): the course's secured design draws a
//! firewall-coloured frame on each of its three machines (pixels checked) and the security
//! panel counts the outside probes machine by machine.
//!
//! Run with `cargo test --target wasm32-unknown-unknown --test browser_firewalls`.
#![cfg(target_arch = "wasm32")]

mod browser_support;

use browser_support::*;
use infrasim::render::layout::{Layout, Rect};
use infrasim::scenario::{apply_setting, preset, Scenario};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{CanvasRenderingContext2d, Element, HtmlCanvasElement};

wasm_bindgen_test_configure!(run_in_browser);

/// Pixels of the firewall colour on a machine frame's top edge (a 3 px band over its middle,
/// clear of the label and the load bar at its ends).
fn firewall_pixels(host: &Element, frame: Rect) -> usize {
    let canvas: HtmlCanvasElement = find(host, "canvas#topology");
    let scale = canvas.width() as f64 / canvas.get_bounding_client_rect().width();
    let ctx: CanvasRenderingContext2d = canvas.get_context("2d").unwrap().unwrap().dyn_into().unwrap();
    let (x, w) = (frame.x + frame.w * 0.3, frame.w * 0.4);
    let data = ctx
        .get_image_data(
            (x * scale).floor(),
            ((frame.y - 1.5) * scale).floor(),
            (w * scale).ceil(),
            (3.0 * scale).ceil(),
        )
        .expect("pixels")
        .data();
    let orange = [0xf9u8, 0x73, 0x16];
    data.chunks(4).filter(|p| p[..3].iter().zip(orange).all(|(a, b)| a.abs_diff(b) <= 30)).count()
}

fn frames(host: &Element, model: &Model) -> Vec<(String, Rect)> {
    let canvas: HtmlCanvasElement = find(host, "canvas#topology");
    let r = canvas.get_bounding_client_rect();
    let view = model.borrow().sim.view(0);
    let layout = Layout::for_view(r.width(), r.height(), &view);
    view.machines.iter().zip(&layout.machines).map(|(m, b)| (m.id.clone(), b.rect)).collect()
}

fn machine_lines(host: &Element) -> Vec<String> {
    let list = host.query_selector_all(".probe-machines li").expect("valid selector");
    (0..list.length()).filter_map(|i| list.item(i)?.text_content()).collect()
}

async fn check(design: Scenario, with_firewall: &[&str]) {
    let (host, model) = mount_scenario(design).await;
    sleep(400).await;
    for (id, frame) in frames(&host, &model) {
        let orange = firewall_pixels(&host, frame);
        console_log!("{id}: {orange} firewall-coloured pixels on its frame");
        if with_firewall.contains(&id.as_str()) {
            assert!(orange > 20, "{id} has a firewall: its frame is firewall-coloured ({orange} pixels)");
        } else {
            assert!(orange < 3, "{id} has no firewall ({orange} pixels)");
        }
    }
    wait_for("every machine has been probed", 15, || machine_lines(&host).len() == 3).await;
    for line in machine_lines(&host) {
        let machine = line.split(':').next().unwrap_or_default();
        let says = if with_firewall.contains(&machine) { "dropped by its firewall" } else { "reached its ports" };
        assert!(line.contains(says), "{line}");
    }
    host.remove();
}

#[wasm_bindgen_test]
async fn the_secured_design_draws_and_counts_a_firewall_on_each_machine() {
    let mut s = preset("secured-monitored").unwrap();
    s.security.probe_rate_per_s = 20.0;
    check(s, &["balancer1", "server1", "server2"]).await;
}

#[wasm_bindgen_test]
async fn a_firewall_on_the_balancer_alone_leaves_the_servers_open() {
    let mut s = preset("three-server").unwrap();
    s.security.probe_rate_per_s = 20.0;
    apply_setting(&mut s, "security.firewalls", "balancer1").unwrap();
    check(s, &["balancer1"]).await;
}
