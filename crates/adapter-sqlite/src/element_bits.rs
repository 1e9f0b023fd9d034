//! The `element_bits` table (schema version 7): a bit number per tag and per
//! capability, from which every side row's `tag_mask` / `capability_mask` is made,
//! so a combined listing filter tests membership with one integer `&` per row (see
//! `list_query`).
//!
//! INV-AGT-DB-003: a side row's mask is the OR of the bits of exactly the agent's
//! elements that have a bit. It holds because a bit, once given, is never moved or
//! taken back (the mask of a row written earlier stays right), and because an element
//! gets its bit in the transaction that first writes it, before its side rows are
//! written (no row can hold an element whose bit it lacks). Elements past the 63rd
//! of a kind get no bit; filters on them test the element lists instead.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};

/// Bits per kind: 0–62, so a mask is a non-negative SQLite integer.
pub(crate) const BITS: i64 = 63;

/// Which elements a bit belongs to (the `kind` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Tag,
    Capability,
}

impl Kind {
    /// The `kind` column's value (also `agent_counts`' kind of the element's entries).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Tag => "tag",
            Self::Capability => "capability",
        }
    }
}

/// The bit of `element`, if it has one (a read: listings plan with this). A number
/// outside 0–62 (a file edited by hand) counts as none, so it is never shifted by.
pub(crate) fn bit(conn: &Connection, kind: Kind, element: &str) -> rusqlite::Result<Option<u8>> {
    let bit: Option<i64> = conn
        .prepare_cached("SELECT bit FROM element_bits WHERE kind = ?1 AND element = ?2")?
        .query_row([kind.as_str(), element], |row| row.get(0))
        .optional()?;
    Ok(bit
        .filter(|bit| (0..BITS).contains(bit))
        .and_then(|bit| u8::try_from(bit).ok()))
}

/// Bits already looked up or given in one write transaction, so that a batch of
/// agents asks SQLite once per distinct element instead of once per agent and
/// element. Valid only inside that transaction: it holds the write lock, and bits are
/// only ever given (by [`mask`], which records them here), never moved.
#[derive(Debug, Default)]
pub(crate) struct KnownBits {
    tags: HashMap<String, Option<u8>>,
    capabilities: HashMap<String, Option<u8>>,
}

/// The mask of `elements`, giving each element without a bit the next free one while
/// any is left. Runs in the write transaction of the side rows it is for, which
/// `known` belongs to.
pub(crate) fn mask(
    tx: &Connection,
    kind: Kind,
    elements: &[String],
    known: &mut KnownBits,
) -> rusqlite::Result<i64> {
    let known = match kind {
        Kind::Tag => &mut known.tags,
        Kind::Capability => &mut known.capabilities,
    };
    let mut mask = 0_i64;
    for element in elements {
        let bit = match known.get(element) {
            Some(&bit) => bit,
            None => {
                let bit = bit_or_next_free(tx, kind, element)?;
                known.insert(element.clone(), bit);
                bit
            }
        };
        if let Some(bit) = bit {
            mask |= 1_i64 << bit;
        }
    }
    Ok(mask)
}

/// The bit of `element`, given the next free one if it has none and any is left.
fn bit_or_next_free(tx: &Connection, kind: Kind, element: &str) -> rusqlite::Result<Option<u8>> {
    match bit(tx, kind, element)? {
        Some(bit) => Ok(Some(bit)),
        None => tx
            .prepare_cached(
                "INSERT INTO element_bits (kind, element, bit) \
                 SELECT ?1, ?2, COUNT(*) FROM element_bits WHERE kind = ?1 \
                 HAVING COUNT(*) < ?3 RETURNING bit",
            )?
            .query_row(rusqlite::params![kind.as_str(), element, BITS], |row| {
                row.get::<_, u8>(0)
            })
            .optional(),
    }
}
