//! A sweep's figures: what one run leaves, the interval over seeds, and the row printed per cell
//! as a table, JSON or CSV.

use super::sweep::{SweepArgs, Vary};
pub use infrasim::sim::sweep::{ci95_half_width, mean, SeedResult, Stat};
use infrasim::sim::theory::{Model, NotCovered, Prediction};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// What the theory columns hold for a cell.
#[derive(Clone, Copy, Debug)]
pub enum TheoryColumns {
    Covered { prediction: Prediction, difference_pct: f64 },
    NotCovered(NotCovered),
}

/// One printed row: a cell's settings and its figures over seeds.
#[derive(Clone, Debug)]
pub struct CellRow {
    pub settings: Vec<(&'static str, String)>,
    pub seeds: u32,
    pub mean_ms: Stat,
    pub p50_ms: Stat,
    pub p95_ms: Stat,
    pub p99_ms: Stat,
    pub throughput_per_s: Stat,
    /// Mean over the seeds that answered any measured request.
    pub availability: Option<f64>,
    pub arrived: u64,
    pub completed: u64,
    pub failed: u64,
    /// Failed requests over arrived ones, all seeds together.
    pub failed_share: f64,
    /// Summed over the seeds.
    pub failed_by_cause: BTreeMap<&'static str, u64>,
    pub theory: TheoryColumns,
}

/// The formula's name, for a reader.
pub fn model_name(model: Model) -> String {
    match model {
        Model::Mm1k { k } => format!("M/M/1/{k}"),
        Model::Mmc { c } => format!("M/M/{c} shared queue (Erlang C)"),
        Model::Mgc { c: 1, .. } => "M/G/1 (Pollaczek-Khinchine)".into(),
        Model::Mgc { c, .. } => format!("M/G/{c} shared queue (Allen-Cunneen approximation)"),
        Model::RoundRobin { c: 1 } => "M/M/1".into(),
        Model::RandomSplit { c, .. } => format!("random split: {c} x M/G/1"),
        Model::PowerOfD { d, .. } => format!("power of {d} choices (many-server limit)"),
        Model::RoundRobin { c } => format!("round robin: {c} x E{c}/M/1"),
        Model::JoinShortestQueue => "join shortest queue, 2 servers (numeric)".into(),
    }
}

/// Why a cell has no theory columns, for a reader.
pub fn not_covered_text(why: NotCovered) -> &'static str {
    match why {
        NotCovered::Design => "not a plain queue (database, network delay, bursts, failures, TLS or machines)",
        NotCovered::QueueTimeout => "the shared queue has a timeout (set balancer.timeout_queue_ms=0)",
        NotCovered::SmallBacklog => "the servers' backlog is small enough to refuse connections at this load",
        NotCovered::UnequalServers => "servers differ or have several workers",
        NotCovered::Algorithm => "no formula for this algorithm, service shape or queue",
        NotCovered::Unstable => "load at or above 1: the queue grows without bound",
        NotCovered::OutOfRange => "beyond the numeric solution's range (rho above 0.95)",
    }
}

/// The interval the rows carry, in words.
pub const INTERVAL: &str = "95 % Student t interval of the per-seed values (half-width)";

pub fn write_json(rows: &[CellRow], args: &SweepArgs, cells: usize, out: &mut dyn Write) -> io::Result<()> {
    let rows: Vec<serde_json::Value> = rows.iter().map(row_json).collect();
    let doc = serde_json::json!({
        "duration_s": args.duration_s,
        "seeds": args.seeds,
        "interval": INTERVAL,
        "cells": cells,
        "cells_finished": rows.len(),
        "rows": rows,
    });
    writeln!(out, "{}", serde_json::to_string_pretty(&doc).unwrap_or_default())
}

fn row_json(r: &CellRow) -> serde_json::Value {
    let settings: serde_json::Map<String, serde_json::Value> =
        r.settings.iter().map(|(k, v)| (k.to_string(), serde_json::Value::String(v.clone()))).collect();
    let theory = match r.theory {
        TheoryColumns::Covered { prediction: p, difference_pct } => serde_json::json!({
            "model": model_name(p.model),
            "exact": p.model.exact(),
            "mean_latency_ms": p.mean_latency_ms,
            "difference_pct": difference_pct,
            "drop_probability": p.drop_probability,
        }),
        TheoryColumns::NotCovered(why) => serde_json::json!({ "not_covered": not_covered_text(why) }),
    };
    serde_json::json!({
        "settings": settings,
        "seeds": r.seeds,
        "latency_ms": { "mean": r.mean_ms, "p50": r.p50_ms, "p95": r.p95_ms, "p99": r.p99_ms },
        "throughput_per_s": r.throughput_per_s,
        "availability": r.availability,
        "requests": { "arrived": r.arrived, "completed": r.completed, "failed": r.failed, "failed_share": r.failed_share },
        "failed_by_cause": r.failed_by_cause,
        "theory": theory,
    })
}

/// A CSV field, quoted when it holds a comma, quote or line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| format!("{v:.6}"))
}

/// The causes of failure named in any row, in order.
fn causes(rows: &[CellRow]) -> Vec<&'static str> {
    let mut all: Vec<&'static str> = rows.iter().flat_map(|r| r.failed_by_cause.keys().copied()).collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// The CSV header's fixed columns after the settings.
const CSV_FIGURES: &str = "seeds,mean_ms,mean_ci95_ms,p50_ms,p50_ci95_ms,p95_ms,p95_ci95_ms,p99_ms,p99_ci95_ms,\
throughput_per_s,throughput_ci95_per_s,availability,arrived,completed,failed,failed_share";
const CSV_THEORY: &str = "theory_model,theory_mean_ms,theory_difference_pct,theory_drop_probability";

pub fn write_csv(varies: &[Vary], rows: &[CellRow], out: &mut dyn Write) -> io::Result<()> {
    let causes = causes(rows);
    let mut header: Vec<String> = varies.iter().map(|v| v.key.to_string()).collect();
    header.push(CSV_FIGURES.into());
    header.extend(causes.iter().map(|c| format!("failed_{c}")));
    header.push(CSV_THEORY.into());
    writeln!(out, "{}", header.join(","))?;
    for r in rows {
        let mut fields: Vec<String> = r.settings.iter().map(|(_, v)| csv_field(v)).collect();
        fields.push(r.seeds.to_string());
        for s in [r.mean_ms, r.p50_ms, r.p95_ms, r.p99_ms, r.throughput_per_s] {
            fields.push(format!("{:.6}", s.value));
            fields.push(opt(s.ci95));
        }
        fields.push(opt(r.availability));
        fields.extend([r.arrived.to_string(), r.completed.to_string(), r.failed.to_string()]);
        fields.push(format!("{:.6}", r.failed_share));
        fields.extend(causes.iter().map(|c| r.failed_by_cause.get(c).copied().unwrap_or(0).to_string()));
        match r.theory {
            TheoryColumns::Covered { prediction: p, difference_pct } => {
                fields.push(csv_field(&model_name(p.model)));
                fields.push(format!("{:.6}", p.mean_latency_ms));
                fields.push(format!("{difference_pct:.3}"));
                fields.push(format!("{:.6}", p.drop_probability));
            }
            TheoryColumns::NotCovered(_) => fields.extend([String::new(), String::new(), String::new(), String::new()]),
        }
        writeln!(out, "{}", fields.join(","))?;
    }
    Ok(())
}

/// `12.34 ±0.56`, or the value alone with one seed.
fn with_ci(s: Stat) -> String {
    match s.ci95 {
        Some(ci) => format!("{:.2} ±{ci:.2}", s.value),
        None => format!("{:.2}", s.value),
    }
}

pub fn write_table(varies: &[Vary], rows: &[CellRow], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "latency in ms, ± the {INTERVAL}")?;
    let mut header: Vec<String> = varies.iter().map(|v| format!("{:<14}", short_key(v.key))).collect();
    header.push(format!(
        "{:<16} {:<16} {:<16} {:<16} {:>10} {:>8} {:>8}  theory",
        "mean", "p50", "p95", "p99", "req/s", "avail", "failed"
    ));
    writeln!(out, "{}", header.join(" "))?;
    for r in rows {
        let mut line: Vec<String> = r.settings.iter().map(|(_, v)| format!("{v:<14}")).collect();
        let theory = match r.theory {
            TheoryColumns::Covered { prediction: p, difference_pct } => {
                format!("{:.2} ({difference_pct:+.1} %) {}", p.mean_latency_ms, model_name(p.model))
            }
            TheoryColumns::NotCovered(why) => format!("- ({})", not_covered_text(why)),
        };
        line.push(format!(
            "{:<16} {:<16} {:<16} {:<16} {:>10.1} {:>8} {:>8}  {theory}",
            with_ci(r.mean_ms),
            with_ci(r.p50_ms),
            with_ci(r.p95_ms),
            with_ci(r.p99_ms),
            r.throughput_per_s.value,
            r.availability.map_or("-".into(), |a| format!("{a:.4}")),
            r.failed
        ));
        writeln!(out, "{}", line.join(" "))?;
    }
    Ok(())
}

/// The last part of a key, for a column header (`traffic.arrival_rate_per_s` → `arrival_rate_per_s`).
fn short_key(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_when_needed() {
        assert_eq!(csv_field("a"), "a");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
    }
}
