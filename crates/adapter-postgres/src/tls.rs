//! TLS for `sslmode=require` (and `prefer`): rustls with the `ring` provider, as
//! the rest of the workspace uses it, and the platform's certificate verifier (the
//! system's trusted roots, as the HTTP providers use them).
//!
//! The provider is passed explicitly rather than installed process-wide, so this
//! crate works whichever provider (if any) the application installed.

use std::sync::Arc;

use rustls::ClientConfig;
use rustls_platform_verifier::BuilderVerifierExt;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::PostgresError;

/// A TLS connector that verifies the server's certificate chain and host name.
pub(crate) fn connector() -> Result<MakeRustlsConnect, PostgresError> {
    let tls = |source| PostgresError::Tls { source };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls)?
        .with_platform_verifier()
        .map_err(tls)?
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}
