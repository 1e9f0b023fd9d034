//! What a provider kind is to this crate: one module implementing [`Kind`] — its
//! `[providers.<id>]` keys as a serde type, the spec they resolve to, and the live
//! provider built from it — named by one line of the `kinds!` list in `lib.rs`.
//!
//! The list is the only place that knows every kind. From it come
//! [`ProviderSpec`](crate::ProviderSpec) (one variant per kind, named like the
//! contract's `ProviderKind`), the config reader's dispatch and the registry's
//! construction. The contract's `ProviderKind` stays the wire list (`kind` in
//! `config.toml`, `ax providers list --format json` and its schema), and the list
//! maps it with exhaustive `match`es, so a name without its line, or a line without
//! its name, does not compile.

use std::fmt::Debug;

use async_trait::async_trait;
use ax_discussion_domain::provider::{ProviderError, ProviderRequest, ProviderResponse};
use serde::de::DeserializeOwned;

/// One kind of provider.
pub trait Kind {
    /// The kind's own keys of a `[providers.<id>]` table, besides those every
    /// provider has (`kind`, `enabled`, `description`, `timeout`, `max_concurrent`).
    /// A struct deriving `Deserialize` with `#[serde(deny_unknown_fields)]`, every
    /// field an `Option` (a preset's table may name any subset); its field names
    /// are the kind's keys in messages, and the value types in
    /// [`config::values`](crate::config::values) word what a bad value should be.
    type Section: DeserializeOwned;

    /// What a provider of this kind runs, fully resolved.
    type Spec: Debug + Clone + PartialEq + Send + Sync;

    /// Whether its answers are simulated (labelled so everywhere).
    const SIMULATED: bool = false;

    /// Applies a table's keys over `base`: the preset's spec when the table is a
    /// preset's of the same kind, else `None` (a new provider, so keys without a
    /// default are required here).
    fn resolve(base: Option<Self::Spec>, section: Self::Section) -> Result<Self::Spec, Missing>;

    /// One line for `ax providers list`.
    fn describe(spec: &Self::Spec) -> String;

    /// The live provider `id`; the error says why it cannot be built.
    fn build(id: &str, spec: &Self::Spec) -> Result<Box<dyn Live>, String>;
}

/// A required key a resolved spec still lacks (or a value wrong only in
/// combination), named relative to its `[providers.<id>]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// The key, e.g. `command`.
    pub key: &'static str,
    /// What is wrong, e.g. `missing; a command provider needs command = [...]`.
    pub message: String,
}

/// A configured provider ready to be called: what the registry holds per id.
#[async_trait]
pub trait Live: Send + Sync {
    /// Runs one request. Returns within `request.timeout` (INV-PROV-TIME-001); dropping
    /// the future stops all its work (INV-PROV-KILL-001).
    async fn execute(&self, request: &ProviderRequest) -> Result<ProviderResponse, ProviderError>;

    /// Why it cannot be called now, for people; `None` when it can.
    fn why_unavailable(&self) -> Option<String> {
        None
    }

    /// Why it cannot be used although it is there (a program of the right name that
    /// is another CLI); `None` when it is usable or simply absent.
    fn unusable_reason(&self) -> Option<String> {
        None
    }
}

/// Declares each kind's module and writes everything that follows from the list:
/// `ProviderSpec`, the per-kind dispatch of the config reader and of the registry.
/// `Variant => module::Type`: `Variant` is the contract's `ProviderKind` variant,
/// `module` the kind's file (declared `pub`), `Type` its [`Kind`] implementation.
macro_rules! kinds {
    ($($variant:ident => $module:ident :: $kind:ident),+ $(,)?) => {
        $(pub mod $module;)+

        /// What a provider runs: one variant per kind, holding its resolved spec.
        #[derive(Debug, Clone, PartialEq)]
        pub enum ProviderSpec {
            $(
                #[doc = concat!(
                    "A `", stringify!($variant), "` provider: see [`",
                    stringify!($module), "`](crate::", stringify!($module), ")."
                )]
                $variant(<$module::$kind as $crate::kind::Kind>::Spec),
            )+
        }

        impl ProviderSpec {
            /// Its kind.
            pub fn kind(&self) -> $crate::definition::ProviderKind {
                match self {
                    $(Self::$variant(_) => $crate::definition::ProviderKind::$variant,)+
                }
            }

            /// One line for `ax providers list`: the command line, the model and
            /// URL, or the mock's behaviour.
            pub fn describe(&self) -> String {
                match self {
                    $(Self::$variant(spec) =>
                        <$module::$kind as $crate::kind::Kind>::describe(spec),)+
                }
            }

            /// Whether its answers are simulated.
            pub fn is_simulated(&self) -> bool {
                match self {
                    $(Self::$variant(_) =>
                        <$module::$kind as $crate::kind::Kind>::SIMULATED,)+
                }
            }

            /// The live provider `id`.
            pub(crate) fn build(&self, id: &str) -> Result<Box<dyn $crate::kind::Live>, String> {
                match self {
                    $(Self::$variant(spec) =>
                        <$module::$kind as $crate::kind::Kind>::build(id, spec),)+
                }
            }

            /// The keys of `kind`'s section (besides the common ones).
            pub(crate) fn keys(kind: $crate::definition::ProviderKind) -> &'static [&'static str] {
                match kind {
                    $($crate::definition::ProviderKind::$variant => $crate::config::de::keys_of::<
                        <$module::$kind as $crate::kind::Kind>::Section,
                    >(),)+
                }
            }

            /// Reads `kind`'s keys from one provider table and, when the provider is
            /// enabled, resolves them over `base` (kept only if it is of this kind).
            pub(crate) fn read(
                kind: $crate::definition::ProviderKind,
                table: $crate::config::ProviderTable<'_>,
                base: Option<Self>,
            ) -> Result<Option<Self>, $crate::config::ConfigError> {
                match kind {
                    $($crate::definition::ProviderKind::$variant => {
                        let base = match base {
                            Some(Self::$variant(spec)) => Some(spec),
                            _ => None,
                        };
                        table
                            .resolve::<$module::$kind>(base)
                            .map(|spec| spec.map(Self::$variant))
                    })+
                }
            }
        }
    };
}
