//! Helm chart archives made in the tests, good and bad, and the Helm SDK client that the
//! tests drive (`tests/helm/helm-client`).

use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// A .tgz as `helm package` makes it: `<name>/Chart.yaml` plus `files`, under `<name>/`.
pub fn chart_tgz(name: &str, version: &str, files: &[(&str, &str)]) -> Vec<u8> {
    let chart_yaml = format!(
        "apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"1.0\"\ndescription: The {name} chart\ntype: application\n"
    );
    let mut entries: Vec<(String, Vec<u8>)> = vec![(format!("{name}/Chart.yaml"), chart_yaml.into_bytes())];
    for (path, text) in files {
        entries.push((format!("{name}/{path}"), text.as_bytes().to_vec()));
    }
    let named: Vec<(&str, &[u8])> = entries.iter().map(|(p, d)| (p.as_str(), d.as_slice())).collect();
    raw_tgz(&named)
}

/// A gzip tar of regular files whose names are written as given, even unsafe ones.
pub fn raw_tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (path, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        header.set_entry_type(tar::EntryType::Regular);
        let name = &mut header.as_old_mut().name;
        name[..path.len()].copy_from_slice(path.as_bytes());
        header.set_cksum();
        tar.append(&header, *data).expect("tar entry");
    }
    tar.into_inner().expect("tar").finish().expect("gzip")
}

/// A gzip tar holding one symbolic link.
pub fn symlink_tgz(name: &str, target: &str) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let chart = format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n");
    let mut header = tar::Header::new_gnu();
    header.set_size(chart.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, format!("{name}/Chart.yaml"), chart.as_bytes())
        .expect("Chart.yaml");
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Symlink);
    link.set_size(0);
    link.set_mode(0o777);
    tar.append_link(&mut link, format!("{name}/values.yaml"), target)
        .expect("link");
    tar.into_inner().expect("tar").finish().expect("gzip")
}

/// Runs `tests/helm/helm-client <command> <workdir> <args>` with a scratch HOME and Helm state
/// in `workdir` and `envs` added (`SSL_CERT_FILE` for a TLS server); returns its JSON report.
#[allow(dead_code)]
pub fn helm_client(python: &str, command: &str, workdir: &Path, args: &[&str], envs: &[(&str, &Path)]) -> Value {
    std::fs::create_dir_all(workdir).unwrap();
    let helm = workdir.join("helm-state");
    let out = Command::new("timeout")
        .arg("300")
        .arg(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helm/helm-client"))
        .arg(command)
        .arg(workdir)
        .args(args)
        .env("HOME", workdir)
        .env("HELM_CACHE_HOME", helm.join("cache"))
        .env("HELM_CONFIG_HOME", helm.join("config"))
        .env("HELM_DATA_HOME", helm.join("data"))
        .env("KUBECONFIG", workdir.join("no-kubeconfig"))
        .env_remove("HELM_REGISTRY_CONFIG")
        .env_remove("HELM_REPOSITORY_CONFIG")
        .env_remove("HELM_REPOSITORY_CACHE")
        .envs(envs.iter().copied())
        .output()
        .expect("run helm-client");
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
    assert!(
        out.status.success(),
        "helm-client {command} {args:?} failed:\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let report = std::fs::read(workdir.join(format!("{command}-report.json"))).expect("helm-client report");
    serde_json::from_slice(&report).expect("report JSON")
}
