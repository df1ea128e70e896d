//! Every byte the runner prints goes through a fallible writer, so a closed or full output is
//! an exit code, never a panic: a reader that went away (`infrasim show --keys | head -1`, a
//! closed pipe) ends the command quietly with 0, as `ls | head` does; any other write error
//! (`> /dev/full`) exits 1 with one line on stderr.
//!
//! Rust ignores SIGPIPE, so a closed pipe arrives here as an `EPIPE` error rather than killing
//! the process; that is what lets the runner tell the two cases apart.

use std::io::{self, Write};

/// Exit code when the output could not be written (bad input is 2, success 0).
pub const WRITE_FAILED: i32 = 1;

/// A command's outcome: its exit code, or the write error that stopped it.
pub type Outcome = io::Result<i32>;

/// Run `command` with a buffered stdout, flush it, and turn a write error into its exit code.
pub fn run_with_stdout(command: impl FnOnce(&mut dyn Write) -> Outcome) -> i32 {
    let mut out = io::BufWriter::new(io::stdout().lock());
    let outcome = command(&mut out).and_then(|code| out.flush().map(|()| code));
    exit_code(outcome)
}

/// The exit code of an outcome: a closed reader is a normal end (0).
pub fn exit_code(outcome: Outcome) -> i32 {
    match outcome {
        Ok(code) => code,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            warn(format_args!("cannot write the output: {e}"));
            WRITE_FAILED
        }
    }
}

/// One line on stderr, `infrasim: …`. A stderr that cannot be written is ignored: there is
/// nowhere left to say so, and a panic would only replace one failure with another.
pub fn warn(message: impl std::fmt::Display) {
    let _ = writeln!(io::stderr().lock(), "infrasim: {message}");
}
