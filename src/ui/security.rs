//! The design's security weaknesses as switches (issue 6): HTTPS at the balancer, with what a
//! sniffer on the public link reads, and a firewall at the edge, with the outside probes it stops.

use super::Panel;
use crate::render::{facts, format};
use crate::sim::CommandKind;
use yew::prelude::*;

pub fn security_panel(props: &Panel) -> Html {
    let w = &props.snap.watch;
    let switch = |make: fn(bool) -> CommandKind| super::controls::switch_command(&props.shared, &props.on_result, make);
    let sniffed = match &w.sniffer {
        None => html! { <p class="sniffer empty">{ "Nothing has crossed the link yet." }</p> },
        Some(line) => html! {
            <p class={classes!("sniffer", if line.encrypted { "encrypted" } else { "plain" })}>
                <span class="visually-hidden">{ if line.encrypted { "Ciphertext: " } else { "Plaintext: " } }</span>
                <code>{ facts::sniffed_text(line) }</code>
            </p>
        },
    };
    html! {
        <section class="card security" aria-labelledby="sec-title">
            <h2 id="sec-title">{ "Security" }</h2>
            <label class="inline check">
                <input type="checkbox" name="https" checked={w.https} onchange={switch(|on| CommandKind::SetHttps { on })} />
                { "HTTPS (TLS ends at the balancer)" }
            </label>
            <p class="hint">
                { if w.https {
                    "A sniffer on the internet link between the visitors and lb1 sees only encrypted bytes. Each new visitor pays a TLS handshake: one more round trip and some balancer CPU."
                } else {
                    "Without HTTPS, anyone on the path between a visitor and lb1 reads every request: pages, cookies, passwords. The latest one:"
                } }
            </p>
            { sniffed }
            <p class="counts">
                { format!("{} requests crossed in plain text · {} encrypted · {} TLS handshakes",
                    format::count(w.plaintext_requests), format::count(w.encrypted_requests), format::count(w.tls_handshakes)) }
            </p>
            <label class="inline check">
                <input type="checkbox" name="firewall" checked={w.firewall} onchange={switch(|on| CommandKind::SetFirewall { on })} />
                { "Firewall (only the balancer's web ports are open)" }
            </label>
            <p class="hint">
                { if w.firewall {
                    "Connection attempts from the internet to the web servers and to MySQL's port are dropped at the edge."
                } else {
                    "With no firewall, anyone on the internet can knock on the web servers and on MySQL's port 3306 directly (the magenta arrows)."
                } }
            </p>
            <p class={classes!("counts", (w.probes_reached > 0 && !w.firewall).then_some("bad"))}>
                { format!("{} outside probes reached a server · {} dropped at the edge",
                    format::count(w.probes_reached), format::count(w.probes_blocked)) }
            </p>
        </section>
    }
}
