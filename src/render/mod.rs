//! Drawing the model. `layout` (geometry), `format` (words, numbers, slider scales) and `theme`
//! (colours) and `curve_svg` (latency-against-load charts) are pure and tested natively; `canvas` draws a `View` onto a 2D canvas and exists
//! only in the browser build.

pub mod curve_svg;
pub mod facts;
pub mod format;
pub mod layout;
pub mod theme;

#[cfg(target_arch = "wasm32")]
pub mod canvas;
