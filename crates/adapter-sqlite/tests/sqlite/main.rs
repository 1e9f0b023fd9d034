//! Integration tests of the SQLite adapter on real database files in temporary
//! directories. One test binary (modules below) keeps build and link time down.
//!
//! Cross-thread tests give every thread its own [`SqliteDatabase`] — its own pool and
//! connections, as separate processes would have — and start them together on a
//! barrier, so the database's locking is what keeps them apart.

mod concurrency;
mod conformance;
mod edges;
mod helpers;
mod history;
mod list_counts;
mod migrations;
mod recommend_quality;
mod schema;
mod store;
mod term_index;
