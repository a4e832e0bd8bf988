//! Content digests in the OCI form `<algorithm>:<lowercase hex>`.

use crate::{Error, Result};
use sha2::Digest as _;
use std::fmt;
use std::str::FromStr;

/// A hash algorithm a digest may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    /// The name used in digests and in the store layout (`sha256`, `sha512`).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(Algorithm::Sha256),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }
}

/// A validated digest such as `sha256:<64 lowercase hex>` or `sha512:<128 lowercase hex>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    /// The whole `algorithm:hex` text.
    text: String,
}

impl Digest {
    /// Builds a digest from its parts, validating the hex (lowercase, right length).
    pub fn new(algorithm: Algorithm, hex: &str) -> Result<Self> {
        let valid =
            hex.len() == algorithm.hex_len() && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !valid {
            return Err(Error::InvalidDigest(format!(
                "a {} digest needs {} lowercase hex characters",
                algorithm.as_str(),
                algorithm.hex_len()
            )));
        }
        Ok(Digest {
            algorithm,
            text: format!("{}:{hex}", algorithm.as_str()),
        })
    }

    /// The SHA-256 digest of `data`.
    pub fn sha256(data: &[u8]) -> Self {
        sha2::Sha256::new_with_prefix(data).into()
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The hex part, after `algorithm:`.
    pub fn hex(&self) -> &str {
        &self.text[self.algorithm.as_str().len() + 1..]
    }

    /// The whole digest, `algorithm:hex`.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl From<sha2::Sha256> for Digest {
    /// The digest of everything fed to a SHA-256 hasher.
    fn from(hasher: sha2::Sha256) -> Self {
        Hasher::Sha256(hasher).finish()
    }
}

/// A streaming hasher for either algorithm.
#[derive(Clone)]
pub enum Hasher {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Hasher {
    pub fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    /// The digest of everything fed in.
    pub fn finish(self) -> Digest {
        let (algorithm, hex) = match self {
            Hasher::Sha256(h) => (Algorithm::Sha256, hex::encode(h.finalize())),
            Hasher::Sha512(h) => (Algorithm::Sha512, hex::encode(h.finalize())),
        };
        Digest {
            algorithm,
            text: format!("{}:{hex}", algorithm.as_str()),
        }
    }

    /// The digest of `data` with `algorithm`.
    pub fn digest(algorithm: Algorithm, data: &[u8]) -> Digest {
        let mut hasher = Hasher::new(algorithm);
        hasher.update(data);
        hasher.finish()
    }
}

impl FromStr for Digest {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let (name, hex) = s
            .split_once(':')
            .ok_or_else(|| Error::InvalidDigest(format!("not a digest (algorithm:hex): {s:?}")))?;
        let algorithm = Algorithm::from_name(name)
            .ok_or_else(|| Error::InvalidDigest(format!("unsupported digest algorithm: {name:?}")))?;
        Digest::new(algorithm, hex)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FIPS 180-2's "abc" vectors, hashed in one go and fed in pieces.
    #[test]
    fn known_answers() {
        let sha256 = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let sha512 = "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
                      2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
        for (algorithm, expected) in [(Algorithm::Sha256, sha256), (Algorithm::Sha512, sha512)] {
            assert_eq!(Hasher::digest(algorithm, b"abc").as_str(), expected);
            let mut hasher = Hasher::new(algorithm);
            hasher.update(b"a");
            hasher.update(b"");
            hasher.update(b"bc");
            let digest = hasher.finish();
            assert_eq!(digest, expected.parse().unwrap());
            assert_eq!((digest.algorithm(), digest.hex()), (algorithm, &expected[7..]));
        }
        assert_eq!(Digest::sha256(b"abc").as_str(), sha256);
    }

    #[test]
    fn parses_valid_digests() {
        let hex = "a".repeat(64);
        let digest: Digest = format!("sha256:{hex}").parse().unwrap();
        assert_eq!((digest.algorithm(), digest.hex()), (Algorithm::Sha256, hex.as_str()));
        assert_eq!(digest.to_string(), format!("sha256:{hex}"));
        let digest: Digest = format!("sha512:{}", "0f".repeat(64)).parse().unwrap();
        assert_eq!(digest.algorithm(), Algorithm::Sha512);
        assert_eq!(
            Digest::new(Algorithm::Sha256, &hex).unwrap().as_str(),
            format!("sha256:{hex}")
        );
    }

    #[test]
    fn rejects_invalid_digests() {
        let cases = [
            ("abc", "invalid input: not a digest (algorithm:hex): \"abc\""),
            ("md5:abc", "invalid input: unsupported digest algorithm: \"md5\""),
            ("SHA256:abc", "invalid input: unsupported digest algorithm: \"SHA256\""),
            (
                "sha256:abc",
                "invalid input: a sha256 digest needs 64 lowercase hex characters",
            ),
            (
                "sha512:abc",
                "invalid input: a sha512 digest needs 128 lowercase hex characters",
            ),
        ];
        for (text, message) in cases {
            assert_eq!(text.parse::<Digest>().unwrap_err().to_string(), message, "{text}");
        }
        let hex = "a".repeat(64);
        for bad in [
            String::new(),
            "sha256".into(),
            "sha256:".into(),
            format!("sha256:{}", "A".repeat(64)),
            format!("sha256:{}", "a".repeat(63)),
            format!("sha256:{}", "a".repeat(65)),
            format!("sha256:{}", "g".repeat(64)),
            format!("SHA256:{hex}"),
            format!(" sha256:{hex}"),
            format!("sha256:{hex}\n"),
            format!("md5:{}", "a".repeat(32)),
            format!("sha512:{hex}"),
            format!("sha512:{}", "a".repeat(127)),
            format!("sha512:{}", "a".repeat(129)),
            format!("sha512:{}", "A".repeat(128)),
            format!("SHA512:{}", "a".repeat(128)),
            format!("sha384:{}", "a".repeat(96)),
            format!("sha256:sha256:{hex}"),
        ] {
            assert!(
                matches!(bad.parse::<Digest>(), Err(Error::InvalidDigest(_))),
                "{bad:?} was accepted"
            );
        }
    }
}
