//! `hangar registry chart …` against a real server on both backends, as a user runs them:
//! create (and its required --short-desc), info, update, push of packaged charts (again: a
//! clear conflict), byte-identical pulls of the latest and of a given version, wildcard and
//! version lists, info --files, removal of a version and of a whole chart, and who may do what.

mod common;

use common::charts::chart_tgz;
use common::cli::Cli;
use common::{Server, Stores, admin_ok, member};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Writes the packaged chart `<dir>/<name>-<version>.tgz` and returns its path.
fn package(dir: &Path, name: &str, version: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let values = format!("replicaCount: 1\nversion: {version}\n");
    let files = [
        ("values.yaml", values.as_str()),
        ("templates/deployment.yaml", "kind: Deployment\n"),
    ];
    let path = dir.join(format!("{name}-{version}.tgz"));
    std::fs::write(&path, chart_tgz(name, version, &files)).unwrap();
    path
}

fn text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The version names of `list <pattern>` (json), in order.
fn listed_versions(cli: &Cli, pattern: &str) -> Vec<String> {
    let list = cli.json(&["list", pattern]);
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|v| v["id"].as_str().unwrap_or_else(|| panic!("no id: {v}")).to_string())
        .collect()
}

fn contains_all(output: &str, lines: &[&str]) {
    for line in lines {
        assert!(output.contains(line), "{line:?} missing from:\n{output}");
    }
}

async fn chart_commands(stores: &Stores) {
    let server = Server::start(stores);
    let dir = stores.dir.path();
    let owner = Cli::new(&server, &dir.join("home"))
        .org("acme")
        .key(&server.key())
        .prefix(&["registry", "chart"]);

    // create: every flag, then the guide's message and block; a second time, a conflict.
    let overview = dir.join("overview.md");
    std::fs::write(&overview, "# Web\nserves pages").unwrap();
    let out = owner.ok(&[
        "create",
        "acme/web",
        "--short-desc",
        "Doc testing chart",
        "--display-name",
        "Web",
        "--label",
        "alpha",
        "--label",
        "beta",
        "--logo",
        "https://example.com/logo.png",
        "--publisher",
        "Acme",
        "--built-by",
        "me",
        "--overview-filename",
        &text(&overview),
    ]);
    contains_all(
        &out,
        &[
            "Successfully created chart 'acme/web'.\n",
            "\n Chart Information\n   Name: web\n   Short Description: Doc testing chart\n   Display Name: Web\n   Team:\n   Publisher: Acme\n   Built By: me\n   Labels:\n     alpha\n     beta\n   Logo: https://example.com/logo.png\n",
            "   Read Only: False\n   Latest Version ID:\n   Latest Version Size (bytes):\n   Overview:\n       # Web\n       serves pages\n",
            " UTC\n",
        ],
    );
    let err = owner.fails(&["create", "acme/web", "--short-desc", "again"]);
    assert!(err.contains("already exists"), "{err}");
    let out = owner.output(&["create", "acme/nodesc"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a usage error, as clap and ngc's argparse give it: {err}"
    );
    assert!(err.contains("--short-desc"), "{err}");
    assert!(owner.fails(&["info", "acme/nodesc"]).contains("Error: "));
    assert!(
        owner
            .fails(&["create", "acme/web:1.0.0", "--short-desc", "s"])
            .contains("without a version")
    );

    // update: the guide's example, then label edits; nothing to update is refused.
    let out = owner.ok(&[
        "update",
        "acme/web",
        "--publisher",
        "test account",
        "--display-name",
        "Helm Demo Chart",
        "--built-by",
        "my team",
    ]);
    contains_all(
        &out,
        &[
            "Successfully updated chart 'acme/web'.\n",
            "   Display Name: Helm Demo Chart\n",
            "   Publisher: test account\n   Built By: my team\n",
        ],
    );
    owner.ok(&["update", "acme/web", "--add-label", "gamma", "--remove-label", "alpha"]);
    let info = owner.json(&["info", "acme/web"]);
    assert_eq!(info["labels"], json!(["beta", "gamma"]), "{info}");
    assert_eq!(info["shortDescription"], "Doc testing chart", "{info}");
    assert_eq!(info["description"], "# Web\nserves pages", "{info}");
    assert!(owner.fails(&["update", "acme/web"]).contains("Nothing to update"));
    assert!(
        owner
            .fails(&["update", "acme/missing", "--logo", "x"])
            .contains("Error: ")
    );

    // push: from a folder, from the file itself; again is a conflict; bad archives are refused.
    let charts = dir.join("charts");
    let v1 = package(&charts, "web", "0.1.0");
    let out = owner.ok(&["push", "acme/web:0.1.0", "--source", &text(&charts)]);
    contains_all(
        &out,
        &[
            "Successfully pushed chart version 'web:0.1.0'.\n",
            "\n Chart Version Information\n",
            "   Version ID: 0.1.0\n   Total File Count: 3\n",
            "   Status: UPLOAD_COMPLETE\n",
        ],
    );
    let out = owner.output(&["push", "acme/web:0.1.0", "--source", &text(&charts)]);
    let err = owner.failed(&["push again"], &out);
    assert!(
        err.contains("Chart 'web-0.1.0.tgz' already exists in the repository."),
        "{err}"
    );
    let v10 = package(&charts, "web", "0.10.0");
    let pushed = owner.json(&["push", "acme/web:0.10.0", "--source", &text(&v10)]);
    assert_eq!(pushed["version"]["id"], "0.10.0", "{pushed}");
    assert_eq!(pushed["version"]["status"], "UPLOAD_COMPLETE", "{pushed}");
    owner.ok(&[
        "push",
        "acme/web:0.2.0",
        "--source",
        &text(&package(&charts, "web", "0.2.0")),
    ]);
    let err = owner.fails(&["push", "acme/web:0.3.0", "--source", &text(&v1)]);
    assert!(
        err.contains("does not match expected filename 'web-0.3.0.tgz'"),
        "{err}"
    );
    let lying = dir.join("lying");
    std::fs::create_dir_all(&lying).unwrap();
    std::fs::copy(&v1, lying.join("web-0.3.0.tgz")).unwrap();
    let err = owner.fails(&["push", "acme/web:0.3.0", "--source", &text(&lying)]);
    assert!(err.contains("which should be 'web:0.1.0'"), "{err}");
    std::fs::write(lying.join("web-0.4.0.tgz"), b"name: web\nversion: 0.4.0\n").unwrap();
    let err = owner.fails(&["push", "acme/web:0.4.0", "--source", &text(&lying)]);
    assert!(err.contains("is not a chart archive") && err.contains("gzip"), "{err}");
    let err = owner.fails(&[
        "push",
        "acme/nochart:0.1.0",
        "--source",
        &text(&package(&charts, "nochart", "0.1.0")),
    ]);
    assert!(err.contains("was not found"), "{err}");

    // Versions: newest semantic version first, whatever the order of the pushes.
    assert_eq!(listed_versions(&owner, "acme/web:*"), ["0.10.0", "0.2.0", "0.1.0"]);
    assert_eq!(listed_versions(&owner, "acme/web:0.1*"), ["0.10.0", "0.1.0"]);
    let table = owner.ok(&["list", "acme/web:*"]);
    contains_all(&table, &["| Version | File Count | File Size ", "| 0.2.0   | 3 "]);
    let info = owner.json(&["info", "acme/web"]);
    assert_eq!(info["latestVersionIdStr"], "0.10.0", "{info}");
    let out = owner.ok(&["info", "acme/web"]);
    contains_all(&out, &["   Latest Version ID: 0.10.0\n"]);

    // info of a version, with the files of its archive.
    let files = owner.json(&["info", "acme/web:0.1.0", "--files"]);
    let mut paths: Vec<&str> = files["file_list"]
        .as_array()
        .unwrap_or_else(|| panic!("no file list: {files}"))
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        ["web/Chart.yaml", "web/templates/deployment.yaml", "web/values.yaml"]
    );
    assert_eq!(files["version"]["totalFileCount"], 3, "{files}");
    let out = owner.ok(&["info", "acme/web:0.1.0", "--files"]);
    contains_all(&out, &["   File List:\n", "     web/values.yaml - "]);
    assert!(
        owner
            .fails(&["info", "acme/web", "--files"])
            .contains("--files needs a version")
    );

    // pull: the latest by default, byte-identical; again, a new name beside the first.
    let out_dir = dir.join("pulled");
    let out = owner.ok(&["pull", "acme/web", "--dest", &text(&out_dir)]);
    let first = out_dir.join("web-0.10.0.tgz");
    contains_all(
        &out,
        &[
            "No version specified; downloading latest version: 0.10.0.\n",
            &format!("Successfully pulled chart version '{}'.", first.display()),
        ],
    );
    assert_eq!(std::fs::read(&first).unwrap(), std::fs::read(&v10).unwrap());
    owner.ok(&["pull", "acme/web:0.10.0", "--dest", &text(&out_dir)]);
    assert_eq!(
        std::fs::read(out_dir.join("web-0.10.0.tgz-1")).unwrap(),
        std::fs::read(&v10).unwrap()
    );
    let pulled = owner.json(&["pull", "acme/web:0.1.0", "--dest", &text(&out_dir)]);
    assert_eq!(pulled["local_path"], text(&out_dir.join("web-0.1.0.tgz")), "{pulled}");
    assert_eq!(
        std::fs::read(out_dir.join("web-0.1.0.tgz")).unwrap(),
        std::fs::read(&v1).unwrap()
    );
    assert!(
        owner
            .fails(&["pull", "acme/web:9.9.9", "--dest", &text(&out_dir)])
            .contains("Error: ")
    );
    let names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "no partial file is left: {names:?}");

    // A team's chart goes through the team's Helm paths.
    admin_ok(stores, &["team", "create", "acme", "vision"]);
    owner.ok(&["create", "acme/vision/detector", "--short-desc", "team chart"]);
    let det = package(&charts, "detector", "1.0.0");
    owner.ok(&["push", "acme/vision/detector:1.0.0", "--source", &text(&det)]);
    owner.ok(&["pull", "acme/vision/detector", "--dest", &text(&out_dir)]);
    assert_eq!(
        std::fs::read(out_dir.join("detector-1.0.0.tgz")).unwrap(),
        std::fs::read(&det).unwrap()
    );

    // Wildcard lists: the guide's columns, the latest version and its size.
    owner.ok(&["create", "acme/other", "--short-desc", "no versions"]);
    let rows: Vec<Vec<String>> = owner
        .ok(&["list", "acme/w*", "--format_type", "csv"])
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert_eq!(
        rows[0],
        [
            "Name",
            "Repository",
            "Version",
            "Size",
            "Created By",
            "Description",
            "Created Date",
            "Last Modified"
        ]
    );
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][..3], ["web", "acme/web", "0.10.0"], "{rows:?}");
    assert!(!rows[1][3].is_empty(), "the latest version has a size: {rows:?}");
    let everything = owner.ok(&["list", "*acme*"]);
    contains_all(
        &everything,
        &["| acme/web ", "| acme/other ", "| acme/vision/detector "],
    );
    let team: Vec<Value> = owner.json(&["list", "acme/vision/*"]).as_array().unwrap().clone();
    assert_eq!(team.len(), 1, "{team:?}");
    assert!(owner.fails(&["list", "acme/w*:1.0"]).contains("cannot be used"));

    // A reader reads and pulls, but neither creates, pushes nor removes.
    let reader = owner.key(&member(stores, "reader@acme.test", &[("REGISTRY_READ", None)]));
    assert_eq!(listed_versions(&reader, "acme/web:*"), ["0.10.0", "0.2.0", "0.1.0"]);
    reader.ok(&["pull", "acme/web:0.2.0", "--dest", &text(&dir.join("reader"))]);
    reader.fails(&["create", "acme/readers", "--short-desc", "no"]);
    assert!(owner.fails(&["info", "acme/readers"]).contains("Error: "));
    let v3 = package(&dir.join("reader-charts"), "web", "0.3.0");
    reader.fails(&["push", "acme/web:0.3.0", "--source", &text(&v3)]);
    reader.fails(&["remove", "acme/web:0.2.0", "-y"]);
    reader.fails(&["remove", "acme/web", "-y"]);
    assert_eq!(listed_versions(&owner, "acme/web:*"), ["0.10.0", "0.2.0", "0.1.0"]);
    // A registry user creates and pushes.
    let user = owner.key(&member(stores, "user@acme.test", &[("REGISTRY_USER", None)]));
    user.ok(&["create", "acme/users", "--short-desc", "by a user"]);
    user.ok(&[
        "push",
        "acme/users:0.1.0",
        "--source",
        &text(&package(&charts, "users", "0.1.0")),
    ]);

    // remove: cancelled unless confirmed; a version; then the chart with every version.
    let out = owner.output_with_input(&["remove", "acme/web:0.2.0"], "n\n");
    let err = owner.failed(&["remove"], &out);
    assert!(err.contains("cancelled"), "{err}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Are you sure you would like to remove acme/web:0.2.0? [y/n]"),
        "{out:?}"
    );
    let out = owner.ok(&["remove", "acme/web:0.2.0", "-y"]);
    assert_eq!(out, "Successfully removed chart version 'acme/web:0.2.0'.\n");
    assert_eq!(listed_versions(&owner, "acme/web:*"), ["0.10.0", "0.1.0"]);
    assert!(
        owner
            .fails(&["pull", "acme/web:0.2.0", "--dest", &text(&out_dir)])
            .contains("Error: ")
    );
    let out = owner.output_with_input(&["remove", "acme/web"], "y\n");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Are you sure you would like to remove acme/web? [y/n] Successfully removed chart version 'acme/web:0.10.0'.\n\
         Successfully removed chart version 'acme/web:0.1.0'.\nSuccessfully removed chart 'acme/web'.\n"
    );
    assert!(owner.fails(&["info", "acme/web"]).contains("Error: "));
    assert!(
        owner
            .fails(&["pull", "acme/web:0.1.0", "--dest", &text(&out_dir)])
            .contains("Error: ")
    );
    owner.ok(&["remove", "acme/other", "-y"]);
    let left = owner.ok(&["list", "acme/*", "--format_type", "csv"]);
    assert!(!left.contains("acme/web,") && !left.contains("acme/other,"), "{left}");
    assert!(left.contains("acme/users,"), "{left}");
}

both_backends!(charts, chart_commands);
