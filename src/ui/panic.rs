//! After a panic the app is dead: say so on the page, with plain DOM calls (not Yew, which died
//! with it), and in the console.

use wasm_bindgen::JsValue;

/// The id of the banner element, so a second panic reuses it.
pub const BANNER_ID: &str = "crash-banner";

/// Install first thing: every later panic shows the banner.
pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        let message = info.to_string();
        web_sys::console::error_1(&JsValue::from_str(&format!("infrasim crashed: {message}")));
        show_banner(&message);
    }));
}

/// Put (or update) a visible error banner at the top of the page. Never panics itself.
pub fn show_banner(message: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let banner = match doc.get_element_by_id(BANNER_ID) {
        Some(el) => el,
        None => {
            let Ok(el) = doc.create_element("div") else { return };
            el.set_id(BANNER_ID);
            el.set_class_name("crash-banner");
            let _ = el.set_attribute("role", "alert");
            match doc.body() {
                Some(body) => {
                    let _ = body.insert_before(&el, body.first_child().as_ref());
                }
                None => return,
            }
            el
        }
    };
    banner.set_text_content(Some(&format!(
        "The simulation stopped because of an internal error. Reload the page to start again. \
         Details for a bug report: {message}"
    )));
}
