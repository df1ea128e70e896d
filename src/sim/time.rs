//! Virtual time: an integer count of microseconds since the run started. Integer time makes
//! event order exact and identical on every target.

/// Simulated time in microseconds.
pub type SimTime = u64;

pub const US_PER_MS: u64 = 1_000;
pub const US_PER_S: u64 = 1_000_000;

/// Longest duration the model represents (about 31 years): keeps time arithmetic far from overflow.
pub const MAX_DURATION_US: SimTime = 1_000_000_000_000_000;

/// Milliseconds (may be fractional) to simulated time, rounded to the nearest microsecond.
/// NaN and negative values give 0; huge values are capped. (Hot path: no libm call.)
#[inline]
pub fn from_ms(ms: f64) -> SimTime {
    let us = ms * US_PER_MS as f64;
    if us > 0.0 {
        // Through i64 (the value is below 2^63): x86-64 converts to signed in one instruction,
        // to unsigned only with a compare-and-adjust sequence.
        (us + 0.5).min(MAX_DURATION_US as f64) as i64 as SimTime
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_rounds_and_guards() {
        assert_eq!(from_ms(1.0), 1_000);
        assert_eq!(from_ms(0.0004), 0);
        assert_eq!(from_ms(0.0006), 1);
        assert_eq!(from_ms(2.5e-3), 3);
        assert_eq!(from_ms(-5.0), 0);
        assert_eq!(from_ms(f64::NAN), 0);
        assert_eq!(from_ms(f64::INFINITY), MAX_DURATION_US);
        assert_eq!(from_s(1.5), 1_500_000);
    }
}
