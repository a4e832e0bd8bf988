//! Model and resource signatures a publisher made on their own machine (`model_signing sign key`
//! or `sign certificate`, PyPI model-signing 1.1.1), checked before they are kept: the DSSE
//! signature must verify with a key the org trusts (or with a certificate whose chain leads to
//! one), and the in-toto statement must name exactly the version's files with their SHA-256.
//! A refusal says which file or key failed.

use super::error::{DomainError, DomainResult};
use super::model_signing::pae;
use super::trust::{self, Verifier, key_of_certificate};
use crate::state::AppState;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hangar_store::meta::{ArtifactVersion, Org, VersionFile};
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use serde::Deserialize;
use std::collections::BTreeMap;

/// A bundle larger than this is refused (real ones are a few KB, a chain included).
pub const MAX_BUNDLE: usize = 1 << 20;
const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bundle {
    media_type: String,
    verification_material: Material,
    dsse_envelope: Envelope,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Material {
    public_key: Option<serde_json::Value>,
    x509_certificate_chain: Option<Chain>,
    certificate: Option<RawBytes>,
}

#[derive(Deserialize)]
struct Chain {
    certificates: Vec<RawBytes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBytes {
    raw_bytes: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    payload: String,
    payload_type: String,
    signatures: Vec<EnvelopeSignature>,
}

#[derive(Deserialize)]
struct EnvelopeSignature {
    sig: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Statement {
    predicate_type: String,
    predicate: Predicate,
}

#[derive(Deserialize)]
struct Predicate {
    serialization: Serialization,
    resources: Vec<Resource>,
}

#[derive(Deserialize)]
struct Serialization {
    method: String,
}

#[derive(Deserialize)]
struct Resource {
    name: String,
    digest: String,
    algorithm: String,
}

fn refused(why: impl Into<String>) -> DomainError {
    DomainError::Invalid(format!("signature refused: {}", why.into()))
}

fn decode(what: &str, text: &str) -> DomainResult<Vec<u8>> {
    STANDARD
        .decode(text.trim())
        .map_err(|_| refused(format!("its {what} is not base64")))
}

fn verifies(key: &VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
    Signature::from_der(signature).is_ok_and(|s| key.verify(message, &s).is_ok())
}

/// The name of the trusted key the certificate chain leads to: the leaf or a certificate of the
/// chain is registered, or a registered certificate issued the top of the chain; every link is
/// checked.
fn chain_trust(chain: &[Vec<u8>], verifiers: &[Verifier]) -> DomainResult<String> {
    let parsed: Vec<x509_parser::certificate::X509Certificate> = chain
        .iter()
        .map(|der| {
            x509_parser::parse_x509_certificate(der)
                .map(|(_, c)| c)
                .map_err(|e| refused(format!("a certificate of its chain cannot be read ({e})")))
        })
        .collect::<DomainResult<_>>()?;
    for (index, cert) in parsed.iter().enumerate() {
        if !cert.validity().is_valid() {
            return Err(refused(format!(
                "certificate '{}' of its chain is expired or not yet valid",
                cert.subject()
            )));
        }
        let spki = cert.public_key().raw;
        if let Some(v) = verifiers.iter().find(|v| {
            use p256::pkcs8::EncodePublicKey;
            v.key.to_public_key_der().is_ok_and(|d| d.as_bytes() == spki)
        }) {
            return Ok(v.name.clone());
        }
        // Not trusted itself: it must be issued by the next certificate (a CA), or by a
        // registered CA certificate.
        match parsed.get(index + 1) {
            Some(issuer) => {
                let issued = is_ca(issuer) && cert.verify_signature(Some(issuer.public_key())).is_ok();
                if !issued {
                    return Err(refused(format!(
                        "certificate '{}' of its chain is not issued by the next one ('{}', which must be a CA)",
                        cert.subject(),
                        issuer.subject()
                    )));
                }
            }
            None => {
                for v in verifiers {
                    let Some(anchor_der) = &v.certificate_der else { continue };
                    let Ok((_, anchor)) = x509_parser::parse_x509_certificate(anchor_der) else {
                        continue;
                    };
                    if is_ca(&anchor)
                        && anchor.validity().is_valid()
                        && cert.verify_signature(Some(anchor.public_key())).is_ok()
                    {
                        return Ok(v.name.clone());
                    }
                }
            }
        }
    }
    Err(refused(format!(
        "its certificate chain leads to no key or certificate the org trusts ({})",
        names(verifiers)
    )))
}

/// Whether a certificate may issue others (basic constraints, CA).
fn is_ca(cert: &x509_parser::certificate::X509Certificate) -> bool {
    cert.basic_constraints().ok().flatten().is_some_and(|b| b.value.ca)
}

fn names(verifiers: &[Verifier]) -> String {
    if verifiers.is_empty() {
        "the org trusts none yet".to_string()
    } else {
        let names: Vec<&str> = verifiers.iter().map(|v| v.name.as_str()).collect();
        format!("trusted: {}", names.join(", "))
    }
}

/// The trusted key that verifies the envelope: the name it is registered under.
fn signer(material: &Material, verifiers: &[Verifier], message: &[u8], signature: &[u8]) -> DomainResult<String> {
    let chain: Vec<Vec<u8>> = match (&material.x509_certificate_chain, &material.certificate) {
        (Some(chain), _) => chain
            .certificates
            .iter()
            .map(|c| decode("certificate", &c.raw_bytes))
            .collect::<DomainResult<_>>()?,
        (None, Some(cert)) => vec![decode("certificate", &cert.raw_bytes)?],
        (None, None) if material.public_key.is_some() => {
            return verifiers
                .iter()
                .find(|v| verifies(&v.key, message, signature))
                .map(|v| v.name.clone())
                .ok_or_else(|| {
                    refused(format!(
                        "no key the org trusts verifies it ({}); register the signer's public key with `hangar key signing add`",
                        names(verifiers)
                    ))
                });
        }
        (None, None) => return Err(refused("it carries neither a public key hint nor a certificate")),
    };
    let leaf = chain.first().ok_or_else(|| refused("its certificate chain is empty"))?;
    let (leaf_key, _) = key_of_certificate(leaf)?;
    if !verifies(&leaf_key, message, signature) {
        return Err(refused("it does not verify with the key of its own certificate"));
    }
    chain_trust(&chain, verifiers)
}

/// Compares the signed files with the version's: each must be there with the same SHA-256.
fn check_files(resources: &[Resource], files: &[VersionFile]) -> DomainResult<()> {
    let mut signed: BTreeMap<&str, &str> = BTreeMap::new();
    for r in resources {
        if r.algorithm != "sha256" {
            return Err(refused(format!(
                "file '{}' is hashed with {}, not sha256",
                r.name, r.algorithm
            )));
        }
        signed.insert(&r.name, &r.digest);
    }
    for file in files {
        let hex = file.digest.strip_prefix("sha256:").unwrap_or(&file.digest);
        match signed.remove(file.path.as_str()) {
            None => return Err(refused(format!("file '{}' of the version is not in it", file.path))),
            Some(digest) if digest != hex => {
                return Err(refused(format!(
                    "file '{}' has sha256 {digest} in it, but {hex} in the version",
                    file.path
                )));
            }
            Some(_) => {}
        }
    }
    match signed.keys().next() {
        Some(extra) => Err(refused(format!(
            "it signs file '{extra}', which the version does not have"
        ))),
        None => Ok(()),
    }
}

/// Checks a publisher's bundle against the version's files and the org's trusted keys and
/// keeps it as the version's signature; answers the name of the key that verified it.
pub async fn accept(
    state: &AppState,
    org: &Org,
    version: &ArtifactVersion,
    bundle: &[u8],
    signed_by: Option<i64>,
) -> DomainResult<String> {
    if bundle.len() > MAX_BUNDLE {
        return Err(DomainError::TooLarge(format!(
            "a signature bundle may be at most {MAX_BUNDLE} bytes"
        )));
    }
    let parsed: Bundle =
        serde_json::from_slice(bundle).map_err(|e| refused(format!("it is not a sigstore bundle ({e})")))?;
    if !parsed.media_type.starts_with("application/vnd.dev.sigstore.bundle") {
        return Err(refused(format!("its media type is '{}'", parsed.media_type)));
    }
    let envelope = &parsed.dsse_envelope;
    if envelope.payload_type != PAYLOAD_TYPE {
        return Err(refused(format!("its payload type is '{}'", envelope.payload_type)));
    }
    let [only] = envelope.signatures.as_slice() else {
        return Err(refused("it must carry exactly one signature"));
    };
    let payload = decode("payload", &envelope.payload)?;
    let signature = decode("signature", &only.sig)?;
    let verifiers = trust::verifiers(state, org).await?;
    let key = signer(
        &parsed.verification_material,
        &verifiers,
        &pae(&envelope.payload_type, &payload),
        &signature,
    )?;
    let statement: Statement = serde_json::from_slice(&payload)
        .map_err(|e| refused(format!("its payload is not an in-toto statement ({e})")))?;
    if statement.predicate_type != PREDICATE_TYPE {
        return Err(refused(format!(
            "its predicate is '{}', not {PREDICATE_TYPE}",
            statement.predicate_type
        )));
    }
    if statement.predicate.serialization.method != "files" {
        return Err(refused(format!(
            "it hashes by '{}'; only model_signing's default, files, is accepted",
            statement.predicate.serialization.method
        )));
    }
    let files = state.meta.version_files(version.id).await?;
    check_files(&statement.predicate.resources, &files)?;
    let text = std::str::from_utf8(bundle).map_err(|_| refused("it is not UTF-8 JSON"))?;
    state.meta.set_version_signature(version.id, text, signed_by).await?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, hex: &str) -> VersionFile {
        VersionFile {
            path: path.into(),
            digest: format!("sha256:{hex}"),
            size: 1,
        }
    }

    fn resource(name: &str, digest: &str) -> Resource {
        Resource {
            name: name.into(),
            digest: digest.into(),
            algorithm: "sha256".into(),
        }
    }

    #[test]
    fn the_signed_files_must_be_the_versions_files() {
        let files = [file("a.bin", "aa"), file("sub/b.txt", "bb")];
        assert!(check_files(&[resource("sub/b.txt", "bb"), resource("a.bin", "aa")], &files).is_ok());
        let changed = check_files(&[resource("a.bin", "ab"), resource("sub/b.txt", "bb")], &files);
        assert!(changed.unwrap_err().to_string().contains("file 'a.bin' has sha256 ab"));
        let missing = check_files(&[resource("a.bin", "aa")], &files);
        assert!(
            missing
                .unwrap_err()
                .to_string()
                .contains("'sub/b.txt' of the version is not in it")
        );
        let extra = check_files(
            &[
                resource("a.bin", "aa"),
                resource("sub/b.txt", "bb"),
                resource("c", "cc"),
            ],
            &files,
        );
        assert!(extra.unwrap_err().to_string().contains("signs file 'c'"));
    }
}
