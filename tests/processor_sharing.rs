//! The machine's CPU (`sim::cpu`) alone against processor-sharing theory (../shared/reference.md,
//! "Machines"): M/G/1-PS mean response time S/(1−ρ) whatever the service distribution, S_i/(1−ρ)
//! per class with several classes, and exact service times when there are enough cores.
//!
//! A tiny event loop drives the CPU: Poisson arrivals and service times from the project's seeded
//! generators (`sim::rng`), integer µs time as in the engine. Each figure pools 5 seeds of
//! 200 000 jobs (the first 2 000 of each seed discarded as warm-up); the tolerance is 5 % as the
//! issue asks. A first-come-first-served server run through the same loop fails the same check,
//! which shows the check can tell processor sharing from a queue.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::VecDeque;

use infrasim::sim::cpu::{work_us_from_ms, Cpu};
use infrasim::sim::rng::{exponential_from, lognormal_from, uniform};
use infrasim::sim::SimTime;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const TOLERANCE: f64 = 0.05;
const SEEDS: std::ops::Range<u64> = 1..6;
const JOBS_PER_SEED: u64 = 200_000;
const WARMUP_JOBS: u64 = 2_000;
/// A large coefficient of variation: a FIFO queue's mean would be 5 × its M/M/1 mean at CV 3.
const HIGH_CV: f64 = 3.0;

#[derive(Clone, Copy, Debug)]
enum Service {
    Exponential,
    Lognormal { cv: f64 },
}

#[derive(Clone, Copy, Debug)]
struct Class {
    arrival_rate_per_s: f64,
    service_ms: f64,
    service: Service,
}

impl Class {
    fn load(&self) -> f64 {
        self.arrival_rate_per_s * self.service_ms / 1_000.0
    }

    fn draw_work_ms(&self, rng: &mut ChaCha8Rng) -> f64 {
        let u = uniform(rng);
        match self.service {
            Service::Exponential => exponential_from(u, self.service_ms),
            Service::Lognormal { cv } => lognormal_from(u, self.service_ms, cv),
        }
    }
}

/// What the loop needs of a server: the CPU under test, or a FIFO queue to show the check fails.
trait Station {
    fn add(&mut self, now: SimTime, work_us: SimTime, key: u32);
    fn next_completion(&self, now: SimTime) -> Option<SimTime>;
    fn complete(&mut self, now: SimTime) -> Option<u32>;
}

impl Station for Cpu<u32> {
    fn add(&mut self, now: SimTime, work_us: SimTime, key: u32) {
        Cpu::add(self, now, work_us, key).expect("the test stays far below the job bound");
    }
    fn next_completion(&self, now: SimTime) -> Option<SimTime> {
        Cpu::next_completion(self, now).map(|(t, _)| t)
    }
    fn complete(&mut self, now: SimTime) -> Option<u32> {
        Cpu::complete(self, now)
    }
}

/// One server, first come first served: the head of the line has the whole core.
#[derive(Default)]
struct Fifo {
    line: VecDeque<(u32, SimTime)>,
    head_started: SimTime,
}

impl Station for Fifo {
    fn add(&mut self, now: SimTime, work_us: SimTime, key: u32) {
        if self.line.is_empty() {
            self.head_started = now;
        }
        self.line.push_back((key, work_us));
    }
    fn next_completion(&self, _now: SimTime) -> Option<SimTime> {
        self.line.front().map(|&(_, work)| self.head_started + work)
    }
    fn complete(&mut self, now: SimTime) -> Option<u32> {
        if self.next_completion(now)? > now {
            return None;
        }
        let (key, _) = self.line.pop_front()?;
        self.head_started = now;
        Some(key)
    }
}

/// Per class: (sum of response times in µs, jobs counted).
type ClassSums = Vec<(f64, u64)>;

/// Drive `station` with Poisson arrivals of the mixed `classes` until `JOBS_PER_SEED` arrived and
/// all left; response times of the jobs after the warm-up, per class.
fn run(station: &mut dyn Station, classes: &[Class], seed: u64) -> ClassSums {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let total_rate_per_s: f64 = classes.iter().map(|c| c.arrival_rate_per_s).sum();
    let mean_gap_ms = 1_000.0 / total_rate_per_s;
    let mut jobs: Vec<(SimTime, usize)> = Vec::with_capacity(JOBS_PER_SEED as usize);
    let mut sums = vec![(0.0, 0u64); classes.len()];
    let (mut now, mut next_arrival) = (0, work_us_from_ms(exponential_from(uniform(&mut rng), mean_gap_ms)));
    loop {
        let arrivals_left = (jobs.len() as u64) < JOBS_PER_SEED;
        match station.next_completion(now) {
            Some(t) if !arrivals_left || t <= next_arrival => {
                now = t;
                while let Some(key) = station.complete(now) {
                    let (arrived, class) = jobs[key as usize];
                    if u64::from(key) >= WARMUP_JOBS {
                        sums[class].0 += (now - arrived) as f64;
                        sums[class].1 += 1;
                    }
                }
            }
            _ if arrivals_left => {
                now = next_arrival;
                let class = pick_class(classes, total_rate_per_s, uniform(&mut rng));
                let work_us = work_us_from_ms(classes[class].draw_work_ms(&mut rng));
                station.add(now, work_us, jobs.len() as u32);
                jobs.push((now, class));
                next_arrival = now + work_us_from_ms(exponential_from(uniform(&mut rng), mean_gap_ms));
            }
            _ => return sums,
        }
    }
}

fn pick_class(classes: &[Class], total_rate_per_s: f64, u: f64) -> usize {
    let mut threshold = 0.0;
    for (i, c) in classes.iter().enumerate() {
        threshold += c.arrival_rate_per_s / total_rate_per_s;
        if u < threshold {
            return i;
        }
    }
    classes.len() - 1
}

/// Mean response time (ms) of each class, pooled over the seeds.
fn mean_response_ms(make: &dyn Fn() -> Box<dyn Station>, classes: &[Class]) -> Vec<f64> {
    let mut pooled = vec![(0.0, 0u64); classes.len()];
    for seed in SEEDS {
        for (p, s) in pooled.iter_mut().zip(run(make().as_mut(), classes, seed)) {
            p.0 += s.0;
            p.1 += s.1;
        }
    }
    pooled.iter().map(|&(sum_us, n)| sum_us / n as f64 / 1_000.0).collect()
}

fn one_core() -> Box<dyn Station> {
    Box::new(Cpu::<u32>::new(1).unwrap())
}

fn relative_error(measured: f64, expected: f64) -> f64 {
    (measured - expected).abs() / expected
}

fn single_class(load: f64, service: Service) -> Class {
    let service_ms = 10.0;
    Class { arrival_rate_per_s: load * 1_000.0 / service_ms, service_ms, service }
}

#[test]
fn mg1_ps_mean_response_is_insensitive_to_the_service_distribution() {
    for service in [Service::Exponential, Service::Lognormal { cv: HIGH_CV }] {
        for load in [0.5, 0.8] {
            let class = single_class(load, service);
            let expected_ms = class.service_ms / (1.0 - load);
            let measured_ms = mean_response_ms(&one_core, &[class])[0];
            let error = relative_error(measured_ms, expected_ms);
            println!(
                "M/G/1-PS {service:?} ρ={load}: W = {measured_ms:.3} ms, S/(1−ρ) = {expected_ms:.3} ms, error {:.2} %",
                error * 100.0
            );
            assert!(error < TOLERANCE, "{service:?} at ρ={load}: {measured_ms} ms against {expected_ms} ms");
        }
    }
}

#[test]
fn the_insensitivity_check_fails_a_fifo_server() {
    // Same loop, same check, first come first served: the long jobs hold up everyone, so the
    // mean is the Pollaczek–Khinchine one, S + ρS(1 + CV²)/(2(1 − ρ)) = 6 S at ρ = 0.5, not 2 S.
    let class = single_class(0.5, Service::Lognormal { cv: HIGH_CV });
    let ps_expected_ms = class.service_ms / (1.0 - 0.5);
    let measured_ms = mean_response_ms(&|| Box::<Fifo>::default(), &[class])[0];
    let error = relative_error(measured_ms, ps_expected_ms);
    println!(
        "FIFO lognormal CV {HIGH_CV} ρ=0.5: W = {measured_ms:.3} ms against PS {ps_expected_ms:.3} ms: error {:.0} %",
        error * 100.0
    );
    assert!(error > TOLERANCE, "a FIFO server would pass the PS check: {measured_ms} ms");
    let pk_ms = class.service_ms * (1.0 + 0.5 * (1.0 + HIGH_CV * HIGH_CV) / (2.0 * 0.5));
    assert!(relative_error(measured_ms, pk_ms) < 0.25, "FIFO mean {measured_ms} ms, P-K {pk_ms} ms");
}

#[test]
fn two_classes_on_one_core_each_get_their_service_over_one_minus_total_load() {
    // S1 = 2 ms exponential at ρ1 = 0.2, S2 = 10 ms lognormal CV 3 at ρ2 = 0.5: ρ = 0.7.
    let classes = [
        Class { arrival_rate_per_s: 100.0, service_ms: 2.0, service: Service::Exponential },
        Class { arrival_rate_per_s: 50.0, service_ms: 10.0, service: Service::Lognormal { cv: HIGH_CV } },
    ];
    let total_load: f64 = classes.iter().map(Class::load).sum();
    let measured = mean_response_ms(&one_core, &classes);
    for (class, measured_ms) in classes.iter().zip(measured) {
        let expected_ms = class.service_ms / (1.0 - total_load);
        let error = relative_error(measured_ms, expected_ms);
        println!("class S={} ms, ρ_total={total_load:.1}: W = {measured_ms:.3} ms, S_i/(1−ρ) = {expected_ms:.3} ms, error {:.2} %", class.service_ms, error * 100.0);
        assert!(error < TOLERANCE, "class S={}: {measured_ms} ms against {expected_ms} ms", class.service_ms);
    }
}

#[test]
fn two_cores_never_more_than_two_jobs_serve_each_exactly_in_its_work() {
    // A pool of two workers on a two-core machine: an arrival finding both busy is turned away,
    // so n ≤ 2 = c always and every job must take exactly its work, to the µs.
    let mut cpu = Cpu::<u32>::new(2).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (mean_gap_ms, service_ms) = (5.0, 8.0);
    let mut started: Vec<(SimTime, SimTime)> = Vec::new();
    let (mut now, mut next_arrival, mut overlapped) = (0, 0, 0u32);
    while started.len() < 100_000 {
        match cpu.next_completion(now) {
            Some((t, _)) if t <= next_arrival => {
                now = t;
                while let Some(key) = cpu.complete(now) {
                    let (start, work_us) = started[key as usize];
                    assert_eq!(now, start + work_us, "job {key} with {work_us} µs of work");
                }
            }
            _ => {
                now = next_arrival;
                if cpu.running() < 2 {
                    overlapped += u32::from(cpu.running() == 1);
                    let work_us = work_us_from_ms(lognormal_from(uniform(&mut rng), service_ms, HIGH_CV));
                    cpu.add(now, work_us, started.len() as u32).unwrap();
                    started.push((now, work_us));
                }
                next_arrival = now + work_us_from_ms(exponential_from(uniform(&mut rng), mean_gap_ms));
            }
        }
    }
    // The check means something only if the two cores were often both in use.
    assert!(overlapped > 20_000, "only {overlapped} jobs started beside another");
}
