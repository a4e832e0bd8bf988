//! How the API's objects (orgs, teams, users, keys, invitations) are shown: table rows and
//! information blocks in `ngc`'s layouts. Missing fields show as empty, never fail.

use super::output::{InfoBlock, Table};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Python's `str()` of a JSON value as `ngc` prints it (`None` → empty).
pub fn text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => py_bool(*b).to_string(),
        Some(other) => other.to_string(),
    }
}

pub fn field(object: &Value, name: &str) -> String {
    text(object.get(name))
}

/// The elements of a JSON array field; none when it is missing or not an array.
pub fn items(value: Option<&Value>) -> &[Value] {
    value.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

/// A boolean field as `ngc` prints it (`True`/`False`; missing is `False`).
pub fn flag(object: &Value, name: &str) -> String {
    py_bool(object.get(name).and_then(Value::as_bool).unwrap_or(false)).to_string()
}

pub fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// `ngc`'s date form: `2026-11-22 07:49:43 UTC` for dates with a zone, as given otherwise.
pub fn date(value: Option<&Value>) -> String {
    let raw = text(value);
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(&raw) {
        return d.naive_local().format("%Y-%m-%d %H:%M:%S UTC").to_string();
    }
    if let Ok(d) = chrono::NaiveDateTime::parse_from_str(&raw, "%Y-%m-%dT%H:%M:%S%.f") {
        return d.format("%Y-%m-%d %H:%M:%S").to_string();
    }
    raw
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// The response without NGC's `requestStatus` (a random request id is no output).
pub fn without_status(mut response: Value) -> Value {
    if let Value::Object(map) = &mut response {
        map.remove("requestStatus");
    }
    response
}

// ---- orgs and teams -------------------------------------------------------------------------

pub fn orgs_table(orgs: &[Value]) -> Table {
    Table::new(&["Name", "Display Name", "Description", "Type"]).rows(orgs.iter().map(|o| {
        let display = Some(field(o, "displayName"))
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| field(o, "name"));
        vec![field(o, "name"), display, field(o, "description"), field(o, "type")]
    }))
}

pub fn org_block(org: &Value) -> InfoBlock {
    InfoBlock::new()
        .separator()
        .title("Org Information")
        .label("Name", field(org, "name"))
        .label("Display Name", field(org, "displayName"))
        .label("Description", field(org, "description"))
        .label("Type", field(org, "type"))
        .separator()
}

pub fn teams_table(teams: &[Value]) -> Table {
    Table::new(&["Id", "Name", "Description"]).rows(
        teams
            .iter()
            .map(|t| vec![field(t, "id"), field(t, "name"), field(t, "description")]),
    )
}

pub fn team_block(team: &Value) -> InfoBlock {
    InfoBlock::new()
        .title("Team Information")
        .separator()
        .label("ID", field(team, "id"))
        .label("Name", field(team, "name"))
        .label("Description", field(team, "description"))
        .label("Deleted", flag(team, "isDeleted"))
        .separator()
}

// ---- users ----------------------------------------------------------------------------------

/// The roles a user holds in the org (`team: None`) or in one of its teams, sorted.
pub fn scope_roles(user: &Value, org: &str, team: Option<&str>) -> Vec<String> {
    let mut roles = BTreeSet::new();
    for entry in items(user.get("roles")) {
        let entry_org = entry.pointer("/org/name").and_then(Value::as_str);
        let entry_team = entry.pointer("/team/name").and_then(Value::as_str);
        if entry_org.is_some_and(|o| o != org) {
            continue;
        }
        match team {
            None if entry_team.is_none() => roles.extend(strings(entry.get("orgRoles"))),
            Some(t) if entry_team == Some(t) => roles.extend(strings(entry.get("teamRoles"))),
            _ => {}
        }
    }
    roles.into_iter().collect()
}

/// Users sorted by name, ignoring case (as `ngc` lists them).
pub fn sort_users(users: &mut [Value]) {
    users.sort_by_cached_key(|u| field(u, "name").to_lowercase());
}

/// `list-users`: Id, Name, Email, Roles (at the listed scope), Created Date.
pub fn users_table(users: &[Value], org: &str, team: Option<&str>) -> Table {
    Table::new(&["Id", "Name", "Email", "Roles", "Created Date"]).rows(users.iter().map(|u| {
        vec![
            field(u, "id"),
            field(u, "name"),
            field(u, "email"),
            scope_roles(u, org, team).join(","),
            date(u.get("createdDate")),
        ]
    }))
}

/// Whether a column of the user table is shown, and with roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    Hidden,
    Names,
    WithRoles,
}

/// Which columns a user table has (`ngc`'s `print_user_details` switches).
#[derive(Debug, Clone, Copy)]
pub struct UserColumns {
    pub orgs: Show,
    pub teams: Show,
    pub created: bool,
}

impl UserColumns {
    /// `user who` / `user info`: everything.
    pub const FULL: UserColumns = UserColumns {
        orgs: Show::WithRoles,
        teams: Show::WithRoles,
        created: true,
    };
    /// `org update-user`: org roles only.
    pub const ORG_ROLES: UserColumns = UserColumns {
        orgs: Show::WithRoles,
        teams: Show::Hidden,
        created: false,
    };
    /// `team update-user` / `team add-user`: org names and team roles.
    pub const TEAM_ROLES: UserColumns = UserColumns {
        orgs: Show::Names,
        teams: Show::WithRoles,
        created: false,
    };
    /// `user update`: who the user is.
    pub const IDENTITY: UserColumns = UserColumns {
        orgs: Show::Hidden,
        teams: Show::Hidden,
        created: false,
    };
}

/// A sorted set of role names.
type Roles = BTreeSet<String>;

/// Orgs in order of first appearance and teams by name, each with its sorted roles.
fn roles_by_scope(user: &Value) -> (Vec<(String, Roles)>, BTreeMap<String, Roles>) {
    let mut orgs: Vec<(String, Roles)> = Vec::new();
    let mut teams: BTreeMap<String, Roles> = BTreeMap::new();
    for entry in items(user.get("roles")) {
        if let Some(org) = entry.pointer("/org/name").and_then(Value::as_str) {
            let roles = strings(entry.get("orgRoles"));
            match orgs.iter_mut().find(|(name, _)| name == org) {
                Some((_, set)) => set.extend(roles),
                None => orgs.push((org.to_string(), roles.into_iter().collect())),
            }
        }
        if let Some(team) = entry.pointer("/team/name").and_then(Value::as_str) {
            teams
                .entry(team.to_string())
                .or_default()
                .extend(strings(entry.get("teamRoles")));
        }
    }
    (orgs, teams)
}

fn scope_lines<'a>(scopes: impl Iterator<Item = (&'a String, &'a BTreeSet<String>)>, show: Show) -> String {
    scopes
        .map(|(name, roles)| match show {
            Show::WithRoles => format!("{name} [{}]", roles.iter().cloned().collect::<Vec<_>>().join(",")),
            _ => name.clone(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The one-row table of a user's details.
pub fn user_table(user: &Value, columns: UserColumns) -> Table {
    let (orgs, teams) = roles_by_scope(user);
    let mut headers = vec!["User Id", "Name", "Email"];
    let mut row = vec![field(user, "id"), field(user, "name"), field(user, "email")];
    match columns.orgs {
        Show::Hidden => {}
        show => {
            headers.push(if show == Show::WithRoles { "Org [Roles]" } else { "Org" });
            row.push(scope_lines(orgs.iter().map(|(n, r)| (n, r)), show));
        }
    }
    match columns.teams {
        Show::Hidden => {}
        show => {
            headers.push(if show == Show::WithRoles {
                "Teams [Roles]"
            } else {
                "Teams"
            });
            row.push(scope_lines(teams.iter(), show));
        }
    }
    if columns.created {
        headers.push("Created Date");
        row.push(date(user.get("createdDate")));
    }
    Table::new(&headers).row(row)
}

// ---- keys -----------------------------------------------------------------------------------

fn expiration(key: &Value) -> String {
    match key.get("expirationDate") {
        None | Some(Value::Null) => "never".to_string(),
        other => date(other),
    }
}

fn entity(key: &Value) -> String {
    match (field(key, "entityType"), field(key, "entityValue")) {
        (t, v) if v.is_empty() => t,
        (t, v) => format!("{t}:{v}"),
    }
}

/// What a key may do: its services (personal, legacy) or its scopes on its entities (service).
fn access(key: &Value) -> String {
    let scopes = strings(key.get("scopes"));
    if field(key, "type") == "SERVICE" || !scopes.is_empty() {
        let on = entity(key);
        let scopes = scopes.join(",");
        if on.is_empty() {
            scopes
        } else {
            format!("{scopes} on {on}")
        }
    } else {
        strings(key.get("services")).join(",")
    }
}

pub fn keys_table(keys: &[Value]) -> Table {
    Table::new(&[
        "Id",
        "Name",
        "Type",
        "Owner",
        "Hint",
        "Access",
        "Active",
        "Expiration Date",
    ])
    .rows(keys.iter().map(|k| {
        vec![
            field(k, "id"),
            field(k, "name"),
            field(k, "type"),
            field(k, "userEmail"),
            field(k, "hint"),
            access(k),
            flag(k, "active"),
            expiration(k),
        ]
    }))
}

pub fn key_block(key: &Value) -> InfoBlock {
    let service = field(key, "type") == "SERVICE";
    let block = InfoBlock::new()
        .separator()
        .title("Key Information")
        .label("ID", field(key, "id"))
        .label("Name", field(key, "name"))
        .label("Type", field(key, "type"))
        .label("Hint", field(key, "hint"))
        .label_if("Org", field(key, "orgName"))
        .label_if("Owner", field(key, "userEmail"));
    let block = if service {
        block
            .label("Scopes", strings(key.get("scopes")).join(", "))
            .label("Entity Type", field(key, "entityType"))
            .label_if("Entity Value", field(key, "entityValue"))
    } else {
        block.label("Services", strings(key.get("services")).join(", "))
    };
    block
        .label("Active", flag(key, "active"))
        .label("Expiration Date", expiration(key))
        .label("Created Date", date(key.get("createdDate")))
        .label("Updated Date", date(key.get("updatedDate")))
        .separator()
}

/// A secret shown once, after the key's block.
pub fn secret_lines(secret: &str) -> String {
    format!("API Key: {secret}\nSave this key now; it will not be shown again.")
}

// ---- invitations ----------------------------------------------------------------------------

pub fn invitations_table(invitations: &[Value]) -> Table {
    Table::new(&[
        "Id",
        "Email",
        "Name",
        "Roles",
        "Team",
        "Created Date",
        "Expiration Date",
    ])
    .rows(invitations.iter().map(|i| {
        vec![
            field(i, "id"),
            field(i, "userEmail"),
            field(i, "userName"),
            strings(i.get("userRoles")).join(","),
            field(i, "teamName"),
            date(i.get("createdDate")),
            date(i.get("expirationDate")),
        ]
    }))
}

// ---- ngc's printer helpers: sizes, list dates, nested lines ---------------------------------

/// `ngc`'s `human_size`: powers of 1024, two decimals at most (`60.27 MB`, `2 KB`, `0 B`);
/// empty when there is no size.
pub fn human_size(value: Option<&Value>) -> String {
    let Some(bytes) = value.and_then(Value::as_f64) else {
        return String::new();
    };
    if bytes <= 0.0 {
        return "0 B".to_string();
    }
    const UNITS: [&str; 9] = ["B", "KB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let groups = ((bytes.log10() / 1024f64.log10()).floor().max(0.0) as usize).min(UNITS.len() - 1);
    let scaled = bytes / 1024f64.powi(groups as i32);
    let rounded = (scaled * 100.0).round() / 100.0;
    format!("{rounded} {}", UNITS[groups])
}

/// `ngc`'s list-view date: `Oct 18, 2019` (as given when it is not an API date).
pub fn list_date(value: Option<&Value>) -> String {
    let raw = text(value);
    match chrono::NaiveDateTime::parse_from_str(&raw, "%Y-%m-%dT%H:%M:%S%.fZ") {
        Ok(d) => d.format("%b %d, %Y").to_string(),
        Err(_) => raw,
    }
}

/// An information block line at `level` (`ngc`'s `add_label_line(label, value, level)`): two
/// more spaces per level; an empty label shows the value alone, one level further in.
pub fn level_line(block: InfoBlock, level: usize, label: &str, value: &str) -> InfoBlock {
    let pad = "  ".repeat(level);
    if label.is_empty() {
        // A title is the line as is, after the block's one leading space.
        block.title(&format!("  {pad}  {value}"))
    } else {
        block.label(&format!("{pad}{label}"), value)
    }
}

/// The values of a search hit's `{"key", "values"}` label named `key`, joined with commas.
pub fn label_values(hit: &Value, key: &str) -> String {
    items(hit.get("labels"))
        .iter()
        .filter(|l| l.get("key").and_then(Value::as_str) == Some(key))
        .flat_map(|l| items(l.get("values")).iter().filter_map(Value::as_str))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How an entity is offered (Hangar's `accessLevel` and its `productNames`), for info blocks.
pub fn offer_lines(block: InfoBlock, entity: &Value) -> InfoBlock {
    let products: Vec<&str> = items(entity.get("productNames"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    block
        .label("Access Level", field(entity, "accessLevel"))
        .label("Products", products.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn alice() -> Value {
        json!({
            "id": 7, "name": "Alice", "email": "alice@example.com", "createdDate": "2026-11-22T07:49:43.000Z",
            "roles": [
                {"org": {"name": "acme", "displayName": "Acme"}, "orgRoles": ["REGISTRY_USER", "ORG_OWNER"], "teamRoles": []},
                {"org": {"name": "acme"}, "team": {"name": "vision"}, "orgRoles": [], "teamRoles": ["REGISTRY_ADMIN"]},
                {"org": {"name": "acme"}, "team": {"name": "audio"}, "orgRoles": [], "teamRoles": ["REGISTRY_READ", "USER_ADMIN"]}
            ]
        })
    }

    #[test]
    fn python_style_values() {
        assert_eq!(text(None), "");
        assert_eq!(text(Some(&Value::Null)), "");
        assert_eq!(text(Some(&json!(true))), "True");
        assert_eq!(text(Some(&json!(12))), "12");
        assert_eq!(text(Some(&json!("x"))), "x");
        assert_eq!(
            date(Some(&json!("2026-11-22T07:49:43.000Z"))),
            "2026-11-22 07:49:43 UTC"
        );
        assert_eq!(date(Some(&json!("2026-11-22T07:49:43"))), "2026-11-22 07:49:43");
        assert_eq!(date(Some(&json!("soon"))), "soon");
        assert_eq!(date(None), "");
    }

    #[test]
    fn roles_per_scope() {
        let u = alice();
        assert_eq!(scope_roles(&u, "acme", None), vec!["ORG_OWNER", "REGISTRY_USER"]);
        assert_eq!(
            scope_roles(&u, "acme", Some("audio")),
            vec!["REGISTRY_READ", "USER_ADMIN"]
        );
        assert!(scope_roles(&u, "other", None).is_empty());
    }

    #[test]
    fn users_list_rows() {
        let t = users_table(&[alice()], "acme", Some("vision"));
        assert_eq!(t.headers, ["Id", "Name", "Email", "Roles", "Created Date"]);
        assert_eq!(
            t.rows[0],
            [
                "7",
                "Alice",
                "alice@example.com",
                "REGISTRY_ADMIN",
                "2026-11-22 07:49:43 UTC"
            ]
        );
        let mut users = vec![json!({"name": "bob"}), json!({"name": "Alice"}), json!({})];
        sort_users(&mut users);
        assert_eq!(users, vec![json!({}), json!({"name": "Alice"}), json!({"name": "bob"})]);
    }

    #[test]
    fn user_details_columns() {
        let t = user_table(&alice(), UserColumns::FULL);
        assert_eq!(
            t.headers,
            [
                "User Id",
                "Name",
                "Email",
                "Org [Roles]",
                "Teams [Roles]",
                "Created Date"
            ]
        );
        assert_eq!(t.rows[0][3], "acme [ORG_OWNER,REGISTRY_USER]");
        assert_eq!(
            t.rows[0][4],
            "audio [REGISTRY_READ,USER_ADMIN]\nvision [REGISTRY_ADMIN]"
        );
        let t = user_table(&alice(), UserColumns::TEAM_ROLES);
        assert_eq!(t.headers, ["User Id", "Name", "Email", "Org", "Teams [Roles]"]);
        assert_eq!(t.rows[0][3], "acme");
        let t = user_table(&json!({"id": 1}), UserColumns::IDENTITY);
        assert_eq!(t.rows[0], ["1", "", ""]);
    }

    #[test]
    fn org_and_team_views() {
        let org = json!({"name": "acme", "displayName": "", "description": null, "type": "ENTERPRISE"});
        assert_eq!(
            orgs_table(std::slice::from_ref(&org)).rows[0],
            ["acme", "acme", "", "ENTERPRISE"]
        );
        let text = org_block(&org).render(80);
        assert!(
            text.contains(
                "\n Org Information\n   Name: acme\n   Display Name:\n   Description:\n   Type: ENTERPRISE\n"
            )
        );
        let team = json!({"id": 3, "name": "vision", "description": "CV", "isDeleted": false});
        let text = team_block(&team).render(80);
        assert!(text.starts_with(" Team Information\n---"));
        assert!(text.contains("   ID: 3\n   Name: vision\n   Description: CV\n   Deleted: False\n"));
    }

    #[test]
    fn key_views() {
        let personal = json!({"id": 4, "name": "laptop", "type": "PERSONAL", "hint": "nvapi-…abcd", "services": ["NGC_CATALOG", "PRIVATE_REGISTRY"], "scopes": [], "active": true, "expirationDate": null, "userEmail": "a@x"});
        let service = json!({"id": 5, "name": "ci", "type": "SERVICE", "scopes": ["GET_CONTAINER", "LIST_CONTAINERS"], "entityType": "SPECIFIC_CONTAINER", "entityValue": "acme/web", "active": false, "expirationDate": "2027-01-01T00:00:00.000Z"});
        let t = keys_table(&[personal.clone(), service.clone()]);
        assert_eq!(t.rows[0][5], "NGC_CATALOG,PRIVATE_REGISTRY");
        assert_eq!(t.rows[0][6..], ["True", "never"]);
        assert_eq!(
            t.rows[1][5],
            "GET_CONTAINER,LIST_CONTAINERS on SPECIFIC_CONTAINER:acme/web"
        );
        assert_eq!(t.rows[1][6..], ["False", "2027-01-01 00:00:00 UTC"]);
        let text = key_block(&service).render(80);
        assert!(text.contains("   Entity Value: acme/web\n") && !text.contains("Services"));
        let text = key_block(&personal).render(80);
        assert!(text.contains("   Services: NGC_CATALOG, PRIVATE_REGISTRY\n") && !text.contains("Scopes"));
    }

    #[test]
    fn invitation_rows_and_status_stripping() {
        let inv =
            json!({"id": 2, "userEmail": "b@x", "userName": "Bob", "userRoles": ["REGISTRY_USER"], "teamName": null});
        assert_eq!(
            invitations_table(&[inv]).rows[0][..5],
            ["2", "b@x", "Bob", "REGISTRY_USER", ""]
        );
        assert_eq!(
            without_status(json!({"user": 1, "requestStatus": {}})),
            json!({"user": 1})
        );
    }
}
