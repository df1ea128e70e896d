//! The knobs. Every change is a command to the running model (`Driver::command`); a refused
//! value comes back as an error message for the page, never a panic.

use super::{Panel, Shared};
use crate::render::format;
use crate::scenario::{field_limits, Algorithm};
use crate::sim::CommandKind;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// The value of the `<input>` or `<select>` an event came from.
pub fn event_value(e: &Event) -> Option<String> {
    let target = e.target()?;
    if let Some(input) = target.dyn_ref::<HtmlInputElement>() {
        return Some(input.value());
    }
    target.dyn_ref::<HtmlSelectElement>().map(|s| s.value())
}

/// Whether the checkbox an event came from is now checked.
pub fn event_checked(e: &Event) -> Option<bool> {
    e.target()?.dyn_ref::<HtmlInputElement>().map(|i| i.checked())
}

/// A switch (checkbox) that sends `make(checked)` to the model and tells `on_result` how it went.
pub fn switch_command(
    shared: &Shared,
    on_result: &Callback<Result<(), String>>,
    make: impl Fn(bool) -> CommandKind + 'static,
) -> Callback<Event> {
    let (shared, on_result) = (shared.clone(), on_result.clone());
    Callback::from(move |e: Event| {
        on_result.emit(match event_checked(&e) {
            Some(on) => shared.send(make(on)),
            None => Err("could not read the switch".into()),
        });
    })
}

/// The text a number field shows and its handlers: the user's draft while typing (so the
/// page's 10 Hz refresh never overwrites a half-typed number), the model's value otherwise.
/// The draft is handed to `on_commit` on change and dropped on blur.
#[hook]
fn use_draft(
    model_text: String,
    on_commit: Callback<String>,
) -> (String, Callback<InputEvent>, Callback<Event>, Callback<FocusEvent>) {
    let draft = use_state(|| None::<String>);
    let oninput = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) {
                draft.set(Some(input.value()));
            }
        })
    };
    let onchange = {
        let draft = draft.clone();
        Callback::from(move |e: Event| {
            if let Some(text) = event_value(&e) {
                on_commit.emit(text);
            }
            draft.set(None);
        })
    };
    let onblur = {
        let draft = draft.clone();
        Callback::from(move |_: FocusEvent| draft.set(None))
    };
    ((*draft).clone().unwrap_or(model_text), oninput, onchange, onblur)
}

/// The knobs panel: the clock and the run, the traffic, the balancing and the farm.
pub fn controls(props: &Panel) -> Html {
    html! {
        <section class="controls" aria-labelledby="controls-title">
            <h2 id="controls-title">{ "Controls" }</h2>
            { transport(props) }
            { traffic(props) }
            { balancing(props) }
        </section>
    }
}

/// A callback that turns an event's value into a command with `parse` and sends it.
fn command(props: &Panel, parse: fn(&str) -> Result<CommandKind, String>) -> Callback<Event> {
    let (shared, on_result) = (props.shared.clone(), props.on_result.clone());
    Callback::from(move |e: Event| {
        let result = match event_value(&e) {
            Some(text) => parse(&text).and_then(|kind| shared.send(kind)),
            None => Err("could not read the control's value".into()),
        };
        on_result.emit(result);
    })
}

/// Play or pause, step one event, start again, the seed and the speed.
fn transport(props: &Panel) -> Html {
    let snap = &props.snap;
    let on_play = {
        let (shared, on_result, paused) = (props.shared.clone(), props.on_result.clone(), snap.paused);
        Callback::from(move |_: MouseEvent| {
            on_result.emit(shared.send(if paused { CommandKind::Resume } else { CommandKind::Pause }))
        })
    };
    let on_step = {
        let (shared, on_result) = (props.shared.clone(), props.on_result.clone());
        Callback::from(move |_: MouseEvent| on_result.emit(shared.step()))
    };
    let on_speed = command(props, |t| {
        let factor: f64 = t.trim().parse().map_err(|_| format!("'{t}' is not a speed"))?;
        Ok(CommandKind::SetSpeed { factor })
    });
    let speed_index = format::SPEEDS
        .iter()
        .enumerate()
        .min_by(|a, b| (a.1 - snap.speed).abs().total_cmp(&(b.1 - snap.speed).abs()))
        .map_or(3, |(i, _)| i);
    let (play_icon, play_label) = if snap.paused { ("▶", "Play") } else { ("❚❚", "Pause") };
    html! {
        <div class="transport">
            <button type="button" class="play" onclick={on_play} aria-keyshortcuts="Space"
                title="Play or pause (Space)">
                <span aria-hidden="true" class="icon">{ play_icon }</span>{ play_label }
            </button>
            <button type="button" class="step" onclick={on_step} aria-keyshortcuts="." title="Pause and process one event (.)">
                <span aria-hidden="true" class="icon">{ "⇥" }</span>{ "Step" }
            </button>
            <button type="button" onclick={on_reset(props)} title="Start the run again from time 0 with the current settings">
                <span aria-hidden="true" class="icon">{ "↺" }</span>{ "Reset" }
            </button>
            <SeedField seed={snap.seed} on_commit={on_seed(props)} />
            <label class="inline">
                <span>{ "Speed" }</span>
                <select name="speed" onchange={on_speed}>
                    { for format::SPEEDS.iter().enumerate().map(|(i, s)| html! {
                        <option value={s.to_string()} selected={i == speed_index}>{ format::speed(*s) }</option>
                    }) }
                </select>
            </label>
        </div>
    }
}

/// Start the run again from time 0 with the settings as they are now.
fn on_reset(props: &Panel) -> Callback<MouseEvent> {
    let (shared, on_result) = (props.shared.clone(), props.on_result.clone());
    Callback::from(move |_: MouseEvent| {
        let result = match shared.scenario() {
            Some(s) => shared.restart(s),
            None => Err("the model is busy; try again".into()),
        };
        on_result.emit(result);
    })
}

/// Restart with the typed seed (a whole number, or a message naming what was typed).
fn on_seed(props: &Panel) -> Callback<String> {
    let (shared, on_result) = (props.shared.clone(), props.on_result.clone());
    Callback::from(move |text: String| {
        let result =
            text.trim().parse::<u64>().map_err(|_| format!("a seed is a whole number, not '{text}'")).and_then(
                |seed| {
                    let mut s = shared.scenario().ok_or("the model is busy; try again")?;
                    s.seed = seed;
                    shared.restart(s)
                },
            );
        on_result.emit(result);
    })
}

/// The traffic and write-share sliders.
fn traffic(props: &Panel) -> Html {
    let snap = &props.snap;
    let on_rate = command(props, |t| {
        let position: u32 = t.trim().parse().map_err(|_| format!("'{t}' is not a slider position"))?;
        Ok(CommandKind::SetArrivalRate { per_s: format::rate_from_slider(position) })
    });
    let on_writes = command(props, |t| {
        let pct: f64 = t.trim().parse().map_err(|_| format!("'{t}' is not a percentage"))?;
        Ok(CommandKind::SetWriteRatio { ratio: pct / 100.0 })
    });
    let rate_position = format::slider_from_rate(snap.rate_per_s);
    let rate_text = format!("{} requests/s", format::rate(snap.rate_per_s));
    let writes_pct = (snap.write_ratio * 100.0).round();
    html! {
        <>
            <label class="field">
                <span class="name">{ "Traffic" }</span>
                <output class="value">{ &rate_text }</output>
                <input type="range" name="rate" min="0" max={format::RATE_SLIDER_MAX.to_string()} step="1"
                    value={rate_position.to_string()} aria-valuetext={rate_text.clone()}
                    oninput={on_rate.reform(Event::from)} />
                <span class="scale" aria-hidden="true"><span>{ "1" }</span><span>{ "100" }</span><span>{ "10,000" }</span></span>
            </label>

            <label class="field">
                <span class="name">{ "Writes" }</span>
                <output class="value">{ format!("{writes_pct:.0} %") }</output>
                <input type="range" name="writes" min="0" max="100" step="1" value={writes_pct.to_string()}
                    aria-valuetext={format!("{writes_pct:.0} percent of requests are writes")}
                    oninput={on_writes.reform(Event::from)} />
            </label>
        </>
    }
}

/// The balancing algorithm (with random's draws) and the number of web servers.
fn balancing(props: &Panel) -> Html {
    let snap = &props.snap;
    let on_algorithm = command(props, |t| {
        Algorithm::parse(t)
            .map(|algorithm| CommandKind::SetAlgorithm { algorithm })
            .ok_or_else(|| format!("unknown algorithm '{t}'"))
    });
    let on_servers = command(props, |t| {
        let count: u16 = t.trim().parse().map_err(|_| format!("'{t}' is not a number of servers"))?;
        Ok(CommandKind::SetServerCount { count })
    });
    let on_draws = {
        let (shared, on_result) = (props.shared.clone(), props.on_result.clone());
        Callback::from(move |text: String| {
            let result = text
                .trim()
                .parse::<u32>()
                .map_err(|_| format!("draws must be a whole number from 1 to 8, not '{text}'"))
                .and_then(|draws| shared.send(CommandKind::SetRandomDraws { draws }));
            on_result.emit(result);
        })
    };
    let server_count = snap.servers.len();
    html! {
        <>
            <label class="field">
                <span class="name">{ "Balancing algorithm" }</span>
                <select name="algorithm" onchange={on_algorithm}>
                    { for Algorithm::ALL.iter().map(|a| html! {
                        <option value={a.name()} selected={*a == snap.algorithm}>{ a.name() }</option>
                    }) }
                </select>
                <span class="hint">{ format::algorithm_blurb(snap.algorithm) }</span>
            </label>

            if snap.algorithm == Algorithm::Random {
                <NumberField label="Servers drawn per request" setting="balancer.random_draws"
                    value={snap.random_draws} on_commit={on_draws} class="field" />
            }

            <label class="field">
                <span class="name">{ "Web servers" }</span>
                <output class="value">{ server_count }</output>
                <input type="range" name="servers" min="1" max={format::MAX_SERVERS_UI.to_string()} step="1"
                    value={server_count.to_string()}
                    aria-valuetext={format!("{server_count} web servers")}
                    oninput={on_servers.reform(Event::from)} />
            </label>
        </>
    }
}

#[derive(Properties, PartialEq)]
pub struct NumberFieldProps {
    /// Visible label (also the accessible name).
    pub label: AttrValue,
    /// The settings-table key whose range gives the field's min and max.
    pub setting: &'static str,
    /// The model's value.
    pub value: u32,
    /// Called with the typed text when the user commits it (Enter, leaving the field, arrows).
    pub on_commit: Callback<String>,
    #[prop_or_default]
    pub class: Classes,
    /// Hide the label visually (it stays the accessible name), for table cells.
    #[prop_or_default]
    pub compact: bool,
}

/// A number input that shows the model's value but keeps what the user is typing until it is
/// committed, so the page's 10 Hz refresh never overwrites a half-typed number.
#[component(NumberField)]
pub fn number_field(props: &NumberFieldProps) -> Html {
    let (value, oninput, onchange, onblur) = use_draft(props.value.to_string(), props.on_commit.clone());
    let label_class = if props.compact { "visually-hidden" } else { "name" };
    let limits = field_limits(props.setting);
    html! {
        <label class={props.class.clone()}>
            <span class={label_class}>{ props.label.clone() }</span>
            <input type="number" inputmode="numeric" min={limits.min.to_string()} max={limits.max.to_string()}
                step={limits.step} {value} {oninput} {onchange} {onblur} />
        </label>
    }
}

#[derive(Properties, PartialEq)]
pub struct DecimalFieldProps {
    /// Visible label (also the accessible name).
    pub label: AttrValue,
    /// The settings-table key whose range gives the field's min, max and step.
    pub setting: &'static str,
    /// The model's value.
    pub value: f64,
    /// Called with the typed text when the user commits it.
    pub on_commit: Callback<String>,
    #[prop_or_default]
    pub class: Classes,
    /// A unit after the input ("s", "per s").
    #[prop_or_default]
    pub unit: AttrValue,
    #[prop_or_default]
    pub name: AttrValue,
    /// Hide the label visually (it stays the accessible name), for table-like rows.
    #[prop_or_default]
    pub compact: bool,
}

/// [`NumberField`] for decimal values.
#[component(DecimalField)]
pub fn decimal_field(props: &DecimalFieldProps) -> Html {
    let shown =
        if props.value.fract().abs() < 1e-9 { format!("{:.0}", props.value) } else { format!("{}", props.value) };
    let (value, oninput, onchange, onblur) = use_draft(shown, props.on_commit.clone());
    let limits = field_limits(props.setting);
    html! {
        <label class={props.class.clone()}>
            <span class={if props.compact { "visually-hidden" } else { "name" }}>{ props.label.clone() }</span>
            <span class="with-unit">
                <input type="number" inputmode="decimal" min={limits.min.to_string()} max={limits.max.to_string()}
                    step={limits.step} name={props.name.clone()} {value} {oninput} {onchange} {onblur} />
                if !props.unit.is_empty() { <span class="unit">{ props.unit.clone() }</span> }
            </span>
        </label>
    }
}

/// Parse a decimal typed by the user, or say what is wrong with it.
pub fn parse_decimal(text: &str, what: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("{what} must be a number, not '{text}'"))
}

#[derive(Properties, PartialEq)]
pub struct SeedFieldProps {
    pub seed: u64,
    pub on_commit: Callback<String>,
}

/// The random seed: the same seed and settings replay the same run. Changing it restarts.
#[component(SeedField)]
pub fn seed_field(props: &SeedFieldProps) -> Html {
    let (value, oninput, onchange, onblur) = use_draft(props.seed.to_string(), props.on_commit.clone());
    html! {
        <label class="inline seed" title="The same seed and settings replay the same run; changing it restarts">
            <span>{ "Seed" }</span>
            <input type="text" inputmode="numeric" name="seed" autocomplete="off" spellcheck="false" size="6" {value} {oninput} {onchange} {onblur} />
        </label>
    }
}
