//! `wire_enum!`: a closed set of names that is part of the JSON contract.
//!
//! Each such set is needed three ways — as a Rust enum for callers, as the exact wire
//! strings for serde and the JSON Schema, and as a list of names for the validator's
//! `enum` rule messages. The macro writes all three from one declaration so they can
//! never disagree.

/// Declare a `Copy` enum whose variants serialise as the given string literals, with
/// `NAMES` (every wire name, in declaration order), `as_str` and `Display`.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            serde::Serialize, serde::Deserialize, schemars::JsonSchema,
        )]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant, )+
        }

        impl $name {
            /// Every wire name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($wire),+];

            /// The name as it appears in JSON.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $wire, )+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use wire_enum;
