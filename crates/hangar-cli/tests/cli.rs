//! The `hangar` client commands against a real server, as a user runs them: config, org, team,
//! user, key and invitation commands in ascii, csv and json.

mod common;

use common::cli::Cli;
use common::{Server, Stores, admin_ok};
use serde_json::Value;

fn field_values(list: &Value, field: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .filter_map(|v| v[field].as_str().map(str::to_string))
        .collect()
}

async fn cli_session(stores: &Stores) {
    let server = Server::start(stores);
    let home = stores.dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let cli = Cli::new(&server, &home);

    // config
    cli.fails(&["config", "set", "--api-key", "nvapi-hp-wrong", "--org", "acme"]);
    cli.fails(&["config", "set", "--api-key", &server.key(), "--org", "nosuchorg"]);
    cli.ok(&[
        "config",
        "set",
        "--api-key",
        &server.key(),
        "--org",
        "acme",
        "--format_type",
        "ascii",
    ]);
    let current = cli.ok(&["config", "current"]);
    assert!(
        current.contains("acme") && current.contains("user settings"),
        "{current}"
    );
    assert!(!current.contains(&server.key()), "the key is masked: {current}");
    let last4 = &server.key()[server.key().len() - 4..];
    assert!(current.contains(&format!("*{last4}")), "{current}");

    // org and team
    let orgs = cli.ok(&["org", "list"]);
    assert!(
        orgs.contains("| Name") && orgs.contains("acme") && orgs.contains("Acme Corp"),
        "{orgs}"
    );
    let csv = cli.ok(&["org", "list", "--format_type", "csv"]);
    assert!(csv.starts_with("Name,Display Name,Description,Type"), "{csv}");
    let info = cli.json(&["org", "info", "acme"]);
    assert_eq!(info["name"], "acme");
    let created = cli.ok(&["org", "add-team", "vision", "Computer vision"]);
    assert!(
        created.contains("Team created.") && created.contains("vision"),
        "{created}"
    );
    cli.ok(&["org", "update-team", "vision", "CV and more"]);
    let team = cli.json(&["team", "info", "vision"]);
    assert_eq!(team["description"], "CV and more");
    let teams = cli.json(&["team", "list"]);
    assert_eq!(field_values(&teams, "name"), ["vision"]);
    let err = cli.fails(&["org", "add-team", "vision", "dup"]);
    assert!(err.contains("already exists"), "{err}");
    let err = cli.fails(&["org", "add-team", "Bad Team", "x"]);
    assert!(err.contains("team name"), "{err}");
    cli.fails(&["org", "info", "acme", "--format_type", "csv"]);

    // users: invite, accept, roles, removal
    cli.ok(&[
        "org",
        "add-user",
        "jane@acme.test",
        "Jane Doe",
        "--role",
        "REGISTRY_USER",
        "--team",
        "vision",
    ]);
    let pending = cli.json(&["invitation", "list"]);
    assert_eq!(field_values(&pending, "userEmail"), ["jane@acme.test"], "{pending}");
    let outbox = admin_ok(stores, &["outbox"]);
    let token = outbox
        .split_whitespace()
        .find(|w| w.starts_with("hginv-"))
        .expect("invitation token")
        .to_string();
    let accepted = cli.ok(&["invitation", "accept", &token]);
    let jane_key = accepted
        .split_whitespace()
        .find(|w| w.starts_with("nvapi-"))
        .unwrap_or_else(|| panic!("no key in: {accepted}"))
        .to_string();
    let users = cli.json(&["org", "list-users"]);
    assert!(
        field_values(&users, "email").contains(&"jane@acme.test".to_string()),
        "{users}"
    );
    let team_users = cli.ok(&["team", "list-users", "--team", "vision"]);
    assert!(
        team_users.contains("jane@acme.test") && team_users.contains("REGISTRY_USER"),
        "{team_users}"
    );
    let jane_id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "jane@acme.test")
        .map(|u| u["id"].to_string())
        .expect("jane's id");
    cli.ok(&["org", "update-user", &jane_id, "--add-role", "REGISTRY_READ"]);
    let user = cli.json(&["user", "info", &jane_id]);
    assert!(user.to_string().contains("REGISTRY_READ"), "{user}");
    let who = cli.ok(&["user", "who"]);
    assert!(who.contains("owner@acme.test") && who.contains("ORG_OWNER"), "{who}");

    // keys, for Jane herself
    let jane_home = stores.dir.path().join("jane");
    std::fs::create_dir_all(&jane_home).expect("home");
    let jane = Cli::new(&server, &jane_home);
    jane.ok(&["config", "set", "--api-key", &jane_key, "--org", "acme"]);
    let made = jane.ok(&[
        "key",
        "personal",
        "create",
        "--name",
        "laptop",
        "--expiry",
        "3M",
        "--service",
        "NGC_CATALOG",
    ]);
    assert!(made.contains("will not be shown again"), "{made}");
    let laptop = made
        .split_whitespace()
        .find(|w| w.starts_with("nvapi-"))
        .expect("secret")
        .to_string();
    let keys = jane.json(&["key", "personal", "list"]);
    assert!(field_values(&keys, "name").contains(&"laptop".to_string()), "{keys}");
    let err = jane.fails(&["key", "service", "create", "--name", "ci", "--scope", "ALL_SCOPES"]);
    assert!(!err.is_empty());
    let err = jane.fails(&["key", "personal", "create", "--name", "x", "--expiry", "2y"]);
    assert!(err.contains("12 months"), "{err}");

    // the owner makes a service key and revokes Jane's laptop key
    let service = cli.ok(&[
        "key",
        "service",
        "create",
        "--name",
        "ci",
        "--scope",
        "GET_CONTAINER",
        "--scope",
        "DOWNLOAD_CONTAINER",
        "--entity-type",
        "ALL_CONTAINERS",
    ]);
    assert!(service.contains("nvapi-hs-"), "{service}");
    let all = cli.json(&["key", "list"]);
    let laptop_id = all
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "laptop")
        .map(|k| k["id"].to_string())
        .expect("laptop key listed for the owner");
    cli.fails(&["key", "personal", "delete", &laptop_id]);
    cli.ok(&["key", "personal", "delete", &laptop_id, "-y"]);
    let laptop_cli = Cli::new(&server, &jane_home);
    let err = laptop_cli.fails(&["org", "list", "--api-key", &laptop]);
    assert!(err.to_lowercase().contains("key"), "{err}");

    // removal
    cli.ok(&["org", "remove-user", &jane_id, "-y"]);
    let err = jane.fails(&["org", "list"]);
    assert!(
        err.to_lowercase().contains("key"),
        "a removed member's key stops working: {err}"
    );
    cli.ok(&["org", "remove-team", "vision", "-y"]);
    assert_eq!(cli.json(&["team", "list"]), Value::Array(vec![]));
    cli.ok(&["config", "clear-cache"]);
}
both_backends!(session, cli_session);
