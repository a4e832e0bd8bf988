//! What the catalog commands (`image`, `model`, `resource`) act on: `org/[team/]name[:tag]` as
//! typed (maybe with `*` and `?` wildcards), or one concrete entity with its
//! `{OT}/{segment}/{name}` path. With three parts the middle one is the team; a bare `name` is in
//! the configured org (and team). For models and resources the tag is the version.

use super::Ctx;
use super::http::seg;
use anyhow::{Result, bail};

/// `org/[team/]name[:tag]` as typed, split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pub org: Option<String>,
    pub team: Option<String>,
    pub name: String,
    pub tag: Option<String>,
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern> {
        let text = text.trim();
        let (path, tag) = {
            let slash = text.rfind('/').map_or(0, |i| i + 1);
            match text[slash..].split_once(':') {
                Some((repo, tag)) => (&text[..slash + repo.len()], Some(tag.to_string())),
                None => (text, None),
            }
        };
        if tag.as_deref() == Some("") {
            bail!("Invalid target '{text}': the tag or version is empty.");
        }
        let parts: Vec<&str> = path.split('/').collect();
        if parts.iter().any(|p| p.is_empty()) {
            bail!("Invalid target '{text}': give <org>/[<team>/]<name>[:<tag or version>].");
        }
        let (org, team, name) = match parts.as_slice() {
            [name] => (None, None, *name),
            [org, name] => (Some(*org), None, *name),
            [org, team, name] => (Some(*org), Some(*team), *name),
            _ => bail!("Invalid target '{text}': give <org>/[<team>/]<name>[:<tag or version>]."),
        };
        Ok(Pattern {
            org: org.map(str::to_string),
            team: team.map(str::to_string),
            name: name.to_string(),
            tag,
        })
    }

    /// The pattern of `list [PATTERN]`: everything when none is given.
    pub fn parse_or_everything(text: Option<&str>) -> Result<Pattern> {
        text.map_or_else(|| Ok(Pattern::everything()), Pattern::parse)
    }

    /// Everything (`list` with no argument).
    pub fn everything() -> Pattern {
        Pattern {
            org: None,
            team: None,
            name: "*".into(),
            tag: None,
        }
    }

    /// The name part as typed (`org/team/name`, `org/name` or `name`).
    pub fn matcher(&self) -> String {
        [self.org.as_deref(), self.team.as_deref(), Some(self.name.as_str())]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// One entity (repository, model, resource) of an org or team, and maybe a tag or version (a
/// pattern where the command takes one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub org: String,
    pub team: Option<String>,
    pub name: String,
    pub tag: Option<String>,
}

impl Target {
    /// A concrete entity and tag: no wildcards anywhere.
    pub fn resolve(text: &str, ctx: &Ctx) -> Result<Target> {
        let target = Target::resolve_tag_pattern(text, ctx)?;
        if target.tag.as_deref().is_some_and(is_glob) {
            bail!("Invalid target '{text}': the tag or version cannot have wildcards here.");
        }
        Ok(target)
    }

    /// A concrete entity; the tag may have wildcards.
    pub fn resolve_tag_pattern(text: &str, ctx: &Ctx) -> Result<Target> {
        Target::from_pattern(Pattern::parse(text)?, ctx)
    }

    /// The entity of a parsed pattern: `org/[team/]name` as given, a bare `name` in the
    /// configured org and team.
    pub fn from_pattern(p: Pattern, ctx: &Ctx) -> Result<Target> {
        if is_glob(&p.matcher()) {
            bail!("Invalid target '{}': the name cannot have wildcards.", p.matcher());
        }
        let (org, team) = match p.org {
            Some(org) => (org, p.team),
            None => (ctx.org()?.to_string(), ctx.team().map(str::to_string)),
        };
        Ok(Target {
            org,
            team,
            name: p.name,
            tag: p.tag,
        })
    }

    /// `/v2/org/{org}[/team/{team}]`.
    pub fn space(&self) -> String {
        format!("/v2/{}", self.scope())
    }

    /// `org/{org}[/team/{team}]`: the org (and team), as a path names them.
    pub fn scope(&self) -> String {
        match &self.team {
            Some(team) => format!("org/{}/team/{}", seg(&self.org), seg(team)),
            None => format!("org/{}", seg(&self.org)),
        }
    }

    /// `{OT}/{segment}/{name}` (`segment`: `repos`, `models`, `resources`).
    pub fn path(&self, segment: &str) -> String {
        format!("{}/{segment}/{}", self.space(), seg(&self.name))
    }

    /// The public (guest) path: `/v2/{segment}/{org}[/{team}]/{name}`.
    pub fn public_path(&self, segment: &str) -> String {
        match &self.team {
            Some(team) => format!("/v2/{segment}/{}/{}/{}", seg(&self.org), seg(team), seg(&self.name)),
            None => format!("/v2/{segment}/{}/{}", seg(&self.org), seg(&self.name)),
        }
    }

    /// `org/[team/]name`.
    pub fn full_name(&self) -> String {
        match &self.team {
            Some(team) => format!("{}/{team}/{}", self.org, self.name),
            None => format!("{}/{}", self.org, self.name),
        }
    }

    /// The tag or version; `what` needs one (`what`: the command, `form`: how to give it).
    pub fn require_tag(&self, what: &str, form: &str) -> Result<&str> {
        match &self.tag {
            Some(tag) => Ok(tag),
            None => bail!("{what} needs {form}."),
        }
    }
}

/// Whether the text has wildcards (`ngc`'s `contains_glob`).
pub fn is_glob(text: &str) -> bool {
    text.contains(['*', '?', '[', ']'])
}

/// One piece of a pattern.
enum Token {
    /// `*`: any run of characters.
    Star,
    /// `?`: one character.
    One,
    /// `[a-z]`, `[!0-9]`: one character of (or not of) the set.
    Set {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    Literal(char),
}

impl Token {
    fn matches(&self, c: char) -> bool {
        match self {
            Token::Star | Token::One => true,
            Token::Set { negated, ranges } => ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated,
            Token::Literal(l) => *l == c,
        }
    }
}

fn tokens(pattern: &str) -> Vec<Token> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => out.push(Token::Star),
            '?' => out.push(Token::One),
            '[' => {
                // `fnmatch`: `!` negates; a `]` right after `[` (or `[!`) is a member; no closing
                // `]` makes the `[` a literal.
                let mut j = i + 1;
                let negated = chars.get(j) == Some(&'!');
                if negated {
                    j += 1;
                }
                let start = j;
                while j < chars.len() && (chars[j] != ']' || j == start) {
                    j += 1;
                }
                if j >= chars.len() {
                    out.push(Token::Literal('['));
                } else {
                    let members = &chars[start..j];
                    let mut ranges = Vec::new();
                    let mut k = 0;
                    while k < members.len() {
                        if k + 2 < members.len() && members[k + 1] == '-' {
                            ranges.push((members[k], members[k + 2]));
                            k += 3;
                        } else {
                            ranges.push((members[k], members[k]));
                            k += 1;
                        }
                    }
                    out.push(Token::Set { negated, ranges });
                    i = j;
                }
            }
            c => out.push(Token::Literal(c)),
        }
        i += 1;
    }
    out
}

/// Shell-style matching of the whole text (`ngc`'s `fnmatch`): `*` any run of characters, `?`
/// one character, `[…]` one character of a set.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p = tokens(pattern);
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(Token::Star) => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(token) if token.matches(t[ti]) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|t| matches!(t, Token::Star))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let p = Pattern::parse("acme/vision/web:v*").unwrap();
        assert_eq!(
            (p.org.as_deref(), p.team.as_deref(), p.name.as_str(), p.tag.as_deref()),
            (Some("acme"), Some("vision"), "web", Some("v*"))
        );
        assert_eq!(p.matcher(), "acme/vision/web");
        let p = Pattern::parse("*we*").unwrap();
        assert_eq!((p.org.as_deref(), p.matcher()), (None, "*we*".to_string()));
        let p = Pattern::parse("acme/web").unwrap();
        assert_eq!((p.org.as_deref(), p.team, p.tag), (Some("acme"), None, None));
        let p = Pattern::parse("acme/web:1.0").unwrap();
        assert_eq!((p.name.as_str(), p.tag.as_deref()), ("web", Some("1.0")));
        for bad in ["acme/web:", "a/b/c/d", "acme//web", ""] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn globs() {
        assert!(glob_match("*we*", "acme/web"));
        assert!(glob_match("v?", "v1"));
        assert!(!glob_match("v?", "v10"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "aXbYbc"));
        assert!(!glob_match("a*b", "ac"));
        assert!(glob_match("1.*", "1.0"));
        assert!(!glob_match("1.*", "21.0"));
        assert!(glob_match("[1-5]", "3"));
        assert!(!glob_match("[1-5]", "7"));
        assert!(glob_match("v[!0-9]*", "vx1"));
        assert!(!glob_match("v[!0-9]*", "v1"));
        assert!(glob_match("[]]", "]"));
        assert!(glob_match("a[", "a["));
        assert!(is_glob("web:[12]") && !is_glob("web:1"));
    }

    #[test]
    fn paths() {
        let target = Target {
            org: "acme".into(),
            team: Some("vision".into()),
            name: "web".into(),
            tag: None,
        };
        assert_eq!(target.path("repos"), "/v2/org/acme/team/vision/repos/web");
        assert_eq!(target.public_path("models"), "/v2/models/acme/vision/web");
        assert_eq!(target.full_name(), "acme/vision/web");
        assert!(target.require_tag("set-latest", "a tag").is_err());
        let target = Target { team: None, ..target };
        assert_eq!(
            (target.path("repos").as_str(), target.full_name().as_str()),
            ("/v2/org/acme/repos/web", "acme/web")
        );
    }
}
