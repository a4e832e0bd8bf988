//! Local image sources read by byte range: a folder, or a tarball indexed once (headers only)
//! so that each member is a range of the tar file. Nothing is read whole into memory except
//! small JSON documents.

use super::media::Node;
use anyhow::{Context, Result, anyhow, bail};
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

/// Where a blob's bytes are: `len` bytes of `path` from `offset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub offset: u64,
    pub len: u64,
}

impl Location {
    /// A reader of exactly this range (fewer bytes if the file shrank).
    pub fn open(&self) -> Result<std::io::Take<std::fs::File>> {
        let mut file =
            std::fs::File::open(&self.path).with_context(|| format!("Cannot open {}", self.path.display()))?;
        file.seek(SeekFrom::Start(self.offset))
            .with_context(|| format!("Cannot read {}", self.path.display()))?;
        Ok(file.take(self.len))
    }

    /// The whole range in memory, for documents of at most `limit` bytes.
    pub fn read_small(&self, limit: u64, what: &str) -> Result<Vec<u8>> {
        if self.len > limit {
            bail!("{what} is {} bytes, more than the {limit} allowed", self.len);
        }
        let mut bytes = Vec::with_capacity(self.len as usize);
        self.open()?
            .read_to_end(&mut bytes)
            .with_context(|| format!("Cannot read {what}"))?;
        if bytes.len() as u64 != self.len {
            bail!(
                "{what} is shorter than expected ({} of {} bytes)",
                bytes.len(),
                self.len
            );
        }
        Ok(bytes)
    }
}

/// What a push sends: a manifest tree, where each of its blobs is on disk, and what kind of
/// source it came from (`oci-layout`, `oci-archive`, `docker-archive`).
#[derive(Debug)]
pub struct Plan {
    pub root: Node,
    pub locations: HashMap<String, Location>,
    pub format: &'static str,
}

#[derive(Debug, Clone)]
enum Member {
    File {
        offset: u64,
        size: u64,
    },
    /// A symbolic or hard link, as a normalized path in the archive.
    Link(String),
}

/// The members of a tarball: path → range or link.
#[derive(Debug)]
pub struct TarIndex {
    path: PathBuf,
    members: HashMap<String, Member>,
}

/// `a/./b/../c` → `a/c`; `None` for paths that leave the root.
fn normalize(path: &Path) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_str()?.to_string()),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::Prefix(_) => return None,
        }
    }
    Some(parts.join("/"))
}

impl TarIndex {
    /// Reads the headers of the tarball at `path` (blocking: call from `spawn_blocking`).
    pub fn open(path: &Path) -> Result<TarIndex> {
        let mut file = std::fs::File::open(path).with_context(|| format!("Cannot open {}", path.display()))?;
        let mut magic = [0u8; 4];
        let n = file.read(&mut magic).unwrap_or(0);
        if n >= 2 && magic[..2] == [0x1f, 0x8b] {
            bail!(
                "{} is gzip-compressed: decompress it first (gunzip), then push the .tar",
                path.display()
            );
        }
        if n == 4 && magic == [0x28, 0xb5, 0x2f, 0xfd] {
            bail!(
                "{} is zstd-compressed: decompress it first (zstd -d), then push the .tar",
                path.display()
            );
        }
        file.seek(SeekFrom::Start(0))?;
        let not_tar = || format!("{} is not a tar archive", path.display());
        let mut archive = tar::Archive::new(file);
        let mut members = HashMap::new();
        for entry in archive.entries_with_seek().with_context(not_tar)? {
            let entry = entry.with_context(not_tar)?;
            let header = entry.header();
            let kind = header.entry_type();
            let Some(name) = entry.path().ok().and_then(|p| normalize(&p)) else {
                continue;
            };
            let member = if kind.is_file() || kind.is_contiguous() {
                Member::File {
                    offset: entry.raw_file_position(),
                    size: entry.size(),
                }
            } else if kind.is_symlink() || kind.is_hard_link() {
                let Some(target) = entry.link_name().ok().flatten() else {
                    continue;
                };
                // A symbolic link is relative to its folder, a hard link to the archive's root.
                let joined = if kind.is_symlink() && !target.is_absolute() {
                    Path::new(&name).parent().unwrap_or(Path::new("")).join(&target)
                } else {
                    target.to_path_buf()
                };
                match normalize(&joined) {
                    Some(t) => Member::Link(t),
                    None => continue,
                }
            } else if kind.is_gnu_sparse() {
                bail!("{}: sparse member {name} is not supported", path.display());
            } else {
                continue;
            };
            members.insert(name, member);
        }
        if members.is_empty() {
            bail!("{} is empty or not a tar archive", path.display());
        }
        Ok(TarIndex {
            path: path.to_path_buf(),
            members,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The range of member `name`, following links.
    pub fn locate(&self, name: &str) -> Option<Location> {
        let mut name = normalize(Path::new(name))?;
        for _ in 0..16 {
            match self.members.get(&name)? {
                Member::File { offset, size } => {
                    return Some(Location {
                        path: self.path.clone(),
                        offset: *offset,
                        len: *size,
                    });
                }
                Member::Link(target) => name = target.clone(),
            }
        }
        None
    }

    pub fn contains(&self, name: &str) -> bool {
        self.locate(name).is_some()
    }
}

/// An OCI image layout, as a folder or inside a tarball.
#[derive(Debug)]
pub enum Store {
    Dir(PathBuf),
    Tar(TarIndex),
}

impl Store {
    /// Where a file of the layout is; `None` when it is missing.
    pub fn locate(&self, relative: &str) -> Result<Option<Location>> {
        match self {
            Store::Dir(root) => {
                let path = root.join(relative);
                match std::fs::metadata(&path) {
                    Ok(meta) if meta.is_file() => Ok(Some(Location {
                        path,
                        offset: 0,
                        len: meta.len(),
                    })),
                    Ok(_) => Ok(None),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(e).with_context(|| format!("Cannot read {}", path.display())),
                }
            }
            Store::Tar(index) => Ok(index.locate(relative)),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Store::Dir(root) => root.display().to_string(),
            Store::Tar(index) => index.path().display().to_string(),
        }
    }

    /// A small file of the layout (`index.json`, manifests), whole.
    pub fn read_small(&self, relative: &str, limit: u64) -> Result<Vec<u8>> {
        let what = format!("{relative} in {}", self.describe());
        self.locate(relative)?
            .ok_or_else(|| anyhow!("{what} is missing"))?
            .read_small(limit, &what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized() {
        assert_eq!(normalize(Path::new("./a/b/../c")).as_deref(), Some("a/c"));
        assert_eq!(
            normalize(Path::new("/blobs/sha256/x")).as_deref(),
            Some("blobs/sha256/x")
        );
        assert_eq!(normalize(Path::new("../x")), None);
    }

    #[test]
    fn tar_members_are_ranges_and_links_are_followed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.tar");
        let mut builder = tar::Builder::new(std::fs::File::create(&path).unwrap());
        let mut add = |name: &str, data: &[u8]| {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            builder.append_data(&mut h, name, data).unwrap();
        };
        add("./one/layer.tar", b"hello layer");
        add("manifest.json", b"[]");
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_cksum();
        builder
            .append_link(&mut h, "two/layer.tar", "../one/layer.tar")
            .unwrap();
        builder.into_inner().unwrap();
        let index = TarIndex::open(&path).unwrap();
        let loc = index.locate("two/layer.tar").unwrap();
        assert_eq!(loc.read_small(100, "x").unwrap(), b"hello layer");
        assert!(index.contains("manifest.json"));
        assert!(!index.contains("nope"));
        std::fs::write(dir.path().join("z.tar.gz"), [0x1f, 0x8b, 8, 0]).unwrap();
        let err = TarIndex::open(&dir.path().join("z.tar.gz")).unwrap_err();
        assert!(err.to_string().contains("gzip"), "{err}");
        std::fs::write(dir.path().join("junk"), b"not a tarball at all").unwrap();
        assert!(TarIndex::open(&dir.path().join("junk")).is_err());
    }
}
