//! Names of orgs, teams and users' e-mail addresses.

use crate::{Error, Result};

/// Org names that would collide with REST paths sharing the `/v2/` prefix, or with the paths at
/// the root of the server (the Helm repository answers `/{org}/index.yaml` on every host).
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
    "data",
    "helm",
    "device",
    "healthz",
    "metrics",
    "_catalog",
];

/// Namespaces that only platform administrators may publish to or delete from (Catalog guide §10.3).
pub const RESERVED_NAMESPACES: &[&str] = &["nvidia", "partners", "hpc"];

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
    // `charts` would read as the chart folder of the org in Helm repository paths.
    if name == "no-team" || name == "charts" {
        return Err(Error::Reserved(name.to_string()));
    }
    Ok(())
}

/// A product name (`nv-ai-enterprise`): the grammar of org names.
pub fn validate_product(name: &str) -> Result<()> {
    check_component("product name", name)
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

/// The longest repository name a registry must accept is 255 characters (distribution spec).
const MAX_REPOSITORY: usize = 255;
const MAX_TAG: usize = 128;

/// A repository name as the OCI distribution spec defines it: `/`-separated path components of
/// lowercase letters and digits joined by `.`, `_`, `__` or runs of `-`; at least `org/repo`.
pub fn validate_repository(name: &str) -> Result<()> {
    let invalid = |why| Error::InvalidName {
        what: "repository name",
        value: name.to_string(),
        why,
    };
    if name.is_empty() || name.len() > MAX_REPOSITORY {
        return Err(invalid("must be 1 to 255 characters"));
    }
    let components: Vec<&str> = name.split('/').collect();
    if components.len() < 2 {
        return Err(invalid("must be org/repo or org/team/repo"));
    }
    for component in components {
        if !valid_path_component(component) {
            return Err(invalid(
                "each part must be lowercase letters and digits joined by '.', '_', '__' or '-'",
            ));
        }
    }
    Ok(())
}

fn valid_path_component(c: &str) -> bool {
    let bytes = c.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let dashes = sep.bytes().all(|b| b == b'-');
        if !(sep == "." || sep == "_" || sep == "__" || dashes) {
            return false;
        }
    }
    true
}

/// A tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn validate_tag(tag: &str) -> Result<()> {
    let bytes = tag.as_bytes();
    let first_ok = bytes.first().is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
    let rest_ok = bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !first_ok || !rest_ok || bytes.len() > MAX_TAG {
        return Err(Error::InvalidName {
            what: "tag",
            value: tag.chars().take(MAX_TAG + 1).collect(),
            why: "must match [A-Za-z0-9_][A-Za-z0-9._-]{0,127}",
        });
    }
    Ok(())
}

/// The longest model, resource or chart name.
const MAX_ARTIFACT_NAME: usize = 128;

/// A model, resource or chart name (NGC's client-side rule): `[a-z][a-z0-9._-]*`, at most 128.
pub fn validate_artifact_name(name: &str) -> Result<()> {
    let bytes = name.as_bytes();
    let first_ok = bytes.first().is_some_and(u8::is_ascii_lowercase);
    let rest_ok = bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if !first_ok || !rest_ok || bytes.len() > MAX_ARTIFACT_NAME {
        return Err(Error::InvalidName {
            what: "name",
            value: name.chars().take(MAX_ARTIFACT_NAME + 1).collect(),
            why: "must match [a-z][a-z0-9._-]* (at most 128 characters)",
        });
    }
    Ok(())
}

/// A model, resource or chart version: like a tag, plus `+` for a semantic version's build
/// metadata (`1.2.3+build.4`), `[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}`, so that it can name a file
/// or folder (`<name>_v<version>`) anywhere.
pub fn validate_version(version: &str) -> Result<()> {
    let as_tag = version.replace('+', "_");
    let starts_well = !version.starts_with('+');
    validate_tag(&as_tag)
        .ok()
        .filter(|_| starts_well)
        .ok_or_else(|| Error::InvalidName {
            what: "version",
            value: version.chars().take(MAX_TAG + 1).collect(),
            why: "must match [A-Za-z0-9_][A-Za-z0-9._+-]{0,127}",
        })
}

/// The longest path of a file in a model or resource version.
const MAX_FILE_PATH: usize = 4096;

/// A file's path inside a version: relative, `/`-separated, no empty, `.` or `..` segments, no
/// backslashes or control characters (so it can never leave the folder it is unpacked into).
pub fn validate_file_path(path: &str) -> Result<()> {
    let why = if path.is_empty() || path.len() > MAX_FILE_PATH {
        Some("must have 1 to 4096 bytes")
    } else if path.starts_with('/') {
        Some("must be relative")
    } else if path.chars().any(|c| c.is_control() || c == '\\') {
        Some("must not contain control characters or backslashes")
    } else if path.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        Some("must not have empty, '.' or '..' segments")
    } else {
        None
    };
    match why {
        Some(why) => Err(Error::InvalidName {
            what: "file path",
            value: path.chars().take(80).collect(),
            why,
        }),
        None => Ok(()),
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
    fn file_paths() {
        for good in ["a", "sub/b.bin", "x/y/z.tar.gz", "..hidden", "a..b"] {
            assert_eq!(validate_file_path(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a//b",
            "a/",
            "./a",
            "a\\b",
            "a\0b",
            "a\nb",
        ] {
            assert!(validate_file_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn product_names() {
        for good in ["nv-ai-enterprise", "riva_enterprise", "p1"] {
            assert_eq!(validate_product(good), Ok(()), "{good}");
        }
        for bad in ["", "NV-AI", "-x", "a--b", "a/b", "a b", &"a".repeat(65)] {
            assert!(validate_product(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn artifact_names_and_versions() {
        for good in ["mymodel", "a", "my-model_1.0", "x9"] {
            assert_eq!(validate_artifact_name(good), Ok(()), "{good}");
        }
        for bad in ["", "My", "9lives", "-x", "a/b", "a b", "..", &"a".repeat(129)] {
            assert!(validate_artifact_name(bad).is_err(), "{bad}");
        }
        for good in ["1", "1.0", "v2.0-rc1", "2024_01", "1.2.3+build.4"] {
            assert_eq!(validate_version(good), Ok(()), "{good}");
        }
        for bad in ["", ".1", "+1", "1/2", "../x", "1 0", &"1".repeat(129)] {
            assert!(validate_version(bad).is_err(), "{bad}");
        }
    }

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
    fn repositories_and_tags() {
        for good in [
            "acme/web",
            "acme/vision/detector",
            "a/b.c",
            "a/b__c",
            "a/b---c",
            "a0/1_2/x.y-z",
        ] {
            assert_eq!(validate_repository(good), Ok(()), "{good}");
        }
        for bad in [
            "web",
            "Acme/web",
            "acme/",
            "/web",
            "acme//web",
            "acme/web.",
            "acme/a..b",
            "acme/a___b",
            "acme/a_-b",
            "acme/../x",
        ] {
            assert!(validate_repository(bad).is_err(), "{bad}");
        }
        assert!(validate_repository(&format!("a/{}", "b".repeat(254))).is_err());
        for good in ["latest", "v1.0", "_x", "A-b_c.d"] {
            assert_eq!(validate_tag(good), Ok(()), "{good}");
        }
        for bad in ["", "-x", ".x", "a/b", "a:b", &"t".repeat(129)] {
            assert!(validate_tag(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(normalize_email(" Bob@Example.com ").unwrap(), "bob@example.com");
        for bad in ["", "bob", "@x", "bob@", "a b@c", "a@b@c"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }
}
