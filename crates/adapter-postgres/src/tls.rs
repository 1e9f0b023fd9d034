//! TLS for `sslmode=require` (and `prefer`): rustls with the `ring` provider, as
//! the rest of the workspace uses it, and the platform's certificate verifier (the
//! system's trusted roots, as the HTTP providers use them) — or, with
//! `sslrootcert`, only the CA certificates of that file (a managed PostgreSQL's own
//! CA, a team's private one). Either way the chain and the host name are checked.
//!
//! The provider is passed explicitly rather than installed process-wide, so this
//! crate works whichever provider (if any) the application installed.

use std::path::Path;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};
use rustls_platform_verifier::BuilderVerifierExt;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::PostgresError;

/// A TLS connector that verifies the server's certificate chain (against
/// `root_cert`'s CAs when given, the system's otherwise) and host name.
pub(crate) fn connector(root_cert: Option<&Path>) -> Result<MakeRustlsConnect, PostgresError> {
    let tls = |source| PostgresError::Tls { source };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(tls)?;
    let config = match root_cert {
        None => builder.with_platform_verifier().map_err(tls)?,
        Some(path) => {
            let mut roots = RootCertStore::empty();
            let unreadable = |detail: String| PostgresError::RootCert {
                path: path.to_owned(),
                detail,
            };
            for cert in
                CertificateDer::pem_file_iter(path).map_err(|e| unreadable(e.to_string()))?
            {
                let cert = cert.map_err(|e| unreadable(e.to_string()))?;
                roots.add(cert).map_err(|e| unreadable(e.to_string()))?;
            }
            if roots.is_empty() {
                return Err(unreadable("no certificate in it".into()));
            }
            let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| unreadable(e.to_string()))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(verifier)
        }
    }
    .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}
