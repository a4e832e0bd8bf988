//! The registry's role matrix on both backends: who may pull, push and delete in an org-level
//! and a team repository, and what the catalog shows them — members by role and scope, service
//! keys by their scopes and entity filter, and anonymous callers.

mod common;

use common::registry::Registry;
use common::{Server, Stores, admin_ok, member};
use reqwest::Method;
use serde_json::Value;

const WEB: &str = "acme/web";
const TEAM: &str = "acme/vision/detector";

/// What one caller may do: pull, push and delete in `WEB` and in `TEAM`, and the catalog.
struct Expect {
    who: &'static str,
    web: [bool; 3],
    team: [bool; 3],
    catalog: &'static [&'static str],
}

fn service_key(stores: &Stores, name: &str, scopes: &str, entity: &[&str]) -> String {
    let mut args = vec!["key", "service", "--org", "acme", "--name", name];
    for scope in scopes.split(',') {
        args.extend(["--scope", scope]);
    }
    args.extend(entity);
    admin_ok(stores, &args)
}

fn allowed(status: reqwest::StatusCode, what: &str, who: &str) -> bool {
    match status.as_u16() {
        200..=202 => true,
        401 | 403 => false,
        other => panic!("{who}: {what} answered {other}"),
    }
}

/// Tries pull, push and delete in `repo` (deleting the tag `doomed`); returns what worked.
async fn try_all(reg: &Registry, repo: &str, doomed: &str, who: &str) -> [bool; 3] {
    let pull = reg
        .send(Method::GET, &format!("/v2/{repo}/manifests/v1"), &[], vec![])
        .await
        .status();
    let data = format!("pushed by {who} into {repo}");
    let digest = common::registry::sha(data.as_bytes());
    let push = reg
        .send(
            Method::POST,
            &format!("/v2/{repo}/blobs/uploads/?digest={digest}"),
            &[],
            data.into_bytes(),
        )
        .await
        .status();
    let delete = reg
        .send(Method::DELETE, &format!("/v2/{repo}/manifests/{doomed}"), &[], vec![])
        .await
        .status();
    [
        allowed(pull, "pull", who),
        allowed(push, "push", who),
        allowed(delete, "delete", who),
    ]
}

async fn role_matrix(stores: &Stores) {
    let server = Server::start(stores);
    admin_ok(stores, &["team", "create", "acme", "vision"]);
    let owner = Registry::new(&server, Some(server.key()));
    owner.push_image(WEB, "v1").await;
    owner.push_image(TEAM, "v1").await;

    let specific = ["--entity-type", "SPECIFIC_CONTAINER", "--entity-value", WEB];
    let all_containers = ["--entity-type", "ALL_CONTAINERS"];
    let callers: Vec<(Expect, Option<String>)> = vec![
        (
            Expect {
                who: "org owner",
                web: [true; 3],
                team: [true; 3],
                catalog: &[TEAM, WEB],
            },
            Some(server.key()),
        ),
        (
            Expect {
                who: "registry admin",
                web: [true; 3],
                team: [true; 3],
                catalog: &[TEAM, WEB],
            },
            Some(member(stores, "admin@acme.test", &[("REGISTRY_ADMIN", None)])),
        ),
        (
            Expect {
                who: "registry user",
                web: [true, true, false],
                team: [true, true, false],
                catalog: &[TEAM, WEB],
            },
            Some(member(stores, "user@acme.test", &[("REGISTRY_USER", None)])),
        ),
        (
            Expect {
                who: "registry read",
                web: [true, false, false],
                team: [true, false, false],
                catalog: &[TEAM, WEB],
            },
            Some(member(stores, "read@acme.test", &[("REGISTRY_READ", None)])),
        ),
        (
            Expect {
                who: "team user",
                web: [false; 3],
                team: [true, true, false],
                catalog: &[TEAM],
            },
            Some(member(stores, "team@acme.test", &[("REGISTRY_USER", Some("vision"))])),
        ),
        (
            Expect {
                who: "team admin",
                web: [false; 3],
                team: [true; 3],
                catalog: &[TEAM],
            },
            Some(member(
                stores,
                "teamadmin@acme.test",
                &[("REGISTRY_ADMIN", Some("vision"))],
            )),
        ),
        (
            Expect {
                who: "service: download+list, all containers",
                web: [true, false, false],
                team: [true, false, false],
                catalog: &[TEAM, WEB],
            },
            Some(service_key(
                stores,
                "pull",
                "DOWNLOAD_CONTAINER,LIST_CONTAINERS",
                &all_containers,
            )),
        ),
        (
            Expect {
                who: "service: download+upload, acme/web only",
                web: [true, true, false],
                team: [false; 3],
                catalog: &[],
            },
            Some(service_key(
                stores,
                "web",
                "DOWNLOAD_CONTAINER,UPLOAD_CONTAINER",
                &specific,
            )),
        ),
        (
            Expect {
                who: "service: download+delete, all containers",
                web: [true, false, true],
                team: [true, false, true],
                catalog: &[],
            },
            Some(service_key(
                stores,
                "cleaner",
                "DOWNLOAD_CONTAINER,DELETE_CONTAINER",
                &all_containers,
            )),
        ),
        (
            Expect {
                who: "anonymous",
                web: [false; 3],
                team: [false; 3],
                catalog: &[],
            },
            None,
        ),
    ];

    let mut failures = vec![];
    for (i, (expect, key)) in callers.iter().enumerate() {
        let doomed = format!("doomed-{i}");
        owner.push_image(WEB, &doomed).await;
        owner.push_image(TEAM, &doomed).await;
        let reg = Registry::new(&server, key.clone());
        let web = try_all(&reg, WEB, &doomed, expect.who).await;
        let team = try_all(&reg, TEAM, &doomed, expect.who).await;
        if (web, team) != (expect.web, expect.team) {
            failures.push(format!(
                "{}: {WEB} pull/push/delete {web:?} (expected {:?}), {TEAM} {team:?} (expected {:?})",
                expect.who, expect.web, expect.team
            ));
        }
        let r = reg.send(Method::GET, "/v2/_catalog", &[], vec![]).await;
        let seen: Vec<String> = if r.status() == 200 {
            let body: Value = r.json().await.unwrap();
            body["repositories"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        } else {
            vec![]
        };
        if seen != expect.catalog {
            failures.push(format!(
                "{}: catalog {seen:?} (expected {:?})",
                expect.who, expect.catalog
            ));
        }
    }
    assert!(failures.is_empty(), "role matrix:\n{}", failures.join("\n"));
}
both_backends!(roles, role_matrix);
