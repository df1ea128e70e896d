//! infrasim: a distributed web infrastructure simulated live in the browser.
//!
//! - [`sim`]: the discrete-event model (pure Rust, deterministic, no web crate).
//! - [`scenario`]: scenarios as data: presets, `key=value` settings, JSON with validation.
//! - [`export`]: the design as real configuration files (HAProxy, keepalived, Nginx, MySQL),
//!   and `haproxy.cfg` read back into a scenario.
//! - [`render`]: drawing; its layout geometry is pure and tested natively, the canvas part is
//!   compiled for the browser only.
//! - `ui`: the Yew page (browser only).

pub mod export;
pub mod render;
pub mod scenario;
pub mod sim;

#[cfg(target_arch = "wasm32")]
pub mod ui;
