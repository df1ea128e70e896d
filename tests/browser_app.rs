//! The page mounts in a real browser: `ui::start()` finds `#root` and renders the topology canvas.
//!
//! Run with `cargo test --target wasm32-unknown-unknown` (headless Chromium via the runner).
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().expect("a window").document().expect("a document")
}

/// Yield to the browser's event loop for `ms` milliseconds (a `setTimeout` promise).
async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        web_sys::window()
            .expect("a window")
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .expect("setTimeout");
    });
    JsFuture::from(promise).await.expect("timeout promise resolves");
}

#[wasm_bindgen_test]
async fn app_mounts_and_draws_topology_canvas() {
    let doc = document();
    if doc.get_element_by_id("root").is_none() {
        let root = doc.create_element("div").expect("create div");
        root.set_id("root");
        doc.body().expect("a body").append_child(&root).expect("append #root");
    }

    infrasim::ui::start();

    // Yew renders on a later tick: poll for the canvas for up to ~5 s.
    let mut canvas = None;
    for _ in 0..100 {
        sleep_ms(50).await;
        canvas = doc.get_element_by_id("topology");
        if canvas.is_some() {
            break;
        }
    }
    let canvas = canvas.expect("#topology canvas rendered after mount");
    assert_eq!(canvas.tag_name().to_ascii_lowercase(), "canvas");
    let root = doc.get_element_by_id("root").expect("#root still present");
    assert!(root.contains(Some(&canvas)), "#topology is inside #root");
}
