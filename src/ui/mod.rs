//! The page (browser only). Minimal mount; the full UI grows here.

use yew::prelude::*;

#[function_component(App)]
pub fn app() -> Html {
    html! {
        <main id="app">
            <h1>{ "infrasim" }</h1>
            <canvas id="topology" width="800" height="400"></canvas>
        </main>
    }
}

/// Mount the app on the page's `#root` element.
pub fn start() {
    let root = gloo::utils::document().get_element_by_id("root").expect("index.html has #root");
    yew::Renderer::<App>::with_root(root).render();
}
