//! The design's security weaknesses as switches (issue 6): HTTPS at the balancer, with what a
//! sniffer on the public link reads, and firewalls, on every machine or on those the design
//! names, with the outside probes they stop, machine by machine.

use super::Panel;
use crate::render::{facts, format};
use crate::sim::CommandKind;
use yew::prelude::*;

pub fn security_panel(props: &Panel) -> Html {
    let w = &props.snap.watch;
    let switch = |make: fn(bool) -> CommandKind| super::controls::switch_command(&props.shared, &props.on_result, make);
    let sniffed = sniffer_line(w.sniffer.as_ref(), "Nothing has crossed the link yet.");
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
                <input type="checkbox" name="backend-tls" checked={w.backend_tls} onchange={switch(|on| CommandKind::SetBackendTls { on })} />
                { "Re-encrypt from the balancer to the servers (HAProxy ssl on its server lines)" }
            </label>
            <p class="hint">
                { match (w.https, w.backend_tls) {
                    (_, true) => "The hop from lb1 to the web servers is encrypted too: a sniffer inside the data centre sees only TLS records. Both ends pay for it in CPU.",
                    (true, false) => "HTTPS ends at lb1: from there to the web servers requests travel in plain text, readable by anyone who can listen inside the data centre. The latest one:",
                    (false, false) => "Inside the data centre, from lb1 to the web servers, requests travel in plain text. The latest one:",
                } }
            </p>
            { sniffer_line(w.backend_sniffer.as_ref(), "Nothing has reached a web server yet.") }
            <p class={classes!("counts", (w.https && w.backend_plaintext_requests > 0 && !w.backend_tls).then_some("bad"))}>
                { format!("{} requests crossed the data centre in plain text · {} re-encrypted",
                    format::count(w.backend_plaintext_requests), format::count(w.backend_encrypted_requests)) }
            </p>
            <label class="inline check">
                <input type="checkbox" name="firewall" checked={w.firewall} onchange={switch(|on| CommandKind::SetFirewall { on })} />
                { "A firewall on every machine (only the balancer's web ports are open; off: none at all)" }
            </label>
            if w.firewall {
                <p class="hint">{ "Every machine has a firewall: connection attempts from the internet to SSH, the web servers and MySQL's port are dropped." }</p>
            } else if w.unprotected_machines > 0 {
                <p class="hint">{ "A machine without a firewall lets anyone on the internet knock on its SSH port, its web server and MySQL's port 3306 directly (the magenta arrows)." }</p>
            }
            if !w.firewalls.is_empty() && !w.firewall {
                <p class="hint">{ facts::firewalls_text(&w.firewalls, w.unprotected_machines > 0) }</p>
            }
            <p class={classes!("counts", (w.probes_reached > 0).then_some("bad"))}>
                { format!("{} outside probes reached a port the internet should not see · {} dropped by a firewall",
                    format::count(w.probes_reached), format::count(w.probes_blocked)) }
            </p>
            if !w.probes_by_machine.is_empty() {
                <ul class="probe-machines">
                    { for w.probes_by_machine.iter().map(|m| html! {
                        <li class={classes!((m.reached > 0).then_some("bad"))}>{ facts::machine_probes_text(m) }</li>
                    }) }
                </ul>
            }
        </section>
    }
}

/// What a sniffer read last, or that nothing has passed it yet.
fn sniffer_line(line: Option<&crate::sim::SnifferLine>, nothing: &'static str) -> Html {
    match line {
        None => html! { <p class="sniffer empty">{ nothing }</p> },
        Some(line) => html! {
            <p class={classes!("sniffer", if line.encrypted { "encrypted" } else { "plain" })}>
                <span class="visually-hidden">{ if line.encrypted { "Ciphertext: " } else { "Plaintext: " } }</span>
                <code>{ facts::sniffed_text(line) }</code>
            </p>
        },
    }
}
