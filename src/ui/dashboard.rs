//! The monitoring dashboard (issue 6): what an operator with monitoring would see — live charts
//! from the model's per-second series, node health as the monitoring system believes it, and its
//! alerts. With monitoring off it is blind, as the course design is.

use super::actions::design_nodes;
use super::snapshot::{cause_words, Snapshot, CHART_SECONDS};
use super::Panel;
use crate::render::{facts, format};
use crate::sim::metrics::FailCause;
use crate::sim::CommandKind;
use yew::prelude::*;

/// One line of a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    /// CSS class giving its colour and dash (`s0`..`s8`, `ok`, `bad`).
    pub class: &'static str,
    pub values: Vec<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unit {
    PerSecond,
    Ms,
    Count,
}

impl Unit {
    fn show(self, v: f64) -> String {
        match self {
            Unit::PerSecond => format!("{}/s", format::compact(v.max(0.0).round() as u64)),
            Unit::Ms => format::ms(v),
            Unit::Count => format::compact(v.max(0.0).round() as u64),
        }
    }
}

const W: f64 = 300.0;
const H: f64 = 100.0;

/// A line chart of the last minute, drawn as inline SVG (attributes only: the CSP forbids
/// inline styles, and colours come from classes). `unit` formats a value for the axis and the
/// caption; `threshold` draws a dashed line (an alert threshold).
fn chart(title: &'static str, unit: Unit, lines: &[Series], threshold: Option<f64>) -> Html {
    let top = lines
        .iter()
        .flat_map(|l| l.values.iter().copied())
        .chain(threshold)
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let top = format::nice_ceiling(top * 1.05);
    let y = |v: f64| H - (v.clamp(0.0, top) / top) * (H - 4.0) - 2.0;
    let slots = CHART_SECONDS.max(2) as f64 - 1.0;
    let polyline = |values: &[f64]| {
        let start = CHART_SECONDS.saturating_sub(values.len()) as f64;
        values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", (start + i as f64) / slots * W, y(*v)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let latest = lines
        .iter()
        .map(|l| format!("{} {}", l.name, l.values.last().map_or_else(|| "–".to_string(), |v| unit.show(*v))))
        .collect::<Vec<_>>()
        .join(", ");
    let label =
        format!("{} over the last minute; latest: {}", title, if latest.is_empty() { "no data" } else { &latest });
    html! {
        <figure class="chart">
            <figcaption>
                <span class="chart-title">{ title }</span>
                <span class="chart-top">{ format!("top {}", unit.show(top)) }</span>
            </figcaption>
            <svg class="chart-svg" viewBox={format!("0 0 {W} {H}")} preserveAspectRatio="none" role="img" aria-label={label}>
                <line class="grid" x1="0" x2={W.to_string()} y1={format!("{:.1}", y(top / 2.0))} y2={format!("{:.1}", y(top / 2.0))} />
                if let Some(t) = threshold {
                    <line class="threshold" x1="0" x2={W.to_string()} y1={format!("{:.1}", y(t))} y2={format!("{:.1}", y(t))} />
                }
                { for lines.iter().map(|l| html! {
                    <polyline class={classes!("line", l.class)} points={polyline(&l.values)} vector-effect="non-scaling-stroke" />
                }) }
            </svg>
            <ul class="chart-legend" aria-hidden="true">
                { for lines.iter().map(|l| html! {
                    <li><span class={classes!("swatch", l.class)}></span>{ format!("{} {}", l.name,
                        l.values.last().map_or_else(|| "–".to_string(), |v| unit.show(*v))) }</li>
                }) }
            </ul>
        </figure>
    }
}

/// The charts' lines from the snapshot's series.
fn charts(s: &Snapshot) -> Html {
    let col = |f: &dyn Fn(&crate::sim::metrics::Sample) -> f64| s.series.iter().map(f).collect::<Vec<f64>>();
    let throughput = vec![
        Series { name: "served".into(), class: "ok", values: col(&|x| x.completed as f64) },
        Series { name: "failed".into(), class: "bad", values: col(&|x| x.failed as f64) },
    ];
    let latency = vec![
        Series { name: "p50".into(), class: "s0", values: col(&|x| x.latency_p50_ms) },
        Series { name: "p95".into(), class: "s1", values: col(&|x| x.latency_p95_ms) },
        Series { name: "p99".into(), class: "s2", values: col(&|x| x.latency_p99_ms) },
    ];
    const CLASSES: [&str; 9] = ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"];
    let errors: Vec<Series> = FailCause::ALL
        .iter()
        .enumerate()
        .filter(|(i, _)| s.series.iter().any(|x| x.failed_by_cause[*i] > 0))
        .map(|(i, c)| Series {
            name: cause_words(*c),
            class: CLASSES[i % CLASSES.len()],
            values: col(&|x| x.failed_by_cause[i] as f64),
        })
        .collect();
    let lag = vec![Series { name: "worst replica".into(), class: "s3", values: col(&|x| x.replication_lag_ms) }];
    let servers = s.servers.len().min(8);
    let load: Vec<Series> = (0..servers)
        .map(|i| Series {
            name: format!("web{}", i + 1),
            class: CLASSES[i % CLASSES.len()],
            values: col(&|x| x.server_conns.get(i).copied().unwrap_or(0) as f64),
        })
        .collect();
    html! {
        <div class="charts">
            { chart("Throughput", Unit::PerSecond, &throughput, None) }
            { chart("Latency", Unit::Ms, &latency, None) }
            { chart("Errors by cause", Unit::PerSecond, &errors, None) }
            { chart("Replication lag", Unit::Ms, &lag, Some(s.watch.lag_alert_ms)) }
            { chart(if s.servers.len() > servers { "Open connections (first 8 servers)" } else { "Open connections per server" },
                Unit::Count, &load, None) }
        </div>
    }
}

pub fn dashboard(props: &Panel) -> Html {
    let s = &props.snap;
    let w = &s.watch;
    let on_monitoring =
        super::controls::switch_command(&props.shared, &props.on_result, |on| CommandKind::SetMonitoring { on });
    let health = design_nodes(s).into_iter().map(|id| {
        let (word, class) = if !w.monitoring {
            ("unknown", "unknown")
        } else if w.known_down.contains(&id) {
            ("down", "bad")
        } else {
            ("up", "good")
        };
        html! {
            <li class={classes!("health", class)}>
                <span class="health-node">{ id.to_string() }</span>
                <span class="health-word">{ word }</span>
            </li>
        }
    });
    html! {
        <section class="card dashboard" aria-labelledby="dash-title">
            <div class="dash-head">
                <h2 id="dash-title">{ "Monitoring dashboard" }</h2>
                <label class="inline check">
                    <input type="checkbox" name="monitoring" checked={w.monitoring} onchange={on_monitoring} />
                    { "Monitoring" }
                </label>
            </div>
            <ul class="health-grid" aria-label="Node health as monitoring sees it">{ for health }</ul>
            if w.monitoring {
                <div class="alerts" aria-live="polite">
                    <h3>{ "Alerts" }</h3>
                    if w.alerts.is_empty() {
                        <p class="hint">{ "No alerts. Agents report every few seconds: a node that dies shows up here after the next report." }</p>
                    } else {
                        <ol class="alert-list">
                            { for w.alerts.iter().rev().take(8).map(|a| html! { <li>{ facts::alert_line(a) }</li> }) }
                        </ol>
                    }
                </div>
                { charts(s) }
            } else {
                <p class="blind" role="note">
                    <strong>{ "Monitoring is off, as in the course design: " }</strong>
                    { "there is no way of knowing the status of each server. No charts, no health, no alerts: a crashed server or a lagging replica is noticed only when users complain. The drawing above still shows the truth, because the simulator sees everything; your operators would not. Tick Monitoring to give them a dashboard." }
                </p>
            }
        </section>
    }
}
