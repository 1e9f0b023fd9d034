//! TLS: `sslmode=require` really encrypts and really verifies — against the CA of
//! `sslrootcert`, host name included — and refuses a server without TLS or with a
//! certificate it cannot verify, without showing the password.

use ax_adapter_postgres::test_support::{DATABASE_URL_ENV, TestCluster};
use ax_adapter_postgres::{DatabaseUrl, PostgresDatabase};

/// Display of the error and every cause, then the Debug form.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = String::new();
    let mut cause = Some(error);
    while let Some(current) = cause {
        text.push_str(&format!("{current} | "));
        cause = current.source();
    }
    format!("{text}{error:?}")
}

fn encoded(path: &std::path::Path) -> String {
    path.display()
        .to_string()
        .replace('%', "%25")
        .replace(' ', "%20")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_encrypts_and_verifies_the_server_certificate() {
    if std::env::var("AX_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
        return;
    }
    let mut cluster = match TestCluster::start() {
        Ok(cluster) => cluster,
        Err(error) if std::env::var(DATABASE_URL_ENV).is_ok() => {
            eprintln!("not run: needs a cluster of its own ({error})");
            return;
        }
        Err(error) => panic!("{error}"),
    };
    let password = cluster.password().to_owned();
    let base_url = cluster.url("postgres");
    let require = |extra: &str| {
        let base = base_url.replace("sslmode=disable", "sslmode=require");
        DatabaseUrl::parse(&format!("{base}{extra}")).expect("url")
    };

    // A server without TLS is refused under `require` (never a plaintext fallback).
    let error = PostgresDatabase::connect(&require(""))
        .await
        .expect_err("the server has no TLS yet");
    let text = chain(&error);
    assert!(!text.contains(&password), "{text}");

    let ca = cluster.enable_tls().expect("enable TLS");
    // Verified against the CA file: connects, and the session is encrypted.
    let db = PostgresDatabase::connect(&require(&format!("&sslrootcert={}", encoded(&ca))))
        .await
        .expect("TLS with the test CA");
    assert!(
        db.health().await.expect("health").tls,
        "the session is encrypted"
    );

    // The same server, not trusted by the system's roots: refused, and said so as
    // a TLS failure rather than an absent server.
    let error = PostgresDatabase::connect(&require(""))
        .await
        .expect_err("an unknown CA is not trusted");
    assert!(!error.is_unreachable(), "{error:?}");
    let text = chain(&error);
    assert!(text.contains("TLS handshake"), "{text}");
    assert!(!text.contains(&password), "{text}");
}
