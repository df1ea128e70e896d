//! Drawing the model. `layout` is pure geometry (native-testable); `canvas` draws a `View`
//! onto a 2D canvas and exists only in the browser build.

pub mod layout;

#[cfg(target_arch = "wasm32")]
pub mod canvas;
