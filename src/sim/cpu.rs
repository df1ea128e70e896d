//! A machine's cores shared by the pieces of CPU work running on it (processor sharing).
//!
//! With `n` jobs on `c` cores every job progresses at the same rate `r(n) = min(1, c/n)` core-µs
//! per µs, as an operating system's scheduler gives in the fluid limit. Because the rate is the
//! same for all jobs, the state is kept in *virtual time* `V(t) = ∫ r dt`: a job added when the
//! virtual time is `V_s` with `w` µs of work finishes when `V` reaches its tag `V_s + w`. The
//! next completion is the smallest tag, at wall time `now + (tag − V) / r`. Every operation is
//! O(log n) (a binary heap and a table by slot), never a pass over the jobs.
//!
//! # Arithmetic and rounding
//! Virtual time is an integer in fixed point, `2^-32` µs per unit (`u128`), not an `f64`: the
//! same bits on every target, and exact while there is no contention.
//! - Advancing by `dt` µs adds `floor(dt · 2^32 · c / n)` units; while `n ≤ c` that is exactly
//!   `dt · 2^32`, so a job that never shares a core finishes at exactly `start + work_us`.
//!   Use [`work_us_from_ms`] to turn a drawn service time in ms into `work_us`: it is the rounding
//!   the engine applies to service times today (`time::from_ms`, to the nearest µs), so a
//!   component alone on a machine with enough cores keeps today's event times bit for bit.
//! - Under contention a completion is scheduled at the first whole µs at which `V ≥ tag`
//!   (`ceil`), so a job leaves less than 1 µs late. A job within 2^-12 µs of work of its tag
//!   counts as done, so the floors above never push a fluid finish that falls on a whole µs to
//!   the next one. Only the scheduled event time is rounded: `V`
//!   itself is carried exactly (up to the `2^-32` µs floor per advance, ~10^-10 µs per event) and
//!   each tag is absolute, so rounding one completion never moves another job's tag and errors do
//!   not add up from job to job. The one lasting effect: while a finished job waits for its whole
//!   µs it still holds its share, so the others lose less than 1 core·µs per completion (below
//!   10^-4 of the capacity at 100 completions per second; tested below).
//!
//! # Limits
//! At most [`MAX_JOBS_PER_CPU`] jobs at once (above the engine's bound on live requests, so a
//! machine can hold all of them); work is capped at [`MAX_DURATION_US`]. With these bounds no
//! intermediate product overflows `u128` (largest: remaining work 2^83 units × n 2^20).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::marker::PhantomData;

use super::time::{from_ms, SimTime, MAX_DURATION_US};

/// Most jobs one machine runs at once; `add` beyond it returns [`CpuError::TooManyJobs`].
pub const MAX_JOBS_PER_CPU: usize = 1 << 20;

/// Fixed-point fraction of virtual time: 32 bits below the µs.
const FRACTION_BITS: u32 = 32;
const ONE_US: u128 = 1 << FRACTION_BITS;
/// A job within 2^-12 µs of work of its tag is finished. Each advance floors the virtual time
/// by less than one unit (2^-32 µs), so a job whose fluid finish falls exactly on a whole µs
/// (rates like 2/3 make that common) would otherwise be found a few units short there and
/// announced 1 µs late; the slack covers a million advances in one job's life.
const DONE_SLACK: u128 = 1 << 20;

/// A drawn service time (ms, may be fractional) as the whole µs of work the engine schedules:
/// rounded to the nearest µs, NaN and negatives give 0 (exactly `time::from_ms`).
pub fn work_us_from_ms(ms: f64) -> SimTime {
    from_ms(ms)
}

/// Why a CPU refused an operation (a bad setting or a model limit; never a panic).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CpuError {
    /// `add` would put more than [`MAX_JOBS_PER_CPU`] jobs on the machine.
    TooManyJobs { limit: usize },
    /// `add` with a key that is already running.
    DuplicateKey,
    /// A machine needs at least one core; the number typed is kept for the message.
    NoCores { typed: u32 },
}

impl fmt::Display for CpuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CpuError::TooManyJobs { limit } => write!(f, "more than {limit} pieces of work on one machine"),
            CpuError::DuplicateKey => write!(f, "this piece of work is already running on the machine"),
            CpuError::NoCores { typed } => write!(f, "cores must be at least 1 (got {typed})"),
        }
    }
}

impl std::error::Error for CpuError {}

/// The cores of one machine and the jobs on them. `K` names a job by a small slot number
/// (`u32`, dense from 0, below [`MAX_JOBS_PER_CPU`]): the engine reuses freed slots, so the
/// table of jobs by slot stays as small as the most jobs run at once. A binary heap orders the
/// jobs by finish tag (smaller code than an ordered map, which matters for the page's
/// download); a cancelled job leaves its heap entry behind, dropped when it reaches the top.
#[derive(Clone, Debug)]
pub struct Cpu<K: Copy + Into<u32> + From<u32> = u32> {
    cores: u32,
    /// Virtual time at `last`, in 2^-32 µs.
    virtual_time: u128,
    last: SimTime,
    /// Jobs by (finish tag, insertion number, slot), smallest first: equal tags finish in
    /// insertion order. May hold entries of cancelled jobs (never at the top).
    by_tag: BinaryHeap<Reverse<(u128, u64, u32)>>,
    /// Each slot's running job as (tag, insertion number); `None`: free.
    by_key: Vec<Option<(u128, u64)>>,
    /// Jobs running now (`by_tag` may be longer).
    jobs: usize,
    inserted: u64,
    /// Busy core·µs up to `last`: ∫ min(n, c) dt.
    busy_core_us: u128,
    key: PhantomData<K>,
}

impl<K: Copy + Into<u32> + From<u32>> Cpu<K> {
    /// An idle machine with `cores` cores at time 0.
    pub fn new(cores: u32) -> Result<Cpu<K>, CpuError> {
        check_cores(cores)?;
        Ok(Cpu {
            cores,
            virtual_time: 0,
            last: 0,
            by_tag: BinaryHeap::new(),
            by_key: Vec::new(),
            jobs: 0,
            inserted: 0,
            busy_core_us: 0,
            key: PhantomData,
        })
    }

    pub fn cores(&self) -> u32 {
        self.cores
    }

    /// Jobs on the machine now (running or sharing a core).
    pub fn running(&self) -> usize {
        self.jobs
    }

    pub fn is_running(&self, key: K) -> bool {
        self.by_key.get(key.into() as usize).is_some_and(Option::is_some)
    }

    /// Start a job of `work_us` µs of one core's work at `now`.
    pub fn add(&mut self, now: SimTime, work_us: SimTime, key: K) -> Result<(), CpuError> {
        let slot = key.into();
        if self.is_running(key) {
            return Err(CpuError::DuplicateKey);
        }
        if self.jobs >= MAX_JOBS_PER_CPU || slot as usize >= MAX_JOBS_PER_CPU {
            return Err(CpuError::TooManyJobs { limit: MAX_JOBS_PER_CPU });
        }
        self.advance(now);
        let tag = self.virtual_time + u128::from(work_us.min(MAX_DURATION_US)) * ONE_US;
        let id = (tag, self.inserted);
        self.inserted += 1;
        if self.by_key.len() <= slot as usize {
            self.by_key.resize(slot as usize + 1, None);
        }
        self.by_key[slot as usize] = Some(id);
        self.by_tag.push(Reverse((id.0, id.1, slot)));
        self.jobs += 1;
        Ok(())
    }

    /// Cancel a job (its machine died, its request timed out). Returns whether it was running.
    pub fn remove(&mut self, now: SimTime, key: K) -> bool {
        self.advance(now);
        match self.by_key.get_mut(key.into() as usize).and_then(Option::take) {
            Some(_) => {
                self.jobs -= 1;
                self.drop_cancelled();
                true
            }
            None => false,
        }
    }

    /// Pop heap entries of cancelled jobs off the top, so the top is a running job; and when
    /// cancelled entries outnumber running jobs, rebuild the heap (its size stays bounded).
    fn drop_cancelled(&mut self) {
        while let Some(&Reverse((tag, seq, slot))) = self.by_tag.peek() {
            if self.by_key.get(slot as usize).copied().flatten() == Some((tag, seq)) {
                break;
            }
            self.by_tag.pop();
        }
        if self.by_tag.len() > 2 * self.jobs + 64 {
            let by_key = &self.by_key;
            self.by_tag.retain(|&Reverse((tag, seq, slot))| by_key[slot as usize] == Some((tag, seq)));
        }
    }

    /// The next job to finish and the whole µs at which it does, if nothing changes meanwhile.
    /// Any `add`, `remove`, `set_cores` or `complete` changes it: ask again after each one.
    pub fn next_completion(&self, now: SimTime) -> Option<(SimTime, K)> {
        let &Reverse((tag, _, slot)) = self.by_tag.peek()?;
        let now = now.max(self.last);
        let remaining = tag.saturating_sub(self.virtual_time_at(now));
        let wall_us = self.wall_us_for(remaining);
        Some((now.saturating_add(wall_us), K::from(slot)))
    }

    /// Take the next finished job at `now`, if one is finished (its tag reached). Call until
    /// `None`: jobs with equal tags finish together, in the order they were added.
    pub fn complete(&mut self, now: SimTime) -> Option<K> {
        self.advance(now);
        let &Reverse((tag, _, slot)) = self.by_tag.peek()?;
        if tag > self.virtual_time + DONE_SLACK {
            return None;
        }
        self.by_tag.pop();
        self.by_key[slot as usize] = None;
        self.jobs -= 1;
        self.drop_cancelled();
        Some(K::from(slot))
    }

    /// Change the number of cores at `now` (a bigger machine, `--set machines.cores=N`): work
    /// done so far is kept, the rest goes at the new rate.
    pub fn set_cores(&mut self, now: SimTime, cores: u32) -> Result<(), CpuError> {
        check_cores(cores)?;
        self.advance(now);
        self.cores = cores;
        Ok(())
    }

    /// Busy core·µs since the start, up to `now` (utilisation = its growth / (cores · elapsed)).
    pub fn busy_core_us(&self, now: SimTime) -> u128 {
        let now = now.max(self.last);
        self.busy_core_us + self.busy_cores() * u128::from(now - self.last)
    }

    fn busy_cores(&self) -> u128 {
        (self.jobs as u128).min(u128::from(self.cores))
    }

    /// Bring the virtual time and the busy time to `now` (earlier times are taken as `last`:
    /// time never runs backwards here).
    fn advance(&mut self, now: SimTime) {
        if now <= self.last {
            return;
        }
        self.virtual_time = self.virtual_time_at(now);
        self.busy_core_us = self.busy_core_us(now);
        self.last = now;
    }

    fn virtual_time_at(&self, now: SimTime) -> u128 {
        let dt = u128::from(now.saturating_sub(self.last));
        let (n, c) = (self.jobs as u128, u128::from(self.cores));
        if n <= c {
            self.virtual_time + dt * ONE_US
        } else {
            self.virtual_time + dt * ONE_US * c / n
        }
    }

    /// Whole µs until `remaining` units of virtual time have passed at the present rate: the
    /// first µs at which the job is done (`ceil`), so `complete` then finds it finished.
    fn wall_us_for(&self, remaining: u128) -> SimTime {
        let remaining = remaining.saturating_sub(DONE_SLACK);
        let (n, c) = (self.jobs as u128, u128::from(self.cores));
        let units = if n <= c { remaining } else { (remaining * n).div_ceil(c) };
        SimTime::try_from(units.div_ceil(ONE_US)).unwrap_or(SimTime::MAX)
    }
}

fn check_cores(cores: u32) -> Result<(), CpuError> {
    if cores == 0 {
        Err(CpuError::NoCores { typed: cores })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run every job to the end with no further arrivals; (key, completion µs) in finishing order.
    fn drain(cpu: &mut Cpu<u32>) -> Vec<(u32, SimTime)> {
        let mut done = Vec::new();
        while let Some((t, key)) = cpu.next_completion(0) {
            assert_eq!(cpu.complete(t), Some(key), "the announced job is finished at its time");
            done.push((key, t));
        }
        done
    }

    #[test]
    fn two_jobs_on_one_core_take_twice_as_long() {
        let mut cpu = Cpu::new(1).unwrap();
        cpu.add(1_000, 5_000, 1).unwrap();
        cpu.add(1_000, 5_000, 2).unwrap();
        assert_eq!(drain(&mut cpu), vec![(1, 11_000), (2, 11_000)]);
        assert_eq!(cpu.busy_core_us(11_000), 10_000, "one core busy for 10 ms");
    }

    #[test]
    fn a_short_job_leaves_and_the_long_one_speeds_up() {
        // Both at rate 1/2 until the short one (2 ms) is done at 4 ms; the long one has 2 ms of
        // its 4 ms left, alone at rate 1: done at 6 ms.
        let mut cpu = Cpu::new(1).unwrap();
        cpu.add(0, 4_000, 1).unwrap();
        cpu.add(0, 2_000, 2).unwrap();
        assert_eq!(drain(&mut cpu), vec![(2, 4_000), (1, 6_000)]);
    }

    #[test]
    fn enough_cores_give_start_plus_work_exactly() {
        let mut cpu = Cpu::new(3).unwrap();
        let jobs = [(10, 1_234_567), (11, 7), (12, 999_999_999), (13, 0)];
        for (i, &(start, work)) in jobs.iter().enumerate().take(3) {
            cpu.add(start, work, i as u32).unwrap();
        }
        let mut done = drain(&mut cpu);
        done.sort();
        assert_eq!(done, vec![(0, 10 + 1_234_567), (1, 11 + 7), (2, 12 + 999_999_999)]);
        assert_eq!(work_us_from_ms(1.2345), 1_235, "rounded to the nearest µs like service times");
        assert_eq!(work_us_from_ms(f64::NAN), 0);
    }

    #[test]
    fn exact_again_after_a_period_of_contention() {
        // Three jobs on one core leave the virtual time fractional; a job added when the
        // machine is free again must still finish at exactly start + work.
        let mut cpu = Cpu::new(1).unwrap();
        for key in 0..3 {
            cpu.add(0, 1_000 + key as u64, key).unwrap();
        }
        drain(&mut cpu);
        cpu.add(10_000, 333, 9).unwrap();
        assert_eq!(cpu.next_completion(10_000), Some((10_333, 9)));
    }

    #[test]
    fn cancelled_job_frees_its_share() {
        let mut cpu = Cpu::new(1).unwrap();
        cpu.add(0, 4_000, 1).unwrap();
        cpu.add(0, 4_000, 2).unwrap();
        // At 2 ms each has done 1 ms; job 2 is cancelled, job 1 finishes its 3 ms alone.
        assert!(cpu.remove(2_000, 2));
        assert!(!cpu.remove(2_000, 2), "a second cancel finds nothing");
        assert_eq!(cpu.next_completion(2_000), Some((5_000, 1)));
        assert_eq!(drain(&mut cpu), vec![(1, 5_000)]);
        assert!(!cpu.is_running(1));
    }

    #[test]
    fn more_cores_mid_job_speed_the_rest_up() {
        let mut cpu = Cpu::new(1).unwrap();
        for key in 0..4 {
            cpu.add(0, 4_000, key).unwrap();
        }
        // Rate 1/4 for 8 ms: 2 ms done each. Then 2 cores: rate 1/2, 2 ms left → 4 ms more.
        cpu.set_cores(8_000, 2).unwrap();
        let done = drain(&mut cpu);
        assert_eq!(done.iter().map(|&(k, _)| k).collect::<Vec<_>>(), vec![0, 1, 2, 3], "ties by insertion order");
        assert!(done.iter().all(|&(_, t)| t == 12_000), "{done:?}");
        assert_eq!(cpu.busy_core_us(12_000), 16_000, "16 ms of work done in all");
        assert_eq!(cpu.set_cores(12_000, 0), Err(CpuError::NoCores { typed: 0 }));
    }

    #[test]
    fn ties_finish_in_insertion_order() {
        let mut cpu = Cpu::new(2).unwrap();
        for key in [5, 3, 9, 1] {
            cpu.add(0, 3_000, key).unwrap();
        }
        let order: Vec<u32> = drain(&mut cpu).into_iter().map(|(k, _)| k).collect();
        assert_eq!(order, vec![5, 3, 9, 1]);
    }

    #[test]
    fn rounding_under_contention_is_less_than_one_microsecond_late() {
        // Three jobs of 1 µs on one core: the fluid answer is 3 µs for all.
        let mut cpu = Cpu::new(1).unwrap();
        for key in 0..3 {
            cpu.add(0, 1, key).unwrap();
        }
        assert!(drain(&mut cpu).iter().all(|&(_, t)| t == 3));
        // Seven jobs of 1 000 µs on 3 cores: 7 000 / 3 = 2 333.3 µs, announced at 2 334.
        let mut cpu = Cpu::new(3).unwrap();
        for key in 0..7 {
            cpu.add(0, 1_000, key).unwrap();
        }
        assert!(drain(&mut cpu).iter().all(|&(_, t)| t == 2_334));
    }

    #[test]
    fn rounding_costs_a_long_job_less_than_one_microsecond_per_completion() {
        // A long job shares 2 cores with 1 000 pairs of 1 µs jobs, one pair after the other.
        // Fluid: each pair takes 1.5 µs at rate 2/3, the long job gains 1.5 µs per 2 µs round;
        // here each pair leaves at its whole µs, so the long job ends later, but by less than
        // 1 µs per completion (2 000) and not earlier than the fluid answer.
        let mut cpu = Cpu::new(2).unwrap();
        cpu.add(0, 100_000, 0).unwrap();
        let mut now = 0;
        for pair in 0..1_000u32 {
            cpu.add(now, 1, 2 * pair + 1).unwrap();
            cpu.add(now, 1, 2 * pair + 2).unwrap();
            let (t, _) = cpu.next_completion(now).unwrap();
            assert_eq!((cpu.complete(t), cpu.complete(t)), (Some(2 * pair + 1), Some(2 * pair + 2)));
            now = t;
        }
        // 1 000 rounds of 2 µs, 1.5 µs gained in each, then the rest alone at rate 1.
        let fluid_end_us = 1_000 * 2 + (100_000 - 1_000 * 3 / 2);
        let (end, key) = cpu.next_completion(now).unwrap();
        assert_eq!(key, 0);
        assert!(end >= fluid_end_us && end < fluid_end_us + 2_000, "long job ends at {end}, fluid {fluid_end_us}");
    }

    #[test]
    fn a_fluid_finish_on_a_whole_microsecond_is_not_announced_late() {
        // Three jobs of 2 000 µs on 2 cores: rate 2/3, done at exactly 3 000 µs. Many small
        // advances (cancels of nothing) each floor the virtual time; the slack absorbs it.
        let mut cpu = Cpu::new(2).unwrap();
        for key in 0..3 {
            cpu.add(0, 2_000, key).unwrap();
        }
        for now in 1..3_000 {
            cpu.remove(now, 99);
        }
        assert!(drain(&mut cpu).iter().all(|&(_, t)| t == 3_000));
    }

    /// The obvious O(n) machine with the same arithmetic: every job's remaining work in the
    /// same fixed point, lowered one by one at every step; the virtual-time one must agree to
    /// the µs and in order.
    struct NaiveCpu {
        cores: u32,
        last: SimTime,
        /// Key and remaining work; below 0 once done, which keeps the finishing order.
        jobs: Vec<(u32, i128)>,
    }

    impl NaiveCpu {
        fn rate_units(&self, dt: SimTime) -> u128 {
            let (n, c) = (self.jobs.len() as u128, u128::from(self.cores));
            if n <= c {
                u128::from(dt) * ONE_US
            } else {
                u128::from(dt) * ONE_US * c / n
            }
        }
        fn advance(&mut self, now: SimTime) {
            if now > self.last {
                let units = self.rate_units(now - self.last) as i128;
                self.jobs.iter_mut().for_each(|(_, r)| *r -= units);
                self.last = now;
            }
        }
        fn next_completion(&self) -> Option<SimTime> {
            let least = self.jobs.iter().map(|&(_, r)| r).min()?.max(0) as u128;
            let least = least.saturating_sub(DONE_SLACK);
            let (n, c) = (self.jobs.len() as u128, u128::from(self.cores));
            let units = if n <= c { least } else { (least * n).div_ceil(c) };
            Some(self.last + units.div_ceil(ONE_US) as SimTime)
        }
        fn complete(&mut self, now: SimTime) -> Vec<u32> {
            self.advance(now);
            let slack = DONE_SLACK as i128;
            let mut done: Vec<(i128, usize, u32)> =
                self.jobs.iter().enumerate().filter(|(_, j)| j.1 <= slack).map(|(i, j)| (j.1, i, j.0)).collect();
            done.sort();
            self.jobs.retain(|j| j.1 > slack);
            done.into_iter().map(|(_, _, key)| key).collect()
        }
    }

    #[test]
    fn virtual_time_agrees_with_per_job_bookkeeping_under_random_adds_cancels_and_core_changes() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let (mut cpu, mut naive) = (Cpu::new(2).unwrap(), NaiveCpu { cores: 2, last: 0, jobs: Vec::new() });
        let (mut fast_done, mut naive_done) = (Vec::new(), Vec::new());
        let (mut now, mut added) = (0, 0u32);
        for _ in 0..20_000 {
            let until = now + rng.random_range(0..800);
            while let Some((t, _)) = cpu.next_completion(0).filter(|&(t, _)| t <= until) {
                fast_done.extend(std::iter::from_fn(|| cpu.complete(t)).map(|k| (k, t)));
            }
            while let Some(t) = naive.next_completion().filter(|&t| t <= until) {
                naive_done.extend(naive.complete(t).into_iter().map(|k| (k, t)));
            }
            now = until;
            naive.advance(now);
            match rng.random_range(0..20) {
                0..16 => {
                    let work_us = rng.random_range(0..1_500);
                    cpu.add(now, work_us, added).unwrap();
                    naive.jobs.push((added, i128::from(work_us) * ONE_US as i128));
                    added += 1;
                }
                16..19 => {
                    let key = rng.random_range(0..added.max(1));
                    assert_eq!(cpu.remove(now, key), naive.jobs.iter().any(|j| j.0 == key), "cancel {key}");
                    naive.jobs.retain(|j| j.0 != key);
                }
                _ => {
                    let cores = rng.random_range(1..5);
                    cpu.set_cores(now, cores).unwrap();
                    naive.cores = cores;
                }
            }
            assert_eq!(cpu.running(), naive.jobs.len());
        }
        assert!(fast_done.len() > 10_000, "only {} jobs finished", fast_done.len());
        let first_difference = fast_done.iter().zip(&naive_done).position(|(a, b)| a != b);
        assert_eq!(
            first_difference,
            None,
            "{:?}",
            first_difference.map(|i| (&fast_done[i..i + 3], &naive_done[i..i + 3]))
        );
        assert_eq!(fast_done.len(), naive_done.len());
    }

    #[test]
    fn limits_are_errors_not_panics() {
        let mut cpu = Cpu::new(1).unwrap();
        cpu.add(0, 10, 7u32).unwrap();
        assert_eq!(cpu.add(0, 10, 7), Err(CpuError::DuplicateKey));
        assert!(matches!(Cpu::<u32>::new(0), Err(CpuError::NoCores { typed: 0 })));
        // Huge work and times saturate instead of overflowing.
        cpu.add(0, SimTime::MAX, 8).unwrap();
        assert_eq!(cpu.complete(SimTime::MAX), Some(7));
        let mut full = Cpu::new(4).unwrap();
        for key in 0..MAX_JOBS_PER_CPU as u32 {
            full.add(0, 1_000, key).unwrap();
        }
        let err = full.add(0, 1_000, u32::MAX).unwrap_err();
        assert_eq!(err, CpuError::TooManyJobs { limit: MAX_JOBS_PER_CPU });
        assert!(err.to_string().contains("1048576"));
        assert_eq!(full.running(), MAX_JOBS_PER_CPU);
    }

    #[test]
    fn cancelled_jobs_leave_a_bounded_number_of_heap_entries_behind() {
        // One long job stays at the top while 10,000 others come and are cancelled: their
        // entries cannot surface, so only the rebuild keeps the heap within its bound.
        let mut cpu = Cpu::<u32>::new(1).unwrap();
        cpu.add(0, 1, 0).unwrap();
        for i in 0..10_000u64 {
            cpu.add(i, 1_000_000, 1).unwrap();
            assert!(cpu.remove(i, 1));
            assert!(cpu.by_tag.len() <= 2 * cpu.running() + 64 + 1, "{} entries", cpu.by_tag.len());
        }
        assert_eq!(cpu.running(), 1);
        assert_eq!(cpu.complete(10_000), Some(0), "the job left still finishes");
    }
}
