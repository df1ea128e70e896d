//! Portable randomness: one seed, one ChaCha8 stream per subsystem. ChaCha gives the same bits
//! on wasm32 and x86_64, and `libm` gives the same `ln`/`exp`, so a trace replays anywhere.
//! Separate streams mean that, say, changing the balancer's random draws does not shift the
//! arrival times: two designs compared side by side see identical traffic. Random failures and
//! health-check phases have one stream per node, so adding a web server leaves every other
//! node's failure times and check times unchanged.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::node::NodeId;

/// Which subsystem a stream belongs to; the value is the ChaCha stream number.
#[derive(Clone, Copy, Debug)]
pub enum Stream {
    /// Arrival times, client ids, read/write mix and each request's intrinsic work.
    Arrivals = 1,
    /// Random choices of the balancer (`random` algorithm).
    Routing = 2,
    /// Phases of the design-wide periodic checks (the failover manager's).
    Phases = 3,
    /// Outside probes (the firewall lesson).
    Security = 4,
    /// Random failures and repairs of one node (`node_stream` adds the node's number).
    NodeFailures = 5,
    /// The phase of one server's health checks (`node_stream` adds the server's number).
    NodeHealthPhase = 6,
    /// Random failures and repairs of one listed machine (`machine_stream` adds its index).
    MachineFailures = 7,
}

pub struct Rngs {
    seed: u64,
    pub arrivals: ChaCha8Rng,
    pub routing: ChaCha8Rng,
    pub phases: ChaCha8Rng,
    pub security: ChaCha8Rng,
}

fn stream(seed: u64, which: Stream) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(which as u64);
    rng
}

impl Rngs {
    pub fn new(seed: u64) -> Rngs {
        Rngs {
            seed,
            arrivals: stream(seed, Stream::Arrivals),
            routing: stream(seed, Stream::Routing),
            phases: stream(seed, Stream::Phases),
            security: stream(seed, Stream::Security),
        }
    }

    /// The failure stream of the listed machine at `index`: its own numbers whatever else the
    /// design has.
    pub fn machine_stream(&self, index: usize) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(((Stream::MachineFailures as u64) << 32) | index as u64);
        rng
    }

    /// The stream of one node for one purpose (`which` is `NodeFailures` or `NodeHealthPhase`):
    /// its own numbers whatever other nodes the design has.
    pub fn node_stream(&self, which: Stream, node: NodeId) -> ChaCha8Rng {
        let number = match node {
            NodeId::Clients => 0,
            NodeId::Dns => 1,
            NodeId::Lb(k) => 0x1_0000 + k as u64,
            NodeId::Web(i) => 0x2_0000 + i as u64,
            NodeId::Db(n) => 0x3_0000 + n as u64,
            NodeId::App(i) => 0x4_0000 + i as u64,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(((which as u64) << 32) | number);
        rng
    }
}

/// A uniform number in [0, 1).
pub fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    rng.random::<f64>()
}

/// An exponential variate with the given mean, from a uniform `u` in [0, 1).
pub fn exponential_from(u: f64, mean: f64) -> f64 {
    -mean * libm::log(1.0 - u)
}

/// Inverse of the standard normal CDF (Acklam's rational approximation, relative error
/// below 1.2e-9), so one uniform number gives one normal variate deterministically.
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] =
        [7.784_695_709_041_462e-3, 3.224_671_290_700_398e-1, 2.445_134_137_142_996, 3.754_408_661_907_416];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let low = 0.024_25;
    if p < low {
        let q = libm::sqrt(-2.0 * libm::log(p));
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = libm::sqrt(-2.0 * libm::log(1.0 - p));
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    }
}

/// A log-normal variate with the given mean and coefficient of variation, from uniform `u`.
pub fn lognormal_from(u: f64, mean: f64, cv: f64) -> f64 {
    let sigma2 = libm::log(1.0 + cv * cv);
    let mu = libm::log(mean) - sigma2 / 2.0;
    libm::exp(mu + libm::sqrt(sigma2) * normal_quantile(u))
}

/// A fixed 64-bit mix (SplitMix64 finaliser): the `source` algorithm's hash of a client id.
pub fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantile_matches_known_points() {
        assert!((normal_quantile(0.5)).abs() < 1e-9);
        assert!((normal_quantile(0.975) - 1.959_963_985).abs() < 1e-6);
        assert!((normal_quantile(0.01) + 2.326_347_874).abs() < 1e-6);
    }

    #[test]
    fn lognormal_has_the_requested_mean_and_cv() {
        let mut rng = stream(7, Stream::Arrivals);
        let n = 400_000;
        let (mean, cv) = (20.0, 1.5);
        let xs: Vec<f64> = (0..n).map(|_| lognormal_from(uniform(&mut rng), mean, cv)).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n as f64;
        assert!((m - mean).abs() / mean < 0.02, "mean {m}");
        assert!((var.sqrt() / m - cv).abs() / cv < 0.08, "cv {}", var.sqrt() / m);
    }

    #[test]
    fn streams_differ_and_repeat() {
        let a1: Vec<u64> = (0..4).map(|_| stream(1, Stream::Arrivals).random()).collect();
        let a2: Vec<u64> = (0..4).map(|_| stream(1, Stream::Arrivals).random()).collect();
        let r: u64 = stream(1, Stream::Routing).random();
        assert_eq!(a1, a2);
        assert_ne!(a1[0], r);
        let rngs = Rngs::new(1);
        let web1: u64 = rngs.node_stream(Stream::NodeFailures, NodeId::Web(0)).random();
        let web2: u64 = rngs.node_stream(Stream::NodeFailures, NodeId::Web(1)).random();
        let web1_phase: u64 = rngs.node_stream(Stream::NodeHealthPhase, NodeId::Web(0)).random();
        assert_ne!(web1, web2);
        assert_ne!(web1, web1_phase);
        assert_eq!(web1, rngs.node_stream(Stream::NodeFailures, NodeId::Web(0)).random::<u64>());
    }
}
