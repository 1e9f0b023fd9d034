//! [`PostgresHistory`]: the `DiscussionHistory` port on a shared PostgreSQL
//! database.
//!
//! Listing is newest first by discussion id: ids are UUID v7, which sort by start
//! time, so `ORDER BY id DESC` on the primary key (`COLLATE "C"`: byte order) is the
//! recency order, and "after `before`" is simply `id < before` — a cursor that stays
//! valid even when the discussion it names is gone.
//!
//! A discussion is stored as two JSON texts: its summary (every field but the
//! result) and its result. JSON text escapes U+0000, which a topic or an answer may
//! contain and PostgreSQL text cannot hold; listing reads only the summaries.

use async_trait::async_trait;
use ax_discussion_domain::history::{
    DiscussionHistory, DiscussionRecord, DiscussionSummary, HistoryError,
};
use serde_json::Value;

use crate::database::Shared;
use crate::error::{Failure, history_backend};

/// The PostgreSQL discussion history. Cheap to clone: clones share one connection
/// pool. Obtain it from [`crate::PostgresDatabase::history`].
#[derive(Debug, Clone)]
pub struct PostgresHistory {
    shared: Shared,
}

/// Why a stored discussion could not be read back (or a record not encoded).
#[derive(Debug, thiserror::Error)]
enum RowError {
    #[error("reading a column")]
    Column(#[from] tokio_postgres::Error),
    #[error("decoding stored JSON")]
    Json(#[from] serde_json::Error),
    #[error("the stored summary is not a JSON object")]
    NotAnObject,
}

fn decoding(what: impl Into<String>) -> impl FnOnce(RowError) -> HistoryError {
    let context = what.into();
    move |e| HistoryError {
        context,
        source: Box::new(e),
    }
}

/// The record's summary JSON (without `result`) and result JSON.
fn encode(record: &DiscussionRecord) -> Result<(String, String), RowError> {
    let mut summary = serde_json::to_value(record)?;
    if let Value::Object(fields) = &mut summary {
        fields.remove("result");
    }
    Ok((
        serde_json::to_string(&summary)?,
        serde_json::to_string(&record.result)?,
    ))
}

fn decode_record(summary: &str, result: &str) -> Result<DiscussionRecord, RowError> {
    let mut doc: Value = serde_json::from_str(summary)?;
    let Value::Object(fields) = &mut doc else {
        return Err(RowError::NotAnObject);
    };
    fields.insert("result".into(), serde_json::from_str(result)?);
    Ok(serde_json::from_value(doc)?)
}

impl PostgresHistory {
    pub(crate) fn new(shared: Shared) -> Self {
        Self { shared }
    }

    fn fail(&self, what: impl Into<String>) -> impl FnOnce(Failure) -> HistoryError + '_ {
        let what = what.into();
        move |failure| history_backend(self.shared.target(), what, failure)
    }
}

#[async_trait]
impl DiscussionHistory for PostgresHistory {
    async fn save(&self, record: &DiscussionRecord) -> Result<(), HistoryError> {
        let what = format!("saving discussion \"{}\"", record.discussion_id);
        let (summary, result) = encode(record).map_err(decoding(what.clone()))?;
        async {
            let client = self.shared.client().await?;
            let statement = client
                .prepare_cached(
                    "INSERT INTO discussions (id, summary, result) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE SET summary = EXCLUDED.summary, \
                     result = EXCLUDED.result, saved_at = now()",
                )
                .await?;
            client
                .execute(&statement, &[&record.discussion_id, &summary, &result])
                .await?;
            Ok::<_, Failure>(())
        }
        .await
        .map_err(self.fail(what))
    }

    async fn get(&self, discussion_id: &str) -> Result<Option<DiscussionRecord>, HistoryError> {
        let what = format!("reading discussion \"{discussion_id}\"");
        let row = async {
            let client = self.shared.client().await?;
            let statement = client
                .prepare_cached("SELECT summary, result FROM discussions WHERE id = $1")
                .await?;
            Ok::<_, Failure>(client.query_opt(&statement, &[&discussion_id]).await?)
        }
        .await
        .map_err(self.fail(what.clone()))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let read = || -> Result<DiscussionRecord, RowError> {
            let summary: String = row.try_get(0)?;
            let result: String = row.try_get(1)?;
            decode_record(&summary, &result)
        };
        read().map(Some).map_err(decoding(what))
    }

    async fn list(
        &self,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<DiscussionSummary>, HistoryError> {
        // A limit past i64::MAX asks for everything, which is what i64::MAX gives.
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = async {
            let client = self.shared.client().await?;
            // Two statements rather than `$1 IS NULL OR id < $1`, so that each is
            // planned as the primary-key range it is.
            let rows = match before {
                Some(cursor) => {
                    let statement = client
                        .prepare_cached(
                            "SELECT summary FROM discussions WHERE id < $1 \
                             ORDER BY id DESC LIMIT $2",
                        )
                        .await?;
                    client.query(&statement, &[&cursor, &limit]).await?
                }
                None => {
                    let statement = client
                        .prepare_cached("SELECT summary FROM discussions ORDER BY id DESC LIMIT $1")
                        .await?;
                    client.query(&statement, &[&limit]).await?
                }
            };
            Ok::<_, Failure>(rows)
        }
        .await
        .map_err(self.fail("listing discussions"))?;
        rows.iter()
            .map(|row| {
                let summary: String = row.try_get(0)?;
                Ok(serde_json::from_str::<DiscussionSummary>(&summary)?)
            })
            .collect::<Result<Vec<_>, RowError>>()
            .map_err(decoding("listing discussions"))
    }

    async fn save_missing(
        &self,
        records: &[DiscussionRecord],
    ) -> Result<Vec<String>, HistoryError> {
        let what = "saving missing discussions";
        let encoded = records
            .iter()
            .map(|record| encode(record).map(|(summary, result)| (record, summary, result)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(decoding(what))?;
        async {
            let mut client = self.shared.client().await?;
            let tx = client.transaction().await?;
            let statement = tx
                .prepare_cached(
                    "INSERT INTO discussions (id, summary, result) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO NOTHING",
                )
                .await?;
            let mut saved = Vec::new();
            for (record, summary, result) in &encoded {
                let id = &record.discussion_id;
                if tx.execute(&statement, &[id, summary, result]).await? == 1 {
                    saved.push(id.clone());
                }
            }
            tx.commit().await?;
            Ok::<_, Failure>(saved)
        }
        .await
        .map_err(self.fail(what))
    }
}
