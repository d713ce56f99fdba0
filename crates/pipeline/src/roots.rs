//! The system's root certificates, read once for every HTTPS client of a function (feature
//! `https`).
//!
//! Reading them is most of a TLS client's start-up. `rustls_native_certs::load_native_certs`
//! reads the system's bundle and then every file of each certificate directory it finds, and
//! decodes their PEM: 2.5 ms a call on this Debian host (bundle plus 147 files of
//! `/etc/ssl/certs`), where the bundle alone takes 0.5 ms and turning the certificates into
//! trust anchors 0.06 ms (`crates/pipeline/examples/roots_time.rs`). The directories hold the
//! same certificates as the bundle, one per file: Debian's `update-ca-certificates` and Amazon
//! Linux's `update-ca-trust` (Lambda's provided.al2023) write both from one source. So when the
//! environment does not name the roots, [`Roots::load`] reads the system's bundle alone, as
//! OpenSSL does at start-up (it reads its CA directory only on a lookup by hash); a certificate
//! put in a directory by hand, without the bundle being regenerated, is then not trusted, and
//! `SSL_CERT_DIR` makes it so. On this host the one certificate of `/etc/ssl/certs` not in its
//! bundle is `ssl-cert-snakeoil.pem`, the host's self-signed placeholder, which Debian leaves out
//! of the bundle on purpose and the full read trusted as a root.
//!
//! A function with two HTTPS clients (enrichment-consumer: AWS and the fare API) reads them once:
//! every client it builds on [`crate::https::connector`]
//! ([`crate::aws::AwsClient::from_env_with_roots`] included) trusts the same certificates.

use std::path::PathBuf;

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
    /// The system's root certificates. When `SSL_CERT_FILE` or `SSL_CERT_DIR` is set, exactly
    /// what they name (rustls-native-certs' rule, the AWS SDKs' clients'); otherwise the
    /// system's CA bundle where openssl-probe finds one, else every certificate directory it
    /// finds (see the module's documentation). A file that cannot be read is logged and
    /// skipped, as the SDK's client does.
    ///
    /// # Errors
    /// When no usable root certificate is found: no HTTPS call could succeed.
    pub fn load() -> std::io::Result<Self> {
        let named = ["SSL_CERT_FILE", "SSL_CERT_DIR"]
            .iter()
            .any(|name| std::env::var_os(name).is_some());
        let found = Source::choose(named, || openssl_probe::probe().cert_file).read();
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

/// Where [`Roots::load`] reads the certificates.
#[derive(Debug, PartialEq, Eq)]
enum Source {
    /// The system's CA bundle alone.
    Bundle(PathBuf),
    /// `rustls_native_certs::load_native_certs`: the environment's files and directories, else
    /// the system's bundle and every directory.
    Native,
}

impl Source {
    /// `named`: the environment names the roots; `bundle`: the system's CA bundle, if any.
    fn choose(named: bool, bundle: impl FnOnce() -> Option<PathBuf>) -> Self {
        if named {
            return Self::Native;
        }
        bundle().map_or(Self::Native, Self::Bundle)
    }

    fn read(&self) -> rustls_native_certs::CertificateResult {
        match self {
            Self::Bundle(file) => rustls_native_certs::load_certs_from_paths(Some(file), None),
            Self::Native => rustls_native_certs::load_native_certs(),
        }
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
    fn the_environment_names_the_roots_else_the_bundle_alone_is_read() {
        let bundle = || Some(PathBuf::from("/etc/ssl/certs/ca-certificates.crt"));
        assert_eq!(Source::choose(true, bundle), Source::Native);
        assert_eq!(
            Source::choose(false, bundle),
            Source::Bundle(PathBuf::from("/etc/ssl/certs/ca-certificates.crt"))
        );
        assert_eq!(Source::choose(false, || None), Source::Native);
    }

    /// A bundle source reads that file alone: a certificate beside it is not read.
    #[test]
    fn a_bundle_source_reads_the_bundle_alone() {
        let system = openssl_probe::probe()
            .cert_file
            .expect("this host's CA bundle");
        let text = std::fs::read_to_string(&system).expect("the CA bundle");
        const END: &str = "-----END CERTIFICATE-----\n";
        let pems: Vec<&str> = text
            .split_inclusive(END)
            .filter(|pem| pem.contains("BEGIN"))
            .take(3)
            .collect();
        assert_eq!(pems.len(), 3, "{system:?} holds fewer than 3 certificates");
        let dir = tempfile::tempdir().expect("temporary directory");
        let bundle = dir.path().join("bundle.crt");
        std::fs::write(&bundle, pems[..2].concat()).expect("bundle");
        std::fs::write(dir.path().join("beside.pem"), pems[2]).expect("beside");
        let read = Source::Bundle(bundle).read();
        assert!(read.errors.is_empty(), "{:?}", read.errors);
        let third = Source::Bundle(dir.path().join("beside.pem")).read().certs;
        assert_eq!(read.certs.len(), 2);
        assert!(!read.certs.contains(&third[0]));
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
