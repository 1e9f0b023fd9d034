//! Shared helpers: a fresh database per test, connected.

use ax_adapter_postgres::test_support::TestDatabase;
use ax_adapter_postgres::{DatabaseUrl, PostgresDatabase};

/// A fresh schema and a database connected to it; `None` when the PostgreSQL tests
/// are skipped explicitly (`AX_SKIP_POSTGRES=1`).
pub async fn fresh() -> Option<(TestDatabase, PostgresDatabase)> {
    let test = TestDatabase::create()?;
    let db = connect(test.url()).await;
    Some((test, db))
}

/// Connects to `url`, panicking with the error (never with the URL).
pub async fn connect(url: &str) -> PostgresDatabase {
    let url = DatabaseUrl::parse(url).expect("test URL parses");
    match PostgresDatabase::connect(&url).await {
        Ok(db) => db,
        Err(error) => panic!("connecting to the test database: {error:?}"),
    }
}
