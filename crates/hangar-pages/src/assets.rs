//! The static files pages link: compiled into the binary and served under a name that carries
//! their content hash, so a browser may cache them forever and a new build is never stale.

use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// One static file.
pub struct Asset {
    /// Its name without the hash: `hangar.css` is served as `/static/hangar.<hash>.css`.
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

/// Every static file. htmx is the npm package `htmx.org`'s `dist/htmx.min.js`, unchanged
/// (BSD Zero Clause License, `static/vendor/htmx-LICENSE`). The SHA-256 of the browser upload is
/// the npm package `@noble/hashes` 2.4.0's `sha2.js`, bundled by esbuild 0.28.2 into one
/// file (`import { sha256 } from '@noble/hashes/sha2.js'; self.nobleSha256 = sha256;`,
/// `--bundle --minify --format=iife`; MIT, `static/vendor/noble-hashes-LICENSE`).
pub const ASSETS: [Asset; 6] = [
    Asset {
        name: "hangar.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../static/hangar.css"),
    },
    Asset {
        name: "hangar.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../static/hangar.js"),
    },
    Asset {
        name: "htmx.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../static/vendor/htmx-2.0.11.min.js"),
    },
    Asset {
        name: "upload.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../static/upload.js"),
    },
    Asset {
        name: "hash-worker.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../static/hash-worker.js"),
    },
    Asset {
        name: "sha256.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../static/vendor/noble-hashes-2.4.0-sha256.min.js"),
    },
];

/// Each asset's URL, in the order of [`ASSETS`].
fn urls() -> &'static [String] {
    static URLS: OnceLock<Vec<String>> = OnceLock::new();
    URLS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| {
                let hash = hex::encode(Sha256::digest(asset.body.as_bytes()));
                let (stem, ext) = asset.name.rsplit_once('.').unwrap_or((asset.name, ""));
                format!("/static/{stem}.{}.{ext}", &hash[..16])
            })
            .collect()
    })
}

/// The URL of the asset called `name`; panics for a name that is not in [`ASSETS`] (templates
/// name them as constants).
pub fn asset_url(name: &str) -> &'static str {
    let i = ASSETS
        .iter()
        .position(|a| a.name == name)
        .unwrap_or_else(|| panic!("no asset {name}"));
    &urls()[i]
}

/// The asset served at `path` (`/static/…`), if any.
pub fn asset_at(path: &str) -> Option<&'static Asset> {
    urls().iter().position(|u| u == path).map(|i| &ASSETS[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_served_at_its_hashed_url() {
        for asset in &ASSETS {
            let url = asset_url(asset.name);
            assert!(
                url.starts_with("/static/") && url.len() > asset.name.len() + 17,
                "{url}"
            );
            assert_eq!(asset_at(url).map(|a| a.name), Some(asset.name));
        }
        assert!(asset_at("/static/hangar.css").is_none());
    }
}
