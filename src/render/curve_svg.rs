//! Latency-against-load curves as SVG: measured means with 95 % interval bars, theory as dashed
//! lines, axes with units, a legend, and optionally a mark at the load the design runs at now.
//! `infrasim sweep --svg` writes one for print; the page's capacity panel draws one live.
//!
//! Readable without colour: each curve has its own marker shape and its theory its own dash
//! pattern, both named in the legend.

use super::format;
use crate::sim::capacity::CapacitySweep;
use std::fmt::Write;

/// Where the chart goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A file: white paper, black ink, the legend on the right.
    Print,
    /// The page: its own text colour on its background, the legend under the plot so the plot
    /// keeps the width of a phone.
    Page,
}

impl Frame {
    /// Width, height; margins left, right, top, bottom.
    fn size(self, curves: usize) -> (f64, f64, f64, f64, f64, f64) {
        match self {
            Frame::Print => (720.0, 460.0, 70.0, 200.0, 30.0, 60.0),
            // A legend row of two entries per curve.
            Frame::Page => (400.0, 290.0 + 22.0 * curves as f64, 56.0, 14.0, 26.0, 56.0 + 22.0 * curves as f64),
        }
    }

    fn ink(self) -> &'static str {
        match self {
            Frame::Print => "black",
            Frame::Page => "currentColor",
        }
    }

    /// The y axis's words: the page says what the bars are in its text, to keep the axis short.
    fn y_label(self) -> &'static str {
        match self {
            Frame::Print => "mean latency (ms), bars: 95 % interval",
            Frame::Page => "mean latency (ms)",
        }
    }

    fn colours(self) -> [&'static str; 5] {
        match self {
            Frame::Print => ["#1b4f9c", "#b3401b", "#2a7a2a", "#6b2f8f", "#333333"],
            // Light enough on the page's dark background (contrast above 4.5:1).
            Frame::Page => ["#8cc4ff", "#ffab7a", "#8fdc8f", "#d9a6ff", "#dddddd"],
        }
    }
}

/// A point: x, measured mean, its interval's half-width, theory.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartPoint {
    pub x: f64,
    pub y: f64,
    pub ci: f64,
    pub theory: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChartCurve {
    pub name: String,
    /// In x order.
    pub points: Vec<ChartPoint>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub x_label: String,
    /// Over the legend (the key whose values name the curves), if any.
    pub legend_title: Option<String>,
    pub curves: Vec<ChartCurve>,
    /// A vertical mark: its x and its words.
    pub mark: Option<(f64, String)>,
}

/// Curves that get a marker and dash pattern of their own; the rest reuse them in turn.
const MARKERS: [&str; 5] = ["circle", "square", "triangle", "diamond", "cross"];
const DASHES: [&str; 5] = ["6 4", "2 3", "10 3 2 3", "12 6", "4 2 1 2"];

/// A round step for about five ticks up to `max`.
fn tick_step(max: f64) -> f64 {
    let raw = (max / 5.0).max(1e-12);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(10.0 * magnitude)
}

pub fn escape(text: &str) -> String {
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

/// The plot's scales: data to SVG coordinates.
struct Scales {
    x_max: f64,
    y_max: f64,
    left: f64,
    top: f64,
    plot_w: f64,
    plot_h: f64,
}

impl Scales {
    fn x(&self, x: f64) -> f64 {
        self.left + x / self.x_max * self.plot_w
    }
    fn y(&self, y: f64) -> f64 {
        self.top + self.plot_h - y.min(self.y_max) / self.y_max * self.plot_h
    }
    /// Unclipped (the theory line is clipped by the plot's clip path instead).
    fn y_free(&self, y: f64) -> f64 {
        self.top + self.plot_h - y / self.y_max * self.plot_h
    }
}

pub fn draw(chart: &Chart, frame: Frame) -> String {
    let (width, height, left, right, top, bottom) = frame.size(chart.curves.len());
    let all = || chart.curves.iter().flat_map(|c| c.points.iter());
    let x_max = all().map(|p| p.x).chain(chart.mark.as_ref().map(|m| m.0)).fold(0.0, f64::max).max(1e-9);
    let measured_max = all().map(|p| p.y + p.ci).fold(0.0, f64::max);
    // Theory may shoot up near ρ = 1: the scale follows the measurements, theory is clipped.
    let y_max = all().filter_map(|p| p.theory).fold(measured_max, f64::max).min(measured_max * 1.5).max(1e-9) * 1.05;
    let s = Scales { x_max, y_max, left, top, plot_w: width - left - right, plot_h: height - top - bottom };
    let ink = frame.ink();
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    if frame == Frame::Print {
        let _ = write!(svg, r#"<rect width="{width}" height="{height}" fill="white"/>"#);
    }
    let _ = write!(
        svg,
        r#"<clipPath id="plot"><rect x="{left}" y="{top}" width="{}" height="{}"/></clipPath>"#,
        s.plot_w, s.plot_h
    );
    axes(&mut svg, &s, &chart.x_label, frame, height - bottom + 40.0);
    if let Some((x, words)) = &chart.mark {
        let _ = write!(
            svg,
            r#"<line x1="{p:.1}" x2="{p:.1}" y1="{top}" y2="{:.1}" stroke="{ink}" stroke-dasharray="1 3"/><text x="{:.1}" y="{:.1}" text-anchor="{}" fill="{ink}">{}</text>"#,
            s.y(0.0),
            s.x(*x) + if *x > x_max * 0.7 { -4.0 } else { 4.0 },
            top - 8.0,
            if *x > x_max * 0.7 { "end" } else { "start" },
            escape(words),
            p = s.x(*x)
        );
    }
    let colours = frame.colours();
    for (i, curve) in chart.curves.iter().enumerate() {
        curve_marks(&mut svg, &s, &curve.points, MARKERS[i % 5], DASHES[i % 5], colours[i % 5]);
    }
    match frame {
        Frame::Print => legend(&mut svg, chart, colours, width - right + 15.0, top + 10.0, false),
        Frame::Page => legend(&mut svg, chart, colours, left - 40.0, height - bottom + 60.0, true),
    }
    svg.push_str("</svg>\n");
    svg
}

/// A curve's line, its theory dashed, and a marker with its interval bar per point.
fn curve_marks(svg: &mut String, s: &Scales, points: &[ChartPoint], shape: &str, dash: &str, colour: &str) {
    let line: Vec<String> = points.iter().map(|p| format!("{:.1},{:.1}", s.x(p.x), s.y(p.y))).collect();
    let _ = write!(svg, r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="1.5"/>"#, line.join(" "));
    let theory: Vec<String> =
        points.iter().filter_map(|p| p.theory.map(|t| format!("{:.1},{:.1}", s.x(p.x), s.y_free(t)))).collect();
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
            s.y(p.y - p.ci),
            s.y(p.y + p.ci),
            x = s.x(p.x)
        );
        svg.push_str(&marker(shape, s.x(p.x), s.y(p.y), colour));
    }
}

fn axes(svg: &mut String, s: &Scales, x_label: &str, frame: Frame, x_label_y: f64) {
    let (ink, y_label) = (frame.ink(), frame.y_label());
    let (x0, y0, top) = (s.x(0.0), s.y(0.0), s.top);
    let _ = write!(svg, r#"<path d="M{x0},{top}V{y0}H{:.1}" fill="none" stroke="{ink}"/>"#, s.x(s.x_max));
    let step = tick_step(s.x_max);
    let mut x = 0.0;
    while x <= s.x_max * 1.0001 {
        let _ = write!(
            svg,
            r#"<line x1="{p:.1}" x2="{p:.1}" y1="{y0}" y2="{:.1}" stroke="{ink}"/><text x="{p:.1}" y="{:.1}" text-anchor="middle" fill="{ink}">{}</text>"#,
            y0 + 5.0,
            y0 + 18.0,
            (x * 1e9).round() / 1e9,
            p = s.x(x)
        );
        x += step;
    }
    let step = tick_step(s.y_max);
    let mut y = 0.0;
    while y <= s.y_max * 1.0001 {
        let _ = write!(
            svg,
            r#"<line x1="{:.1}" x2="{x0}" y1="{p:.1}" y2="{p:.1}" stroke="{ink}"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="{ink}">{}</text>"#,
            x0 - 5.0,
            x0 - 8.0,
            s.y(y) + 4.0,
            (y * 1e9).round() / 1e9,
            p = s.y(y)
        );
        y += step;
    }
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="{x_label_y:.1}" text-anchor="middle" fill="{ink}">{}</text>"#,
        (x0 + s.x(s.x_max)) / 2.0,
        escape(x_label)
    );
    let _ = write!(
        svg,
        r#"<text transform="translate(18,{:.1}) rotate(-90)" text-anchor="middle" fill="{ink}">{y_label}</text>"#,
        top + s.plot_h / 2.0
    );
}

/// A line per curve (its marker and name) and per theory (its dash pattern): stacked (print) or
/// a row per curve, the theory beside the measurement (page).
fn legend(svg: &mut String, chart: &Chart, colours: [&str; 5], x: f64, mut y: f64, rows: bool) {
    if let Some(title) = chart.legend_title.as_deref().filter(|_| !rows) {
        let _ = write!(svg, r#"<text x="{x}" y="{:.1}" font-weight="bold">{}</text>"#, y + 4.0, escape(title));
        y += 22.0;
    }
    for (i, curve) in chart.curves.iter().enumerate() {
        let (shape, dash, colour) = (MARKERS[i % 5], DASHES[i % 5], colours[i % 5]);
        let ink = if rows { "currentColor" } else { "black" };
        let _ = write!(
            svg,
            r#"<line x1="{x}" x2="{:.1}" y1="{y}" y2="{y}" stroke="{colour}" stroke-width="1.5"/>"#,
            x + 24.0
        );
        svg.push_str(&marker(shape, x + 12.0, y, colour));
        let _ =
            write!(svg, r#"<text x="{:.1}" y="{:.1}" fill="{ink}">{}</text>"#, x + 30.0, y + 4.0, escape(&curve.name));
        let (tx, ty) = if rows { (x + 180.0, y) } else { (x, y + 18.0) };
        if curve.points.iter().any(|p| p.theory.is_some()) {
            let _ = write!(
                svg,
                r#"<line x1="{tx}" x2="{:.1}" y1="{ty}" y2="{ty}" stroke="{colour}" stroke-width="1.5" stroke-dasharray="{dash}"/>"#,
                tx + 24.0
            );
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" fill="{ink}">theory: {}</text>"#,
                tx + 30.0,
                ty + 4.0,
                escape(&curve.name)
            );
            if !rows {
                y += 18.0;
            }
        }
        y += if rows { 22.0 } else { 24.0 };
    }
}

/// The page's chart of a capacity sweep: one curve per algorithm, named as HAProxy names them,
/// and the design's load now marked (`current_load_per_s`, which may have moved since the sweep
/// started: the slider does not invalidate the curves).
pub fn capacity_chart(sweep: &CapacitySweep, current_load_per_s: f64) -> Chart {
    let curves = sweep
        .curves
        .iter()
        .enumerate()
        .map(|(i, c)| ChartCurve {
            name: c.algorithm.map_or("this design", |a| a.name()).to_string(),
            points: sweep
                .points
                .iter()
                .filter(|p| p.curve == i)
                .map(|p| ChartPoint {
                    x: p.load_per_s,
                    y: p.mean_ms.value,
                    ci: p.mean_ms.ci95.unwrap_or(0.0),
                    theory: p.theory_mean_ms,
                })
                .collect(),
        })
        .collect();
    Chart {
        x_label: "offered load (requests/s)".into(),
        legend_title: None,
        curves,
        mark: Some((current_load_per_s, format!("now: {}/s", format::rate(current_load_per_s)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(mark: Option<(f64, String)>) -> Chart {
        let points = |k: f64| {
            (1..=4)
                .map(|i| ChartPoint { x: i as f64 * 50.0, y: k * i as f64, ci: 1.0, theory: Some(k * i as f64) })
                .collect()
        };
        Chart {
            x_label: "load (requests/s)".into(),
            legend_title: None,
            curves: vec![
                ChartCurve { name: "round robin".into(), points: points(10.0) },
                ChartCurve { name: "least <connections>".into(), points: points(8.0) },
            ],
            mark,
        }
    }

    #[test]
    fn each_curve_has_its_own_marker_and_dashes_and_text_is_escaped() {
        let svg = draw(&chart(None), Frame::Page);
        assert!(svg.contains("<circle") && svg.contains("<rect x="));
        assert!(svg.contains(r#"stroke-dasharray="6 4""#) && svg.contains(r#"stroke-dasharray="2 3""#));
        assert!(svg.contains("least &lt;connections&gt;") && !svg.contains("<connections>"));
        assert!(svg.contains("theory: round robin") && svg.contains("mean latency (ms)"));
        // The page draws in its own colours, no white paper.
        assert!(svg.contains("currentColor") && !svg.contains(r#"fill="white""#));
    }

    #[test]
    fn the_mark_is_drawn_and_widens_the_axis_when_beyond_the_points() {
        let svg = draw(&chart(Some((300.0, "now 300/s".into()))), Frame::Page);
        assert!(svg.contains("now 300/s") && svg.contains(r#"stroke-dasharray="1 3""#));
        // The x axis reaches 300: a tick is labelled 300.
        assert!(svg.contains(">300</text>"), "{svg}");
        let without = draw(&chart(None), Frame::Page);
        assert!(!without.contains(">300</text>"));
    }

    #[test]
    fn the_capacity_summary_says_where_the_load_sits() {
        assert_eq!(
            format::capacity_summary(204.0, 100.0),
            "The busiest server or machine is full at about 204/s. Now 100/s uses 49 % of it."
        );
        assert!(format::capacity_summary(100.0, 120.0).contains("beyond it"));
        assert!(format::capacity_summary(100.0, 0.0).contains("no traffic"));
    }
}
