//! Candidate entities and helpers that build their JSON values.

use serde_json::{json, Map, Value};

use super::EntityKind;

/// A proposed entity before overlap resolution.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// Kind of the entity.
    pub kind: EntityKind,
    /// Start code-point offset.
    pub start: usize,
    /// End code-point offset (exclusive).
    pub end: usize,
    /// Normalised value.
    pub value: Value,
}

impl Candidate {
    pub(crate) fn new(kind: EntityKind, start: usize, end: usize, value: Value) -> Self {
        Candidate { kind, start, end, value }
    }
}

/// A number as JSON: an integer when integral (and in range), else a float.
pub(crate) fn num(v: f64) -> Value {
    let r = v.round();
    if (v - r).abs() < 1e-9 && r.abs() < 9.0e15 {
        json!(r as i64)
    } else {
        // round away binary noise such as 0.1 + 0.2
        let v2 = (v * 1e9).round() / 1e9;
        serde_json::Number::from_f64(v2).map(Value::Number).unwrap_or(Value::Null)
    }
}

/// `{"value": v}`.
pub(crate) fn scalar(v: f64) -> Value {
    let mut m = Map::new();
    m.insert("value".into(), num(v));
    Value::Object(m)
}
