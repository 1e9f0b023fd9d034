//! [`wire_enum!`](crate::wire_enum): the one way the workspace declares a closed set
//! of names that leaves the process (JSON, `config.toml`, MCP tool names, command-line
//! values).
//!
//! Each such set is needed several ways — as a Rust enum for code, as the exact wire
//! strings for serde and the JSON Schema, as the list of names for "must be one of"
//! messages, `config.toml` errors and the CLI's value lists, and as a parser from a
//! name. The macro writes all of them from one declaration, so a name is written once
//! and they can never disagree. (There used to be two such macros and eight
//! hand-written `as_str` / `parse` tables.)

/// Declares a `Copy` enum whose variants are written on the wire as the given string
/// literals, with:
///
/// - serde (`Serialize`, `Deserialize`) and `schemars::JsonSchema`, by those names
///   (documented variants come out in the schema as `oneOf` of `const`s with their
///   descriptions);
/// - `ALL` (every variant) and `NAMES` (every wire name), in declaration order;
/// - `as_str` (the wire name), `from_wire` (the variant of a name or alias) and
///   `Display`.
///
/// `Variant = "name" | "alias" | ...` also accepts the aliases when reading (serde
/// and `from_wire`); `NAMES` and `as_str` give the first name only. Attributes before
/// the enum are kept, so `#[derive(Default)]` with `#[default]` on a variant works.
///
/// The derives reach serde and schemars through this crate, so a crate using the
/// macro needs only `ax-contracts` (under its usual name, `ax_contracts`).
///
/// ```
/// ax_contracts::wire_enum! {
///     /// How loud.
///     #[derive(Default)]
///     pub enum Volume {
///         /// Hardly heard.
///         #[default]
///         Quiet = "quiet",
///         /// Heard everywhere.
///         Loud = "loud" | "noisy",
///     }
/// }
///
/// assert_eq!(Volume::NAMES, ["quiet", "loud"]);
/// assert_eq!(Volume::from_wire("noisy"), Some(Volume::Loud));
/// assert_eq!(serde_json::to_string(&Volume::Loud).unwrap(), "\"loud\"");
/// assert_eq!(serde_json::from_str::<Volume>("\"noisy\"").unwrap(), Volume::Loud);
/// assert_eq!(Volume::default().to_string(), "quiet");
/// ```
#[macro_export]
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $wire:literal $(| $alias:literal)*
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            $crate::__private::serde::Serialize,
            $crate::__private::serde::Deserialize,
            $crate::__private::schemars::JsonSchema,
        )]
        #[serde(crate = "ax_contracts::__private::serde")]
        #[schemars(crate = "ax_contracts::__private::schemars")]
        $vis enum $name {
            $(
                $(#[$vmeta])*
                #[serde(rename = $wire $(, alias = $alias)*)]
                $variant,
            )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// Every wire name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($wire),+];

            /// The name as it is written on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }

            /// The variant with this wire name (or alias); `None` for any other text.
            pub fn from_wire(name: &str) -> Option<Self> {
                match name {
                    $($wire $(| $alias)* => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
