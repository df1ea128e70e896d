//! `sweep --svg FILE`: mean latency against the first `--vary` key, one curve per value of the
//! second, with 95 % intervals as bars and theory as dashed lines (drawn by
//! `render::curve_svg`, which the page's capacity curve uses too).

use super::sweep::Vary;
use super::sweep_stats::{CellRow, TheoryColumns};
use infrasim::render::curve_svg::{self, Chart, ChartCurve, ChartPoint, Frame};
use infrasim::scenario::setting;

/// Refuse what cannot be drawn before anything runs: one or two keys, the first numeric.
pub fn check_drawable(varies: &[Vary]) -> Result<(), String> {
    if varies.len() > 2 {
        return Err(format!(
            "--svg draws one or two --vary keys (x axis, one curve per value); {} given",
            varies.len()
        ));
    }
    let first = &varies[0];
    if let Some(v) = first.values.iter().find(|v| v.parse::<f64>().is_err()) {
        return Err(format!(
            "--svg: the first --vary key {} is the x axis and must be numeric; '{v}' is not",
            first.key
        ));
    }
    Ok(())
}

/// The curves: points in x order, one per value of the second key, in its order.
fn curves(varies: &[Vary], rows: &[CellRow]) -> Vec<ChartCurve> {
    let labels: Vec<Option<&String>> = match varies.get(1) {
        Some(v) => v.values.iter().map(Some).collect(),
        None => vec![None],
    };
    labels
        .into_iter()
        .map(|label| {
            let mut points: Vec<ChartPoint> = rows
                .iter()
                .filter(|r| label.is_none_or(|l| &r.settings[1].1 == l))
                .map(|r| ChartPoint {
                    x: r.settings[0].1.parse().unwrap_or(0.0),
                    y: r.mean_ms.value,
                    ci: r.mean_ms.ci95.unwrap_or(0.0),
                    theory: match r.theory {
                        TheoryColumns::Covered { prediction, .. } => Some(prediction.mean_latency_ms),
                        TheoryColumns::NotCovered(_) => None,
                    },
                })
                .collect();
            points.sort_by(|a, b| a.x.total_cmp(&b.x));
            let name = label.map_or("simulated".to_string(), |l| l.clone());
            ChartCurve { name, points }
        })
        .collect()
}

/// The axis label of a key: the key and its unit from the settings table.
fn axis_label(key: &str) -> String {
    match setting(key).map(|s| s.unit).filter(|u| !u.is_empty()) {
        Some(unit) => format!("{key} ({unit})"),
        None => key.to_string(),
    }
}

pub fn draw(varies: &[Vary], rows: &[CellRow]) -> String {
    let chart = Chart {
        x_label: axis_label(varies[0].key),
        legend_title: varies.get(1).map(|v| v.key.to_string()),
        curves: curves(varies, rows),
        mark: None,
    };
    curve_svg::draw(&chart, Frame::Print)
}
