//! Names of orgs, teams and users' e-mail addresses.

use crate::{Error, Result};

/// Org names that would collide with REST paths sharing the `/v2/` prefix, or are platform namespaces.
const RESERVED_ORGS: &[&str] = &[
    "org",
    "orgs",
    "models",
    "resources",
    "helm-charts",
    "repos",
    "search",
    "catalog",
    "products",
    "users",
    "ping",
    "roles",
    "token",
    "v2",
    "v3",
    "api",
    "healthz",
    "metrics",
    "_catalog",
];

const MAX_NAME: usize = 64;
const MAX_EMAIL: usize = 254;

/// An org or team name: lowercase letters and digits, with single `-` or `_` between them,
/// so that it is also a valid path component of a container repository name.
fn check_component(what: &'static str, value: &str) -> Result<()> {
    let invalid = |why| Error::InvalidName {
        what,
        value: value.to_string(),
        why,
    };
    if value.is_empty() || value.len() > MAX_NAME {
        return Err(invalid("must be 1 to 64 characters"));
    }
    let bytes = value.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return Err(invalid("must start and end with a lowercase letter or digit"));
    }
    for pair in bytes.windows(2) {
        let separator = |b: u8| b == b'-' || b == b'_';
        if separator(pair[0]) && separator(pair[1]) {
            return Err(invalid("separators '-' and '_' may not repeat"));
        }
    }
    if !bytes.iter().all(|&b| alnum(b) || b == b'-' || b == b'_') {
        return Err(invalid("only lowercase letters, digits, '-' and '_' are allowed"));
    }
    Ok(())
}

pub fn validate_org(name: &str) -> Result<()> {
    check_component("org name", name)?;
    if RESERVED_ORGS.contains(&name) {
        return Err(Error::Reserved(name.to_string()));
    }
    Ok(())
}

pub fn validate_team(name: &str) -> Result<()> {
    check_component("team name", name)?;
    if name == "no-team" {
        return Err(Error::Reserved(name.to_string()));
    }
    Ok(())
}

/// A plain sanity check, not RFC 5322: one `@`, no spaces or control characters, sane length.
/// Returns the address lowercased, which is how it is stored and compared.
pub fn normalize_email(email: &str) -> Result<String> {
    let invalid = |why| Error::InvalidName {
        what: "email",
        value: email.to_string(),
        why,
    };
    let email = email.trim();
    if email.is_empty() || email.len() > MAX_EMAIL {
        return Err(invalid("must be 1 to 254 characters"));
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("must not contain spaces"));
    }
    match email.split_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@') => {
            Ok(email.to_lowercase())
        }
        _ => Err(invalid("must look like name@domain")),
    }
}

/// Display names and descriptions: free text, bounded, no control characters.
pub fn validate_text(what: &'static str, value: &str, max: usize) -> Result<()> {
    if value.chars().count() > max {
        return Err(Error::InvalidName {
            what,
            value: value.chars().take(40).collect(),
            why: "is too long",
        });
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Error::InvalidName {
            what,
            value: value.to_string(),
            why: "must not contain control characters",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_names() {
        for good in ["nvidia", "a", "my-org", "org_1", "0abc"] {
            assert_eq!(validate_org(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "My",
            "-a",
            "a-",
            "a--b",
            "a_-b",
            "a/b",
            "a.b",
            "../x",
            "é",
            &"a".repeat(65),
        ] {
            assert!(validate_org(bad).is_err(), "{bad}");
        }
        assert_eq!(validate_org("orgs"), Err(Error::Reserved("orgs".into())));
        assert!(validate_team("no-team").is_err());
    }

    #[test]
    fn emails() {
        assert_eq!(normalize_email(" Bob@Example.com ").unwrap(), "bob@example.com");
        for bad in ["", "bob", "@x", "bob@", "a b@c", "a@b@c"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }
}
