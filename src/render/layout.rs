//! Where everything sits on the topology canvas: pure geometry in CSS pixels, no web crate, so
//! it is unit-tested natively.
//!
//! Two flows:
//! - landscape (desktop): left to right, clients → lb1 → a grid of web servers → the database
//!   column, with DNS above the client link;
//! - portrait (phone): top to bottom, clients and DNS on the first row, lb1 below, the web grid in
//!   the middle and the database nodes along the bottom.
//!
//! Web servers are laid out on a grid that fits 1 to 128 servers; the smaller the boxes, the
//! less the canvas writes in them ([`Detail`]).

use crate::sim::{NodeId, View};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn centered(c: Point, w: f64, h: f64) -> Rect {
        Rect { x: c.x - w / 2.0, y: c.y - h / 2.0, w, h }
    }

    pub fn center(&self) -> Point {
        Point { x: self.x + self.w / 2.0, y: self.y + self.h / 2.0 }
    }

    pub fn right(&self) -> f64 {
        self.x + self.w
    }

    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }

    pub fn contains(&self, p: Point) -> bool {
        p.x >= self.x && p.x <= self.right() && p.y >= self.y && p.y <= self.bottom()
    }

    pub fn intersects(&self, o: &Rect) -> bool {
        self.x < o.right() && o.x < self.right() && self.y < o.bottom() && o.y < self.bottom()
    }

    /// Where the ray from this box's centre towards `toward` leaves the box.
    pub fn exit_towards(&self, toward: Point) -> Point {
        let c = self.center();
        let (dx, dy) = (toward.x - c.x, toward.y - c.y);
        let tx = if dx.abs() > 1e-9 { (self.w / 2.0) / dx.abs() } else { f64::INFINITY };
        let ty = if dy.abs() > 1e-9 { (self.h / 2.0) / dy.abs() } else { f64::INFINITY };
        let t = tx.min(ty).min(1.0);
        if !t.is_finite() {
            return c;
        }
        Point { x: c.x + dx * t, y: c.y + dy * t }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Orientation {
    /// Left to right (wide canvases).
    Landscape,
    /// Top to bottom (phones).
    Portrait,
}

/// How much a web server box has room to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Detail {
    /// A coloured tile with a load fill only.
    Tiny,
    /// Name and one load bar.
    Compact,
    /// Name, role, worker slots and the numbers.
    Full,
}

/// Preferred size of a web server box with full detail, CSS px.
const WEB_FULL: (f64, f64) = (180.0, 66.0);
/// Preferred size of a database box, CSS px.
const DB_BOX: (f64, f64) = (160.0, 60.0);
const MARGIN: f64 = 10.0;
/// Requests and responses travel on either side of a link, this far from its middle.
pub const LANE_OFFSET: f64 = 3.0;

#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    pub orientation: Orientation,
    pub clients: Rect,
    pub dns: Rect,
    /// lb1, the balancer (or the first of a pair).
    pub lb: Rect,
    /// lb2, the second balancer of a pair (VRRP or DNS active-active), when there is one.
    pub lb2: Option<Rect>,
    /// web1, web2, … in order.
    pub web: Vec<Rect>,
    /// db1 (the primary) first, then the replicas.
    pub db: Vec<Rect>,
    pub web_detail: Detail,
    /// Application server chips (`app1` …), when machines are drawn; empty otherwise (each
    /// application is drawn inside its web server's box).
    pub app: Vec<Rect>,
    /// Machine boxes, in the order of the view's machines (empty: one box per node).
    pub machines: Vec<MachineBox>,
    /// A balancer is drawn (false with `balancer.enabled=false`: clients reach web1 directly).
    pub has_lb: bool,
}

/// A machine's box: its frame (label and load at the top) around its component chips.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MachineBox {
    pub rect: Rect,
    /// Drawn with a frame and label; a machine no scenario listed that runs one component is
    /// just that component's box, as before machines existed.
    pub framed: bool,
    /// Height of its label row: [`MACHINE_HEADER`], or 0 when the box is too small to write in
    /// (the frame alone then groups the chips).
    pub header: f64,
}

/// Height of a machine box's label row (id, cores, CPU load), CSS px.
pub const MACHINE_HEADER: f64 = 18.0;
/// Preferred size of a component chip inside a machine box, CSS px.
const CHIP: (f64, f64) = (190.0, 60.0);
const CHIP_PAD: f64 = 5.0;

/// Grid placement of `n` boxes inside `region`.
struct Grid {
    cols: usize,
    box_w: f64,
    box_h: f64,
    pitch_x: f64,
    pitch_y: f64,
}

/// Choose the column count that lets boxes of the preferred aspect grow largest, then let each
/// box use its cell up to `max` size. Boxes keep close together and the group is centred.
fn fit_grid(region: Rect, n: usize, pref: (f64, f64), max_scale: f64, prefer_rows: bool) -> Grid {
    let n = n.max(1);
    let gap = if n <= 16 {
        10.0
    } else if n <= 48 {
        6.0
    } else {
        3.0
    };
    let mut best: Option<(f64, usize)> = None;
    for cols in 1..=n {
        let rows = n.div_ceil(cols);
        let cell_w = (region.w - gap * (cols as f64 - 1.0)) / cols as f64;
        let cell_h = (region.h - gap * (rows as f64 - 1.0)) / rows as f64;
        if cell_w <= 0.0 || cell_h <= 0.0 {
            continue;
        }
        // Boxes never grow past `max_scale`, so beyond it a layout gains nothing by being roomier;
        // among equals the flow decides: a row fans out below the balancer on a phone, a column
        // beside it on a desktop.
        let scale = (cell_w / pref.0).min(cell_h / pref.1).min(max_scale);
        let better = match best {
            None => true,
            Some((s, _)) => scale > s + 1e-9 || (prefer_rows && (scale - s).abs() <= 1e-9),
        };
        if better {
            best = Some((scale, cols));
        }
    }
    let cols = best.map_or(1, |(_, c)| c);
    let rows = n.div_ceil(cols);
    let cell_w = ((region.w - gap * (cols as f64 - 1.0)) / cols as f64).max(1.0);
    let cell_h = ((region.h - gap * (rows as f64 - 1.0)) / rows as f64).max(1.0);
    let box_w = cell_w.min(pref.0 * max_scale);
    let box_h = cell_h.min(pref.1 * max_scale);
    Grid {
        cols,
        box_w,
        box_h,
        pitch_x: (cell_w + gap).min(box_w + gap.max(box_w * 0.25)),
        pitch_y: (cell_h + gap).min(box_h + gap.max(box_h * 0.9)),
    }
}

impl Grid {
    /// Rectangles of boxes 0..n, row by row, the whole group centred in `region`.
    fn place(&self, region: Rect, n: usize) -> Vec<Rect> {
        let rows = n.div_ceil(self.cols.max(1));
        let cols_used = n.min(self.cols);
        let group_w = self.pitch_x * (cols_used as f64 - 1.0) + self.box_w;
        let group_h = self.pitch_y * (rows as f64 - 1.0) + self.box_h;
        let x0 = region.x + (region.w - group_w) / 2.0;
        let y0 = region.y + (region.h - group_h) / 2.0;
        (0..n)
            .map(|i| {
                let (r, c) = (i / self.cols, i % self.cols);
                Rect { x: x0 + c as f64 * self.pitch_x, y: y0 + r as f64 * self.pitch_y, w: self.box_w, h: self.box_h }
            })
            .collect()
    }
}

fn detail_for(w: f64, h: f64) -> Detail {
    if w >= 150.0 && h >= 58.0 {
        Detail::Full
    } else if w >= 56.0 && h >= 24.0 {
        Detail::Compact
    } else {
        Detail::Tiny
    }
}

impl Layout {
    /// Canvases narrower than this, or taller than wide, use the top-to-bottom flow.
    pub const PORTRAIT_BELOW_WIDTH: f64 = 600.0;

    /// Layout of one balancer, `web` servers and `db` database nodes on a `width` × `height`
    /// canvas (CSS px).
    pub fn new(width: f64, height: f64, web: usize, db: usize) -> Layout {
        Layout::with_balancers(width, height, 1, web, db)
    }

    /// The same with `lbs` balancers (1, or 2 for a pair; more are drawn as 2).
    pub fn with_balancers(width: f64, height: f64, lbs: usize, web: usize, db: usize) -> Layout {
        let pair = lbs >= 2;
        let width = if width.is_finite() { width.max(120.0) } else { 120.0 };
        let height = if height.is_finite() { height.max(120.0) } else { 120.0 };
        let web = web.max(1);
        if width < Self::PORTRAIT_BELOW_WIDTH || height > width * 1.1 {
            Self::portrait(width, height, pair, web, db)
        } else {
            Self::landscape(width, height, pair, web, db)
        }
    }

    /// The layout for drawing `view`: machines as boxes with their components inside when the
    /// scenario lists machines, else one box per node with as many web servers as are shown
    /// (see [`shown_web`]).
    pub fn for_view(width: f64, height: f64, view: &View) -> Layout {
        if view.machines.iter().any(|m| m.cores.is_some()) {
            let machines: Vec<(Vec<NodeId>, bool)> = view
                .machines
                .iter()
                .map(|m| (m.components.clone(), m.cores.is_some() || m.components.len() > 1))
                .collect();
            return Layout::for_machines(width, height, &machines);
        }
        let mut l = Layout::with_balancers(width, height, view.lbs.len(), shown_web(view), view.db.len());
        l.has_lb = !view.lbs.is_empty();
        l
    }

    /// Machines as boxes, each `(components, framed)`, grouped by tier (balancers, web
    /// servers, application servers, databases: a machine's tier is its first component's):
    /// left to right on a desktop, top to bottom on a phone.
    pub fn for_machines(width: f64, height: f64, machines: &[(Vec<NodeId>, bool)]) -> Layout {
        let w = if width.is_finite() { width.max(120.0) } else { 120.0 };
        let h = if height.is_finite() { height.max(120.0) } else { 120.0 };
        let portrait = w < Self::PORTRAIT_BELOW_WIDTH || h > w * 1.1;
        let mut l = if portrait { Self::portrait(w, h, false, 1, 0) } else { Self::landscape(w, h, false, 1, 0) };
        l.web.clear();
        l.has_lb = false;
        let mut tiers: Vec<(u8, Vec<usize>)> = Vec::new();
        for (i, (nodes, _)) in machines.iter().enumerate() {
            let tier = nodes.iter().map(|&n| tier_of(n)).min().unwrap_or(1);
            match tiers.iter_mut().find(|(t, _)| *t == tier) {
                Some((_, list)) => list.push(i),
                None => tiers.push((tier, vec![i])),
            }
        }
        tiers.sort_by_key(|(t, _)| *t);
        let mut boxes = vec![
            MachineBox { rect: Rect { x: 0.0, y: 0.0, w: 0.0, h: 0.0 }, framed: false, header: 0.0 };
            machines.len()
        ];
        let bands = tier_bands(&l, w, h, portrait, &tiers, machines);
        let mut chip_size = (f64::MAX, f64::MAX);
        for ((_, list), band) in tiers.iter().zip(bands) {
            let most = list.iter().map(|&i| machines[i].0.len()).max().unwrap_or(1).max(1);
            let pref = machine_pref(most, portrait);
            let grid = fit_grid(band, list.len(), pref, 1.2, portrait);
            for (&i, rect) in list.iter().zip(grid.place(band, list.len())) {
                let framed = machines[i].1;
                let nodes = &machines[i].0;
                let roomy = rect.h >= MACHINE_HEADER + 16.0 * nodes.len().max(1) as f64 && rect.w >= 70.0;
                let (header, pad) = match (framed, roomy) {
                    (false, _) => (0.0, 0.0),
                    (true, true) => (MACHINE_HEADER, CHIP_PAD),
                    (true, false) => (0.0, (rect.w.min(rect.h) * 0.08).min(CHIP_PAD)),
                };
                boxes[i] = MachineBox { rect, framed, header };
                let inner = Rect {
                    x: rect.x + pad,
                    y: rect.y + header.max(pad),
                    w: (rect.w - 2.0 * pad).max(1.0),
                    h: (rect.h - header.max(pad) - pad).max(1.0),
                };
                let chips = chip_rects(inner, nodes.len(), portrait);
                for (&node, chip) in nodes.iter().zip(chips) {
                    chip_size = (chip_size.0.min(chip.w), chip_size.1.min(chip.h));
                    l.place_chip(node, chip);
                }
            }
        }
        l.machines = boxes;
        l.web_detail = if chip_size.0 == f64::MAX { Detail::Full } else { detail_for(chip_size.0, chip_size.1) };
        l
    }

    /// Record where a component's chip is drawn.
    fn place_chip(&mut self, node: NodeId, chip: Rect) {
        let put = |list: &mut Vec<Rect>, i: usize| {
            if list.len() <= i {
                list.resize(i + 1, Rect { x: 0.0, y: 0.0, w: 0.0, h: 0.0 });
            }
            list[i] = chip;
        };
        match node {
            NodeId::Lb(0) => {
                self.lb = chip;
                self.has_lb = true;
            }
            NodeId::Lb(_) => self.lb2 = Some(chip),
            NodeId::Web(i) => put(&mut self.web, i as usize),
            NodeId::App(i) => put(&mut self.app, i as usize),
            NodeId::Db(i) => put(&mut self.db, i as usize),
            NodeId::Clients | NodeId::Dns => {}
        }
    }

    fn landscape(w: f64, h: f64, pair: bool, web: usize, db: usize) -> Layout {
        let mid = h / 2.0;
        let cw = (w * 0.1).clamp(84.0, 120.0);
        let clients = Rect { x: MARGIN, y: mid - 31.0, w: cw, h: 62.0 };
        let lbw = (w * 0.17).clamp(140.0, 180.0);
        let lb_x = clients.right() + (w * 0.11).max(48.0);
        // A pair sits one above the other around the middle, a single balancer on it.
        let (lb, lb2) = if pair {
            let lb1 = Rect { x: lb_x, y: mid - 68.0 - 10.0, w: lbw, h: 68.0 };
            (lb1, Some(Rect { y: mid + 10.0, ..lb1 }))
        } else {
            (Rect { x: lb_x, y: mid - 34.0, w: lbw, h: 68.0 }, None)
        };
        let dnsw = (w * 0.14).clamp(90.0, 160.0);
        let dns_c = Point { x: (clients.center().x + lb.center().x) / 2.0, y: MARGIN + 22.0 };
        let dns = Rect::centered(dns_c, dnsw, 40.0);
        let (db_rects, db_left) = if db > 0 {
            let dbw = (w * 0.17).clamp(96.0, 180.0);
            let region = Rect { x: w - MARGIN - dbw, y: MARGIN, w: dbw, h: h - 2.0 * MARGIN };
            let grid = fit_grid(region, db, DB_BOX, 1.0, false);
            (grid.place(region, db), region.x)
        } else {
            (Vec::new(), w - MARGIN)
        };
        let gap = (w * 0.05).max(28.0);
        let region =
            Rect { x: lb.right() + gap, y: MARGIN, w: (db_left - gap) - (lb.right() + gap), h: h - 2.0 * MARGIN };
        let region = Rect { w: region.w.max(20.0), ..region };
        let grid = fit_grid(region, web, WEB_FULL, 1.15, false);
        let web_rects = grid.place(region, web);
        Layout {
            width: w,
            height: h,
            orientation: Orientation::Landscape,
            clients,
            dns,
            lb,
            lb2,
            web: web_rects,
            db: db_rects,
            web_detail: detail_for(grid.box_w, grid.box_h),
            app: Vec::new(),
            machines: Vec::new(),
            has_lb: true,
        }
    }

    fn portrait(w: f64, h: f64, pair: bool, web: usize, db: usize) -> Layout {
        let cw = (w * 0.34).clamp(84.0, 150.0);
        let clients = Rect::centered(Point { x: w * 0.28, y: MARGIN + 31.0 }, cw, 62.0);
        let dns = Rect::centered(Point { x: w * 0.76, y: MARGIN + 31.0 }, (w * 0.36).clamp(84.0, 160.0), 40.0);
        let lb_y = clients.bottom() + (h * 0.07).max(32.0);
        // A pair sits side by side, a single balancer in the middle.
        let (lb, lb2) = if pair {
            let lbw = ((w - 2.0 * MARGIN - 16.0) / 2.0).min(180.0);
            let lb1 = Rect { x: w / 2.0 - 8.0 - lbw, y: lb_y, w: lbw, h: 68.0 };
            (lb1, Some(Rect { x: w / 2.0 + 8.0, ..lb1 }))
        } else {
            let lbw = (w * 0.5).clamp(140.0, 200.0);
            (Rect { x: w / 2.0 - lbw / 2.0, y: lb_y, w: lbw, h: 68.0 }, None)
        };
        let (db_rects, db_top) = if db > 0 {
            let rows = if db <= 3 { 1.0 } else { 2.0 };
            let band = (h * 0.11 * rows).clamp(56.0 * rows, 72.0 * rows + 10.0);
            let region = Rect { x: MARGIN, y: h - MARGIN - band, w: w - 2.0 * MARGIN, h: band };
            let grid = fit_grid(region, db, (DB_BOX.0 * 0.8, DB_BOX.1), 1.0, true);
            (grid.place(region, db), region.y)
        } else {
            (Vec::new(), h - MARGIN)
        };
        let gap = (h * 0.045).max(22.0);
        let top = lb.bottom() + gap;
        let region = Rect { x: MARGIN, y: top, w: w - 2.0 * MARGIN, h: (db_top - gap - top).max(20.0) };
        let grid = fit_grid(region, web, (WEB_FULL.0 * 0.9, WEB_FULL.1), 1.0, true);
        let web_rects = grid.place(region, web);
        Layout {
            width: w,
            height: h,
            orientation: Orientation::Portrait,
            clients,
            dns,
            lb,
            lb2,
            web: web_rects,
            db: db_rects,
            web_detail: detail_for(grid.box_w, grid.box_h),
            app: Vec::new(),
            machines: Vec::new(),
            has_lb: true,
        }
    }

    /// The box of a node, if it is on this layout.
    pub fn rect(&self, id: NodeId) -> Option<Rect> {
        match id {
            NodeId::Clients => Some(self.clients),
            NodeId::Dns => Some(self.dns),
            NodeId::Lb(0) => self.has_lb.then_some(self.lb),
            NodeId::Lb(1) => self.lb2,
            NodeId::Lb(_) => None,
            NodeId::Web(i) => self.web.get(i as usize).copied(),
            // Its own chip when machines are drawn, else inside its web server's box.
            NodeId::App(i) => self.app.get(i as usize).or(self.web.get(i as usize)).copied(),
            NodeId::Db(i) => self.db.get(i as usize).copied(),
        }
    }

    pub fn center(&self, id: NodeId) -> Option<Point> {
        self.rect(id).map(|r| r.center())
    }

    /// Every node on the layout with its box.
    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, Rect)> + '_ {
        [(NodeId::Clients, self.clients), (NodeId::Dns, self.dns)]
            .into_iter()
            .chain(self.has_lb.then_some((NodeId::Lb(0), self.lb)))
            .chain(self.lb2.map(|r| (NodeId::Lb(1), r)))
            .chain(self.web.iter().enumerate().map(|(i, r)| (NodeId::Web(i as u16), *r)))
            .chain(self.app.iter().enumerate().map(|(i, r)| (NodeId::App(i as u16), *r)))
            .chain(self.db.iter().enumerate().map(|(i, r)| (NodeId::Db(i as u8), *r)))
    }

    /// The visible part of the link between two nodes: from the edge of one box to the edge of
    /// the other, in the order given.
    pub fn link(&self, from: NodeId, to: NodeId) -> Option<(Point, Point)> {
        let (a, b) = (self.rect(from)?, self.rect(to)?);
        Some((a.exit_towards(b.center()), b.exit_towards(a.center())))
    }

    /// The point `progress` (0 at `from`, 1 at `to`) along the link. `lane` shifts it sideways:
    /// the same lane is the same side of the link whichever way a particle travels, so with
    /// `+LANE_OFFSET` for requests and `-LANE_OFFSET` for responses the two streams do not overlap.
    pub fn point_on_link(&self, from: NodeId, to: NodeId, progress: f64, lane: f64) -> Option<Point> {
        let (a, b) = self.link(from, to)?;
        let t = if progress.is_finite() { progress.clamp(0.0, 1.0) } else { 0.0 };
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let len = (dx * dx + dy * dy).sqrt();
        // The perpendicular of the link's canonical direction (upstream → downstream).
        let (nx, ny) = if len < 1e-9 {
            (0.0, 0.0)
        } else if from <= to {
            (-dy / len, dx / len)
        } else {
            (dy / len, -dx / len)
        };
        Some(Point { x: a.x + dx * t + nx * lane, y: a.y + dy * t + ny * lane })
    }

    /// The node under a point (for clicking on the canvas), with a few pixels of slack.
    pub fn hit(&self, p: Point) -> Option<NodeId> {
        let slack = 3.0;
        self.nodes()
            .find(|(_, r)| {
                Rect { x: r.x - slack, y: r.y - slack, w: r.w + 2.0 * slack, h: r.h + 2.0 * slack }.contains(p)
            })
            .map(|(id, _)| id)
    }
}

/// The column (desktop) or row (phone) of a machine whose first component is `node`.
fn tier_of(node: NodeId) -> u8 {
    match node {
        NodeId::Clients | NodeId::Dns => 0,
        NodeId::Lb(_) => 1,
        NodeId::Web(_) => 2,
        NodeId::App(_) => 3,
        NodeId::Db(_) => 4,
    }
}

/// Preferred size of a machine box holding `chips` components.
fn machine_pref(chips: usize, portrait: bool) -> (f64, f64) {
    let k = chips.max(1) as f64;
    if portrait && chips > 1 {
        // Side by side on a phone: rows stay short and the flow runs down the screen.
        (k * (CHIP.0 * 0.7 + CHIP_PAD) + CHIP_PAD, CHIP.1 + MACHINE_HEADER + CHIP_PAD)
    } else {
        (CHIP.0 + 2.0 * CHIP_PAD, k * (CHIP.1 + CHIP_PAD) + MACHINE_HEADER)
    }
}

/// The chips of one machine inside its `inner` box: stacked (desktop) or side by side (phone).
fn chip_rects(inner: Rect, n: usize, portrait: bool) -> Vec<Rect> {
    let k = n.max(1) as f64;
    (0..n)
        .map(|i| {
            let i = i as f64;
            if portrait {
                let cw = ((inner.w - CHIP_PAD * (k - 1.0)) / k).max(1.0);
                Rect { x: inner.x + i * (cw + CHIP_PAD), y: inner.y, w: cw, h: inner.h.max(1.0) }
            } else {
                let ch = ((inner.h - CHIP_PAD * (k - 1.0)) / k).max(1.0);
                Rect { x: inner.x, y: inner.y + i * (ch + CHIP_PAD), w: inner.w.max(1.0), h: ch }
            }
        })
        .collect()
}

/// The region of each tier: columns right of the clients (desktop), rows below the clients
/// and DNS (phone), sized by how many chips high (or wide) its machines are.
fn tier_bands(
    l: &Layout,
    w: f64,
    h: f64,
    portrait: bool,
    tiers: &[(u8, Vec<usize>)],
    machines: &[(Vec<NodeId>, bool)],
) -> Vec<Rect> {
    let gap = 24.0;
    let n = tiers.len().max(1) as f64;
    if portrait {
        let top = l.clients.bottom().max(l.dns.bottom()) + gap;
        let weights: Vec<f64> = tiers
            .iter()
            .map(|(_, list)| {
                let rows = if list.len() > 2 { list.len().div_ceil(2) } else { 1 };
                rows as f64 * if list.iter().any(|&i| machines[i].0.len() > 1) { 1.2 } else { 1.0 }
            })
            .collect();
        let total: f64 = weights.iter().sum::<f64>().max(1.0);
        let room = (h - MARGIN - top - gap * (n - 1.0)).max(20.0);
        let mut y = top;
        weights
            .iter()
            .map(|wt| {
                let band = Rect { x: MARGIN, y, w: w - 2.0 * MARGIN, h: room * wt / total };
                y += band.h + gap;
                band
            })
            .collect()
    } else {
        let left = l.clients.right() + (w * 0.06).max(36.0);
        let room = (w - MARGIN - left - gap * (n - 1.0)).max(20.0);
        let col_w = room / n;
        // Below the DNS box so a balancer's column never runs into it.
        let top = l.dns.bottom() + 10.0;
        (0..tiers.len())
            .map(|k| Rect { x: left + k as f64 * (col_w + gap), y: top, w: col_w, h: h - MARGIN - top })
            .collect()
    }
}

/// Web servers to draw for a view: every server in the farm, plus removed ones still finishing
/// their work (so their last responses have somewhere to come from).
pub fn shown_web(view: &View) -> usize {
    view.web.iter().rposition(|w| w.active || w.conns > 0 || w.busy > 0).map_or(1, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::format::LoadAverage as LoadAverageForTest;

    const SIZES: [(f64, f64); 5] = [(1280.0, 560.0), (900.0, 480.0), (390.0, 600.0), (390.0, 844.0), (700.0, 360.0)];

    fn all_inside(l: &Layout) {
        for (id, r) in l.nodes() {
            assert!(r.w > 0.0 && r.h > 0.0, "{id} has no size: {r:?}");
            assert!(
                r.x >= -0.01 && r.y >= -0.01 && r.right() <= l.width + 0.01 && r.bottom() <= l.height + 0.01,
                "{id} {r:?} leaves the {}x{} canvas",
                l.width,
                l.height
            );
        }
    }

    fn no_overlaps(l: &Layout) {
        let nodes: Vec<_> = l.nodes().collect();
        for (i, (a, ra)) in nodes.iter().enumerate() {
            for (b, rb) in &nodes[i + 1..] {
                assert!(!ra.intersects(rb), "{a} {ra:?} overlaps {b} {rb:?} on {}x{}", l.width, l.height);
            }
        }
    }

    #[test]
    fn every_size_and_count_fits_without_overlap() {
        for (w, h) in SIZES {
            for web in [1, 2, 3, 5, 8, 12, 16, 24, 32, 64, 100, 128] {
                for db in [0, 1, 2, 5] {
                    for lbs in [1, 2] {
                        let l = Layout::with_balancers(w, h, lbs, web, db);
                        assert_eq!(l.web.len(), web);
                        assert_eq!(l.db.len(), db);
                        assert_eq!(l.lb2.is_some(), lbs == 2);
                        all_inside(&l);
                        no_overlaps(&l);
                    }
                }
            }
        }
    }

    #[test]
    fn flow_follows_the_screen_shape() {
        let desk = Layout::new(1280.0, 560.0, 3, 2);
        assert_eq!(desk.orientation, Orientation::Landscape);
        assert!(desk.clients.center().x < desk.lb.center().x);
        assert!(desk.lb.center().x < desk.web[0].center().x);
        assert!(desk.web[0].center().x < desk.db[0].center().x);
        let phone = Layout::new(390.0, 600.0, 3, 2);
        assert_eq!(phone.orientation, Orientation::Portrait);
        assert!(phone.clients.center().y < phone.lb.center().y);
        assert!(phone.lb.center().y < phone.web[0].center().y);
        assert!(phone.web[2].center().y < phone.db[0].center().y);
    }

    #[test]
    fn detail_degrades_with_many_servers() {
        assert_eq!(Layout::new(1280.0, 560.0, 3, 2).web_detail, Detail::Full);
        assert_eq!(Layout::new(390.0, 600.0, 2, 2).web_detail, Detail::Full);
        assert!(Layout::new(900.0, 480.0, 32, 2).web_detail >= Detail::Compact);
        assert_eq!(Layout::new(900.0, 480.0, 128, 2).web_detail, Detail::Tiny);
    }

    #[test]
    fn a_few_servers_sit_around_the_balancer() {
        let l = Layout::new(1280.0, 560.0, 2, 2);
        let mid = (l.web[0].center().y + l.web[1].center().y) / 2.0;
        assert!((mid - l.lb.center().y).abs() < 1.0);
        // Boxes stay a readable size rather than stretching over the whole column.
        assert!(l.web[0].h <= WEB_FULL.1 * 1.15 + 1e-9);
    }

    #[test]
    fn links_run_between_box_edges() {
        let l = Layout::new(1280.0, 560.0, 3, 2);
        let (a, b) = l.link(NodeId::Lb(0), NodeId::Web(0)).expect("lb1 and web1 are laid out");
        assert!((a.x - l.lb.right()).abs() < 1e-6 || (a.y - l.lb.y).abs() < 1e-6 || (a.y - l.lb.bottom()).abs() < 1e-6);
        assert!((b.x - l.web[0].x).abs() < 1e-6 || (b.y - l.web[0].y).abs() < 1e-6);
        let start = l.point_on_link(NodeId::Lb(0), NodeId::Web(0), 0.0, 0.0).expect("on layout");
        let end = l.point_on_link(NodeId::Lb(0), NodeId::Web(0), 1.0, 0.0).expect("on layout");
        assert_eq!(start, a);
        assert_eq!(end, b);
        let half = l.point_on_link(NodeId::Lb(0), NodeId::Web(0), 0.5, 0.0).expect("on layout");
        assert!((half.x - (a.x + b.x) / 2.0).abs() < 1e-9 && (half.y - (a.y + b.y) / 2.0).abs() < 1e-9);
        // Out-of-range progress is clamped, not extrapolated.
        assert_eq!(l.point_on_link(NodeId::Lb(0), NodeId::Web(0), 7.0, 0.0), Some(b));
        assert_eq!(l.point_on_link(NodeId::Lb(0), NodeId::Web(0), f64::NAN, 0.0), Some(a));
    }

    #[test]
    fn requests_and_responses_use_opposite_lanes() {
        let l = Layout::new(1280.0, 560.0, 3, 2);
        let out = l.point_on_link(NodeId::Lb(0), NodeId::Web(1), 0.5, LANE_OFFSET).expect("laid out");
        let back = l.point_on_link(NodeId::Web(1), NodeId::Lb(0), 0.5, -LANE_OFFSET).expect("laid out");
        let dist = ((out.x - back.x).powi(2) + (out.y - back.y).powi(2)).sqrt();
        assert!((dist - 2.0 * LANE_OFFSET).abs() < 1e-6, "lanes {dist} apart");
        // The same lane is the same side whichever way one travels.
        let back_same_lane = l.point_on_link(NodeId::Web(1), NodeId::Lb(0), 0.5, LANE_OFFSET).expect("laid out");
        assert!((out.x - back_same_lane.x).abs() < 1e-6 && (out.y - back_same_lane.y).abs() < 1e-6);
    }

    #[test]
    fn a_balancer_pair_flanks_the_single_position() {
        let single = Layout::new(1280.0, 560.0, 3, 2);
        let pair = Layout::with_balancers(1280.0, 560.0, 2, 3, 2);
        let lb2 = pair.lb2.expect("lb2 laid out");
        assert!(pair.lb.center().y < single.lb.center().y && lb2.center().y > single.lb.center().y);
        assert_eq!(pair.rect(NodeId::Lb(1)), Some(lb2));
        assert!(pair.point_on_link(NodeId::Clients, NodeId::Lb(1), 0.5, 0.0).is_some());
        let phone = Layout::with_balancers(390.0, 700.0, 2, 3, 2);
        let lb2 = phone.lb2.expect("lb2 laid out");
        assert!((phone.lb.center().y - lb2.center().y).abs() < 1e-9 && phone.lb.right() < lb2.x);
        assert_eq!(Layout::new(1280.0, 560.0, 3, 2).rect(NodeId::Lb(1)), None);
    }

    #[test]
    fn unknown_nodes_have_no_position() {
        let l = Layout::new(1280.0, 560.0, 3, 0);
        assert_eq!(l.rect(NodeId::Web(3)), None);
        assert_eq!(l.rect(NodeId::Db(0)), None);
        assert_eq!(l.rect(NodeId::Lb(1)), None);
        assert_eq!(l.point_on_link(NodeId::Web(0), NodeId::Db(0), 0.5, 0.0), None);
    }

    #[test]
    fn hit_testing_finds_the_node_under_the_pointer() {
        for (w, h) in SIZES {
            let l = Layout::new(w, h, 32, 3);
            for (id, r) in l.nodes() {
                assert_eq!(l.hit(r.center()), Some(id), "centre of {id} on {w}x{h}");
            }
            assert_eq!(l.hit(Point { x: -50.0, y: -50.0 }), None);
        }
        let l = Layout::new(1280.0, 560.0, 3, 2);
        let gap = Point { x: (l.clients.right() + l.lb.x) / 2.0, y: l.height - 2.0 };
        assert_eq!(l.hit(gap), None);
    }

    /// The course's designs as machines: (components, framed) per machine.
    fn three_server() -> Vec<(Vec<NodeId>, bool)> {
        vec![
            (vec![NodeId::Lb(0)], true),
            (vec![NodeId::Web(0), NodeId::App(0), NodeId::Db(0)], true),
            (vec![NodeId::Web(1), NodeId::App(1), NodeId::Db(1)], true),
        ]
    }

    fn scale_up() -> Vec<(Vec<NodeId>, bool)> {
        let one = |n: NodeId| (vec![n], true);
        vec![
            one(NodeId::Lb(0)),
            one(NodeId::Lb(1)),
            one(NodeId::Web(0)),
            one(NodeId::Web(1)),
            one(NodeId::App(0)),
            one(NodeId::App(1)),
            one(NodeId::Db(0)),
            one(NodeId::Db(1)),
        ]
    }

    /// The largest design: two balancers, 128 web and application servers two per machine,
    /// and the database nodes, on 64 listed machines plus derived ones for the rest.
    fn largest() -> Vec<(Vec<NodeId>, bool)> {
        let mut m = vec![(vec![NodeId::Lb(0)], true), (vec![NodeId::Lb(1)], true)];
        for i in 0..128u16 {
            m.push((vec![NodeId::Web(i), NodeId::App(i)], i < 60));
        }
        m.extend((0..5u8).map(|n| (vec![NodeId::Db(n)], true)));
        m
    }

    /// Every chip of every machine lies inside its machine's box (below its label when
    /// framed), no two machines overlap, and everything stays on the canvas.
    fn machines_hold_their_chips(l: &Layout, machines: &[(Vec<NodeId>, bool)]) {
        assert_eq!(l.machines.len(), machines.len());
        for (b, (nodes, framed)) in l.machines.iter().zip(machines) {
            assert_eq!(b.framed, *framed);
            let inner_top = b.rect.y + b.header - 0.01;
            for &n in nodes {
                let chip = l.rect(n).unwrap_or_else(|| panic!("{n} has no chip"));
                assert!(
                    chip.x >= b.rect.x - 0.01
                        && chip.right() <= b.rect.right() + 0.01
                        && chip.y >= inner_top
                        && chip.bottom() <= b.rect.bottom() + 0.01,
                    "{n} {chip:?} is not inside its machine {:?} on {}x{}",
                    b.rect,
                    l.width,
                    l.height
                );
            }
        }
        for (i, a) in l.machines.iter().enumerate() {
            for b in &l.machines[i + 1..] {
                assert!(!a.rect.intersects(&b.rect), "machines {:?} and {:?} overlap", a.rect, b.rect);
            }
            assert!(!a.rect.intersects(&l.clients) && !a.rect.intersects(&l.dns), "{:?} covers clients or DNS", a.rect);
        }
        all_inside(l);
        no_overlaps(l);
    }

    #[test]
    fn machines_are_boxes_around_their_components() {
        for (w, h) in SIZES.into_iter().chain([(1280.0, 800.0)]) {
            for design in [three_server(), scale_up(), largest()] {
                let l = Layout::for_machines(w, h, &design);
                machines_hold_their_chips(&l, &design);
            }
        }
    }

    #[test]
    fn three_server_reads_as_three_servers_in_tiers() {
        let l = Layout::for_machines(1280.0, 800.0, &three_server());
        let [balancer, server1, server2] = [0, 1, 2].map(|i| l.machines[i].rect);
        // The balancer's machine is left of both servers, which share the next column.
        assert!(balancer.right() < server1.x && balancer.right() < server2.x);
        assert!((server1.x - server2.x).abs() < 1e-6);
        // A server's components are stacked in it, Nginx on top, MySQL at the bottom.
        let (web, app, db) = (l.web[0], l.app[0], l.db[0]);
        assert!(web.bottom() <= app.y && app.bottom() <= db.y);
        assert_eq!(l.web_detail, Detail::Full);
        assert!(l.machines.iter().all(|m| m.header == MACHINE_HEADER), "every server is labelled");
        // On a phone the tiers run down the screen and a server's chips sit side by side.
        let p = Layout::for_machines(390.0, 844.0, &three_server());
        assert!(p.machines[0].rect.bottom() < p.machines[1].rect.y);
        assert!(p.web[0].right() <= p.app[0].x && (p.web[0].y - p.app[0].y).abs() < 1e-6);
    }

    #[test]
    fn one_machine_and_no_balancer_draws_no_balancer() {
        let simple = vec![(vec![NodeId::Web(0), NodeId::App(0), NodeId::Db(0)], true)];
        for (w, h) in SIZES {
            let l = Layout::for_machines(w, h, &simple);
            assert!(!l.has_lb && l.rect(NodeId::Lb(0)).is_none());
            assert!(l.nodes().all(|(id, _)| !matches!(id, NodeId::Lb(_))));
            machines_hold_their_chips(&l, &simple);
            assert_eq!(l.hit(l.app[0].center()), Some(NodeId::App(0)));
        }
    }

    #[test]
    fn scale_up_has_a_column_per_tier() {
        let l = Layout::for_machines(1280.0, 800.0, &scale_up());
        let x = |i: usize| l.machines[i].rect.x;
        assert!((x(0) - x(1)).abs() < 1e-6, "balancers share a column");
        assert!(x(1) < x(2) && x(3) < x(4) && x(5) < x(6), "balancers, web, application, database left to right");
        assert!(l.lb2.is_some());
    }

    #[test]
    fn load_average_follows_the_load_smoothly() {
        let mut avg = LoadAverageForTest::default();
        assert_eq!(avg.update(0, 0, 2), 0.0, "no load before a second sample");
        // Two cores fully busy for 0.1 s: the average moves part of the way, not all of it.
        let first = avg.update(100_000, 200_000, 2);
        assert!(first > 0.1 && first < 0.3, "{first}");
        let mut last = first;
        for k in 2..=40u64 {
            last = avg.update(k * 100_000, k as u128 * 200_000, 2);
        }
        assert!((last - 1.0).abs() < 0.01, "{last}");
        // Idle from then on: it falls back toward 0 without ever going below it.
        let idle = avg.update(4_100_000, 40 * 200_000, 2);
        assert!(idle < last && idle > 0.5, "{idle}");
        assert_eq!(avg.update(0, 0, 2), 0.0, "a replay from the start begins again");
    }

    #[test]
    fn degenerate_sizes_do_not_panic() {
        for (w, h) in [(0.0, 0.0), (f64::NAN, 300.0), (10_000.0, 50.0), (50.0, 10_000.0)] {
            let l = Layout::new(w, h, 128, 5);
            assert_eq!(l.web.len(), 128);
            assert!(l.nodes().all(|(_, r)| r.x.is_finite() && r.y.is_finite() && r.w.is_finite() && r.h.is_finite()));
        }
    }
}
