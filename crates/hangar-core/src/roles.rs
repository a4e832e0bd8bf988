//! The roles of the Private Registry guide (§2.4.1) and the services each reaches (§2.5.2.5).

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    OrgOwner,
    RegistryAdmin,
    RegistryUser,
    RegistryRead,
    UserAdmin,
    UserRead,
}

/// The most owners an org may have at once.
pub const MAX_ORG_OWNERS: usize = 2;

/// Access levels of the `/roles` listing, as the NGC API names them.
pub const READ: &str = "READ";
pub const WRITE: &str = "WRITE";
pub const ADMIN: &str = "ADMIN";

impl Role {
    pub const ALL: [Role; 6] = [
        Role::OrgOwner,
        Role::RegistryAdmin,
        Role::RegistryUser,
        Role::RegistryRead,
        Role::UserAdmin,
        Role::UserRead,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Role::OrgOwner => "ORG_OWNER",
            Role::RegistryAdmin => "REGISTRY_ADMIN",
            Role::RegistryUser => "REGISTRY_USER",
            Role::RegistryRead => "REGISTRY_READ",
            Role::UserAdmin => "USER_ADMIN",
            Role::UserRead => "USER_READ",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Role::OrgOwner => "Org Owner",
            Role::RegistryAdmin => "Registry Admin",
            Role::RegistryUser => "Registry User",
            Role::RegistryRead => "Registry Read",
            Role::UserAdmin => "User Admin",
            Role::UserRead => "User Read",
        }
    }

    /// Org owners exist only at org scope; every other role may also be held in one team.
    pub fn allowed_in_team(self) -> bool {
        self != Role::OrgOwner
    }

    /// Roles that make a user a member (§2.4.1 note: a registry role or User Admin).
    pub fn confers_membership(self) -> bool {
        self != Role::UserRead
    }

    pub fn is_registry(self) -> bool {
        matches!(self, Role::RegistryAdmin | Role::RegistryUser | Role::RegistryRead)
    }

    /// The `/roles` table: service → access levels (Private Registry guide §2.5.2.5).
    pub fn allowed_actions(self) -> Vec<(&'static str, &'static [&'static str])> {
        const RAW: &[&str] = &[READ, ADMIN, WRITE];
        const RW: &[&str] = &[READ, WRITE];
        const R: &[&str] = &[READ];
        let artifacts = ["CONTAINER", "HELM", "MODEL", "MODELSCRIPT"];
        let with = |services: &[&'static str], levels| services.iter().map(|s| (*s, levels)).collect();
        match self {
            Role::OrgOwner | Role::RegistryAdmin | Role::UserAdmin => {
                with(&[&artifacts[..], &["ORG", "TEAM", "USER"]].concat(), RAW)
            }
            Role::RegistryUser => with(&[&artifacts[..], &["ORG", "TEAM"]].concat(), RW),
            Role::RegistryRead => with(&[&artifacts[..], &["ORG", "TEAM"]].concat(), R),
            Role::UserRead => with(&["ORG", "TEAM", "USER"], R),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Role {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let upper = s.trim().to_ascii_uppercase();
        Role::ALL
            .into_iter()
            .find(|r| r.name() == upper)
            .ok_or_else(|| Error::UnknownRole(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_roundtrip() {
        for role in Role::ALL {
            assert_eq!(role.name().parse::<Role>(), Ok(role));
        }
        assert_eq!("registry_read".parse::<Role>(), Ok(Role::RegistryRead));
        assert!("ROOT".parse::<Role>().is_err());
    }

    #[test]
    fn read_role_only_reads() {
        assert!(Role::RegistryRead.allowed_actions().iter().all(|(_, l)| *l == [READ]));
    }
}
