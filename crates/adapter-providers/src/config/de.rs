//! serde over a parsed TOML tree with this module's own error type, so the section
//! types alone decide what is accepted while the messages keep the config's wording
//! ("expected a string, found an integer", "unknown key (did you mean ...)").
//!
//! `toml`'s own deserializer fixes its error type and words type errors as serde's
//! default ("invalid type: integer `3`, expected a string"), so the tree is walked by
//! [`Node`], generic over the error, and [`Problem`] words each failure;
//! `serde_path_to_error` adds the key path. Nothing here knows a config key.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeOwned, Deserializer, IntoDeserializer, Unexpected, Visitor};
use serde_path_to_error::{Path, Segment};
use toml::Value;

/// Why serde refused a value (its key path is kept beside it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A key the section does not declare; `known` are the keys it does.
    UnknownKey {
        /// The key as written.
        key: String,
        /// The section's keys.
        known: &'static [&'static str],
    },
    /// Anything else, worded for people.
    Other(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownKey { key, .. } => write!(f, "unknown key `{key}`"),
            Self::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Problem {}

impl de::Error for Problem {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self::Other(message.to_string())
    }

    fn invalid_type(found: Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Self::Other(format!("expected {expected}, found {}", type_name(&found)))
    }

    fn unknown_field(key: &str, known: &'static [&'static str]) -> Self {
        Self::UnknownKey {
            key: key.to_owned(),
            known,
        }
    }
}

/// What a TOML value is, in the config's words.
fn type_name(found: &Unexpected<'_>) -> String {
    match found {
        Unexpected::Str(_) | Unexpected::Char(_) => "a string".into(),
        Unexpected::Signed(_) | Unexpected::Unsigned(_) => "an integer".into(),
        Unexpected::Float(_) => "a float".into(),
        Unexpected::Bool(_) => "a boolean".into(),
        Unexpected::Seq => "a list".into(),
        Unexpected::Map => "a table".into(),
        other => other.to_string(),
    }
}

/// Deserializes `value` as `T`; an error comes with the key path below `value`.
pub fn parse<T: DeserializeOwned>(value: Value) -> Result<T, (Path, Problem)> {
    serde_path_to_error::deserialize(Node::<Problem>::new(value))
        .map_err(|e| (e.path().clone(), e.into_inner()))
}

/// `providers.claude`, `providers.claude.command[1]`: segments after `prefix`, each
/// quoted when it is not a bare TOML key.
pub fn key_path(prefix: &str, path: &Path) -> String {
    let mut out = prefix.to_owned();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => push_key(&mut out, key),
            Segment::Unknown => push_key(&mut out, "?"),
        }
    }
    out
}

/// Appends `.key` (or `key` to an empty path), quoted unless it is a bare key.
pub fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if bare {
        path.push_str(key);
    } else {
        path.push_str(&format!("{key:?}"));
    }
}

/// The keys a section type declares: its serde field names, read from its derive,
/// so they are written once (for "did you mean", "its settings: ..." and splitting a
/// provider's table between the common keys and its kind's). Empty for anything
/// that is not a struct.
pub fn keys_of<T: DeserializeOwned>() -> &'static [&'static str] {
    match T::deserialize(Probe) {
        Err(Declared(keys)) => keys,
        Ok(_) => &[],
    }
}

struct Probe;

#[derive(Debug)]
struct Declared(&'static [&'static str]);

impl fmt::Display for Declared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "declares {:?}", self.0)
    }
}

impl std::error::Error for Declared {}

impl de::Error for Declared {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Self(&[])
    }
}

impl<'de> Deserializer<'de> for Probe {
    type Error = Declared;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Declared> {
        Err(Declared(&[]))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Declared> {
        Err(Declared(fields))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
        identifier ignored_any
    }
}

/// A TOML value as a serde [`Deserializer`] with any error type `E`.
pub struct Node<E> {
    value: Value,
    error: PhantomData<E>,
}

impl<E> Node<E> {
    /// Wraps `value`.
    pub fn new(value: Value) -> Self {
        Self {
            value,
            error: PhantomData,
        }
    }
}

impl<'de, E: de::Error> IntoDeserializer<'de, E> for Node<E> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de, E: de::Error> Deserializer<'de> for Node<E> {
    type Error = E;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Value::String(text) => visitor.visit_string(text),
            Value::Integer(number) => visitor.visit_i64(number),
            Value::Float(number) => visitor.visit_f64(number),
            Value::Boolean(flag) => visitor.visit_bool(flag),
            // No setting takes a date; say what was found rather than coerce it.
            Value::Datetime(_) => Err(E::invalid_type(Unexpected::Other("a datetime"), &visitor)),
            Value::Array(items) => {
                SeqDeserializer::new(items.into_iter().map(Node::new)).deserialize_any(visitor)
            }
            Value::Table(table) => {
                MapDeserializer::new(table.into_iter().map(|(k, v)| (k, Node::new(v))))
                    .deserialize_any(visitor)
            }
        }
    }

    /// A key that is present has a value: absence is the struct's business.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, E> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, E> {
        match self.value {
            Value::String(name) => visitor.visit_enum(name.into_deserializer()),
            other => Node::new(other).deserialize_any(visitor),
        }
    }

    /// Skipped values are skipped whatever they are, dates included.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf unit unit_struct seq tuple tuple_struct map struct identifier
    }
}
