//! Time travel: rebuild a run at any simulated time from its seed + scenario + command log.
//!
//! The model cannot run backwards and is not cloned, so going back to time `t` means starting
//! again: `Sim::new(scenario)`, then for each logged command with `at_us <= t`, run the model up
//! to the command's time and apply it through a [`Driver`] (exactly as the page did live, so the
//! driver's pause and speed come back too), then run on to `t`. The model is deterministic, so
//! the rebuilt run is the same run: the same trace and the same metrics.
//!
//! [`Recording`] is what the page's timeline scrubber holds. Its rule for the future:
//! - While the user scrubs (the model paused at a rebuilt time, no new input), the commands after
//!   that time are kept, so scrubbing forward again replays them: back and forth land on the same
//!   states.
//! - As soon as the run continues from a scrubbed time (the clock moves on, or a new command is
//!   given), the run has branched: the old future is dropped and the recording follows the new
//!   run from there, like typing after an undo.
//!
//! One limit, by design of the log: a command records only its time, so a command given when
//! the clock reads `t` is replayed after every event at `t`. That is how the page applies input
//! (between frames, after `run_until(t)`), so page runs replay exactly; only an input given
//! between two events of the very same microsecond while single-stepping could replay a hair
//! differently.

use super::command::Command;
use super::driver::Driver;
use super::engine::{Sim, TraceConfig};
use super::time::SimTime;
use crate::scenario::Scenario;

/// A logged command the model refused when replayed: which one, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayError {
    /// Index in the command log.
    pub index: usize,
    pub message: String,
}

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "command {}: {}", self.index + 1, self.message)
    }
}

/// The run of `scenario` with the commands of `log` up to `until`, stopped at `until`.
pub fn rebuild(
    scenario: &Scenario,
    log: &[Command],
    until: SimTime,
    trace: TraceConfig,
) -> Result<Driver, ReplayError> {
    let mut driver = Driver::new(Sim::new(scenario.clone(), trace));
    for (index, command) in log.iter().enumerate() {
        if command.at_us > until {
            break;
        }
        if command.at_us > driver.sim.now() {
            driver.sim.run_until(command.at_us, u64::MAX);
        }
        driver.command(command.what.clone()).map_err(|message| ReplayError { index, message })?;
    }
    driver.sim.run_until(until, u64::MAX);
    Ok(driver)
}

/// [`rebuild`], keeping only the model.
pub fn rebuild_sim(
    scenario: &Scenario,
    log: &[Command],
    until: SimTime,
    trace: TraceConfig,
) -> Result<Sim, ReplayError> {
    rebuild(scenario, log, until, trace).map(|d| d.sim)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Scrub {
    /// The time the run was rebuilt at.
    at: SimTime,
    /// Commands in the rebuilt model's log (including any the page added while scrubbing, such
    /// as a pause).
    commands: usize,
}

/// A run as the timeline knows it: where it started, every input, and how far it has been.
#[derive(Clone, Debug)]
pub struct Recording {
    /// The scenario the run started from (before any command).
    pub scenario: Scenario,
    /// Every input, in time order, including those after a scrubbed-to time.
    pub log: Vec<Command>,
    /// The furthest simulated time the run has reached: the end of the timeline.
    pub horizon: SimTime,
    scrub: Option<Scrub>,
    last_now: SimTime,
}

impl Recording {
    /// A recording of a run that starts now from `scenario`.
    pub fn new(scenario: Scenario) -> Recording {
        Recording { scenario, log: Vec::new(), horizon: 0, scrub: None, last_now: 0 }
    }

    /// A recording of an existing run (for a run loaded from a link: scenario, log and time).
    pub fn of(scenario: Scenario, sim: &Sim) -> Recording {
        let mut r = Recording::new(scenario);
        r.log = sim.commands().to_vec();
        r.horizon = sim.now();
        r.last_now = sim.now();
        r
    }

    /// The time the run was scrubbed to, while it waits there.
    pub fn scrubbed(&self) -> Option<SimTime> {
        self.scrub.map(|s| s.at)
    }

    /// Follow the live run (call it often, e.g. ten times a second). Returns true when the run
    /// branched off a scrubbed time (its recorded future is dropped) or was restarted from
    /// scratch by someone else (the recording starts over from the model's scenario).
    pub fn observe(&mut self, sim: &Sim) -> bool {
        let now = sim.now();
        let commands = sim.commands();
        let reference = self.scrub.map_or(self.last_now, |s| s.at);
        let restarted =
            now < reference || commands.len() < self.scrub.map_or(self.log.len(), |s| s.commands).min(self.log.len());
        if restarted {
            // Someone started the run again (a preset, a restart): follow the new one, from the
            // scenario it started with (commands given since then are in its log).
            *self = Recording::new(sim.initial_scenario().clone());
            self.log = commands.to_vec();
            self.horizon = now;
            self.last_now = now;
            return true;
        }
        self.last_now = now;
        match self.scrub {
            Some(s) if now == s.at && commands.len() == s.commands => false,
            Some(_) => {
                self.log = commands.to_vec();
                self.horizon = now;
                self.scrub = None;
                true
            }
            None => {
                if commands.len() != self.log.len() {
                    self.log = commands.to_vec();
                }
                self.horizon = self.horizon.max(now);
                false
            }
        }
    }

    /// Rebuild the run at `t` (at most the horizon). The recording keeps the future until the
    /// run continues from there.
    pub fn seek(&mut self, t: SimTime, trace: TraceConfig) -> Result<Driver, ReplayError> {
        let t = t.min(self.horizon);
        let driver = rebuild(&self.scenario, &self.log, t, trace)?;
        self.scrub = Some(Scrub { at: t, commands: driver.sim.commands().len() });
        self.last_now = t;
        Ok(driver)
    }

    /// The page added inputs to the rebuilt model while scrubbing (a pause, so the rebuilt
    /// moment holds still): they do not count as continuing.
    pub fn settle(&mut self, sim: &Sim) {
        if let Some(s) = self.scrub.as_mut() {
            s.commands = sim.commands().len();
            s.at = sim.now();
        }
    }
}
