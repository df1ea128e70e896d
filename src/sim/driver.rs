//! Turns wall-clock time into simulated time. Pure: the caller passes the wall-clock delta, so
//! pause, speed and the per-frame event cap are tested natively like the rest of the model.

use super::command::{Command, CommandKind};
use super::engine::Sim;
use super::time::SimTime;

/// Longest wall-clock gap honoured in one frame: a tab returning from the background resumes
/// instead of jumping minutes ahead.
pub const MAX_FRAME_WALL_MS: f64 = 250.0;

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FrameReport {
    pub events: u64,
    /// False when the event cap stopped the frame short: the model is slower than real time.
    pub kept_up: bool,
}

pub struct Driver {
    pub sim: Sim,
    paused: bool,
    /// Simulated seconds per wall second.
    speed: f64,
    /// Most events processed in one frame, so a frame never freezes the page.
    pub max_events_per_frame: u64,
}

impl Driver {
    pub fn new(sim: Sim) -> Driver {
        Driver { sim, paused: false, speed: 1.0, max_events_per_frame: 200_000 }
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Apply a user input now. Every input goes to the model's command log, including pause
    /// and speed, so a recorded session replays as it was lived.
    pub fn command(&mut self, what: CommandKind) -> Result<(), String> {
        what.check(crate::scenario::MAX_WEB_SERVERS)?;
        match what {
            CommandKind::Pause => self.paused = true,
            CommandKind::Resume => self.paused = false,
            CommandKind::SetSpeed { factor } => self.speed = factor,
            _ => {}
        }
        self.sim.apply(Command { at_us: self.sim.now(), what })
    }

    /// Advance by a frame's wall-clock time.
    pub fn advance(&mut self, wall_dt_ms: f64) -> FrameReport {
        if self.paused || !wall_dt_ms.is_finite() || wall_dt_ms <= 0.0 {
            return FrameReport { events: 0, kept_up: true };
        }
        let dt_us = (wall_dt_ms.min(MAX_FRAME_WALL_MS) * 1_000.0 * self.speed).round() as SimTime;
        let before = self.sim.events_processed();
        let target = self.sim.now() + dt_us;
        let kept_up = self.sim.run_until(target, self.max_events_per_frame);
        FrameReport { events: self.sim.events_processed() - before, kept_up }
    }

    /// Process exactly one event (the "step" button), paused or not.
    pub fn step_event(&mut self) -> bool {
        self.sim.step()
    }
}
