//! A throw-away CA and a server certificate for 127.0.0.1 and localhost (and any extra names).

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use std::path::{Path, PathBuf};

pub struct TestCa {
    pub ca_pem: String,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca_file: PathBuf,
}

pub fn make(dir: &Path) -> TestCa {
    make_with_names(dir, &[])
}

/// As [`make`], with the server certificate also naming `extra_names` (DNS names, such as the
/// `helm.ngc.nvidia.com` that NGC's client hard-codes).
pub fn make_with_names(dir: &Path, extra_names: &[&str]) -> TestCa {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "Hangar test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::CrlSign,
    ];
    let ca_key = KeyPair::generate().expect("CA key");
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA cert");
    let issuer = Issuer::new(ca_params, ca_key);

    let mut names = vec!["127.0.0.1".to_string(), "localhost".to_string()];
    names.extend(extra_names.iter().map(|n| n.to_string()));
    let mut params = CertificateParams::new(names).expect("params");
    params.distinguished_name.push(DnType::CommonName, "127.0.0.1");
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().expect("server key");
    let cert = params.signed_by(&key, &issuer).expect("server cert");

    let files = TestCa {
        ca_pem: ca_cert.pem(),
        cert: dir.join("server.pem"),
        key: dir.join("server-key.pem"),
        ca_file: dir.join("ca.pem"),
    };
    std::fs::write(&files.cert, cert.pem()).expect("write cert");
    std::fs::write(&files.key, key.serialize_pem()).expect("write key");
    std::fs::write(&files.ca_file, &files.ca_pem).expect("write CA");
    files
}
