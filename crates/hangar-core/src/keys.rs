//! API key kinds, the services a personal key may carry, service-key scopes and expiries
//! (Catalog guide §5.2, Private Registry guide §2.3).

use crate::policy::{ArtifactKind, ArtifactOp};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

pub const MAX_PERSONAL_KEYS_PER_USER_PER_ORG: usize = 8;
pub const MAX_SERVICE_KEYS_PER_ORG: usize = 50;

/// The prefix NGC clients recognise as a scoped key they may send directly as a bearer.
pub const NVAPI_PREFIX: &str = "nvapi-";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KeyKind {
    Personal,
    Service,
    Legacy,
}

impl KeyKind {
    pub fn name(self) -> &'static str {
        match self {
            KeyKind::Personal => "PERSONAL",
            KeyKind::Service => "SERVICE",
            KeyKind::Legacy => "LEGACY",
        }
    }

    /// How the secret starts: personal and service keys use the `nvapi-` form that NGC clients
    /// send as a bearer; legacy keys must not, so that NGC clients use the token service.
    pub fn secret_prefix(self) -> &'static str {
        match self {
            KeyKind::Personal => "nvapi-hp-",
            KeyKind::Service => "nvapi-hs-",
            KeyKind::Legacy => "hgl-",
        }
    }
}

impl FromStr for KeyKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().as_str() {
            "PERSONAL" => Ok(KeyKind::Personal),
            "SERVICE" => Ok(KeyKind::Service),
            "LEGACY" => Ok(KeyKind::Legacy),
            _ => Err(Error::Unknown {
                what: "key kind",
                value: s.into(),
            }),
        }
    }
}

/// Services a personal key can be given (those of the guide's table that Hangar provides).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Service {
    /// Read and download artifacts, at the owner's permission level.
    NgcCatalog,
    /// Everything the owner's roles allow in the org: push, delete, users, teams, keys.
    PrivateRegistry,
}

impl Service {
    pub const ALL: [Service; 2] = [Service::NgcCatalog, Service::PrivateRegistry];

    pub fn name(self) -> &'static str {
        match self {
            Service::NgcCatalog => "NGC_CATALOG",
            Service::PrivateRegistry => "PRIVATE_REGISTRY",
        }
    }
}

impl FromStr for Service {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let wanted = s.trim().to_ascii_uppercase().replace([' ', '-'], "_");
        Service::ALL
            .into_iter()
            .find(|v| v.name() == wanted)
            .ok_or_else(|| Error::Unknown {
                what: "service",
                value: s.into(),
            })
    }
}

/// Service-key scopes, as listed in the guide's Create Service Key dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Scope {
    AllScopes,
    GetContainer,
    ListContainers,
    CreateContainer,
    UpdateContainer,
    DeleteContainer,
    DownloadContainer,
    UploadContainer,
    DeleteArtifact,
    GetArtifact,
    ListArtifacts,
}

impl Scope {
    pub const ALL: [Scope; 11] = [
        Scope::AllScopes,
        Scope::GetContainer,
        Scope::ListContainers,
        Scope::CreateContainer,
        Scope::UpdateContainer,
        Scope::DeleteContainer,
        Scope::DownloadContainer,
        Scope::UploadContainer,
        Scope::DeleteArtifact,
        Scope::GetArtifact,
        Scope::ListArtifacts,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scope::AllScopes => "ALL_SCOPES",
            Scope::GetContainer => "GET_CONTAINER",
            Scope::ListContainers => "LIST_CONTAINERS",
            Scope::CreateContainer => "CREATE_CONTAINER",
            Scope::UpdateContainer => "UPDATE_CONTAINER",
            Scope::DeleteContainer => "DELETE_CONTAINER",
            Scope::DownloadContainer => "DOWNLOAD_CONTAINER",
            Scope::UploadContainer => "UPLOAD_CONTAINER",
            Scope::DeleteArtifact => "DELETE_ARTIFACT",
            Scope::GetArtifact => "GET_ARTIFACT",
            Scope::ListArtifacts => "LIST_ARTIFACTS",
        }
    }

    /// Whether this scope covers `op` on `kind`. Container scopes name every operation; the
    /// artifact scopes of the guide cover reading (get includes download), listing and deleting,
    /// so creating or uploading models, resources and charts needs All Scopes.
    pub fn covers(self, kind: ArtifactKind, op: ArtifactOp) -> bool {
        use ArtifactOp::*;
        if self == Scope::AllScopes {
            return true;
        }
        if kind == ArtifactKind::Container {
            matches!(
                (self, op),
                (Scope::GetContainer, Get)
                    | (Scope::ListContainers, List)
                    | (Scope::CreateContainer, Create)
                    | (Scope::UpdateContainer, Update)
                    | (Scope::DeleteContainer, Delete)
                    | (Scope::DownloadContainer, Download)
                    | (Scope::UploadContainer, Upload)
            )
        } else {
            matches!(
                (self, op),
                (Scope::GetArtifact, Get | Download) | (Scope::ListArtifacts, List) | (Scope::DeleteArtifact, Delete)
            )
        }
    }
}

impl FromStr for Scope {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let wanted = s.trim().to_ascii_uppercase().replace([' ', '-'], "_");
        Scope::ALL
            .into_iter()
            .find(|v| v.name() == wanted)
            .ok_or_else(|| Error::Unknown {
                what: "scope",
                value: s.into(),
            })
    }
}

/// What a service key's scopes apply to: every entity, every entity of one kind, or one entity
/// (named `org/[team/]name`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntityFilter {
    All,
    AllOf(ArtifactKind),
    One(ArtifactKind, String),
}

impl EntityFilter {
    /// Parses the guide's entity type (`ALL`, `ALL_CONTAINERS`, `ALL_MODELS`, `ALL_HELM_CHARTS`,
    /// `ALL_RESOURCES`, `SPECIFIC_CONTAINER` …) with its value (the entity's name when specific).
    pub fn parse(entity_type: &str, value: Option<&str>) -> Result<Self> {
        let t = entity_type.trim().to_ascii_uppercase().replace([' ', '-'], "_");
        if t == "ALL" || t == "ALL_ENTITY" || t == "ALL_ENTITIES" {
            return Ok(EntityFilter::All);
        }
        let unknown = || Error::Unknown {
            what: "entity type",
            value: entity_type.into(),
        };
        let (all, kind) = if let Some(rest) = t.strip_prefix("ALL_") {
            (true, rest)
        } else if let Some(rest) = t.strip_prefix("SPECIFIC_") {
            (false, rest)
        } else {
            return Err(unknown());
        };
        let kind = ArtifactKind::from_entity_word(kind).ok_or_else(unknown)?;
        if all {
            return Ok(EntityFilter::AllOf(kind));
        }
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) => Ok(EntityFilter::One(kind, v.to_string())),
            None => Err(Error::InvalidName {
                what: "entity value",
                value: String::new(),
                why: "a specific entity type needs the entity's name",
            }),
        }
    }

    /// `(entityType, entityValue)` in the form `parse` reads.
    pub fn to_parts(&self) -> (String, Option<String>) {
        match self {
            EntityFilter::All => ("ALL".into(), None),
            EntityFilter::AllOf(k) => (format!("ALL_{}", k.plural_word()), None),
            EntityFilter::One(k, v) => (format!("SPECIFIC_{}", k.word()), Some(v.clone())),
        }
    }

    pub fn matches(&self, kind: ArtifactKind, entity: Option<&str>) -> bool {
        match self {
            EntityFilter::All => true,
            EntityFilter::AllOf(k) => *k == kind,
            // Without a named entity (a listing), a specific key may look; the listing itself
            // only shows what each per-entity check allows.
            EntityFilter::One(k, name) => *k == kind && entity.is_none_or(|e| e == name),
        }
    }
}

/// A key's lifetime: a duration from now (1 hour to 12 months), never, or a custom date that the
/// caller resolves against the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expiry {
    Never,
    Seconds(u64),
    /// An RFC 3339 timestamp, checked by the caller (future, at most 12 months ahead).
    At(String),
}

pub const HOUR: u64 = 3600;
pub const DAY: u64 = 24 * HOUR;
/// Twelve months: the longest finite expiry.
pub const MAX_EXPIRY_SECONDS: u64 = 366 * DAY;

impl FromStr for Expiry {
    type Err = Error;

    /// `never`, `1h`, `12 hours`, `7d`, `2w`, `3M`, `12 months`, or an RFC 3339 date.
    fn from_str(s: &str) -> Result<Self> {
        let invalid = |why| Error::InvalidName {
            what: "expiry",
            value: s.into(),
            why,
        };
        let text = s.trim();
        if text.eq_ignore_ascii_case("never") {
            return Ok(Expiry::Never);
        }
        if text.len() >= 10 && text.as_bytes()[4] == b'-' {
            return Ok(Expiry::At(text.to_string()));
        }
        let digits_end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let count: u64 = text[..digits_end]
            .parse()
            .map_err(|_| invalid("expected e.g. 1h, 7d, 12M or never"))?;
        let unit = match text[digits_end..].trim() {
            "h" | "hour" | "hours" => HOUR,
            "d" | "day" | "days" => DAY,
            "w" | "week" | "weeks" => 7 * DAY,
            "M" | "mo" | "month" | "months" => 30 * DAY,
            "y" | "year" | "years" => 365 * DAY,
            _ => return Err(invalid("unit must be h, d, w, M or y")),
        };
        let seconds = count.checked_mul(unit).ok_or_else(|| invalid("too long"))?;
        // 12 months of 30 days would be 360 days; accept up to a calendar year.
        if !(HOUR..=MAX_EXPIRY_SECONDS).contains(&seconds) {
            return Err(invalid("must be between 1 hour and 12 months, or never"));
        }
        Ok(Expiry::Seconds(seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_forms() {
        assert_eq!("never".parse(), Ok(Expiry::Never));
        assert_eq!("1h".parse(), Ok(Expiry::Seconds(HOUR)));
        assert_eq!("12 months".parse(), Ok(Expiry::Seconds(360 * DAY)));
        assert_eq!("1y".parse(), Ok(Expiry::Seconds(365 * DAY)));
        assert!(matches!("2027-01-01T00:00:00Z".parse(), Ok(Expiry::At(_))));
        for bad in ["0h", "2y", "13M", "", "h", "5 parsecs", "99999999999999999999h"] {
            assert!(bad.parse::<Expiry>().is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_cover() {
        use ArtifactKind::*;
        use ArtifactOp::*;
        assert!(Scope::DownloadContainer.covers(Container, Download));
        assert!(!Scope::DownloadContainer.covers(Container, Upload));
        assert!(Scope::GetArtifact.covers(Model, Download));
        assert!(!Scope::GetArtifact.covers(Container, Get));
        assert!(!Scope::ListArtifacts.covers(Chart, Upload));
        assert!(Scope::AllScopes.covers(Resource, Upload));
    }

    #[test]
    fn entity_filters() {
        let one = EntityFilter::parse("SPECIFIC_CONTAINER", Some("acme/web")).unwrap();
        assert!(one.matches(ArtifactKind::Container, Some("acme/web")));
        assert!(!one.matches(ArtifactKind::Container, Some("acme/db")));
        assert!(!one.matches(ArtifactKind::Model, Some("acme/web")));
        assert_eq!(
            EntityFilter::parse("all helm charts", None),
            Ok(EntityFilter::AllOf(ArtifactKind::Chart))
        );
        assert!(EntityFilter::parse("SPECIFIC_MODEL", None).is_err());
        let (t, v) = one.to_parts();
        assert_eq!(EntityFilter::parse(&t, v.as_deref()), Ok(one));
    }
}
