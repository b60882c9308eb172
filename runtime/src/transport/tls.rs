//! The TLS configuration of the transport.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::{TransportConfig, config_error};

/// The TLS configuration: rustls with ring *as this client's provider* (no
/// process-wide default is installed or read), the system's roots plus any
/// extra ones, an optional client identity.
pub(crate) fn tls_config(config: &TransportConfig) -> crate::Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = Vec::new();
    for pem in &config.extra_roots_pem {
        let mut found = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| {
                config_error(format!("an extra root certificate is not valid PEM: {e}"))
            })?;
            roots.push(cert);
            found += 1;
        }
        if found == 0 {
            return Err(config_error(
                "no certificate found in the extra root certificates' PEM".into(),
            ));
        }
    }
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(roots, provider.clone())
            .map_err(|e| config_error(format!("could not set up TLS verification: {e}")))?;
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error(format!("could not set up TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let tls = match &config.identity_pem {
        None => builder.with_no_client_auth(),
        Some((chain_pem, key_pem)) => {
            let chain = CertificateDer::pem_slice_iter(chain_pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    config_error(format!("the client certificate is not valid PEM: {e}"))
                })?;
            if chain.is_empty() {
                return Err(config_error(
                    "no certificate found in the client certificate PEM".into(),
                ));
            }
            // The key's own parse error may quote it: not shown.
            let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|_| {
                config_error(
                    "the client key is not a PEM private key (PKCS#8, PKCS#1 or SEC1)".into(),
                )
            })?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                config_error(format!("the client certificate and key do not fit: {e}"))
            })?
        }
    };
    // ALPN (h2, http/1.1) is set by hyper-rustls, which requires it empty.
    Ok(tls)
}
