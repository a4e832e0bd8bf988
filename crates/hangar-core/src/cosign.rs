//! Cosign's formats, so that keys made here sign with cosign-compatible clients (skopeo 1.9's
//! `--sign-by-sigstore-private-key`, cosign) and their signatures verify here:
//! - a key pair is ECDSA P-256: `cosign.pub` is its SubjectPublicKeyInfo PEM; `cosign.key` is
//!   its PKCS#8 document encrypted as go-tuf's `encrypted` package does (scrypt N=32768 r=8 p=1
//!   derives a 32-byte key from the password; NaCl secretbox seals; the JSON of both, in a PEM
//!   block `ENCRYPTED COSIGN PRIVATE KEY`, the type skopeo 1.9 accepts);
//! - a signature is the base64 of an ASN.1 DER ECDSA signature over the SHA-256 of the payload
//!   (a simple-signing JSON naming the manifest digest), carried in the signature layer's
//!   `dev.cosignproject.cosign/signature` annotation.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crypto_secretbox::XSalsa20Poly1305;
use crypto_secretbox::aead::{Aead, KeyInit};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::elliptic_curve::rand_core::CryptoRngCore;
use p256::pkcs8::der::pem::{self, LineEnding};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub const PRIVATE_KEY_PEM_TYPE: &str = "ENCRYPTED COSIGN PRIVATE KEY";
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The media type of a signature layer's payload.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";

/// scrypt's cost: log2(N) = 15, r = 8, p = 1 (go-tuf's constants; other values are refused
/// when decrypting, so a tampered file cannot ask for a costly derivation).
const SCRYPT_LOG_N: u8 = 15;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CosignError {
    #[error("not a cosign key: {0}")]
    Key(String),
    #[error("wrong password, or the key file is damaged")]
    Password,
}

/// A new key pair's two files.
pub struct KeyPair {
    /// `cosign.key`: the private key, encrypted with the password.
    pub private_pem: String,
    /// `cosign.pub`.
    pub public_pem: String,
}

#[derive(Serialize, Deserialize)]
struct Encrypted {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: KdfParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct KdfParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

fn box_key(password: &[u8], salt: &[u8]) -> Result<crypto_secretbox::Key, CosignError> {
    let params =
        scrypt::Params::new(SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P, 32).map_err(|e| CosignError::Key(e.to_string()))?;
    let mut key = crypto_secretbox::Key::default();
    scrypt::scrypt(password, salt, &params, &mut key).map_err(|e| CosignError::Key(e.to_string()))?;
    Ok(key)
}

/// `plaintext` (a PKCS#8 document) encrypted with `password` as a `cosign.key` PEM.
pub fn seal(plaintext: &[u8], password: &[u8], rng: &mut impl CryptoRngCore) -> Result<String, CosignError> {
    let mut salt = [0u8; 32];
    let mut nonce = [0u8; 24];
    rng.fill_bytes(&mut salt);
    rng.fill_bytes(&mut nonce);
    let sealed = XSalsa20Poly1305::new(&box_key(password, &salt)?)
        .encrypt(&nonce.into(), plaintext)
        .map_err(|_| CosignError::Key("sealing failed".into()))?;
    let document = Encrypted {
        kdf: Kdf {
            name: "scrypt".into(),
            params: KdfParams {
                n: 1 << SCRYPT_LOG_N,
                r: SCRYPT_R,
                p: SCRYPT_P,
            },
            salt: STANDARD.encode(salt),
        },
        cipher: Cipher {
            name: "nacl/secretbox".into(),
            nonce: STANDARD.encode(nonce),
        },
        ciphertext: STANDARD.encode(sealed),
    };
    let json = serde_json::to_vec(&document).map_err(|e| CosignError::Key(e.to_string()))?;
    pem::encode_string(PRIVATE_KEY_PEM_TYPE, LineEnding::LF, &json).map_err(|e| CosignError::Key(e.to_string()))
}

/// What [`seal`] sealed, opened with `password`.
pub fn open(private_pem: &str, password: &[u8]) -> Result<Vec<u8>, CosignError> {
    let (label, json) = pem::decode_vec(private_pem.as_bytes()).map_err(|e| CosignError::Key(e.to_string()))?;
    if label != PRIVATE_KEY_PEM_TYPE && label != "ENCRYPTED SIGSTORE PRIVATE KEY" {
        return Err(CosignError::Key(format!("a PEM block '{label}'")));
    }
    let document: Encrypted = serde_json::from_slice(&json).map_err(|e| CosignError::Key(e.to_string()))?;
    let params = &document.kdf.params;
    if document.kdf.name != "scrypt"
        || document.cipher.name != "nacl/secretbox"
        || (params.n, params.r, params.p) != (1 << SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P)
    {
        return Err(CosignError::Key("unexpected key derivation or cipher".into()));
    }
    let field = |b64: &str| STANDARD.decode(b64).map_err(|e| CosignError::Key(e.to_string()));
    let nonce: [u8; 24] = field(&document.cipher.nonce)?
        .try_into()
        .map_err(|_| CosignError::Key("a nonce that is not 24 bytes".into()))?;
    XSalsa20Poly1305::new(&box_key(password, &field(&document.kdf.salt)?)?)
        .decrypt(&nonce.into(), field(&document.ciphertext)?.as_slice())
        .map_err(|_| CosignError::Password)
}

/// A new P-256 key pair, the private half encrypted with `password`.
pub fn generate(password: &[u8], rng: &mut impl CryptoRngCore) -> Result<KeyPair, CosignError> {
    let secret = p256::SecretKey::random(rng);
    let pkcs8 = secret.to_pkcs8_der().map_err(|e| CosignError::Key(e.to_string()))?;
    let private_pem = seal(pkcs8.as_bytes(), password, rng)?;
    let public_pem = secret
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| CosignError::Key(e.to_string()))?;
    Ok(KeyPair {
        private_pem,
        public_pem,
    })
}

/// The private key of a `cosign.key`, decrypted with `password`.
pub fn decrypt(private_pem: &str, password: &[u8]) -> Result<p256::SecretKey, CosignError> {
    p256::SecretKey::from_pkcs8_der(&open(private_pem, password)?).map_err(|e| CosignError::Key(e.to_string()))
}

/// The public key of a `cosign.pub` (a P-256 SubjectPublicKeyInfo PEM).
pub fn public_key(public_pem: &str) -> Result<VerifyingKey, CosignError> {
    let key = p256::PublicKey::from_public_key_pem(public_pem.trim())
        .map_err(|e| CosignError::Key(format!("not a P-256 public key PEM ({e})")))?;
    Ok(VerifyingKey::from(key))
}

/// Whether `signature` (base64 of a DER ECDSA signature, as in the annotation) signs `payload`
/// under `key`.
pub fn verifies(key: &VerifyingKey, payload: &[u8], signature: &str) -> bool {
    let Ok(der) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    let Ok(signature) = Signature::from_der(&der) else {
        return false;
    };
    key.verify(payload, &signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::SigningKey;
    use p256::ecdsa::signature::Signer;
    use p256::elliptic_curve::rand_core::OsRng;

    #[test]
    fn a_generated_key_decrypts_and_signs_what_its_public_key_verifies() {
        let pair = generate(b"hunter2 hunter2", &mut OsRng).unwrap();
        assert!(
            pair.private_pem
                .starts_with("-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n")
        );
        assert!(pair.public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert_eq!(decrypt(&pair.private_pem, b"wrong").unwrap_err(), CosignError::Password);
        let secret = decrypt(&pair.private_pem, b"hunter2 hunter2").unwrap();
        let signature: Signature = SigningKey::from(secret).sign(b"payload");
        let b64 = STANDARD.encode(signature.to_der().as_bytes());
        let key = public_key(&pair.public_pem).unwrap();
        assert!(verifies(&key, b"payload", &b64));
        assert!(!verifies(&key, b"payloaD", &b64));
        assert!(!verifies(&key, b"payload", "not base64!"));
        let other = public_key(&generate(b"x", &mut OsRng).unwrap().public_pem).unwrap();
        assert!(!verifies(&other, b"payload", &b64));
        assert!(public_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").is_err());
    }
}
