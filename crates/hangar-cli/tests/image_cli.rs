//! `hangar registry image list|info|update|remove|set-latest` against a real server on both
//! backends, as a user runs them: ascii, csv and json output in `ngc`'s layouts.

mod common;

use common::cli::Cli;
use common::registry::{CONFIG, Registry};
use common::{ServeOptions, Server, Stores, admin_ok, member};
use serde_json::{Value, json};

/// The rows of an ascii table whose first cell is `first`, as trimmed cells.
fn table_row(table: &str, first: &str) -> Vec<String> {
    table
        .lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect::<Vec<_>>()
        })
        .find(|cells| cells.first().map(String::as_str) == Some(first))
        .unwrap_or_else(|| panic!("no row '{first}' in:\n{table}"))
}

fn tags_of(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|i| i["tag"].as_str().unwrap())
        .collect()
}

async fn image_commands(stores: &Stores) {
    let server = Server::start_with(stores, &ServeOptions::signing(stores));
    let guest = Cli::new(&server, &stores.dir.path().join("home"))
        .org("acme")
        .prefix(&["registry", "image"]);
    let cli = guest.key(&server.key());
    let reg = Registry::new(&server, Some(server.key()));
    let v1_size = CONFIG.len() + "first layer".len() + "second layer".len();
    let (v1_manifest, _) = reg
        .push_layers("acme/web", "v1", &[b"first layer", b"second layer"])
        .await;
    let v1_layers: Vec<&str> = v1_manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap())
        .collect();
    // v1 signed by the server with the org's key (a cosign signature: an attachment tag, not an
    // image tag of its own).
    cli.ok(&["sign", "acme/web:v1"]);
    // Tag times are in seconds; the index must be newer.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let ((amd_digest, amd_size), (arm_digest, arm_size)) = reg.push_index("acme/web", "multi").await;
    admin_ok(stores, &["team", "create", "acme", "vision"]);
    for tag in ["2.0", "2.1", "3.0"] {
        reg.push_image("acme/vision/detector", tag).await;
    }
    reg.push_image("acme/other", "1").await;

    // list with a wildcard: the repositories, their latest tag and size.
    let table = cli.ok(&["list", "*we*"]);
    assert!(
        table.contains("| Name ") && table.contains("| Repository ") && table.contains("| Permission |"),
        "{table}"
    );
    let row = table_row(&table, "web");
    assert_eq!(row[1..4], ["acme/web", "multi", &format!("{amd_size} B")], "{table}");
    assert_eq!(row[5], "locked");
    assert!(!row[4].is_empty(), "an updated date: {table}");
    assert!(!table.contains("acme/other"), "{table}");
    let list = cli.json(&["list", "*we*"]);
    let list = list.as_array().expect("a list");
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(
        (
            list[0]["resourceId"].as_str(),
            list[0]["latestTag"].as_str(),
            list[0]["latestImageSize"].as_u64()
        ),
        (Some("acme/web"), Some("multi"), Some(amd_size as u64))
    );
    let csv = cli.ok(&["list", "*we*", "--format_type", "csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0], "Name,Repository,Latest Tag,Image Size,Updated Date,Permission",
        "{csv}"
    );
    assert!(
        lines[1].starts_with(&format!("web,acme/web,multi,{amd_size} B,")) && lines[1].ends_with(",locked"),
        "{csv}"
    );
    // No pattern: everything the caller sees, in the org and its teams.
    let all = cli.json(&["list"]);
    let ids: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resourceId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["acme/other", "acme/vision/detector", "acme/web"]);
    let team = cli.json(&["list", "acme/vision/*"]);
    assert_eq!(team[0]["resourceId"], "acme/vision/detector", "{team}");
    assert_eq!(team.as_array().unwrap().len(), 1);
    let err = cli.fails(&["list", "*we*:v1"]);
    assert!(err.contains("glob"), "{err}");
    // A wildcard org searches the configured one.
    assert_eq!(cli.json(&["list", "*/w?b"])[0]["resourceId"], "acme/web");
    // Only repositories with a signed tag.
    assert_eq!(
        cli.ok(&["list", "*", "--signed", "--format_type", "csv"])
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap().to_string())
            .collect::<Vec<_>>(),
        ["acme/web"]
    );
    // Other columns (`ngc`'s --column); the repository comes first.
    let csv = cli.ok(&[
        "list",
        "acme/*",
        "--column",
        "signed",
        "--column",
        "team=Group",
        "--format_type",
        "csv",
    ]);
    assert_eq!(
        csv,
        "Repository,Signed Tag?,Group\nacme/other,False,\nacme/vision/detector,False,vision\nacme/web,True,\n"
    );
    // A usage error, as clap (and argparse in `ngc`) report them.
    let out = cli.output(&["list", "--column", "colour"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("Invalid value: 'colour' for column."), "{err}");

    // list one repository: its tags, newest first; a tag pattern filters.
    let table = cli.ok(&["list", "acme/web"]);
    assert!(
        table.contains("| Tag ") && table.contains("| Updated Date ") && table.contains("| Signed? |"),
        "{table}"
    );
    let multi = table_row(&table, "multi");
    assert_eq!(
        (multi[2].as_str(), multi[3].as_str()),
        (format!("{amd_size} B").as_str(), "False")
    );
    let v1 = table_row(&table, "v1");
    assert_eq!((v1[2].clone(), v1[3].as_str()), (format!("{v1_size} B"), "True"));
    assert!(!table.contains(".sig"), "{table}");
    assert!(table.find("| multi").unwrap() < table.find("| v1").unwrap(), "{table}");
    assert_eq!(tags_of(&cli.json(&["list", "acme/web"])), ["multi", "v1"]);
    assert_eq!(tags_of(&cli.json(&["list", "acme/web:v*"])), ["v1"]);
    assert_eq!(tags_of(&cli.json(&["list", "acme/web:[a-m]*"])), ["multi"]);
    assert_eq!(tags_of(&cli.json(&["list", "acme/web", "--signed"])), ["v1"]);
    let csv = cli.ok(&["list", "acme/web", "--format_type", "csv"]);
    assert!(csv.starts_with("Tag,Updated Date,Image Size,Signed?\nmulti,"), "{csv}");
    assert_eq!(
        tags_of(&cli.json(&["list", "acme/vision/detector"])),
        ["3.0", "2.1", "2.0"]
    );

    // update, then info shows it.
    let overview = stores.dir.path().join("overview.md");
    std::fs::write(&overview, "# Web\n\nServes pages.\n").unwrap();
    let out = cli.ok(&[
        "update",
        "acme/web",
        "--desc",
        "A web server",
        "--label",
        "nginx",
        "--label",
        "Web Tools",
        "--overview",
        overview.to_str().unwrap(),
        "--display-name",
        "Web",
        "--publisher",
        "Acme",
        "--built-by",
        "CI",
        "--logo",
        "https://acme.test/logo.png",
        "--multinode",
    ]);
    assert_eq!(out, "Updating repository metadata\nRepository metadata updated.\n");
    let info = cli.ok(&["info", "acme/web", "--details"]);
    for line in [
        " Image Repository Information\n",
        "   Name: web\n",
        "   Display Name: Web\n",
        "   Short Description: A web server\n",
        "   Built By: CI\n",
        "   Publisher: Acme\n",
        "   Multinode Support: True\n",
        "   Multi-Arch Support: True\n",
        "   Logo: https://acme.test/logo.png\n",
        "   Labels: nginx, Web Tools\n",
        "   Public: No\n   Access Type: NOT_LISTED\n   Associated Products:\n",
        &format!("   Latest Image Size: {amd_size} B\n"),
        "   Signed Tag?: True\n",
        "   Latest Tag: multi\n",
        "   Tags:\n       multi\n       v1\n",
        // Blank overview lines keep their indent, as in `ngc`.
        "   Overview:\n       # Web\n       \n       Serves pages.\n",
    ] {
        assert!(info.contains(line), "{line:?} missing from:\n{info}");
    }
    let repo = cli.json(&["info", "acme/web"]);
    assert_eq!(repo["shortDescription"], "A web server");
    assert_eq!(repo["labels"], json!(["nginx", "Web Tools"]));
    assert_eq!(repo["description"], "# Web\n\nServes pages.\n");
    assert!(repo.get("requestStatus").is_none(), "{repo}");
    let updated = cli.json(&["update", "acme/web", "--no-multinode"]);
    assert_eq!(
        (
            updated["isMultinodeEnabled"].as_bool(),
            updated["shortDescription"].as_str()
        ),
        (Some(false), Some("A web server"))
    );
    let err = cli.fails(&["info", "acme/web", "--format_type", "csv"]);
    assert!(err.contains("does not support CSV"), "{err}");

    // info of a two-platform index: both architectures with their sizes and digests.
    let info = cli.ok(&["info", "acme/web:multi"]);
    assert!(info.starts_with("----") && info.trim_end().ends_with("----"), "{info}");
    for line in [
        " Image Information\n",
        "   Name: web:multi\n",
        &format!("   Architecture: amd64\n     Image Size: {amd_size} B\n     Digest: {amd_digest}\n"),
        &format!("   Architecture: arm64/v8\n     Image Size: {arm_size} B\n     Digest: {arm_digest}\n"),
        "   Schema Version: 2\n",
        "   Signed?: False\n",
    ] {
        assert!(info.contains(line), "{line:?} missing from:\n{info}");
    }
    let image = cli.json(&["info", "acme/web:multi"]);
    assert_eq!(
        image["architectureDetails"].as_array().map(Vec::len),
        Some(2),
        "{image}"
    );
    assert_eq!(
        (image["tag"].as_str(), image["schemaVersion"].as_u64()),
        (Some("multi"), Some(2))
    );
    let err = cli.fails(&["info", "acme/web:nope"]);
    assert!(err.contains("not found"), "{err}");
    let info = cli.ok(&["info", "acme/web:v1", "--layers"]);
    assert!(info.contains("   Signed?: True\n   Signed By: hangar\n"), "{info}");
    assert!(
        info.contains(&format!(
            "   Malware Scan Status:\n   Malware Scan Date:\n Layers\n         {}\n         {}\n----",
            v1_layers[0], v1_layers[1]
        )),
        "{info}"
    );
    let err = cli.fails(&["info", "acme/web", "--layers"]);
    assert!(err.contains("--layers requires an image tag"), "{err}");

    // set-latest.
    let out = cli.ok(&["set-latest", "acme/web:v1"]);
    assert_eq!(out, "Successfully set tag 'acme/web:v1' as latest.\n");
    assert_eq!(cli.json(&["info", "acme/web"])["latestTag"], "v1");
    cli.ok(&["set-latest", "acme/web:multi"]);

    // A reader may look but not change; the server's message is the error.
    let reader = guest.key(&member(stores, "r@acme.test", &[("REGISTRY_READ", None)]));
    assert_eq!(tags_of(&reader.json(&["list", "acme/web"])), ["multi", "v1"]);
    let err = reader.fails(&["update", "acme/web", "--desc", "mine now"]);
    assert!(err.contains("you may not update repository 'acme/web'"), "{err}");
    let err = reader.fails(&["remove", "acme/web:v1", "-y"]);
    assert!(err.contains("you may not delete repository 'acme/web'"), "{err}");
    let err = reader.fails(&["remove", "acme/web", "-y"]);
    assert!(err.contains("you may not delete repository 'acme/web'"), "{err}");
    assert_eq!(tags_of(&cli.json(&["list", "acme/web"])), ["multi", "v1"]);
    let user = guest.key(&member(stores, "u@acme.test", &[("REGISTRY_USER", None)]));
    user.ok(&["update", "acme/web", "--publisher", "Acme Inc"]);
    let err = user.fails(&["update", "acme/web", "--public"]);
    assert!(err.contains("only registry admins and org owners"), "{err}");

    // A public repository: anyone may list and read it without a key.
    assert_eq!(guest.json(&["list"]), json!([]));
    cli.ok(&["update", "acme/web", "--public"]);
    let table = cli.ok(&["list", "*we*"]);
    assert_eq!(table_row(&table, "Web")[5], "unlocked", "{table}");
    let seen = guest.json(&["list"]);
    assert_eq!(seen.as_array().map(Vec::len), Some(1), "{seen}");
    assert_eq!(seen[0]["resourceId"], "acme/web");
    assert_eq!(tags_of(&guest.json(&["list", "acme/web"])), ["multi", "v1"]);
    let info = guest.ok(&["info", "acme/web:multi"]);
    assert!(info.contains("   Architecture: arm64/v8\n"), "{info}");
    assert!(guest.ok(&["info", "acme/web"]).contains("   Public: Yes\n"));
    guest.fails(&["info", "acme/other"]);
    let err = guest.fails(&["remove", "acme/web:v1", "-y"]);
    assert!(err.contains("No API key"), "{err}");
    cli.ok(&["update", "acme/web", "--no-public"]);
    assert_eq!(guest.json(&["list"]), json!([]));

    // remove one tag.
    let out = cli.ok(&["remove", "acme/web:v1", "-y"]);
    assert_eq!(out, "Successfully removed image 'acme/web:v1'.\n");
    assert_eq!(tags_of(&cli.json(&["list", "acme/web"])), ["multi"]);

    // remove, answering no: nothing changes.
    let args = ["remove", "acme/web"];
    let out = cli.output_with_input(&args, "n\n");
    let err = cli.failed(&args, &out);
    assert!(err.contains("remove cancelled"), "{err}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Are you sure you would like to remove acme/web? [y/n]"),
        "{out:?}"
    );
    assert_eq!(cli.json(&["info", "acme/web"])["tags"], json!(["multi"]));

    // remove, answering yes: the repository is gone.
    let out = cli.output_with_input(&args, "y\n");
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Successfully removed image repository 'acme/web'."),
        "{out:?}"
    );
    let err = cli.fails(&["info", "acme/web"]);
    assert!(err.contains("not found"), "{err}");
    assert_eq!(
        cli.ok(&["list", "*we*", "--format_type", "csv"]),
        "Name,Repository,Latest Tag,Image Size,Updated Date,Permission\n"
    );

    // A team's repository by its three-part name.
    let info = cli.json(&["info", "acme/vision/detector"]);
    assert_eq!(
        (info["resourceId"].as_str(), info["latestTag"].as_str()),
        (Some("acme/vision/detector"), Some("3.0"))
    );
    // Tags by pattern: each confirmed and reported in turn; a "no" stops there.
    let args = ["remove", "acme/vision/detector:2.*"];
    let out = cli.output_with_input(&args, "y\nn\n");
    let err = cli.failed(&args, &out);
    assert!(err.contains("remove cancelled"), "{err}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout,
        "Are you sure you would like to remove acme/vision/detector:2.1? [y/n] \
         Successfully removed image 'acme/vision/detector:2.1'.\n\
         Are you sure you would like to remove acme/vision/detector:2.0? [y/n] ",
        "{stdout}"
    );
    assert_eq!(tags_of(&cli.json(&["list", "acme/vision/detector"])), ["3.0", "2.0"]);
    let out = cli.ok(&["remove", "acme/vision/detector:*", "-y"]);
    assert_eq!(
        out,
        "Successfully removed image 'acme/vision/detector:3.0'.\n\
         Successfully removed image 'acme/vision/detector:2.0'.\n"
    );
    assert_eq!(cli.json(&["list", "acme/vision/detector"]), json!([]));
    let err = cli.fails(&["remove", "acme/vision/detector:9*", "-y"]);
    assert!(err.contains("No image tags found"), "{err}");
    let err = cli.fails(&["remove", "acme/vision/det*", "-y"]);
    assert!(err.contains("cannot have wildcards"), "{err}");
}

both_backends!(image_cli, image_commands);
