//! Draws a [`View`] on a 2D canvas (browser only). Geometry comes from [`Layout`], words from
//! [`format`], colours from [`theme`]; this file only turns them into canvas calls.
//!
//! The canvas is sharp on HiDPI screens: its backing store is its CSS size × devicePixelRatio and
//! the context is scaled, so everything below is in CSS pixels.

use super::format;
use super::layout::{Detail, Layout, MachineBox, Orientation, Point, Rect, LANE_OFFSET, MACHINE_HEADER};
use super::theme;
use crate::sim::node::Link;
use crate::sim::view::{DbView, WebView};
use crate::sim::{DbRole, NodeId, Particle, ParticleKind, View};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// What the drawing needs beyond the view.
#[derive(Clone, Copy, Debug)]
pub struct DrawOptions {
    /// Draw the requests travelling on links.
    pub particles: bool,
    /// `random(N)`: how many servers the balancer draws.
    pub random_draws: u32,
    /// The node the user picked (outlined).
    pub selected: Option<NodeId>,
    /// Seconds of simulated time, to move the replication stream's dashes (0 with reduced motion).
    pub phase: f64,
    /// Health-check thresholds, to write "check failed 1/3".
    pub fall: u32,
    pub rise: u32,
    /// TLS on the public link, and a firewall at the edge.
    pub https: bool,
    pub firewall: bool,
    /// `prefers-reduced-motion: reduce`: requests on the move are written as a count on each
    /// link instead of drawn as moving dots.
    pub reduced_motion: bool,
    /// Web servers to mark as slow (a comparison's slow server, on both drawings).
    pub slow: ServerSet,
}

/// A set of web servers by number (the model allows at most 128), small enough to keep
/// [`DrawOptions`] a plain copyable value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerSet(u128);

impl ServerSet {
    pub fn of(ids: &[NodeId]) -> ServerSet {
        ServerSet(
            ids.iter()
                .filter_map(|id| match id {
                    NodeId::Web(i) if *i < 128 => Some(1u128 << i),
                    _ => None,
                })
                .fold(0, |set, bit| set | bit),
        )
    }

    pub fn contains(self, server: usize) -> bool {
        server < 128 && self.0 & (1u128 << server) != 0
    }
}

impl Default for DrawOptions {
    fn default() -> Self {
        DrawOptions {
            particles: true,
            random_draws: 2,
            selected: None,
            phase: 0.0,
            fall: 3,
            rise: 2,
            https: false,
            firewall: false,
            reduced_motion: false,
            slow: ServerSet::default(),
        }
    }
}

/// A canvas and its 2D context, sized for the screen.
pub struct Painter {
    canvas: HtmlCanvasElement,
    ctx: CanvasRenderingContext2d,
    css_w: f64,
    css_h: f64,
    dpr: f64,
    /// Each machine's CPU load as a short moving average (see [`format::LoadAverage`]).
    loads: std::cell::RefCell<Vec<format::LoadAverage>>,
}

impl Painter {
    pub fn new(canvas: HtmlCanvasElement) -> Result<Painter, String> {
        let ctx = canvas
            .get_context("2d")
            .map_err(|e| format!("the canvas refused a 2D context: {e:?}"))?
            .ok_or("this browser offers no 2D canvas")?
            .dyn_into::<CanvasRenderingContext2d>()
            .map_err(|_| "the canvas context is not a 2D context".to_string())?;
        let mut p = Painter { canvas, ctx, css_w: 0.0, css_h: 0.0, dpr: 1.0, loads: Default::default() };
        p.fit();
        Ok(p)
    }

    /// Size the canvas to its parent element and its backing store to that size ×
    /// devicePixelRatio. The canvas's CSS size is pinned in pixels (CSSOM, which the page's CSP
    /// allows), so it never depends on the backing store: without that, an unstyled canvas would
    /// grow by the pixel ratio every frame. Cheap when nothing changed; returns true when the
    /// size did change (the caller then redraws).
    pub fn fit(&mut self) -> bool {
        let (w, h) = match self.canvas.parent_element() {
            Some(parent) if parent.client_width() > 0 && parent.client_height() > 0 => {
                (parent.client_width() as f64, parent.client_height() as f64)
            }
            _ => {
                let rect = self.canvas.get_bounding_client_rect();
                (rect.width().max(1.0), rect.height().max(1.0))
            }
        };
        let dpr = web_sys::window().map_or(1.0, |win| win.device_pixel_ratio());
        let dpr = if dpr.is_finite() && dpr > 0.0 { dpr.min(4.0) } else { 1.0 };
        let (bw, bh) = ((w * dpr).round() as u32, (h * dpr).round() as u32);
        let changed = self.canvas.width() != bw
            || self.canvas.height() != bh
            || self.dpr != dpr
            || self.css_w != w
            || self.css_h != h;
        if changed {
            let style = self.canvas.style();
            let _ = style.set_property("display", "block");
            let _ = style.set_property("width", &format!("{w}px"));
            let _ = style.set_property("height", &format!("{h}px"));
            self.canvas.set_width(bw);
            self.canvas.set_height(bh);
        }
        self.css_w = w;
        self.css_h = h;
        self.dpr = dpr;
        changed
    }

    /// CSS size of the canvas as last fitted.
    pub fn css_size(&self) -> (f64, f64) {
        (self.css_w, self.css_h)
    }

    /// Draw one frame; returns the layout used (for hit-testing clicks).
    pub fn draw(&self, view: &View, opts: &DrawOptions) -> Layout {
        let layout = Layout::for_view(self.css_w, self.css_h, view);
        let c = &self.ctx;
        // Reset any state left by a previous frame, then work in CSS pixels.
        let _ = c.set_transform(self.dpr, 0.0, 0.0, self.dpr, 0.0, 0.0);
        c.set_global_alpha(1.0);
        let _ = c.set_line_dash(&js_sys::Array::new());
        c.set_fill_style_str(theme::BACKGROUND);
        c.fill_rect(0.0, 0.0, self.css_w, self.css_h);

        let d = Draw { c, l: &layout, o: opts };
        let loads = self.machine_loads(view);
        for ((m, b), load) in view.machines.iter().zip(&layout.machines).zip(&loads) {
            if b.framed {
                d.machine(m, b, *load);
            }
        }
        d.links(view);
        d.edge(view);
        d.clients(view);
        d.dns(view.dns_alive);
        let role = format::lb_role(view.algorithm, opts.random_draws);
        let pair = view.lbs.len() >= 2;
        for (i, lb) in view.lbs.iter().enumerate().take(2) {
            let Some(r) = layout.rect(NodeId::Lb(i as u8)) else { continue };
            // The shared queue lives in the balancer that takes the traffic.
            let queue = (lb.holds_ip || view.lbs.len() == 1).then_some(view.balancer_queue);
            let status = format::lb_status(lb, pair, view.lb_pair_dns);
            d.lb(lb.id, r, &role, queue, lb.alive, status);
            if pair && !view.lb_pair_dns && lb.holds_ip {
                d.floating_ip(r);
            }
        }
        if view.lbs.is_empty() && layout.has_lb {
            d.lb(NodeId::Lb(0), layout.lb, &role, Some(view.balancer_queue), true, None);
        }
        if view.split_brain {
            // Under the pair (landscape) or above it (portrait), where nothing else is written.
            let low = layout.lb2.unwrap_or(layout.lb);
            let (x, y) = match layout.orientation {
                Orientation::Landscape => (low.x, low.bottom() + 14.0),
                Orientation::Portrait => (layout.lb.x, low.bottom() + 14.0),
            };
            d.text("⚠ split brain: two MASTERs", x, y, theme::FONT_SMALL, theme::ERROR, "left");
        } else if view.duplicate_address.is_some() {
            let low = layout.lb2.unwrap_or(layout.lb);
            let (x, y) = match layout.orientation {
                Orientation::Landscape => (low.x, low.bottom() + 14.0),
                Orientation::Portrait => (layout.lb.x, low.bottom() + 14.0),
            };
            d.text("⚠ duplicate address: the IP on both", x, y, theme::FONT_SMALL, theme::ERROR, "left");
        }
        for (w, r) in view.web.iter().zip(&layout.web) {
            if layout.app.is_empty() {
                d.web(w, *r, layout.web_detail);
            } else {
                d.nginx_chip(w, *r);
            }
        }
        for (w, r) in view.web.iter().zip(&layout.app) {
            d.app_chip(w, *r);
        }
        for (db, r) in view.db.iter().zip(&layout.db) {
            d.db(db, *r);
        }
        d.cut_links(view);
        for server in (0..view.web.len()).filter(|&i| opts.slow.contains(i)) {
            // The application time is what is slow: its chip when machines are drawn.
            if let Some(r) = layout.rect(NodeId::App(server as u16)) {
                d.slow_mark(r);
            }
        }
        if let Some(sel) = opts.selected.and_then(|id| layout.rect(id)) {
            d.selection(sel);
        }
        if opts.particles && opts.reduced_motion {
            d.link_counts(&view.particles);
        } else if opts.particles {
            let size = if layout.web_detail == Detail::Tiny { 2.6 } else { 3.6 };
            for p in &view.particles {
                d.particle(p, size);
            }
        }
        for p in &view.probes {
            d.probe(p);
        }
        layout
    }
}

impl Painter {
    /// Each machine's load now, averaged over the last moments of simulated time.
    fn machine_loads(&self, view: &View) -> Vec<Option<f64>> {
        let mut loads = self.loads.borrow_mut();
        loads.resize_with(view.machines.len(), Default::default);
        view.machines
            .iter()
            .zip(loads.iter_mut())
            .map(|(m, avg)| m.cores.map(|cores| avg.update(view.now_us, m.busy_core_us, cores)))
            .collect()
    }
}

/// One frame's drawing: the context and the layout.
struct Draw<'a> {
    c: &'a CanvasRenderingContext2d,
    l: &'a Layout,
    o: &'a DrawOptions,
}

impl Draw<'_> {
    fn line(&self, a: Point, b: Point, colour: &str, width: f64) {
        let c = self.c;
        c.set_stroke_style_str(colour);
        c.set_line_width(width);
        c.begin_path();
        c.move_to(a.x, a.y);
        c.line_to(b.x, b.y);
        c.stroke();
    }

    fn link(&self, from: NodeId, to: NodeId, colour: &str, width: f64) {
        if let Some((a, b)) = self.l.link(from, to) {
            self.line(a, b, colour, width);
        }
    }

    fn text(&self, s: &str, x: f64, y: f64, font: &str, colour: &str, align: &str) {
        let c = self.c;
        c.set_font(font);
        c.set_fill_style_str(colour);
        c.set_text_align(align);
        c.set_text_baseline("alphabetic");
        let _ = c.fill_text(s, x, y);
    }

    /// Text cut with an ellipsis to fit `max_w`.
    fn text_fit(&self, s: &str, x: f64, y: f64, max_w: f64, font: &str, colour: &str) {
        self.c.set_font(font);
        let width = |t: &str| self.c.measure_text(t).map_or(0.0, |m| m.width());
        if width(s) <= max_w {
            self.text(s, x, y, font, colour, "left");
            return;
        }
        let mut cut: String = s.to_string();
        while !cut.is_empty() {
            cut.pop();
            let candidate = format!("{}…", cut.trim_end());
            if width(&candidate) <= max_w {
                self.text(&candidate, x, y, font, colour, "left");
                return;
            }
        }
    }

    fn panel(&self, r: Rect, border: &str, fill: &str, dashed: bool) {
        let c = self.c;
        let radius = (r.h.min(r.w) * 0.18).clamp(2.0, 8.0);
        c.begin_path();
        if c.round_rect_with_f64(r.x, r.y, r.w, r.h, radius).is_err() {
            c.rect(r.x, r.y, r.w, r.h);
        }
        c.set_fill_style_str(fill);
        c.fill();
        if dashed {
            let _ = c.set_line_dash(&dash(&[4.0, 3.0]));
        }
        c.set_stroke_style_str(border);
        c.set_line_width(1.5);
        c.stroke();
        if dashed {
            let _ = c.set_line_dash(&js_sys::Array::new());
        }
    }

    /// A horizontal bar with a fill fraction.
    fn bar(&self, x: f64, y: f64, w: f64, h: f64, level: f64, colour: &str) {
        let c = self.c;
        c.set_fill_style_str(theme::LINK_FAINT);
        c.fill_rect(x, y, w, h);
        let level = if level.is_finite() { level.clamp(0.0, 1.0) } else { 0.0 };
        c.set_fill_style_str(colour);
        c.fill_rect(x, y, w * level, h);
    }

    /// Worker slots: one cell per worker, filled when busy (a plain bar when there are many).
    fn slots(&self, x: f64, y: f64, w: f64, h: f64, busy: u32, workers: u32) {
        let level = format::utilisation(busy, workers);
        let colour = theme::load_colour(level);
        if workers == 0 || workers > 24 || w / workers as f64 <= 4.0 {
            self.bar(x, y, w, h, level, colour);
            return;
        }
        let c = self.c;
        let gap = 2.0;
        let cell = (w - gap * (workers as f64 - 1.0)) / workers as f64;
        for i in 0..workers {
            c.set_fill_style_str(if i < busy { colour } else { theme::LINK_FAINT });
            c.fill_rect(x + i as f64 * (cell + gap), y, cell, h);
        }
    }

    fn links(&self, view: &View) {
        let l = self.l;
        self.link(NodeId::Clients, NodeId::Dns, theme::LINK, 1.2);
        let lbs: Vec<(NodeId, bool)> = if view.lbs.is_empty() && !l.has_lb {
            // No balancer: DNS points at web1, which clients reach directly.
            self.link(NodeId::Clients, NodeId::Web(0), theme::LINK, 2.5);
            Vec::new()
        } else if view.lbs.is_empty() {
            vec![(NodeId::Lb(0), true)]
        } else {
            view.lbs.iter().take(2).map(|lb| (lb.id, lb.alive && (lb.holds_ip || view.lbs.len() == 1))).collect()
        };
        for (id, serving) in &lbs {
            self.link(NodeId::Clients, *id, if *serving { theme::LINK } else { theme::LINK_FAINT }, 2.5);
        }
        if let (Some(a), Some(b)) = (l.rect(NodeId::Lb(0)), l.lb2) {
            let _ = self.c.set_line_dash(&dash(&[3.0, 3.0]));
            self.line(a.exit_towards(b.center()), b.exit_towards(a.center()), theme::LB, 1.0);
            let _ = self.c.set_line_dash(&js_sys::Array::new());
        }
        let web_width = if l.web.len() > 16 { 0.8 } else { 1.2 };
        for (i, w) in view.web.iter().enumerate().take(l.web.len()) {
            let colour = if w.active && w.alive && w.weight > 0 { theme::LINK } else { theme::LINK_FAINT };
            for (id, serving) in &lbs {
                if *serving {
                    self.link(*id, NodeId::Web(i as u16), colour, web_width);
                }
            }
        }
        if !l.app.is_empty() {
            self.machine_links();
        } else if l.web.len() * l.db.len() <= 24 {
            // Web-to-database links only while they stay readable; requests still travel there.
            for i in 0..l.web.len() {
                for n in 0..l.db.len() {
                    self.link(NodeId::Web(i as u16), NodeId::Db(n as u8), theme::LINK_FAINT, 1.0);
                }
            }
        }
        self.replication(view);
    }

    /// With machines drawn: Nginx to the application servers, the applications to MySQL (every
    /// pair while few, else each to its own number).
    fn machine_links(&self) {
        let l = self.l;
        let all = l.web.len() * l.app.len() <= 16;
        for i in 0..l.web.len() {
            for j in 0..l.app.len() {
                if all || i == j {
                    self.link(NodeId::Web(i as u16), NodeId::App(j as u16), theme::LINK, 1.0);
                }
            }
        }
        if l.app.len() * l.db.len() <= 24 {
            for j in 0..l.app.len() {
                for n in 0..l.db.len() {
                    self.link(NodeId::App(j as u16), NodeId::Db(n as u8), theme::LINK_FAINT, 1.0);
                }
            }
        }
    }

    /// A machine's frame: its id, cores and CPU load on top; greyed and marked when it is down.
    fn machine(&self, m: &crate::sim::MachineView, b: &MachineBox, load: Option<f64>) {
        let (c, r) = (self.c, b.rect);
        let radius = 8.0;
        c.begin_path();
        if c.round_rect_with_f64(r.x, r.y, r.w, r.h, radius).is_err() {
            c.rect(r.x, r.y, r.w, r.h);
        }
        c.set_fill_style_str(theme::MACHINE_FILL);
        c.fill();
        // A machine with a firewall of its own has a firewall-coloured, heavier frame.
        let border = match (m.alive, m.firewall) {
            (false, _) => theme::ERROR,
            (true, true) => theme::FIREWALL,
            (true, false) => theme::MACHINE,
        };
        if !m.alive {
            let _ = c.set_line_dash(&dash(&[5.0, 3.0]));
        }
        c.set_stroke_style_str(border);
        c.set_line_width(if m.firewall { 2.4 } else { 1.2 });
        c.stroke();
        let _ = c.set_line_dash(&js_sys::Array::new());
        if b.header < MACHINE_HEADER {
            return;
        }
        let (label, load_text) = format::machine_label(&m.id, m.cores, m.alive, load);
        let y = r.y + MACHINE_HEADER - 5.0;
        let bar_w = (r.w * 0.22).clamp(16.0, 50.0);
        // The load in words only where there is room for it beside the name.
        let words = load.is_some() && m.alive && r.w >= 210.0;
        let room = r.w - 16.0 - if load.is_some() { bar_w + if words { 48.0 } else { 6.0 } } else { 0.0 };
        let colour = if m.alive { theme::TEXT } else { theme::ERROR };
        c.set_font(theme::FONT_SMALL);
        let fits = c.measure_text(&label).map_or(true, |t| t.width() <= room);
        // A narrow box keeps the machine's name whole and drops its cores first.
        let shown = if fits || !m.alive { label } else { m.id.clone() };
        self.text_fit(&shown, r.x + 8.0, y, room, theme::FONT_SMALL, colour);
        if let (Some(level), true) = (load, m.alive) {
            if words {
                self.text(&load_text, r.right() - 8.0 - bar_w - 4.0, y, theme::FONT_TINY, theme::TEXT_MUTED, "right");
            }
            self.bar(r.right() - 8.0 - bar_w, y - 6.0, bar_w, 5.0, level, theme::load_colour(level));
        }
    }

    /// Nginx inside a machine: its state as the balancer's checks see it, and its connections.
    fn nginx_chip(&self, w: &WebView, r: Rect) {
        let standby = w.backup && !w.in_pool && w.alive;
        let border = if !w.alive {
            theme::ERROR
        } else if standby || !w.active {
            theme::TEXT_MUTED
        } else {
            theme::WEB
        };
        self.node_panel(r, border, w.alive && w.active);
        let (role, tone) = format::nginx_chip_role(w, self.o.fall, self.o.rise);
        let lines = [
            (format!("{} · Nginx", w.id), theme::FONT_SMALL, if w.alive { theme::TEXT } else { theme::ERROR }),
            (if w.alive { role } else { "down".into() }, theme::FONT_TINY, tone_colour_strong(tone)),
            (
                format!("conn {} · queued {}", format::compact(w.conns as u64), format::compact(w.queued_for as u64)),
                theme::FONT_TINY,
                theme::TEXT_MUTED,
            ),
        ];
        self.chip_lines(r, &lines);
    }

    /// The application server inside a machine: busy workers and the requests waiting.
    fn app_chip(&self, w: &WebView, r: Rect) {
        self.node_panel(r, theme::APP, w.app_alive);
        let name = format!("app{} · application", w.id_index() + 1);
        let state = if !w.app_alive {
            "down".to_string()
        } else {
            format!("busy {}/{} · wait {}", w.busy, w.workers, format::compact(w.waiting as u64))
        };
        let colour = load_colour(w.app_alive, w.waiting);
        let lines = [
            (name, theme::FONT_SMALL, if w.app_alive { theme::TEXT } else { theme::ERROR }),
            (state, theme::FONT_TINY, colour),
        ];
        let used = self.chip_lines(r, &lines);
        if w.app_alive && r.bottom() - used >= 9.0 {
            self.slots(r.x + 6.0, r.bottom() - 9.0, r.w - 12.0, 5.0, w.busy, w.workers);
        }
    }

    /// Lines of text down a chip, as many as fit; returns the y below the last one written.
    fn chip_lines(&self, r: Rect, lines: &[(String, &str, &str)]) -> f64 {
        let mut y = r.y + 4.0;
        for (text, font, colour) in lines {
            let size = if *font == theme::FONT_SMALL { 12.0 } else { 11.0 };
            if y + size > r.bottom() - 2.0 {
                break;
            }
            y += size;
            self.text_fit(text, r.x + 6.0, y - 2.0, r.w - 12.0, font, colour);
        }
        y
    }

    /// Requests on the move as one still count per link, written at the link's middle.
    fn link_counts(&self, particles: &[Particle]) {
        let mut counts: std::collections::BTreeMap<(NodeId, NodeId), u32> = std::collections::BTreeMap::new();
        for p in particles.iter().filter(|p| p.from != p.to) {
            let key = if p.from <= p.to { (p.from, p.to) } else { (p.to, p.from) };
            *counts.entry(key).or_default() += 1;
        }
        for ((a, b), n) in counts {
            let Some(mid) = self.l.point_on_link(a, b, 0.5, 0.0) else { continue };
            let text = format::compact(n as u64);
            let c = self.c;
            c.set_font(theme::FONT_TINY);
            let w = c.measure_text(&text).map_or(12.0, |m| m.width()) + 8.0;
            c.set_fill_style_str(theme::BOX_FILL);
            c.fill_rect(mid.x - w / 2.0, mid.y - 7.0, w, 13.0);
            self.text(&text, mid.x, mid.y + 3.0, theme::FONT_TINY, theme::READ, "center");
        }
    }

    /// The replication stream: moving dashes from the primary to each replica it feeds, with
    /// the replica's lag written on the line.
    fn replication(&self, view: &View) {
        let l = self.l;
        let Some(p) = view.db.iter().position(|d| d.role == DbRole::Primary) else { return };
        let Some(primary) = l.db.get(p) else { return };
        let c = self.c;
        let offset = -(self.o.phase * 24.0) % 9.0;
        for (n, (d, replica)) in view.db.iter().zip(&l.db).enumerate() {
            if n == p || !matches!(d.role, DbRole::Replica | DbRole::Promoting) {
                continue;
            }
            let (a, b) = (primary.exit_towards(replica.center()), replica.exit_towards(primary.center()));
            let flowing =
                d.alive && view.db[p].alive && !view.cut_links.contains(&Link::new(NodeId::Db(p as u8), d.id));
            let _ = c.set_line_dash(&dash(&[5.0, 4.0]));
            c.set_line_dash_offset(if flowing { offset } else { 0.0 });
            self.line(a, b, if flowing { theme::REPLICATION } else { theme::LINK_FAINT }, 1.6);
            c.set_line_dash_offset(0.0);
            let _ = c.set_line_dash(&js_sys::Array::new());
            let (mx, my) = ((a.x + b.x) / 2.0, (a.y + b.y) / 2.0);
            let vertical = (a.x - b.x).abs() < 1.0;
            let room = ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt();
            let text = if flowing { format!("binlog · {}", format::lag(d.lag_ms)) } else { "binlog stopped".into() };
            // Along a short horizontal link the words would cover the boxes: the replica's box
            // says its lag anyway.
            c.set_font(theme::FONT_TINY);
            let width = c.measure_text(&text).map_or(80.0, |m| m.width());
            if !vertical && room < width + 8.0 {
                continue;
            }
            let colour = if !flowing || d.lag_ms >= 100.0 { theme::TEXT_WARN } else { theme::REPLICATION };
            if vertical {
                self.text(&text, mx + 6.0, my + 3.0, theme::FONT_TINY, colour, "left");
            } else {
                self.text(&text, mx, my - 5.0, theme::FONT_TINY, colour, "center");
            }
        }
    }

    fn clients(&self, view: &View) {
        let r = self.l.clients;
        self.panel(r, theme::CLIENTS, theme::BOX_FILL, false);
        let inner = r.w - 14.0;
        self.text_fit("clients", r.x + 8.0, r.y + 18.0, inner, theme::FONT_TITLE, theme::TEXT);
        let rate = format!("{} req/s", format::rate(view.arrival_rate_per_s));
        self.text_fit(&rate, r.x + 8.0, r.y + 35.0, inner, theme::FONT_SMALL, theme::TEXT_MUTED);
        let writes = format!("{:.0}% writes", view.write_ratio * 100.0);
        self.text_fit(&writes, r.x + 8.0, r.y + 50.0, inner, theme::FONT_SMALL, theme::TEXT_MUTED);
    }

    fn dns(&self, alive: bool) {
        let r = self.l.dns;
        self.node_panel(r, theme::DNS, alive);
        self.text_fit("DNS", r.x + 8.0, r.y + 16.0, r.w - 14.0, theme::FONT_TITLE, theme::TEXT);
        if alive {
            self.text_fit("www.foobar.com", r.x + 8.0, r.y + 31.0, r.w - 12.0, theme::FONT_SMALL, theme::TEXT_MUTED);
        } else {
            self.text_fit("down: no answers", r.x + 8.0, r.y + 31.0, r.w - 12.0, theme::FONT_SMALL, theme::ERROR);
        }
    }

    /// A node's box: its role colour when running, a dashed red outline when down.
    fn node_panel(&self, r: Rect, colour: &str, alive: bool) {
        if alive {
            self.panel(r, colour, theme::BOX_FILL, false);
        } else {
            self.panel(r, theme::ERROR, theme::BOX_FILL_DIM, true);
        }
    }

    /// Cut network links: a red dashed line with a cross in the middle.
    fn cut_links(&self, view: &View) {
        for link in &view.cut_links {
            let Some((a, b)) = self.l.link(link.0, link.1) else { continue };
            let _ = self.c.set_line_dash(&dash(&[4.0, 4.0]));
            self.line(a, b, theme::ERROR, 1.6);
            let _ = self.c.set_line_dash(&js_sys::Array::new());
            let (mx, my, s) = ((a.x + b.x) / 2.0, (a.y + b.y) / 2.0, 5.0);
            self.line(Point { x: mx - s, y: my - s }, Point { x: mx + s, y: my + s }, theme::ERROR, 2.4);
            self.line(Point { x: mx + s, y: my - s }, Point { x: mx - s, y: my + s }, theme::ERROR, 2.4);
        }
    }

    /// The public side: what crosses the internet link (plaintext or TLS) and, with the
    /// firewall on, a wall at the edge of the private network.
    fn edge(&self, view: &View) {
        let l = self.l;
        let Some((a, b)) = l.link(NodeId::Clients, NodeId::Lb(0)) else { return };
        let (mx, my) = ((a.x + b.x) / 2.0, (a.y + b.y) / 2.0);
        let landscape = l.orientation == Orientation::Landscape;
        // Under the visitors' box on a desktop (the link is short), beside the link on a phone.
        let (label_x, label_y, align) = if landscape {
            (l.clients.x, l.clients.bottom() + 14.0, "left")
        } else {
            (l.clients.x, l.clients.bottom() + 12.0, "left")
        };
        let _ = (mx, my);
        let (first, colour) =
            if self.o.https { ("internet · HTTPS", theme::WEB) } else { ("internet · plain HTTP", theme::TEXT_WARN) };
        self.text(first, label_x, label_y, theme::FONT_TINY, colour, align);
        let second = if self.o.https { "TLS ends at the balancer" } else { "readable by anyone on the path" };
        self.text(second, label_x, label_y + 11.0, theme::FONT_TINY, theme::TEXT_MUTED, align);
        if !self.o.firewall {
            return;
        }
        // The firewall: a brick wall across the path just before the balancer(s).
        let c = self.c;
        let lb_top = l.lb.y.min(l.lb2.map_or(l.lb.y, |r| r.y));
        let lb_bottom = l.lb.bottom().max(l.lb2.map_or(0.0, |r| r.bottom()));
        let lb_left = l.lb.x.min(l.lb2.map_or(l.lb.x, |r| r.x));
        let lb_right = l.lb.right().max(l.lb2.map_or(0.0, |r| r.right()));
        let wall = if landscape {
            Rect { x: lb_left - 16.0, y: lb_top - 6.0, w: 7.0, h: lb_bottom - lb_top + 12.0 }
        } else {
            Rect { x: lb_left - 6.0, y: l.lb.y - 14.0, w: lb_right - lb_left + 12.0, h: 7.0 }
        };
        c.set_fill_style_str(theme::FIREWALL);
        c.fill_rect(wall.x, wall.y, wall.w, wall.h);
        c.set_stroke_style_str(theme::BACKGROUND);
        c.set_line_width(1.0);
        c.begin_path();
        let mut k = 0;
        if landscape {
            let mut y = wall.y + 6.0;
            while y < wall.bottom() {
                c.move_to(wall.x, y);
                c.line_to(wall.right(), y);
                y += 6.0;
                k += 1;
            }
        } else {
            let mut x = wall.x + 8.0;
            while x < wall.right() {
                c.move_to(x, wall.y);
                c.line_to(x, wall.bottom());
                x += 8.0;
                k += 1;
            }
        }
        if k > 0 {
            c.stroke();
        }
        if landscape {
            self.text("firewall", wall.center().x, wall.y - 4.0, theme::FONT_TINY, theme::FIREWALL, "center");
        } else {
            self.text("firewall", wall.right() + 4.0, wall.bottom(), theme::FONT_TINY, theme::FIREWALL, "left");
        }
        let _ = view;
    }

    /// The floating IP: a tag on the title line of the balancer that holds it.
    fn floating_ip(&self, r: Rect) {
        self.tag("floating IP", r.right() - 8.0, r.y + 7.0, theme::LB);
    }

    /// A rounded outline `pad` outside `r`.
    fn outline(&self, r: Rect, pad: f64, radius: f64, colour: &str) {
        let c = self.c;
        c.begin_path();
        if c.round_rect_with_f64(r.x - pad, r.y - pad, r.w + 2.0 * pad, r.h + 2.0 * pad, radius).is_err() {
            c.rect(r.x - pad, r.y - pad, r.w + 2.0 * pad, r.h + 2.0 * pad);
        }
        c.set_stroke_style_str(colour);
        c.set_line_width(2.0);
        c.stroke();
    }

    /// A slow server: an outline in the error colour and a "slow" tag hanging from its lower
    /// edge (mostly below it: a short chip's last line runs to its right end), clear of the
    /// chip's lines and of its machine's header.
    fn slow_mark(&self, r: Rect) {
        self.outline(r, 2.0, 7.0, theme::ERROR);
        self.tag("slow", r.right() - 4.0, r.bottom() - 3.0, theme::ERROR);
    }

    /// The user's pick: a bright outline around the node.
    fn selection(&self, r: Rect) {
        self.outline(r, 4.0, 9.0, theme::SELECTED);
    }

    /// A balancer: name, HAProxy's `balance` line, its state in a pair and the queue it holds.
    fn lb(
        &self,
        id: NodeId,
        r: Rect,
        role: &str,
        queue: Option<u32>,
        alive: bool,
        status: Option<(String, format::Tone)>,
    ) {
        let standby = matches!(&status, Some((s, _)) if s.starts_with("BACKUP"));
        if !alive {
            self.panel(r, theme::ERROR, theme::BOX_FILL_DIM, true);
        } else if standby {
            self.panel(r, theme::TEXT_MUTED, theme::BOX_FILL_DIM, true);
        } else {
            self.panel(r, theme::LB, theme::BOX_FILL, false);
        }
        let inner = r.w - 16.0;
        self.text(&id.to_string(), r.x + 8.0, r.y + 18.0, theme::FONT_TITLE, theme::TEXT, "left");
        let role_line = match &status {
            Some((text, tone)) => {
                self.text_fit(text, r.x + 8.0, r.y + 33.0, inner, theme::FONT_SMALL, tone_colour_strong(*tone));
                role
            }
            None => role,
        };
        let role_y = if status.is_some() { r.y + 47.0 } else { r.y + 33.0 };
        self.text_fit(role_line, r.x + 8.0, role_y, inner, theme::FONT_TINY, theme::TEXT_MUTED);
        let Some(queue) = queue else { return };
        // The queue: requests waiting for a free server slot (bar on a soft log scale).
        let level = (queue as f64 + 1.0).log10() / 4.0;
        let colour = if queue == 0 { theme::LINK } else { theme::TEXT_WARN };
        let bar_y = if status.is_some() { r.y + 52.0 } else { r.y + 41.0 };
        self.bar(r.x + 8.0, bar_y, inner * 0.45, 5.0, level, colour);
        let label = format!("queue {}", format::compact(queue as u64));
        let colour = if queue == 0 { theme::TEXT_MUTED } else { theme::TEXT_WARN };
        self.text(&label, r.right() - 8.0, bar_y + 6.0, theme::FONT_SMALL, colour, "right");
    }

    fn web(&self, w: &WebView, r: Rect, detail: Detail) {
        use crate::sim::HealthState as H;
        let standby = w.backup && !w.in_pool && w.alive;
        if !w.alive {
            self.panel(r, theme::ERROR, theme::BOX_FILL_DIM, true);
        } else if standby || !w.active {
            self.panel(r, theme::TEXT_MUTED, theme::BOX_FILL_DIM, true);
        } else {
            let border = match w.health {
                H::Up | H::Starting if w.weight > 0 => theme::WEB,
                H::Up | H::Starting => theme::TEXT_MUTED,
                _ => theme::TEXT_WARN,
            };
            self.panel(r, border, theme::BOX_FILL, false);
        }
        let name = w.id.to_string();
        let level = format::utilisation(w.busy, w.workers);
        let (role, tone) = format::web_role(w, self.o.fall, self.o.rise);
        match detail {
            Detail::Full => {
                let inner = r.w - 16.0;
                self.text(&name, r.x + 8.0, r.y + 17.0, theme::FONT_TITLE, theme::TEXT, "left");
                if standby {
                    self.tag("STANDBY", r.right() - 8.0, r.y + 7.0, theme::TEXT_MUTED);
                } else if !w.alive {
                    self.tag("DOWN", r.right() - 8.0, r.y + 7.0, theme::ERROR);
                } else {
                    self.text(
                        &format!("weight {}", w.weight),
                        r.right() - 8.0,
                        r.y + 17.0,
                        theme::FONT_SMALL,
                        theme::TEXT_MUTED,
                        "right",
                    );
                }
                let room = if w.queued_for > 0 { inner * 0.62 } else { inner };
                self.text_fit(&role, r.x + 8.0, r.y + 31.0, room, theme::FONT_SMALL, tone_colour_strong(tone));
                if w.queued_for > 0 {
                    let q = format!("{} queued", format::compact(w.queued_for as u64));
                    self.text(&q, r.right() - 8.0, r.y + 31.0, theme::FONT_SMALL, theme::TEXT_WARN, "right");
                }
                self.slots(r.x + 8.0, r.y + 37.0, inner, 7.0, w.busy, w.workers);
                let numbers = format!(
                    "busy {}/{} · wait {} · conn {}",
                    w.busy,
                    w.workers,
                    format::compact(w.waiting as u64),
                    format::compact(w.conns as u64)
                );
                let colour = if w.waiting > 0 { theme::TEXT_WARN } else { theme::TEXT_MUTED };
                self.text_fit(&numbers, r.x + 8.0, r.y + r.h - 9.0, inner, theme::FONT_SMALL, colour);
            }
            Detail::Compact => {
                let inner = r.w - 10.0;
                let title_y = r.y + (r.h * 0.5).min(16.0);
                let wide = r.w >= 170.0;
                let name_room = if wide { inner * 0.4 } else { inner * 0.62 };
                self.text_fit(&name, r.x + 5.0, title_y, name_room, theme::FONT_SMALL, theme::TEXT);
                // Wide boxes have room for the numbers a full box shows; narrow ones for busy/workers.
                let load = if !w.alive {
                    "down".to_string()
                } else if standby {
                    "standby".to_string()
                } else if wide {
                    format!(
                        "busy {}/{} · wait {} · conn {}",
                        w.busy,
                        w.workers,
                        format::compact(w.waiting as u64),
                        format::compact(w.conns as u64)
                    )
                } else {
                    format!("{}/{}", w.busy, w.workers)
                };
                let colour = load_colour(w.alive, w.waiting);
                self.text(&load, r.right() - 5.0, title_y, theme::FONT_TINY, colour, "right");
                if r.h >= 42.0 && r.w >= 110.0 {
                    let text = format!("{role} · weight {}", w.weight);
                    self.text_fit(&text, r.x + 5.0, title_y + 14.0, inner, theme::FONT_TINY, tone_colour_strong(tone));
                } else if w.waiting > 0 && r.h >= 40.0 {
                    let wait = format!("wait {}", format::compact(w.waiting as u64));
                    self.text(&wait, r.x + 5.0, r.bottom() - 13.0, theme::FONT_TINY, theme::TEXT_WARN, "left");
                }
                self.bar(r.x + 5.0, r.bottom() - 8.0, inner, 4.0, level, theme::load_colour(level));
            }
            Detail::Tiny => {
                let c = self.c;
                c.set_global_alpha(0.35 + 0.65 * level);
                c.set_fill_style_str(theme::load_colour(level));
                let fill_h = (r.h - 4.0) * level;
                c.fill_rect(r.x + 2.0, r.bottom() - 2.0 - fill_h, r.w - 4.0, fill_h);
                c.set_global_alpha(1.0);
                if !w.alive {
                    // A cross over a dead tile, so it reads without colour.
                    self.line(
                        Point { x: r.x + 2.0, y: r.y + 2.0 },
                        Point { x: r.right() - 2.0, y: r.bottom() - 2.0 },
                        theme::ERROR,
                        1.2,
                    );
                    self.line(
                        Point { x: r.right() - 2.0, y: r.y + 2.0 },
                        Point { x: r.x + 2.0, y: r.bottom() - 2.0 },
                        theme::ERROR,
                        1.2,
                    );
                } else if r.w >= 22.0 && r.h >= 12.0 {
                    let n = (w.id_index() + 1).to_string();
                    self.text(&n, r.x + r.w / 2.0, r.y + r.h / 2.0 + 3.0, theme::FONT_TINY, theme::TEXT, "center");
                }
            }
        }
    }

    /// A small filled tag with dark text, right-aligned at `right`, top at `top`.
    fn tag(&self, text: &str, right: f64, top: f64, fill: &str) {
        let c = self.c;
        c.set_font(theme::FONT_TINY);
        let w = c.measure_text(text).map_or(40.0, |m| m.width()) + 8.0;
        c.set_fill_style_str(fill);
        c.begin_path();
        if c.round_rect_with_f64(right - w, top, w, 13.0, 3.0).is_err() {
            c.rect(right - w, top, w, 13.0);
        }
        c.fill();
        self.text(text, right - w / 2.0, top + 10.0, theme::FONT_TINY, theme::BACKGROUND, "center");
    }

    fn db(&self, d: &DbView, r: Rect) {
        let border = match d.role {
            DbRole::Primary => theme::DB_PRIMARY,
            DbRole::SecondPrimary => theme::ERROR,
            DbRole::Promoting => theme::TEXT_WARN,
            DbRole::Fenced => theme::TEXT_MUTED,
            DbRole::Replica => theme::DB_REPLICA,
            DbRole::Diverged => theme::ERROR,
            DbRole::Rebuilding => theme::TEXT_WARN,
        };
        if !d.alive {
            self.panel(r, theme::ERROR, theme::BOX_FILL_DIM, true);
        } else {
            self.panel(r, border, theme::BOX_FILL, d.role == DbRole::Fenced);
        }
        let inner = r.w - 16.0;
        self.text_fit(&d.id.to_string(), r.x + 8.0, r.y + 17.0, inner * 0.4, theme::FONT_TITLE, theme::TEXT);
        let (word, fill) = match (d.alive, d.role) {
            (false, _) => ("DOWN", theme::ERROR),
            (true, DbRole::Primary) => ("PRIMARY", theme::DB_PRIMARY),
            (true, DbRole::Replica) => ("REPLICA", theme::DB_REPLICA),
            (true, DbRole::Promoting) => ("PROMOTING", theme::TEXT_WARN),
            (true, DbRole::Fenced) => ("FENCED", theme::TEXT_MUTED),
            (true, DbRole::SecondPrimary) => ("2ND PRIMARY", theme::ERROR),
            (true, DbRole::Diverged) => ("DIVERGED", theme::ERROR),
            (true, DbRole::Rebuilding) => ("REBUILDING", theme::TEXT_WARN),
        };
        if r.w >= 110.0 {
            self.tag(word, r.right() - 8.0, r.y + 6.0, fill);
        }
        let (role, tone) = format::db_role(d);
        let role =
            if d.slow > 1.0 + 1e-9 { format!("{role} · {}× slower", (d.slow * 10.0).round() / 10.0) } else { role };
        self.text_fit(&role, r.x + 8.0, r.y + 31.0, inner, theme::FONT_SMALL, tone_colour_strong(tone));
        if r.h >= 52.0 {
            self.slots(r.x + 8.0, r.y + 37.0, inner, 5.0, d.busy, d.workers);
            let numbers = format!("busy {}/{} · wait {}", d.busy, d.workers, format::compact(d.waiting as u64));
            let colour = if d.waiting > 0 { theme::TEXT_WARN } else { theme::TEXT_MUTED };
            self.text_fit(&numbers, r.x + 8.0, r.bottom() - 6.0, inner, theme::FONT_TINY, colour);
        }
    }

    /// An outside probe: a magenta arrowhead from the internet toward a server (or toward the
    /// edge, where the firewall drops it, with a bar to show it stopped).
    fn probe(&self, p: &Particle) {
        let l = self.l;
        let (Some(a), Some(b)) = (l.rect(p.from), l.rect(p.to)) else { return };
        let start = a.exit_towards(b.center());
        let blocked = matches!(p.to, NodeId::Lb(_));
        // A blocked probe stops at the firewall, just short of the balancer.
        let end = if blocked {
            let e = b.exit_towards(a.center());
            let (dx, dy) = (e.x - start.x, e.y - start.y);
            let len = (dx * dx + dy * dy).sqrt().max(1.0);
            Point { x: e.x - dx / len * 14.0, y: e.y - dy / len * 14.0 }
        } else {
            b.exit_towards(a.center())
        };
        let t = (p.progress as f64).clamp(0.0, 1.0);
        let at = Point { x: start.x + (end.x - start.x) * t, y: start.y + (end.y - start.y) * t };
        let (dx, dy) = (end.x - start.x, end.y - start.y);
        let len = (dx * dx + dy * dy).sqrt().max(1e-9);
        let (ux, uy) = (dx / len, dy / len);
        let c = self.c;
        // A faint trail shows the path it takes.
        c.set_global_alpha(0.35);
        let _ = c.set_line_dash(&dash(&[2.0, 3.0]));
        self.line(start, at, theme::PROBE, 1.0);
        let _ = c.set_line_dash(&js_sys::Array::new());
        c.set_global_alpha(1.0);
        let s = 6.0;
        c.set_fill_style_str(theme::PROBE);
        c.begin_path();
        c.move_to(at.x + ux * s, at.y + uy * s);
        c.line_to(at.x - ux * s - uy * s * 0.6, at.y - uy * s + ux * s * 0.6);
        c.line_to(at.x - ux * s + uy * s * 0.6, at.y - uy * s - ux * s * 0.6);
        c.close_path();
        c.fill();
        if blocked && t >= 0.999 {
            self.line(
                Point { x: at.x + ux * 8.0 - uy * 6.0, y: at.y + uy * 8.0 + ux * 6.0 },
                Point { x: at.x + ux * 8.0 + uy * 6.0, y: at.y + uy * 8.0 - ux * 6.0 },
                theme::FIREWALL,
                2.0,
            );
        }
    }

    fn particle(&self, p: &Particle, size: f64) {
        let progress = p.progress as f64;
        // A DNS lookup is a round trip: out to the resolver and back to the client.
        let at = if p.to == NodeId::Dns {
            let (t, lane) =
                if progress < 0.5 { (progress * 2.0, LANE_OFFSET) } else { (2.0 - progress * 2.0, -LANE_OFFSET) };
            self.l.point_on_link(NodeId::Clients, NodeId::Dns, t, lane)
        } else {
            let lane = if p.reply { -LANE_OFFSET } else { LANE_OFFSET };
            self.l.point_on_link(p.from, p.to, progress, lane)
        };
        let Some(at) = at else { return };
        let colour = match p.kind {
            ParticleKind::Read => theme::READ,
            ParticleKind::Write => theme::WRITE,
            ParticleKind::Error => theme::ERROR,
        };
        let c = self.c;
        c.set_fill_style_str(colour);
        c.set_stroke_style_str(colour);
        c.begin_path();
        match p.kind {
            ParticleKind::Read => {
                let _ = c.arc(at.x, at.y, size, 0.0, std::f64::consts::TAU);
            }
            ParticleKind::Write => {
                let s = size * 1.25;
                c.move_to(at.x, at.y - s);
                c.line_to(at.x + s, at.y);
                c.line_to(at.x, at.y + s);
                c.line_to(at.x - s, at.y);
                c.close_path();
            }
            ParticleKind::Error => {
                let s = size;
                c.set_line_width(2.2);
                c.move_to(at.x - s, at.y - s);
                c.line_to(at.x + s, at.y + s);
                c.move_to(at.x + s, at.y - s);
                c.line_to(at.x - s, at.y + s);
                c.stroke();
                return;
            }
        }
        if p.reply {
            // Responses are hollow: the same shape, outlined.
            c.set_line_width(1.4);
            c.stroke();
        } else {
            c.fill();
        }
    }
}

/// The text colour of a tone (state lines: normal text is plain, not muted).
fn tone_colour_strong(tone: format::Tone) -> &'static str {
    match tone {
        format::Tone::Normal => theme::TEXT_MUTED,
        format::Tone::Warn => theme::TEXT_WARN,
        format::Tone::Bad => theme::ERROR,
    }
}

/// A line-dash pattern as the JS array the canvas wants.
fn dash(segments: &[f64]) -> JsValue {
    let a = js_sys::Array::new();
    for s in segments {
        a.push(&JsValue::from_f64(*s));
    }
    a.into()
}

/// Index of a web server from its id.
trait WebIndex {
    fn id_index(&self) -> usize;
}

impl WebIndex for WebView {
    fn id_index(&self) -> usize {
        match self.id {
            NodeId::Web(i) => i as usize,
            _ => 0,
        }
    }
}

/// The colour of a workers' load figure: red when the process is down, amber while requests
/// wait for a worker, muted otherwise.
fn load_colour(alive: bool, waiting: u32) -> &'static str {
    if !alive {
        theme::ERROR
    } else if waiting > 0 {
        theme::TEXT_WARN
    } else {
        theme::TEXT_MUTED
    }
}
