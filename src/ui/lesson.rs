//! The guided lesson: the questions the course asks about this design, one step at a time, each
//! with buttons that act on the live model and a note on what to watch. `step=N` in a link opens
//! step N.

use super::course::{start_run, CourseProps};
use crate::scenario::{preset, Algorithm, ReadFrom};
use crate::sim::{CommandKind, Driver, NodeId};
use std::cell::RefCell;
use std::rc::Rc;
use yew::prelude::*;

/// What a lesson button does.
pub enum Act {
    /// Start a new run of a preset (same seed).
    Preset(&'static str),
    /// Send a command to the running model.
    Cmd(CommandKind),
}

pub struct Action {
    pub label: &'static str,
    pub acts: &'static [Act],
}

pub struct Step {
    pub title: &'static str,
    /// The preset whose nodes and settings the text describes (lb1, db2, web1…).
    pub design: &'static str,
    pub body: &'static [&'static str],
    pub actions: &'static [Action],
    pub watch: &'static str,
}

use Act::{Cmd, Preset};

/// The design the course write-ups teach.
const COURSE: &str = "three-server";
use CommandKind as K;

pub static STEPS: &[Step] = &[
    Step {
        title: "One request, start to finish",
        design: COURSE,
        body: &[
            "Someone types www.foobar.com. Their computer asks DNS for the address and gets the load balancer, lb1. \
             lb1 hands the request to web1 or web2, where Nginx passes it to the application.",
            "The application reads data from the replica (db2) and sends every change to the primary (db1).",
        ],
        actions: &[Action { label: "Load the course design", acts: &[Preset("three-server")] }],
        watch: "Dots are reads, diamonds are writes, crosses are errors. Follow one from the clients to the database \
                and back.",
    },
    Step {
        title: "Round robin: everyone takes a turn",
        design: COURSE,
        body: &[
            "lb1 uses round robin. It gives each new request to the next server in the list and starts again at the \
             top: web1, web2, web1, web2. A weight changes the share: weight 2 gets two turns for every one.",
            "Round robin never looks at how busy a server is.",
        ],
        actions: &[
            Action { label: "Use round robin", acts: &[Cmd(K::SetAlgorithm { algorithm: Algorithm::Roundrobin })] },
            Action {
                label: "Make web1 four times slower",
                acts: &[Cmd(K::Slow { node: NodeId::Web(0), factor: 4.0 })],
            },
        ],
        watch: "web1 still gets half of the requests while it is slow, so its queue grows and the latency figures \
                climb.",
    },
    Step {
        title: "Least connections: pick the least busy",
        design: COURSE,
        body: &["With leastconn, lb1 counts the open connections on each server and sends the new request to the one \
             with the fewest. A slow server keeps its connections longer, so it is picked less often."],
        actions: &[
            Action {
                label: "Switch to least connections",
                acts: &[Cmd(K::SetAlgorithm { algorithm: Algorithm::Leastconn })],
            },
            Action {
                label: "Make web1 four times slower",
                acts: &[Cmd(K::Slow { node: NodeId::Web(0), factor: 4.0 })],
            },
            Action { label: "web1 back to normal speed", acts: &[Cmd(K::Slow { node: NodeId::Web(0), factor: 1.0 })] },
        ],
        watch: "While web1 is slow it now gets fewer requests than web2, and latency stays lower than with round \
                robin. Side by side, further down, runs both on the same traffic.",
    },
    Step {
        title: "Active-active or active-passive",
        design: COURSE,
        body: &[
            "Both web servers take traffic at the same time: that is active-active. The load is spread and both add \
             capacity.",
            "In active-passive, one server works and the other waits on standby. The standby takes over only when \
             the active one fails. It adds a spare, not capacity.",
        ],
        actions: &[
            Action { label: "Make web2 a standby", acts: &[Cmd(K::SetBackup { server: 1, backup: true })] },
            Action { label: "Crash web1", acts: &[Cmd(K::Kill { node: NodeId::Web(0) })] },
            Action {
                label: "Back to active-active",
                acts: &[Cmd(K::Restore { node: NodeId::Web(0) }), Cmd(K::SetBackup { server: 1, backup: false })],
            },
        ],
        watch: "With web2 on standby, web1 does all the work. When web1 crashes, lb1 waits for three failed health \
                checks (about 6 s) before it uses web2, and requests fail in between.",
    },
    Step {
        title: "How a primary-replica cluster works",
        design: COURSE,
        body: &[
            "Only the primary, db1, accepts writes. Every change it commits goes into its binary log, and the log is \
             shipped to the replica.",
            "The replica replays the changes in order, one at a time. Its copy of the data is therefore a little \
             behind. That gap is the replication lag.",
        ],
        actions: &[
            Action { label: "More writes (60%)", acts: &[Cmd(K::SetWriteRatio { ratio: 0.6 })] },
            Action { label: "Slow the replica down (50 changes/s)", acts: &[Cmd(K::SetApplyRate { per_s: 50.0 })] },
            Action {
                label: "Back to normal",
                acts: &[Cmd(K::SetWriteRatio { ratio: 0.2 }), Cmd(K::SetApplyRate { per_s: 400.0 })],
            },
        ],
        watch: "The dashed line from db1 to db2 is the binlog stream. When changes arrive faster than the replica \
                applies them, db2's lag keeps growing.",
    },
    Step {
        title: "Primary or replica: who serves the application",
        design: COURSE,
        body: &[
            "The application sends writes (a new user, an order) to the primary and reads (showing a page) to the \
             replica. That takes the read load off the primary.",
            "The catch: a read just after a write can reach the replica before the change does, and show old data. \
             That is a stale read.",
        ],
        actions: &[
            Action { label: "Send reads to the primary too", acts: &[Cmd(K::SetReadFrom { mode: ReadFrom::Primary })] },
            Action { label: "Send reads to the replica", acts: &[Cmd(K::SetReadFrom { mode: ReadFrom::Replica })] },
        ],
        watch: "With every read on db1, its load rises and db2 only copies changes. With reads on the replica, stale \
                reads show up when the lag is high.",
    },
    Step {
        title: "Single points of failure",
        design: COURSE,
        body: &[
            "A single point of failure is a part whose loss stops the whole service. This design has two: the one \
             load balancer and the one primary.",
            "Without lb1 nobody reaches the site. Without db1 pages still load but nothing can be saved. Losing one \
             web server is fine: the other carries on.",
        ],
        actions: &[
            Action { label: "Kill the primary now", acts: &[Cmd(K::Kill { node: NodeId::Db(0) })] },
            Action { label: "Kill the load balancer", acts: &[Cmd(K::Kill { node: NodeId::Lb(0) })] },
            Action { label: "Kill web2", acts: &[Cmd(K::Kill { node: NodeId::Web(1) })] },
            Action {
                label: "Repair everything",
                acts: &[
                    Cmd(K::Restore { node: NodeId::Lb(0) }),
                    Cmd(K::Restore { node: NodeId::Db(0) }),
                    Cmd(K::Restore { node: NodeId::Web(1) }),
                ],
            },
        ],
        watch: "Once the primary is dead, every write fails while reads still work. With lb1 dead, every request \
                fails. Without web2, web1 alone keeps the site up.",
    },
    Step {
        title: "Removing them: redundancy",
        design: "high-availability",
        body: &[
            "The high-availability design doubles what was single. Two balancers share a floating IP (VRRP): when \
             the master dies, the other takes the address.",
            "A failover manager promotes a replica when the primary dies. Semi-sync replication makes the primary \
             wait until a replica has each write, so the promoted replica has not lost it.",
        ],
        actions: &[
            Action { label: "Load the high-availability design", acts: &[Preset("high-availability")] },
            Action { label: "Kill the primary now", acts: &[Cmd(K::Kill { node: NodeId::Db(0) })] },
            Action { label: "Kill lb1", acts: &[Cmd(K::Kill { node: NodeId::Lb(0) })] },
        ],
        watch: "Writes fail for a few seconds, then a replica becomes the primary. lb2 takes the floating IP within \
                about three seconds. Compare the error count with the previous step.",
    },
    Step {
        title: "Why HTTPS",
        design: COURSE,
        body: &[
            "Without TLS, every request crosses the internet as plain text. Anyone on the way can read passwords and \
             cookies, or change the page.",
            "HTTPS encrypts the link between the visitor and lb1, which holds the certificate. The price is some \
             balancer CPU for each new handshake.",
        ],
        actions: &[
            Action { label: "Turn HTTPS on", acts: &[Cmd(K::SetHttps { on: true })] },
            Action { label: "Turn HTTPS off", acts: &[Cmd(K::SetHttps { on: false })] },
        ],
        watch: "The label under the clients changes from plain HTTP, readable by anyone on the path, to HTTPS. The \
                balancer does a little more work for each new visitor.",
    },
    Step {
        title: "Why a firewall",
        design: COURSE,
        body: &[
            "Without a firewall, every server answers anyone on the internet, the database port included. A firewall \
             lets in only what the design needs, web traffic to the balancer, and drops the rest.",
        ],
        actions: &[
            Action { label: "Turn the firewall on", acts: &[Cmd(K::SetFirewall { on: true })] },
            Action { label: "Turn the firewall off", acts: &[Cmd(K::SetFirewall { on: false })] },
        ],
        watch: "The arrows are outside probes aimed at the web servers and the database. While the firewall is off \
                they get through; once it is on they stop at the orange bar in front of lb1.",
    },
    Step {
        title: "Why monitoring",
        design: COURSE,
        body: &[
            "Without monitoring, nobody notices a failing server until users complain. Monitoring agents report each \
             node's health, load and lag to a dashboard, and raise an alert when something breaks.",
        ],
        actions: &[
            Action { label: "Turn monitoring on", acts: &[Cmd(K::SetMonitoring { on: true })] },
            Action { label: "Turn monitoring off", acts: &[Cmd(K::SetMonitoring { on: false })] },
            Action { label: "Crash web2", acts: &[Cmd(K::Kill { node: NodeId::Web(1) })] },
            Action { label: "Repair web2", acts: &[Cmd(K::Restore { node: NodeId::Web(1) })] },
        ],
        watch: "Look at the dashboard under the model. With monitoring off it cannot tell you that web2 is down. \
                With it on, an alert appears within one check interval.",
    },
];

/// Carry out a lesson button's acts on the page that runs `driver`.
pub fn perform(driver: &Rc<RefCell<Driver>>, acts: &[Act]) -> Result<(), String> {
    for act in acts {
        match act {
            Act::Preset(name) => {
                let seed = driver.try_borrow().map(|d| d.sim.scenario().seed).unwrap_or(1);
                let mut s = preset(name).ok_or_else(|| format!("no design called {name}"))?;
                s.seed = seed;
                start_run(driver, s, name)?;
            }
            Act::Cmd(kind) => {
                let mut d = driver.try_borrow_mut().map_err(|_| "the model is busy; try again".to_string())?;
                d.command(kind.clone())?;
            }
        }
    }
    Ok(())
}

#[component(Lesson)]
pub fn lesson(props: &CourseProps) -> Html {
    let state = super::course::use_course(&props.shared, false);
    let error = use_state(|| None::<String>);
    let index = state.step.get().min(STEPS.len() - 1);
    let step = &STEPS[index];
    let open = state.lesson_open.get();
    let go = |to: usize| {
        let (state, error) = (state.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            state.step.set(to);
            state.lesson_open.set(true);
            error.set(None);
            state.bump();
        })
    };
    let toggle = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| {
            state.lesson_open.set(!state.lesson_open.get());
            state.bump();
        })
    };
    if !open {
        return html! {
            <section class="card lesson closed" aria-label="Lesson">
                <button type="button" class="lesson-toggle" onclick={toggle}>{ "Show the lesson" }</button>
            </section>
        };
    }
    // The text names the nodes of one design: say so when a design with other nodes is running
    // (one that differs only in settings, like secured-monitored, reads true as it is).
    let running = state.preset.borrow().clone();
    let other_nodes = match (props.shared.driver.try_borrow(), preset(step.design)) {
        (Ok(d), Some(wanted)) => !d.sim.scenario().same_nodes(&wanted),
        _ => false,
    };
    let loads_its_design =
        step.actions.iter().any(|a| a.acts.iter().any(|act| matches!(act, Preset(p) if *p == step.design)));
    let design_note = other_nodes.then(|| {
        let load = (!loads_its_design).then(|| {
            let (driver, error, design) = (props.shared.driver.clone(), error.clone(), step.design);
            let onclick = Callback::from(move |_: MouseEvent| error.set(perform(&driver, &[Preset(design)]).err()));
            html! { <button type="button" class="lesson-action" {onclick}>{ format!("Load {}", design_phrase(step.design, false)) }</button> }
        });
        html! {
            <p class="lesson-design" role="note">
                { format!("This step is written for {}; the model is running {running}. ", design_phrase(step.design, true)) }
                { load }
            </p>
        }
    });
    let buttons = step.actions.iter().map(|a| {
        let (driver, error) = (props.shared.driver.clone(), error.clone());
        let acts = a.acts;
        let onclick = Callback::from(move |_: MouseEvent| error.set(perform(&driver, acts).err()));
        html! { <button type="button" class="lesson-action" {onclick}>{ a.label }</button> }
    });
    html! {
        <section class="card lesson" aria-label="Lesson">
            <div class="lesson-head">
                <h2>{ format!("Lesson · step {} of {}", index + 1, STEPS.len()) }</h2>
                <button type="button" class="lesson-toggle" onclick={toggle}>{ "Hide" }</button>
            </div>
            <h3 class="lesson-title">{ step.title }</h3>
            { design_note }
            { for step.body.iter().map(|p| html! { <p>{ *p }</p> }) }
            <div class="lesson-actions">{ for buttons }</div>
            <p class="watch"><strong>{ "Watch for: " }</strong>{ step.watch }</p>
            if let Some(e) = (*error).clone() {
                <p class="command-error" role="alert">{ e }</p>
            }
            <nav class="lesson-nav" aria-label="Lesson steps">
                <button type="button" class="prev" disabled={index == 0} onclick={go(index.saturating_sub(1))}>{ "← Previous" }</button>
                <button type="button" class="next" disabled={index + 1 == STEPS.len()} onclick={go((index + 1).min(STEPS.len() - 1))}>{ "Next →" }</button>
            </nav>
        </section>
    }
}

/// "the course design (three-server)" or "the high-availability design"; `named` adds the
/// preset's name to the course design's phrase.
fn design_phrase(design: &str, named: bool) -> String {
    match (design == COURSE, named) {
        (true, true) => format!("the course design ({COURSE})"),
        (true, false) => "the course design".into(),
        (false, _) => format!("the {design} design"),
    }
}
