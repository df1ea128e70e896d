//! Cancellation for scheduled events. The event heap cannot take an event back, so an event
//! carries a token and is dropped when it arrives stale: `handle` (the one place that drops
//! stale events) asks the owner's [`Timer`] or [`Generation`] whether the token is current.
//!
//! - [`Timer`]: something that will happen unless re-armed or cancelled first (a check, an
//!   advert, a timeout). Arming hands out a fresh token; re-arming or cancelling makes every
//!   earlier one stale. A periodic timer re-schedules itself with the same token.
//! - [`Stopwatch`] (below) is not a canceller: it adds up how long a condition held.
//! - [`Generation`]: a life, not a timer (a database node between crashes, a primary's binlog,
//!   a failure rate's setting). Events made during one life are stale in the next.

/// A cancellable timer: `arm` → token carried by the event, `is_current(token)` on arrival.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Timer {
    token: u32,
    armed: bool,
}

impl Timer {
    /// Arm (or re-arm) the timer: the returned token is the only current one.
    pub(crate) fn arm(&mut self) -> u32 {
        self.token = self.token.wrapping_add(1);
        self.armed = true;
        self.token
    }

    /// Cancel: every token handed out so far is stale.
    pub(crate) fn cancel(&mut self) {
        self.token = self.token.wrapping_add(1);
        self.armed = false;
    }

    /// No event is expected any more (it fired, or its owner no longer waits for it). An event
    /// already in the heap still arrives with a current token; callers whose events are
    /// harmless when early (the balancer's queue check) rely on that.
    pub(crate) fn disarm(&mut self) {
        self.armed = false;
    }

    pub(crate) fn is_armed(&self) -> bool {
        self.armed
    }

    /// The token of the armed timer (a periodic timer re-schedules itself with it).
    pub(crate) fn token(&self) -> u32 {
        self.token
    }

    /// Whether an event carrying `token` is the one this timer waits for.
    #[inline]
    pub(crate) fn is_current(&self, token: u32) -> bool {
        self.armed && self.token == token
    }
}

/// A life counter: `bump` ends the current life, so events stamped with an older token are
/// stale.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Generation(u32);

impl Generation {
    pub(crate) fn bump(&mut self) {
        self.0 = self.0.wrapping_add(1);
    }

    /// The stamp for events of the current life.
    #[inline]
    pub(crate) fn token(self) -> u32 {
        self.0
    }

    #[inline]
    pub(crate) fn is_current(self, token: u32) -> bool {
        self.0 == token
    }
}

use crate::sim::time::{SimTime, US_PER_S};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_armed_timer_accepts_only_its_latest_token() {
        let mut t = Timer::default();
        assert!(!t.is_armed());
        let first = t.arm();
        assert!(t.is_current(first));
        let second = t.arm();
        assert_ne!(first, second);
        assert!(!t.is_current(first), "re-arming makes the earlier event stale");
        assert!(t.is_current(second));
        assert_eq!(t.token(), second);
    }

    #[test]
    fn cancelling_makes_every_token_stale_and_arming_again_revives_none_of_them() {
        let mut t = Timer::default();
        let a = t.arm();
        t.cancel();
        assert!(!t.is_armed());
        assert!(!t.is_current(a));
        let b = t.arm();
        assert!(!t.is_current(a), "a token from before the cancel stays stale");
        assert!(t.is_current(b));
    }

    #[test]
    fn disarming_keeps_the_pending_token_but_allows_arming_anew() {
        let mut t = Timer::default();
        let a = t.arm();
        t.disarm();
        assert!(!t.is_armed());
        assert!(!t.is_current(a), "a disarmed timer waits for nothing");
        let b = t.arm();
        assert!(t.is_current(b));
    }

    #[test]
    fn a_generation_bump_ends_the_life_of_older_events() {
        let mut g = Generation::default();
        let life = g.token();
        assert!(g.is_current(life));
        g.bump();
        assert!(!g.is_current(life));
        assert!(g.is_current(g.token()));
        assert!(g.token() > life);
    }
}

/// Time accumulated over intervals: how long two balancers, or two database nodes, were
/// masters at once. One mechanism for both split brains.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Stopwatch {
    since: Option<SimTime>,
    total_us: SimTime,
}

impl Stopwatch {
    /// Open an interval at `now` (an open one restarts there).
    pub(crate) fn start(&mut self, now: SimTime) {
        self.since = Some(now);
    }

    /// Close the open interval, if any, adding it to the total.
    pub(crate) fn stop(&mut self, now: SimTime) {
        if let Some(since) = self.since.take() {
            self.total_us += now - since;
        }
    }

    pub(crate) fn is_running(&self) -> bool {
        self.since.is_some()
    }

    /// Seconds accumulated up to `now`, the open interval included.
    pub(crate) fn seconds(&self, now: SimTime) -> f64 {
        let open = self.since.map_or(0, |since| now - since);
        (self.total_us + open) as f64 / US_PER_S as f64
    }
}

#[cfg(test)]
mod stopwatch_tests {
    use super::Stopwatch;

    #[test]
    fn a_stopwatch_adds_closed_intervals_and_counts_the_open_one() {
        let mut w = Stopwatch::default();
        w.stop(5);
        assert_eq!(w.seconds(10), 0.0, "stopping an idle stopwatch adds nothing");
        w.start(1_000_000);
        assert!(w.is_running());
        w.stop(3_000_000);
        assert!(!w.is_running());
        w.start(4_000_000);
        assert_eq!(w.seconds(4_500_000), 2.5);
    }
}
