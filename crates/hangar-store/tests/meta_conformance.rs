//! Metadata store conformance: every case runs against SQLite and against PostgreSQL.
//!
//! The SQLite variant works on a fresh file in a temporary directory. The PostgreSQL variant
//! needs `HANGAR_TEST_POSTGRES_URL` (e.g. `postgres://postgres@127.0.0.1:5432/hangar_test`, as
//! `scripts/test-services start` writes to `.test-services/env`); each test creates its own
//! database `t_<uuid>` on that server and drops it afterwards. Without the variable the
//! PostgreSQL variants print a note and pass, unless `HANGAR_TEST_REQUIRE_ALL=1`.

use anyhow::{Context, Result, bail};
use futures::FutureExt;
use futures::future::join_all;
use hangar_core::access::AccessLevel;
use hangar_core::keys::{KeyKind, MAX_PERSONAL_KEYS_PER_USER_PER_ORG, MAX_SERVICE_KEYS_PER_ORG};
use hangar_core::policy::Grant;
use hangar_core::roles::{MAX_ORG_OWNERS, Role};
use hangar_store::Error;
use hangar_store::meta::{
    ApiKey, ArtifactType, Backend, FileChange, Holder, HolderKind, KeyChange, MetaStore, NewArtifact, NewInvitation,
    NewKey, NewSession, Org, PasswordPurpose, RoleChange, Session, SessionKind, SignInAttempt, UPLOAD_COMPLETE,
    UPLOAD_PENDING, User, VersionFile, now,
};
use sha2::{Digest, Sha256};
use sqlx::{Column, Connection, Row};
use std::future::Future;
use std::panic::AssertUnwindSafe;

/// Writes each case once and runs it as `sqlite::<case>` and `postgres::<case>`; attributes
/// before a case (such as `#[ignore = "…"]`) go on both.
macro_rules! conformance {
    ($($(#[$attr:meta])* $case:ident),* $(,)?) => {
        mod sqlite {
            $(
                $(#[$attr])*
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() -> anyhow::Result<()> {
                    super::run(super::Backend::Sqlite, super::$case).await
                }
            )*
        }
        mod postgres {
            $(
                $(#[$attr])*
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() -> anyhow::Result<()> {
                    super::run(super::Backend::Postgres, super::$case).await
                }
            )*
        }
    };
}

conformance!(
    migrations_are_idempotent,
    orgs,
    teams,
    users,
    roles,
    remove_from_org_and_team,
    keys,
    key_limits,
    legacy_keys,
    concurrent_key_creation_respects_the_limit,
    concurrent_owner_grants_respect_the_limit,
    invitations,
    invitation_renewed,
    trusted_keys_and_signature_requirements,
    invitation_roles_in_any_order,
    settings,
    gc_mark_and_claim_exclude_each_other,
    artifacts_and_versions,
    holders_of_stored_bytes,
    file_assembly_claims,
    sessions,
    device_logins,
    password_links,
    sign_in_failures,
    invitation_sets_first_password_and_terms,
    search_ranks_text,
    search_globs,
    search_filters_and_facets,
    search_pages_and_sorting,
    search_visibility,
    search_index_follows_writes,
    search_replicas_see_each_others_writes,
    search_refreshes_race_writes,
);

#[path = "meta_conformance/search.rs"]
mod search;
use search::*;

/// The database a case works on.
#[derive(Clone)]
struct Db {
    store: MetaStore,
    /// What `MetaStore::open` was given, to open the same database again.
    location: String,
}

/// Opens a fresh database of `backend`, runs `case` on it, and removes the database again
/// (also when the case panics).
async fn run<F, Fut>(backend: Backend, case: F) -> Result<()>
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let mut _dir = None;
    let mut pg = None;
    let location = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir()?;
            let path = dir.path().join("meta").join("hangar.db");
            let location = path.to_str().context("temp dir path is not UTF-8")?.to_string();
            _dir = Some(dir);
            location
        }
        Backend::Postgres => {
            let Ok(base) = std::env::var("HANGAR_TEST_POSTGRES_URL") else {
                if std::env::var("HANGAR_TEST_REQUIRE_ALL").as_deref() == Ok("1") {
                    bail!("HANGAR_TEST_REQUIRE_ALL=1 but HANGAR_TEST_POSTGRES_URL is not set");
                }
                eprintln!("note: PostgreSQL variant skipped (set HANGAR_TEST_POSTGRES_URL to run it)");
                return Ok(());
            };
            let name = format!("t_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::PgConnection::connect(&base)
                .await
                .context("connect to HANGAR_TEST_POSTGRES_URL")?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await?;
            conn.close().await?;
            let slash = base
                .rfind('/')
                .context("HANGAR_TEST_POSTGRES_URL has no database part")?;
            let location = format!("{}/{name}", &base[..slash]);
            pg = Some((base, name));
            location
        }
    };
    let store = MetaStore::open(&location).await?;
    assert_eq!(store.backend(), backend);
    let db = Db {
        store: store.clone(),
        location,
    };
    let outcome = AssertUnwindSafe(case(db)).catch_unwind().await;
    store.close().await;
    if let Some((base, name)) = pg {
        let mut conn = sqlx::PgConnection::connect(&base).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await?;
        conn.close().await?;
    }
    match outcome {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Asserts that a store call failed with the given error variant, showing what it returned
/// otherwise.
macro_rules! assert_err {
    ($result:expr, $pattern:pat) => {
        match $result {
            Err($pattern) => {}
            other => panic!("expected Err({}), got {:?}", stringify!($pattern), other),
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Helpers

async fn new_org(db: &Db, name: &str) -> Result<Org> {
    Ok(db
        .store
        .create_org(name, &format!("{name} display"), &format!("{name} description"))
        .await?)
}

async fn new_user(db: &Db, email: &str) -> Result<User> {
    Ok(db.store.create_user(email, &format!("name of {email}"), false).await?)
}

fn grant(org: &Org, team: Option<&str>, role: Role) -> Grant {
    Grant {
        org: org.name.clone(),
        team: team.map(str::to_string),
        role,
    }
}

async fn grants(db: &Db, user: &User) -> Result<Vec<Grant>> {
    Ok(db.store.grants_of_user(user.id).await?)
}

/// Runs a `SELECT COUNT(*) …` query with integer parameters `$1`, `$2`, ….
async fn count(db: &Db, sql: &'static str, params: &[i64]) -> Result<i64> {
    let mut query = sqlx::query_scalar(sql);
    for p in params {
        query = query.bind(*p);
    }
    Ok(query.fetch_one(db.store.pool()).await?)
}

async fn owners(db: &Db, org: &Org) -> Result<i64> {
    count(
        db,
        "SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND role = 'ORG_OWNER'",
        &[org.id],
    )
    .await
}

fn new_key(kind: KeyKind, name: &str, org: Option<&Org>, user: Option<&User>) -> NewKey {
    NewKey {
        kind,
        name: name.into(),
        org_id: org.map(|o| o.id),
        user_id: user.map(|u| u.id),
        services: if kind == KeyKind::Service {
            String::new()
        } else {
            "NGC_CATALOG,PRIVATE_REGISTRY".into()
        },
        scopes: if kind == KeyKind::Service {
            "ALL_SCOPES".into()
        } else {
            String::new()
        },
        entity_type: "ALL".into(),
        entity_value: String::new(),
        expires_at: None,
        created_by: user.map(|u| u.id),
    }
}

fn personal(name: &str, org: &Org, user: &User) -> NewKey {
    new_key(KeyKind::Personal, name, Some(org), Some(user))
}

fn service(name: &str, org: &Org) -> NewKey {
    new_key(KeyKind::Service, name, Some(org), None)
}

fn legacy(name: &str, user: &User) -> NewKey {
    new_key(KeyKind::Legacy, name, None, Some(user))
}

fn key_ids(keys: &[ApiKey]) -> Vec<i64> {
    keys.iter().map(|k| k.id).collect()
}

fn invitation(org: &Org, email: &str, roles: &[(Role, Option<&str>)], expires_at: i64) -> NewInvitation {
    NewInvitation {
        org_id: org.id,
        email: email.into(),
        name: format!("invited {email}"),
        message: "welcome aboard".into(),
        roles: roles.iter().map(|(r, t)| (*r, t.map(str::to_string))).collect(),
        invited_by: None,
        expires_at,
    }
}

/// The mail a test invitation writes: the subject names the recipient, the body holds the token.
fn mail(email: &str) -> impl FnOnce(&str) -> (String, String) + '_ {
    move |token| (format!("invitation for {email}"), format!("accept with {token} soon"))
}

// ---------------------------------------------------------------------------------------------
// Cases

async fn migrations_are_idempotent(db: Db) -> Result<()> {
    let acme = new_org(&db, "acme").await?;
    for _ in 0..2 {
        let again = MetaStore::open(&db.location).await?;
        assert_eq!(again.count_orgs().await?, 1);
        assert_eq!(again.org("acme").await?, Some(acme.clone()));
        let applied: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT version) FROM _sqlx_migrations")
            .fetch_one(again.pool())
            .await?;
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(again.pool())
            .await?;
        // A migration is one file, or one per database (`0012_search_triggers.sqlite.sql`, `….postgres.sql`).
        let versions: std::collections::BTreeSet<String> =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))?
                .map(|f| f.map(|f| f.file_name().to_string_lossy()[..4].to_string()))
                .collect::<std::io::Result<_>>()?;
        let files = versions.len() as i64;
        assert_eq!((applied, rows), (files, files), "each migration is recorded once");
        again.close().await;
    }
    // The first store keeps working alongside.
    new_org(&db, "bravo").await?;
    assert_eq!(db.store.count_orgs().await?, 2);
    Ok(())
}

async fn orgs(db: Db) -> Result<()> {
    let s = &db.store;
    assert_eq!(s.count_orgs().await?, 0);
    let beta = s.create_org("beta", "Beta Org", "the second").await?;
    let alpha = s.create_org("alpha", "Alpha Org", "the first").await?;
    let gamma = s.create_org("gamma", "Gamma Org", "the third").await?;
    assert_eq!(
        (
            alpha.name.as_str(),
            alpha.display_name.as_str(),
            alpha.description.as_str()
        ),
        ("alpha", "Alpha Org", "the first")
    );
    assert_eq!(alpha.created_at, alpha.updated_at);
    assert!((alpha.created_at - now()).abs() < 60);
    assert!(alpha.id != beta.id && beta.id != gamma.id && alpha.id != gamma.id);

    assert_err!(s.create_org("alpha", "Other", "dup").await, Error::Conflict(_));
    assert_eq!(s.count_orgs().await?, 3);

    assert_eq!(s.org("alpha").await?, Some(alpha.clone()));
    assert_eq!(s.org("nope").await?, None);
    assert_eq!(s.org_by_id(beta.id).await?, beta);
    assert_err!(
        s.org_by_id(beta.id + gamma.id + alpha.id + 1000).await,
        Error::NotFound(_)
    );
    assert_eq!(s.require_org("gamma").await?, gamma);
    assert_err!(s.require_org("nope").await, Error::NotFound(_));

    let names: Vec<String> = s.all_orgs().await?.into_iter().map(|o| o.name).collect();
    assert_eq!(names, ["alpha", "beta", "gamma"]);

    s.update_org(alpha.id, Some("Alpha Renamed"), None).await?;
    let a = s.org_by_id(alpha.id).await?;
    assert_eq!(
        (a.display_name.as_str(), a.description.as_str()),
        ("Alpha Renamed", "the first")
    );
    assert!(a.updated_at >= alpha.updated_at);
    assert_eq!(a.created_at, alpha.created_at);
    s.update_org(alpha.id, None, Some("new description")).await?;
    let a = s.org_by_id(alpha.id).await?;
    assert_eq!(
        (a.display_name.as_str(), a.description.as_str()),
        ("Alpha Renamed", "new description")
    );
    s.update_org(alpha.id, None, None).await?;
    let a = s.org_by_id(alpha.id).await?;
    assert_eq!(
        (a.display_name.as_str(), a.description.as_str()),
        ("Alpha Renamed", "new description")
    );
    // The other orgs are untouched.
    assert_eq!(s.org_by_id(beta.id).await?, beta);
    Ok(())
}

async fn teams(db: Db) -> Result<()> {
    let s = &db.store;
    let acme = new_org(&db, "acme").await?;
    let other = new_org(&db, "other").await?;
    let zeta = s.create_team(acme.id, "zeta", "last").await?;
    let alpha = s.create_team(acme.id, "alpha", "first").await?;
    assert_eq!(
        (alpha.org_id, alpha.name.as_str(), alpha.description.as_str()),
        (acme.id, "alpha", "first")
    );
    assert_err!(s.create_team(acme.id, "alpha", "dup").await, Error::Conflict(_));
    let other_alpha = s.create_team(other.id, "alpha", "same name, other org").await?;
    assert_ne!(other_alpha.id, alpha.id);

    let names = |teams: Vec<hangar_store::meta::Team>| teams.into_iter().map(|t| t.name).collect::<Vec<_>>();
    assert_eq!(names(s.teams(acme.id).await?), ["alpha", "zeta"]);
    assert_eq!(names(s.teams(other.id).await?), ["alpha"]);
    assert_eq!(s.team(acme.id, "alpha").await?, Some(alpha.clone()));
    assert_eq!(s.team(other.id, "alpha").await?, Some(other_alpha.clone()));
    assert_eq!(s.team(other.id, "zeta").await?, None);
    assert_eq!(s.require_team(&acme, "zeta").await?, zeta);
    assert_err!(s.require_team(&other, "zeta").await, Error::NotFound(_));

    s.update_team(alpha.id, "changed").await?;
    let changed = s.team(acme.id, "alpha").await?.context("team alpha")?;
    assert_eq!(changed.description, "changed");
    assert_eq!(changed.created_at, alpha.created_at);
    assert_eq!(s.team(other.id, "alpha").await?, Some(other_alpha.clone()));

    // Deleting a team takes the roles held in it, and only those.
    let owner = new_user(&db, "owner@example.com").await?;
    let u = new_user(&db, "u@example.com").await?;
    let v = new_user(&db, "v@example.com").await?;
    s.change_roles(owner.id, acme.id, None, RoleChange::Add(&[Role::OrgOwner]))
        .await?;
    s.change_roles(u.id, acme.id, None, RoleChange::Add(&[Role::RegistryRead]))
        .await?;
    s.change_roles(u.id, acme.id, Some(zeta.id), RoleChange::Add(&[Role::RegistryUser]))
        .await?;
    s.change_roles(u.id, acme.id, Some(alpha.id), RoleChange::Add(&[Role::RegistryAdmin]))
        .await?;
    s.change_roles(v.id, acme.id, Some(zeta.id), RoleChange::Add(&[Role::RegistryRead]))
        .await?;
    s.change_roles(
        v.id,
        other.id,
        Some(other_alpha.id),
        RoleChange::Add(&[Role::RegistryRead]),
    )
    .await?;
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM memberships WHERE team_id = $1", &[zeta.id]).await?,
        2
    );

    s.delete_team(zeta.id).await?;
    assert_eq!(names(s.teams(acme.id).await?), ["alpha"]);
    assert_eq!(s.team(acme.id, "zeta").await?, None);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM memberships WHERE team_id = $1", &[zeta.id]).await?,
        0
    );
    assert_eq!(
        grants(&db, &u).await?,
        [
            grant(&acme, None, Role::RegistryRead),
            grant(&acme, Some("alpha"), Role::RegistryAdmin)
        ]
    );
    assert_eq!(
        grants(&db, &v).await?,
        [grant(&other, Some("alpha"), Role::RegistryRead)]
    );
    assert_eq!(grants(&db, &owner).await?, [grant(&acme, None, Role::OrgOwner)]);
    Ok(())
}

async fn users(db: Db) -> Result<()> {
    let s = &db.store;
    let ann = s.create_user("ann@example.com", "Ann", false).await?;
    let bob = s.create_user("bob@example.com", "Bob", true).await?;
    assert_eq!(
        (ann.email.as_str(), ann.name.as_str(), ann.platform_admin),
        ("ann@example.com", "Ann", false)
    );
    assert!(bob.platform_admin);
    assert_err!(
        s.create_user("ann@example.com", "Another Ann", false).await,
        Error::Conflict(_)
    );

    assert_eq!(s.user_by_email("ann@example.com").await?, Some(ann.clone()));
    assert_eq!(s.user_by_email("bob@example.com").await?, Some(bob.clone()));
    assert_eq!(s.user_by_email("nobody@example.com").await?, None);
    assert_eq!(s.user(ann.id).await?, Some(ann.clone()));
    assert_eq!(s.user(ann.id + bob.id + 1000).await?, None);

    let mut ids = vec![ann.starfleet_id.clone(), bob.starfleet_id.clone()];
    for i in 0..10 {
        ids.push(new_user(&db, &format!("user{i}@example.com")).await?.starfleet_id);
    }
    for id in &ids {
        assert!(
            id.len() >= 16 && id.chars().all(|c| c.is_ascii_alphanumeric()),
            "starfleet id {id:?}"
        );
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "starfleet ids must be unique: {ids:?}");
    // The stored id is the one returned.
    let stored = s.user_by_email("user3@example.com").await?.context("user3")?;
    assert_eq!(stored.starfleet_id, ids[5]);

    s.set_user_name(ann.id, "Ann B.").await?;
    s.set_platform_admin(ann.id, true).await?;
    s.set_platform_admin(bob.id, false).await?;
    let ann2 = s.user(ann.id).await?.context("ann")?;
    assert_eq!(
        (ann2.name.as_str(), ann2.platform_admin, ann2.starfleet_id.as_str()),
        ("Ann B.", true, ann.starfleet_id.as_str())
    );
    assert!(!s.user(bob.id).await?.context("bob")?.platform_admin);
    Ok(())
}

async fn roles(db: Db) -> Result<()> {
    let s = &db.store;
    let acme = new_org(&db, "acme").await?;
    let other = new_org(&db, "other").await?;
    let vision = s.create_team(acme.id, "vision", "").await?;
    let audio = s.create_team(acme.id, "audio", "").await?;
    let owner = new_user(&db, "owner@example.com").await?;
    let u = new_user(&db, "u@example.com").await?;
    let v = new_user(&db, "v@example.com").await?;
    let w = new_user(&db, "w@example.com").await?;
    let (org_scope, vision_scope) = (None, Some(vision.id));

    s.change_roles(owner.id, acme.id, org_scope, RoleChange::Add(&[Role::OrgOwner]))
        .await?;
    assert_eq!(grants(&db, &owner).await?, [grant(&acme, None, Role::OrgOwner)]);

    // Add at org scope; adding the same role again changes nothing.
    s.change_roles(u.id, acme.id, org_scope, RoleChange::Add(&[Role::RegistryUser]))
        .await?;
    assert_eq!(grants(&db, &u).await?, [grant(&acme, None, Role::RegistryUser)]);
    s.change_roles(u.id, acme.id, org_scope, RoleChange::Add(&[Role::RegistryUser]))
        .await?;
    assert_eq!(grants(&db, &u).await?, [grant(&acme, None, Role::RegistryUser)]);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM memberships WHERE user_id = $1", &[u.id]).await?,
        1
    );
    s.change_roles(
        u.id,
        acme.id,
        org_scope,
        RoleChange::Add(&[Role::UserAdmin, Role::RegistryUser]),
    )
    .await?;
    assert_eq!(
        grants(&db, &u).await?,
        [
            grant(&acme, None, Role::RegistryUser),
            grant(&acme, None, Role::UserAdmin)
        ]
    );

    // Team scope, also idempotent; org-scope grants list before team-scope ones.
    s.change_roles(u.id, acme.id, vision_scope, RoleChange::Add(&[Role::RegistryAdmin]))
        .await?;
    s.change_roles(u.id, acme.id, vision_scope, RoleChange::Add(&[Role::RegistryAdmin]))
        .await?;
    assert_eq!(
        grants(&db, &u).await?,
        [
            grant(&acme, None, Role::RegistryUser),
            grant(&acme, None, Role::UserAdmin),
            grant(&acme, Some("vision"), Role::RegistryAdmin),
        ]
    );

    // Remove at org scope leaves the team scope alone; removing a role not held is a no-op.
    s.change_roles(
        u.id,
        acme.id,
        org_scope,
        RoleChange::Remove(&[Role::UserAdmin, Role::RegistryRead]),
    )
    .await?;
    assert_eq!(
        grants(&db, &u).await?,
        [
            grant(&acme, None, Role::RegistryUser),
            grant(&acme, Some("vision"), Role::RegistryAdmin)
        ]
    );

    // Replace at team scope, then at org scope.
    s.change_roles(
        u.id,
        acme.id,
        vision_scope,
        RoleChange::Replace(&[Role::UserAdmin, Role::RegistryRead]),
    )
    .await?;
    assert_eq!(
        grants(&db, &u).await?,
        [
            grant(&acme, None, Role::RegistryUser),
            grant(&acme, Some("vision"), Role::RegistryRead),
            grant(&acme, Some("vision"), Role::UserAdmin),
        ]
    );
    s.change_roles(u.id, acme.id, org_scope, RoleChange::Replace(&[Role::RegistryAdmin]))
        .await?;
    let u_grants = vec![
        grant(&acme, None, Role::RegistryAdmin),
        grant(&acme, Some("vision"), Role::RegistryRead),
        grant(&acme, Some("vision"), Role::UserAdmin),
    ];
    assert_eq!(grants(&db, &u).await?, u_grants);

    // Grants span orgs, by org name.
    s.change_roles(u.id, other.id, org_scope, RoleChange::Add(&[Role::RegistryRead]))
        .await?;
    let mut u_all = u_grants.clone();
    u_all.push(grant(&other, None, Role::RegistryRead));
    assert_eq!(grants(&db, &u).await?, u_all);

    // members: users with any role in the org (or team), by id, with all their roles in the org.
    s.change_roles(v.id, acme.id, Some(audio.id), RoleChange::Add(&[Role::RegistryRead]))
        .await?;
    let members = s.members(acme.id, None).await?;
    let summary: Vec<(i64, Vec<Grant>)> = members.into_iter().map(|m| (m.user.id, m.grants)).collect();
    assert_eq!(
        summary,
        [
            (owner.id, vec![grant(&acme, None, Role::OrgOwner)]),
            (u.id, u_grants.clone()),
            (v.id, vec![grant(&acme, Some("audio"), Role::RegistryRead)]),
        ]
    );
    let in_vision = s.members(acme.id, Some(vision.id)).await?;
    assert_eq!(in_vision.len(), 1);
    assert_eq!(in_vision[0].user, s.user(u.id).await?.context("u")?);
    assert_eq!(in_vision[0].grants, u_grants);
    let in_audio: Vec<i64> = s
        .members(acme.id, Some(audio.id))
        .await?
        .into_iter()
        .map(|m| m.user.id)
        .collect();
    assert_eq!(in_audio, [v.id]);
    let in_other: Vec<i64> = s
        .members(other.id, None)
        .await?
        .into_iter()
        .map(|m| m.user.id)
        .collect();
    assert_eq!(in_other, [u.id]);

    // USER_READ alone does not make a member, at either scope; nothing changes.
    assert_err!(
        s.change_roles(w.id, acme.id, org_scope, RoleChange::Add(&[Role::UserRead]))
            .await,
        Error::Invalid(_)
    );
    assert_err!(
        s.change_roles(w.id, acme.id, vision_scope, RoleChange::Add(&[Role::UserRead]))
            .await,
        Error::Invalid(_)
    );
    assert_eq!(grants(&db, &w).await?, []);
    assert_err!(
        s.change_roles(u.id, acme.id, vision_scope, RoleChange::Replace(&[Role::UserRead]))
            .await,
        Error::Invalid(_)
    );
    s.change_roles(u.id, acme.id, vision_scope, RoleChange::Add(&[Role::UserRead]))
        .await?;
    assert_err!(
        s.change_roles(
            u.id,
            acme.id,
            vision_scope,
            RoleChange::Remove(&[Role::RegistryRead, Role::UserAdmin])
        )
        .await,
        Error::Invalid(_)
    );
    s.change_roles(u.id, acme.id, vision_scope, RoleChange::Remove(&[Role::UserRead]))
        .await?;
    assert_eq!(grants(&db, &u).await?, u_all);
    // With a conferring role beside it, USER_READ is fine.
    s.change_roles(
        w.id,
        acme.id,
        org_scope,
        RoleChange::Add(&[Role::UserRead, Role::RegistryRead]),
    )
    .await?;
    assert_eq!(
        grants(&db, &w).await?,
        [
            grant(&acme, None, Role::RegistryRead),
            grant(&acme, None, Role::UserRead)
        ]
    );
    s.change_roles(w.id, acme.id, org_scope, RoleChange::Replace(&[]))
        .await?;
    assert_eq!(grants(&db, &w).await?, []);

    // ORG_OWNER exists only at org scope; a rejected change leaves nothing behind.
    assert_err!(
        s.change_roles(
            w.id,
            acme.id,
            vision_scope,
            RoleChange::Add(&[Role::RegistryRead, Role::OrgOwner])
        )
        .await,
        Error::Invalid(_)
    );
    assert_err!(
        s.change_roles(w.id, acme.id, vision_scope, RoleChange::Replace(&[Role::OrgOwner]))
            .await,
        Error::Invalid(_)
    );
    assert_eq!(grants(&db, &w).await?, []);

    // At most two owners; a third is refused and nothing changes.
    assert_eq!(MAX_ORG_OWNERS, 2);
    s.change_roles(v.id, acme.id, org_scope, RoleChange::Add(&[Role::OrgOwner]))
        .await?;
    assert_eq!(owners(&db, &acme).await?, 2);
    assert_err!(
        s.change_roles(w.id, acme.id, org_scope, RoleChange::Add(&[Role::OrgOwner]))
            .await,
        Error::Limit(_)
    );
    assert_err!(
        s.change_roles(u.id, acme.id, org_scope, RoleChange::Replace(&[Role::OrgOwner]))
            .await,
        Error::Limit(_)
    );
    assert_eq!(owners(&db, &acme).await?, 2);
    assert_eq!(grants(&db, &w).await?, []);
    assert_eq!(grants(&db, &u).await?, u_all);
    // Owners of another org do not count.
    s.change_roles(w.id, other.id, org_scope, RoleChange::Add(&[Role::OrgOwner]))
        .await?;
    s.change_roles(owner.id, other.id, org_scope, RoleChange::Add(&[Role::OrgOwner]))
        .await?;
    assert_eq!(owners(&db, &other).await?, 2);

    // The last owner stays.
    s.change_roles(v.id, acme.id, org_scope, RoleChange::Remove(&[Role::OrgOwner]))
        .await?;
    assert_eq!(owners(&db, &acme).await?, 1);
    assert_err!(
        s.change_roles(owner.id, acme.id, org_scope, RoleChange::Remove(&[Role::OrgOwner]))
            .await,
        Error::Invalid(_)
    );
    assert_err!(
        s.change_roles(
            owner.id,
            acme.id,
            org_scope,
            RoleChange::Replace(&[Role::RegistryAdmin])
        )
        .await,
        Error::Invalid(_)
    );
    assert_err!(s.remove_from_org(owner.id, acme.id).await, Error::Invalid(_));
    assert_eq!(owners(&db, &acme).await?, 1);
    assert_eq!(
        grants(&db, &owner).await?,
        [grant(&acme, None, Role::OrgOwner), grant(&other, None, Role::OrgOwner)]
    );

    // A role change in an org that does not exist.
    assert_err!(
        s.change_roles(
            u.id,
            acme.id + other.id + 1000,
            None,
            RoleChange::Add(&[Role::RegistryRead])
        )
        .await,
        Error::NotFound(_)
    );
    Ok(())
}

async fn remove_from_org_and_team(db: Db) -> Result<()> {
    let s = &db.store;
    let acme = new_org(&db, "acme").await?;
    let other = new_org(&db, "other").await?;
    let vision = s.create_team(acme.id, "vision", "").await?;
    let owner = new_user(&db, "owner@example.com").await?;
    let u = new_user(&db, "u@example.com").await?;
    let bystander = new_user(&db, "b@example.com").await?;
    s.change_roles(owner.id, acme.id, None, RoleChange::Add(&[Role::OrgOwner]))
        .await?;
    s.change_roles(u.id, acme.id, None, RoleChange::Add(&[Role::RegistryUser]))
        .await?;
    s.change_roles(u.id, acme.id, Some(vision.id), RoleChange::Add(&[Role::RegistryAdmin]))
        .await?;
    s.change_roles(u.id, other.id, None, RoleChange::Add(&[Role::RegistryRead]))
        .await?;
    s.change_roles(bystander.id, acme.id, None, RoleChange::Add(&[Role::RegistryRead]))
        .await?;

    let (acme_key1, acme_secret1) = s.create_key(&personal("a1", &acme, &u)).await?;
    let (acme_key2, _) = s.create_key(&personal("a2", &acme, &u)).await?;
    let (other_key, other_secret) = s.create_key(&personal("o1", &other, &u)).await?;
    let (bystander_key, _) = s.create_key(&personal("b1", &acme, &bystander)).await?;
    let mut made_by_u = service("svc", &acme);
    made_by_u.created_by = Some(u.id);
    let (service_key, _) = s.create_key(&made_by_u).await?;
    let (legacy_key, legacy_secret) = s.create_key(&legacy("legacy", &u)).await?;

    s.remove_from_org(u.id, acme.id).await?;
    assert_eq!(grants(&db, &u).await?, [grant(&other, None, Role::RegistryRead)]);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND user_id = $2",
            &[acme.id, u.id]
        )
        .await?,
        0
    );
    assert_eq!(s.keys_of_org(acme.id, Some(u.id)).await?, []);
    assert_eq!(s.key(acme_key1.id).await?, None);
    assert_eq!(s.key(acme_key2.id).await?, None);
    assert_eq!(s.key_by_secret(&acme_secret1).await?, None);
    // Their keys in another org, the org's service keys, their legacy key and other members'
    // keys survive.
    assert_eq!(s.key_by_secret(&other_secret).await?.map(|k| k.id), Some(other_key.id));
    assert_eq!(
        key_ids(&s.keys_of_org(acme.id, None).await?),
        [bystander_key.id, service_key.id]
    );
    assert_eq!(
        s.key_by_secret(&legacy_secret).await?.map(|k| k.id),
        Some(legacy_key.id)
    );
    let acme_members: Vec<i64> = s.members(acme.id, None).await?.into_iter().map(|m| m.user.id).collect();
    assert_eq!(acme_members, [owner.id, bystander.id]);
    // A second removal, or removing a non-member, finds nobody.
    assert_err!(s.remove_from_org(u.id, acme.id).await, Error::NotFound(_));
    assert_err!(s.remove_from_org(owner.id, other.id).await, Error::NotFound(_));
    assert_err!(
        s.remove_from_org(u.id, acme.id + other.id + 1000).await,
        Error::NotFound(_)
    );

    // remove_from_team takes the team roles only.
    let x = new_user(&db, "x@example.com").await?;
    s.change_roles(x.id, acme.id, None, RoleChange::Add(&[Role::RegistryRead]))
        .await?;
    s.change_roles(
        x.id,
        acme.id,
        Some(vision.id),
        RoleChange::Add(&[Role::RegistryUser, Role::UserAdmin]),
    )
    .await?;
    let (x_key, _) = s.create_key(&personal("x1", &acme, &x)).await?;
    s.remove_from_team(x.id, acme.id, vision.id).await?;
    assert_eq!(grants(&db, &x).await?, [grant(&acme, None, Role::RegistryRead)]);
    assert_eq!(s.key(x_key.id).await?.map(|k| k.id), Some(x_key.id));
    assert_err!(s.remove_from_team(x.id, acme.id, vision.id).await, Error::NotFound(_));
    assert_err!(
        s.remove_from_team(owner.id, acme.id, vision.id).await,
        Error::NotFound(_)
    );
    Ok(())
}

async fn keys(db: Db) -> Result<()> {
    let s = &db.store;
    let acme = new_org(&db, "acme").await?;
    let other = new_org(&db, "other").await?;
    let u = new_user(&db, "u@example.com").await?;
    let v = new_user(&db, "v@example.com").await?;

    let (key, secret) = s.create_key(&personal("laptop", &acme, &u)).await?;
    assert!(secret.starts_with("nvapi-hp-"), "{secret}");
    assert!(secret.len() >= "nvapi-hp-".len() + 32, "{secret}");
    assert_eq!(key.kind, KeyKind::Personal);
    assert_eq!(
        (key.name.as_str(), key.org_id, key.user_id),
        ("laptop", Some(acme.id), Some(u.id))
    );
    assert_eq!(
        (key.services.as_str(), key.entity_type.as_str()),
        ("NGC_CATALOG,PRIVATE_REGISTRY", "ALL")
    );
    assert!(key.active);
    assert_eq!((key.expires_at, key.created_by), (None, Some(u.id)));
    assert!(
        key.hint.starts_with(&secret[..10]) && !key.hint.contains(&secret[..]),
        "hint {:?}",
        key.hint
    );
    assert_eq!(s.key_by_secret(&secret).await?, Some(key.clone()));
    assert_eq!(s.key(key.id).await?, Some(key.clone()));
    assert_eq!(s.key_by_secret("nvapi-hp-not-a-key").await?, None);
    assert_eq!(s.key_by_secret(&secret[..secret.len() - 1]).await?, None);

    // Only a hash is stored: no column of any row holds the secret or its random part.
    let rows = sqlx::query("SELECT * FROM api_keys").fetch_all(s.pool()).await?;
    assert_eq!(rows.len(), 1);
    let body = &secret["nvapi-hp-".len()..];
    for row in &rows {
        for (i, column) in row.columns().iter().enumerate() {
            let value = match row.try_get::<Option<String>, _>(i) {
                Ok(text) => text.unwrap_or_default(),
                Err(_) => row
                    .try_get::<Option<i64>, _>(i)?
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
            };
            assert!(
                !value.contains(&secret[..]) && !value.contains(&body[..16]),
                "column {} holds the secret: {value:?}",
                column.name()
            );
        }
        let hash: String = row.try_get("secret_hash")?;
        assert_eq!(hash, hex::encode(Sha256::digest(secret.as_bytes())));
    }

    // A service key belongs to the org alone.
    let (svc, svc_secret) = s.create_key(&service("ci", &acme)).await?;
    assert!(svc_secret.starts_with("nvapi-hs-"), "{svc_secret}");
    assert_eq!(
        (svc.kind, svc.org_id, svc.user_id, svc.scopes.as_str()),
        (KeyKind::Service, Some(acme.id), None, "ALL_SCOPES")
    );
    // Personal and service keys need an org.
    assert_err!(
        s.create_key(&new_key(KeyKind::Personal, "no org", None, Some(&u)))
            .await,
        Error::Invalid(_)
    );
    assert_err!(
        s.create_key(&new_key(KeyKind::Service, "no org", None, None)).await,
        Error::Invalid(_)
    );
    assert_err!(
        s.create_key(&new_key(
            KeyKind::Personal,
            "no such org",
            Some(&Org {
                id: acme.id + other.id + 1000,
                ..acme.clone()
            }),
            Some(&u)
        ))
        .await,
        Error::NotFound(_)
    );

    // keys_of_org: personal and service keys of the org, by id; with a user, their personal keys.
    let (v_key, _) = s.create_key(&personal("v", &acme, &v)).await?;
    let (u_key2, _) = s.create_key(&personal("desktop", &acme, &u)).await?;
    let (u_other, _) = s.create_key(&personal("elsewhere", &other, &u)).await?;
    let (u_legacy, _) = s.create_key(&legacy("legacy", &u)).await?;
    assert_eq!(
        key_ids(&s.keys_of_org(acme.id, None).await?),
        [key.id, svc.id, v_key.id, u_key2.id]
    );
    assert_eq!(key_ids(&s.keys_of_org(acme.id, Some(u.id)).await?), [key.id, u_key2.id]);
    assert_eq!(key_ids(&s.keys_of_org(acme.id, Some(v.id)).await?), [v_key.id]);
    assert_eq!(key_ids(&s.keys_of_org(other.id, None).await?), [u_other.id]);
    assert_eq!(s.keys_of_org(other.id, Some(v.id)).await?, []);
    assert_eq!(s.legacy_key_of(u.id).await?.map(|k| k.id), Some(u_legacy.id));

    // update_key changes only what it is given.
    s.update_key(
        key.id,
        &KeyChange {
            active: Some(false),
            ..KeyChange::default()
        },
    )
    .await?;
    let k = s.key(key.id).await?.context("key")?;
    assert_eq!(
        (k.active, k.name.as_str(), k.services.as_str()),
        (false, "laptop", "NGC_CATALOG,PRIVATE_REGISTRY")
    );
    assert!(k.updated_at >= key.updated_at);
    // An inactive key is still found by its secret; the caller decides.
    assert_eq!(s.key_by_secret(&secret).await?.map(|k| k.active), Some(false));
    s.update_key(
        key.id,
        &KeyChange {
            name: Some("renamed".into()),
            ..KeyChange::default()
        },
    )
    .await?;
    let k = s.key(key.id).await?.context("key")?;
    assert_eq!((k.active, k.name.as_str()), (false, "renamed"));
    s.update_key(
        key.id,
        &KeyChange {
            active: Some(true),
            services: Some("NGC_CATALOG".into()),
            entity_type: Some("SPECIFIC_CONTAINER".into()),
            entity_value: Some("acme/web".into()),
            ..KeyChange::default()
        },
    )
    .await?;
    let k = s.key(key.id).await?.context("key")?;
    assert_eq!(
        (
            k.active,
            k.name.as_str(),
            k.services.as_str(),
            k.entity_type.as_str(),
            k.entity_value.as_str()
        ),
        (true, "renamed", "NGC_CATALOG", "SPECIFIC_CONTAINER", "acme/web")
    );
    assert_eq!(s.key(v_key.id).await?, Some(v_key.clone()), "other keys are untouched");

    // rotate_key: the old secret stops working, the new one finds the same key.
    let rotated = s.rotate_key(key.id).await?;
    assert!(rotated.starts_with("nvapi-hp-") && rotated != secret, "{rotated}");
    assert_eq!(s.key_by_secret(&secret).await?, None);
    let k = s.key_by_secret(&rotated).await?.context("rotated key")?;
    assert_eq!((k.id, k.name.as_str()), (key.id, "renamed"));
    assert!(k.hint.starts_with(&rotated[..10]), "hint {:?}", k.hint);
    let svc_rotated = s.rotate_key(svc.id).await?;
    assert!(svc_rotated.starts_with("nvapi-hs-"), "{svc_rotated}");
    assert_eq!(s.key_by_secret(&svc_secret).await?, None);
    assert_err!(s.rotate_key(key.id + 10_000).await, Error::NotFound(_));

    // delete_key
    s.delete_key(key.id).await?;
    assert_eq!(s.key(key.id).await?, None);
    assert_eq!(s.key_by_secret(&rotated).await?, None);
    assert_err!(s.delete_key(key.id).await, Error::NotFound(_));
    assert_eq!(key_ids(&s.keys_of_org(acme.id, Some(u.id)).await?), [u_key2.id]);

    // Expiry: stored as given; expired() from that moment on.
    let t = now();
    let mut expiring = personal("expiring", &acme, &v);
    expiring.expires_at = Some(t + 3600);
    let (exp_key, exp_secret) = s.create_key(&expiring).await?;
    assert_eq!(exp_key.expires_at, Some(t + 3600));
    assert!(!exp_key.expired(t));
    assert!(!exp_key.expired(t + 3599));
    assert!(exp_key.expired(t + 3600));
    let mut past = personal("past", &acme, &v);
    past.expires_at = Some(t - 10);
    let (past_key, past_secret) = s.create_key(&past).await?;
    assert!(past_key.expired(t));
    // Expired keys are still found; the caller checks.
    let found = s.key_by_secret(&past_secret).await?.context("expired key")?;
    assert!(found.expired(now()));
    assert!(
        !s.key_by_secret(&exp_secret)
            .await?
            .context("expiring key")?
            .expired(now())
    );
    assert!(
        !v_key.expired(t + 100 * 365 * 86_400),
        "a key without expiry never expires"
    );
    Ok(())
}

async fn key_limits(db: Db) -> Result<()> {
    let s = &db.store;
    let acme = new_org(&db, "acme").await?;
    let other = new_org(&db, "other").await?;
    let u = new_user(&db, "u@example.com").await?;
    let v = new_user(&db, "v@example.com").await?;

    assert_eq!(MAX_PERSONAL_KEYS_PER_USER_PER_ORG, 8);
    for i in 0..MAX_PERSONAL_KEYS_PER_USER_PER_ORG {
        s.create_key(&personal(&format!("k{i}"), &acme, &u)).await?;
    }
    assert_err!(s.create_key(&personal("ninth", &acme, &u)).await, Error::Limit(_));
    assert_eq!(s.keys_of_org(acme.id, Some(u.id)).await?.len(), 8);
    // Per user and per org: others are not affected.
    s.create_key(&personal("v", &acme, &v)).await?;
    s.create_key(&personal("u elsewhere", &other, &u)).await?;
    s.create_key(&service("svc", &acme)).await?;
    // Deleting one makes room again.
    let first = s.keys_of_org(acme.id, Some(u.id)).await?[0].id;
    s.delete_key(first).await?;
    s.create_key(&personal("again", &acme, &u)).await?;
    assert_err!(s.create_key(&personal("tenth", &acme, &u)).await, Error::Limit(_));
    assert_eq!(s.keys_of_org(acme.id, Some(u.id)).await?.len(), 8);

    assert_eq!(MAX_SERVICE_KEYS_PER_ORG, 50);
    for i in 1..MAX_SERVICE_KEYS_PER_ORG {
        s.create_key(&service(&format!("svc{i}"), &acme)).await?;
    }
    assert_err!(s.create_key(&service("svc51", &acme)).await, Error::Limit(_));
    let services = count(
        &db,
        "SELECT COUNT(*) FROM api_keys WHERE kind = 'SERVICE' AND org_id = $1",
        &[acme.id],
    )
    .await?;
    assert_eq!(services, 50);
    // Personal keys of others, and another org's service keys, are unaffected.
    s.create_key(&service("other svc", &other)).await?;
    s.create_key(&personal("v2", &acme, &v)).await?;
    Ok(())
}

async fn legacy_keys(db: Db) -> Result<()> {
    let s = &db.store;
    let u = new_user(&db, "u@example.com").await?;
    let v = new_user(&db, "v@example.com").await?;
    let (first, first_secret) = s.create_key(&legacy("first", &u)).await?;
    assert!(
        first_secret.starts_with("hgl-") && !first_secret.starts_with("nvapi-"),
        "{first_secret}"
    );
    assert_eq!(
        (first.kind, first.org_id, first.user_id),
        (KeyKind::Legacy, None, Some(u.id))
    );
    assert_eq!(s.key_by_secret(&first_secret).await?, Some(first.clone()));
    let (v_key, v_secret) = s.create_key(&legacy("v's", &v)).await?;

    let (second, second_secret) = s.create_key(&legacy("second", &u)).await?;
    assert_ne!(second.id, first.id);
    assert_eq!(s.key_by_secret(&first_secret).await?, None);
    assert_eq!(s.key(first.id).await?, None);
    assert_eq!(
        s.key_by_secret(&second_secret).await?.map(|k| k.name),
        Some("second".into())
    );
    assert_eq!(s.legacy_key_of(u.id).await?.map(|k| k.id), Some(second.id));
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM api_keys WHERE kind = 'LEGACY' AND user_id = $1",
            &[u.id]
        )
        .await?,
        1
    );
    // Another user's legacy key is untouched.
    assert_eq!(s.key_by_secret(&v_secret).await?.map(|k| k.id), Some(v_key.id));
    assert_eq!(s.legacy_key_of(v.id).await?.map(|k| k.id), Some(v_key.id));
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM api_keys WHERE kind = 'LEGACY' AND user_id <> $1",
            &[u.id]
        )
        .await?,
        1
    );

    let rotated = s.rotate_key(second.id).await?;
    assert!(rotated.starts_with("hgl-"), "{rotated}");
    assert_eq!(s.key_by_secret(&second_secret).await?, None);
    assert_eq!(s.legacy_key_of(u.id).await?.map(|k| k.id), Some(second.id));
    Ok(())
}

async fn concurrent_key_creation_respects_the_limit(db: Db) -> Result<()> {
    let acme = new_org(&db, "acme").await?;
    let u = new_user(&db, "u@example.com").await?;
    let tasks = (0..12).map(|i| {
        let store = db.store.clone();
        let new = personal(&format!("k{i}"), &acme, &u);
        tokio::spawn(async move { store.create_key(&new).await })
    });
    let mut created = 0;
    let mut limited = 0;
    let mut other = Vec::new();
    for result in join_all(tasks).await {
        match result? {
            Ok(_) => created += 1,
            Err(Error::Limit(_)) => limited += 1,
            Err(e) => other.push(e.to_string()),
        }
    }
    assert!(
        other.is_empty(),
        "unexpected errors (created {created}, limited {limited}): {other:?}"
    );
    assert_eq!((created, limited), (8, 4));
    assert_eq!(db.store.keys_of_org(acme.id, Some(u.id)).await?.len(), 8);
    Ok(())
}

async fn concurrent_owner_grants_respect_the_limit(db: Db) -> Result<()> {
    let acme = new_org(&db, "acme").await?;
    let mut users = Vec::new();
    for i in 0..6 {
        users.push(new_user(&db, &format!("u{i}@example.com")).await?);
    }
    let tasks = users.iter().map(|u| {
        let (store, user, org) = (db.store.clone(), u.id, acme.id);
        tokio::spawn(async move {
            store
                .change_roles(user, org, None, RoleChange::Add(&[Role::OrgOwner]))
                .await
        })
    });
    let mut granted = 0;
    let mut other = Vec::new();
    for result in join_all(tasks).await {
        match result? {
            Ok(()) => granted += 1,
            Err(Error::Limit(_)) => {}
            Err(e) => other.push(e.to_string()),
        }
    }
    assert!(other.is_empty(), "unexpected errors: {other:?}");
    assert_eq!(granted, 2);
    assert_eq!(owners(&db, &acme).await?, 2);
    Ok(())
}

/// Trusted keys are per org, unique by name and by key; signature requirements turn on and off
/// and are listed per org.
async fn trusted_keys_and_signature_requirements(db: Db) -> Result<()> {
    use hangar_store::meta::RequirementKind;
    let s = &db.store;
    let acme = new_org(&db, "acme").await?;
    let other = new_org(&db, "other").await?;
    let key = s
        .add_trusted_key(acme.id, "release", "PEM-A", "sha256:aa", None)
        .await?;
    assert_eq!((key.name.as_str(), key.org_id), ("release", acme.id));
    assert_err!(
        s.add_trusted_key(acme.id, "release", "PEM-B", "sha256:bb", None).await,
        Error::Conflict(_)
    );
    assert_err!(
        s.add_trusted_key(acme.id, "again", "PEM-A", "sha256:aa", None).await,
        Error::Conflict(_)
    );
    s.add_trusted_key(other.id, "release", "PEM-A", "sha256:aa", None)
        .await?;
    assert_eq!(s.trusted_keys(acme.id).await?, vec![key]);
    assert!(!s.remove_trusted_key(other.id, "nope").await?);
    assert!(s.remove_trusted_key(acme.id, "release").await?);
    assert!(s.trusted_keys(acme.id).await?.is_empty());
    assert_eq!(s.trusted_keys(other.id).await?.len(), 1);

    s.set_signature_requirement(acme.id, RequirementKind::Team, "acme/vision", true, None)
        .await?;
    s.set_signature_requirement(acme.id, RequirementKind::Org, "acme", true, None)
        .await?;
    s.set_signature_requirement(acme.id, RequirementKind::Org, "acme", true, None)
        .await?;
    assert_eq!(
        s.signature_requirements(acme.id).await?,
        vec![
            (RequirementKind::Org, "acme".to_string()),
            (RequirementKind::Team, "acme/vision".to_string())
        ]
    );
    assert!(s.signature_requirements(other.id).await?.is_empty());
    s.set_signature_requirement(acme.id, RequirementKind::Org, "acme", false, None)
        .await?;
    assert_eq!(s.signature_requirements(acme.id).await?.len(), 1);
    Ok(())
}

/// Sending again makes a new token (the old one stops working), a new expiry and a new mail;
/// an accepted invitation, or another org's, cannot be sent again.
async fn invitation_renewed(db: Db) -> Result<()> {
    let s = &db.store;
    let acme = new_org(&db, "acme").await?;
    let other = new_org(&db, "other").await?;
    let new = invitation(&acme, "carol@example.com", &[(Role::RegistryRead, None)], now() + 60);
    let (inv, old_token) = s.create_invitation(&new, mail("carol@example.com")).await?;
    let later = now() + 7200;
    let mut sent = String::new();
    let renewed = s
        .renew_invitation(acme.id, inv.id, later, |i, token| {
            sent = token.to_string();
            (format!("again for {}", i.email), format!("accept with {token}"))
        })
        .await?;
    assert_eq!((renewed.id, renewed.expires_at), (inv.id, later));
    assert_ne!(sent, old_token);
    let outbox = s.outbox(1).await?;
    assert_eq!(outbox[0].subject, "again for carol@example.com");
    assert_eq!(outbox[0].body, format!("accept with {sent}"));
    assert_eq!(s.invitation_by_token(&old_token).await?, None);
    assert_eq!(s.pending_invitations(acme.id, None).await?[0].expires_at, later);
    assert_err!(
        s.renew_invitation(other.id, inv.id, later, |_, _| (String::new(), String::new()))
            .await,
        Error::NotFound(_)
    );
    s.accept_invitation(&sent, None, None, false).await?;
    assert_err!(
        s.renew_invitation(acme.id, inv.id, later, |_, _| (String::new(), String::new()))
            .await,
        Error::NotFound(_)
    );
    assert_eq!(s.outbox(10).await?.len(), 2, "no mail for a refused renewal");
    Ok(())
}

async fn invitations(db: Db) -> Result<()> {
    let s = &db.store;
    let acme = new_org(&db, "acme").await?;
    let other = new_org(&db, "other").await?;
    s.create_team(acme.id, "vision", "").await?;
    s.create_team(acme.id, "audio", "").await?;
    let in_an_hour = now() + 3600;

    let new = invitation(
        &acme,
        "alice@example.com",
        &[(Role::RegistryUser, None), (Role::RegistryRead, Some("vision"))],
        in_an_hour,
    );
    let (alice_inv, alice_token) = s.create_invitation(&new, mail("alice@example.com")).await?;
    assert!(alice_token.len() > 20, "{alice_token}");
    assert_eq!(alice_inv.roles, new.roles);
    assert_eq!(
        (alice_inv.org_id, alice_inv.email.as_str(), alice_inv.expires_at),
        (acme.id, "alice@example.com", in_an_hour)
    );
    assert_eq!(alice_inv.accepted_at, None);
    let outbox = s.outbox(10).await?;
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].recipient, "alice@example.com");
    assert_eq!(outbox[0].subject, "invitation for alice@example.com");
    assert_eq!(outbox[0].body, format!("accept with {alice_token} soon"));
    // The token itself is not stored.
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM invitations")
        .fetch_all(s.pool())
        .await?;
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&alice_token[..]));

    let new = invitation(
        &acme,
        "bob@example.com",
        &[(Role::RegistryAdmin, Some("audio"))],
        in_an_hour,
    );
    let (bob_inv, bob_token) = s.create_invitation(&new, mail("bob@example.com")).await?;
    let outbox = s.outbox(10).await?;
    assert_eq!(outbox.len(), 2);
    assert_eq!(outbox[0].body, format!("accept with {bob_token} soon"), "newest first");
    assert_eq!(s.outbox(1).await?.len(), 1);
    let new = invitation(&other, "alice@example.com", &[(Role::RegistryRead, None)], in_an_hour);
    let (other_inv, _) = s.create_invitation(&new, mail("alice@example.com")).await?;

    let ids =
        |invitations: Vec<hangar_store::meta::Invitation>| invitations.into_iter().map(|i| i.id).collect::<Vec<_>>();
    let pending = s.pending_invitations(acme.id, None).await?;
    assert_eq!(pending, [alice_inv.clone(), bob_inv.clone()]);
    assert_eq!(
        ids(s.pending_invitations(acme.id, Some("vision")).await?),
        [alice_inv.id]
    );
    assert_eq!(ids(s.pending_invitations(acme.id, Some("audio")).await?), [bob_inv.id]);
    assert!(s.pending_invitations(acme.id, Some("nope")).await?.is_empty());
    assert_eq!(ids(s.pending_invitations(other.id, None).await?), [other_inv.id]);

    // Accepting creates the user and grants the roles at their scopes.
    assert_eq!(s.user_by_email("alice@example.com").await?, None);
    let (accepted, alice) = s.accept_invitation(&alice_token, Some("Alice A."), None, false).await?;
    assert_eq!(accepted.id, alice_inv.id);
    assert!(accepted.accepted_at.is_some_and(|t| (t - now()).abs() < 60));
    assert_eq!(
        (alice.email.as_str(), alice.name.as_str(), alice.platform_admin),
        ("alice@example.com", "Alice A.", false)
    );
    assert_eq!(s.user_by_email("alice@example.com").await?, Some(alice.clone()));
    assert_eq!(
        grants(&db, &alice).await?,
        [
            grant(&acme, None, Role::RegistryUser),
            grant(&acme, Some("vision"), Role::RegistryRead)
        ]
    );
    assert_eq!(ids(s.pending_invitations(acme.id, None).await?), [bob_inv.id]);
    // Only once.
    assert_err!(
        s.accept_invitation(&alice_token, None, None, false).await,
        Error::Invalid(_)
    );
    assert_eq!(grants(&db, &alice).await?.len(), 2);

    // An existing user (by e-mail) is reused, keeping their name and other roles.
    let new = invitation(&other, "alice@example.com", &[(Role::UserAdmin, None)], in_an_hour);
    let (_, token) = s.create_invitation(&new, mail("alice@example.com")).await?;
    let (_, alice_again) = s.accept_invitation(&token, Some("Ignored"), None, false).await?;
    assert_eq!(alice_again, alice);
    assert_eq!(
        grants(&db, &alice).await?,
        [
            grant(&acme, None, Role::RegistryUser),
            grant(&acme, Some("vision"), Role::RegistryRead),
            grant(&other, None, Role::UserAdmin),
        ]
    );
    // Without a name, a new user gets the invitation's.
    let (_, bob) = s.accept_invitation(&bob_token, Some("  "), None, false).await?;
    assert_eq!(bob.name, "invited bob@example.com");
    assert_eq!(
        grants(&db, &bob).await?,
        [grant(&acme, Some("audio"), Role::RegistryAdmin)]
    );

    // Expired invitations are not pending and cannot be accepted.
    let new = invitation(&acme, "late@example.com", &[(Role::RegistryRead, None)], now() - 10);
    let (late_inv, late_token) = s.create_invitation(&new, mail("late@example.com")).await?;
    assert!(!ids(s.pending_invitations(acme.id, None).await?).contains(&late_inv.id));
    assert_err!(
        s.accept_invitation(&late_token, None, None, false).await,
        Error::Invalid(_)
    );
    assert_eq!(s.user_by_email("late@example.com").await?, None);

    assert_err!(
        s.accept_invitation("hginv-unknown", None, None, false).await,
        Error::NotFound(_)
    );
    assert_err!(s.accept_invitation("", None, None, false).await, Error::NotFound(_));

    // A failing acceptance leaves the invitation open and creates nobody.
    let new = invitation(&acme, "reader@example.com", &[(Role::UserRead, None)], in_an_hour);
    let (reader_inv, reader_token) = s.create_invitation(&new, mail("reader@example.com")).await?;
    assert_err!(
        s.accept_invitation(&reader_token, None, None, false).await,
        Error::Invalid(_)
    );
    assert_eq!(s.user_by_email("reader@example.com").await?, None);
    assert!(ids(s.pending_invitations(acme.id, None).await?).contains(&reader_inv.id));

    // delete_invitations withdraws the open invitations of one e-mail in one org.
    let new = invitation(&acme, "carol@example.com", &[(Role::RegistryRead, None)], in_an_hour);
    let (carol1, carol_token) = s.create_invitation(&new, mail("carol@example.com")).await?;
    let (carol2, _) = s.create_invitation(&new, mail("carol@example.com")).await?;
    let new = invitation(&other, "carol@example.com", &[(Role::RegistryRead, None)], in_an_hour);
    let (carol_other, _) = s.create_invitation(&new, mail("carol@example.com")).await?;
    let pending = ids(s.pending_invitations(acme.id, None).await?);
    assert!(pending.contains(&carol1.id) && pending.contains(&carol2.id));
    assert_eq!(s.delete_invitations(acme.id, "carol@example.com").await?, 2);
    let pending = ids(s.pending_invitations(acme.id, None).await?);
    assert!(!pending.contains(&carol1.id) && !pending.contains(&carol2.id));
    assert_eq!(
        ids(s.pending_invitations(other.id, None).await?),
        [other_inv.id, carol_other.id]
    );
    assert_err!(
        s.accept_invitation(&carol_token, None, None, false).await,
        Error::NotFound(_)
    );
    assert_eq!(s.delete_invitations(acme.id, "carol@example.com").await?, 0);
    // Accepted invitations are history, not withdrawn.
    assert_eq!(s.delete_invitations(acme.id, "alice@example.com").await?, 0);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM invitations WHERE id = $1 AND accepted_at IS NOT NULL",
            &[alice_inv.id]
        )
        .await?,
        1
    );
    Ok(())
}

/// The API accepts an invitation's roles in any order as long as each scope has a role that
/// makes a member; accepting must not depend on that order.
async fn invitation_roles_in_any_order(db: Db) -> Result<()> {
    let s = &db.store;
    let acme = new_org(&db, "acme").await?;
    s.create_team(acme.id, "vision", "").await?;
    let roles = [
        (Role::UserRead, None),
        (Role::RegistryRead, None),
        (Role::UserRead, Some("vision")),
        (Role::RegistryUser, Some("vision")),
    ];
    let new = invitation(&acme, "dan@example.com", &roles, now() + 3600);
    let (_, token) = s.create_invitation(&new, mail("dan@example.com")).await?;
    let (_, dan) = s.accept_invitation(&token, None, None, false).await?;
    assert_eq!(
        grants(&db, &dan).await?,
        [
            grant(&acme, None, Role::RegistryRead),
            grant(&acme, None, Role::UserRead),
            grant(&acme, Some("vision"), Role::RegistryUser),
            grant(&acme, Some("vision"), Role::UserRead),
        ]
    );
    Ok(())
}

async fn settings(db: Db) -> Result<()> {
    let s = &db.store;
    assert_eq!(s.setting_or_init("signing-key", || "first".into()).await?, "first");
    assert_eq!(s.setting_or_init("signing-key", || "second".into()).await?, "first");
    assert_eq!(s.setting_or_init("other", || "own value".into()).await?, "own value");
    assert_eq!(s.setting_or_init("signing-key", String::new).await?, "first");

    // Racing replicas all agree on one value.
    let tasks = (0..8).map(|i| {
        let store = db.store.clone();
        tokio::spawn(async move { store.setting_or_init("raced", move || format!("value {i}")).await })
    });
    let mut values = Vec::new();
    for result in join_all(tasks).await {
        values.push(result??);
    }
    assert!(values.iter().all(|v| *v == values[0]), "{values:?}");
    assert!(values[0].starts_with("value "));
    assert_eq!(s.setting_or_init("raced", || "late".into()).await?, values[0]);
    Ok(())
}

/// A GC pass marking a due blob for deletion and pushes linking it (or using it in a manifest)
/// race; whichever commits first wins and the other sees it: never both a mark and a reference.
async fn gc_mark_and_claim_exclude_each_other(db: Db) -> Result<()> {
    let s = &db.store;
    let acme = new_org(&db, "acme").await?;
    let repo = s.ensure_repository(acme.id, None, "acme/app").await?;
    let long_ago = now() - 7200;
    let cutoff = now() - 3600;
    let (mut marks, mut links) = (0, 0);
    for i in 0..40 {
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(format!("blob {i}"))));
        sqlx::query("INSERT INTO gc_candidates (digest, first_seen, last_seen) VALUES ($1, $2, $2)")
            .bind(&digest)
            .bind(long_ago)
            .execute(s.pool())
            .await?;
        let (marked, linked) = tokio::join!(
            s.gc_mark_deleting(&digest, cutoff),
            s.link_blob(repo.id, &digest, 1, stored())
        );
        let marked = marked?;
        let linked_now = s.linked_blob(repo.id, &digest).await?.is_some();
        match linked {
            Ok(()) => {
                assert!(!marked, "blob {i}: marked for deletion and linked");
                assert!(linked_now);
                links += 1;
            }
            Err(Error::Collected(d)) => {
                assert_eq!(d, digest);
                assert!(marked && !linked_now, "blob {i}: refused but not marked");
                marks += 1;
            }
            Err(e) => bail!("blob {i}: {e}"),
        }
    }
    assert_eq!(marks + links, 40);
    // A marked blob stays refused until the pass forgets it.
    let digest = format!("sha256:{}", hex::encode(Sha256::digest("marked")));
    sqlx::query("INSERT INTO gc_candidates (digest, first_seen, last_seen) VALUES ($1, $2, $2)")
        .bind(&digest)
        .bind(long_ago)
        .execute(s.pool())
        .await?;
    assert!(s.gc_mark_deleting(&digest, cutoff).await?);
    let unfinished = s.gc_unfinished().await?;
    assert_eq!(unfinished.len(), marks + 1);
    assert!(unfinished.contains(&digest));
    assert_err!(s.link_blob(repo.id, &digest, 1, stored()).await, Error::Collected(_));
    s.gc_forget(&digest).await?;
    s.link_blob(repo.id, &digest, 1, stored()).await?;
    assert!(!s.gc_mark_deleting(&digest, cutoff).await?, "no longer a candidate");
    // A blob gone from the blob store is not linked, and the link made before stays as it was.
    let gone = std::future::ready(Ok(false));
    assert_err!(s.link_blob(repo.id, &digest, 1, gone).await, Error::Collected(_));
    assert!(s.linked_blob(repo.id, &digest).await?.is_some());
    Ok(())
}

/// Models and resources: one path per kind, versions unique per entity, latest-version
/// tracking through completion, set-latest and removal, listings by org and team.
async fn artifacts_and_versions(db: Db) -> Result<()> {
    let org = new_org(&db, "acme").await?;
    let team = db.store.create_team(org.id, "vision", "").await?;
    let meta = serde_json::json!({"shortDescription": "a detector", "application": "OBJECT_DETECTION"});
    let new = |kind, team_id, path: &'static str, name: &'static str| NewArtifact {
        kind,
        org_id: org.id,
        team_id,
        path,
        name,
        created_by: None,
        metadata: &meta,
    };
    let model = db
        .store
        .create_artifact(&new(ArtifactType::Model, None, "acme/det", "det"))
        .await?;
    assert_eq!(model.metadata, meta);
    assert_err!(
        db.store
            .create_artifact(&new(ArtifactType::Model, None, "acme/det", "det"))
            .await,
        Error::Conflict(_)
    );
    // The same path may name a resource too.
    db.store
        .create_artifact(&new(ArtifactType::Resource, None, "acme/det", "det"))
        .await?;
    db.store
        .create_artifact(&new(ArtifactType::Model, Some(team.id), "acme/vision/seg", "seg"))
        .await?;
    let names = |list: Vec<hangar_store::meta::Artifact>| list.into_iter().map(|a| a.path).collect::<Vec<_>>();
    assert_eq!(
        names(db.store.artifacts_of(ArtifactType::Model, org.id, None).await?),
        ["acme/det", "acme/vision/seg"]
    );
    assert_eq!(
        names(db.store.artifacts_of(ArtifactType::Model, org.id, Some(None)).await?),
        ["acme/det"]
    );
    assert_eq!(
        names(
            db.store
                .artifacts_of(ArtifactType::Model, org.id, Some(Some(team.id)))
                .await?
        ),
        ["acme/vision/seg"]
    );

    let v1 = db
        .store
        .create_version(&model, "1.0", None, &serde_json::json!({"gpuModel": "A100"}))
        .await?;
    assert_eq!(
        (v1.status.as_str(), v1.file_count, v1.total_bytes),
        (UPLOAD_PENDING, 0, 0)
    );
    assert_err!(
        db.store
            .create_version(&model, "1.0", None, &serde_json::json!({}))
            .await,
        Error::Conflict(_)
    );
    assert_err!(db.store.set_latest_version(model.id, "1.0").await, Error::NotFound(_));
    db.store.complete_version(&model, &v1).await?;
    let v2 = db
        .store
        .create_version(&model, "2.0", None, &serde_json::json!({}))
        .await?;
    db.store.complete_version(&model, &v2).await?;
    let latest = |db: Db| async move {
        db.store
            .artifact(ArtifactType::Model, "acme/det")
            .await
            .map(|a| a.unwrap().latest_version)
    };
    assert_eq!(latest(db.clone()).await?.as_deref(), Some("2.0"));
    db.store.set_latest_version(model.id, "1.0").await?;
    assert_eq!(latest(db.clone()).await?.as_deref(), Some("1.0"));
    let v1 = db.store.version(model.id, "1.0").await?.context("v1")?;
    assert_eq!(v1.status, UPLOAD_COMPLETE);
    db.store.delete_version(&model, &v1).await?;
    assert_eq!(
        latest(db.clone()).await?.as_deref(),
        Some("2.0"),
        "the latest falls back"
    );
    let versions: Vec<String> = db
        .store
        .versions(model.id)
        .await?
        .into_iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(versions, ["2.0"]);

    db.store.delete_artifact(model.id).await?;
    assert!(db.store.artifact(ArtifactType::Model, "acme/det").await?.is_none());
    assert!(db.store.artifact(ArtifactType::Resource, "acme/det").await?.is_some());
    Ok(())
}

/// For `link_blob` without a blob store: the blob is there.
fn stored() -> std::future::Ready<hangar_store::Result<bool>> {
    std::future::ready(Ok(true))
}

fn digest_of(text: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(text)))
}

/// What holds stored bytes: repositories the digest is linked into, complete versions with it
/// as a file (pending ones do not count), chart archives; only public ones and those of the
/// orgs asked about, public first.
async fn holders_of_stored_bytes(db: Db) -> Result<()> {
    let s = &db.store;
    let acme = new_org(&db, "acme").await?;
    let vision = s.create_team(acme.id, "vision", "").await?;
    let rival = new_org(&db, "rival").await?;
    let bytes = digest_of("held bytes");
    let repo = s.ensure_repository(acme.id, Some(vision.id), "acme/vision/app").await?;
    s.link_blob(repo.id, &bytes, 10, stored()).await?;
    let meta = serde_json::json!({});
    let model = s
        .create_artifact(&NewArtifact {
            kind: ArtifactType::Model,
            org_id: rival.id,
            team_id: None,
            path: "rival/m",
            name: "m",
            created_by: None,
            metadata: &meta,
        })
        .await?;
    let file = VersionFile {
        path: "w.bin".into(),
        digest: bytes.clone(),
        size: 10,
    };
    let pending = s.create_version(&model, "2", None, &meta).await?;
    s.commit_files(pending.id, &[FileChange::Add(file.clone())]).await?;
    let holder = |kind, id, org: &str, team: Option<&str>, path: &str| Holder {
        kind,
        org: org.into(),
        team: team.map(str::to_string),
        path: path.into(),
        id,
        access: AccessLevel::Private,
    };
    let repo_holder = holder(
        HolderKind::Repository,
        repo.id,
        "acme",
        Some("vision"),
        "acme/vision/app",
    );
    assert_eq!(
        s.holders_of(&bytes, None, 10).await?,
        std::slice::from_ref(&repo_holder),
        "a pending version holds nothing"
    );
    let done = s.create_version(&model, "1", None, &meta).await?;
    s.commit_files(done.id, &[FileChange::Add(file)]).await?;
    s.complete_version(&model, &done).await?;
    let model_holder = holder(
        HolderKind::Artifact(ArtifactType::Model),
        model.id,
        "rival",
        None,
        "rival/m",
    );
    assert_eq!(
        s.holders_of(&bytes, None, 10).await?,
        [repo_holder.clone(), model_holder.clone()]
    );
    assert_eq!(
        s.holders_of(&bytes, Some(&["acme".into()]), 10).await?,
        std::slice::from_ref(&repo_holder)
    );
    assert_eq!(s.holders_of(&bytes, Some(&[]), 10).await?, []);
    assert_eq!(s.holders_of(&bytes, None, 1).await?.len(), 1, "the limit holds");
    s.update_artifact(model.id, &meta, AccessLevel::Guest).await?;
    let public = Holder {
        access: AccessLevel::Guest,
        ..model_holder
    };
    assert_eq!(
        s.holders_of(&bytes, Some(&[]), 10).await?,
        std::slice::from_ref(&public),
        "public for anyone"
    );
    assert_eq!(
        s.holders_of(&bytes, Some(&["acme".into()]), 10).await?,
        [public, repo_holder],
        "public first"
    );
    assert_eq!(s.holders_of(&digest_of("other bytes"), None, 10).await?, []);
    assert!(s.org_stores_file(rival.id, &bytes).await?);
    assert!(
        !s.org_stores_file(acme.id, &bytes).await?,
        "a repository link is not a model file"
    );
    Ok(())
}

/// One assembly at a time owns an upload: a fresh claim shuts others out, a stale one is taken
/// over, and only the owner's outcome is recorded (the version received the file, the upload
/// is gone, and GC sees the file as referenced until the version is complete).
async fn file_assembly_claims(db: Db) -> Result<()> {
    let s = &db.store;
    let acme = new_org(&db, "acme").await?;
    let meta = serde_json::json!({});
    let model = s
        .create_artifact(&NewArtifact {
            kind: ArtifactType::Model,
            org_id: acme.id,
            team_id: None,
            path: "acme/m",
            name: "m",
            created_by: None,
            metadata: &meta,
        })
        .await?;
    let version = s.create_version(&model, "1", None, &meta).await?;
    let file = digest_of("the whole file");
    let upload = s.file_upload(version.id, "f.bin", 5, &file, 500).await?;
    assert_eq!(upload.assembler, None);
    assert!(s.claim_assembly(&upload.id, "first", now() - 8).await?);
    assert!(
        !s.claim_assembly(&upload.id, "second", now() - 8).await?,
        "a live claim holds"
    );
    assert!(
        s.claim_assembly(&upload.id, "first", now() - 8).await?,
        "its owner renews it"
    );
    let claimed = s.file_upload_by_id(&upload.id).await?.context("upload")?;
    assert_eq!(claimed.assembler.as_ref().map(|(who, _)| who.as_str()), Some("first"));
    // Stale: its last renewal is before the cutoff.
    assert!(
        s.claim_assembly(&upload.id, "second", now() + 1).await?,
        "a stale claim is taken over"
    );
    assert_err!(s.file_assembled(&claimed, "first").await, Error::NotFound(_));
    assert_eq!(
        s.received_file(version.id, &file).await?,
        None,
        "the loser records nothing"
    );
    s.release_assembly(&upload.id, "first").await?;
    let after = s.file_upload_by_id(&upload.id).await?.context("upload")?;
    assert_eq!(
        after.assembler.as_ref().map(|(who, _)| who.as_str()),
        Some("second"),
        "only its owner releases it"
    );
    s.file_assembled(&after, "second").await?;
    assert!(s.file_upload_by_id(&upload.id).await?.is_none(), "the upload is done");
    assert_eq!(s.received_file(version.id, &file).await?, Some(5));
    assert!(s.gc_referenced(&[file.as_str()], now()).await?.contains(&file));
    sqlx::query("INSERT INTO gc_candidates (digest, first_seen, last_seen) VALUES ($1, $2, $2)")
        .bind(&file)
        .bind(now() - 7200)
        .execute(s.pool())
        .await?;
    assert!(
        !s.gc_mark_deleting(&file, now() - 3600).await?,
        "a received file is kept"
    );
    s.complete_version(&model, &version).await?;
    assert_eq!(
        s.received_file(version.id, &file).await?,
        None,
        "gone once the version is complete"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Accounts: sessions, device logins, password links, sign-in throttling

fn browser(user: &User, idle_seconds: i64, expires_at: i64) -> NewSession {
    NewSession {
        kind: SessionKind::Browser,
        user_id: Some(user.id),
        context_org: None,
        context_team: None,
        device_id: String::new(),
        requested_email: String::new(),
        client_address: "192.0.2.1".into(),
        user_agent: "test browser".into(),
        idle_seconds,
        expires_at,
    }
}

/// A device login from `address` waiting for approval until `expires_at`.
fn device_login(address: &str, expires_at: i64) -> NewSession {
    NewSession {
        kind: SessionKind::Device,
        user_id: None,
        context_org: None,
        context_team: None,
        device_id: "device-1".into(),
        requested_email: "someone@example.com".into(),
        client_address: address.into(),
        user_agent: "ngc".into(),
        idle_seconds: 0,
        expires_at,
    }
}

fn session_ids(sessions: &[Session]) -> Vec<i64> {
    sessions.iter().map(|s| s.id).collect()
}

async fn sessions(db: Db) -> Result<()> {
    let s = &db.store;
    let alice = new_user(&db, "alice@example.com").await?;
    let bob = new_user(&db, "bob@example.com").await?;
    let t0 = now();

    let first = s.create_session(&browser(&alice, 600, t0 + 3600)).await?;
    let session = &first.session;
    assert!(
        first.secret.starts_with("hgsess-") && first.secret.len() > 30,
        "{}",
        first.secret
    );
    assert_eq!(first.approval_code, None, "only device logins wait for approval");
    assert_eq!(
        (session.kind, session.user_id, session.idle_seconds, session.expires_at),
        (SessionKind::Browser, Some(alice.id), 600, t0 + 3600)
    );
    assert!((session.created_at - t0).abs() < 60 && session.last_seen_at == session.created_at);
    assert_eq!(
        session.approved_at,
        Some(session.created_at),
        "a browser session is approved at once"
    );
    assert!(session.csrf_token.len() >= 32, "{}", session.csrf_token);
    assert_ne!(session.csrf_token, first.secret);

    // Found by its secret only: the database holds a hash, which is no secret itself.
    assert_eq!(s.session_by_secret(&first.secret).await?.as_ref(), Some(session));
    assert_eq!(s.session(session.id).await?.as_ref(), Some(session));
    let stored: String = sqlx::query_scalar("SELECT secret_hash FROM sessions WHERE id = $1")
        .bind(session.id)
        .fetch_one(s.pool())
        .await?;
    assert!(!stored.contains(&first.secret[..]) && !first.secret.contains(&stored[..]));
    assert_eq!(s.session_by_secret(&stored).await?, None);
    assert_eq!(s.session_by_secret(&session.csrf_token).await?, None);
    assert_eq!(s.session_by_secret("").await?, None);
    let other = s.create_session(&browser(&alice, 600, t0 + 3600)).await?;
    assert_ne!(other.secret, first.secret);
    assert_ne!(other.session.csrf_token, session.csrf_token);

    // live(): before the absolute expiry and within the idle time since the last use.
    let seen = session.last_seen_at;
    assert!(session.live(seen));
    assert!(session.live(seen + 599));
    assert!(!session.live(seen + 600), "idle for 600 s");
    let lasting = s.create_session(&browser(&alice, 0, t0 + 3600)).await?.session;
    assert!(lasting.live(t0 + 3599), "no idle limit");
    assert!(!lasting.live(t0 + 3600), "absolute expiry");
    assert!(!lasting.live(t0 + 100_000));

    // touch: written once a minute at most, and never back in time.
    s.touch_session(session.id, seen + 59).await?;
    assert_eq!(s.session(session.id).await?.unwrap().last_seen_at, seen);
    s.touch_session(session.id, seen + 500).await?;
    let touched = s.session(session.id).await?.unwrap();
    assert_eq!(touched.last_seen_at, seen + 500);
    assert!(
        touched.live(seen + 1099) && !touched.live(seen + 1100),
        "idle counts from the last use"
    );
    s.touch_session(session.id, seen + 10).await?;
    assert_eq!(s.session(session.id).await?.unwrap().last_seen_at, seen + 500);
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
        .bind(seen)
        .bind(session.id)
        .execute(s.pool())
        .await?;

    // sessions_of_user: the user's live sessions, newest first.
    let bobs = s.create_session(&browser(&bob, 600, t0 + 3600)).await?;
    assert_eq!(
        session_ids(&s.sessions_of_user(alice.id).await?),
        [lasting.id, other.session.id, session.id]
    );
    assert_eq!(session_ids(&s.sessions_of_user(bob.id).await?), [bobs.session.id]);
    // An idle one is left out though its row is still there.
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
        .bind(t0 - 601)
        .bind(other.session.id)
        .execute(s.pool())
        .await?;
    assert_eq!(
        session_ids(&s.sessions_of_user(alice.id).await?),
        [lasting.id, session.id]
    );
    let idle = s
        .session_by_secret(&other.secret)
        .await?
        .expect("an idle session is still found");
    assert!(!idle.live(now()));

    // A session past its absolute expiry: found (the caller decides), not live, not listed,
    // and deleted when the next session is created.
    let old = s.create_session(&browser(&alice, 0, t0 - 1)).await?;
    let found = s
        .session_by_secret(&old.secret)
        .await?
        .expect("an expired session is still found");
    assert!(!found.live(now()));
    assert!(!session_ids(&s.sessions_of_user(alice.id).await?).contains(&old.session.id));
    s.create_session(&browser(&bob, 600, t0 + 3600)).await?;
    assert_eq!(
        s.session(old.session.id).await?,
        None,
        "expired sessions are cleaned up"
    );
    assert!(s.session(session.id).await?.is_some());

    // The org and team a session works in.
    s.set_session_context(session.id, Some("acme"), Some("vision")).await?;
    let switched = s.session(session.id).await?.unwrap();
    assert_eq!(
        (switched.context_org.as_deref(), switched.context_team.as_deref()),
        (Some("acme"), Some("vision"))
    );
    s.set_session_context(session.id, Some("acme"), None).await?;
    assert_eq!(s.session(session.id).await?.unwrap().context_team, None);

    // Ending: once; its secret no longer names anything; others stay.
    assert!(s.end_session(session.id).await?);
    assert!(!s.end_session(session.id).await?);
    assert_eq!(s.session_by_secret(&first.secret).await?, None);
    assert_eq!(session_ids(&s.sessions_of_user(alice.id).await?), [lasting.id]);
    assert_eq!(s.sessions_of_user(bob.id).await?.len(), 2);
    assert!(!s.end_session(i64::MAX).await?);
    Ok(())
}

async fn device_logins(db: Db) -> Result<()> {
    let s = &db.store;
    let alice = new_user(&db, "alice@example.com").await?;
    let bob = new_user(&db, "bob@example.com").await?;
    let t0 = now();

    let waiting = s.create_session(&device_login("198.51.100.7", t0 + 900)).await?;
    assert!(waiting.secret.starts_with("hgdev-"), "{}", waiting.secret);
    let code = waiting
        .approval_code
        .clone()
        .expect("a waiting login has an approval code");
    assert!(code.len() >= 32 && code != waiting.secret, "{code}");
    let login = &waiting.session;
    assert_eq!(
        (login.kind, login.user_id, login.approved_at),
        (SessionKind::Device, None, None)
    );
    assert_eq!(
        (login.device_id.as_str(), login.requested_email.as_str()),
        ("device-1", "someone@example.com")
    );
    // Only the code's hash is stored.
    let stored: String = sqlx::query_scalar("SELECT approval_hash FROM sessions WHERE id = $1")
        .bind(login.id)
        .fetch_one(s.pool())
        .await?;
    assert!(!stored.contains(&code[..]));
    assert_eq!(s.session_by_approval(&code).await?.as_ref(), Some(login));
    assert_eq!(s.session_by_approval(&stored).await?, None);
    assert_eq!(s.session_by_approval(&waiting.secret).await?, None);
    assert_eq!(s.session_by_approval("").await?, None);
    // A login nobody approved belongs to nobody.
    assert!(s.sessions_of_user(alice.id).await?.is_empty());
    assert_eq!(s.waiting_device_logins("198.51.100.7").await?, 1);
    assert_eq!(s.waiting_device_logins("198.51.100.8").await?, 0);

    // Approval: once only, and the code is spent.
    let until = t0 + 86_400;
    assert!(s.approve_device_session(login.id, alice.id, until).await?);
    assert!(!s.approve_device_session(login.id, bob.id, until + 1).await?);
    let approved = s.session_by_secret(&waiting.secret).await?.unwrap();
    assert_eq!((approved.user_id, approved.expires_at), (Some(alice.id), until));
    assert!(approved.approved_at.is_some_and(|t| (t - t0).abs() < 60));
    assert!(approved.live(now()));
    assert_eq!(s.session_by_approval(&code).await?, None);
    assert_eq!(session_ids(&s.sessions_of_user(alice.id).await?), [login.id]);
    assert!(s.sessions_of_user(bob.id).await?.is_empty());
    assert_eq!(s.waiting_device_logins("198.51.100.7").await?, 0);

    // A waiting login past its approval window cannot be approved.
    let late = s.create_session(&device_login("198.51.100.7", t0 - 1)).await?;
    assert!(!s.approve_device_session(late.session.id, alice.id, until).await?);
    let still = s.session(late.session.id).await?.unwrap();
    assert_eq!((still.user_id, still.approved_at), (None, None));
    assert_eq!(
        s.waiting_device_logins("198.51.100.7").await?,
        0,
        "expired ones do not count"
    );
    assert_eq!(session_ids(&s.sessions_of_user(alice.id).await?), [login.id]);

    // A denied login: once, never approved afterwards, its code spent, known as denied by
    // its key; nor is an approved or ended one denied.
    let denied = s.create_session(&device_login("198.51.100.7", t0 + 900)).await?;
    assert!(s.deny_device_session(denied.session.id).await?);
    assert!(!s.deny_device_session(denied.session.id).await?);
    assert!(!s.approve_device_session(denied.session.id, alice.id, until).await?);
    let refused = s
        .session_by_secret(&denied.secret)
        .await?
        .expect("a denied login is kept");
    assert_eq!(refused.user_id, None);
    assert!(refused.denied_at.is_some_and(|t| (t - t0).abs() < 60));
    assert_eq!(
        s.waiting_device_logins("198.51.100.7").await?,
        0,
        "denied ones do not wait"
    );
    assert!(
        !s.deny_device_session(login.id).await?,
        "an approved login is not denied"
    );
    assert_eq!(s.session_by_secret(&waiting.secret).await?.unwrap().denied_at, None);
    assert!(!s.deny_device_session(late.session.id).await?, "nor an expired one");
    assert_eq!(
        s.session_by_approval(denied.approval_code.as_deref().unwrap()).await?,
        None
    );
    // An ended login cannot be approved either.
    let ended = s.create_session(&device_login("198.51.100.7", t0 + 900)).await?;
    assert!(s.end_session(ended.session.id).await?);
    assert!(!s.approve_device_session(ended.session.id, alice.id, until).await?);
    assert_eq!(
        s.session_by_approval(ended.approval_code.as_deref().unwrap()).await?,
        None
    );

    // A device session made for a known user is approved from the start and has no code.
    let direct = s
        .create_session(&NewSession {
            user_id: Some(bob.id),
            ..device_login("198.51.100.9", t0 + 900)
        })
        .await?;
    assert_eq!(direct.approval_code, None);
    assert!(direct.session.approved_at.is_some());
    assert_eq!(s.waiting_device_logins("198.51.100.9").await?, 0);
    Ok(())
}

async fn password_links(db: Db) -> Result<()> {
    let s = &db.store;
    let alice = new_user(&db, "alice@example.com").await?;
    let bob = new_user(&db, "bob@example.com").await?;
    let t0 = now();
    let account = s.account(alice.id).await?.expect("alice's account");
    assert_eq!(
        (account.user.clone(), account.password_hash, account.terms_accepted_at),
        (alice.clone(), None, None)
    );
    assert_eq!(
        s.account_by_email("alice@example.com").await?.map(|a| a.user),
        Some(alice.clone())
    );
    assert_eq!(s.account_by_email("nobody@example.com").await?, None);
    assert_eq!(s.account(i64::MAX).await?, None);

    // A link with its mail in the outbox, in one go; only the token's hash is stored.
    let (link, token) = s
        .create_password_link(
            alice.id,
            PasswordPurpose::Reset,
            Some(bob.id),
            t0 + 3600,
            Some(Box::new(|token: &str| {
                ("reset".to_string(), format!("use /password/{token}"))
            })),
        )
        .await?;
    assert!(token.starts_with("hgpw-") && token.len() > 30, "{token}");
    assert_eq!(
        (
            link.user_id,
            link.purpose,
            link.created_by,
            link.expires_at,
            link.used_at
        ),
        (alice.id, PasswordPurpose::Reset, Some(bob.id), t0 + 3600, None)
    );
    assert!(link.usable(t0) && !link.usable(t0 + 3600));
    assert_eq!(s.password_link(&token).await?.as_ref(), Some(&link));
    let outbox = s.outbox(10).await?;
    assert_eq!(
        (outbox[0].recipient.as_str(), outbox[0].body.clone()),
        ("alice@example.com", format!("use /password/{token}"))
    );
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM password_links WHERE id = $1")
        .bind(link.id)
        .fetch_one(s.pool())
        .await?;
    assert!(!stored.contains(&token[..]));
    assert_eq!(s.password_link(&stored).await?, None);

    // A newer link of the same purpose replaces the unused one.
    let (newer, newer_token) = s
        .create_password_link(alice.id, PasswordPurpose::Reset, None, t0 + 3600, None)
        .await?;
    assert_eq!(s.outbox(10).await?.len(), 1, "no mail asked for, none written");
    assert_eq!(s.password_link(&token).await?, None);
    assert_err!(s.use_password_link(&token, "$argon2id$old").await, Error::NotFound(_));
    assert_eq!(s.account(alice.id).await?.unwrap().password_hash, None);

    // Using a link sets the password and ends every session of the user, no one else's.
    let a1 = s.create_session(&browser(&alice, 600, t0 + 3600)).await?;
    let a2 = s.create_session(&browser(&alice, 600, t0 + 3600)).await?;
    let device = s.create_session(&device_login("198.51.100.7", t0 + 900)).await?;
    assert!(s.approve_device_session(device.session.id, alice.id, t0 + 3600).await?);
    let b1 = s.create_session(&browser(&bob, 600, t0 + 3600)).await?;
    assert_eq!(s.sessions_of_user(alice.id).await?.len(), 3);
    let user = s.use_password_link(&newer_token, "$argon2id$first").await?;
    assert_eq!(user.id, alice.id);
    assert_eq!(
        s.account(alice.id).await?.unwrap().password_hash.as_deref(),
        Some("$argon2id$first")
    );
    assert!(s.sessions_of_user(alice.id).await?.is_empty());
    for gone in [&a1, &a2, &device] {
        assert_eq!(s.session_by_secret(&gone.secret).await?, None);
    }
    assert_eq!(session_ids(&s.sessions_of_user(bob.id).await?), [b1.session.id]);
    // Once only; the used link stays as a record.
    let used = s.password_link(&newer_token).await?.expect("a used link is kept");
    assert!(used.used_at.is_some_and(|t| (t - t0).abs() < 60));
    assert!(!used.usable(now()));
    assert_eq!(used.id, newer.id);
    assert_err!(
        s.use_password_link(&newer_token, "$argon2id$second").await,
        Error::Invalid(_)
    );
    assert_eq!(
        s.account(alice.id).await?.unwrap().password_hash.as_deref(),
        Some("$argon2id$first")
    );
    // A new link does not remove a used one.
    s.create_password_link(alice.id, PasswordPurpose::Reset, None, t0 + 3600, None)
        .await?;
    assert!(s.password_link(&newer_token).await?.is_some());

    // An expired link sets nothing and ends nothing.
    let (_, expired) = s
        .create_password_link(bob.id, PasswordPurpose::Setup, None, t0 - 1, None)
        .await?;
    assert!(!s.password_link(&expired).await?.unwrap().usable(now()));
    assert_err!(s.use_password_link(&expired, "$argon2id$late").await, Error::Invalid(_));
    assert_eq!(s.account(bob.id).await?.unwrap().password_hash, None);
    assert_eq!(session_ids(&s.sessions_of_user(bob.id).await?), [b1.session.id]);
    assert!(s.password_link(&expired).await?.unwrap().used_at.is_none());
    assert_err!(
        s.use_password_link("hgpw-unknown", "$argon2id$x").await,
        Error::NotFound(_)
    );
    assert_err!(s.use_password_link("", "$argon2id$x").await, Error::NotFound(_));

    // set_password (a signed-in change) keeps only the session that made it.
    let keep = s.create_session(&browser(&alice, 600, t0 + 3600)).await?;
    let other = s.create_session(&browser(&alice, 600, t0 + 3600)).await?;
    let (_, sent_before) = s
        .create_password_link(alice.id, PasswordPurpose::Reset, None, t0 + 3600, None)
        .await?;
    s.set_password(alice.id, "$argon2id$changed", Some(keep.session.id))
        .await?;
    // A link sent before the change cannot undo it.
    assert_eq!(s.password_link(&sent_before).await?, None);
    assert_eq!(
        s.account(alice.id).await?.unwrap().password_hash.as_deref(),
        Some("$argon2id$changed")
    );
    assert_eq!(session_ids(&s.sessions_of_user(alice.id).await?), [keep.session.id]);
    assert_eq!(s.session_by_secret(&other.secret).await?, None);
    assert_eq!(session_ids(&s.sessions_of_user(bob.id).await?), [b1.session.id]);
    s.set_password(alice.id, "$argon2id$again", None).await?;
    assert!(s.sessions_of_user(alice.id).await?.is_empty());

    // Terms are accepted once: the first time is kept.
    s.accept_terms(bob.id).await?;
    let accepted = s.account(bob.id).await?.unwrap().terms_accepted_at.expect("accepted");
    sqlx::query("UPDATE users SET terms_accepted_at = $1 WHERE id = $2")
        .bind(accepted - 1000)
        .bind(bob.id)
        .execute(s.pool())
        .await?;
    s.accept_terms(bob.id).await?;
    assert_eq!(
        s.account(bob.id).await?.unwrap().terms_accepted_at,
        Some(accepted - 1000)
    );
    // The context a user last chose.
    s.set_user_context(bob.id, Some("acme"), Some("vision")).await?;
    let bob_account = s.account(bob.id).await?.unwrap();
    assert_eq!(
        (bob_account.context_org.as_deref(), bob_account.context_team.as_deref()),
        (Some("acme"), Some("vision"))
    );
    Ok(())
}

/// The sign-in throttle as the server uses it: blocked from the third failure on, for 30 s
/// and then 30 s more for each further failure.
fn block_from_third(failures: i64) -> Option<i64> {
    (failures >= 3).then_some(30 * (failures - 2))
}

/// A counted attempt whose block (if any) ends `seconds` after `t0`, give or take the time
/// the test took.
fn counted(attempt: SignInAttempt, failures: i64, seconds: Option<i64>, t0: i64) {
    match attempt {
        SignInAttempt::Counted {
            failures: f,
            blocked_until,
        } => {
            assert_eq!(f, failures, "{attempt:?}");
            match (blocked_until, seconds) {
                (None, None) => {}
                (Some(until), Some(s)) => assert!((0..=5).contains(&(until - t0 - s)), "{attempt:?}"),
                _ => panic!("expected a block of {seconds:?} s: {attempt:?}"),
            }
        }
        SignInAttempt::Blocked(_) => panic!("expected {failures} counted failures: {attempt:?}"),
    }
}

/// Moves a subject's throttle window or block in time, as time passing would.
async fn set_throttle_times(
    db: &Db,
    subject: &str,
    window_start: Option<i64>,
    blocked_until: Option<i64>,
) -> Result<()> {
    sqlx::query(
        "UPDATE sign_in_failures SET window_start = COALESCE($1, window_start), \
         blocked_until = COALESCE($2, blocked_until) WHERE subject = $3",
    )
    .bind(window_start)
    .bind(blocked_until)
    .bind(subject)
    .execute(db.store.pool())
    .await?;
    Ok(())
}

async fn sign_in_failures(db: Db) -> Result<()> {
    let s = &db.store;
    let attempt = |subject| s.begin_sign_in_attempt(subject, 900, block_from_third);
    let (alice, address) = ("account:alice@example.com", "address:192.0.2.1");
    let t0 = now();
    counted(attempt(alice).await?, 1, None, t0);
    counted(attempt(alice).await?, 2, None, t0);
    counted(attempt(address).await?, 1, None, t0);

    // The attempt that reaches the limit blocks at once; while blocked, attempts are not counted.
    let third = attempt(alice).await?;
    counted(third, 3, Some(30), t0);
    let SignInAttempt::Counted {
        blocked_until: Some(until),
        ..
    } = third
    else {
        unreachable!()
    };
    for _ in 0..2 {
        assert_eq!(attempt(alice).await?, SignInAttempt::Blocked(until));
    }
    counted(attempt(address).await?, 2, None, t0);

    // A right password takes its attempt back: one failure fewer, and its block lifted.
    s.take_back_sign_in_attempt(alice, third).await?;
    let again = attempt(alice).await?;
    counted(again, 3, Some(30), t0);
    // Only the block the attempt set; taking back a refused attempt changes nothing.
    let stale = SignInAttempt::Counted {
        failures: 1,
        blocked_until: Some(1),
    };
    s.take_back_sign_in_attempt(alice, stale).await?;
    assert!(matches!(attempt(alice).await?, SignInAttempt::Blocked(_)));
    s.take_back_sign_in_attempt(alice, SignInAttempt::Blocked(until))
        .await?;
    s.take_back_sign_in_attempt("account:nobody", again).await?;
    let row = sqlx::query("SELECT failures, blocked_until FROM sign_in_failures WHERE subject = $1")
        .bind(alice)
        .fetch_one(s.pool())
        .await?;
    assert_eq!(row.try_get::<i64, _>("failures")?, 2, "3 counted, one taken back");
    assert!(row.try_get::<i64, _>("blocked_until")? > t0);

    // A block that ran out lets one attempt in, which blocks for longer.
    set_throttle_times(&db, alice, None, Some(t0 - 1)).await?;
    counted(attempt(alice).await?, 3, Some(30), t0);
    set_throttle_times(&db, alice, None, Some(t0 - 1)).await?;
    counted(attempt(alice).await?, 4, Some(60), t0);

    // A window older than `window` seconds starts again at 1.
    set_throttle_times(&db, alice, Some(t0 - 901), Some(0)).await?;
    counted(attempt(alice).await?, 1, None, t0);
    counted(attempt(alice).await?, 2, None, t0);
    set_throttle_times(&db, alice, Some(t0 - 899), None).await?;
    counted(attempt(alice).await?, 3, Some(30), t0);

    // A success forgets the subject's failures and its block.
    s.clear_sign_in_failures(alice).await?;
    counted(attempt(alice).await?, 1, None, t0);
    counted(attempt(address).await?, 3, Some(30), t0);

    // Attempts sent at once pass one at a time: the one that reaches the limit stops the rest.
    let burst = "address:203.0.113.5";
    let attempts = join_all((0..12).map(|_| attempt(burst))).await;
    let attempts = attempts.into_iter().collect::<hangar_store::Result<Vec<_>>>()?;
    let mut failures: Vec<i64> = attempts
        .iter()
        .filter_map(|a| match a {
            SignInAttempt::Counted { failures, .. } => Some(*failures),
            SignInAttempt::Blocked(_) => None,
        })
        .collect();
    failures.sort();
    assert_eq!(failures, [1, 2, 3], "{attempts:?}");
    Ok(())
}

async fn invitation_sets_first_password_and_terms(db: Db) -> Result<()> {
    let s = &db.store;
    let acme = new_org(&db, "acme").await?;
    let in_an_hour = now() + 3600;
    let reader = [(Role::RegistryRead, None)];
    let invite = |email: &'static str, expires_at: i64| {
        let new = invitation(&acme, email, &reader, expires_at);
        async move { s.create_invitation(&new, mail(email)).await }
    };

    // A new user gets the first password and the accepted terms with the account.
    let (_, token) = invite("new@example.com", in_an_hour).await?;
    let (_, new) = s
        .accept_invitation(&token, Some("New"), Some("$argon2id$new"), true)
        .await?;
    let account = s.account(new.id).await?.unwrap();
    assert_eq!(account.password_hash.as_deref(), Some("$argon2id$new"));
    assert!(account.terms_accepted_at.is_some_and(|t| (t - now()).abs() < 60));

    // Without them, neither is set.
    let (_, token) = invite("plain@example.com", in_an_hour).await?;
    let (_, plain) = s.accept_invitation(&token, None, None, false).await?;
    let account = s.account(plain.id).await?.unwrap();
    assert_eq!((account.password_hash, account.terms_accepted_at), (None, None));

    // An existing user without a password gets one; one who has a password keeps it, and
    // accepted terms keep their first time.
    let other = new_org(&db, "other").await?;
    let invite_other = |email: &'static str| {
        let new = invitation(&other, email, &reader, in_an_hour);
        async move { s.create_invitation(&new, mail(email)).await }
    };
    let (_, token) = invite_other("plain@example.com").await?;
    s.accept_invitation(&token, None, Some("$argon2id$plain"), true).await?;
    let account = s.account(plain.id).await?.unwrap();
    assert_eq!(account.password_hash.as_deref(), Some("$argon2id$plain"));
    assert!(account.terms_accepted_at.is_some());
    sqlx::query("UPDATE users SET terms_accepted_at = 1000 WHERE id = $1")
        .bind(new.id)
        .execute(s.pool())
        .await?;
    let (_, token) = invite_other("new@example.com").await?;
    s.accept_invitation(&token, None, Some("$argon2id$attacker"), true)
        .await?;
    let account = s.account(new.id).await?.unwrap();
    assert_eq!(
        (account.password_hash.as_deref(), account.terms_accepted_at),
        (Some("$argon2id$new"), Some(1000))
    );
    assert_eq!(grants(&db, &new).await?.len(), 2, "joined all the same");

    // A refused acceptance sets nothing.
    let lonely = new_user(&db, "lonely@example.com").await?;
    let (_, late) = invite("lonely@example.com", now() - 10).await?;
    assert_err!(
        s.accept_invitation(&late, None, Some("$argon2id$late"), true).await,
        Error::Invalid(_)
    );
    let account = s.account(lonely.id).await?.unwrap();
    assert_eq!((account.password_hash, account.terms_accepted_at), (None, None));

    // What the invitation page shows: a token names its invitation, open, used or expired.
    let opened = s
        .invitation_by_token(&late)
        .await?
        .expect("an expired invitation is found");
    assert!(opened.expires_at <= now() && opened.accepted_at.is_none());
    let (used_inv, used) = invite("used@example.com", in_an_hour).await?;
    s.accept_invitation(&used, None, None, false).await?;
    let found = s.invitation_by_token(&used).await?.expect("a used invitation is found");
    assert_eq!(found.id, used_inv.id);
    assert!(found.accepted_at.is_some());
    assert_eq!(s.invitation_by_token("hginv-unknown").await?, None);
    assert_eq!(s.invitation_by_token("").await?, None);
    Ok(())
}
