//! The design as real configuration files on the page (issue 12): one tab per file, the text
//! the exporter makes for the running design, download as a file, and a pasted `haproxy.cfg`
//! run as a design with the lines the model does not simulate listed (headless Chromium).
//!
//! Run with `cargo test --target wasm32-unknown-unknown --test browser_export`.
#![cfg(target_arch = "wasm32")]

mod browser_support;

use browser_support::*;
use infrasim::export::config_files;
use infrasim::scenario::{preset, Algorithm};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlTextAreaElement};

wasm_bindgen_test_configure!(run_in_browser);

/// The names on the panel's tabs, in order.
fn tab_names(host: &Element) -> Vec<String> {
    let tabs = host.query_selector_all(".config-tab").expect("valid selector");
    (0..tabs.length()).map(|i| tabs.get(i).and_then(|t| t.text_content()).unwrap_or_default()).collect()
}

fn shown_text(host: &Element) -> String {
    find::<HtmlTextAreaElement>(host, "textarea.config-text").value()
}

/// What the exporter makes of the design the page runs now.
fn expected_files(model: &Model) -> Vec<(String, String)> {
    config_files(model.borrow().sim.scenario())
}

/// Click every tab in turn: each shows its name and exactly the exporter's text for the
/// running design.
async fn every_tab_shows_its_file(host: &Element, model: &Model) {
    let files = expected_files(model);
    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(tab_names(host), names, "one tab per exported file, in order");
    for (i, (name, text)) in files.iter().enumerate() {
        let tab: HtmlElement = find(host, &format!(".config-tab:nth-child({})", i + 1));
        tab.click();
        wait_until(&format!("the {name} tab is selected"), || {
            tab.get_attribute("aria-selected").as_deref() == Some("true")
        })
        .await;
        wait_until(&format!("the text of {name} is shown"), || shown_text(host) == *text).await;
        let area: HtmlTextAreaElement = find(host, "textarea.config-text");
        assert_eq!(area.get_attribute("aria-label").as_deref(), Some(name.as_str()));
    }
}

#[wasm_bindgen_test]
async fn the_three_server_design_has_one_tab_per_file_and_no_keepalived() {
    let (host, model) = mount_scenario(three_server()).await;
    let names = tab_names(&host);
    assert!(names.len() >= 4, "haproxy.cfg, three Nginx sites and a my.cnf: {names:?}");
    assert!(!names.iter().any(|n| n.starts_with("keepalived")), "no VRRP pair, no keepalived: {names:?}");
    every_tab_shows_its_file(&host, &model).await;
}

#[wasm_bindgen_test]
async fn the_high_availability_design_shows_both_keepalived_files() {
    let (host, model) = mount_scenario(preset("high-availability").expect("preset")).await;
    let names = tab_names(&host);
    for n in ["haproxy.cfg", "keepalived-lb1.conf", "keepalived-lb2.conf", "my-db3.cnf"] {
        assert!(names.iter().any(|t| t == n), "{n} among {names:?}");
    }
    every_tab_shows_its_file(&host, &model).await;
}

#[wasm_bindgen_test]
async fn changing_the_algorithm_on_the_page_changes_the_haproxy_cfg_shown() {
    let (host, model) = mount_scenario(three_server()).await;
    assert_eq!(tab_names(&host)[0], "haproxy.cfg");
    let before = shown_text(&host);
    assert!(before.contains("balance roundrobin"), "{before}");
    choose(&host, "select[name=algorithm]", "leastconn");
    assert_eq!(model.borrow().sim.scenario().balancer.algorithm, Algorithm::Leastconn);
    let expected = expected_files(&model)[0].1.clone();
    assert_ne!(expected, before);
    wait_until("the shown haproxy.cfg follows the running design", || shown_text(&host) == expected).await;
    assert!(shown_text(&host).contains("balance leastconn"));
}

/// The (download name, address) of every download link clicked.
type Caught = Rc<RefCell<Vec<(String, String)>>>;

/// Catch the link a click would follow (before the browser acts on it), and keep its
/// download name and address; the browser is told not to follow it.
fn catch_link_clicks() -> (Caught, Closure<dyn FnMut(web_sys::Event)>) {
    let caught = Rc::new(RefCell::new(Vec::new()));
    let sink = caught.clone();
    let listener = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
        let Some(a) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
        if let (true, Some(name)) = (a.tag_name().eq_ignore_ascii_case("a"), a.get_attribute("download")) {
            e.prevent_default();
            sink.borrow_mut().push((name, a.get_attribute("href").unwrap_or_default()));
        }
    });
    document()
        .add_event_listener_with_callback_and_bool("click", listener.as_ref().unchecked_ref(), true)
        .expect("listen for clicks");
    (caught, listener)
}

#[wasm_bindgen_test]
async fn download_makes_a_file_link_named_after_the_tab() {
    let (host, _model) = mount_scenario(three_server()).await;
    let (caught, listener) = catch_link_clicks();
    let tab: HtmlElement = find(&host, ".config-tab:nth-child(2)");
    tab.click();
    let name = tab.text_content().unwrap_or_default();
    wait_until("the second tab is shown", || {
        find::<HtmlElement>(&host, ".config-download").text_content().unwrap_or_default().contains(&name)
    })
    .await;
    find::<HtmlElement>(&host, ".config-download").click();
    document()
        .remove_event_listener_with_callback_and_bool("click", listener.as_ref().unchecked_ref(), true)
        .expect("stop listening");
    let got = caught.borrow().clone();
    assert_eq!(got.len(), 1, "one download link clicked: {got:?}");
    assert_eq!(got[0].0, name);
    assert!(got[0].1.starts_with("blob:"), "a Blob address, not a page: {}", got[0].1);
    wait_until("the page says it saved the file", || {
        host.text_content().unwrap_or_default().contains(&format!("Saved {name}"))
    })
    .await;
}

/// Open the paste box, put `text` in it and press its Run button.
fn paste_and_run(host: &Element, text: &str) {
    find::<Element>(host, ".config-files details.paste").set_attribute("open", "").expect("open the box");
    let area: HtmlTextAreaElement = find(host, "textarea[name=haproxy-cfg]");
    area.set_value(text);
    fire(&area, "input");
    find::<HtmlElement>(host, "button.run-haproxy").click();
}

const PASTED: &str = "\
global
    daemon
backend app
    balance leastconn
    retries 2
    server a 10.0.0.1:8080 weight 3 check
    server b 10.0.0.2:8080 weight 1 check agent-check
";

#[wasm_bindgen_test]
async fn a_pasted_haproxy_cfg_runs_and_lists_what_is_not_simulated() {
    let (host, model) = mount_scenario(three_server()).await;
    assert_eq!(model.borrow().sim.scenario().balancer.algorithm, Algorithm::Roundrobin);
    paste_and_run(&host, PASTED);
    wait_until("the pasted design runs", || {
        let d = model.borrow();
        let s = d.sim.scenario();
        s.balancer.algorithm == Algorithm::Leastconn && s.balancer.retries == 2 && s.web.servers.len() == 2
    })
    .await;
    let weights: Vec<u32> = model.borrow().sim.scenario().web.servers.iter().map(|s| s.weight).collect();
    assert_eq!(weights, [3, 1]);
    wait_until("the unsimulated lines are listed", || present(&host, ".config-files ul.unsimulated")).await;
    let list: Element = find(&host, ".config-files ul.unsimulated");
    let items = list.query_selector_all("li").expect("valid selector");
    let texts: Vec<String> =
        (0..items.length()).map(|i| items.get(i).and_then(|n| n.text_content()).unwrap_or_default()).collect();
    assert!(texts.iter().any(|t| t.starts_with("line 2 ") && t.contains("daemon")), "{texts:?}");
    assert!(texts.iter().any(|t| t.starts_with("line 7 ") && t.contains("agent-check")), "{texts:?}");
    // The files shown now describe the pasted design.
    let expected = expected_files(&model)[0].1.clone();
    wait_until("the haproxy.cfg tab shows the pasted design", || shown_text(&host) == expected).await;
}

#[wasm_bindgen_test]
async fn a_malformed_paste_is_named_by_line_and_the_page_keeps_running() {
    let (host, model) = mount_scenario(three_server()).await;
    let before = model.borrow().sim.scenario().clone();
    paste_and_run(&host, "backend b\n    balance uri\n    server a 1.2.3.4:80\n");
    wait_until("the problem is shown", || present(&host, ".config-files .problems")).await;
    let message = find::<Element>(&host, ".config-files .problems").text_content().unwrap_or_default();
    assert!(message.contains("line 2") && message.contains("balance 'uri'"), "{message}");
    assert_eq!(*model.borrow().sim.scenario(), before, "the design is unchanged");
    let now = model.borrow().sim.now();
    wait_until("the model still runs", || model.borrow().sim.now() > now).await;
    // Still usable: a good paste after the bad one runs and clears the message.
    paste_and_run(&host, PASTED);
    wait_until("the good paste runs", || model.borrow().sim.scenario().balancer.algorithm == Algorithm::Leastconn)
        .await;
    wait_until("the old message is gone", || !present(&host, ".config-files .problems")).await;
    assert!(present(&host, ".config-files ul.unsimulated"), "the good paste's report replaces it");
}
