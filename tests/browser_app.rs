//! The page mounts in a real browser: `ui::start()` finds `#root` and renders the topology canvas.
//!
//! Run with `cargo test --target wasm32-unknown-unknown` (headless Chromium via the runner).
#![cfg(target_arch = "wasm32")]

mod browser_support;

use browser_support::{document, wait_until};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn app_mounts_and_draws_topology_canvas() {
    let doc = document();
    if doc.get_element_by_id("root").is_none() {
        let root = doc.create_element("div").expect("create div");
        root.set_id("root");
        doc.body().expect("a body").append_child(&root).expect("append #root");
    }

    infrasim::ui::start();

    // Yew renders on a later tick: poll for the canvas.
    wait_until("#topology is rendered", || doc.get_element_by_id("topology").is_some()).await;
    let canvas = doc.get_element_by_id("topology").expect("#topology canvas rendered after mount");
    assert_eq!(canvas.tag_name().to_ascii_lowercase(), "canvas");
    let root = doc.get_element_by_id("root").expect("#root still present");
    assert!(root.contains(Some(&canvas)), "#topology is inside #root");
}
