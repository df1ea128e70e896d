//! The course-page features in headless Chromium: links load runs, bad links list their problems
//! while the page keeps running, time travel lands on identical metrics, embed mode hides the
//! chrome, the lesson acts on the model, and the trace is the same here as natively.
//!
//! Run with `cargo test --target wasm32-unknown-unknown --test browser_course`.
#![cfg(target_arch = "wasm32")]

mod browser_support;

use browser_support::*;
use infrasim::scenario::url::{self, UrlState};
use infrasim::scenario::{preset, Algorithm};
use infrasim::sim::replay;
use infrasim::sim::time::from_s;
use infrasim::sim::{Command, CommandKind, Driver, NodeId, Report, Sim, TraceConfig};
use infrasim::ui::course::{self, PAGE_TRACE};
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};

wasm_bindgen_test_configure!(run_in_browser);

fn metrics(sim: &Sim) -> String {
    serde_json::to_string(&Report::from_sim(sim)).unwrap()
}

#[wasm_bindgen_test]
async fn a_link_with_settings_and_a_seed_loads_that_scenario() {
    let (host, model) = mount().await;
    let state = course::load_query(
        &model,
        "?preset=three-server-leastconn&traffic.arrival_rate_per_s=250&db.replicas=2&seed=77&speed=2",
    )
    .expect("a good link");
    assert_eq!(state.scenario.seed, 77);
    {
        let d = model.borrow();
        let s = d.sim.scenario();
        assert_eq!(s.seed, 77);
        assert_eq!(s.balancer.algorithm, Algorithm::Leastconn);
        assert_eq!(s.traffic.arrival_rate_per_s, 250.0);
        assert_eq!(s.db.replicas, 2);
        assert_eq!(d.speed(), 2.0);
    }
    let picker: HtmlSelectElement = find(&host, "select[name=preset]");
    wait_until("the picker shows the preset", || picker.value() == "three-server-leastconn").await;
    let before = model.borrow().sim.now();
    wait_until("the loaded run keeps running", || model.borrow().sim.now() > before).await;

    // A shared run: its command log and moment come back exactly.
    let mut scenario = preset("three-server").unwrap();
    scenario.seed = 5;
    let commands = vec![
        Command { at_us: 300_000, what: CommandKind::SetArrivalRate { per_s: 180.0 } },
        Command { at_us: 900_000, what: CommandKind::Kill { node: NodeId::Web(1) } },
    ];
    let link = UrlState {
        at_us: Some(1_500_000),
        commands: commands.clone(),
        ..UrlState::new("three-server", scenario.clone())
    };
    let query = url::encode(&link);
    course::load_query(&model, &query).expect("a shared run");
    let reference = replay::rebuild_sim(&scenario, &commands, 1_500_000, PAGE_TRACE).unwrap();
    {
        let d = model.borrow();
        assert_eq!(d.sim.commands(), &commands[..]);
        assert!(d.sim.now() >= 1_500_000);
    }
    // Same run: rebuilt at the same moment from the page's own recording, the metrics agree.
    infrasim::ui::timetravel::seek(&model, 1_500_000).unwrap();
    assert_eq!(metrics(&model.borrow().sim), metrics(&reference));
    host.remove();
}

#[wasm_bindgen_test]
async fn a_bad_link_lists_every_problem_while_the_page_keeps_running() {
    let (host, model) = mount().await;
    let before = model.borrow().sim.scenario().clone();
    let problems = course::load_query(&model, "?preset=mainframe&seed=x&colour=blue&speed=0").unwrap_err();
    assert!(problems.len() >= 4, "{problems:?}");
    wait_until("the problems are listed", || host.query_selector_all(".problems li").unwrap().length() >= 4).await;
    let text = find::<Element>(&host, ".problems").text_content().unwrap_or_default();
    for path in ["preset", "seed", "colour", "speed"] {
        assert!(text.contains(path), "{path} missing from {text}");
    }
    assert_eq!(model.borrow().sim.scenario(), &before, "the running design is untouched");
    let now = model.borrow().sim.now();
    wait_until("the page keeps running", || model.borrow().sim.now() > now).await;
    // The controls still work.
    let slider: HtmlInputElement = find(&host, "input[name=rate]");
    slider.set_value("750");
    fire(&slider, "input");
    assert!((model.borrow().sim.scenario().traffic.arrival_rate_per_s - 1_000.0).abs() < 1.0);
    host.remove();
}

#[wasm_bindgen_test]
async fn scrubbing_back_and_forward_lands_on_identical_metrics() {
    let (host, model) = mount().await;
    {
        let mut d = model.borrow_mut();
        d.command(CommandKind::SetSpeed { factor: 20.0 }).unwrap();
    }
    wait_until("a second has run", || model.borrow().sim.now() > 1_000_000).await;
    model.borrow_mut().command(CommandKind::Kill { node: NodeId::Web(0) }).unwrap();
    wait_until("four seconds have run", || model.borrow().sim.now() > 4_000_000).await;

    let range: HtmlInputElement = find(&host, "input[name=timeline]");
    wait_until("the timeline covers the run", || range.max().parse::<u64>().unwrap_or(0) >= 4_000).await;
    let scrub = |ms: u64| {
        range.set_value(&ms.to_string());
        fire(&range, "change");
        assert_eq!(model.borrow().sim.now(), ms * 1_000, "rebuilt at {ms} ms");
        assert!(model.borrow().paused(), "held still after scrubbing");
        metrics(&model.borrow().sim)
    };
    let m1 = scrub(800);
    let m3 = scrub(3_500);
    assert_ne!(m1, m3);
    assert_eq!(scrub(800), m1, "back again");
    assert_eq!(scrub(3_500), m3, "forward again: the recorded kill is replayed");
    assert!(!model.borrow().sim.view(0).web[0].alive, "web1 was killed at about 1 s");
    // The same as rebuilding from the recording directly.
    let state = course::state_for(&model);
    let (scenario, log) = {
        let r = state.recording.borrow();
        (r.scenario.clone(), r.log.clone())
    };
    let direct = replay::rebuild_sim(&scenario, &log, 3_500_000, PAGE_TRACE).unwrap();
    assert_eq!(metrics(&direct), m3);

    // Continue from an earlier moment: the run branches there.
    scrub(2_000);
    wait_until("the continue button shows", || present(&host, "button.continue")).await;
    button_with_text(&host, "Continue from here").click();
    wait_until("the run continues", || model.borrow().sim.now() > 2_000_000).await;
    host.remove();
}

#[wasm_bindgen_test]
async fn embed_mode_hides_the_chrome() {
    let doc = document();
    // The test page has no stylesheet: add the page's course stylesheet, which holds the rule.
    let style = doc.create_element("style").unwrap();
    style.set_text_content(Some(include_str!("../styles/course.css")));
    doc.head().unwrap().append_child(&style).unwrap();
    let (host, model) = mount().await;
    let header: Element = find(&host, ".top");
    let window = web_sys::window().unwrap();
    let display = |el: &Element| window.get_computed_style(el).unwrap().unwrap().get_property_value("display").unwrap();
    assert_ne!(display(&header), "none");
    course::load_query(&model, "?embed=1&preset=queue-lab").expect("an embed link");
    let body = doc.body().unwrap();
    assert!(body.get_attribute("class").unwrap_or_default().split_whitespace().any(|c| c == "embed"));
    assert_eq!(display(&header), "none", "the heading and intro are hidden");
    wait_until("the lesson is hidden", || {
        host.query_selector(".lesson").ok().flatten().map(|l| display(&l) == "none").unwrap_or(true)
    })
    .await;
    let lower: Element = find(&host, ".course-lower");
    assert_eq!(display(&lower), "none");
    let canvas: Element = find(&host, "canvas#topology");
    assert_ne!(display(&canvas), "none", "the model is still shown");
    // The iframe snippet for the current run.
    let _ = body.set_attribute("class", "");
    button_with_text(&host, "Make and copy the snippet").click();
    let area: HtmlTextAreaElement = {
        wait_until("the snippet appears", || present(&host, "textarea[name=embed-snippet]")).await;
        find(&host, "textarea[name=embed-snippet]")
    };
    let snippet = area.value();
    assert!(snippet.starts_with("<iframe src=\""), "{snippet}");
    assert!(snippet.contains("embed=1") && snippet.contains("preset=queue-lab"), "{snippet}");
    style.remove();
    host.remove();
}

#[wasm_bindgen_test]
async fn a_bad_file_lists_its_problems_and_a_good_one_starts_a_run() {
    let (host, model) = mount().await;
    let before = model.borrow().sim.scenario().clone();
    let area: HtmlTextAreaElement = find(&host, "textarea[name=scenario-json]");
    area.set_value(r#"{"version": 3, "traffic": {"write_ratio": "half"}, "colour": 1}"#);
    button_with_text(&host, "Load pasted JSON").click();
    wait_until("the problems are listed", || host.query_selector_all(".files .problems li").unwrap().length() >= 3)
        .await;
    let text = find::<Element>(&host, ".files .problems").text_content().unwrap_or_default();
    for path in ["version", "traffic.write_ratio", "colour"] {
        assert!(text.contains(path), "{path} missing from {text}");
    }
    assert_eq!(model.borrow().sim.scenario(), &before);
    // Export → import round-trips the design.
    let exported = infrasim::ui::importexport::export_json(&model).unwrap();
    let mut changed = serde_json::from_str::<serde_json::Value>(&exported).unwrap();
    changed["traffic"]["arrival_rate_per_s"] = serde_json::json!(321.0);
    area.set_value(&changed.to_string());
    button_with_text(&host, "Load pasted JSON").click();
    assert_eq!(model.borrow().sim.scenario().traffic.arrival_rate_per_s, 321.0);
    let mut expected = before.clone();
    expected.traffic.arrival_rate_per_s = 321.0;
    assert_eq!(model.borrow().sim.scenario(), &expected);
    host.remove();
}

#[wasm_bindgen_test]
async fn lesson_steps_are_linkable_and_act_on_the_model() {
    let (host, model) = mount().await;
    course::load_query(&model, "?step=7").expect("a lesson link");
    wait_until("step 7 shows", || {
        find::<Element>(&host, ".lesson h2").text_content().unwrap_or_default().contains("step 7 of")
    })
    .await;
    button_with_text(&host, "Kill the primary now").click();
    assert!(!model.borrow().sim.view(0).db[0].alive, "the primary is dead");
    button_with_text(&host, "Repair everything").click();
    assert!(model.borrow().sim.view(0).db[0].alive);
    button_with_text(&host, "Next →").click();
    wait_until("step 8 shows", || {
        find::<Element>(&host, ".lesson h2").text_content().unwrap_or_default().contains("step 8 of")
    })
    .await;
    button_with_text(&host, "Load the high-availability design").click();
    assert!(model.borrow().sim.scenario().balancer.pair);
    let link = course::current_link(&model, false).unwrap();
    assert_eq!(link.step, Some(8));
    assert_eq!(link.preset, "high-availability");
    host.remove();
}

/// A step's text names the nodes of one design: with another design running, the lesson says
/// so and offers to load the right one.
#[wasm_bindgen_test]
async fn lesson_says_when_another_design_is_running() {
    let (host, model) = mount().await;
    let note = |host: &Element| host.query_selector(".lesson .lesson-design").ok().flatten();
    course::load_query(&model, "?step=7").expect("a lesson link");
    wait_until("step 7 shows", || {
        find::<Element>(&host, ".lesson h2").text_content().unwrap_or_default().contains("step 7 of")
    })
    .await;
    assert!(note(&host).is_none(), "the course design runs: no note");
    // A design with the same nodes and other settings reads true as it is: no note either.
    course::load_query(&model, "?preset=secured-monitored&step=7").expect("a lesson link");
    wait_until("secured-monitored runs", || model.borrow().sim.scenario().security.https).await;
    sleep(400).await; // a few of the lesson's 100 ms refreshes
    assert!(note(&host).is_none(), "secured-monitored has the course design's nodes: no note");
    course::load_query(&model, "?preset=high-availability&step=7").expect("a lesson link");
    wait_until("the note appears", || note(&host).is_some()).await;
    let text = note(&host).unwrap().text_content().unwrap_or_default();
    assert!(text.contains("course design (three-server)") && text.contains("high-availability"), "{text}");
    button_with_text(&host, "Load the course design").click();
    assert!(!model.borrow().sim.scenario().balancer.pair, "the course design has one balancer");
    wait_until("the note goes", || note(&host).is_none()).await;
    // Step 8 loads its own design with its first button: the note points at it, no second button.
    button_with_text(&host, "Next →").click();
    wait_until("the note for step 8", || note(&host).is_some()).await;
    assert_eq!(note(&host).unwrap().query_selector("button").unwrap(), None);
    host.remove();
}

#[wasm_bindgen_test]
async fn side_by_side_runs_two_designs_on_the_same_traffic() {
    let (host, _model) = mount().await;
    button_with_text(&host, "Run side by side").click();
    wait_until("two canvases", || present(&host, "canvas.compare-b")).await;
    wait_until("the table fills", || {
        host.query_selector_all(".compare-table tbody tr").unwrap().length() >= 8
            && find::<Element>(&host, ".compare-table").text_content().unwrap_or_default().contains("Requests")
    })
    .await;
    // Same arrivals in both runs: the Requests row has equal A and B.
    wait_until("requests arrive", || {
        let row: Element = find(&host, ".compare-table tbody tr");
        let cells = row.query_selector_all("td").unwrap();
        let a = cells.get(0).unwrap().text_content().unwrap_or_default();
        let b = cells.get(1).unwrap().text_content().unwrap_or_default();
        a != "0" && a == b
    })
    .await;
    button_with_text(&host, "Stop").click();
    host.remove();
}

/// The trace of the golden test, computed in the browser: identical to the native one.
#[wasm_bindgen_test]
fn the_trace_is_identical_natively_and_in_the_browser() {
    let mut s = preset("three-server").unwrap();
    s.seed = 42;
    let mut sim = Sim::new(s.clone(), TraceConfig { enabled: true, capacity: usize::MAX });
    sim.run_until(from_s(2.0), u64::MAX);
    let lines = sim.trace.lines();
    let text = lines.iter().take(400).cloned().collect::<Vec<_>>().join("\n") + "\n";
    assert_eq!(text, include_str!("golden/three_server_seed42.txt"));
    // And a command log replayed in the browser gives the trace of the run it records.
    let mut live = Driver::new(Sim::new(s.clone(), TraceConfig { enabled: true, capacity: usize::MAX }));
    for (i, dt) in [16.0, 17.5, 16.2, 250.0, 33.3, 16.7].iter().cycle().take(120).enumerate() {
        live.advance(*dt);
        if i == 20 {
            live.command(CommandKind::Kill { node: NodeId::Db(0) }).unwrap();
        }
        if i == 60 {
            live.command(CommandKind::SetAlgorithm { algorithm: Algorithm::Leastconn }).unwrap();
        }
    }
    let replayed = replay::rebuild_sim(
        &s,
        live.sim.commands(),
        live.sim.now(),
        TraceConfig { enabled: true, capacity: usize::MAX },
    )
    .unwrap();
    assert_eq!(replayed.trace.lines(), live.sim.trace.lines());
}
