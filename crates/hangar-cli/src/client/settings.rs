//! The client's settings: API key, org, team, output format, server URL and CA bundle, each
//! taken from a global flag, else a `HANGAR_*` environment variable, else the user settings
//! file (`$HANGAR_HOME/config.toml`, by default `~/.hangar/config.toml`), else a default.

use super::output::Format;
use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080";
/// The value of `--team` (or `HANGAR_TEAM`) that means "no team".
pub const NO_TEAM: &str = "no-team";
/// The value of `--org` (or `HANGAR_ORG`) that means "no org".
pub const NO_ORG: &str = "no-org";

/// Where a setting came from, in `ngc config current`'s words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    Flag,
    Env,
    File,
    Default,
}

impl Source {
    pub fn label(self) -> &'static str {
        match self {
            Source::Flag => "global argument",
            Source::Env => "environment variable",
            Source::File => "user settings",
            Source::Default => "default value",
        }
    }
}

/// A setting's value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

/// One layer of settings: the flags, the environment, or the settings file (whose TOML keys
/// are these field names).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Layer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<String>,
    /// The session key of an e-mail login (`config set --auth-option email`); the file only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
    /// The e-mail of that login.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Layer {
    /// The `HANGAR_*` variables, read through `var`.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Layer {
        Layer {
            api_key: var("HANGAR_API_KEY"),
            org: var("HANGAR_ORG"),
            team: var("HANGAR_TEAM"),
            format_type: var("HANGAR_FORMAT_TYPE"),
            base_url: var("HANGAR_BASE_URL"),
            ca_bundle: var("HANGAR_CA_BUNDLE"),
            session_key: None,
            email: None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self == &Layer::default()
    }
}

/// The settings in force for one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub api_key: Option<Sourced<String>>,
    pub org: Option<Sourced<String>>,
    pub team: Option<Sourced<String>>,
    pub format: Sourced<Format>,
    pub base_url: Sourced<String>,
    pub ca_bundle: Option<Sourced<PathBuf>>,
    /// An e-mail login's session key; an API key in force wins over it.
    pub session_key: Option<Sourced<String>>,
    pub email: Option<String>,
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The first layer (flags, env, file) that sets the field.
fn pick<'a>(layers: &[(&'a Layer, Source)], field: fn(&Layer) -> &Option<String>) -> Option<(usize, Sourced<&'a str>)> {
    layers
        .iter()
        .enumerate()
        .find_map(|(i, (layer, source))| non_empty(field(layer)).map(|value| (i, Sourced { value, source: *source })))
}

fn owned(s: Sourced<&str>) -> Sourced<String> {
    Sourced {
        value: s.value.to_string(),
        source: s.source,
    }
}

/// Combines the layers: flag > environment > file > default.
///
/// `no-org` and `no-team` clear the org or team. A team is dropped when a higher layer names
/// a different org than the one the team's own layer (or the layers below it) names: a team
/// belongs to one org.
pub fn resolve(flags: &Layer, env: &Layer, file: &Layer) -> Result<Settings> {
    let layers = [(flags, Source::Flag), (env, Source::Env), (file, Source::File)];
    let api_key = pick(&layers, |l| &l.api_key).map(|(_, s)| owned(s));
    let org_at = |from: usize| pick(&layers[from..], |l| &l.org).map(|(_, s)| s.value);
    let org = pick(&layers, |l| &l.org)
        .map(|(_, s)| owned(s))
        .filter(|o| o.value != NO_ORG);
    let team = match pick(&layers, |l| &l.team) {
        Some((i, team)) if team.value != NO_TEAM => {
            let same_org = org_at(i).filter(|o| *o != NO_ORG) == org.as_ref().map(|o| o.value.as_str());
            (org.is_some() && same_org).then(|| owned(team))
        }
        _ => None,
    };
    let format = match pick(&layers, |l| &l.format_type) {
        None => Sourced {
            value: Format::Ascii,
            source: Source::Default,
        },
        Some((_, s)) => {
            let value = Format::parse(s.value).ok_or_else(|| {
                anyhow!(
                    "Invalid format_type '{}' ({}): choose ascii, csv or json.",
                    s.value,
                    s.source.label()
                )
            })?;
            Sourced {
                value,
                source: s.source,
            }
        }
    };
    let base_url = match pick(&layers, |l| &l.base_url) {
        None => Sourced {
            value: DEFAULT_BASE_URL.to_string(),
            source: Source::Default,
        },
        Some((_, s)) => Sourced {
            value: normalize_base_url(s.value)?,
            source: s.source,
        },
    };
    let ca_bundle = pick(&layers, |l| &l.ca_bundle).map(|(_, s)| Sourced {
        value: PathBuf::from(s.value),
        source: s.source,
    });
    Ok(Settings {
        api_key,
        org,
        team,
        format,
        base_url,
        ca_bundle,
        session_key: pick(&layers, |l| &l.session_key).map(|(_, s)| owned(s)),
        email: pick(&layers, |l| &l.email).map(|(_, s)| s.value.to_string()),
    })
}

/// `https://` when no scheme is given (as `ngc` does); no trailing slash; http(s) only.
pub fn normalize_base_url(url: &str) -> Result<String> {
    let url = url.trim();
    let full = if url.contains("://") {
        url.to_string()
    } else {
        format!("https://{url}")
    };
    let parsed = reqwest::Url::parse(&full).map_err(|e| anyhow!("Invalid base URL '{url}': {e}."))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        bail!("Invalid base URL '{url}': use http://host[:port] or https://host[:port].");
    }
    Ok(full.trim_end_matches('/').to_string())
}

/// `ngc`'s key masking: stars for all but the last four characters.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let keep = chars.len().min(4);
    let mut out = "*".repeat(chars.len() - keep);
    out.extend(&chars[chars.len() - keep..]);
    out
}

/// The client's folder: `$HANGAR_HOME`, else `~/.hangar`.
pub fn home_dir() -> Result<PathBuf> {
    if let Some(home) = std::env::var_os("HANGAR_HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(home));
    }
    let home = dirs::home_dir().ok_or_else(|| anyhow!("Cannot find the home folder; set HANGAR_HOME."))?;
    Ok(home.join(".hangar"))
}

pub fn config_path(home: &Path) -> PathBuf {
    home.join("config.toml")
}

pub fn tokens_path(home: &Path) -> PathBuf {
    home.join("tokens.json")
}

/// The settings file; a missing file is an empty layer.
pub fn load_file(path: &Path) -> Result<Layer> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).with_context(|| format!("Invalid settings file {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Layer::default()),
        Err(e) => Err(e).with_context(|| format!("Cannot read {}", path.display())),
    }
}

pub fn save_file(path: &Path, layer: &Layer) -> Result<()> {
    let text = toml::to_string(layer).context("Cannot encode the settings")?;
    write_private(path, text.as_bytes())
}

/// Writes a file readable by its owner only (it may hold secrets), replacing it atomically.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .ok_or_else(|| anyhow!("Invalid path {}", path.display()))?;
    create_private_dir(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = (|| -> std::io::Result<()> {
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("Cannot write {}", path.display()))
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("Cannot create {}", dir.display()))
}

/// Deletes a file; a missing file is fine. Returns whether it existed.
pub fn remove_file(path: &Path) -> Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("Cannot delete {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(pairs: &[(&str, &str)]) -> Layer {
        let mut l = Layer::default();
        for (k, v) in pairs {
            let v = Some(v.to_string());
            match *k {
                "api_key" => l.api_key = v,
                "org" => l.org = v,
                "team" => l.team = v,
                "format_type" => l.format_type = v,
                "base_url" => l.base_url = v,
                "ca_bundle" => l.ca_bundle = v,
                _ => panic!("unknown key {k}"),
            }
        }
        l
    }

    fn value<T: Clone>(s: &Option<Sourced<T>>) -> Option<(T, Source)> {
        s.as_ref().map(|s| (s.value.clone(), s.source))
    }

    #[test]
    fn flag_beats_env_beats_file() {
        let file = layer(&[
            ("api_key", "file-key"),
            ("org", "o1"),
            ("format_type", "csv"),
            ("base_url", "http://f:1"),
        ]);
        let env = layer(&[("api_key", "env-key"), ("format_type", "json")]);
        let flags = layer(&[("api_key", "flag-key")]);
        let s = resolve(&flags, &env, &file).unwrap();
        assert_eq!(value(&s.api_key), Some(("flag-key".into(), Source::Flag)));
        assert_eq!(
            s.format,
            Sourced {
                value: Format::Json,
                source: Source::Env
            }
        );
        assert_eq!(value(&s.org), Some(("o1".into(), Source::File)));
        assert_eq!(
            s.base_url,
            Sourced {
                value: "http://f:1".into(),
                source: Source::File
            }
        );
        let s = resolve(&Layer::default(), &Layer::default(), &file).unwrap();
        assert_eq!(value(&s.api_key), Some(("file-key".into(), Source::File)));
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let empty = Layer::default();
        let s = resolve(&empty, &empty, &empty).unwrap();
        assert_eq!(
            s.format,
            Sourced {
                value: Format::Ascii,
                source: Source::Default
            }
        );
        assert_eq!(s.base_url.value, DEFAULT_BASE_URL);
        assert_eq!(s.base_url.source, Source::Default);
        assert!(s.api_key.is_none() && s.org.is_none() && s.team.is_none() && s.ca_bundle.is_none());
        // Blank values count as unset.
        let blank = layer(&[("org", "  "), ("api_key", "")]);
        let s = resolve(&blank, &empty, &layer(&[("org", "o")])).unwrap();
        assert_eq!(value(&s.org), Some(("o".into(), Source::File)));
        assert!(s.api_key.is_none());
    }

    #[test]
    fn no_team_and_no_org_clear() {
        let file = layer(&[("org", "o"), ("team", "t")]);
        let s = resolve(&layer(&[("team", "no-team")]), &Layer::default(), &file).unwrap();
        assert!(s.team.is_none());
        assert_eq!(value(&s.org), Some(("o".into(), Source::File)));
        let s = resolve(&Layer::default(), &layer(&[("org", "no-org")]), &file).unwrap();
        assert!(s.org.is_none() && s.team.is_none());
    }

    #[test]
    fn team_follows_its_org() {
        let file = layer(&[("org", "o"), ("team", "t")]);
        // Same org named again: the team stays.
        let s = resolve(&layer(&[("org", "o")]), &Layer::default(), &file).unwrap();
        assert_eq!(value(&s.team), Some(("t".into(), Source::File)));
        // Another org: the file's team does not belong to it.
        let s = resolve(&layer(&[("org", "other")]), &Layer::default(), &file).unwrap();
        assert!(s.team.is_none());
        // A team given with the new org stays.
        let s = resolve(&layer(&[("org", "other"), ("team", "t2")]), &Layer::default(), &file).unwrap();
        assert_eq!(value(&s.team), Some(("t2".into(), Source::Flag)));
        // A team from the environment with the file's org stays.
        let s = resolve(&Layer::default(), &layer(&[("team", "t3")]), &file).unwrap();
        assert_eq!(value(&s.team), Some(("t3".into(), Source::Env)));
        // No org at all: no team.
        let s = resolve(&layer(&[("team", "t")]), &Layer::default(), &Layer::default()).unwrap();
        assert!(s.team.is_none());
    }

    #[test]
    fn bad_format_type_names_its_source() {
        let err = resolve(&Layer::default(), &layer(&[("format_type", "yaml")]), &Layer::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid format_type 'yaml' (environment variable): choose ascii, csv or json."
        );
    }

    #[test]
    fn base_urls_are_normalized() {
        assert_eq!(
            normalize_base_url("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            normalize_base_url("hangar.example.com").unwrap(),
            "https://hangar.example.com"
        );
        assert_eq!(normalize_base_url("https://h/prefix/").unwrap(), "https://h/prefix");
        assert!(normalize_base_url("ftp://h").is_err());
        assert!(normalize_base_url("http://").is_err());
    }

    #[test]
    fn masking_keeps_last_four() {
        assert_eq!(mask("nvapi-abcdefgh"), "**********efgh");
        assert_eq!(mask("abcd"), "abcd");
        assert_eq!(mask("ab"), "ab");
        assert_eq!(mask(""), "");
        assert_eq!(mask("ééééé"), "*éééé");
    }

    #[test]
    fn env_layer_reads_hangar_variables() {
        let l = Layer::from_env(|name| Some(format!("v-{name}")));
        assert_eq!(l.api_key.as_deref(), Some("v-HANGAR_API_KEY"));
        assert_eq!(l.format_type.as_deref(), Some("v-HANGAR_FORMAT_TYPE"));
        assert_eq!(l.ca_bundle.as_deref(), Some("v-HANGAR_CA_BUNDLE"));
    }

    #[test]
    fn settings_file_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = config_path(&dir.path().join("home"));
        assert_eq!(load_file(&path).unwrap(), Layer::default());
        let l = layer(&[("api_key", "k"), ("org", "o"), ("format_type", "json")]);
        save_file(&path, &l).unwrap();
        assert_eq!(load_file(&path).unwrap(), l);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("api_key = \"k\"") && !text.contains("team"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert!(remove_file(&path).unwrap());
        assert!(!remove_file(&path).unwrap());
        std::fs::write(&path, "org = [").unwrap();
        assert!(load_file(&path).is_err());
    }
}
