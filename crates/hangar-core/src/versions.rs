//! How versions of models, resources and charts are ordered.

use std::cmp::Ordering;

fn semantic(v: &str) -> Option<semver::Version> {
    semver::Version::parse(v.strip_prefix('v').unwrap_or(v)).ok()
}

/// Compares versions as semantic versions when both are (`1.0.0-rc.1` before `1.0.0`, a `v`
/// prefix allowed), otherwise as dotted numbers where they are numbers (`1.10` after `1.9`), as
/// text elsewhere.
pub fn version_order(a: &str, b: &str) -> Ordering {
    if let (Some(x), Some(y)) = (semantic(a), semantic(b)) {
        return x.cmp(&y);
    }
    let parts = |v: &str| -> Vec<(u64, String)> {
        v.split(['.', '-', '_'])
            .map(|p| (p.parse::<u64>().unwrap_or(u64::MAX), p.to_string()))
            .collect()
    };
    parts(a).cmp(&parts(b))
}

/// Orders versions newest first.
pub fn latest_first(a: &str, b: &str) -> Ordering {
    version_order(b, a)
}

/// Orders versions by which should be a chart's latest: releases before pre-releases (as Helm
/// installs the newest release unless told `--devel`), then newest first.
pub fn latest_release_first(a: &str, b: &str) -> Ordering {
    let prerelease = |v: &str| semantic(v).is_some_and(|v| !v.pre.is_empty());
    prerelease(a).cmp(&prerelease(b)).then_with(|| latest_first(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_by_number() {
        let mut versions = vec!["1.10", "1.9", "2.0", "1.9.1", "beta", "10"];
        versions.sort_by(|a, b| latest_first(a, b));
        assert_eq!(versions, ["beta", "10", "2.0", "1.10", "1.9.1", "1.9"]);
        let mut charts = vec!["1.0.0", "1.0.0-rc.1", "v1.2.0", "0.9.10"];
        charts.sort_by(|a, b| latest_first(a, b));
        assert_eq!(charts, ["v1.2.0", "1.0.0", "1.0.0-rc.1", "0.9.10"]);
        charts.sort_by(|a, b| latest_release_first(a, b));
        assert_eq!(charts, ["v1.2.0", "1.0.0", "0.9.10", "1.0.0-rc.1"]);
    }
}
