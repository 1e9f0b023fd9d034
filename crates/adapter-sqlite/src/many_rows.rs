//! Inserting many rows of one table with few statements.
//!
//! Why: a bulk write (an import, a rebuild of the term index) inserts about 30 rows
//! per agent. One `INSERT` per row pays SQLite's per-statement costs (a statement
//! journal opened and closed, the program started and reset, every parameter bound
//! through a fresh argument list) for each row; one `INSERT` of [`ROWS_PER_STATEMENT`]
//! rows pays them once. The rows written, and the order they are written in, are the
//! same either way: each row of a multi-row `VALUES` is inserted in turn, with the
//! statement's conflict clause applied to it alone.

use rusqlite::{Connection, Statement};

/// Rows per statement of [`insert_rows`]: with the widest table written this way (9
/// columns) 576 parameters, far below SQLite's limit (32,766), and enough that the
/// per-statement cost is spread over many rows.
pub(crate) const ROWS_PER_STATEMENT: usize = 64;

/// Inserts one row per item of `items`, in their order: `head` is the statement up to
/// and including `VALUES `, `columns` the number of values per row, and `bind` binds
/// one item's values from the (1-based) parameter index it is given. Full groups of
/// [`ROWS_PER_STATEMENT`] rows share one statement; the rest go one row per statement,
/// so only two statements per table are ever prepared (and kept in the cache).
pub(crate) fn insert_rows<T>(
    conn: &Connection,
    head: &str,
    columns: usize,
    items: &[T],
    mut bind: impl FnMut(&mut Statement<'_>, usize, &T) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let chunks = items.chunks_exact(ROWS_PER_STATEMENT);
    let rest = chunks.remainder();
    if chunks.len() > 0 {
        let mut stmt = conn.prepare_cached(&values_sql(head, columns, ROWS_PER_STATEMENT))?;
        for chunk in chunks {
            for (row, item) in chunk.iter().enumerate() {
                bind(&mut stmt, row * columns + 1, item)?;
            }
            stmt.raw_execute()?;
        }
    }
    if !rest.is_empty() {
        let mut stmt = conn.prepare_cached(&values_sql(head, columns, 1))?;
        for item in rest {
            bind(&mut stmt, 1, item)?;
            stmt.raw_execute()?;
        }
    }
    Ok(())
}

/// `head` followed by `rows` groups of `columns` numbered parameters:
/// `(?1, ?2), (?3, ?4)` for two rows of two columns.
fn values_sql(head: &str, columns: usize, rows: usize) -> String {
    let mut sql = String::from(head);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push('?');
            sql.push_str(&(row * columns + column + 1).to_string());
        }
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_numbered_row_by_row() {
        assert_eq!(
            values_sql("INSERT INTO t VALUES ", 2, 1),
            "INSERT INTO t VALUES (?1, ?2)"
        );
        assert_eq!(
            values_sql("INSERT INTO t VALUES ", 2, 3),
            "INSERT INTO t VALUES (?1, ?2), (?3, ?4), (?5, ?6)"
        );
    }

    /// Every item becomes one row, in order, across full statements and the rest,
    /// with the conflict clause applied row by row.
    #[test]
    fn every_item_is_inserted_once_in_order() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (seq INTEGER PRIMARY KEY, k INTEGER NOT NULL UNIQUE, v TEXT)",
        )
        .unwrap();
        for n in [
            0,
            1,
            ROWS_PER_STATEMENT - 1,
            ROWS_PER_STATEMENT,
            2 * ROWS_PER_STATEMENT + 5,
        ] {
            conn.execute("DELETE FROM t", []).unwrap();
            // Item 3 repeats item 2's key: `OR IGNORE` drops that row only.
            let items: Vec<usize> = (0..n).map(|i| if i == 3 { 2 } else { i }).collect();
            insert_rows(
                &conn,
                "INSERT OR IGNORE INTO t (k, v) VALUES ",
                2,
                &items,
                |stmt, first, &k| {
                    stmt.raw_bind_parameter(first, k as i64)?;
                    stmt.raw_bind_parameter(first + 1, format!("v{k}"))
                },
            )
            .unwrap();
            let stored: Vec<(i64, String)> = conn
                .prepare("SELECT k, v FROM t ORDER BY seq")
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let expected: Vec<(i64, String)> = (0..n)
                .filter(|&i| i != 3)
                .map(|k| (k as i64, format!("v{k}")))
                .collect();
            assert_eq!(stored, expected, "{n} items");
        }
    }
}
