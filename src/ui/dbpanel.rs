//! The database tier's knobs and results (issue 5): replication mode, replicas, apply rate,
//! read routing, failover and fencing; acknowledged, lost and stale operations.

use super::controls::{event_value, parse_decimal, switch_command, DecimalField};
use super::{Panel, Shared};
use crate::render::format;
use crate::scenario::{Failover, ReadFrom, Replication};
use crate::sim::CommandKind;
use yew::prelude::*;

fn select_command(
    shared: &Shared,
    on_result: &Callback<Result<(), String>>,
    parse: fn(&str) -> Option<CommandKind>,
) -> Callback<Event> {
    let (shared, on_result) = (shared.clone(), on_result.clone());
    Callback::from(move |e: Event| {
        let result = match event_value(&e).as_deref().and_then(parse) {
            Some(kind) => shared.send(kind),
            None => Err("unknown choice".into()),
        };
        on_result.emit(result);
    })
}

pub fn db_panel(props: &Panel) -> Html {
    let d = &props.snap.dbf;
    if !d.enabled {
        return html! {
            <section class="card" aria-labelledby="db-title">
                <h2 id="db-title">{ "Database" }</h2>
                <p class="hint">{ "This scenario has no database." }</p>
            </section>
        };
    }
    let on_replication = select_command(&props.shared, &props.on_result, |t| {
        Replication::parse(t).map(|mode| CommandKind::SetReplication { mode })
    });
    let on_read = select_command(&props.shared, &props.on_result, |t| {
        ReadFrom::parse(t).map(|mode| CommandKind::SetReadFrom { mode })
    });
    let on_failover = select_command(&props.shared, &props.on_result, |t| {
        Failover::parse(t).map(|mode| CommandKind::SetFailover { mode })
    });
    let on_fencing = switch_command(&props.shared, &props.on_result, |on| CommandKind::SetFencing { on });
    let on_apply = {
        let (shared, on_result) = (props.shared.clone(), props.on_result.clone());
        Callback::from(move |text: String| {
            let result = parse_decimal(&text, "the apply rate")
                .and_then(|per_s| shared.send(CommandKind::SetApplyRate { per_s }));
            on_result.emit(result);
        })
    };
    let on_replicas = {
        let (shared, on_result) = (props.shared.clone(), props.on_result.clone());
        Callback::from(move |e: Event| {
            let result = match (event_value(&e).and_then(|t| t.parse::<u32>().ok()), shared.scenario()) {
                (Some(n), Some(mut s)) => {
                    crate::scenario::edit::set_db_replicas(&mut s, n);
                    shared.restart(s)
                }
                _ => Err("could not read the number of replicas".into()),
            };
            on_result.emit(result);
        })
    };
    let read_words = |r: ReadFrom| match r {
        ReadFrom::Replica => "replicas (the app splits reads and writes)",
        ReadFrom::Primary => "the primary only",
        ReadFrom::Proxy => "a proxy that skips lagging replicas",
    };
    html! {
        <section class="card db-panel" aria-labelledby="db-title">
            <h2 id="db-title">{ "Database (MySQL primary and replicas)" }</h2>
            <label class="field">
                <span class="name">{ "Replicas" }</span>
                <span class="value hint">{ "restarts the run" }</span>
                <select name="replicas" onchange={on_replicas}>
                    { for (0..=4u32).map(|n| html! {
                        <option value={n.to_string()} selected={n == d.replicas}>{ n.to_string() }</option>
                    }) }
                </select>
            </label>
            <label class="field">
                <span class="name">{ "Replication" }</span>
                <select name="replication" onchange={on_replication}>
                    <option value="async" selected={d.replication == Replication::Async}>{ "asynchronous: acknowledge at once" }</option>
                    <option value="semisync" selected={d.replication == Replication::Semisync}>{ "semi-synchronous: wait for a replica" }</option>
                </select>
            </label>
            <DecimalField label="Replica apply rate" setting="db.apply_rate_per_s" value={d.apply_rate_per_s}
                unit="writes/s" on_commit={on_apply} class="field" name="apply-rate" />
            <label class="field">
                <span class="name">{ "Reads go to" }</span>
                <select name="read-from" onchange={on_read}>
                    { for ReadFrom::ALL.iter().map(|r| html! {
                        <option value={r.name()} selected={*r == d.read_from}>{ read_words(*r) }</option>
                    }) }
                </select>
            </label>
            <label class="field">
                <span class="name">{ "When the primary dies" }</span>
                <select name="failover" onchange={on_failover}>
                    <option value="none" selected={d.failover == Failover::None}>{ "nothing: writes fail until it is back" }</option>
                    <option value="auto" selected={d.failover == Failover::Auto}>{ "automatic failover: promote a replica" }</option>
                </select>
            </label>
            <label class="inline check">
                <input type="checkbox" name="fencing" checked={d.fencing} onchange={on_fencing} />
                { "Fence the old primary when it returns" }
            </label>
            <dl class="facts">
                <div><dt>{ "Writes acknowledged" }</dt><dd>{ format::count(d.writes_acknowledged) }</dd></div>
                <div class={classes!((d.writes_lost > 0).then_some("bad"))}><dt>{ "Acknowledged, then lost" }</dt><dd>{ format::count(d.writes_lost) }</dd></div>
                <div class={classes!((d.stale_reads > 0).then_some("warn"))}><dt>{ "Stale reads" }</dt><dd>{ format::count(d.stale_reads) }</dd></div>
                <div><dt>{ "Worst lag" }</dt><dd>{ format::ms(d.lag_max_ms) }</dd></div>
                <div><dt>{ "Promotions" }</dt><dd>{ format::count(d.promotions) }</dd></div>
                <div class={classes!((d.split_brain_s > 0.0).then_some("bad"))}><dt>{ "Two primaries for" }</dt><dd>{ format!("{:.1} s", d.split_brain_s) }</dd></div>
                <div><dt>{ "Semi-sync fallbacks" }</dt><dd>{ format::count(d.semisync_fallbacks) }</dd></div>
                if d.binlog_times_thinned > 0 {
                    <div class="warn"><dt>{ "Lag history thinned (a replica far behind)" }</dt><dd>{ format::count(d.binlog_times_thinned) }</dd></div>
                }
            </dl>
        </section>
    }
}
