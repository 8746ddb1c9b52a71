//! Throw-away PKI for TLS tests: a CA, a server certificate and a client certificate.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::scenario::TlsSetup;

/// Extra DNS name on the server certificate, in Nomad's `server.<region>.nomad` form.
pub const SERVER_EXTRA_NAME: &str = "server.global.nomad";

/// A freshly generated certificate authority with one server and one client certificate,
/// all PEM-encoded. For tests only: the keys are generated in memory on every call.
///
/// The server certificate is valid for `localhost`, `127.0.0.1` and
/// [`SERVER_EXTRA_NAME`]; the client certificate is signed by the same CA.
#[derive(Debug, Clone)]
pub struct TestPki {
    /// CA certificate (PEM). Trust it on the client side (`NOMAD_CACERT`).
    pub ca_cert_pem: String,
    /// Server certificate (PEM), signed by the CA.
    pub server_cert_pem: String,
    /// Server private key (PKCS#8 PEM).
    pub server_key_pem: String,
    /// Client certificate (PEM), signed by the CA (`NOMAD_CLIENT_CERT`).
    pub client_cert_pem: String,
    /// Client private key (PKCS#8 PEM) (`NOMAD_CLIENT_KEY`).
    pub client_key_pem: String,
}

impl TestPki {
    /// Generates a new CA, server and client certificate.
    ///
    /// # Panics
    /// Only if key generation fails, which `rcgen` does not do for its default algorithm.
    pub fn new() -> Self {
        Self::generate().expect("rcgen failed to generate the test PKI")
    }

    fn generate() -> Result<Self, rcgen::Error> {
        let (ca_cert_pem, issuer) = new_ca()?;
        let server_names = vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            SERVER_EXTRA_NAME.to_string(),
        ];
        let (server_cert_pem, server_key_pem) =
            new_leaf(&issuer, server_names, ExtendedKeyUsagePurpose::ServerAuth)?;
        let (client_cert_pem, client_key_pem) = new_leaf(
            &issuer,
            vec!["client.global.nomad".to_string()],
            ExtendedKeyUsagePurpose::ClientAuth,
        )?;
        Ok(Self {
            ca_cert_pem,
            server_cert_pem,
            server_key_pem,
            client_cert_pem,
            client_key_pem,
        })
    }

    /// The server side of this PKI as a [`TlsSetup`]; with `require_client_cert` the
    /// server demands a client certificate signed by this CA (mutual TLS).
    pub fn server_setup(&self, require_client_cert: bool) -> TlsSetup {
        TlsSetup {
            ca_pem: self.ca_cert_pem.clone(),
            cert_pem: self.server_cert_pem.clone(),
            key_pem: self.server_key_pem.clone(),
            require_client_cert: require_client_cert.then(|| self.ca_cert_pem.clone()),
        }
    }
}

impl Default for TestPki {
    fn default() -> Self {
        Self::new()
    }
}

fn new_ca() -> Result<(String, Issuer<'static, KeyPair>), rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "api-double test CA");
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
    ];
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), Issuer::new(params, key)))
}

fn new_leaf(
    issuer: &Issuer<'static, KeyPair>,
    names: Vec<String>,
    usage: ExtendedKeyUsagePurpose,
) -> Result<(String, String), rcgen::Error> {
    let common_name = names.first().cloned().unwrap_or_default();
    let mut params = CertificateParams::new(names)?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![usage];
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, issuer)?;
    Ok((cert.pem(), key.serialize_pem()))
}
