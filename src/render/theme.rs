//! Colours and sizes of the canvas drawing. Kept apart from the drawing code so tests (and the
//! page's legend in styles/main.css, which uses the same values) agree on them.

/// Canvas background, as RGB (tests compare pixels against it).
pub const BACKGROUND_RGB: [u8; 3] = [0x0b, 0x12, 0x20];
pub const BACKGROUND: &str = "#0b1220";

pub const BOX_FILL: &str = "#131d33";
pub const BOX_FILL_DIM: &str = "#0f1729";
pub const TEXT: &str = "#e2e8f0";
pub const TEXT_MUTED: &str = "#94a3b8";
pub const TEXT_WARN: &str = "#fbbf24";

pub const LINK: &str = "#334155";
pub const LINK_FAINT: &str = "#1e293b";

pub const CLIENTS: &str = "#94a3b8";
pub const DNS: &str = "#a78bfa";
pub const LB: &str = "#22d3ee";
pub const WEB: &str = "#4ade80";
/// An application server chip.
pub const APP: &str = "#a3e635";
/// A machine's frame and fill: quieter than the components it holds.
pub const MACHINE: &str = "#64748b";
pub const MACHINE_FILL: &str = "#0e1628";
pub const DB_PRIMARY: &str = "#f472b6";
pub const DB_REPLICA: &str = "#fb923c";
pub const REPLICATION: &str = "#f472b6";
pub const FIREWALL: &str = "#f97316";
/// Outline of the node the user picked.
pub const SELECTED: &str = "#fde047";
/// Outside probes (port scans, login attempts) aimed past the balancer.
pub const PROBE: &str = "#e879f9";

/// Particles: reads, writes and errors differ in shape as well as colour.
pub const READ: &str = "#38bdf8";
pub const WRITE: &str = "#fbbf24";
pub const ERROR: &str = "#f87171";

pub const FONT_TITLE: &str = "600 13px system-ui, -apple-system, 'Segoe UI', sans-serif";
pub const FONT_SMALL: &str = "11px system-ui, -apple-system, 'Segoe UI', sans-serif";
pub const FONT_TINY: &str = "9px system-ui, -apple-system, 'Segoe UI', sans-serif";

/// Colour of a load level (0 idle → 1 saturated): green, then amber, then red.
pub fn load_colour(level: f64) -> &'static str {
    if level >= 0.999 {
        "#f87171"
    } else if level >= 0.75 {
        "#fbbf24"
    } else {
        "#4ade80"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn background_constants_agree() {
        let hex = format!("#{:02x}{:02x}{:02x}", BACKGROUND_RGB[0], BACKGROUND_RGB[1], BACKGROUND_RGB[2]);
        assert_eq!(hex, BACKGROUND);
    }

    #[test]
    fn load_colours_step_up() {
        assert_eq!(load_colour(0.0), WEB);
        assert_eq!(load_colour(0.8), WRITE);
        assert_eq!(load_colour(1.0), ERROR);
    }
}
