//! Breaking things on purpose (issue 4): act on the node picked on the canvas or in the
//! selector, cut and heal links, random failures per class of node, the balancer pair and the
//! single-point-of-failure analysis.

use super::controls::{event_value, parse_decimal, DecimalField};
use super::snapshot::Snapshot;
use super::{Panel, Shared};
use crate::render::format;
use crate::scenario::{PairMode, Scenario};
use crate::sim::command::NodeClass;
use crate::sim::node::Link;
use crate::sim::spof::{SpofAnalysis, SpofEntry, SpofReport};
use crate::sim::{CommandKind, NodeId};
use gloo::timers::callback::Timeout;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use yew::prelude::*;

/// Every node of the running design, in the page's order (the model's list, see
/// [`crate::sim::design::nodes`]).
pub fn design_nodes(snap: &Snapshot) -> Vec<NodeId> {
    snap.design_nodes.clone()
}

/// The state of a node in words, for the action panel.
fn node_state(snap: &Snapshot, id: NodeId) -> (String, bool, f64) {
    match id {
        NodeId::Dns => (if snap.dns_alive { "answering".into() } else { "down".into() }, snap.dns_alive, 1.0),
        NodeId::Lb(k) => match snap.lbs.get(k as usize) {
            Some(lb) => {
                let pair = snap.lbs.len() >= 2;
                let words = format::lb_status(lb, pair, snap.lb_pair_dns)
                    .map_or_else(|| "up: every request goes through it".to_string(), |(t, _)| t);
                (words, lb.alive, 1.0)
            }
            None => ("up".into(), true, 1.0),
        },
        NodeId::Web(i) => match snap.servers.iter().find(|w| w.id == NodeId::Web(i)) {
            Some(w) => (format::web_role(w, snap.ha.fall, snap.ha.rise).0, w.alive, w.slow),
            None => ("not in the farm".into(), false, 1.0),
        },
        NodeId::Db(n) => match snap.db.get(n as usize) {
            Some(d) => (format::db_role(d).0, d.alive, d.slow),
            None => ("not in the design".into(), false, 1.0),
        },
        NodeId::App(i) => match snap.servers.iter().find(|w| w.id == NodeId::Web(i)) {
            Some(w) if w.app_alive => ("running".into(), true, w.slow),
            Some(_) => ("down: Nginx answers 502".into(), false, 1.0),
            None => ("not in the design".into(), false, 1.0),
        },
        NodeId::Clients => ("the visitors".into(), true, 1.0),
    }
}

/// The node picked on the canvas (or in the selector) and what can be done to it.
pub fn node_actions(props: &Panel) -> Html {
    let snap = &props.snap;
    let nodes = design_nodes(snap);
    let selected = snap.selected.filter(|id| nodes.contains(id));
    let on_pick = {
        let (shared, on_result) = (props.shared.clone(), props.on_result.clone());
        Callback::from(move |e: Event| {
            let picked = event_value(&e).and_then(|t| NodeId::parse(&t));
            shared.selected.set(picked);
            on_result.emit(Ok(()));
        })
    };
    let body = match selected {
        None => html! {
            <p class="hint">{ "Click or tap a node on the drawing, or pick one here, to stop it, bring it back or slow it down." }</p>
        },
        Some(id) => picked_node(props, id),
    };
    let links = snap.design_links.clone();
    html! {
        <section class="card node-actions" aria-labelledby="node-title">
            <h2 id="node-title">{ "Break something" }</h2>
            <label class="field">
                <span class="name">{ "Node" }</span>
                <select name="node" onchange={on_pick}>
                    <option value="" selected={selected.is_none()}>{ "pick a node…" }</option>
                    { for nodes.iter().map(|id| {
                        let (state, alive, _) = node_state(snap, *id);
                        let mark = if alive { "" } else { " ✕" };
                        html! {
                            <option value={id.to_string()} selected={Some(*id) == selected}>
                                { format!("{id}{mark} — {state}") }
                            </option>
                        }
                    }) }
                </select>
            </label>
            { body }
            <LinkActions shared={props.shared.clone()} snap={props.snap.clone()} on_result={props.on_result.clone()}
                {links} />
            { deploy_actions(props) }
        </section>
    }
}

/// New code for every application server: all at once, or one at a time, each drained from
/// the balancer first.
fn deploy_actions(props: &Panel) -> Html {
    let restart_s = props.shared.scenario().map_or(0.0, |s| s.deploy.restart_s);
    let deploy = |rolling: bool| {
        let (shared, on_result) = (props.shared.clone(), props.on_result.clone());
        Callback::from(move |_: MouseEvent| on_result.emit(shared.send(CommandKind::Deploy { rolling })))
    };
    html! {
        <div class="deploy">
            <h3>{ "Deploy new code" }</h3>
            <p class="hint">
                { format!("Every application server restarts with the new code and is down for {restart_s} s. All at once, every request that needs the application fails meanwhile; rolling, one server at a time is taken out of the balancer, restarted and put back.") }
            </p>
            <div class="run-buttons">
                <button type="button" name="deploy-all" onclick={deploy(false)}>{ "Deploy to all at once" }</button>
                <button type="button" name="deploy-rolling" onclick={deploy(true)}>{ "Rolling deploy" }</button>
            </div>
        </div>
    }
}

/// What the picked node is doing and the buttons that act on it.
fn picked_node(props: &Panel, id: NodeId) -> Html {
    let snap = &props.snap;
    let send = |kind: CommandKind| {
        let (shared, on_result) = (props.shared.clone(), props.on_result.clone());
        Callback::from(move |_: MouseEvent| on_result.emit(shared.send(kind.clone())))
    };
    let (state, alive, slow) = node_state(snap, id);
    let slowable = matches!(id, NodeId::Web(_) | NodeId::Db(_));
    let web = snap.servers.iter().find(|w| w.id == id);
    let lb = snap.lbs.iter().find(|l| l.id == id);
    // keepalived has buttons of its own in a VRRP pair.
    let vrrp_lb = lb.filter(|_| snap.lbs.len() == 2 && !snap.lb_pair_dns);
    // A diverged node (or a second primary) gets back only by being re-cloned.
    let rebuildable = match id {
        NodeId::Db(n) => snap.db.get(n as usize).is_some_and(|d| {
            d.alive && matches!(d.role, crate::sim::DbRole::Diverged | crate::sim::DbRole::SecondPrimary)
        }),
        _ => false,
    };
    html! {
        <>
            <p class="node-state"><strong>{ id.to_string() }</strong>{ format!(": {state}") }</p>
            <div class="buttons">
                if alive {
                    <button type="button" class="danger" onclick={send(CommandKind::Kill { node: id })}>
                        { format!("Stop {id}") }
                    </button>
                    if matches!(id, NodeId::Lb(_)) && !lb.is_some_and(|l| l.haproxy_alone) {
                        // keepalived's graceful stop: a priority-0 advert hands the IP over at once.
                        <button type="button" onclick={send(CommandKind::Stop { node: id })}>
                            { format!("Planned stop of {id}") }
                        </button>
                    }
                } else {
                    <button type="button" onclick={send(CommandKind::Restore { node: id })}>
                        { format!("Restore {id}") }
                    </button>
                }
                if let (Some(l), NodeId::Lb(k)) = (vrrp_lb, id) {
                    if l.keepalived {
                        <button type="button" class="danger" onclick={send(CommandKind::KillKeepalived { lb: k })}>
                            { format!("Kill keepalived{} (SIGKILL: the IP stays)", k + 1) }
                        </button>
                        <button type="button" onclick={send(CommandKind::StopKeepalived { lb: k })}>
                            { format!("Stop keepalived{} (SIGTERM)", k + 1) }
                        </button>
                    } else if l.alive || l.haproxy_alone {
                        <button type="button" onclick={send(CommandKind::RestoreKeepalived { lb: k })}>
                            { format!("Start keepalived{}", k + 1) }
                        </button>
                    }
                }
                if slowable {
                    if slow > 1.0 + 1e-9 {
                        <button type="button" onclick={send(CommandKind::Slow { node: id, factor: 1.0 })}>
                            { "Normal speed" }
                        </button>
                    } else {
                        <button type="button" onclick={send(CommandKind::Slow { node: id, factor: 4.0 })}>
                            { "Slow down ×4" }
                        </button>
                    }
                }
                if rebuildable {
                    <button type="button" onclick={send(CommandKind::Rebuild { node: id })}>
                        { format!("Rebuild {id} from the primary") }
                    </button>
                }
                if let (Some(w), NodeId::Web(i)) = (web, id) {
                    <button type="button" aria-pressed={w.backup.to_string()}
                        onclick={send(CommandKind::SetBackup { server: i, backup: !w.backup })}>
                        { if w.backup { "Make active" } else { "Make backup (standby)" } }
                    </button>
                }
            </div>
        </>
    }
}

#[derive(Properties)]
struct LinkProps {
    shared: Shared,
    snap: Rc<Snapshot>,
    on_result: Callback<Result<(), String>>,
    links: Vec<Link>,
}

/// The snapshot is compared by pointer: a new `Rc` re-renders (at worst the same output again),
/// where a derived comparison walked the whole snapshot (2.8 KB of WebAssembly).
impl PartialEq for LinkProps {
    fn eq(&self, other: &Self) -> bool {
        self.shared == other.shared
            && Rc::ptr_eq(&self.snap, &other.snap)
            && self.on_result == other.on_result
            && self.links == other.links
    }
}

/// Cut or heal a network link (a partition).
#[component(LinkActions)]
fn link_actions(props: &LinkProps) -> Html {
    let chosen = use_state(|| None::<Link>);
    let link = (*chosen).filter(|l| props.links.contains(l)).or_else(|| props.links.first().copied());
    let on_pick = {
        let chosen = chosen.clone();
        Callback::from(move |e: Event| chosen.set(event_value(&e).and_then(|t| Link::parse(&t))))
    };
    let cut = link.is_some_and(|l| props.snap.cut_links.contains(&l));
    let on_act = {
        let (shared, on_result) = (props.shared.clone(), props.on_result.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(link) = link else { return };
            on_result.emit(shared.send(if cut { CommandKind::Heal { link } } else { CommandKind::Cut { link } }));
        })
    };
    html! {
        <div class="link-actions">
            <label class="field">
                <span class="name">{ "Network link" }</span>
                <select name="link" onchange={on_pick}>
                    { for props.links.iter().map(|l| {
                        let mark = if props.snap.cut_links.contains(l) { " (cut)" } else { "" };
                        html! { <option value={l.to_string()} selected={Some(*l) == link}>{ format!("{l}{mark}") }</option> }
                    }) }
                </select>
            </label>
            <button type="button" class={if cut { "" } else { "danger" }} onclick={on_act}>
                { match link {
                    Some(l) if cut => format!("Heal {l}"),
                    Some(l) => format!("Cut {l}"),
                    None => "No link".to_string(),
                } }
            </button>
            if !props.snap.cut_links.is_empty() {
                <p class="hint">{ format!("Cut now: {}", props.snap.cut_links.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", ")) }</p>
            }
        </div>
    }
}

/// Redundancy: active-passive web servers, the balancer pair, retries, random failures and the
/// single-point-of-failure analysis.
pub fn redundancy(props: &Panel) -> Html {
    let snap = &props.snap;
    let ha = &snap.ha;
    let on_pair = {
        let (shared, on_result) = (props.shared.clone(), props.on_result.clone());
        Callback::from(move |e: Event| {
            let result = match (event_value(&e), shared.scenario()) {
                (Some(choice), Some(mut s)) => {
                    match choice.as_str() {
                        "single" => s.balancer.pair = false,
                        "vrrp" => {
                            s.balancer.pair = true;
                            s.balancer.pair_mode = PairMode::Vrrp;
                        }
                        _ => {
                            s.balancer.pair = true;
                            s.balancer.pair_mode = PairMode::Dns;
                        }
                    }
                    shared.restart(s)
                }
                _ => Err("could not read the balancer choice".into()),
            };
            on_result.emit(result);
        })
    };
    let pair_choice = match (ha.pair, ha.pair_mode) {
        (false, _) => "single",
        (true, PairMode::Vrrp) => "vrrp",
        (true, PairMode::Dns) => "dns",
    };
    let toggle = |make: fn(bool) -> CommandKind| super::controls::switch_command(&props.shared, &props.on_result, make);
    let on_retries = {
        let (shared, on_result) = (props.shared.clone(), props.on_result.clone());
        Callback::from(move |text: String| {
            let result = text
                .trim()
                .parse::<u32>()
                .map_err(|_| format!("retries must be a whole number from 0 to 10, not '{text}'"))
                .and_then(|retries| shared.send(CommandKind::SetRetries { retries }));
            on_result.emit(result);
        })
    };
    let all_backup = snap.servers.iter().filter(|w| w.backup).count();
    html! {
        <section class="card redundancy" aria-labelledby="ha-title">
            <h2 id="ha-title">{ "Redundancy and failures" }</h2>
            <div class="columns">
                <div>
                    <label class="field">
                        <span class="name">{ "Load balancers" }</span>
                        <span class="value hint">{ "restarts the run" }</span>
                        <select name="balancers" onchange={on_pair}>
                            <option value="single" selected={pair_choice == "single"}>{ "lb1 alone (a single point of failure)" }</option>
                            <option value="vrrp" selected={pair_choice == "vrrp"}>{ "lb1 + lb2, VRRP floating IP (active-passive)" }</option>
                            <option value="dns" selected={pair_choice == "dns"}>{ "lb1 + lb2, two DNS records (active-active)" }</option>
                        </select>
                    </label>
                    <p class="hint">
                        { format!(
                            "{} of {} web servers are backups: a backup waits on standby and takes traffic only when every active server is down (active-passive). ",
                            all_backup, snap.servers.len()
                        ) }
                        { "Tick Backup in the Web servers table, or pick a server above." }
                    </p>
                    <label class="inline check">
                        <input type="checkbox" name="allbackups" checked={ha.allbackups}
                            onchange={toggle(|on| CommandKind::SetAllBackups { on })} />
                        { "Use every backup at once (allbackups)" }
                    </label>
                    <label class="inline check">
                        <input type="checkbox" name="redispatch" checked={ha.redispatch}
                            onchange={toggle(|on| CommandKind::SetRedispatch { on })} />
                        { "Retry on another server (redispatch)" }
                    </label>
                    <super::controls::NumberField label="Connection retries" setting="balancer.retries" value={ha.retries}
                        on_commit={on_retries} class="field" />
                </div>
                { failure_rates(props) }
            </div>
            <SpofPanel shared={props.shared.clone()} />
        </section>
    }
}

/// Random failures per class of node: mean time between failures and mean time to repair.
fn failure_rates(props: &Panel) -> Html {
    let f = &props.snap.ha.failures;
    let rows = [
        (NodeClass::Lb, "Balancers", f.lb.clone()),
        (NodeClass::Web, "Web servers", f.web.clone()),
        (NodeClass::Db, "Databases", f.db.clone()),
        (NodeClass::Dns, "DNS", f.dns.clone()),
    ];
    html! {
        <fieldset class="rates">
            <legend>{ "Random failures of each node" }</legend>
            <div class="rate-head" aria-hidden="true">
                <span></span><span>{ "mean time between failures (0 = never)" }</span><span>{ "mean time to repair" }</span>
            </div>
            { for rows.into_iter().map(|(class, label, rate)| {
                let commit = |mtbf: bool| {
                    let (shared, on_result, rate) = (props.shared.clone(), props.on_result.clone(), rate.clone());
                    Callback::from(move |text: String| {
                        let what = if mtbf { "mean time between failures" } else { "mean time to repair" };
                        let result = parse_decimal(&text, what).and_then(|v| {
                            let (mtbf_s, mttr_s) = if mtbf { (v, rate.mttr_s) } else { (rate.mtbf_s, v) };
                            shared.send(CommandKind::SetFailureRate { class, mtbf_s, mttr_s })
                        });
                        on_result.emit(result);
                    })
                };
                html! {
                    <div class="rate-row">
                        <span class="rate-class">{ label }</span>
                        <DecimalField label={format!("{label}: mean time between failures")} setting={class.mtbf_key()}
                            value={rate.mtbf_s} unit="s" on_commit={commit(true)} class="compact-field" compact={true}
                            name={format!("mtbf-{}", class.name())} />
                        <DecimalField label={format!("{label}: mean time to repair")} setting={class.mttr_key()}
                            value={rate.mttr_s} unit="s" on_commit={commit(false)} class="compact-field" compact={true}
                            name={format!("mttr-{}", class.name())} />
                    </div>
                }
            }) }
        </fieldset>
    }
}

#[derive(Properties, PartialEq)]
struct SpofProps {
    shared: Shared,
}

/// What the single-point-of-failure panel shows.
enum SpofView {
    Idle,
    /// Measurements done and in all, and the node or link being failed now.
    Checking {
        done: usize,
        total: usize,
        target: String,
    },
    /// The design changed during the check, so its result was dropped.
    Stale,
    Done(Rc<SpofReport>),
}

/// The analysis being run, a measurement per timer tick.
struct SpofRun {
    /// Tells this run's ticks from those of a run cancelled before them.
    id: u32,
    analysis: SpofAnalysis,
    /// The design being checked: the result is dropped if the page's design stops matching it.
    design: Scenario,
}

#[derive(Default)]
struct SpofRuns {
    started: u32,
    current: Option<SpofRun>,
}

fn checking(analysis: &SpofAnalysis) -> SpofView {
    let (done, total, next) = analysis.progress();
    SpofView::Checking { done, total, target: next.unwrap_or_default() }
}

/// Do run `id`'s next measurement on a fresh task, so the page draws frames and answers input
/// between two measurements (the whole analysis at once froze it for 0.1 to 0.4 s on a fast
/// machine, longer on a slow one).
/// Holds the runs weakly: once the panel is gone (and its hooks with it), the ticks stop.
fn spof_tick(shared: Shared, runs: Weak<RefCell<SpofRuns>>, id: u32, view: UseStateHandle<SpofView>) {
    Timeout::new(0, move || {
        let Some(runs_alive) = runs.upgrade() else { return };
        let Ok(mut runs_now) = runs_alive.try_borrow_mut() else { return };
        // Cancelled, or replaced by a newer run.
        let Some(run) = runs_now.current.as_mut().filter(|run| run.id == id) else { return };
        // A result for another design would mislead. A busy model cannot tell: go on.
        let design_changed = shared.driver.try_borrow().is_ok_and(|driver| *driver.sim.scenario() != run.design);
        if design_changed {
            runs_now.current = None;
            view.set(SpofView::Stale);
        } else if run.analysis.step() {
            view.set(checking(&run.analysis));
            drop(runs_now);
            spof_tick(shared, runs, id, view);
        } else if let Some(run) = runs_now.current.take() {
            view.set(SpofView::Done(Rc::new(run.analysis.finish())));
        }
    })
    .forget();
}

/// Run the single-point-of-failure analysis on the design as it is now.
#[component(SpofPanel)]
fn spof_panel(props: &SpofProps) -> Html {
    let view = use_state(|| SpofView::Idle);
    let runs = use_mut_ref(SpofRuns::default);
    let on_run = {
        let (shared, runs, view) = (props.shared.clone(), runs.clone(), view.clone());
        Callback::from(move |_: MouseEvent| {
            let (Some(design), Ok(mut runs_now)) = (shared.scenario(), runs.try_borrow_mut()) else { return };
            if runs_now.current.is_some() {
                return; // already checking: the button is marked aria-disabled
            }
            runs_now.started = runs_now.started.wrapping_add(1);
            let id = runs_now.started;
            let analysis = SpofAnalysis::new(&design);
            view.set(checking(&analysis));
            runs_now.current = Some(SpofRun { id, analysis, design });
            drop(runs_now);
            spof_tick(shared.clone(), Rc::downgrade(&runs), id, view.clone());
        })
    };
    let on_cancel = {
        let (runs, view) = (runs.clone(), view.clone());
        Callback::from(move |_: MouseEvent| {
            if let Ok(mut runs_now) = runs.try_borrow_mut() {
                runs_now.current = None;
            }
            view.set(SpofView::Idle);
        })
    };
    let running = matches!(*view, SpofView::Checking { .. });
    let status = match &*view {
        SpofView::Checking { done, total, target } => Some(format!("Checking {target}… ({} of {total})", done + 1)),
        SpofView::Stale => Some(
            "The design changed during the check, so its result was dropped. Press the button to check the design as it is now."
                .to_string(),
        ),
        SpofView::Idle | SpofView::Done(_) => None,
    };
    html! {
        <div class="spof">
            <h3>{ "Single points of failure" }</h3>
            <p class="hint">
                { "Fails each node and each link of the design as it is now, one at a time, in a copy of the model fed the same traffic, and reports what users see once health checks and failover have acted." }
            </p>
            <div class="run-buttons">
                // aria-disabled rather than disabled: a disabled button loses keyboard focus.
                <button type="button" name="spof" onclick={on_run} aria-disabled={running.to_string()}>
                    { "Find single points of failure" }
                </button>
                if running {
                    <button type="button" name="spof-cancel" onclick={on_cancel}>{ "Cancel" }</button>
                }
            </div>
            if let Some(status) = status {
                <p class="run-progress" role="status" aria-live="polite">{ status }</p>
            }
            if let SpofView::Done(r) = &*view {
                { spof_result(r) }
            }
        </div>
    }
}

/// The analysis's report: the verdict, the availability estimate and a row per failure.
fn spof_result(r: &SpofReport) -> Html {
    html! {
        <div class="spof-result" role="status">
            if let Some(words) = format::spof_no_verdict(&r.insufficient_traffic) {
                <p class="spof-summary">{ words }</p>
            }
            <p class="spof-summary">
                if r.single_points_of_failure.is_empty() && r.insufficient_traffic.is_empty() {
                    { "No single failure takes the site down or blocks writes." }
                } else if !r.single_points_of_failure.is_empty() {
                    <strong>{ format!("{} single point{} of failure: ", r.single_points_of_failure.len(),
                        if r.single_points_of_failure.len() == 1 { "" } else { "s" }) }</strong>
                    { r.single_points_of_failure.join(", ") }
                }
            </p>
            <p class="hint">
                { if r.failure_rates_set {
                    format!("Availability estimate from the random-failure settings: {:.3} %.", r.availability_estimate * 100.0)
                } else {
                    "Set random failure rates above to get an availability estimate.".to_string()
                } }
            </p>
            <div class="table-scroll short">
                <table>
                    <thead><tr>
                        <th scope="col">{ "Failure" }</th>
                        <th scope="col">{ "Effect" }</th>
                        <th scope="col" class="num">{ "Answered" }</th>
                        <th scope="col" class="num">{ "p99" }</th>
                    </tr></thead>
                    <tbody>
                        { for r.nodes.iter().map(spof_row) }
                        { for r.links.iter().map(spof_row) }
                        { for r.machines.iter().map(spof_row) }
                    </tbody>
                </table>
            </div>
        </div>
    }
}

/// One failure of the report and what users saw.
fn spof_row(e: &SpofEntry) -> Html {
    let (word, class) = format::spof_effect(e.effect);
    html! {
        <tr>
            <th scope="row">{ e.target.clone() }</th>
            <td><span class={classes!("tag", class)}>{ word }</span></td>
            <td class="num">{ format!("{:.1} %", e.success_ratio * 100.0) }</td>
            <td class="num">{ format::ms(e.latency_p99_ms) }</td>
        </tr>
    }
}
