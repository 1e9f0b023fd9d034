//! Integration tests of the PostgreSQL adapter against a real server: a throw-away
//! cluster this process starts (or `AX_TEST_DATABASE_URL`), see
//! `ax_adapter_postgres::test_support`. One test binary (modules below) keeps build
//! and link time down; each test works in a fresh schema of its own.

mod conformance;
mod errors;
mod helpers;
mod history;
mod race;
mod schema;
mod tls;
