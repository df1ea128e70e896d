//! The page's Deploy buttons and the data-centre hop's encryption switch (headless Chromium):
//! a deploy to every server at once takes the one-server site down, a rolling deploy of the
//! course design fails nothing, and re-encrypting the balancer-to-server hop changes what a
//! sniffer inside the data centre reads.
//!
//! Run with `cargo test --target wasm32-unknown-unknown --test browser_deploy`.
#![cfg(target_arch = "wasm32")]

mod browser_support;

use browser_support::*;
use infrasim::scenario::preset;
use infrasim::sim::{CommandKind, NodeId};
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

/// Ten simulated seconds a wall second, so a 10 s restart takes one.
fn fast(model: &Model) {
    model.borrow_mut().command(CommandKind::SetSpeed { factor: 10.0 }).expect("speed");
}

fn failed(model: &Model) -> u64 {
    model.borrow().sim.metrics.all.failed()
}

fn deployed(model: &Model, rolling: bool) -> bool {
    model.borrow().sim.commands().iter().any(|c| c.what == CommandKind::Deploy { rolling })
}

#[wasm_bindgen_test]
async fn deploying_to_the_one_server_at_once_takes_the_site_down() {
    let (host, model) = mount_scenario(preset("simple-web-stack").unwrap()).await;
    fast(&model);
    sleep(300).await;
    let before = failed(&model);
    find::<HtmlElement>(&host, "button[name=deploy-all]").click();
    assert!(deployed(&model, false), "the button sent a deploy of every server at once");
    wait_for("requests fail while app1 restarts", 10, || failed(&model) > before + 50).await;
    console_log!("deploy to all at once: {} failed", failed(&model) - before);
    host.remove();
}

#[wasm_bindgen_test]
async fn a_rolling_deploy_of_the_course_design_fails_nothing() {
    let (host, model) = mount_scenario(three_server()).await;
    fast(&model);
    sleep(300).await;
    let before = failed(&model);
    find::<HtmlElement>(&host, "button[name=deploy-rolling]").click();
    assert!(deployed(&model, true), "the button sent a rolling deploy");
    // Each application server goes down in turn while the other serves.
    let (mut app1_down, mut app2_down) = (false, false);
    let deadline = js_sys::Date::now() + 12_000.0;
    while js_sys::Date::now() < deadline && !(app1_down && app2_down && model.borrow().sim.is_alive(NodeId::App(1))) {
        {
            // Borrowed only between frames: the page's loop must advance the model meanwhile.
            let sim = &model.borrow().sim;
            app1_down |= !sim.is_alive(NodeId::App(0));
            app2_down |= !sim.is_alive(NodeId::App(1));
        }
        sleep(20).await;
    }
    assert!(app1_down && app2_down, "both application servers restarted (app1 {app1_down}, app2 {app2_down})");
    assert_eq!(failed(&model), before, "a rolling deploy fails no request");
    host.remove();
}

#[wasm_bindgen_test]
async fn re_encrypting_the_data_centre_hop_hides_it_from_a_sniffer_there() {
    let (host, model) = mount_scenario(preset("secured-monitored").unwrap()).await;
    let sniffed = |host: &Element| {
        let list = host.query_selector_all(".security .sniffer code").unwrap();
        list.item(1).and_then(|c| c.text_content()).unwrap_or_default()
    };
    wait_until("the data-centre sniffer reads a request", || sniffed(&host).contains("HTTP/1.1")).await;
    let input: HtmlInputElement = find(&host, "input[name=backend-tls]");
    input.set_checked(true);
    fire(&input, "change");
    assert!(model.borrow().sim.scenario().security.backend_tls, "the switch changed the model");
    let before = model.borrow().sim.security_stats().backend_encrypted_requests;
    wait_for("re-encrypted requests are counted", 10, || {
        model.borrow().sim.security_stats().backend_encrypted_requests > before + 20
    })
    .await;
    wait_until("the data-centre sniffer reads only TLS records", || sniffed(&host).starts_with("TLS 1.3")).await;
    let counts = find::<Element>(&host, ".security").text_content().unwrap_or_default();
    assert!(counts.contains("re-encrypted"), "{counts}");
    host.remove();
}
