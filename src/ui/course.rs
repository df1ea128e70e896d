//! The course-page features around the live model: preset picker, links that reproduce a run
//! (URL state), embed mode, JSON import/export, time travel, the lesson and side by side.
//!
//! Their shared state ([`CourseState`]) is kept per page model (keyed by the page's
//! `Rc<RefCell<Driver>>`), so the components of one page, and a test holding that page's
//! driver, see the same recording of the run.

use super::compare::Compare;
use super::export_panel::ExportPanel;
use super::importexport::ImportExport;
use super::lesson::{Lesson, STEPS};
use super::share::{EmbedSnippet, ShareButton};
use super::timetravel::TimeTravel;
use super::Shared;
use crate::scenario::url::{self, UrlState};
use crate::scenario::{preset, Problem, Scenario, PRESETS};
use crate::sim::replay::{self, Recording};
use crate::sim::{CommandKind, Driver, Sim, TraceConfig};
use gloo::timers::callback::Interval;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use yew::prelude::*;

/// The model's trace as the page keeps it (the newest lines, for the event log).
pub const PAGE_TRACE: TraceConfig = TraceConfig { enabled: true, capacity: 2_000 };
/// How often the course components follow the model, ms.
const FOLLOW_MS: u32 = 200;
/// The address bar follows the run at most this often (in follow ticks).
const ADDRESS_EVERY: u32 = 5;

/// Problems to show, and where they came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub title: String,
    pub problems: Vec<Problem>,
}

/// What the course components of one page share.
pub struct CourseState {
    pub recording: RefCell<Recording>,
    /// The preset the run started from (links name it and list what differs).
    pub preset: RefCell<String>,
    /// A bad link or file, listed until the next good one.
    pub notice: RefCell<Option<Notice>>,
    /// Lesson step shown (0-based) and whether the lesson is open (then links carry `step=`).
    pub step: Cell<usize>,
    pub lesson_open: Cell<bool>,
    /// Compact layout for an iframe.
    pub embed: Cell<bool>,
    /// Bumped on every change the components should re-render for.
    pub version: Cell<u64>,
}

impl CourseState {
    fn new(sim: &Sim) -> CourseState {
        let name = sim.scenario().name.clone();
        CourseState {
            recording: RefCell::new(Recording::of(sim.initial_scenario().clone(), sim)),
            preset: RefCell::new(if preset(&name).is_some() { name } else { url::DEFAULT_PRESET.into() }),
            notice: RefCell::new(None),
            step: Cell::new(0),
            lesson_open: Cell::new(true),
            embed: Cell::new(false),
            version: Cell::new(0),
        }
    }

    pub fn bump(&self) {
        self.version.set(self.version.get().wrapping_add(1));
    }

    pub fn set_notice(&self, notice: Option<Notice>) {
        *self.notice.borrow_mut() = notice;
        self.bump();
    }
}

/// Each page's model (held weakly) with its course state.
type PageStates = Vec<(Weak<RefCell<Driver>>, Rc<CourseState>)>;

thread_local! {
    static STATES: RefCell<PageStates> = const { RefCell::new(Vec::new()) };
    static LOCATION: Cell<bool> = const { Cell::new(false) };
}

/// The course state of the page that runs `driver` (made on first use).
pub fn state_for(driver: &Rc<RefCell<Driver>>) -> Rc<CourseState> {
    STATES.with(|states| {
        let mut states = states.borrow_mut();
        states.retain(|(weak, _)| weak.strong_count() > 0);
        if let Some((_, state)) = states.iter().find(|(weak, _)| weak.as_ptr() == Rc::as_ptr(driver)) {
            return state.clone();
        }
        let state = match driver.try_borrow() {
            Ok(d) => Rc::new(CourseState::new(&d.sim)),
            Err(_) => Rc::new(CourseState::new(&Sim::new(Scenario::default(), PAGE_TRACE))),
        };
        states.push((Rc::downgrade(driver), state.clone()));
        state
    })
}

/// The page started by `ui::start()` reads its run from the address bar and keeps the address
/// bar in step with the run. Pages mounted by tests do not.
pub fn enable_location() {
    LOCATION.with(|l| l.set(true));
}

fn location_enabled() -> bool {
    LOCATION.with(|l| l.get())
}

/// Replace the page's model with `new` (keeping the page's per-frame event cap).
pub(super) fn install(driver: &Rc<RefCell<Driver>>, mut new: Driver) -> Result<(), String> {
    let mut d = driver.try_borrow_mut().map_err(|_| "the model is busy; try again".to_string())?;
    new.max_events_per_frame = d.max_events_per_frame;
    *d = new;
    Ok(())
}

/// Open a link's run on the page that runs `driver`: decode the query, rebuild the run (seed +
/// scenario + commands, up to the link's time) and put it in place of the running one. On any
/// problem the running model is left alone and every problem is listed on the page.
pub fn load_query(driver: &Rc<RefCell<Driver>>, query: &str) -> Result<UrlState, Vec<Problem>> {
    let state = state_for(driver);
    let result = open_query(driver, &state, query);
    match &result {
        Ok(_) => state.set_notice(None),
        Err(problems) => state.set_notice(Some(Notice {
            title: "This link could not be opened. The page keeps running the design it had:".into(),
            problems: problems.clone(),
        })),
    }
    result
}

fn open_query(driver: &Rc<RefCell<Driver>>, state: &CourseState, query: &str) -> Result<UrlState, Vec<Problem>> {
    let link = url::decode(query)?;
    let mut rebuilt = replay::rebuild(&link.scenario, &link.commands, link.target_us(), PAGE_TRACE)
        .map_err(|e| vec![Problem { path: format!("cmds[{}]", e.index), message: e.message }])?;
    if let Some(speed) = link.speed {
        if rebuilt.speed() != speed {
            rebuilt
                .command(CommandKind::SetSpeed { factor: speed })
                .map_err(|message| vec![Problem { path: "speed".into(), message }])?;
        }
    }
    let recording = Recording::of(link.scenario.clone(), &rebuilt.sim);
    install(driver, rebuilt).map_err(|message| vec![Problem { path: "(page)".into(), message }])?;
    *state.recording.borrow_mut() = recording;
    *state.preset.borrow_mut() = link.preset.clone();
    if let Some(step) = link.step {
        state.step.set((step as usize).clamp(1, STEPS.len()) - 1);
        state.lesson_open.set(true);
    }
    set_embed(state, link.embed);
    state.bump();
    Ok(link)
}

/// Start a new run from `scenario` (a preset or an imported file), keeping pause and speed.
pub fn start_run(driver: &Rc<RefCell<Driver>>, scenario: Scenario, preset_name: &str) -> Result<(), String> {
    if let Some(p) = scenario.validate().first() {
        return Err(format!("{p}"));
    }
    let state = state_for(driver);
    {
        let mut d = driver.try_borrow_mut().map_err(|_| "the model is busy; try again".to_string())?;
        d.sim = Sim::new(scenario.clone(), PAGE_TRACE);
    }
    *state.recording.borrow_mut() = Recording::new(scenario);
    *state.preset.borrow_mut() = preset_name.to_string();
    state.bump();
    Ok(())
}

/// The link state of the run as it stands: its start, its inputs so far, and (for a shared
/// link) the moment it was shared at.
pub fn current_link(driver: &Rc<RefCell<Driver>>, with_time: bool) -> Option<UrlState> {
    let state = state_for(driver);
    let d = driver.try_borrow().ok()?;
    let recording = state.recording.borrow();
    let preset_name = state.preset.borrow().clone();
    Some(UrlState {
        preset: preset_name,
        scenario: recording.scenario.clone(),
        speed: (d.speed() != 1.0).then_some(d.speed()),
        step: state.lesson_open.get().then_some(state.step.get() as u32 + 1),
        embed: state.embed.get(),
        at_us: with_time.then_some(d.sim.now()),
        commands: d.sim.commands().to_vec(),
    })
}

/// Most characters of one problem's path or message the page shows: a link may quote a value
/// of hundreds of thousands of characters, which would bury the list.
pub const PROBLEM_SHOWN_CHARS: usize = 300;

/// `text` cut to [`PROBLEM_SHOWN_CHARS`] in the middle (a message quotes the value first and
/// says what is wrong last), saying how much was left out.
fn shorten(text: &str) -> String {
    let total = text.chars().count();
    if total <= PROBLEM_SHOWN_CHARS {
        return text.to_string();
    }
    let half = PROBLEM_SHOWN_CHARS / 2;
    let head: String = text.chars().take(half).collect();
    let tail: String = text.chars().skip(total - half).collect();
    format!("{head} … ({} characters left out) … {tail}", total - 2 * half)
}

/// The page's address (origin and path) without a query.
pub fn page_address() -> String {
    web_sys::window()
        .map(|w| w.location())
        .and_then(|l| Some(format!("{}{}", l.origin().ok()?, l.pathname().ok()?)))
        .unwrap_or_default()
}

/// Compact layout without page chrome: a class on `<body>` (styles/course.css hides the rest).
pub fn set_embed(state: &CourseState, on: bool) {
    state.embed.set(on);
    let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) else { return };
    let classes = body.get_attribute("class").unwrap_or_default();
    let mut list: Vec<&str> = classes.split_whitespace().filter(|c| *c != "embed").collect();
    if on {
        list.push("embed");
    }
    let _ = body.set_attribute("class", &list.join(" "));
}

/// Keep the address bar showing the run (`history.replaceState`, no new history entries).
fn sync_address(driver: &Rc<RefCell<Driver>>) {
    let Some(link) = current_link(driver, false) else { return };
    let Some(window) = web_sys::window() else { return };
    let query = format!("?{}", url::encode(&link));
    if window.location().search().ok().as_deref() == Some(query.as_str()) {
        return;
    }
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&query));
    }
}

#[derive(Properties, PartialEq)]
pub struct CourseProps {
    pub shared: Shared,
}

/// Re-render on every change of the course state and follow the model ten times a second.
#[hook]
pub(super) fn use_course(shared: &Shared, follow: bool) -> Rc<CourseState> {
    let state = state_for(&shared.driver);
    let refresh = use_force_update();
    {
        let (shared, state) = (shared.clone(), state.clone());
        use_effect_with((), move |_| {
            let mut ticks = 0u32;
            let timer = Interval::new(FOLLOW_MS, move || {
                if follow {
                    if let Ok(d) = shared.driver.try_borrow() {
                        if state.recording.borrow_mut().observe(&d.sim) {
                            state.bump();
                        }
                    }
                    ticks += 1;
                    if location_enabled() && ticks % ADDRESS_EVERY == 0 {
                        sync_address(&shared.driver);
                    }
                }
                refresh.force_update();
            });
            move || drop(timer)
        });
    }
    state
}

/// Above the stage: design picker, share, time travel, and any problem with a link or file.
#[component(CourseBar)]
pub fn course_bar(props: &CourseProps) -> Html {
    let state = use_course(&props.shared, true);
    // The page opened from a link: read it once.
    {
        let driver = props.shared.driver.clone();
        use_effect_with((), move |_| {
            if location_enabled() {
                let query = web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default();
                if !query.trim_start_matches('?').is_empty() {
                    let _ = load_query(&driver, &query);
                }
            }
        });
    }
    let notice = state.notice.borrow().clone();
    let on_dismiss = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| state.set_notice(None))
    };
    html! {
        <section class="course-bar" aria-label="Design, sharing and time travel">
            <div class="course-row">
                <PresetPicker shared={props.shared.clone()} />
                <ShareButton shared={props.shared.clone()} />
            </div>
            if let Some(n) = notice {
                <div class="problems" role="alert">
                    <p class="problems-title">{ n.title.clone() }</p>
                    <ul class="problem-list">
                        { for n.problems.iter().map(|p| html! {
                            <li><code class="path">{ shorten(&p.path) }</code>{ " " }{ shorten(&p.message) }</li>
                        }) }
                    </ul>
                    <button type="button" class="dismiss" onclick={on_dismiss}>{ "Dismiss" }</button>
                </div>
            }
            <TimeTravel shared={props.shared.clone()} />
        </section>
    }
}

/// The design picker: every preset with its one-line summary.
#[component(PresetPicker)]
pub fn preset_picker(props: &CourseProps) -> Html {
    let state = use_course(&props.shared, false);
    let error = use_state(|| None::<String>);
    let current = state.preset.borrow().clone();
    let on_change = {
        let (driver, error) = (props.shared.driver.clone(), error.clone());
        Callback::from(move |e: Event| {
            let Some(name) = super::controls::event_value(&e) else { return };
            let seed = driver.try_borrow().map(|d| d.sim.scenario().seed).unwrap_or(1);
            match preset(&name) {
                Some(mut s) => {
                    s.seed = seed;
                    error.set(start_run(&driver, s, &name).err());
                }
                None => error.set(Some(format!("no design called {name}"))),
            }
        })
    };
    let summary = PRESETS.iter().find(|p| p.name == current).map_or("", |p| p.summary);
    html! {
        <div class="preset-picker">
            <label class="preset-label">
                <span class="name">{ "Design" }</span>
                <select name="preset" onchange={on_change}>
                    { for PRESETS.iter().map(|p| html! {
                        <option value={p.name} selected={p.name == current}>{ p.name }</option>
                    }) }
                </select>
            </label>
            <span class="preset-summary">{ summary }</span>
            if let Some(e) = (*error).clone() {
                <span class="command-error" role="alert">{ e }</span>
            }
        </div>
    }
}

/// Below the model: side by side, import and export, and the embed snippet.
pub fn course_lower(shared: &Shared) -> Html {
    html! {
        <section class="course-lower" aria-label="Compare, save and embed">
            <Compare shared={shared.clone()} />
            <div class="course-tools">
                <ImportExport shared={shared.clone()} />
                <EmbedSnippet shared={shared.clone()} />
                <ExportPanel shared={shared.clone()} />
            </div>
        </section>
    }
}

/// The lesson card (in the side panel, next to the model it acts on).
pub fn lesson_card(shared: &Shared) -> Html {
    html! { <Lesson shared={shared.clone()} /> }
}
