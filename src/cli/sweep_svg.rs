//! `sweep --svg FILE`: mean latency against the first `--vary` key, one curve per value of the
//! second, with 95 % intervals as bars and theory as dashed lines. Readable without colour: each
//! curve has its own marker shape and its theory its own dash pattern, both named in the legend.

use super::sweep::Vary;
use super::sweep_stats::{CellRow, TheoryColumns};
use infrasim::scenario::setting;
use std::fmt::Write;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 460.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 200.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 60.0;
/// Curves that get a marker and dash pattern of their own; the rest reuse them in turn.
const MARKERS: [&str; 5] = ["circle", "square", "triangle", "diamond", "cross"];
const DASHES: [&str; 5] = ["6 4", "2 3", "10 3 2 3", "12 6", "4 2 1 2"];
const GREYS: [&str; 5] = ["#1b4f9c", "#b3401b", "#2a7a2a", "#6b2f8f", "#333333"];

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

/// A point of a curve: x, measured mean, its interval, theory.
struct Point {
    x: f64,
    y: f64,
    ci: f64,
    theory: Option<f64>,
}

/// The curves: (label, points in x order), one per value of the second key, in its order.
fn curves(varies: &[Vary], rows: &[CellRow]) -> Vec<(String, Vec<Point>)> {
    let labels: Vec<Option<&String>> = match varies.get(1) {
        Some(v) => v.values.iter().map(Some).collect(),
        None => vec![None],
    };
    labels
        .into_iter()
        .map(|label| {
            let mut points: Vec<Point> = rows
                .iter()
                .filter(|r| label.is_none_or(|l| &r.settings[1].1 == l))
                .map(|r| Point {
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
            (name, points)
        })
        .collect()
}

/// A round step for about five ticks up to `max`.
fn tick_step(max: f64) -> f64 {
    let raw = (max / 5.0).max(1e-12);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(10.0 * magnitude)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn marker(shape: &str, x: f64, y: f64, colour: &str) -> String {
    match shape {
        "circle" => format!(r#"<circle cx="{x:.1}" cy="{y:.1}" r="4" fill="{colour}"/>"#),
        "square" => format!(r#"<rect x="{:.1}" y="{:.1}" width="8" height="8" fill="{colour}"/>"#, x - 4.0, y - 4.0),
        "triangle" => format!(
            r#"<polygon points="{x:.1},{:.1} {:.1},{:.1} {:.1},{:.1}" fill="{colour}"/>"#,
            y - 5.0,
            x - 5.0,
            y + 4.0,
            x + 5.0,
            y + 4.0
        ),
        "diamond" => format!(
            r#"<polygon points="{x:.1},{:.1} {:.1},{y:.1} {x:.1},{:.1} {:.1},{y:.1}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            y - 5.0,
            x + 5.0,
            y + 5.0,
            x - 5.0
        ),
        _ => format!(
            r#"<path d="M{:.1},{:.1}L{:.1},{:.1}M{:.1},{:.1}L{:.1},{:.1}" stroke="{colour}" stroke-width="2"/>"#,
            x - 4.0,
            y - 4.0,
            x + 4.0,
            y + 4.0,
            x - 4.0,
            y + 4.0,
            x + 4.0,
            y - 4.0
        ),
    }
}

/// The axis label of a key: the key and its unit from the settings table.
fn axis_label(key: &str) -> String {
    match setting(key).map(|s| s.unit).filter(|u| !u.is_empty()) {
        Some(unit) => format!("{key} ({unit})"),
        None => key.to_string(),
    }
}

pub fn draw(varies: &[Vary], rows: &[CellRow]) -> String {
    let curves = curves(varies, rows);
    let all = || curves.iter().flat_map(|(_, p)| p.iter());
    let x_max = all().map(|p| p.x).fold(0.0, f64::max).max(1e-9);
    let measured_max = all().map(|p| p.y + p.ci).fold(0.0, f64::max);
    // Theory may shoot up near ρ = 1: the scale follows the measurements, theory is clipped.
    let y_max = all().filter_map(|p| p.theory).fold(measured_max, f64::max).min(measured_max * 1.5).max(1e-9) * 1.05;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let sx = |x: f64| LEFT + x / x_max * plot_w;
    let sy = |y: f64| TOP + plot_h - y.min(y_max) / y_max * plot_h;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(svg, r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#);
    let _ = write!(
        svg,
        r#"<clipPath id="plot"><rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}"/></clipPath>"#
    );
    axes(&mut svg, x_max, y_max, &sx, &sy, varies[0].key);
    for (i, (_, points)) in curves.iter().enumerate() {
        let (shape, dash, colour) = (MARKERS[i % 5], DASHES[i % 5], GREYS[i % 5]);
        let line: Vec<String> = points.iter().map(|p| format!("{:.1},{:.1}", sx(p.x), sy(p.y))).collect();
        let _ =
            write!(svg, r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="1.5"/>"#, line.join(" "));
        let theory: Vec<String> = points
            .iter()
            .filter_map(|p| p.theory.map(|t| format!("{:.1},{:.1}", sx(p.x), TOP + plot_h - t / y_max * plot_h)))
            .collect();
        if theory.len() > 1 {
            let _ = write!(
                svg,
                r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="1.5" stroke-dasharray="{dash}" clip-path="url(#plot)"/>"#,
                theory.join(" ")
            );
        }
        for p in points {
            let _ = write!(
                svg,
                r#"<line x1="{x:.1}" x2="{x:.1}" y1="{:.1}" y2="{:.1}" stroke="{colour}"/>"#,
                sy(p.y - p.ci),
                sy(p.y + p.ci),
                x = sx(p.x)
            );
            svg.push_str(&marker(shape, sx(p.x), sy(p.y), colour));
        }
    }
    legend(&mut svg, varies.get(1).map(|v| v.key), &curves);
    svg.push_str("</svg>\n");
    svg
}

fn axes(svg: &mut String, x_max: f64, y_max: f64, sx: &dyn Fn(f64) -> f64, sy: &dyn Fn(f64) -> f64, x_key: &str) {
    let (x0, y0) = (sx(0.0), sy(0.0));
    let _ = write!(svg, r#"<path d="M{x0},{TOP}V{y0}H{:.1}" fill="none" stroke="black"/>"#, sx(x_max));
    let step = tick_step(x_max);
    let mut x = 0.0;
    while x <= x_max * 1.0001 {
        let _ = write!(
            svg,
            r#"<line x1="{p:.1}" x2="{p:.1}" y1="{y0}" y2="{:.1}" stroke="black"/><text x="{p:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            y0 + 5.0,
            y0 + 18.0,
            (x * 1e9).round() / 1e9,
            p = sx(x)
        );
        x += step;
    }
    let step = tick_step(y_max);
    let mut y = 0.0;
    while y <= y_max * 1.0001 {
        let _ = write!(
            svg,
            r#"<line x1="{:.1}" x2="{x0}" y1="{p:.1}" y2="{p:.1}" stroke="black"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            x0 - 5.0,
            x0 - 8.0,
            sy(y) + 4.0,
            (y * 1e9).round() / 1e9,
            p = sy(y)
        );
        y += step;
    }
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        (x0 + sx(x_max)) / 2.0,
        HEIGHT - 15.0,
        escape(&axis_label(x_key))
    );
    let _ = write!(
        svg,
        r#"<text transform="translate(18,{:.1}) rotate(-90)" text-anchor="middle">mean latency (ms), bars: 95 % interval</text>"#,
        TOP + (HEIGHT - TOP - BOTTOM) / 2.0
    );
}

/// A line per curve (its marker, the second key's value) and per theory (its dash pattern).
fn legend(svg: &mut String, second_key: Option<&str>, curves: &[(String, Vec<Point>)]) {
    let x = WIDTH - RIGHT + 15.0;
    let mut y = TOP + 10.0;
    if let Some(key) = second_key {
        let _ = write!(svg, r#"<text x="{x}" y="{:.1}" font-weight="bold">{}</text>"#, y + 4.0, escape(key));
        y += 22.0;
    }
    for (i, (name, points)) in curves.iter().enumerate() {
        let (shape, dash, colour) = (MARKERS[i % 5], DASHES[i % 5], GREYS[i % 5]);
        let _ = write!(
            svg,
            r#"<line x1="{x}" x2="{:.1}" y1="{y}" y2="{y}" stroke="{colour}" stroke-width="1.5"/>"#,
            x + 24.0
        );
        svg.push_str(&marker(shape, x + 12.0, y, colour));
        let _ = write!(svg, r#"<text x="{:.1}" y="{:.1}">{}</text>"#, x + 30.0, y + 4.0, escape(name));
        y += 18.0;
        if points.iter().any(|p| p.theory.is_some()) {
            let _ = write!(
                svg,
                r#"<line x1="{x}" x2="{:.1}" y1="{y}" y2="{y}" stroke="{colour}" stroke-width="1.5" stroke-dasharray="{dash}"/>"#,
                x + 24.0
            );
            let _ = write!(svg, r#"<text x="{:.1}" y="{:.1}">theory: {}</text>"#, x + 30.0, y + 4.0, escape(name));
            y += 18.0;
        }
        y += 6.0;
    }
}
