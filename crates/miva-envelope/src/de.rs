//! Lenient readers for the loose types the API sends: booleans as `true` or
//! `1`, counts as numbers or digit strings, dates as `n` or `{"time_t": n}`.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A boolean sent as `true`/`false`, `1`/`0` or `"1"`/`"0"`.
pub(crate) struct FlexBool(pub(crate) bool);

impl<'de> Deserialize<'de> for FlexBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = FlexBool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean, 0/1 or \"0\"/\"1\"")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<FlexBool, E> {
                Ok(FlexBool(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<FlexBool, E> {
                Ok(FlexBool(v != 0))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<FlexBool, E> {
                Ok(FlexBool(v != 0))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<FlexBool, E> {
                Ok(FlexBool(v != 0.0))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FlexBool, E> {
                match v.trim() {
                    "1" | "true" | "TRUE" | "True" => Ok(FlexBool(true)),
                    "0" | "false" | "FALSE" | "False" | "" => Ok(FlexBool(false)),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `Option<bool>` read leniently (for `#[serde(with)]`).
pub(crate) mod opt_bool {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        Ok(Option::<FlexBool>::deserialize(d)?.map(|b| b.0))
    }

    pub(crate) fn serialize<S: Serializer>(v: &Option<bool>, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }
}

/// The methods every lenient `Option` visitor shares: `null` and a missing
/// value are `None`; anything else goes to the visitor's own methods.
macro_rules! absent_or_any {
    () => {
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(self)
        }
    };
}

/// `Option<i64>` read from an integer, an integral float or a digit string
/// (for `#[serde(with)]`); an empty string reads as absent.
pub(crate) mod opt_i64 {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<i64>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer or a digit string")
            }
            absent_or_any!();
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Some(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                i64::try_from(v)
                    .map(Some)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 {
                    #[allow(clippy::cast_possible_truncation)]
                    Ok(Some(v as i64))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Some(i64::from(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                let t = v.trim();
                if t.is_empty() {
                    return Ok(None);
                }
                t.parse()
                    .map(Some)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_option(V)
    }

    pub(crate) fn serialize<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }
}

/// `Option<f64>` read from a number or a numeric string (for
/// `#[serde(with)]`); an empty string reads as absent.
pub(crate) mod opt_f64 {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<f64>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a numeric string")
            }
            absent_or_any!();
            #[allow(clippy::cast_precision_loss)]
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Some(v as f64))
            }
            #[allow(clippy::cast_precision_loss)]
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Some(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Some(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                let t = v.trim();
                if t.is_empty() {
                    return Ok(None);
                }
                match t.parse::<f64>() {
                    Ok(n) if n.is_finite() => Ok(Some(n)),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_option(V)
    }

    pub(crate) fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }
}

/// `Option<String>` read from a string, or from a number or boolean as its
/// JSON text (stores send codes such as `123` as numbers at times).
pub(crate) mod opt_string {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<String>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            absent_or_any!();
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Some(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Some(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Some(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Some(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Some(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Some(v.to_string()))
            }
        }
        d.deserialize_option(V)
    }

    pub(crate) fn serialize<S: Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }
}

/// `Option<Timestamp>` that also reads an empty string as absent (for
/// `#[serde(with)]`).
pub(crate) mod opt_timestamp {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Timestamp>, D::Error> {
        match Option::<serde_json::Value>::deserialize(d)? {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(v) => Timestamp::deserialize(v)
                .map(Some)
                .map_err(de::Error::custom),
        }
    }

    pub(crate) fn serialize<S: Serializer>(v: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }
}

/// `Option<Map>` for a JSON object that may also arrive empty as `[]` or
/// `""` (read as an empty object and as absent), for `#[serde(with)]`.
pub(crate) mod opt_map {
    use super::*;
    use serde_json::{Map, Value};

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Map<String, Value>>, D::Error> {
        match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(Value::Array(items)) if items.is_empty() => Ok(Some(Map::new())),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(other) => Err(de::Error::invalid_type(
                unexpected(&other),
                &"an object (or [] or \"\" when empty)",
            )),
        }
    }

    fn unexpected(v: &Value) -> de::Unexpected<'_> {
        match v {
            Value::Bool(b) => de::Unexpected::Bool(*b),
            Value::Number(_) => de::Unexpected::Other("a number"),
            Value::String(s) => de::Unexpected::Str(s),
            Value::Array(_) => de::Unexpected::Seq,
            _ => de::Unexpected::Other("a value"),
        }
    }

    pub(crate) fn serialize<S: Serializer>(
        v: &Option<Map<String, Value>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }
}

/// A non-negative count sent as a number or a digit string.
pub(crate) struct FlexU64(pub(crate) u64);

impl<'de> Deserialize<'de> for FlexU64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = FlexU64;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative integer")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<FlexU64, E> {
                Ok(FlexU64(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<FlexU64, E> {
                u64::try_from(v)
                    .map(FlexU64)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FlexU64, E> {
                v.trim()
                    .parse()
                    .map(FlexU64)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// A Unix time in seconds, read from `n`, `"n"` or `{"time_t": n}` and
/// written as `n`.
///
/// ```
/// use miva_envelope::Timestamp;
///
/// let a: Timestamp = serde_json::from_str("1700000000")?;
/// let b: Timestamp = serde_json::from_str(r#"{"time_t": 1700000000}"#)?;
/// assert_eq!(a, b);
/// assert_eq!(a.unix_seconds(), 1_700_000_000);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Seconds since the Unix epoch.
    pub fn unix_seconds(self) -> i64 {
        self.0
    }

    /// As a [`std::time::SystemTime`].
    pub fn to_system_time(self) -> std::time::SystemTime {
        let magnitude = std::time::Duration::from_secs(self.0.unsigned_abs());
        if self.0 >= 0 {
            std::time::UNIX_EPOCH + magnitude
        } else {
            std::time::UNIX_EPOCH - magnitude
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("Unix seconds as an integer or {\"time_t\": integer}")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                Ok(Timestamp(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                i64::try_from(v)
                    .map(Timestamp)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
                if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 {
                    #[allow(clippy::cast_possible_truncation)]
                    Ok(Timestamp(v as i64))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                v.trim()
                    .parse()
                    .map(Timestamp)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Timestamp, A::Error> {
                let mut found = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "time_t" {
                        found = Some(map.next_value::<Timestamp>()?);
                    } else {
                        map.next_value::<de::IgnoredAny>()?;
                    }
                }
                found.ok_or_else(|| de::Error::missing_field("time_t"))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_both_shapes_and_bad_ones_refused() {
        // Both shapes: wire-facts.md, "Responses".
        for text in [
            "5",
            "\"5\"",
            r#"{"time_t":5}"#,
            r#"{"x":1,"time_t":"5"}"#,
            "5.0",
        ] {
            assert_eq!(
                serde_json::from_str::<Timestamp>(text).unwrap(),
                Timestamp(5),
                "{text}"
            );
        }
        for bad in ["\"soon\"", "{}", "true", "5.5", "18446744073709551615"] {
            assert!(serde_json::from_str::<Timestamp>(bad).is_err(), "{bad}");
        }
        assert_eq!(serde_json::to_string(&Timestamp(-3)).unwrap(), "-3");
    }

    #[derive(Deserialize, PartialEq, Debug, Default)]
    struct LooseDates {
        #[serde(default, with = "opt_timestamp")]
        t: Option<Timestamp>,
        #[serde(default, with = "opt_map")]
        m: Option<serde_json::Map<String, serde_json::Value>>,
    }

    #[test]
    fn empty_dates_and_objects() {
        let empty: LooseDates = serde_json::from_str(r#"{"t":"","m":""}"#).unwrap();
        assert_eq!(empty, LooseDates::default());
        let filled: LooseDates = serde_json::from_str(r#"{"t":{"time_t":5},"m":[]}"#).unwrap();
        assert_eq!(filled.t, Some(Timestamp(5)));
        assert_eq!(filled.m, Some(serde_json::Map::new()));
        for bad in [r#"{"t":"soon"}"#, r#"{"m":[1]}"#, r#"{"m":3}"#] {
            assert!(serde_json::from_str::<LooseDates>(bad).is_err(), "{bad}");
        }
    }

    #[derive(Deserialize, PartialEq, Debug)]
    struct Loose {
        #[serde(default, with = "opt_i64")]
        i: Option<i64>,
        #[serde(default, with = "opt_f64")]
        f: Option<f64>,
        #[serde(default, with = "opt_string")]
        s: Option<String>,
    }

    #[test]
    fn loose_numbers_and_strings() {
        // Numbers as strings and codes as numbers: wire-facts.md, "Responses"
        // ("success arrives as a bool or as 0/1") generalised to every field.
        let loose: Loose = serde_json::from_str(r#"{"i":"42","f":"9.50","s":123}"#).unwrap();
        assert_eq!(
            loose,
            Loose {
                i: Some(42),
                f: Some(9.5),
                s: Some("123".into())
            }
        );
        let loose: Loose = serde_json::from_str(r#"{"i":7.0,"f":3,"s":"x"}"#).unwrap();
        assert_eq!(
            loose,
            Loose {
                i: Some(7),
                f: Some(3.0),
                s: Some("x".into())
            }
        );
        let empty: Loose = serde_json::from_str(r#"{"i":null,"f":"","s":null}"#).unwrap();
        assert_eq!(
            empty,
            Loose {
                i: None,
                f: None,
                s: None
            }
        );
        assert_eq!(serde_json::from_str::<Loose>("{}").unwrap(), empty);
        for bad in [
            r#"{"i":"4x"}"#,
            r#"{"i":4.5}"#,
            r#"{"f":"NaN"}"#,
            r#"{"f":"cheap"}"#,
            r#"{"s":[1]}"#,
        ] {
            assert!(serde_json::from_str::<Loose>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn booleans_as_bools_or_numbers() {
        for (text, want) in [
            ("true", true),
            ("1", true),
            ("\"1\"", true),
            ("0", false),
            ("false", false),
        ] {
            assert_eq!(
                serde_json::from_str::<FlexBool>(text).unwrap().0,
                want,
                "{text}"
            );
        }
        assert!(serde_json::from_str::<FlexBool>("\"yes\"").is_err());
    }
}
