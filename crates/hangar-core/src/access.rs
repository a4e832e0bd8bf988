//! How an entity is offered outside its own org (Catalog guide §4): its access level, and what
//! a caller who holds no role in the owning org may do with it.
//!
//! Roles in the owning org are [`crate::policy`]'s business; this module answers only for
//! everyone else, from what they hold towards the entity (a [`Standing`]).

use serde::{Deserialize, Serialize};

/// An entity's access level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccessLevel {
    /// Only its org (or team) sees it.
    #[default]
    Private,
    /// Listed, viewed and downloaded by anyone, with no credential.
    Guest,
    /// Listed and viewed by anyone; downloading needs any valid credential.
    Authenticated,
    /// Listed and viewed by anyone; downloading needs a subscription to one of its products.
    Entitled,
    /// Seen and downloaded only by subscribers to one of its products.
    Exclusive,
    /// Listed and viewed by anyone; downloading needs the publisher's approval of the user.
    Approval,
}

/// What a caller outside the owning org holds towards one entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Standing {
    /// Any valid credential of any org: a key, a token or a signed-in session.
    pub signed_in: bool,
    /// A member of an org with an active subscription to one of the entity's products.
    pub subscribed: bool,
    /// The publisher approved this user for this entity.
    pub approved: bool,
}

impl AccessLevel {
    pub const ALL: [AccessLevel; 6] = [
        AccessLevel::Private,
        AccessLevel::Guest,
        AccessLevel::Authenticated,
        AccessLevel::Entitled,
        AccessLevel::Exclusive,
        AccessLevel::Approval,
    ];

    /// The word Hangar stores and its CLI and API take.
    pub fn word(self) -> &'static str {
        match self {
            AccessLevel::Private => "PRIVATE",
            AccessLevel::Guest => "GUEST",
            AccessLevel::Authenticated => "AUTHENTICATED",
            AccessLevel::Entitled => "ENTITLED",
            AccessLevel::Exclusive => "EXCLUSIVE",
            AccessLevel::Approval => "APPROVAL",
        }
    }

    /// A level from its word, any case, `-` or `_`; NGC's own `accessType` words are taken too
    /// (`NOT_LISTED` is private, `LISTED` is authenticated).
    pub fn parse(word: &str) -> Option<AccessLevel> {
        let word = word.trim().to_ascii_uppercase().replace('-', "_");
        match word.as_str() {
            "NOT_LISTED" => Some(AccessLevel::Private),
            "LISTED" => Some(AccessLevel::Authenticated),
            "APPROVAL_REQUIRED" | "APPROVED" => Some(AccessLevel::Approval),
            _ => AccessLevel::ALL.into_iter().find(|l| l.word() == word),
        }
    }

    /// NGC's `accessType` for this level (ngcsdk's `AccessTypeEnum`).
    pub fn ngc_access_type(self) -> &'static str {
        match self {
            AccessLevel::Private => "NOT_LISTED",
            AccessLevel::Exclusive => "EXCLUSIVE",
            _ => "LISTED",
        }
    }

    /// Whether everyone sees it in the catalog: NGC's `isPublic`.
    pub fn listed(self) -> bool {
        !matches!(self, AccessLevel::Private | AccessLevel::Exclusive)
    }

    /// Whether downloading needs no credential: NGC's `canGuestDownload`.
    pub fn guest_download(self) -> bool {
        self == AccessLevel::Guest
    }

    /// Whether the level is about products (and an entity at it must name at least one).
    pub fn gated_by_products(self) -> bool {
        matches!(self, AccessLevel::Entitled | AccessLevel::Exclusive)
    }

    /// Whether someone outside the owning org with `standing` may see it (list it, open it).
    pub fn may_view(self, standing: Standing) -> bool {
        match self {
            AccessLevel::Private => false,
            AccessLevel::Exclusive => standing.subscribed,
            _ => true,
        }
    }

    /// Whether someone outside the owning org with `standing` may download it.
    pub fn may_download(self, standing: Standing) -> bool {
        match self {
            AccessLevel::Private => false,
            AccessLevel::Guest => true,
            AccessLevel::Authenticated => standing.signed_in,
            AccessLevel::Entitled | AccessLevel::Exclusive => standing.signed_in && standing.subscribed,
            AccessLevel::Approval => standing.signed_in && standing.approved,
        }
    }
}

impl std::fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.word())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUEST: Standing = Standing {
        signed_in: false,
        subscribed: false,
        approved: false,
    };
    const REGISTERED: Standing = Standing {
        signed_in: true,
        ..GUEST
    };
    const SUBSCRIBER: Standing = Standing {
        subscribed: true,
        ..REGISTERED
    };
    const APPROVED: Standing = Standing {
        approved: true,
        ..REGISTERED
    };

    /// Catalog guide §4's table, extended by the approval level: per level, for a guest, a
    /// registered user, a subscriber and an approved user, "view download" as `V`/`-` and
    /// `D`/`-`.
    const TABLE: [(AccessLevel, [&str; 4]); 6] = [
        (AccessLevel::Private, ["--", "--", "--", "--"]),
        (AccessLevel::Guest, ["VD", "VD", "VD", "VD"]),
        (AccessLevel::Authenticated, ["V-", "VD", "VD", "VD"]),
        (AccessLevel::Entitled, ["V-", "V-", "VD", "V-"]),
        (AccessLevel::Exclusive, ["--", "--", "VD", "--"]),
        (AccessLevel::Approval, ["V-", "V-", "V-", "VD"]),
    ];

    #[test]
    fn the_access_table() {
        assert_eq!(TABLE.map(|(level, _)| level), AccessLevel::ALL, "a row per level");
        for (level, row) in TABLE {
            for (standing, expected) in [GUEST, REGISTERED, SUBSCRIBER, APPROVED].into_iter().zip(row) {
                let found = format!(
                    "{}{}",
                    if level.may_view(standing) { 'V' } else { '-' },
                    if level.may_download(standing) { 'D' } else { '-' }
                );
                assert_eq!(found, expected, "{level} for {standing:?}");
            }
        }
    }

    #[test]
    fn words_round_trip() {
        for level in AccessLevel::ALL {
            assert_eq!(AccessLevel::parse(level.word()), Some(level));
            assert_eq!(AccessLevel::parse(&level.word().to_lowercase()), Some(level));
        }
        assert_eq!(AccessLevel::parse("NOT_LISTED"), Some(AccessLevel::Private));
        assert_eq!(AccessLevel::parse("LISTED"), Some(AccessLevel::Authenticated));
        assert_eq!(AccessLevel::parse("public"), None);
    }
}
