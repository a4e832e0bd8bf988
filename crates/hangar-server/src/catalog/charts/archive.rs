//! Reading a pushed chart archive: a gzip tar with one top folder holding `Chart.yaml`. The
//! archive is read as a stream from a file, never whole, within limits on what it unpacks to.

use hangar_core::names::{validate_artifact_name, validate_version};
use serde_json::{Map, Value};
use std::io::Read;
use thiserror::Error;

/// What unpacking may reach (Helm's own loader stops at the same sizes).
pub const MAX_UNPACKED_BYTES: u64 = 100 << 20;
pub const MAX_FILE_BYTES: u64 = 5 << 20;
pub const MAX_ENTRIES: usize = 10_000;
const MAX_CHART_YAML: u64 = 1 << 20;

#[derive(Debug, Error, PartialEq)]
pub enum ArchiveError {
    #[error("the chart archive is not gzip-compressed (a .tgz made by `helm package` is)")]
    NotGzip,
    #[error("the chart archive is not a valid gzip tar: {0}")]
    Corrupt(String),
    #[error("the chart archive holds no {0}/Chart.yaml")]
    NoChartYaml(String),
    #[error("the chart archive holds no files")]
    Empty,
    #[error("unsafe path '{0}' in the chart archive")]
    UnsafePath(String),
    #[error("'{0}' in the chart archive is a link or device; charts hold only files and folders")]
    NotAFile(String),
    #[error("every file of a chart archive must be in one top folder; '{0}' is not in '{1}/'")]
    SeveralRoots(String, String),
    #[error("the chart archive unpacks to more than {0} bytes")]
    TooBig(u64),
    #[error("'{0}' in the chart archive is larger than {1} bytes")]
    FileTooBig(String, u64),
    #[error("the chart archive holds more than {0} entries")]
    TooManyEntries(usize),
    #[error("Chart.yaml: {0}")]
    BadChartYaml(String),
    #[error(
        "the chart archive's top folder is '{0}', but its chart is named '{1}' (`helm package` names the folder after the chart)"
    )]
    FolderMismatch(String, String),
}

/// What an archive holds.
#[derive(Debug)]
pub struct ChartContents {
    /// Chart.yaml's fields.
    pub chart: Map<String, Value>,
    pub name: String,
    pub version: String,
    /// Every file, with its size, as the archive names it (`mychart/Chart.yaml`).
    pub files: Vec<(String, u64)>,
}

/// Reads `reader` (a .tgz) and checks it is a chart.
pub fn read(mut reader: impl Read) -> Result<ChartContents, ArchiveError> {
    let mut magic = [0u8; 2];
    reader.read_exact(&mut magic).map_err(|_| ArchiveError::NotGzip)?;
    if magic != [0x1f, 0x8b] {
        return Err(ArchiveError::NotGzip);
    }
    let gzip = flate2::read::GzDecoder::new(std::io::Cursor::new(magic).chain(reader));
    let mut tar = tar::Archive::new(gzip);
    let corrupt = |e: std::io::Error| ArchiveError::Corrupt(e.to_string());
    let mut root: Option<String> = None;
    let mut chart_yaml: Option<String> = None;
    let mut files = vec![];
    let mut unpacked = 0u64;
    let mut entries = 0usize;
    for entry in tar.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        entries += 1;
        if entries > MAX_ENTRIES {
            return Err(ArchiveError::TooManyEntries(MAX_ENTRIES));
        }
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = path.trim_end_matches('/').to_string();
        check_path(&path)?;
        let top = path.split('/').next().unwrap_or_default().to_string();
        match &root {
            None => root = Some(top),
            Some(r) if *r != top => return Err(ArchiveError::SeveralRoots(path, r.clone())),
            Some(_) => {}
        }
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        if !(kind.is_file() || kind == tar::EntryType::Continuous) {
            return Err(ArchiveError::NotAFile(path));
        }
        let size = entry.size();
        if size > MAX_FILE_BYTES {
            return Err(ArchiveError::FileTooBig(path, MAX_FILE_BYTES));
        }
        unpacked += size;
        if unpacked > MAX_UNPACKED_BYTES {
            return Err(ArchiveError::TooBig(MAX_UNPACKED_BYTES));
        }
        if root.as_deref().is_some_and(|r| path == format!("{r}/Chart.yaml")) {
            let mut text = String::new();
            (&mut entry)
                .take(MAX_CHART_YAML)
                .read_to_string(&mut text)
                .map_err(|e| ArchiveError::BadChartYaml(e.to_string()))?;
            chart_yaml = Some(text);
        }
        files.push((path, size));
    }
    let root = root.ok_or(ArchiveError::Empty)?;
    let text = chart_yaml.ok_or_else(|| ArchiveError::NoChartYaml(root.clone()))?;
    let chart = parse_chart_yaml(&text)?;
    let name = string_field(&chart, "name")?;
    let version = string_field(&chart, "version")?;
    if root != name {
        return Err(ArchiveError::FolderMismatch(root, name));
    }
    files.sort();
    Ok(ChartContents {
        chart,
        name,
        version,
        files,
    })
}

/// A relative path inside the archive, with no `..`, no empty or `.` parts.
fn check_path(path: &str) -> Result<(), ArchiveError> {
    let unsafe_path = || ArchiveError::UnsafePath(path.to_string());
    if path.is_empty() || path.starts_with('/') || path.contains('\\') || path.contains('\0') {
        return Err(unsafe_path());
    }
    if path
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(unsafe_path());
    }
    Ok(())
}

fn parse_chart_yaml(text: &str) -> Result<Map<String, Value>, ArchiveError> {
    let bad = |why: String| ArchiveError::BadChartYaml(why);
    let value: Value = serde_saphyr::from_str(text).map_err(|e| bad(e.to_string()))?;
    let Value::Object(chart) = value else {
        return Err(bad("it must be a mapping of fields".into()));
    };
    match chart.get("apiVersion").and_then(Value::as_str) {
        Some("v1" | "v2") => {}
        Some(other) => return Err(bad(format!("apiVersion '{other}' is not v1 or v2"))),
        None => return Err(bad("apiVersion is required".into())),
    }
    let name = string_field(&chart, "name")?;
    validate_artifact_name(&name).map_err(|e| bad(format!("name: {e}")))?;
    let version = string_field(&chart, "version")?;
    validate_version(&version).map_err(|e| bad(format!("version: {e}")))?;
    semver::Version::parse(version.strip_prefix('v').unwrap_or(&version))
        .map_err(|e| bad(format!("version '{version}' is not a semantic version: {e}")))?;
    Ok(chart)
}

fn string_field(chart: &Map<String, Value>, field: &str) -> Result<String, ArchiveError> {
    match chart.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        // `version: 1.0` is read as a number by YAML; Helm takes it as written.
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(ArchiveError::BadChartYaml(format!("{field} is required"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut builder = tar::Builder::new(gz);
        for (path, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            // Written raw so that bad paths reach the reader as they are.
            let name = &mut header.as_old_mut().name;
            name[..path.len()].copy_from_slice(path.as_bytes());
            header.set_cksum();
            builder.append(&header, *data).expect("append");
        }
        builder.into_inner().expect("tar").finish().expect("gzip")
    }

    const CHART: &[u8] = b"apiVersion: v2\nname: demo\nversion: 0.1.0\nappVersion: \"1.2\"\ndescription: A demo\n";

    #[test]
    fn reads_a_chart() {
        let data = tgz(&[("demo/Chart.yaml", CHART), ("demo/templates/a.yaml", b"kind: X\n")]);
        let chart = read(&data[..]).expect("chart");
        assert_eq!((chart.name.as_str(), chart.version.as_str()), ("demo", "0.1.0"));
        assert_eq!(chart.chart["appVersion"], "1.2");
        assert_eq!(
            chart.files,
            [
                ("demo/Chart.yaml".to_string(), CHART.len() as u64),
                ("demo/templates/a.yaml".into(), 8)
            ]
        );
    }

    #[test]
    fn refuses_bad_archives() {
        assert_eq!(read(&b"plain text"[..]).unwrap_err(), ArchiveError::NotGzip);
        let no_chart = tgz(&[("demo/values.yaml", b"a: 1\n")]);
        assert_eq!(
            read(&no_chart[..]).unwrap_err(),
            ArchiveError::NoChartYaml("demo".into())
        );
        let traversal = tgz(&[("demo/Chart.yaml", CHART), ("demo/../../etc/x", b"x")]);
        assert!(matches!(read(&traversal[..]), Err(ArchiveError::UnsafePath(_))));
        let absolute = tgz(&[("/demo/Chart.yaml", CHART)]);
        assert!(matches!(read(&absolute[..]), Err(ArchiveError::UnsafePath(_))));
        let two_roots = tgz(&[("demo/Chart.yaml", CHART), ("other/x", b"x")]);
        assert!(matches!(read(&two_roots[..]), Err(ArchiveError::SeveralRoots(..))));
        let two_roots = tgz(&[("other/x", b"x"), ("demo/Chart.yaml", CHART)]);
        assert!(matches!(read(&two_roots[..]), Err(ArchiveError::SeveralRoots(..))));
        let no_version = tgz(&[("demo/Chart.yaml", b"apiVersion: v2\nname: demo\n")]);
        assert!(matches!(read(&no_version[..]), Err(ArchiveError::BadChartYaml(_))));
        let renamed = tgz(&[("other/Chart.yaml", CHART)]);
        assert_eq!(
            read(&renamed[..]).unwrap_err(),
            ArchiveError::FolderMismatch("other".into(), "demo".into())
        );
        let not_semver = tgz(&[("demo/Chart.yaml", b"apiVersion: v2\nname: demo\nversion: one\n")]);
        assert!(matches!(read(&not_semver[..]), Err(ArchiveError::BadChartYaml(_))));
        let mut truncated = tgz(&[("demo/Chart.yaml", CHART)]);
        truncated.truncate(20);
        assert!(matches!(read(&truncated[..]), Err(ArchiveError::Corrupt(_))));
    }
}
