//! Virtual time: an integer count of microseconds since the run started. Integer time makes
//! event order exact and identical on every target.

/// Simulated time in microseconds.
pub type SimTime = u64;

pub const US_PER_MS: u64 = 1_000;
pub const US_PER_S: u64 = 1_000_000;

/// Milliseconds (may be fractional) to simulated time, rounded to the nearest microsecond.
pub fn from_ms(ms: f64) -> SimTime {
    if ms.is_finite() && ms > 0.0 {
        (ms * US_PER_MS as f64).round() as SimTime
    } else {
        0
    }
}

/// Seconds to simulated time.
pub fn from_s(s: f64) -> SimTime {
    from_ms(s * 1_000.0)
}

pub fn to_ms(t: SimTime) -> f64 {
    t as f64 / US_PER_MS as f64
}

pub fn to_s(t: SimTime) -> f64 {
    t as f64 / US_PER_S as f64
}
