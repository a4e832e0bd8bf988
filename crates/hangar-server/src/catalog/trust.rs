//! The keys an org trusts to sign its content: its server-held key (made by the server, its
//! private part sealed with the signing secret, never returned) and the public keys or
//! certificates publishers register for signatures they make on their own machines. Owners and
//! registry admins manage them (`ManageSigning`); whoever may see the org reads the public
//! parts. A change of keys works the verdicts of the org's stored image signatures out again.

use super::error::{DomainError, DomainResult};
use super::{image_signatures, model_signing};
use crate::auth::Caller;
use crate::state::AppState;
use hangar_core::access::AccessLevel;
use hangar_core::names::validate_artifact_name;
use hangar_core::policy::{Action, Target};
use hangar_store::meta::{Org, RequirementKind, TrustedKey};
use p256::ecdsa::VerifyingKey;
use p256::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};
use sha2::{Digest, Sha256};

/// The name the org's server-held key goes by.
pub const SERVER_KEY: &str = "hangar";
/// A registered key's PEM may be at most this long.
const MAX_PEM: usize = 16 * 1024;

/// A key as listed: the server's own or a registered one.
#[derive(Debug, Clone)]
pub struct OrgKey {
    pub name: String,
    /// `PUBLIC KEY` or, for a registered certificate, `CERTIFICATE` PEM.
    pub pem: String,
    pub fingerprint: String,
    pub server_held: bool,
    pub created_at: i64,
}

/// A key that verifies signatures, with the name the verdict gives.
pub struct Verifier {
    pub name: String,
    pub key: VerifyingKey,
    /// The certificate it came from, when registered as one (a trust anchor for chains).
    pub certificate_der: Option<Vec<u8>>,
}

fn fingerprint(spki_der: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(spki_der)))
}

/// A P-256 public key from its SubjectPublicKeyInfo DER.
pub fn key_of_spki(der: &[u8]) -> DomainResult<VerifyingKey> {
    VerifyingKey::from_public_key_der(der)
        .map_err(|_| DomainError::Invalid("only ECDSA P-256 keys are supported (as cosign makes them)".into()))
}

/// The public key of a certificate (DER) and its SubjectPublicKeyInfo.
pub fn key_of_certificate(der: &[u8]) -> DomainResult<(VerifyingKey, Vec<u8>)> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| DomainError::Invalid(format!("not an X.509 certificate: {e}")))?;
    let spki = cert.public_key().raw.to_vec();
    Ok((key_of_spki(&spki)?, spki))
}

/// What a registered PEM holds: its key, its normalized PEM, fingerprint and certificate.
fn parse_pem(text: &str) -> DomainResult<(Verifier, String, String)> {
    if text.len() > MAX_PEM {
        return Err(DomainError::TooLarge(format!(
            "a key may be at most {MAX_PEM} bytes of PEM"
        )));
    }
    let (label, der) = p256::pkcs8::der::pem::decode_vec(text.trim().as_bytes()).map_err(|e| {
        DomainError::Invalid(format!(
            "not a PEM public key or certificate ({e}); give cosign.pub or a certificate"
        ))
    })?;
    let (key, spki, certificate_der) = match label {
        "PUBLIC KEY" => (key_of_spki(&der)?, der.clone(), None),
        "CERTIFICATE" => {
            let (key, spki) = key_of_certificate(&der)?;
            (key, spki, Some(der.clone()))
        }
        other => {
            return Err(DomainError::Invalid(format!(
                "a {other} is not a public key: give cosign.pub or a certificate, never a private key"
            )));
        }
    };
    let pem = match &certificate_der {
        Some(_) => {
            p256::pkcs8::der::pem::encode_string("CERTIFICATE", LineEnding::LF, &der).map_err(DomainError::internal)?
        }
        None => key.to_public_key_pem(LineEnding::LF).map_err(DomainError::internal)?,
    };
    let verifier = Verifier {
        name: String::new(),
        key,
        certificate_der,
    };
    Ok((verifier, pem, fingerprint(&spki)))
}

fn require(caller: &Caller, org: &Org) -> DomainResult<()> {
    require_manage(caller, &Target::org(&org.name))
}

/// Whether the caller may read the org's public keys: its members, and anyone once the org
/// offers a repository beyond itself (whoever may pull a signed image may check it).
pub async fn may_read(state: &AppState, caller: &Caller, org: &Org) -> DomainResult<bool> {
    if caller.allowed(Action::ViewOrg, &Target::org(&org.name)) {
        return Ok(true);
    }
    let offered = state
        .meta
        .repositories_of(org.id, None)
        .await?
        .iter()
        .any(|r| !matches!(r.info.access, AccessLevel::Private | AccessLevel::Exclusive));
    Ok(offered)
}

async fn require_view(state: &AppState, caller: &Caller, org: &Org) -> DomainResult<()> {
    if may_read(state, caller, org).await? {
        Ok(())
    } else {
        Err(DomainError::NotFound(format!("org '{}' not found", org.name)))
    }
}

fn listed(key: TrustedKey) -> OrgKey {
    OrgKey {
        name: key.name,
        pem: key.public_pem,
        fingerprint: key.fingerprint,
        server_held: false,
        created_at: key.created_at,
    }
}

/// The org's server-held public key (PEM), made on first use when `create`.
pub async fn server_key(state: &AppState, org: &Org, create: bool) -> DomainResult<Option<OrgKey>> {
    let cert = if create {
        Some(model_signing::org_certificate_made(state, org).await?)
    } else {
        model_signing::org_certificate(state, org).await?
    };
    let Some(cert) = cert else { return Ok(None) };
    let der = p256::pkcs8::der::pem::decode_vec(cert.as_bytes())
        .map_err(DomainError::internal)?
        .1;
    let (key, spki) = key_of_certificate(&der)?;
    Ok(Some(OrgKey {
        name: SERVER_KEY.into(),
        pem: key.to_public_key_pem(LineEnding::LF).map_err(DomainError::internal)?,
        fingerprint: fingerprint(&spki),
        server_held: true,
        created_at: 0,
    }))
}

/// Every key of the org, for a caller who may see it: the server's (if made) and the
/// registered ones.
pub async fn list(state: &AppState, caller: &Caller, org: &Org) -> DomainResult<Vec<OrgKey>> {
    require_view(state, caller, org).await?;
    let mut keys: Vec<OrgKey> = server_key(state, org, false).await?.into_iter().collect();
    keys.extend(state.meta.trusted_keys(org.id).await?.into_iter().map(listed));
    Ok(keys)
}

/// The keys that verify the org's signatures.
pub async fn verifiers(state: &AppState, org: &Org) -> DomainResult<Vec<Verifier>> {
    let mut out = vec![];
    if let Some(server) = server_key(state, org, false).await? {
        out.push(Verifier {
            name: server.name,
            key: VerifyingKey::from_public_key_pem(&server.pem).map_err(DomainError::internal)?,
            certificate_der: None,
        });
    }
    for key in state.meta.trusted_keys(org.id).await? {
        let (mut verifier, _, _) = parse_pem(&key.public_pem)?;
        verifier.name = key.name;
        out.push(verifier);
    }
    Ok(out)
}

/// Registers `pem` (a P-256 public key or a certificate) as `name`, then works the org's
/// image signature verdicts out again.
pub async fn add(state: &AppState, caller: &Caller, org: &Org, name: &str, pem: &str) -> DomainResult<OrgKey> {
    require(caller, org)?;
    validate_artifact_name(name).map_err(|e| DomainError::Invalid(format!("key name: {e}")))?;
    if name == SERVER_KEY {
        return Err(DomainError::Invalid(format!(
            "'{SERVER_KEY}' names the org's server-held key; choose another name"
        )));
    }
    let (_, normalized, fingerprint) = parse_pem(pem)?;
    if server_key(state, org, false)
        .await?
        .is_some_and(|k| k.fingerprint == fingerprint)
    {
        return Err(DomainError::Conflict("this is the org's server-held key".into()));
    }
    let by = caller.user.as_ref().map(|u| u.id);
    let key = state
        .meta
        .add_trusted_key(org.id, name, &normalized, &fingerprint, by)
        .await?;
    image_signatures::reverify_org(state, org).await?;
    Ok(listed(key))
}

/// Stops trusting the key `name`, then works the verdicts out again.
pub async fn remove(state: &AppState, caller: &Caller, org: &Org, name: &str) -> DomainResult<()> {
    require(caller, org)?;
    if name == SERVER_KEY {
        return Err(DomainError::Invalid(
            "the org's server-held key cannot be removed".into(),
        ));
    }
    if !state.meta.remove_trusted_key(org.id, name).await? {
        return Err(DomainError::NotFound(format!(
            "org '{}' has no key named '{name}'",
            org.name
        )));
    }
    image_signatures::reverify_org(state, org).await
}

/// Whether the caller may manage the org's signing (keys, server signing, requirements).
pub fn require_manage(caller: &Caller, target: &Target) -> DomainResult<()> {
    if caller.allowed(Action::ManageSigning, target) {
        Ok(())
    } else if caller.is_guest() {
        Err(DomainError::Unauthenticated)
    } else {
        Err(DomainError::Forbidden(
            "only org owners and registry admins manage signing".into(),
        ))
    }
}

/// Where a signature requirement applies.
#[derive(Debug, Clone)]
pub enum Scope {
    Org,
    Team(String),
    /// `org/[team/]repo`.
    Repository(String),
}

/// Turns the need for verified signatures on or off for the org, a team or a repository of
/// it (org owners and registry admins; for a team's, its registry admins too); answers the kind
/// and path it applies to.
pub async fn set_requirement(
    state: &AppState,
    caller: &Caller,
    org: &Org,
    scope: Scope,
    require: bool,
) -> DomainResult<(RequirementKind, String)> {
    let (kind, path, team) = match scope {
        Scope::Org => (RequirementKind::Org, org.name.clone(), None),
        // Lifting needs only the path, so that a team or repository removed since can be lifted.
        Scope::Team(team) if !require => (RequirementKind::Team, format!("{}/{team}", org.name), Some(team)),
        Scope::Team(team) => {
            let found = state
                .meta
                .team(org.id, &team)
                .await?
                .ok_or_else(|| DomainError::NotFound(format!("team '{team}' not found in org '{}'", org.name)))?;
            (
                RequirementKind::Team,
                format!("{}/{}", org.name, found.name),
                Some(found.name),
            )
        }
        Scope::Repository(name) => {
            let parts: Vec<&str> = name.split('/').collect();
            let ours = parts.first() == Some(&org.name.as_str()) && (2..=3).contains(&parts.len());
            let exists = ours && (!require || state.meta.repository(&name).await?.is_some_and(|r| r.org_id == org.id));
            if !exists {
                return Err(DomainError::NotFound(format!(
                    "repository '{name}' not found in org '{}'",
                    org.name
                )));
            }
            let team = (parts.len() == 3).then(|| parts[1].to_string());
            (RequirementKind::Repository, name, team)
        }
    };
    let target = Target {
        org: &org.name,
        team: team.as_deref(),
        entity: None,
    };
    require_manage(caller, &target)?;
    let by = caller.user.as_ref().map(|u| u.id);
    state
        .meta
        .set_signature_requirement(org.id, kind, &path, require, by)
        .await?;
    tracing::info!(%path, require, "signature requirement changed");
    Ok((kind, path))
}
