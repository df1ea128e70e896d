//! Commit times of the binlog positions some replica has not applied yet, which is what a
//! replica's lag is measured from (`Seconds_Behind_Master` is now minus the commit time of the
//! next event to apply).
//!
//! A replica far behind (one applying 0.001 events/s under 1,000 writes/s for a month) would
//! make one entry per write. MariaDB keeps such binlogs on disk; the model keeps at most
//! [`BINLOG_TIMES_CAPACITY`] entries. When full, it drops entries (counted) as long as each
//! remaining gap between kept positions stays within [`BINLOG_GAP_SHARE`] of how far its later
//! end is behind the newest position: a replica fewer than 1 / share positions behind has its
//! exact lag, one further behind has its next event's commit time interpolated between kept
//! neighbours at most that share of its distance apart (exact at a steady write rate). Such
//! gaps need at most about 2 (1 + ln(positions behind / 1024)) / share entries, under three
//! quarters of the capacity up to ~10^12 positions behind; if a pass ever frees less than a
//! quarter, the share doubles (a coarser history, never more memory).

use crate::sim::time::SimTime;
use std::collections::VecDeque;

/// Most commit times kept (16 bytes each: 1 MiB).
pub const BINLOG_TIMES_CAPACITY: usize = 1 << 16;
/// Largest gap between kept positions, as a share of how far behind the newest it is.
pub const BINLOG_GAP_SHARE: f64 = 1.0 / 1024.0;

#[derive(Clone, Debug, Default)]
pub(crate) struct BinlogTimes {
    /// (position, commit time), positions increasing; the newest is always kept.
    kept: VecDeque<(u64, SimTime)>,
    /// Entries dropped by thinning (their commit times are interpolated).
    thinned: u64,
    /// Times a thinning pass freed too little and the allowed gap share doubled.
    coarsened: u32,
}

impl BinlogTimes {
    pub(crate) fn push(&mut self, position: u64, at: SimTime) {
        if self.kept.len() >= BINLOG_TIMES_CAPACITY {
            self.thin();
        }
        self.kept.push_back((position, at));
    }

    /// Drop entries, oldest first, while the gap each leaves stays within the allowed share of
    /// its distance behind the newest; repeat with a doubled share until a quarter is free.
    fn thin(&mut self) {
        let Some(&(newest, _)) = self.kept.back() else { return };
        loop {
            let share = BINLOG_GAP_SHARE * f64::from(1u32 << self.coarsened.min(30));
            let before = self.kept.len();
            let (mut write, mut last) = (1, self.kept[0].0);
            for read in 1..before - 1 {
                let next = self.kept[read + 1].0;
                let allowed = (share * (newest - next + 1) as f64).max(1.0);
                if (next - last) as f64 > allowed {
                    self.kept[write] = self.kept[read];
                    last = self.kept[read].0;
                    write += 1;
                }
            }
            self.kept[write] = self.kept[before - 1];
            self.kept.truncate(write + 1);
            self.thinned += (before - self.kept.len()) as u64;
            if self.kept.len() <= BINLOG_TIMES_CAPACITY * 3 / 4 {
                return;
            }
            self.coarsened += 1;
        }
    }

    /// Forget positions up to `applied` (every replica has applied them), keeping an entry at
    /// or before `applied + 1` while a later one is needed to interpolate it.
    pub(crate) fn trim(&mut self, applied: u64) {
        while let Some(&(first, _)) = self.kept.front() {
            let next_covers = self.kept.get(1).is_none_or(|&(second, _)| second <= applied + 1);
            if first > applied || !next_covers {
                break;
            }
            self.kept.pop_front();
        }
    }

    /// A promotion: positions beyond `kept` never existed on the new primary.
    pub(crate) fn truncate_after(&mut self, kept: u64) {
        while self.kept.back().is_some_and(|&(p, _)| p > kept) {
            self.kept.pop_back();
        }
    }

    /// The commit time of `position`: exact if kept, interpolated between kept neighbours if
    /// thinned, the oldest kept time if older than every entry, `None` if nothing is kept.
    pub(crate) fn commit_time(&self, position: u64) -> Option<SimTime> {
        let &(first, first_at) = self.kept.front()?;
        if position <= first {
            return Some(first_at);
        }
        // Never thinned here (the usual case): the entry is at its offset.
        if let Some(&(p, at)) = self.kept.get((position - first) as usize) {
            if p == position {
                return Some(at);
            }
        }
        let after = self.kept.partition_point(|&(p, _)| p <= position);
        let (p0, t0) = self.kept[after - 1];
        let Some(&(p1, t1)) = self.kept.get(after) else { return Some(t0) };
        if p0 == position {
            return Some(t0);
        }
        let share = (position - p0) as f64 / (p1 - p0) as f64;
        Some(t0 + (share * (t1 - t0) as f64) as SimTime)
    }

    pub(crate) fn len(&self) -> usize {
        self.kept.len()
    }

    pub(crate) fn thinned(&self) -> u64 {
        self.thinned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_the_bound_and_gaps_a_small_share_of_the_distance_behind() {
        let mut b = BinlogTimes::default();
        let n = 20 * BINLOG_TIMES_CAPACITY as u64;
        for p in 1..=n {
            b.push(p, p * 1_000);
            assert!(b.len() <= BINLOG_TIMES_CAPACITY);
        }
        assert!(b.thinned() > 0 && b.coarsened == 0);
        // Steady rate: every position's time is exact, kept or interpolated.
        for p in [1, 2, 777, n / 3, n / 2 + 1, n - 40_000, n - 5, n] {
            assert_eq!(b.commit_time(p), Some(p * 1_000), "position {p}");
        }
        for w in b.kept.iter().collect::<Vec<_>>().windows(2) {
            let (gap, behind) = (w[1].0 - w[0].0, n - w[1].0 + 1);
            assert!(gap as f64 <= (BINLOG_GAP_SHARE * behind as f64).max(1.0), "gap {gap} at {behind} behind");
        }
        b.trim(n / 2);
        assert!(b.kept.front().unwrap().0 <= n / 2 + 1);
        assert_eq!(b.commit_time(n / 2 + 1), Some((n / 2 + 1) * 1_000));
        b.trim(n);
        assert_eq!(b.len(), 0);
    }

    #[test]
    fn irregular_commit_times_are_interpolated_within_the_gap() {
        let mut b = BinlogTimes::default();
        let n = 3 * BINLOG_TIMES_CAPACITY as u64;
        // Bursts: position p commits at p² µs / n, so the rate falls over time.
        let at = |p: u64| p * p / n;
        for p in 1..=n {
            b.push(p, at(p));
        }
        for p in (1..n).step_by(997) {
            let got = b.commit_time(p).unwrap();
            let behind = n - p + 1;
            let slack = (BINLOG_GAP_SHARE * behind as f64).max(1.0) as u64 + 1;
            assert!(got >= at(p.saturating_sub(slack)) && got <= at(p + slack), "position {p}: {got}");
        }
    }
}
