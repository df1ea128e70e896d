//! Scenario files: download the design as it runs now as JSON, and load one (a file or pasted
//! text). A bad file lists every problem with its path and the running design stays as it was.

use super::course::{start_run, CourseProps};
use crate::scenario::{preset, url, Problem, Scenario};
use crate::sim::Driver;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

/// Load a scenario from JSON text into the page that runs `driver` (a new run from its start).
pub fn import_json(driver: &Rc<RefCell<Driver>>, text: &str) -> Result<Scenario, Vec<Problem>> {
    let scenario = Scenario::from_json(text)?;
    let base = if preset(&scenario.name).is_some() { scenario.name.clone() } else { url::DEFAULT_PRESET.to_string() };
    start_run(driver, scenario.clone(), &base).map_err(|message| vec![Problem { path: "(page)".into(), message }])?;
    Ok(scenario)
}

/// The design as it runs now (live changes included), as pretty JSON.
pub fn export_json(driver: &Rc<RefCell<Driver>>) -> Option<String> {
    driver.try_borrow().ok().map(|d| d.sim.scenario().to_json_pretty())
}

/// Offer `text` as a download: a link to a `blob:` URL, clicked. Following a download link is a
/// navigation, which the page's Content-Security-Policy does not govern (it names no
/// `navigate-to`), so no CSP allowance is needed.
fn download(name: &str, text: &str) -> Result<(), String> {
    download_as(name, text, "application/json")
}

/// [`download`] with the file's media type.
pub(crate) fn download_as(name: &str, text: &str, mime: &str) -> Result<(), String> {
    let doc = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .map_err(|_| "the browser refused to make the file")?;
    let href = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| "the browser refused a file link")?;
    let a = doc.create_element("a").map_err(|_| "could not make a link")?;
    let _ = a.set_attribute("href", &href);
    let _ = a.set_attribute("download", name);
    let _ = a.set_attribute("class", "visually-hidden");
    if let Some(body) = doc.body() {
        let _ = body.append_child(&a);
    }
    if let Some(el) = a.dyn_ref::<web_sys::HtmlElement>() {
        el.click();
    }
    a.remove();
    // Free the file once the download has started.
    gloo::timers::callback::Timeout::new(30_000, move || {
        let _ = web_sys::Url::revoke_object_url(&href);
    })
    .forget();
    Ok(())
}

#[component(ImportExport)]
pub fn import_export(props: &CourseProps) -> Html {
    let problems = use_state(Vec::<Problem>::new);
    let message = use_state(|| None::<String>);
    let paste = use_node_ref();
    let on_result = {
        let (problems, message) = (problems.clone(), message.clone());
        Callback::from(move |result: Result<Scenario, Vec<Problem>>| match result {
            Ok(s) => {
                problems.set(Vec::new());
                message.set(Some(format!("Loaded \u{201c}{}\u{201d}: a new run has started.", s.name)));
            }
            Err(found) => {
                problems.set(found);
                message.set(None);
            }
        })
    };
    let on_export = {
        let (driver, message) = (props.shared.driver.clone(), message.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(text) = export_json(&driver) else { return };
            let name = driver.try_borrow().map(|d| d.sim.scenario().name.clone()).unwrap_or_default();
            let safe: String =
                name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect();
            match download(&format!("infrasim-{safe}.json"), &text) {
                Ok(()) => message.set(Some("Saved the design as a JSON file.".into())),
                Err(e) => message.set(Some(format!("Could not save: {e}"))),
            }
        })
    };
    let on_file = {
        let (driver, on_result) = (props.shared.driver.clone(), on_result.clone());
        Callback::from(move |e: Event| {
            let Some(input) = e.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) else { return };
            let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
            input.set_value("");
            if file.size() > crate::scenario::MAX_SCENARIO_BYTES as f64 {
                // Refused before reading: a huge file would fill the tab's memory first.
                let message = format!(
                    "{} bytes is larger than a scenario may be ({} bytes)",
                    file.size(),
                    crate::scenario::MAX_SCENARIO_BYTES
                );
                return on_result.emit(Err(vec![Problem { path: "(file)".into(), message }]));
            }
            let (driver, on_result) = (driver.clone(), on_result.clone());
            let done = Closure::once(move |text: JsValue| {
                let text = text.as_string().unwrap_or_default();
                on_result.emit(import_json(&driver, &text));
            });
            let _ = file.text().then(&done);
            done.forget();
        })
    };
    let on_paste = {
        let (driver, on_result, paste) = (props.shared.driver.clone(), on_result.clone(), paste.clone());
        Callback::from(move |_: MouseEvent| {
            let text = paste.cast::<HtmlTextAreaElement>().map(|a| a.value()).unwrap_or_default();
            on_result.emit(import_json(&driver, &text));
        })
    };
    html! {
        <div class="card files">
            <h2>{ "Save or load a design" }</h2>
            <div class="file-actions">
                <button type="button" class="export" onclick={on_export}>{ "Download as JSON" }</button>
                <label class="file-pick">
                    <span>{ "Load a file: " }</span>
                    <input type="file" name="scenario-file" accept=".json,application/json" onchange={on_file} />
                </label>
            </div>
            <details class="paste">
                <summary>{ "Paste JSON instead" }</summary>
                <label>
                    <span class="visually-hidden">{ "Scenario JSON" }</span>
                    <textarea name="scenario-json" rows="6" ref={paste}
                        placeholder="{\"traffic\": {\"arrival_rate_per_s\": 250}}" />
                </label>
                <button type="button" class="load-pasted" onclick={on_paste}>{ "Load pasted JSON" }</button>
            </details>
            if let Some(m) = (*message).clone() {
                <p class="file-status" role="status">{ m }</p>
            }
            if !problems.is_empty() {
                <div class="problems" role="alert">
                    <p class="problems-title">{ "That design could not be loaded. The page keeps running the one it had:" }</p>
                    <ul class="problem-list">
                        { for problems.iter().map(|p| html! {
                            <li><code class="path">{ p.path.clone() }</code>{ " " }{ p.message.clone() }</li>
                        }) }
                    </ul>
                </div>
            }
        </div>
    }
}
