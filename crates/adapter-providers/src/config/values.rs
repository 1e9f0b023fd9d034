//! The value types of `config.toml` keys. Each says, as serde's "expecting", what a
//! key of its type should hold, and refuses a bad value with why — so a section is
//! declared by its field types alone and every kind words the same mistake alike.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::duration::parse_duration;

/// A closed set of names (a `wire_enum!`) as a config value, refused with the noun
/// people know it by: `unknown output format "yaml" (expected one of ...)`.
pub trait Named: Sized + Copy + 'static {
    /// What a value is called in messages.
    const NOUN: &'static str;
    /// Every accepted name.
    fn names() -> &'static [&'static str];
    /// The value of a name or alias.
    fn from_name(name: &str) -> Option<Self>;
}

/// Implements [`Named`] for `wire_enum!` types.
macro_rules! named {
    ($($ty:ty => $noun:literal),+ $(,)?) => {
        $(impl $crate::config::values::Named for $ty {
            const NOUN: &'static str = $noun;
            fn names() -> &'static [&'static str] {
                Self::NAMES
            }
            fn from_name(name: &str) -> Option<Self> {
                Self::from_wire(name)
            }
        })+
    };
}
pub(crate) use named;

named! {
    ax_contracts::provider::ProviderKind => "kind",
    ax_contracts::provider::ProviderErrorKind => "error kind",
}

/// A [`Named`] value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Name<T>(pub T);

impl<'de, T: Named> Deserialize<'de> for Name<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        T::from_name(&text).map(Name).ok_or_else(|| {
            let names: Vec<String> = T::names().iter().map(|n| format!("\"{n}\"")).collect();
            de::Error::custom(format!(
                "unknown {} \"{text}\" (expected one of {})",
                T::NOUN,
                names.join(", ")
            ))
        })
    }
}

/// The visitor of a value type: `what` is its description ("expected ...").
struct Expect<T> {
    what: &'static str,
    value: PhantomData<T>,
}

fn expect<T>(what: &'static str) -> Expect<T> {
    Expect {
        what,
        value: PhantomData,
    }
}

macro_rules! expecting {
    () => {
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.what)
        }
    };
}

/// `true` or `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Switch(pub bool);

impl<'de> Visitor<'de> for Expect<Switch> {
    type Value = Switch;
    expecting!();
    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Switch, E> {
        Ok(Switch(value))
    }
}

impl<'de> Deserialize<'de> for Switch {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_bool(expect::<Self>("true or false"))
    }
}

/// An integer in `MIN..=MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ranged<const MIN: i64, const MAX: i64>(pub i64);

impl<'de, const MIN: i64, const MAX: i64> Visitor<'de> for Expect<Ranged<MIN, MAX>> {
    type Value = Ranged<MIN, MAX>;
    expecting!();
    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Self::Value, E> {
        if (MIN..=MAX).contains(&number) {
            Ok(Ranged(number))
        } else {
            Err(E::custom(format!("{number} is out of range ({MIN}–{MAX})")))
        }
    }
}

impl<'de, const MIN: i64, const MAX: i64> Deserialize<'de> for Ranged<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_i64(expect::<Self>("an integer"))
    }
}

impl<const MIN: i64, const MAX: i64> Ranged<MIN, MAX> {
    /// The number as a count (the ranges of counts start at 0 or more).
    pub fn count(self) -> usize {
        usize::try_from(self.0).unwrap_or(0)
    }
}

/// Range of `max_concurrent_provider_calls` and of per-provider `max_concurrent`.
pub type Concurrency = Ranged<1, 64>;

/// A human duration: `"90s"`, `"10m"`, `"200ms"`, `"1h30m"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Human(pub Duration);

impl<'de> Visitor<'de> for Expect<Human> {
    type Value = Human;
    expecting!();
    fn visit_str<E: de::Error>(self, text: &str) -> Result<Human, E> {
        parse_duration(text).map(Human).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Human {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(expect::<Self>(
            "a duration string such as \"90s\", \"10m\" or \"200ms\"",
        ))
    }
}

/// A [`Human`] duration longer than zero (a time limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Human")]
pub struct Positive(pub Duration);

impl TryFrom<Human> for Positive {
    type Error = &'static str;
    fn try_from(Human(duration): Human) -> Result<Self, Self::Error> {
        if duration.is_zero() {
            Err("must be longer than zero")
        } else {
            Ok(Self(duration))
        }
    }
}

/// A string with something in it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct NonEmpty(pub String);

impl TryFrom<String> for NonEmpty {
    type Error = &'static str;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        if text.trim().is_empty() {
            Err("must not be empty")
        } else {
            Ok(Self(text))
        }
    }
}

/// One argument of a command line: a string without NUL bytes (the OS cannot pass
/// them).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
struct Arg(String);

impl TryFrom<String> for Arg {
    type Error = &'static str;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        if text.contains('\0') {
            Err("arguments cannot contain NUL bytes")
        } else {
            Ok(Self(text))
        }
    }
}

/// A list of arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words(pub Vec<String>);

impl<'de> Visitor<'de> for Expect<Words> {
    type Value = Words;
    expecting!();
    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Words, A::Error> {
        let mut words = Vec::new();
        while let Some(Arg(word)) = items.next_element()? {
            words.push(word);
        }
        Ok(Words(words))
    }
}

impl<'de> Deserialize<'de> for Words {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(expect::<Self>("a list of strings"))
    }
}

/// A program and its arguments: a list whose first word names the program.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Words")]
pub struct Program(pub Vec<String>);

impl TryFrom<Words> for Program {
    type Error = &'static str;
    fn try_from(Words(words): Words) -> Result<Self, Self::Error> {
        if words.first().is_none_or(|p| p.trim().is_empty()) {
            Err("must name a program, e.g. [\"claude\", \"--print\"]")
        } else {
            Ok(Self(words))
        }
    }
}

/// An environment variable's name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
struct VarName(String);

impl TryFrom<String> for VarName {
    type Error = &'static str;
    fn try_from(name: String) -> Result<Self, Self::Error> {
        if name.is_empty() || name.contains('=') || name.contains('\0') {
            Err("not a valid environment variable name")
        } else {
            Ok(Self(name))
        }
    }
}

/// An environment variable's value.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
struct VarValue(String);

impl TryFrom<String> for VarValue {
    type Error = &'static str;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        if text.contains('\0') {
            Err("environment values cannot contain NUL bytes")
        } else {
            Ok(Self(text))
        }
    }
}

/// Environment variables: a table of strings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Env(pub BTreeMap<String, String>);

impl<'de> Visitor<'de> for Expect<Env> {
    type Value = Env;
    expecting!();
    fn visit_map<A: MapAccess<'de>>(self, mut vars: A) -> Result<Env, A::Error> {
        let mut env = BTreeMap::new();
        while let Some((VarName(name), VarValue(value))) = vars.next_entry()? {
            env.insert(name, value);
        }
        Ok(Env(env))
    }
}

impl<'de> Deserialize<'de> for Env {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(expect::<Self>("a table of strings"))
    }
}

/// An `http` or `https` URL with a host, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct HttpUrl(pub String);

impl TryFrom<String> for HttpUrl {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        let url = text.trim().to_owned();
        let valid = reqwest::Url::parse(&url)
            .ok()
            .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
        if valid {
            Ok(Self(url))
        } else {
            Err(format!(
                "\"{url}\" is not an http(s) URL, e.g. \"http://127.0.0.1:11434/v1\""
            ))
        }
    }
}

/// A table whose keys are kept and whose values are read later (by the section of
/// the kind each turns out to be): `[providers.<id>]` tables.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tables(pub Vec<String>);

impl<'de> Visitor<'de> for Expect<Tables> {
    type Value = Tables;
    expecting!();
    fn visit_map<A: MapAccess<'de>>(self, mut tables: A) -> Result<Tables, A::Error> {
        let mut ids = Vec::new();
        while let Some(id) = tables.next_key::<String>()? {
            tables.next_value::<Settings>()?;
            ids.push(id);
        }
        Ok(Tables(ids))
    }
}

impl<'de> Deserialize<'de> for Tables {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(expect::<Self>("a table of providers"))
    }
}

/// One provider's table, only checked to be one here.
struct Settings;

impl<'de> Visitor<'de> for Expect<Settings> {
    type Value = Settings;
    expecting!();
    fn visit_map<A: MapAccess<'de>>(self, mut keys: A) -> Result<Settings, A::Error> {
        while keys
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Settings)
    }
}

impl<'de> Deserialize<'de> for Settings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(expect::<Self>("a table of settings ([providers.<id>])"))
    }
}
