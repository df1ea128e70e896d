//! Read-outs: the live figures, the per-server load table (with the weight inputs) and the
//! event log. All render from a [`Snapshot`].

use super::controls::NumberField;
use super::snapshot::Snapshot;
use super::Panel;
use crate::render::format;
use crate::sim::CommandKind;
use yew::prelude::*;

pub fn figures(s: &Snapshot) -> Html {
    let opt_ms = |v: Option<f64>| v.map_or_else(|| "–".to_string(), format::ms);
    let throughput = s.throughput_per_s.map_or_else(|| "–".to_string(), |n| format::count(n as u64));
    let causes = if s.failed_by_cause.is_empty() {
        "none so far".to_string()
    } else {
        s.failed_by_cause
            .iter()
            .map(|(c, n)| format!("{} {}", format::compact(*n), format::cause_words(*c)))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let error_class = if s.failed > 0 { classes!("figure", "bad") } else { classes!("figure") };
    html! {
        <dl class="figures" aria-label="Live figures">
            <div class="figure">
                <dt>{ "Throughput" }</dt>
                <dd><span class="big">{ throughput }</span><span class="unit">{ "/s" }</span></dd>
                <dd class="sub">{ "completed" }</dd>
            </div>
            <div class="figure">
                <dt>{ "Latency p50" }</dt>
                <dd><span class="big">{ opt_ms(s.p50_ms) }</span></dd>
                <dd class="sub">{ "median" }</dd>
            </div>
            <div class="figure">
                <dt>{ "Latency p99" }</dt>
                <dd><span class="big">{ opt_ms(s.p99_ms) }</span></dd>
                <dd class="sub">{ "1 in 100 slower" }</dd>
            </div>
            <div class={error_class}>
                <dt>{ "Errors" }</dt>
                <dd><span class="big">{ format::count(s.failed) }</span></dd>
                <dd class="sub" title={causes.clone()}>{ causes.clone() }</dd>
            </div>
            <div class="figure">
                <dt>{ "In flight" }</dt>
                <dd><span class="big">{ format::count(s.in_flight) }</span></dd>
                <dd class="sub">{ format::balancer_queue(s.queue_holder, s.balancer_queue) }</dd>
            </div>
            <div class="figure">
                <dt>{ "Sim time" }</dt>
                <dd><span class="big">{ format::sim_time(s.now_us) }</span></dd>
                <dd class="sub">{ if s.paused { "paused".to_string() } else { format!("running at {}", format::speed(s.speed)) } }</dd>
            </div>
        </dl>
    }
}

/// One row per web server: its weight (editable) and its load right now.
pub fn server_table(props: &Panel) -> Html {
    let snap = &props.snap;
    let monitoring = snap.watch.monitoring;
    let rows = props.snap.servers.iter().enumerate().map(|(i, w)| {
        let on_backup = super::controls::switch_command(&props.shared, &props.on_result, move |backup| {
            CommandKind::SetBackup { server: i as u16, backup }
        });
        // Without monitoring nobody knows whether a server is up: the table says so.
        let tag = if monitoring {
            format::web_tag(w)
        } else if w.backup && !w.in_pool {
            Some(("standby".to_string(), format::Tone::Normal))
        } else {
            Some(("health unknown".to_string(), format::Tone::Normal))
        };
        let on_commit = {
            let (shared, on_result) = (props.shared.clone(), props.on_result.clone());
            Callback::from(move |text: String| {
                let result = text
                    .trim()
                    .parse::<u32>()
                    .map_err(|_| format!("a weight is a whole number from 0 to 256, not '{text}'"))
                    .and_then(|weight| shared.send(CommandKind::SetWeight { server: i as u16, weight }));
                on_result.emit(result);
            })
        };
        let level = format::utilisation(w.busy, w.workers);
        // Bar widths come from classes (5 % steps): inline styles are blocked by the page's CSP.
        let bar = classes!("bar", format!("w{}", (level * 20.0).round() as u32), (level >= 0.999).then_some("full"));
        html! {
            <tr key={i}>
                <th scope="row">
                    { w.id.to_string() }
                    if let Some((tag, tone)) = tag {
                        <span class={classes!("tag", tone_class(tone))}>{ tag }</span>
                    }
                </th>
                <td class="backup">
                    <label>
                        <input type="checkbox" checked={w.backup} onchange={on_backup} />
                        <span class="visually-hidden">{ format!("{} is a backup", w.id) }</span>
                    </label>
                </td>
                <td class="weight">
                    <NumberField label={format!("Weight of {}", w.id)} setting="web.weights" value={w.weight}
                        {on_commit} compact={true} />
                </td>
                <td class="load">
                    <span class="load-cell">
                        <span class="meter" aria-hidden="true"><span class={bar}></span></span>
                        <span>{ format!("{}/{}", w.busy, w.workers) }</span>
                    </span>
                </td>
                <td class="num">{ format::compact(w.waiting as u64) }</td>
                <td class="num">{ format::compact(w.conns as u64) }</td>
                <td class="num">{ format::compact(w.queued_for as u64) }</td>
                <td class="num">{ format::compact(w.completed) }</td>
            </tr>
        }
    });
    html! {
        <section class="servers" aria-labelledby="servers-title">
            <h2 id="servers-title">{ "Web servers" }</h2>
            <div class="table-scroll">
                <table>
                    <thead>
                        <tr>
                            <th scope="col">{ "Server" }</th>
                            <th scope="col"><abbr title="backup: takes traffic only when every active server is down">{ "Backup" }</abbr></th>
                            <th scope="col">{ "Weight" }</th>
                            <th scope="col"><abbr title="busy workers of all workers">{ "Busy" }</abbr></th>
                            <th scope="col" class="num"><abbr title="requests at the server waiting for a worker">{ "Wait" }</abbr></th>
                            <th scope="col" class="num"><abbr title="open connections from lb1">{ "Conns" }</abbr></th>
                            <th scope="col" class="num"><abbr title="waiting in lb1 for this server only">{ "Queued" }</abbr></th>
                            <th scope="col" class="num"><abbr title="requests served (after any warm-up)">{ "Done" }</abbr></th>
                        </tr>
                    </thead>
                    <tbody>{ for rows }</tbody>
                </table>
            </div>
            <p class="hint">
                { "Weight 0 drains a server. A backup waits on standby until every active server is down. Queued counts requests that only this server may take (source hashing)." }
                if !monitoring { { " Health shows as unknown while monitoring is off." } }
            </p>
        </section>
    }
}

/// The model's trace, newest first, optionally only the lines about one node.
pub fn event_log(props: &Panel) -> Html {
    let on_filter = {
        let (shared, on_result) = (props.shared.clone(), props.on_result.clone());
        Callback::from(move |e: Event| {
            let node = super::controls::event_value(&e).and_then(|t| crate::sim::NodeId::parse(&t));
            shared.log_filter.set(node);
            on_result.emit(Ok(()));
        })
    };
    let nodes = super::actions::design_nodes(&props.snap);
    let filter = props.snap.log_filter;
    html! {
        <section class="log" aria-labelledby="log-title">
            <div class="dash-head">
                <h2 id="log-title">{ "Event log" }<span class="hint">{ " newest first" }</span></h2>
                <label class="inline">
                    <span>{ "Show" }</span>
                    <select name="log-filter" onchange={on_filter}>
                        <option value="" selected={filter.is_none()}>{ "every event" }</option>
                        { for nodes.iter().map(|id| html! {
                            <option value={id.to_string()} selected={filter == Some(*id)}>{ format!("only {id}") }</option>
                        }) }
                    </select>
                </label>
            </div>
            <ol class="lines" tabindex="0" aria-label="Newest 50 model events" data-keep-space="">
                { for props.snap.log.iter().map(|line| html! { <li>{ line }</li> }) }
            </ol>
        </section>
    }
}

fn tone_class(tone: format::Tone) -> &'static str {
    match tone {
        format::Tone::Normal => "plain",
        format::Tone::Warn => "warn",
        format::Tone::Bad => "bad",
    }
}
