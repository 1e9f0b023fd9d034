//! Serde helpers that keep JSON numbers as the reference tool wrote and read them.
//!
//! The reference tool is JavaScript, where `4000` and `4000.0` are the same number:
//! its files may hold either spelling for a whole-number field, and it writes a
//! whole float such as a temperature of `1` without a fraction. Plain serde would
//! refuse `4000.0` for an integer field and write `1.0` back; these helpers accept the
//! first and write the second the JavaScript way, so an import/export round trip
//! gives back the numbers it was given.

use serde::de::{self, Deserializer, Visitor};
use serde::ser::{SerializeMap, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// Largest integer a JSON double (and so JavaScript) holds exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A non-negative whole number given as an integer or as a float without fraction.
struct Whole(u64);

impl<'de> serde::Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct WholeVisitor;

        impl Visitor<'_> for WholeVisitor {
            type Value = Whole;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative whole number")
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Whole, E> {
                Ok(Whole(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Whole, E> {
                u64::try_from(v)
                    .map(Whole)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Whole, E> {
                if v.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER).contains(&v) {
                    // Exact: v is a whole number within u64's range.
                    Ok(Whole(v as u64))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }
        }

        deserializer.deserialize_any(WholeVisitor)
    }
}

fn narrow<T: TryFrom<u64>, E: de::Error>(whole: Whole) -> Result<T, E> {
    T::try_from(whole.0).map_err(|_| E::custom(format!("{} is out of range", whole.0)))
}

/// Deserialise a whole number into `T`, accepting `4000.0` for `4000`.
pub(crate) fn whole<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    narrow(<Whole as serde::Deserialize>::deserialize(deserializer)?)
}

/// Like [`whole`], for an optional field (`null` or absent is `None`).
pub(crate) fn opt_whole<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    <Option<Whole> as serde::Deserialize>::deserialize(deserializer)?
        .map(narrow)
        .transpose()
}

fn write_number<S: Serializer>(value: f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.fract() == 0.0 && value.abs() <= MAX_SAFE_INTEGER {
        // Exact: a whole number within ±2^53 converts to i64 without loss.
        serializer.serialize_i64(value as i64)
    } else {
        serializer.serialize_f64(value)
    }
}

/// Serialise a float, writing a whole value without fraction (`1`, not `1.0`).
pub(crate) fn float<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    write_number(*value, serializer)
}

/// [`float`] for an optional field (only called when present).
pub(crate) fn opt_float<S: Serializer>(
    value: &Option<f64>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => write_number(*v, serializer),
        None => serializer.serialize_none(),
    }
}

/// [`float`] for the values of an optional map.
pub(crate) fn opt_float_map<S: Serializer>(
    value: &Option<BTreeMap<String, f64>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    struct AsNumber(f64);
    impl serde::Serialize for AsNumber {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            write_number(self.0, serializer)
        }
    }
    match value {
        Some(map) => {
            let mut out = serializer.serialize_map(Some(map.len()))?;
            for (k, v) in map {
                out.serialize_entry(k, &AsNumber(*v))?;
            }
            out.end()
        }
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sample {
        #[serde(default, deserialize_with = "super::opt_whole")]
        count: Option<u32>,
        #[serde(serialize_with = "super::float")]
        ratio: f64,
    }

    #[test]
    fn whole_floats_read_as_integers_and_fractions_are_refused() {
        let s: Sample =
            serde_json::from_value(json!({"count": 4000.0, "ratio": 0.5})).expect("whole");
        assert_eq!(s.count, Some(4000));
        assert!(serde_json::from_value::<Sample>(json!({"count": 1.5, "ratio": 0.5})).is_err());
        assert!(serde_json::from_value::<Sample>(json!({"count": -1, "ratio": 0.5})).is_err());
        assert!(
            serde_json::from_value::<Sample>(json!({"count": 5_000_000_000u64, "ratio": 0.5}))
                .is_err(),
            "beyond u32"
        );
    }

    #[test]
    fn whole_floats_are_written_without_fraction() {
        let v = serde_json::to_value(Sample {
            count: None,
            ratio: 1.0,
        })
        .expect("serialises");
        assert_eq!(v, json!({"count": null, "ratio": 1}));
        let v = serde_json::to_value(Sample {
            count: None,
            ratio: 0.7,
        })
        .expect("serialises");
        assert_eq!(v["ratio"], json!(0.7));
    }
}
