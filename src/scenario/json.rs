//! Reading scenarios and commands out of parsed JSON by hand.
//!
//! serde's derived `Deserialize` stops at the first error and does not say where it was, and its
//! generated visitors were the largest code in the page (about 60 KB of WebAssembly for the
//! scenario structs and the command enum). Here one small routine per shape walks a
//! `serde_json::Value`, fills in what is valid, keeps the default for what is not, and reports
//! every problem with its path.

use super::Problem;
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

/// Fill `self` from a JSON value, reporting every problem under `path` and keeping the current
/// (default) value wherever the JSON is wrong.
pub(crate) trait Fill {
    fn fill(&mut self, v: &Value, path: &str, problems: &mut Vec<Problem>);
}

pub(crate) fn problem(problems: &mut Vec<Problem>, path: &str, message: String) {
    problems.push(Problem { path: if path.is_empty() { "(file)".into() } else { path.into() }, message });
}

/// `Fill` for leaves: replace the value, or report why not.
macro_rules! fill_leaf {
    ($($ty:ty),*) => {$(
        impl $crate::scenario::json::Fill for $ty {
            fn fill(&mut self, v: &serde_json::Value, path: &str, problems: &mut Vec<$crate::scenario::Problem>) {
                match <$ty as $crate::scenario::json::FromJson>::from_json(v) {
                    Ok(x) => *self = x,
                    Err(message) => $crate::scenario::json::problem(problems, path, message),
                }
            }
        }
    )*};
}
pub(crate) use fill_leaf;

fill_leaf!(f64, u64, u32, bool, String);

/// Fills one known field: (key, value, path, problems).
pub(crate) type FieldFiller<'a> = dyn FnMut(&str, &Value, &str, &mut Vec<Problem>) + 'a;

/// Fill the fields of an object: `field(key, value, path)` for every known key, a problem for
/// every other key.
pub(crate) fn fill_object(v: &Value, path: &str, known: &[&str], problems: &mut Vec<Problem>, field: &mut FieldFiller) {
    let Value::Object(map) = v else {
        return problem(problems, path, expected("an object", v));
    };
    for (key, child) in map {
        let child_path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
        if known.contains(&key.as_str()) {
            field(key, child, &child_path, problems);
        } else {
            problem(problems, &child_path, format!("unknown field; allowed: {}", known.join(", ")));
        }
    }
}

/// `Fill` for a struct whose fields all implement `Fill`: every field optional, unknown fields
/// refused.
macro_rules! fill_struct {
    ($ty:ty { $($field:ident),* $(,)? }) => {
        impl $crate::scenario::json::Fill for $ty {
            fn fill(&mut self, v: &serde_json::Value, path: &str, problems: &mut Vec<$crate::scenario::Problem>) {
                // Fails to compile when the list misses a field of the struct.
                let Self { $($field: _),* } = self;
                $crate::scenario::json::fill_object(v, path, &[$(stringify!($field)),*], problems, &mut |key, v, path, problems| match key {
                    $(stringify!($field) => self.$field.fill(v, path, problems),)*
                    _ => {}
                })
            }
        }
    };
}
pub(crate) use fill_struct;
