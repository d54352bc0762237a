//! Conversions between Python values and shipwarden's: JSON-shaped data
//! (`to_dict()`, configuration dicts), names parsed with their rules, and
//! timestamps as timezone-aware `datetime`s.

use std::str::FromStr;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::Serialize;
use serde_json::Value;

use crate::exceptions::invalid;

/// A JSON value as Python data (dicts, lists, str, int, float, bool, None).
pub fn value_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                PyFloat::new(py, n.as_f64().unwrap_or(f64::NAN)).into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(value_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, value_to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// A JSON value a coroutine resolves with: Python data once handed over.
pub struct Json(pub Value);

impl Json {
    /// Any serializable value, as JSON.
    pub fn of<T: Serialize, E: From<PyErr>>(value: &T) -> Result<Json, E> {
        serde_json::to_value(value).map(Json).map_err(|e| E::from(invalid(format!("cannot convert: {e}"))))
    }
}

impl<'py> IntoPyObject<'py> for Json {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &self.0)
    }
}

/// Refuses a key of `given` (the dict `parsed` was read from) that `parsed`
/// does not keep, naming the keys it does: serde passes over unknown keys, and
/// a typo must not pass (issue #20). `tag` is the key naming the variant
/// (`action`, `kind`). An empty value may be one left out when empty: not judged.
pub fn no_unknown_keys<T: Serialize>(given: &Value, parsed: &T, what: &str, tag: &str) -> PyResult<()> {
    let kept = serde_json::to_value(parsed).map_err(|e| invalid(format!("{what}: {e}")))?;
    let empty = |v: &Value| {
        v.is_null() || v.as_array().is_some_and(Vec::is_empty) || v.as_object().is_some_and(serde_json::Map::is_empty)
    };
    let (Some(given), Some(kept)) = (given.as_object(), kept.as_object()) else { return Ok(()) };
    let unknown: Vec<&str> =
        given.iter().filter(|(k, v)| !kept.contains_key(*k) && !empty(v)).map(|(k, _)| k.as_str()).collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let valid: Vec<&str> = kept.keys().map(String::as_str).collect();
    Err(invalid(format!(
        "{what}: unknown key{} `{}`; `{}` takes {}",
        if unknown.len() > 1 { "s" } else { "" },
        unknown.join("`, `"),
        kept.get(tag).and_then(Value::as_str).unwrap_or(what),
        valid.join(", ")
    )))
}

/// Any serializable value as Python data.
pub fn to_py<'py, T: Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let value = serde_json::to_value(value).map_err(|e| invalid(format!("cannot convert: {e}")))?;
    value_to_py(py, &value)
}

/// How deep Python data may nest: deeper is refused (a cycle, or data no
/// configuration or proof needs) before the stack could overflow.
const MAX_DEPTH: usize = 64;

/// Python data (dict, list, tuple, str, int, float, bool, None) as a JSON value.
pub fn py_to_value(obj: &Bound<'_, PyAny>, path: &str) -> PyResult<Value> {
    to_value_at(obj, path, 0)
}

fn to_value_at(obj: &Bound<'_, PyAny>, path: &str, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(invalid(format!("{path}: nested more than {MAX_DEPTH} levels deep (does it contain itself?)")));
    }
    if obj.is_none() {
        Ok(Value::Null)
    } else if let Ok(b) = obj.cast::<PyBool>() {
        Ok(Value::Bool(b.is_true()))
    } else if obj.is_instance_of::<PyInt>() {
        match (obj.extract::<i64>(), obj.extract::<u64>()) {
            (Ok(i), _) => Ok(Value::from(i)),
            (_, Ok(u)) => Ok(Value::from(u)),
            _ => Err(invalid(format!("{path}: {} is too large a number", obj.repr_str()))),
        }
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        serde_json::Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| invalid(format!("{path}: {} is not a finite number", f.value())))
    } else if let Ok(s) = obj.cast::<PyString>() {
        Ok(Value::String(s.to_str()?.to_owned()))
    } else if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = serde_json::Map::new();
        for (k, v) in d.iter() {
            let key: String =
                k.extract().map_err(|_| invalid(format!("{path}: keys must be strings, found {}", k.repr_str())))?;
            let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            map.insert(key, to_value_at(&v, &child, depth + 1)?);
        }
        Ok(Value::Object(map))
    } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for (i, v) in obj.try_iter()?.enumerate() {
            items.push(to_value_at(&v?, &format!("{path}[{i}]"), depth + 1)?);
        }
        Ok(Value::Array(items))
    } else if let Ok(p) = obj.extract::<std::path::PathBuf>() {
        Ok(Value::String(p.to_string_lossy().into_owned()))
    } else {
        Err(invalid(format!("{path}: cannot use a {} here", obj.get_type().name()?)))
    }
}

trait ReprStr {
    fn repr_str(&self) -> String;
}

impl ReprStr for Bound<'_, PyAny> {
    fn repr_str(&self) -> String {
        self.repr().map(|r| r.to_string()).unwrap_or_else(|_| "?".into())
    }
}

/// Parses `text` with the type's rules; a bad value is an `InvalidInputError`.
pub fn parse<T>(text: &str) -> PyResult<T>
where
    T: FromStr<Err = shipwarden::ParseError>,
{
    text.parse().map_err(|e: shipwarden::ParseError| invalid(e))
}

/// A timestamp as an aware `datetime` in UTC.
pub fn timestamp_to_py<'py>(py: Python<'py>, at: jiff::Timestamp) -> PyResult<Bound<'py, PyAny>> {
    let datetime = py.import("datetime")?;
    let utc = datetime.getattr("timezone")?.getattr("utc")?;
    let seconds = at.as_second() as f64 + f64::from(at.subsec_nanosecond()) / 1e9;
    datetime.getattr("datetime")?.call_method1("fromtimestamp", (seconds, utc))
}

/// A timestamp from an aware `datetime` or an RFC 3339 string.
pub fn py_to_timestamp(obj: &Bound<'_, PyAny>) -> PyResult<jiff::Timestamp> {
    if let Ok(text) = obj.extract::<String>() {
        return text.parse().map_err(|e| invalid(format!("`{text}` is not an RFC 3339 time: {e}")));
    }
    if obj.hasattr("tzinfo")? && obj.hasattr("timestamp")? {
        if obj.getattr("tzinfo")?.is_none() {
            return Err(invalid("a naive datetime is ambiguous: give it a tzinfo (datetime.timezone.utc)"));
        }
        let seconds: f64 = obj.call_method0("timestamp")?.extract()?;
        let nanos = (seconds * 1e9).round() as i128;
        return jiff::Timestamp::from_nanosecond(nanos).map_err(invalid);
    }
    Err(invalid("expected an aware datetime or an RFC 3339 string"))
}
