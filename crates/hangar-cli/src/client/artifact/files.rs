//! Local files of a transfer: the files of an upload's `--source` with their relative POSIX
//! paths, SHA-256 while streaming, and where a downloaded file may be written (never outside
//! the destination).

use anyhow::{Context, Result, bail};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Bytes read at a time when hashing.
const READ_CHUNK: usize = 1 << 20;

/// One file to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Relative to the source folder (for a single file: its name), `/`-separated.
    pub path: String,
    pub local: PathBuf,
    pub size: u64,
}

/// The files under `source` (following symbolic links), by path; a single file is itself.
pub fn source_files(source: &Path) -> Result<Vec<SourceFile>> {
    let meta = std::fs::metadata(source).with_context(|| format!("Cannot read the source {}", source.display()))?;
    if meta.is_file() {
        let name = source
            .file_name()
            .and_then(|n| n.to_str())
            .with_context(|| format!("{} has no usable file name", source.display()))?;
        return Ok(vec![SourceFile {
            path: name.to_string(),
            local: source.to_path_buf(),
            size: meta.len(),
        }]);
    }
    let mut files = Vec::new();
    let mut pending = vec![source.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).with_context(|| format!("Cannot read the folder {}", dir.display()))?;
        for entry in entries {
            let local = entry?.path();
            let meta = std::fs::metadata(&local).with_context(|| format!("Cannot read {}", local.display()))?;
            if meta.is_dir() {
                pending.push(local);
                continue;
            }
            let relative = local.strip_prefix(source).unwrap_or(&local);
            let path = posix_path(relative)?;
            files.push(SourceFile {
                path,
                local,
                size: meta.len(),
            });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

fn posix_path(relative: &Path) -> Result<String> {
    let mut parts = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => parts.push(
                part.to_str()
                    .with_context(|| format!("{} is not a UTF-8 file name", relative.display()))?,
            ),
            _ => bail!("{} is not a plain relative path", relative.display()),
        }
    }
    Ok(parts.join("/"))
}

/// Where the file `path` of a version goes under `dest`: refused unless it is a plain relative
/// path (no `..`, no root, no empty or `.` segments, no NUL or backslash).
pub fn local_path(dest: &Path, path: &str) -> Result<PathBuf> {
    let plain = !path.is_empty()
        && !path.contains(['\0', '\\'])
        && path.split('/').all(|s| !s.is_empty() && s != "." && s != "..");
    if !plain {
        bail!("The server listed an unsafe file path '{path}'; nothing was written for it.");
    }
    Ok(path.split('/').fold(dest.to_path_buf(), |p, s| p.join(s)))
}

/// SHA-256 of a file's contents, read in 1 MiB chunks (blocking: run it off the runtime).
/// `progress` is told of each chunk.
pub fn sha256_file(local: &Path, progress: impl Fn(u64)) -> Result<[u8; 32]> {
    let mut file = std::fs::File::open(local).with_context(|| format!("Cannot open {}", local.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("Cannot read {}", local.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        progress(n as u64);
    }
    Ok(hasher.finalize().into())
}

/// A SHA-256 as NGC sends it: standard base64 with padding.
pub fn base64_sha256(digest: &[u8; 32]) -> String {
    base64::engine::general_purpose::STANDARD.encode(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_walked_with_posix_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("sub/deep")).unwrap();
        std::fs::write(dir.path().join("a.bin"), b"abc").unwrap();
        std::fs::write(dir.path().join("sub/deep/b.txt"), b"").unwrap();
        let files = source_files(dir.path()).unwrap();
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a.bin", "sub/deep/b.txt"]);
        assert_eq!(files[0].size, 3);
        let single = source_files(&dir.path().join("sub/deep/b.txt")).unwrap();
        assert_eq!(single[0].path, "b.txt");
        assert!(source_files(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn unsafe_download_paths_are_refused() {
        let dest = Path::new("/tmp/d");
        assert_eq!(local_path(dest, "a/b.bin").unwrap(), Path::new("/tmp/d/a/b.bin"));
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a//b",
            "./a",
            "a\\..\\b",
            "a\0b",
            "",
        ] {
            assert!(local_path(dest, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hashes_are_ngc_base64() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("e");
        std::fs::write(&empty, b"").unwrap();
        let digest = sha256_file(&empty, |_| {}).unwrap();
        assert_eq!(base64_sha256(&digest), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    }
}
