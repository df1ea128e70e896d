//! Reading commands out of parsed JSON by hand.
//!
//! serde's derived `Deserialize` for the command enum was the largest function in the page
//! (its `visit_enum` alone about 20 KB of WebAssembly). The commands are read from a
//! `serde_json::Value` by one small match instead.

use serde_json::Value;

/// A value read from one JSON leaf; the error says what was expected and what was found.
pub(crate) trait FromJson: Sized {
    fn from_json(v: &Value) -> Result<Self, String>;
}

/// What kind of JSON value `v` is, in words.
pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn expected(what: &str, v: &Value) -> String {
    format!("expected {what}, found {}", kind_of(v))
}

/// A whole number from 0 to `max`.
fn whole(v: &Value, max: u64) -> Result<u64, String> {
    match v.as_u64() {
        Some(n) if n <= max => Ok(n),
        _ => Err(match v {
            Value::Number(n) => format!("{n} is not allowed: expected a whole number from 0 to {max}"),
            _ => expected("a whole number", v),
        }),
    }
}

impl FromJson for f64 {
    fn from_json(v: &Value) -> Result<f64, String> {
        v.as_f64().ok_or_else(|| expected("a number", v))
    }
}

impl FromJson for u64 {
    fn from_json(v: &Value) -> Result<u64, String> {
        whole(v, u64::MAX)
    }
}

impl FromJson for u32 {
    fn from_json(v: &Value) -> Result<u32, String> {
        whole(v, u32::MAX as u64).map(|n| n as u32)
    }
}

impl FromJson for u16 {
    fn from_json(v: &Value) -> Result<u16, String> {
        whole(v, u16::MAX as u64).map(|n| n as u16)
    }
}

impl FromJson for bool {
    fn from_json(v: &Value) -> Result<bool, String> {
        v.as_bool().ok_or_else(|| expected("true or false", v))
    }
}

impl FromJson for String {
    fn from_json(v: &Value) -> Result<String, String> {
        v.as_str().map(str::to_string).ok_or_else(|| expected("a string", v))
    }
}

/// The index in `names` of the string `v`, or what is allowed.
pub(crate) fn name_index(v: &Value, names: &[&str]) -> Result<usize, String> {
    let Value::String(text) = v else {
        return Err(format!("{}; allowed: {}", expected("a string", v), names.join(", ")));
    };
    names.iter().position(|n| n == text).ok_or_else(|| format!("unknown value '{text}'; allowed: {}", names.join(", ")))
}

/// `FromJson` for an enum with `ALL` and `name()`: read by name.
macro_rules! named_from_json {
    ($($ty:ty),*) => {$(
        impl $crate::scenario::json::FromJson for $ty {
            fn from_json(v: &serde_json::Value) -> Result<$ty, String> {
                $crate::scenario::json::name_index(v, &<$ty>::ALL.map(<$ty>::name)).map(|i| <$ty>::ALL[i])
            }
        }
    )*};
}
pub(crate) use named_from_json;
