//! The system's root certificates, read once for every HTTPS client of a function (feature
//! `https`).
//!
//! Reading them is most of a TLS client's start-up: rustls-native-certs reads the system's
//! bundle and every file of its certificate directory and decodes their PEM (about 2 ms for 145
//! certificates on this Debian host, timed in a loop of `load_native_certs`), where turning them
//! into trust anchors takes 0.06 ms. A function with two HTTPS clients (enrichment-consumer: AWS
//! and the fare API) read them twice per cold start when each client loaded its own. With
//! [`Roots`] the function reads them once, and every client it builds on
//! [`crate::https::connector`] ([`crate::aws::AwsClient::from_env_with_roots`] included) trusts
//! the same certificates.

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;

/// Root certificates the TLS stack can use (each one checked to parse as a trust anchor).
#[derive(Clone)]
pub struct Roots {
    certs: Vec<CertificateDer<'static>>,
}

impl std::fmt::Debug for Roots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Roots")
            .field("certificates", &self.certs.len())
            .finish()
    }
}

impl Roots {
    /// The system's root certificates, where the AWS SDKs' clients find them (rustls-native-certs:
    /// `SSL_CERT_FILE` / `SSL_CERT_DIR`, else the platform's bundle and directory). A file
    /// that cannot be read is logged and skipped, as the SDK's client does.
    ///
    /// # Errors
    /// When no usable root certificate is found: no HTTPS call could succeed.
    pub fn load() -> std::io::Result<Self> {
        let found = rustls_native_certs::load_native_certs();
        for error in &found.errors {
            tracing::warn!(%error, "a root certificate source could not be read");
        }
        Self::from_certificates(found.certs)
    }

    /// The certificates of `certs` that parse as trust anchors.
    ///
    /// # Errors
    /// When none does.
    pub fn from_certificates(certs: Vec<CertificateDer<'static>>) -> std::io::Result<Self> {
        let certs: Vec<_> = certs
            .into_iter()
            .filter(|cert| RootCertStore::empty().add(cert.clone()).is_ok())
            .collect();
        if certs.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no usable root certificate found (the system's CA bundle is missing or empty)",
            ));
        }
        Ok(Self { certs })
    }

    /// How many certificates there are.
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// Never: a [`Roots`] holds at least one certificate.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// A rustls root store of the certificates, for a function's own HTTPS client.
    pub fn store(&self) -> RootCertStore {
        let mut store = RootCertStore::empty();
        store.add_parsable_certificates(self.certs.iter().cloned());
        store
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The system's roots, as the functions read them (every host running the tests has some:
    /// the SDK's own tests need them).
    fn system() -> Roots {
        Roots::load().expect("the system's root certificates")
    }

    #[test]
    fn every_certificate_is_an_anchor_of_the_store() {
        let roots = system();
        assert!(!roots.is_empty());
        assert_eq!(roots.store().len(), roots.len());
    }

    #[test]
    fn certificates_that_are_not_anchors_are_left_out_and_none_is_an_error() {
        let roots = system();
        let mut certs = roots.certs.clone();
        certs.push(CertificateDer::from(b"not a certificate".to_vec()));
        let kept = Roots::from_certificates(certs).expect("roots");
        assert_eq!(kept.len(), roots.len());
        let none = Roots::from_certificates(vec![CertificateDer::from(vec![0x30, 0x00])]);
        assert_eq!(
            none.expect_err("no anchors").kind(),
            std::io::ErrorKind::NotFound
        );
    }
}
