//! Image references: `<org>/[<team>/]<repo>[:<tag>|@<digest>]`. A bare `<repo>` is put under
//! the configured org (and team); with neither tag nor digest the tag is `latest`, as in `ngc`.

use anyhow::{Result, anyhow, bail};
use hangar_core::digest::Digest;
use hangar_core::names::{validate_repository, validate_tag};
use std::fmt;

pub const DEFAULT_TAG: &str = "latest";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Tag(String),
    Digest(Digest),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The repository, `org/[team/]repo`.
    pub name: String,
    pub target: Target,
}

impl ImageRef {
    pub fn parse(text: &str, org: Option<&str>, team: Option<&str>) -> Result<ImageRef> {
        let text = text.trim();
        let bad = |why: String| anyhow!("Invalid image reference '{text}': {why}");
        let (rest, digest) = match text.split_once('@') {
            Some((rest, d)) => (rest, Some(d.parse::<Digest>().map_err(|e| bad(e.to_string()))?)),
            None => (text, None),
        };
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[slash..].split_once(':') {
            Some((repo, tag)) => (&rest[..slash + repo.len()], Some(tag)),
            None => (rest, None),
        };
        if name.is_empty() {
            return Err(bad("no repository name".into()));
        }
        let name = if name.contains('/') {
            name.to_string()
        } else {
            let org = org.ok_or_else(|| {
                bad("give <org>/[<team>/]<repository>, or set an org with --org or `hangar config set`".into())
            })?;
            match team {
                Some(team) => format!("{org}/{team}/{name}"),
                None => format!("{org}/{name}"),
            }
        };
        validate_repository(&name).map_err(|e| bad(e.to_string()))?;
        let target = match (tag, digest) {
            (Some(_), Some(_)) => return Err(bad("give a tag or a digest, not both".into())),
            (Some(tag), None) => {
                validate_tag(tag).map_err(|e| bad(e.to_string()))?;
                Target::Tag(tag.to_string())
            }
            (None, Some(d)) => Target::Digest(d),
            (None, None) => Target::Tag(DEFAULT_TAG.to_string()),
        };
        Ok(ImageRef { name, target })
    }

    pub fn tag(&self) -> Option<&str> {
        match &self.target {
            Target::Tag(t) => Some(t),
            Target::Digest(_) => None,
        }
    }

    /// The reference in a `/v2/<name>/manifests/<reference>` path.
    pub fn reference(&self) -> &str {
        match &self.target {
            Target::Tag(t) => t,
            Target::Digest(d) => d.as_str(),
        }
    }

    /// The tag a push needs.
    pub fn require_tag(&self) -> Result<&str> {
        match &self.target {
            Target::Tag(t) => Ok(t),
            Target::Digest(_) => bail!("A push needs a tag (<repository>:<tag>), not a digest."),
        }
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Target::Tag(t) => write!(f, "{}:{t}", self.name),
            Target::Digest(d) => write!(f, "{}@{d}", self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<ImageRef> {
        ImageRef::parse(text, None, None)
    }

    #[test]
    fn full_references() {
        let r = p("acme/web:v1").unwrap();
        assert_eq!((r.name.as_str(), r.tag()), ("acme/web", Some("v1")));
        let r = p("acme/team/web").unwrap();
        assert_eq!((r.name.as_str(), r.tag()), ("acme/team/web", Some("latest")));
        assert_eq!(r.to_string(), "acme/team/web:latest");
        let d = format!("sha256:{}", "a".repeat(64));
        let r = p(&format!("acme/web@{d}")).unwrap();
        assert_eq!(r.reference(), d);
        assert!(r.require_tag().is_err());
        assert_eq!(r.to_string(), format!("acme/web@{d}"));
    }

    #[test]
    fn bare_names_use_the_configured_org_and_team() {
        let r = ImageRef::parse("web:1.0", Some("acme"), Some("t")).unwrap();
        assert_eq!(r.to_string(), "acme/t/web:1.0");
        let r = ImageRef::parse("web", Some("acme"), None).unwrap();
        assert_eq!(r.to_string(), "acme/web:latest");
        assert!(p("web").unwrap_err().to_string().contains("--org"));
    }

    #[test]
    fn bad_references() {
        for bad in [
            "",
            "Acme/web",
            "acme/web:",
            "acme/web:-x",
            "acme/web@sha256:00",
            "acme//web",
            ":v1",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
        let d = format!("sha256:{}", "b".repeat(64));
        assert!(p(&format!("acme/web:v1@{d}")).is_err());
    }
}
