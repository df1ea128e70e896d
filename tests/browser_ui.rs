//! The page's controls drive the running model, and the canvas draws it (headless Chromium).
//!
//! Each test mounts its own copy of the page with `infrasim::ui::mount(element)`, which returns
//! the `Driver` that page commands and animates; the test then works the DOM like a user and reads
//! the effect on that model.
//!
//! Run with `cargo test --target wasm32-unknown-unknown --test browser_ui`.
#![cfg(target_arch = "wasm32")]

mod browser_support;

use browser_support::*;
use infrasim::render::layout::Layout;
use infrasim::render::theme::BACKGROUND_RGB;
use infrasim::scenario::Algorithm;
use infrasim::sim::NodeId;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{CanvasRenderingContext2d, Element, HtmlCanvasElement, HtmlElement, HtmlInputElement, HtmlSelectElement};

wasm_bindgen_test_configure!(run_in_browser);

fn now_us(model: &Model) -> u64 {
    model.borrow().sim.now()
}

fn command_count(model: &Model) -> usize {
    model.borrow().sim.commands().len()
}

#[wasm_bindgen_test]
async fn the_page_mounts_with_its_controls_and_canvas() {
    let (host, _model) = mount().await;
    let canvas: HtmlCanvasElement = find(&host, "canvas#topology");
    assert!(canvas.width() > 0 && canvas.height() > 0);
    assert!(present(&host, "h1"), "a heading");
    for name in ["rate", "writes", "servers"] {
        let _: HtmlInputElement = find(&host, &format!("input[name={name}]"));
    }
    for name in ["speed", "algorithm"] {
        let _: HtmlSelectElement = find(&host, &format!("select[name={name}]"));
    }
    let _: HtmlElement = find(&host, "button.play");
}

#[wasm_bindgen_test]
async fn the_traffic_slider_changes_the_running_model() {
    let (host, model) = mount().await;
    let before_rate = model.borrow().sim.scenario().traffic.arrival_rate_per_s;
    let (before_now, before_commands) = (now_us(&model), command_count(&model));
    let slider: HtmlInputElement = find(&host, "input[name=rate]");
    // Position 750 of the log scale is 1 000 requests/s.
    slider.set_value("750");
    fire(&slider, "input");
    let rate = model.borrow().sim.scenario().traffic.arrival_rate_per_s;
    assert_ne!(rate, before_rate);
    assert_eq!(rate, 1_000.0);
    assert_eq!(command_count(&model), before_commands + 1, "one command, no restart");
    let at_change = now_us(&model);
    assert!(at_change >= before_now, "time did not go back: no restart");
    wait_until("simulated time moves on", || now_us(&model) > at_change).await;
    wait_until("the page shows the new rate", || host.text_content().unwrap_or_default().contains("1,000 requests/s"))
        .await;
}

#[wasm_bindgen_test]
async fn pause_stops_simulated_time_and_play_resumes_it() {
    let (host, model) = mount().await;
    let button: HtmlElement = find(&host, "button.play");
    button.click();
    assert!(model.borrow().paused());
    let frozen = now_us(&model);
    sleep(300).await;
    assert_eq!(now_us(&model), frozen, "paused time stands still");
    wait_until("the button offers Play", || button.text_content().unwrap_or_default().contains("Play")).await;
    button.click();
    assert!(!model.borrow().paused());
    wait_until("time runs again", || now_us(&model) > frozen).await;
}

#[wasm_bindgen_test]
async fn the_canvas_draws_the_nodes_where_the_layout_puts_them() {
    let (host, model) = mount().await;
    let canvas: HtmlCanvasElement = find(&host, "canvas#topology");
    // Let a frame or two draw at the final size.
    sleep(200).await;
    let rect = canvas.get_bounding_client_rect();
    let (css_w, css_h) = (rect.width(), rect.height());
    assert!((css_w - 960.0).abs() < 1.0 && (css_h - 480.0).abs() < 1.0, "canvas is {css_w}x{css_h}");
    let scale = canvas.width() as f64 / css_w;
    assert!((canvas.height() as f64 / css_h - scale).abs() < 0.01, "backing store keeps the aspect");
    let layout = Layout::for_view(css_w, css_h, &model.borrow().sim.view(0));
    let ctx: CanvasRenderingContext2d =
        canvas.get_context("2d").expect("context").expect("2d context").dyn_into().expect("2d");
    let pixel = |x: f64, y: f64| -> [u8; 3] {
        let data = ctx.get_image_data((x * scale).round(), (y * scale).round(), 1.0, 1.0).expect("pixels").data();
        [data[0], data[1], data[2]]
    };
    let differs = |p: [u8; 3]| p.iter().zip(BACKGROUND_RGB).any(|(a, b)| a.abs_diff(b) > 6);
    // An empty corner is background; every node's box is not.
    assert!(!differs(pixel(2.0, css_h - 2.0)), "bottom-left corner is background: {:?}", pixel(2.0, css_h - 2.0));
    for id in [NodeId::Lb(0), NodeId::Web(0), NodeId::Db(0), NodeId::Clients, NodeId::Dns] {
        let c = layout.center(id).unwrap_or_else(|| panic!("{id} is laid out"));
        let p = pixel(c.x, c.y);
        assert!(differs(p), "{id} at {c:?} looks like background: {p:?}");
    }
}

#[wasm_bindgen_test]
async fn the_algorithm_selector_switches_the_running_model() {
    let (host, model) = mount().await;
    assert_eq!(model.borrow().sim.scenario().balancer.algorithm, Algorithm::Roundrobin);
    let (before_now, before_commands) = (now_us(&model), command_count(&model));
    let select: HtmlSelectElement = find(&host, "select[name=algorithm]");
    select.set_value("leastconn");
    fire(&select, "change");
    assert_eq!(model.borrow().sim.scenario().balancer.algorithm, Algorithm::Leastconn);
    assert_eq!(command_count(&model), before_commands + 1);
    assert!(now_us(&model) >= before_now, "no restart");
    let at_change = now_us(&model);
    wait_until("simulated time moves on", || now_us(&model) > at_change).await;
    // `random` brings its draws input; a refused draws value is reported, not applied.
    select.set_value("random");
    fire(&select, "change");
    assert_eq!(model.borrow().sim.scenario().balancer.algorithm, Algorithm::Random);
    wait_until("the draws input appears", || present(&host, "input[type=number][max='8']")).await;
    let draws: HtmlInputElement = find(&host, "input[type=number][max='8']");
    draws.set_value("3");
    fire(&draws, "change");
    assert_eq!(model.borrow().sim.scenario().balancer.random_draws, 3);
    draws.set_value("99");
    fire(&draws, "change");
    assert_eq!(model.borrow().sim.scenario().balancer.random_draws, 3, "99 draws refused");
    wait_until("the refusal is shown", || present(&host, "[role=alert]")).await;
}

#[wasm_bindgen_test]
async fn weights_and_server_count_reach_the_model() {
    let (host, model) = mount().await;
    let servers: HtmlInputElement = find(&host, "input[name=servers]");
    servers.set_value("5");
    fire(&servers, "input");
    assert_eq!(model.borrow().sim.active_servers(), 5);
    wait_until("five rows of servers", || {
        host.query_selector_all(".servers tbody tr").map(|l| l.length()).unwrap_or(0) == 5
    })
    .await;
    let weight: HtmlInputElement = find(&host, ".servers tbody tr td.weight input");
    weight.set_value("7");
    fire(&weight, "change");
    assert_eq!(model.borrow().sim.scenario().web.servers[0].weight, 7);
    weight.set_value("seven");
    fire(&weight, "change");
    assert_eq!(model.borrow().sim.scenario().web.servers[0].weight, 7, "text refused");
}

#[wasm_bindgen_test]
async fn space_plays_and_pauses_except_while_typing() {
    let (host, model) = mount().await;
    let body: Element = document().body().expect("a body").into();
    let was_paused = model.borrow().paused();
    press(&body, " ");
    assert_ne!(model.borrow().paused(), was_paused, "Space toggles");
    press(&body, " ");
    assert_eq!(model.borrow().paused(), was_paused, "Space toggles back");
    let weight: HtmlInputElement = find(&host, ".servers tbody tr td.weight input");
    press(&weight, " ");
    assert_eq!(model.borrow().paused(), was_paused, "Space typed in a field is left alone");
    let button: HtmlElement = find(&host, "button.play");
    press(&button, " ");
    assert_eq!(model.borrow().paused(), was_paused, "Space on a button is the button's own");
}

#[wasm_bindgen_test]
fn a_crash_shows_a_banner_on_the_page() {
    infrasim::ui::panic::show_banner("test message");
    infrasim::ui::panic::show_banner("second message");
    let doc = document();
    let banners = doc.query_selector_all(".crash-banner").expect("valid selector");
    assert_eq!(banners.length(), 1, "one banner, reused");
    let banner = doc.get_element_by_id(infrasim::ui::panic::BANNER_ID).expect("banner");
    assert_eq!(banner.get_attribute("role").as_deref(), Some("alert"));
    let text = banner.text_content().unwrap_or_default();
    assert!(text.contains("Reload") && text.contains("second message"), "{text}");
    banner.remove();
}

/// `#rrggbb` as its three bytes.
fn rgb(hex: &str) -> [u8; 3] {
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).expect("a #rrggbb colour");
    [byte(1), byte(3), byte(5)]
}

#[wasm_bindgen_test]
async fn machines_are_drawn_as_boxes_and_a_killed_machine_greys_every_chip_in_it() {
    use infrasim::render::theme::{BOX_FILL, BOX_FILL_DIM};
    use infrasim::sim::CommandKind;
    let scenario = infrasim::scenario::preset("three-server").expect("the course design");
    let (host, model) = mount_scenario(scenario).await;
    let canvas: HtmlCanvasElement = find(&host, "canvas#topology");
    sleep(200).await;
    let rect = canvas.get_bounding_client_rect();
    let (css_w, css_h) = (rect.width(), rect.height());
    let scale = canvas.width() as f64 / css_w;
    let ctx: CanvasRenderingContext2d =
        canvas.get_context("2d").expect("context").expect("2d context").dyn_into().expect("2d");
    let pixel = |x: f64, y: f64| -> [u8; 3] {
        let data = ctx.get_image_data((x * scale).round(), (y * scale).round(), 1.0, 1.0).expect("pixels").data();
        [data[0], data[1], data[2]]
    };
    let near = |p: [u8; 3], q: [u8; 3]| p.iter().zip(q).all(|(a, b)| a.abs_diff(b) <= 3);
    let layout = Layout::for_view(css_w, css_h, &model.borrow().sim.view(0));
    assert_eq!(layout.machines.len(), 3, "balancer1, server1, server2");
    assert!(layout.machines.iter().all(|m| m.framed));
    // Inside a chip, just left of its right border (where no text or bar reaches), its fill.
    let chip_fill = |id: NodeId| {
        let r = layout.rect(id).unwrap_or_else(|| panic!("{id} has a chip"));
        pixel(r.x + r.w - 3.0, r.y + r.h / 2.0)
    };
    let server2 = [NodeId::Web(1), NodeId::App(1), NodeId::Db(1)];
    let server1 = [NodeId::Web(0), NodeId::App(0), NodeId::Db(0)];
    for id in server1.into_iter().chain(server2) {
        assert!(near(chip_fill(id), rgb(BOX_FILL)), "{id} is drawn as a running chip: {:?}", chip_fill(id));
    }
    model.borrow_mut().command(CommandKind::KillMachine { machine: "server2".into() }).expect("kill server2");
    wait_until("server2's chips grey out", || server2.iter().all(|&id| near(chip_fill(id), rgb(BOX_FILL_DIM)))).await;
    for id in server1 {
        assert!(near(chip_fill(id), rgb(BOX_FILL)), "{id} on server1 still runs: {:?}", chip_fill(id));
    }
}
