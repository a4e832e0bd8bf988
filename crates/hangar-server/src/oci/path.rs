//! What a `/v2/<rest>` path of the distribution API asks for.

use super::error::{OciResult, RegistryCode, registry};
use hangar_core::names::validate_repository;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Catalog,
    Tags { name: String },
    Manifest { name: String, reference: String },
    Blob { name: String, digest: String },
    Uploads { name: String },
    Upload { name: String, id: String },
    Referrers { name: String, digest: String },
}

/// Splits `<name>/<kind>/<rest>` at the last marker; the name must be a valid repository.
pub fn parse(rest: &str) -> OciResult<Option<Endpoint>> {
    if rest == "_catalog" {
        return Ok(Some(Endpoint::Catalog));
    }
    let endpoint = if let Some(name) = rest.strip_suffix("/tags/list") {
        Endpoint::Tags { name: name.into() }
    } else if let Some((name, id)) = rest.rsplit_once("/blobs/uploads/") {
        match id {
            "" => Endpoint::Uploads { name: name.into() },
            id => Endpoint::Upload {
                name: name.into(),
                id: id.into(),
            },
        }
    } else if let Some(name) = rest.strip_suffix("/blobs/uploads") {
        Endpoint::Uploads { name: name.into() }
    } else if let Some((name, digest)) = rest.rsplit_once("/blobs/") {
        Endpoint::Blob {
            name: name.into(),
            digest: digest.into(),
        }
    } else if let Some((name, reference)) = rest.rsplit_once("/manifests/") {
        Endpoint::Manifest {
            name: name.into(),
            reference: reference.into(),
        }
    } else if let Some((name, digest)) = rest.rsplit_once("/referrers/") {
        Endpoint::Referrers {
            name: name.into(),
            digest: digest.into(),
        }
    } else {
        return Ok(None);
    };
    if let Some(name) = endpoint.name() {
        validate_repository(name).map_err(|e| registry(RegistryCode::NameInvalid, e.to_string()))?;
    }
    Ok(Some(endpoint))
}

impl Endpoint {
    pub fn name(&self) -> Option<&str> {
        match self {
            Endpoint::Catalog => None,
            Endpoint::Tags { name }
            | Endpoint::Manifest { name, .. }
            | Endpoint::Blob { name, .. }
            | Endpoint::Uploads { name }
            | Endpoint::Upload { name, .. }
            | Endpoint::Referrers { name, .. } => Some(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let m = |r: &str| parse(r).unwrap().unwrap();
        assert_eq!(m("_catalog"), Endpoint::Catalog);
        assert_eq!(
            m("acme/web/tags/list"),
            Endpoint::Tags {
                name: "acme/web".into()
            }
        );
        assert_eq!(
            m("acme/t/web/manifests/v1"),
            Endpoint::Manifest {
                name: "acme/t/web".into(),
                reference: "v1".into()
            }
        );
        assert_eq!(
            m("acme/web/blobs/uploads/"),
            Endpoint::Uploads {
                name: "acme/web".into()
            }
        );
        assert_eq!(
            m("acme/web/blobs/uploads/abc"),
            Endpoint::Upload {
                name: "acme/web".into(),
                id: "abc".into()
            }
        );
        assert_eq!(
            m("acme/web/blobs/sha256:00"),
            Endpoint::Blob {
                name: "acme/web".into(),
                digest: "sha256:00".into()
            }
        );
        let sha512 = format!("sha512:{}", "ab".repeat(64));
        assert_eq!(
            m(&format!("acme/web/blobs/{sha512}")),
            Endpoint::Blob {
                name: "acme/web".into(),
                digest: sha512.clone()
            }
        );
        assert_eq!(
            m(&format!("acme/web/referrers/{sha512}")),
            Endpoint::Referrers {
                name: "acme/web".into(),
                digest: sha512.clone()
            }
        );
        // A repository may itself be called "blobs" or "manifests".
        assert_eq!(
            m("acme/manifests/manifests/latest"),
            Endpoint::Manifest {
                name: "acme/manifests".into(),
                reference: "latest".into()
            }
        );
        assert!(parse("Acme/web/tags/list").is_err());
        assert!(parse("acme/web/other").unwrap().is_none());
    }
}
