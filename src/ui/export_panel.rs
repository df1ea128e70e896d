//! The design as real configuration files (one tab per file, copy and download), and a pasted
//! `haproxy.cfg` run as a design, with the lines the model does not simulate listed.

use super::course::{start_run, use_course, CourseProps};
use super::importexport::download_as;
use crate::export::config_files;
use crate::export::import::{import_haproxy, Unsimulated};
use crate::scenario::{preset, url, Scenario};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

/// Copy `text`; `done` is told whether the browser put it on the clipboard.
fn copy(text: &str, done: Callback<bool>) {
    let Some(window) = web_sys::window() else { return done.emit(false) };
    let promise = window.navigator().clipboard().write_text(text);
    let yes = done.clone();
    let ok = Closure::once(move |_: wasm_bindgen::JsValue| yes.emit(true));
    let refused = Closure::once(move |_: wasm_bindgen::JsValue| done.emit(false));
    let _ = promise.then2(&ok, &refused);
    ok.forget();
    refused.forget();
}

/// What the paste box found: a new run (with the lines it did not simulate) or the error.
#[derive(Clone, PartialEq)]
enum Pasted {
    Nothing,
    Ran(Vec<Unsimulated>),
    Failed(String),
}

fn run_pasted(driver: &Rc<RefCell<crate::sim::Driver>>, text: &str) -> Pasted {
    let Ok(base) = driver.try_borrow().map(|d| d.sim.scenario().clone()) else {
        return Pasted::Failed("the model is busy; try again".into());
    };
    match import_haproxy(text, &base) {
        Ok(imported) => {
            let name = if preset(&base.name).is_some() { base.name.clone() } else { url::DEFAULT_PRESET.to_string() };
            match start_run(driver, imported.scenario, &name) {
                Ok(()) => Pasted::Ran(imported.unsimulated),
                Err(e) => Pasted::Failed(e),
            }
        }
        Err(e) => Pasted::Failed(e.to_string()),
    }
}

/// Every exported file of a design, as (name, contents).
type Files = Rc<Vec<(String, String)>>;

/// The files of the running design, made again only when the design has changed since `cache`.
fn files_of(driver: &Rc<RefCell<crate::sim::Driver>>, cache: &mut (Option<Scenario>, Files)) -> Files {
    if let Ok(d) = driver.try_borrow() {
        if cache.0.as_ref() != Some(d.sim.scenario()) {
            *cache = (Some(d.sim.scenario().clone()), Rc::new(config_files(d.sim.scenario())));
        }
    }
    cache.1.clone()
}

#[component(ExportPanel)]
pub fn export_panel(props: &CourseProps) -> Html {
    let tab = use_state(|| 0usize);
    let status = use_state(|| None::<String>);
    let pasted = use_state(|| Pasted::Nothing);
    let (shown, paste) = (use_node_ref(), use_node_ref());
    // Follow the running design (a slider, a live command, a new run) as the other cards do.
    use_course(&props.shared, false);
    let cache = use_mut_ref(|| (None::<Scenario>, Rc::new(Vec::new())));
    let files = files_of(&props.shared.driver, &mut cache.borrow_mut());
    let current = (*tab).min(files.len().saturating_sub(1));
    let (name, contents) = files.get(current).cloned().unwrap_or_default();
    let on_copy = {
        let (text, status, shown) = (contents.clone(), status.clone(), shown.clone());
        Callback::from(move |_: MouseEvent| {
            let (status, shown) = (status.clone(), shown.clone());
            copy(
                &text,
                Callback::from(move |copied: bool| {
                    if copied {
                        status.set(Some("Copied to the clipboard.".into()));
                    } else {
                        if let Some(area) = shown.cast::<HtmlTextAreaElement>() {
                            area.select();
                        }
                        status
                            .set(Some("The browser refused the clipboard: the text is selected, press Ctrl+C.".into()));
                    }
                }),
            );
        })
    };
    let on_download = {
        let (name, text, status) = (name.clone(), contents.clone(), status.clone());
        Callback::from(move |_: MouseEvent| match download_as(&name, &text, "text/plain") {
            Ok(()) => status.set(Some(format!("Saved {name}."))),
            Err(e) => status.set(Some(format!("Could not save: {e}"))),
        })
    };
    let on_run = {
        let (driver, paste, pasted) = (props.shared.driver.clone(), paste.clone(), pasted.clone());
        Callback::from(move |_: MouseEvent| {
            let text = paste.cast::<HtmlTextAreaElement>().map(|a| a.value()).unwrap_or_default();
            pasted.set(run_pasted(&driver, &text));
        })
    };
    html! {
        <div class="card files config-files">
            <h2>{ "The design as configuration files" }</h2>
            <p class="hint">{ "What an operator would deploy: HAProxy, keepalived, Nginx and MySQL settings of the design as it runs now. Comments say where the model simplifies." }</p>
            <div class="config-tabs" role="tablist">
                { for files.iter().enumerate().map(|(i, (n, _))| {
                    let (tab, status) = (tab.clone(), status.clone());
                    html! {
                        <button type="button" role="tab" class="config-tab" aria-selected={(i == current).to_string()}
                            onclick={Callback::from(move |_: MouseEvent| { tab.set(i); status.set(None); })}>{ n.clone() }</button>
                    }
                }) }
            </div>
            <textarea class="config-text" name="config-file" readonly=true rows="14" wrap="off" spellcheck="false" ref={shown} value={contents} aria-label={name.clone()} />
            <div class="file-actions">
                <button type="button" class="config-copy" onclick={on_copy}>{ "Copy" }</button>
                <button type="button" class="config-download" onclick={on_download}>{ format!("Download {name}") }</button>
            </div>
            if let Some(m) = (*status).clone() {
                <p class="file-status" role="status">{ m }</p>
            }
            { pasted_box(paste, on_run, &pasted) }
        </div>
    }
}

fn pasted_box(paste: NodeRef, on_run: Callback<MouseEvent>, pasted: &Pasted) -> Html {
    html! {
        <details class="paste">
            <summary>{ "Run an existing haproxy.cfg" }</summary>
            <label>
                <span class="visually-hidden">{ "haproxy.cfg" }</span>
                <textarea name="haproxy-cfg" rows="8" wrap="off" spellcheck="false" ref={paste} placeholder="backend web\n    balance leastconn\n    server web1 10.0.0.11:80 check" />
            </label>
            <button type="button" class="run-haproxy" onclick={on_run}>{ "Run this haproxy.cfg" }</button>
            { match pasted {
                Pasted::Nothing => html! {},
                Pasted::Failed(e) => html! {
                    <div class="problems" role="alert">
                        <p class="problems-title">{ "That file could not be read. The page keeps running the design it had:" }</p>
                        <p>{ e.clone() }</p>
                    </div>
                },
                Pasted::Ran(lines) => html! {
                    <div class="file-status" role="status">
                        <p>{ "A new run has started with this balancer and its servers." }</p>
                        if !lines.is_empty() {
                            <p>{ "Not simulated:" }</p>
                            <ul class="problem-list unsimulated">
                                { for lines.iter().map(|u| html! {
                                    <li><code class="path">{ format!("line {}", u.line) }</code>{ " " }<code>{ u.text.clone() }</code>{ format!(" ({})", u.why) }</li>
                                }) }
                            </ul>
                        }
                    </div>
                },
            } }
        </details>
    }
}
