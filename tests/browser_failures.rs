//! Breaking the design from the page (issues 4 and 5) changes the model and the drawing
//! (headless Chromium).
//!
//! Each test mounts its own copy of the page with `infrasim::ui::mount_scenario`, works its
//! controls like a user and reads the effect on the model it got back, and on the canvas.
//!
//! Run with `cargo test --target wasm32-unknown-unknown --test browser_failures`.
#![cfg(target_arch = "wasm32")]

mod browser_support;

use browser_support::*;
use infrasim::render::layout::{Layout, Rect};
use infrasim::scenario::{Failover, ReadFrom, Replication};
use infrasim::sim::metrics::FailCause;
use infrasim::sim::trace::NodeEvent;
use infrasim::sim::{DbRole, NodeId};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{
    CanvasRenderingContext2d, Element, Event, HtmlCanvasElement, HtmlElement, HtmlInputElement, HtmlSelectElement,
};

wasm_bindgen_test_configure!(run_in_browser);

/// Pick `node` in the node selector and press the button whose text starts with `action`.
async fn act_on(host: &Element, node: &str, action: &str) {
    choose(host, "select[name=node]", node);
    let mut button = None;
    for _ in 0..60 {
        sleep(50).await;
        button = buttons(host).into_iter().find(|b| b.text_content().unwrap_or_default().starts_with(action));
        if button.is_some() {
            break;
        }
    }
    button.unwrap_or_else(|| panic!("no '{action}' button for {node}")).click();
}

fn buttons(host: &Element) -> Vec<HtmlElement> {
    let list = host.query_selector_all(".node-actions button").expect("valid selector");
    (0..list.length()).filter_map(|i| list.item(i)?.dyn_into::<HtmlElement>().ok()).collect()
}

fn canvas_label(host: &Element) -> String {
    find::<Element>(host, "canvas#topology").get_attribute("aria-label").unwrap_or_default()
}

/// The RGB pixels inside `r` (CSS px) on the canvas.
fn pixels(host: &Element, r: Rect) -> Vec<[u8; 3]> {
    let canvas: HtmlCanvasElement = find(host, "canvas#topology");
    let scale = canvas.width() as f64 / canvas.get_bounding_client_rect().width();
    let ctx: CanvasRenderingContext2d =
        canvas.get_context("2d").expect("context").expect("2d context").dyn_into().expect("2d");
    let (x, y) = ((r.x * scale).floor(), (r.y * scale).floor());
    let (w, h) = ((r.w * scale).ceil().max(1.0), (r.h * scale).ceil().max(1.0));
    let data = ctx.get_image_data(x, y, w, h).expect("pixels").data();
    data.chunks(4).map(|p| [p[0], p[1], p[2]]).collect()
}

fn layout(host: &Element, model: &Model) -> Layout {
    let canvas: HtmlCanvasElement = find(host, "canvas#topology");
    let rect = canvas.get_bounding_client_rect();
    Layout::for_view(rect.width(), rect.height(), &model.borrow().sim.view(0))
}

fn hex(colour: &str) -> [u8; 3] {
    let v = u32::from_str_radix(colour.trim_start_matches('#'), 16).expect("a hex colour");
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

fn count_near(px: &[[u8; 3]], colour: [u8; 3]) -> usize {
    px.iter().filter(|p| p.iter().zip(colour).all(|(a, b)| a.abs_diff(b) <= 24)).count()
}

fn pause(model: &Model) {
    let mut d = model.borrow_mut();
    if !d.paused() {
        d.command(infrasim::sim::CommandKind::Pause).expect("pause");
    }
}

#[wasm_bindgen_test]
async fn killing_a_web_server_from_the_page_changes_the_model_and_the_drawing() {
    let (host, model) = mount_scenario(three_server()).await;
    choose(&host, "select[name=node]", "web1");
    sleep(200).await;
    pause(&model);
    sleep(150).await;
    let box1 = layout(&host, &model).rect(NodeId::Web(0)).expect("web1 laid out");
    let before = pixels(&host, box1);
    act_on(&host, "web1", "Stop").await;
    assert!(!model.borrow().sim.is_alive(NodeId::Web(0)), "the page's Stop killed web1 in the model");
    sleep(200).await;
    let after = pixels(&host, box1);
    let changed = before.iter().zip(&after).filter(|(a, b)| a != b).count();
    assert!(changed > before.len() / 50, "web1's box looks the same after the kill ({changed} pixels changed)");
    let red = count_near(&after, hex(infrasim::render::theme::ERROR));
    assert!(red > 20, "a dead web1 is outlined in red ({red} red pixels)");
    wait_until("the drawing's description says web1 crashed", || canvas_label(&host).contains("web1 crashed")).await;
    // Restore from the page brings it back.
    act_on(&host, "web1", "Restore").await;
    assert!(model.borrow().sim.is_alive(NodeId::Web(0)));
}

#[wasm_bindgen_test]
async fn a_node_clicked_on_the_canvas_is_picked_for_action() {
    let (host, model) = mount_scenario(three_server()).await;
    let canvas: HtmlCanvasElement = find(&host, "canvas#topology");
    let rect = canvas.get_bounding_client_rect();
    let c = layout(&host, &model).center(NodeId::Db(0)).expect("db1 laid out");
    // `new MouseEvent("click", { clientX, clientY, bubbles })`, built through JS reflection.
    let init = js_sys::Object::new();
    for (key, value) in [("clientX", rect.left() + c.x), ("clientY", rect.top() + c.y)] {
        js_sys::Reflect::set(&init, &key.into(), &value.into()).expect("set field");
    }
    js_sys::Reflect::set(&init, &"bubbles".into(), &true.into()).expect("set field");
    let window = web_sys::window().expect("a window");
    let ctor: js_sys::Function =
        js_sys::Reflect::get(&window, &"MouseEvent".into()).expect("MouseEvent").dyn_into().expect("a constructor");
    let args = js_sys::Array::of2(&"click".into(), &init);
    let click: Event = js_sys::Reflect::construct(&ctor, &args).expect("new MouseEvent").dyn_into().expect("an event");
    canvas.dispatch_event(&click).expect("dispatch click");
    wait_until("the node selector shows db1", || {
        find::<HtmlSelectElement>(&host, "select[name=node]").value() == "db1"
    })
    .await;
    assert!(buttons(&host).iter().any(|b| b.text_content().unwrap_or_default() == "Stop db1"));
}

#[wasm_bindgen_test]
async fn a_backup_server_is_drawn_as_standby() {
    let (host, model) = mount_scenario(three_server()).await;
    pause(&model);
    sleep(150).await;
    let box2 = layout(&host, &model).rect(NodeId::Web(1)).expect("web2 laid out");
    // The left edge of web2's outline (busy slots inside may be green too).
    let edge = Rect { x: box2.x - 1.5, y: box2.y + 10.0, w: 3.0, h: box2.h - 20.0 };
    let green = hex(infrasim::render::theme::WEB);
    let before = count_near(&pixels(&host, edge), green);
    assert!(before > 20, "an active web2 has a green outline ({before} green pixels)");
    let checkbox: HtmlInputElement = find(&host, ".servers tbody tr:nth-child(2) td.backup input");
    checkbox.set_checked(true);
    fire(&checkbox, "change");
    {
        let view = model.borrow().sim.view(0);
        assert!(view.web[1].backup && !view.web[1].in_pool, "web2 is a backup, out of the pool");
    }
    sleep(200).await;
    let after = count_near(&pixels(&host, edge), green);
    assert!(after < before / 4, "standby web2 is no longer outlined green ({after} green pixels, {before} before)");
    wait_until("the description says standby", || canvas_label(&host).contains("web2 standby (backup)")).await;
    wait_until("the table tags web2 standby", || {
        find::<Element>(&host, ".servers tbody tr:nth-child(2) th")
            .text_content()
            .unwrap_or_default()
            .contains("standby")
    })
    .await;
}

#[wasm_bindgen_test]
async fn killing_the_primary_without_failover_makes_writes_fail() {
    let mut s = three_server();
    s.traffic.write_ratio = 0.5;
    let (host, model) = mount_scenario(s).await;
    assert_eq!(model.borrow().sim.scenario().db.failover, Failover::None);
    act_on(&host, "db1", "Stop").await;
    choose(&host, "select[name=speed]", "5");
    wait_for("writes fail with the primary down", 10, || {
        model.borrow().sim.metrics.all.failed_by_cause[FailCause::DbDown as usize] > 5
    })
    .await;
    let view = model.borrow().sim.view(0);
    assert_eq!(view.db[0].role, DbRole::Primary, "nobody took over");
    assert!(!view.db[0].alive);
    wait_until("the drawing says the primary is down", || canvas_label(&host).contains("db1 primary · down")).await;
}

#[wasm_bindgen_test]
async fn killing_the_primary_with_failover_promotes_the_replica_and_redraws_the_roles() {
    let (host, model) = mount_scenario(three_server()).await;
    choose(&host, "select[name=failover]", "auto");
    assert_eq!(model.borrow().sim.scenario().db.failover, Failover::Auto);
    pause(&model);
    sleep(150).await;
    let box2 = layout(&host, &model).rect(NodeId::Db(1)).expect("db2 laid out");
    let pink = hex(infrasim::render::theme::DB_PRIMARY);
    let before = count_near(&pixels(&host, box2), pink);
    model.borrow_mut().command(infrasim::sim::CommandKind::Resume).expect("resume");
    act_on(&host, "db1", "Stop").await;
    choose(&host, "select[name=speed]", "10");
    wait_for("db2 is promoted", 15, || model.borrow().sim.view(0).db[1].role == DbRole::Primary).await;
    wait_until("the drawing's description names db2 the primary", || canvas_label(&host).contains("db2 primary:"))
        .await;
    pause(&model);
    sleep(200).await;
    let after = count_near(&pixels(&host, box2), pink);
    assert!(after > before + 40, "db2 is drawn in the primary's colour after promotion ({before} → {after} pixels)");
}

#[wasm_bindgen_test]
async fn the_balancer_pair_switch_restarts_with_vrrp_and_fails_over() {
    let (host, model) = mount_scenario(three_server()).await;
    choose(&host, "select[name=balancers]", "vrrp");
    assert_eq!(model.borrow().sim.view(0).lbs.len(), 2, "the restart built a pair");
    wait_until("lb1 holds the floating IP", || model.borrow().sim.vip_owner() == Some(0)).await;
    wait_until("the drawing says so", || canvas_label(&host).contains("lb1 MASTER · holds the IP")).await;
    act_on(&host, "lb1", "Stop").await;
    choose(&host, "select[name=speed]", "5");
    wait_for("lb2 takes the floating IP", 10, || model.borrow().sim.vip_owner() == Some(1)).await;
    wait_until("the drawing shows lb2 as master", || canvas_label(&host).contains("lb2 MASTER · holds the IP")).await;
    act_on(&host, "lb1", "Restore").await;
    // Cutting the link between the two shows split brain.
    choose(&host, "select[name=link]", "lb1-lb2");
    sleep(100).await;
    find::<HtmlElement>(&host, ".link-actions button").click();
    wait_for("both balancers are master", 10, || model.borrow().sim.view(0).split_brain).await;
    wait_until("the drawing says split brain", || canvas_label(&host).contains("split brain")).await;
}

#[wasm_bindgen_test]
async fn a_planned_stop_of_the_master_hands_the_ip_over_after_the_skew() {
    let (host, model) = mount_scenario(three_server()).await;
    choose(&host, "select[name=balancers]", "vrrp");
    wait_until("lb1 holds the floating IP", || model.borrow().sim.vip_owner() == Some(0)).await;
    act_on(&host, "lb1", "Planned stop").await;
    let stopped = model.borrow().sim.timeline.iter().rev().find(|e| e.event == NodeEvent::Stopped).map(|e| e.at);
    let stopped = stopped.expect("the button stopped lb1");
    wait_for("lb2 takes the floating IP", 10, || model.borrow().sim.vip_owner() == Some(1)).await;
    let took = model.borrow().sim.timeline.iter().rev().find(|e| e.event == NodeEvent::BecameMaster).map(|e| e.at);
    // keepalived v2 at priority 100: skew (256 - 100)/256 s, not 3 adverts + skew.
    assert_eq!(took.expect("lb2 became master") - stopped, 156 * 1_000_000 / 256);
}

#[wasm_bindgen_test]
async fn the_spof_panel_lists_the_balancer_and_the_primary() {
    let (host, _model) = mount_scenario(three_server()).await;
    find::<HtmlElement>(&host, "button[name=spof]").click();
    wait_for("the analysis reports", 20, || present(&host, ".spof-summary")).await;
    let summary = find::<Element>(&host, ".spof-summary").text_content().unwrap_or_default();
    assert!(summary.contains("lb1") && summary.contains("db1"), "{summary}");
    let rows = host.query_selector_all(".spof tbody tr").expect("valid selector").length();
    assert!(rows > 10, "every node and link has a row ({rows})");
}

#[wasm_bindgen_test]
async fn failure_rates_and_database_settings_reach_the_model() {
    let (host, model) = mount_scenario(three_server()).await;
    let mtbf: HtmlInputElement = find(&host, "input[name=mtbf-web]");
    mtbf.set_value("120");
    fire(&mtbf, "change");
    assert_eq!(model.borrow().sim.scenario().failures.web.mtbf_s, 120.0);
    choose(&host, "select[name=replication]", "semisync");
    assert_eq!(model.borrow().sim.scenario().db.replication, Replication::Semisync);
    choose(&host, "select[name=read-from]", "proxy");
    assert_eq!(model.borrow().sim.scenario().db.read_from, ReadFrom::Proxy);
    let apply: HtmlInputElement = find(&host, "input[name=apply-rate]");
    apply.set_value("50");
    fire(&apply, "change");
    assert_eq!(model.borrow().sim.scenario().db.apply_rate_per_s, 50.0);
    let fencing: HtmlInputElement = find(&host, "input[name=fencing]");
    fencing.set_checked(false);
    fire(&fencing, "change");
    assert!(!model.borrow().sim.scenario().db.fencing);
    let before = model.borrow().sim.now();
    choose(&host, "select[name=replicas]", "3");
    assert_eq!(model.borrow().sim.view(0).db.len(), 4, "a primary and three replicas");
    assert!(model.borrow().sim.now() < before.max(1), "the replica count restarts the run");
    assert_eq!(model.borrow().sim.scenario().db.replication, Replication::Semisync, "settings survive the restart");
}
