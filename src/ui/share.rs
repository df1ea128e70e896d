//! Sharing a run: a link that reproduces it (seed + scenario + command log + the moment), copied
//! to the clipboard, and an `<iframe>` snippet for embedding it in course material.

use super::course::{current_link, page_address, CourseProps};
use crate::scenario::url;
use std::rc::Rc;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

/// Put text on the clipboard. The promise is left to settle: where the clipboard is refused
/// (an insecure page, a browser setting) the text is still shown, selected, for Ctrl+C.
fn copy(text: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
}

fn select_text(node: &NodeRef) {
    if let Some(area) = node.cast::<HtmlTextAreaElement>() {
        area.select();
    } else if let Some(input) = node.cast::<web_sys::HtmlInputElement>() {
        input.select();
    }
}

/// The link of the run as it stands, with the moment it was made at; Err says why a link would
/// be refused when opened (too many commands, too much to replay) and what to do instead.
pub fn share_link(driver: &Rc<std::cell::RefCell<crate::sim::Driver>>) -> Option<Result<String, String>> {
    current_link(driver, true).map(|link| url::shareable_link(&link).map(|query| format!("{}?{query}", page_address())))
}

#[component(ShareButton)]
pub fn share_button(props: &CourseProps) -> Html {
    let link = use_state(|| None::<Result<String, String>>);
    let field = use_node_ref();
    let state = super::course::use_course(&props.shared, false);
    let on_share = {
        let (driver, link, field) = (props.shared.driver.clone(), link.clone(), field.clone());
        Callback::from(move |_: MouseEvent| {
            let made = share_link(&driver);
            if let Some(Ok(text)) = &made {
                copy(text);
                let field = field.clone();
                // Select once the field is drawn, as a fallback for copying by hand.
                gloo::timers::callback::Timeout::new(0, move || select_text(&field)).forget();
            }
            if made.is_some() {
                link.set(made);
            }
        })
    };
    let full_page = state.embed.get().then(|| {
        let mut l = current_link(&props.shared.driver, true).unwrap_or_default();
        l.embed = false;
        format!("{}?{}", page_address(), url::encode(&l))
    });
    html! {
        <div class="share">
            <button type="button" class="share-button" onclick={on_share}
                title="Copy a link that opens this run as it is now: design, seed, every input and the moment">
                { "Share this run" }
            </button>
            if let Some(href) = full_page {
                <a class="full-page" href={href} target="_blank" rel="noopener">{ "Open in full page ↗" }</a>
            }
            if let Some(Ok(text)) = (*link).clone() {
                <label class="share-link">
                    <span class="visually-hidden">{ "Link to this run" }</span>
                    <input type="text" readonly=true name="share-link" value={text} ref={field} />
                </label>
                <span class="share-status" role="status">{ "Link copied" }</span>
            }
            if let Some(Err(why)) = (*link).clone() {
                <p class="share-refused command-error" role="alert">{ why }</p>
            }
        </div>
    }
}

#[component(EmbedSnippet)]
pub fn embed_snippet(props: &CourseProps) -> Html {
    let snippet = use_state(String::new);
    let area = use_node_ref();
    let on_make = {
        let (driver, snippet, area) = (props.shared.driver.clone(), snippet.clone(), area.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(mut link) = current_link(&driver, true) else { return };
            link.embed = true;
            let src = format!("{}?{}", page_address(), url::encode(&link));
            let text = format!(
                "<iframe src=\"{}\" title=\"infrasim: www.foobar.com simulated live\" width=\"100%\" height=\"620\" \
                 loading=\"lazy\"></iframe>",
                src.replace('&', "&amp;").replace('"', "&quot;")
            );
            copy(&text);
            snippet.set(text);
            let area = area.clone();
            gloo::timers::callback::Timeout::new(0, move || select_text(&area)).forget();
        })
    };
    html! {
        <div class="card embed-card">
            <h2>{ "Embed in a course page" }</h2>
            <p class="hint">
                { "Makes an iframe snippet that opens this run in a compact layout, without the page's heading, \
                   lesson and footer. Paste it into your course material." }
            </p>
            <button type="button" class="make-snippet" onclick={on_make}>{ "Make and copy the snippet" }</button>
            if !snippet.is_empty() {
                <label class="snippet">
                    <span class="visually-hidden">{ "iframe snippet" }</span>
                    <textarea name="embed-snippet" readonly=true rows="4" value={(*snippet).clone()} ref={area} />
                </label>
                <span class="share-status" role="status">{ "Snippet copied" }</span>
            }
        </div>
    }
}
