//! Model and resource signatures made by the server (Catalog guide §16.6; OpenSSF model
//! signing, read by PyPI `model-signing` 1.1.1): an in-toto statement of every file's path and
//! SHA-256 (digests the store already knows: no byte is read again), in a DSSE envelope signed
//! with the org's certificate, in a sigstore bundle (v0.3) that carries the certificate chain.
//!
//! One root CA per installation, made on first use by whichever replica: one trust anchor for
//! every org, served at `/v2/catalog/models/public-key` as NVIDIA serves theirs; each org gets its
//! own certificate from it (its name in the subject), so a signature says which org signed.
//! Their private keys are kept in the database sealed with the server's signing secret
//! (`--signing-secret-file`, as `cosign.key` files are sealed), never returned.

use super::error::{DomainError, DomainResult};
use crate::state::AppState;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hangar_core::cosign;
use hangar_store::meta::{ArtifactVersion, Org};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::rand_core::OsRng;
use p256::pkcs8::DecodePrivateKey;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

const ROOT_SETTING: &str = "model_signing_root";
const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// A certificate the server holds, with its sealed key (as stored).
#[derive(Serialize, Deserialize)]
struct Held {
    cert_pem: String,
    sealed_key: String,
}

fn secret(state: &AppState) -> DomainResult<&str> {
    state.settings.signing_secret.as_deref().ok_or_else(|| {
        DomainError::Conflict("this server signs nothing: start hangar serve with --signing-secret-file".into())
    })
}

fn internal(e: impl std::fmt::Display) -> DomainError {
    DomainError::Internal(format!("model signing: {e}"))
}

/// The root's name and powers; the same every time, so an issuer is rebuilt from its key.
fn root_params() -> DomainResult<CertificateParams> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(internal)?;
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "Hangar");
    name.push(DnType::CommonName, "Hangar model signing root");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

/// Makes a key and its certificate (by `make`, given the key), seals the key and stores both
/// under `setting`; when replicas race, the first one stored is the one (and is returned).
async fn create(
    state: &AppState,
    setting: &str,
    make: impl FnOnce(&KeyPair) -> DomainResult<String>,
) -> DomainResult<Held> {
    let password = secret(state)?;
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(internal)?;
    let sealed_key = cosign::seal(&key.serialize_der(), password.as_bytes(), &mut OsRng).map_err(internal)?;
    let made = serde_json::to_string(&Held {
        cert_pem: make(&key)?,
        sealed_key,
    })
    .map_err(internal)?;
    parse(&state.meta.setting_or_init(setting, || made).await?)
}

fn parse(stored: &str) -> DomainResult<Held> {
    serde_json::from_str(stored).map_err(internal)
}

/// A held certificate's key, opened with the server's signing secret (a deliberately slow
/// derivation: only when signing).
fn open_key(state: &AppState, held: &Held) -> DomainResult<KeyPair> {
    let der = cosign::open(&held.sealed_key, secret(state)?.as_bytes()).map_err(|e| {
        DomainError::Internal(format!(
            "the stored signing key does not open with this server's signing secret ({e}); every replica needs the same --signing-secret-file"
        ))
    })?;
    KeyPair::try_from(der.as_slice()).map_err(internal)
}

/// The installation's root, made on first use.
async fn root(state: &AppState) -> DomainResult<Held> {
    match state.meta.setting(ROOT_SETTING).await? {
        Some(stored) => parse(&stored),
        None => {
            create(state, ROOT_SETTING, |key| {
                Ok(root_params()?.self_signed(key).map_err(internal)?.pem())
            })
            .await
        }
    }
}

/// The installation's root certificate (PEM), made on first use; reading it opens no key.
pub async fn root_pem(state: &AppState) -> DomainResult<String> {
    Ok(root(state).await?.cert_pem)
}

fn org_setting(org: &Org) -> String {
    format!("model_signing_org_{}", org.id)
}

/// The org's signing certificate (PEM) if the server has made it; reading it opens no key.
pub async fn org_certificate(state: &AppState, org: &Org) -> DomainResult<Option<String>> {
    match state.meta.setting(&org_setting(org)).await? {
        Some(stored) => Ok(Some(parse(&stored)?.cert_pem)),
        None => Ok(None),
    }
}

/// The org's signing certificate, issued by the root on first use.
async fn org_held(state: &AppState, org: &Org) -> DomainResult<Held> {
    let setting = org_setting(org);
    if let Some(stored) = state.meta.setting(&setting).await? {
        return parse(&stored);
    }
    let root = root(state).await?;
    let issuer = Issuer::new(root_params()?, open_key(state, &root)?);
    create(state, &setting, |key| {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(internal)?;
        let mut name = DistinguishedName::new();
        name.push(DnType::OrganizationName, org.name.clone());
        name.push(DnType::CommonName, format!("{} model signing", org.name));
        params.distinguished_name = name;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
        Ok(params.signed_by(key, &issuer).map_err(internal)?.pem())
    })
    .await
}

/// The org's signing certificate (PEM), made on first use; when it is there already no key is
/// opened (a deliberately slow derivation).
pub async fn org_certificate_made(state: &AppState, org: &Org) -> DomainResult<String> {
    Ok(org_held(state, org).await?.cert_pem)
}

/// The org's server-held key (made on first use), which signs its models, resources and
/// images, and its certificate (PEM).
pub async fn org_signing_key(state: &AppState, org: &Org) -> DomainResult<(SigningKey, String)> {
    let held = org_held(state, org).await?;
    let key = open_key(state, &held)?;
    let signing = SigningKey::from_pkcs8_der(&key.serialize_der()).map_err(internal)?;
    Ok((signing, held.cert_pem))
}

fn der_of(pem: &str) -> DomainResult<Vec<u8>> {
    Ok(p256::pkcs8::der::pem::decode_vec(pem.as_bytes()).map_err(internal)?.1)
}

/// DSSE's pre-authentication encoding of a payload.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

/// Signs `version` (named `name` in the statement, as `ngc` names its folder) with the org's
/// certificate; stores and returns the bundle.
pub async fn sign_version(
    state: &AppState,
    org: &Org,
    name: &str,
    version: &ArtifactVersion,
    signed_by: Option<i64>,
) -> DomainResult<String> {
    let mut files = state.meta.version_files(version.id).await?;
    if files.is_empty() {
        return Err(DomainError::Invalid("a version without files cannot be signed".into()));
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut whole = Sha256::new();
    let mut resources = vec![];
    for file in &files {
        let hex = file.digest.strip_prefix("sha256:").unwrap_or(&file.digest);
        whole.update(hex::decode(hex).map_err(internal)?);
        resources.push(json!({"algorithm": "sha256", "name": file.path, "digest": hex}));
    }
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": name, "digest": {"sha256": hex::encode(whole.finalize())}}],
        "predicateType": "https://model_signing/signature/v1.0",
        "predicate": {
            "serialization": {
                "allow_symlinks": false, "hash_type": "sha256",
                "ignore_paths": [".github", ".gitignore", ".gitattributes", ".git"], "method": "files",
            },
            "resources": resources,
        },
    });
    let payload = serde_json::to_vec(&statement).map_err(internal)?;
    let (signing, cert) = org_signing_key(state, org).await?;
    let root = root_pem(state).await?;
    let signature: Signature = signing.sign(&pae(PAYLOAD_TYPE, &payload));
    let bundle = json!({
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {
            "x509CertificateChain": {"certificates": [
                {"rawBytes": STANDARD.encode(der_of(&cert)?)},
                {"rawBytes": STANDARD.encode(der_of(&root)?)},
            ]},
            "tlogEntries": [],
        },
        "dsseEnvelope": {
            "payload": STANDARD.encode(&payload),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{"sig": STANDARD.encode(signature.to_der().as_bytes()), "keyid": ""}],
        },
    });
    let bundle = serde_json::to_string(&bundle).map_err(internal)?;
    state.meta.set_version_signature(version.id, &bundle, signed_by).await?;
    Ok(bundle)
}
