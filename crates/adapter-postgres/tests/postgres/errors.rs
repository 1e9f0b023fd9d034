//! Failures: an unreachable or hung server is reported quickly as "database
//! unreachable" (INV-PG-UNREACH-001), the pool reconnects by itself once the server
//! is back, and no error or `Debug` text ever holds the password
//! (INV-PG-SECRET-001).

use std::error::Error;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use ax_adapter_postgres::test_support::{DATABASE_URL_ENV, TestCluster, TestDatabase};
use ax_adapter_postgres::{DatabaseUrl, PostgresDatabase, PostgresError};
use ax_agent_domain::conformance::record;
use ax_agent_domain::store::{AgentStore, StoreError};
use ax_contracts::error::{ErrorCode, StorageUnavailable};
use ax_discussion_domain::history::DiscussionHistory;
use serde_json::json;

use crate::helpers::connect;

const SECRET: &str = "Zq9-never-show-me";

/// Display of the error and of every cause, plus the Debug form.
fn full_text(error: &(dyn Error + 'static)) -> String {
    let mut text = format!("{error:?}");
    let mut cause = Some(error);
    while let Some(current) = cause {
        text.push_str(" | ");
        text.push_str(&current.to_string());
        cause = current.source();
    }
    text
}

fn assert_no_secret(text: &str, secret: &str) {
    assert!(!text.contains(secret), "the password leaked: {text}");
}

fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_database_unreachable_at_once_without_the_password() {
    let url = DatabaseUrl::parse(&format!(
        "postgres://ax:{SECRET}@127.0.0.1:{}/ax",
        closed_port()
    ))
    .expect("url");
    assert_no_secret(&format!("{url:?} {}", url.target()), SECRET);
    let started = Instant::now();
    let error = PostgresDatabase::connect(&url)
        .await
        .expect_err("nothing listens there");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(error.is_unreachable(), "{error:?}");
    let text = full_text(&error);
    assert!(text.contains("database unreachable"), "{text}");
    assert!(text.contains("127.0.0.1"), "names the target: {text}");
    assert!(StorageUnavailable::in_chain(&error), "{error:?}");
    assert_no_secret(&text, SECRET);
}

/// A server that accepts the TCP connection but never answers (hung, or a proxy to
/// nowhere) is given up on after the connect timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_is_unreachable_after_the_connect_timeout() {
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let url = DatabaseUrl::parse(&format!(
        "postgres://ax:{SECRET}@127.0.0.1:{port}/ax?connect_timeout=1"
    ))
    .expect("url");
    let started = Instant::now();
    let error = PostgresDatabase::connect(&url)
        .await
        .expect_err("nobody answers");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
    assert!(error.is_unreachable(), "{error:?}");
    assert_no_secret(&full_text(&error), SECRET);
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_refused_without_showing_either_password() {
    let Some(test) = TestDatabase::create() else {
        return;
    };
    let Some(real) = test.password() else {
        eprintln!("{DATABASE_URL_ENV} has no password: nothing to check");
        return;
    };
    let wrong = test.url().replacen(real, SECRET, 1);
    let url = DatabaseUrl::parse(&wrong).expect("url");
    let error = PostgresDatabase::connect(&url)
        .await
        .expect_err("authentication fails");
    assert!(!error.is_unreachable(), "{error:?}");
    let text = full_text(&error);
    assert!(text.contains("password authentication failed"), "{text}");
    assert_no_secret(&text, SECRET);
    assert_no_secret(&text, real);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_output_of_the_database_and_stores_never_shows_the_password() {
    let Some(test) = TestDatabase::create() else {
        return;
    };
    let Some(password) = test.password() else {
        return;
    };
    let db = connect(test.url()).await;
    let url = DatabaseUrl::parse(test.url()).expect("url");
    let text = format!(
        "{url:?} {db:?} {:?} {:?} {}",
        db.agent_store(),
        db.history(),
        db.target()
    );
    assert_no_secret(&text, password);
}

/// The server stops under a connected store: operations fail within 5 s with
/// "database unreachable" (never the password); once it is back, the same pool
/// reconnects by itself and every acknowledged write is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_is_unreachable_quickly_and_the_pool_reconnects_after_restart() {
    if std::env::var("AX_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
        return;
    }
    let mut cluster = match TestCluster::start() {
        Ok(cluster) => cluster,
        // With an external server configured, this machine may have no server
        // binaries; stopping someone else's server is not an option either.
        Err(error) if std::env::var(DATABASE_URL_ENV).is_ok() => {
            eprintln!("not run: needs a cluster of its own ({error})");
            return;
        }
        Err(error) => panic!("{error}"),
    };
    let password = cluster.password().to_owned();
    let db = connect(&cluster.url("postgres")).await;
    let store = db.agent_store();
    for n in 0..20 {
        store
            .insert(&record(&format!("before-{n}"), json!({})))
            .await
            .expect("insert while up");
    }

    cluster.stop().expect("stop the server");
    let started = Instant::now();
    let error = store
        .insert(&record("while-down", json!({})))
        .await
        .expect_err("the server is down");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(error, StoreError::Backend { .. }), "{error:?}");
    let text = full_text(&error);
    assert!(text.contains("database unreachable"), "{text}");
    assert_no_secret(&text, &password);
    // The domains and edges see it as STORAGE_UNAVAILABLE through the marker.
    assert!(StorageUnavailable::in_chain(&error), "{error:?}");
    assert_eq!(
        ax_agent_domain::AgentError::from(error).code(),
        ErrorCode::StorageUnavailable
    );

    let started = Instant::now();
    let error = db.history().list(10, None).await.expect_err("down");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(StorageUnavailable::in_chain(&error), "{error:?}");
    let text = full_text(&error);
    assert!(text.contains("database unreachable"), "{text}");
    assert_no_secret(&text, &password);

    let url = DatabaseUrl::parse(&cluster.url("postgres")).expect("url");
    match PostgresDatabase::connect(&url).await {
        Err(error @ PostgresError::Unreachable { .. }) => {
            assert_no_secret(&full_text(&error), &password)
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }

    cluster.restart().expect("restart the server");
    // The same pool, no reconnect call: the closed connections are replaced.
    let page = store
        .list(
            &Default::default(),
            ax_agent_domain::store::PageRequest::ALL,
        )
        .await
        .expect("the pool reconnects by itself");
    assert_eq!(page.total, 20, "every acknowledged write survived");
    assert_eq!(store.get("while-down").await.expect("get"), None);
    store
        .insert(&record("after", json!({})))
        .await
        .expect("writes work again");
}
