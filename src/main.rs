//! One binary, two faces: in the browser it starts the page; natively it is the batch runner.

#[cfg(not(target_arch = "wasm32"))]
mod cli;

fn main() {
    #[cfg(target_arch = "wasm32")]
    infrasim::ui::start();
    #[cfg(not(target_arch = "wasm32"))]
    std::process::exit(cli::main());
}
