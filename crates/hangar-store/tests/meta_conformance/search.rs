//! Search cases of the conformance suite (`MetaStore::search`): ranking, globs, filters, facets,
//! pages, visibility, and the index following every write without being told.

use super::{Db, new_org};
use anyhow::{Context, Result};
use hangar_core::access::AccessLevel;
use hangar_store::meta::{
    Artifact, ArtifactType, EntityKey, HolderKind, ImageSignature, MetaStore, NewArtifact, NewManifest, Org, Place,
    PrivateScope, RepositoryInfo, SearchPage, SearchRequest, Sort, Viewer, now,
};
use serde_json::{Value, json};

/// A model (or other artifact kind) with `metadata` at `access`.
async fn entity(
    db: &Db,
    kind: ArtifactType,
    org: &Org,
    team: Option<i64>,
    path: &str,
    metadata: Value,
    access: AccessLevel,
) -> Result<Artifact> {
    let name = path.rsplit('/').next().context("a path")?;
    let created = db
        .store
        .create_artifact(&NewArtifact {
            kind,
            org_id: org.id,
            team_id: team,
            path,
            name,
            created_by: None,
            metadata: &metadata,
        })
        .await?;
    db.store.update_artifact(created.id, &metadata, access).await?;
    Ok(created)
}

async fn model(db: &Db, org: &Org, path: &str, metadata: Value, access: AccessLevel) -> Result<Artifact> {
    entity(db, ArtifactType::Model, org, None, path, metadata, access).await
}

/// A search of `kind` in the whole catalog by someone who sees everything, sorted by path.
fn request(kind: &str) -> SearchRequest {
    SearchRequest {
        kind: kind.into(),
        text: None,
        resource_glob: None,
        filters: vec![],
        place: Place::Catalog,
        viewer: Viewer {
            everything: true,
            ..Viewer::default()
        },
        sort: Sort::Path,
        page: 0,
        page_size: 100,
    }
}

fn text(words: &str) -> SearchRequest {
    SearchRequest {
        text: Some(words.into()),
        sort: Sort::Relevance,
        ..request("MODEL")
    }
}

fn filtered(filters: &[(&str, &[&str])]) -> SearchRequest {
    SearchRequest {
        filters: filters
            .iter()
            .map(|(field, values)| (field.to_string(), values.iter().map(|v| v.to_string()).collect()))
            .collect(),
        ..request("MODEL")
    }
}

fn paths(page: &SearchPage) -> Vec<&str> {
    page.entries.iter().map(|e| e.resource_id.as_str()).collect()
}

/// One facet's counts, most first, `[]` when the field has none.
fn facet<'a>(page: &'a SearchPage, field: &str) -> Vec<(&'a str, i64)> {
    page.facets
        .iter()
        .find(|f| f.field == field)
        .map(|f| f.values.iter().map(|(v, n)| (v.as_str(), *n)).collect())
        .unwrap_or_default()
}

fn attribute<'a>(page: &'a SearchPage, key: &str) -> &'a Value {
    page.entries[0]
        .attributes
        .as_array()
        .and_then(|list| list.iter().find(|a| a["key"] == key))
        .map_or(&Value::Null, |a| &a["value"])
}

/// Name and display name outrank labels, which outrank the description; every word must match,
/// as a prefix; query syntax in the text is only text; other kinds never match.
pub(super) async fn search_ranks_text(db: Db) -> Result<()> {
    let acme = new_org(&db, "acme").await?;
    let guest = AccessLevel::Guest;
    let described = json!({"displayName": "Voice tools", "shortDescription": "speech synthesis and more"});
    model(&db, &acme, "acme/voice", described, guest).await?;
    let named = json!({"displayName": "Speech recognizer", "shortDescription": "turns audio into text"});
    model(&db, &acme, "acme/speech-asr", named, guest).await?;
    let labelled = json!({"displayName": "Lab kit", "shortDescription": "tools", "labelsV2": ["speech"]});
    model(&db, &acme, "acme/kit", labelled, guest).await?;
    let other = json!({"displayName": "Detector", "shortDescription": "object detection"});
    model(&db, &acme, "acme/vision", other, guest).await?;
    let resource = json!({"displayName": "Speech kit"});
    entity(
        &db,
        ArtifactType::Resource,
        &acme,
        None,
        "acme/speech-kit",
        resource,
        guest,
    )
    .await?;

    let page = db.store.search(&text("speech")).await?;
    assert_eq!(paths(&page), ["acme/speech-asr", "acme/kit", "acme/voice"]);
    assert_eq!(page.total, 3);
    assert_eq!(
        paths(&db.store.search(&text("SPEE")).await?).len(),
        3,
        "a prefix matches"
    );
    assert_eq!(
        paths(&db.store.search(&text("speech audio")).await?),
        ["acme/speech-asr"],
        "every word must match"
    );
    for syntax in ["speech\"*", "speech OR vision", "name:speech", "(speech", "-speech"] {
        let page = db.store.search(&text(syntax)).await?;
        assert!(!paths(&page).contains(&"acme/vision"), "{syntax}: {:?}", paths(&page));
    }
    assert_eq!(
        db.store.search(&text("\"* :")).await?.total,
        4,
        "no words: no text condition"
    );
    let resources = SearchRequest {
        kind: "RESOURCE".into(),
        ..text("speech")
    };
    assert_eq!(paths(&db.store.search(&resources).await?), ["acme/speech-kit"]);
    Ok(())
}

/// `resourceId` globs: `*` any run, `?` one character, SQL wildcards only themselves.
pub(super) async fn search_globs(db: Db) -> Result<()> {
    let acme = new_org(&db, "acme").await?;
    let other = new_org(&db, "other").await?;
    let team = db.store.create_team(acme.id, "vision", "").await?;
    let guest = AccessLevel::Guest;
    for path in ["acme/det", "acme/set", "acme/a_b", "acme/axb", "acme/a%b"] {
        model(&db, &acme, path, json!({}), guest).await?;
    }
    entity(
        &db,
        ArtifactType::Model,
        &acme,
        Some(team.id),
        "acme/vision/seg",
        json!({}),
        guest,
    )
    .await?;
    model(&db, &other, "other/det", json!({}), guest).await?;
    let glob = |glob: &str| SearchRequest {
        resource_glob: Some(glob.into()),
        ..request("MODEL")
    };
    let found = |page: SearchPage| paths(&page).into_iter().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(
        found(db.store.search(&glob("acme/*")).await?),
        [
            "acme/a%b",
            "acme/a_b",
            "acme/axb",
            "acme/det",
            "acme/set",
            "acme/vision/seg"
        ]
    );
    assert_eq!(
        found(db.store.search(&glob("acme/?et")).await?),
        ["acme/det", "acme/set"]
    );
    assert_eq!(found(db.store.search(&glob("*/det")).await?), ["acme/det", "other/det"]);
    assert_eq!(found(db.store.search(&glob("acme/a_b")).await?), ["acme/a_b"]);
    assert_eq!(found(db.store.search(&glob("acme/a%b")).await?), ["acme/a%b"]);
    assert_eq!(
        found(db.store.search(&glob("acme/vision/*")).await?),
        ["acme/vision/seg"]
    );
    assert_eq!(db.store.search(&glob("*")).await?.total, 7);
    Ok(())
}

/// Filters keep entries with any of a field's values, all fields at once; each field's facet
/// counts apply every filter but its own.
pub(super) async fn search_filters_and_facets(db: Db) -> Result<()> {
    let acme = new_org(&db, "acme").await?;
    let guest = AccessLevel::Guest;
    let meta = |framework: &str, precision: &str, labels: &[&str]| {
        let labels: Vec<&str> = labels.to_vec();
        json!({"framework": framework, "precision": precision, "labelsV2": labels, "publisher": "NVIDIA"})
    };
    model(&db, &acme, "acme/a", meta("PyTorch", "FP16", &["nlp"]), guest).await?;
    model(&db, &acme, "acme/b", meta("PyTorch", "FP32", &["nlp", "vision"]), guest).await?;
    let c = meta("TensorFlow", "FP16", &["vision"]);
    model(&db, &acme, "acme/c", c, AccessLevel::Authenticated).await?;
    model(&db, &acme, "acme/d", meta("NeMo", "FP16", &[]), guest).await?;

    let page = db.store.search(&request("MODEL")).await?;
    assert_eq!(page.total, 4);
    assert_eq!(facet(&page, "precision"), [("FP16", 3), ("FP32", 1)]);
    assert_eq!(facet(&page, "publisher"), [("NVIDIA", 4)]);
    assert_eq!(facet(&page, "accessLevel"), [("GUEST", 3), ("AUTHENTICATED", 1)]);
    assert_eq!(facet(&page, "signed"), [("false", 4)]);

    let page = db.store.search(&filtered(&[("framework", &["PyTorch"])])).await?;
    assert_eq!((page.total, paths(&page)), (2, vec!["acme/a", "acme/b"]));
    assert_eq!(
        facet(&page, "framework"),
        [("PyTorch", 2), ("NeMo", 1), ("TensorFlow", 1)],
        "its own filter does not apply"
    );
    assert_eq!(facet(&page, "precision"), [("FP16", 1), ("FP32", 1)]);
    assert_eq!(facet(&page, "labels"), [("nlp", 2), ("vision", 1)]);

    let both = filtered(&[("framework", &["PyTorch"]), ("precision", &["FP16"])]);
    let page = db.store.search(&both).await?;
    assert_eq!(paths(&page), ["acme/a"]);
    assert_eq!(
        facet(&page, "framework"),
        [("NeMo", 1), ("PyTorch", 1), ("TensorFlow", 1)]
    );
    assert_eq!(facet(&page, "precision"), [("FP16", 1), ("FP32", 1)]);
    assert_eq!(facet(&page, "labels"), [("nlp", 1)]);

    let any = filtered(&[("framework", &["TensorFlow", "NeMo"])]);
    assert_eq!(paths(&db.store.search(&any).await?), ["acme/c", "acme/d"]);
    let labelled = filtered(&[("labels", &["vision"]), ("accessLevel", &["GUEST"])]);
    assert_eq!(paths(&db.store.search(&labelled).await?), ["acme/b"]);
    let page = db.store.search(&filtered(&[("framework", &["JAX"])])).await?;
    assert_eq!((page.total, page.entries.len()), (0, 0));
    assert_eq!(facet(&page, "framework").len(), 3, "the field's own values still show");
    let page = db.store.search(&filtered(&[("framework", &[])])).await?;
    assert_eq!(page.total, 4, "a filter with no values filters nothing");

    // Text and filters together; the facets are under the text too.
    let mut both = filtered(&[("precision", &["FP16"])]);
    both.text = Some("vision".into());
    let page = db.store.search(&both).await?;
    assert_eq!(paths(&page), ["acme/c"]);
    assert_eq!(facet(&page, "precision"), [("FP16", 1), ("FP32", 1)]);
    Ok(())
}

/// Pages are stable: ties break by entry id, so pages never repeat or skip an entry.
pub(super) async fn search_pages_and_sorting(db: Db) -> Result<()> {
    let acme = new_org(&db, "acme").await?;
    let mut created = vec![];
    for name in ["m3", "m0", "m6", "m1", "m5", "m2", "m4"] {
        let meta = json!({"shortDescription": "same words"});
        created.push(model(&db, &acme, &format!("acme/{name}"), meta, AccessLevel::Guest).await?);
    }
    let in_order = |names: &[&str]| names.iter().map(|n| format!("acme/{n}")).collect::<Vec<_>>();
    let all_pages = |request: SearchRequest| {
        let db = db.clone();
        async move {
            let mut seen = vec![];
            for page in 0..4 {
                let request = SearchRequest {
                    page,
                    page_size: 3,
                    ..request.clone()
                };
                let found = db.store.search(&request).await?;
                assert_eq!(found.total, 7);
                seen.extend(found.entries.into_iter().map(|e| e.resource_id));
            }
            anyhow::Ok(seen)
        }
    };
    // Equal relevance: by id, that is in order of creation.
    let by_creation = in_order(&["m3", "m0", "m6", "m1", "m5", "m2", "m4"]);
    assert_eq!(all_pages(text("same")).await?, by_creation);
    let by_name = SearchRequest {
        sort: Sort::Name,
        ..text("words")
    };
    assert_eq!(
        all_pages(by_name).await?,
        in_order(&["m0", "m1", "m2", "m3", "m4", "m5", "m6"])
    );
    // Most recently modified first, then by id (the times set, as creation may span seconds).
    sqlx::query("UPDATE artifacts SET updated_at = CASE WHEN id = $1 THEN 2000 ELSE 1000 END")
        .bind(created[4].id)
        .execute(db.store.pool())
        .await?;
    let by_modified = SearchRequest {
        sort: Sort::Modified,
        ..request("MODEL")
    };
    let mut expected = in_order(&["m5", "m3", "m0", "m6", "m1", "m2", "m4"]);
    assert_eq!(all_pages(by_modified).await?, expected);
    // The page past the end is empty but keeps the total and the facets.
    let past = SearchRequest {
        page: 5,
        page_size: 3,
        ..request("MODEL")
    };
    let page = db.store.search(&past).await?;
    assert_eq!(
        (page.total, page.entries.len(), facet(&page, "accessLevel")),
        (7, 0, vec![("GUEST", 7)])
    );
    expected.sort();
    assert_eq!(all_pages(request("MODEL")).await?, expected, "by path");
    Ok(())
}

/// Results and every count hold only what the viewer may see: listed levels for everyone,
/// exclusive ones to subscribers of a live subscription, private ones in the viewer's scopes.
pub(super) async fn search_visibility(db: Db) -> Result<()> {
    let acme = new_org(&db, "acme").await?;
    let other = new_org(&db, "other").await?;
    let subs = new_org(&db, "subs").await?;
    let lapsed = new_org(&db, "lapsed").await?;
    let vision = db.store.create_team(acme.id, "vision", "").await?;
    let p = db.store.create_product("p", "P", "").await?;
    let q = db.store.create_product("q", "Q", "").await?;
    db.store.subscribe(subs.id, p.id, None).await?;
    db.store.subscribe(lapsed.id, q.id, Some(now() - 10)).await?;
    db.store.subscribe(lapsed.id, p.id, Some(now() + 3600)).await?;
    db.store.unsubscribe(lapsed.id, p.id).await?;
    let meta = || json!({"framework": "PyTorch", "displayName": "A model"});
    use AccessLevel::*;
    let entities = [
        (&acme, None, "acme/guest", Guest, None),
        (&acme, None, "acme/private", Private, None),
        (&acme, Some(vision.id), "acme/vision/secret", Private, None),
        (&acme, None, "acme/exclusive", Exclusive, Some("p")),
        (&other, None, "other/exclusive", Exclusive, Some("q")),
        (&other, None, "other/entitled", Entitled, Some("p")),
        (&other, None, "other/approval", Approval, None),
        (&other, None, "other/private", Private, None),
    ];
    for (org, team, path, access, product) in entities {
        let made = entity(&db, ArtifactType::Model, org, team, path, meta(), access).await?;
        if let Some(product) = product {
            let key = EntityKey {
                kind: HolderKind::Artifact(ArtifactType::Model),
                id: made.id,
            };
            db.store.set_entity_products(key, &[product.to_string()]).await?;
        }
    }
    let scope = |org: &str, team: Option<&str>, entity: Option<&str>| PrivateScope {
        org: org.into(),
        team: team.map(str::to_string),
        entity: entity.map(str::to_string),
    };
    let viewer = |orgs: &[&str], scopes: Vec<PrivateScope>| Viewer {
        everything: false,
        subscribing_orgs: orgs.iter().map(|o| o.to_string()).collect(),
        scopes,
    };
    let listed = ["acme/guest", "other/approval", "other/entitled"];
    let cases: Vec<(&str, Viewer, Place, Vec<&str>)> = vec![
        ("guest", Viewer::default(), Place::Catalog, listed.to_vec()),
        (
            "subscriber",
            viewer(&["subs"], vec![]),
            Place::Catalog,
            vec!["acme/exclusive", "acme/guest", "other/approval", "other/entitled"],
        ),
        (
            "lapsed subscriber",
            viewer(&["lapsed"], vec![]),
            Place::Catalog,
            listed.to_vec(),
        ),
        (
            "acme member",
            viewer(&[], vec![scope("acme", None, None)]),
            Place::Catalog,
            vec![
                "acme/exclusive",
                "acme/guest",
                "acme/private",
                "acme/vision/secret",
                "other/approval",
                "other/entitled",
            ],
        ),
        (
            "vision team member",
            viewer(&[], vec![scope("acme", Some("vision"), None)]),
            Place::Catalog,
            vec!["acme/guest", "acme/vision/secret", "other/approval", "other/entitled"],
        ),
        (
            "key for one entity",
            viewer(&[], vec![scope("acme", None, Some("acme/private"))]),
            Place::Catalog,
            vec!["acme/guest", "acme/private", "other/approval", "other/entitled"],
        ),
        (
            "guest in acme",
            Viewer::default(),
            Place::Org {
                org: "acme".into(),
                team: None,
            },
            vec!["acme/guest"],
        ),
        (
            "acme member in acme/vision",
            viewer(&[], vec![scope("acme", None, None)]),
            Place::Org {
                org: "acme".into(),
                team: Some("vision".into()),
            },
            vec!["acme/exclusive", "acme/guest", "acme/private", "acme/vision/secret"],
        ),
        (
            "subscriber's subscriptions",
            viewer(&["subs"], vec![]),
            Place::Subscribed,
            vec!["acme/exclusive", "other/entitled"],
        ),
        (
            "lapsed subscriber's subscriptions",
            viewer(&["lapsed"], vec![]),
            Place::Subscribed,
            vec![],
        ),
        ("guest's subscriptions", Viewer::default(), Place::Subscribed, vec![]),
    ];
    for (who, viewer, place, expected) in cases {
        let asked = SearchRequest {
            viewer,
            place,
            ..request("MODEL")
        };
        let page = db.store.search(&asked).await?;
        assert_eq!(paths(&page), expected, "{who}");
        assert_eq!(page.total, expected.len() as i64, "{who}: total");
        let count = expected.len() as i64;
        let counted = |field| facet(&page, field).iter().map(|(_, n)| n).sum::<i64>();
        assert_eq!(
            (counted("framework"), counted("accessLevel")),
            (count, count),
            "{who}: facet counts"
        );
        let products: Vec<(&str, i64)> = facet(&page, "productNames");
        for (product, n) in products {
            let holding = page
                .entries
                .iter()
                .filter(|e| e.products.iter().any(|p| p == product))
                .count();
            assert_eq!(n, holding as i64, "{who}: {product} counts only what it shows");
        }
        // The same with text and a filter: a hidden entity matches neither.
        let narrowed = SearchRequest {
            text: Some("model".into()),
            filters: vec![("framework".into(), vec!["PyTorch".into()])],
            ..asked
        };
        let page = db.store.search(&narrowed).await?;
        let mut found = paths(&page);
        found.sort();
        assert_eq!(found, expected, "{who}, with text and a filter");
    }
    Ok(())
}

/// Every write that changes what an entry shows changes the next search's answer: artifact
/// create/update/delete, access level, versions, products, repository metadata, tags, deletes.
pub(super) async fn search_index_follows_writes(db: Db) -> Result<()> {
    let acme = new_org(&db, "acme").await?;
    db.store.create_product("p", "P", "").await?;
    let guest = |kind: &str, text: &str| SearchRequest {
        text: Some(text.into()),
        viewer: Viewer::default(),
        ..request(kind)
    };
    let made = model(&db, &acme, "acme/follow", json!({}), AccessLevel::Private).await?;
    assert_eq!(db.store.search(&guest("MODEL", "follow")).await?.total, 0);
    let meta = json!({"displayName": "Follower", "framework": "NeMo"});
    db.store.update_artifact(made.id, &meta, AccessLevel::Guest).await?;
    let page = db.store.search(&guest("MODEL", "follower")).await?;
    assert_eq!(
        (paths(&page), page.entries[0].display_name.as_str()),
        (vec!["acme/follow"], "Follower")
    );
    assert_eq!(facet(&page, "framework"), [("NeMo", 1)]);

    let version = db.store.create_version(&made, "1.0", None, &json!({})).await?;
    db.store.complete_version(&made, &version).await?;
    let page = db.store.search(&guest("MODEL", "follower")).await?;
    assert_eq!(attribute(&page, "latestVersionIdStr"), "1.0");
    db.store.delete_version(&made, &version).await?;
    let page = db.store.search(&guest("MODEL", "follower")).await?;
    assert_eq!(attribute(&page, "latestVersionIdStr"), &Value::Null);

    let key = EntityKey {
        kind: HolderKind::Artifact(ArtifactType::Model),
        id: made.id,
    };
    db.store.set_entity_products(key, &["p".into()]).await?;
    let page = db.store.search(&guest("MODEL", "follower")).await?;
    assert_eq!(
        (page.entries[0].products.clone(), facet(&page, "productNames")),
        (vec!["p".to_string()], vec![("p", 1)])
    );
    db.store.update_artifact(made.id, &meta, AccessLevel::Exclusive).await?;
    assert_eq!(db.store.search(&guest("MODEL", "follower")).await?.total, 0);
    db.store.update_artifact(made.id, &meta, AccessLevel::Entitled).await?;
    assert_eq!(db.store.search(&guest("MODEL", "follower")).await?.total, 1);
    db.store.delete_artifact(made.id).await?;
    assert_eq!(db.store.search(&guest("MODEL", "follower")).await?.total, 0);

    let collection = json!({"displayName": "Starter collection"});
    entity(
        &db,
        ArtifactType::Collection,
        &acme,
        None,
        "acme/starter",
        collection,
        AccessLevel::Guest,
    )
    .await?;
    assert_eq!(
        paths(&db.store.search(&guest("COLLECTION", "starter")).await?),
        ["acme/starter"]
    );

    let repository = db.store.ensure_repository(acme.id, None, "acme/app").await?;
    assert_eq!(
        db.store.search(&guest("CONTAINER", "app")).await?.total,
        0,
        "private at first"
    );
    let info = RepositoryInfo {
        display_name: "Web app".into(),
        labels: vec!["web".into()],
        access: AccessLevel::Guest,
        ..RepositoryInfo::default()
    };
    db.store.update_repository_info(repository.id, &info).await?;
    let page = db.store.search(&guest("CONTAINER", "web")).await?;
    assert_eq!(
        (paths(&page), page.entries[0].labels.clone()),
        (vec!["acme/app"], vec!["web".to_string()])
    );
    assert_eq!(attribute(&page, "latestTag"), &Value::Null);
    let manifest = |digest: &'static str| NewManifest {
        digest,
        media_type: "application/vnd.oci.image.manifest.v1+json",
        artifact_type: None,
        subject: None,
        annotations: None,
        content: b"{}",
        references: vec![],
    };
    let image = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    db.store.put_manifest(repository.id, &manifest(image), &["v1"]).await?;
    let page = db.store.search(&guest("CONTAINER", "web")).await?;
    assert_eq!(
        (attribute(&page, "latestTag"), page.entries[0].signed),
        (&json!("v1"), false)
    );
    let signature = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    let signature_tag = format!("{}.sig", image.replace(':', "-"));
    db.store
        .put_manifest(repository.id, &manifest(signature), &[&signature_tag])
        .await?;
    let page = db.store.search(&guest("CONTAINER", "web")).await?;
    assert_eq!(
        (attribute(&page, "latestTag"), page.entries[0].signed),
        (&json!("v1"), false),
        "a signature tag alone signs nothing"
    );
    let mut stored = ImageSignature {
        repository_id: repository.id,
        signature_digest: signature.into(),
        layer: 0,
        subject_digest: image.into(),
        payload: b"{}".to_vec(),
        signature: "c2ln".into(),
        verified_by: None,
        problem: Some("no trusted key verifies it".into()),
        created_at: 1,
    };
    db.store.put_image_signatures(std::slice::from_ref(&stored)).await?;
    let page = db.store.search(&guest("CONTAINER", "web")).await?;
    assert!(!page.entries[0].signed, "an unverified signature is not signed");
    assert!(db.store.is_image_signature(repository.id, signature).await?);
    assert!(!db.store.verified_signed(repository.id, image).await?);
    stored.verified_by = Some("release".into());
    stored.problem = None;
    db.store.put_image_signatures(std::slice::from_ref(&stored)).await?;
    let page = db.store.search(&guest("CONTAINER", "web")).await?;
    assert_eq!(
        (attribute(&page, "latestTag"), page.entries[0].signed),
        (&json!("v1"), true)
    );
    assert_eq!(facet(&page, "signed"), [("true", 1)]);
    assert!(db.store.verified_signed(repository.id, image).await?);
    assert_eq!(db.store.image_signatures(repository.id).await?, vec![stored]);
    db.store.delete_tag(repository.id, "v1").await?;
    let page = db.store.search(&guest("CONTAINER", "web")).await?;
    assert_eq!(
        attribute(&page, "latestTag"),
        &Value::Null,
        "a signature is no latest tag"
    );
    db.store.delete_repository(repository.id).await?;
    assert_eq!(db.store.search(&guest("CONTAINER", "web")).await?.total, 0);
    Ok(())
}

/// Searches refreshing the index while an entity is deleted: no error (SQLite's lock, a
/// PostgreSQL deadlock), and no refresh that read the entity before the delete brings it back.
/// Races are not deterministic; before the fix this failed within a few rounds on both backends.
pub(super) async fn search_refreshes_race_writes(db: Db) -> Result<()> {
    let acme = new_org(&db, "acme").await?;
    let guest = SearchRequest {
        text: Some("ghost".into()),
        viewer: Viewer::default(),
        ..request("MODEL")
    };
    for round in 0..100 {
        let meta = json!({"displayName": format!("ghost {round}")});
        let made = model(&db, &acme, &format!("acme/ghost{round}"), meta, AccessLevel::Guest).await?;
        let mut tasks = vec![];
        for i in 0..6 {
            let (store, guest) = (db.store.clone(), guest.clone());
            tasks.push(tokio::spawn(async move {
                if i == 3 {
                    store.delete_artifact(made.id).await.context("delete")?;
                }
                store.search(&guest).await.context("search")?;
                anyhow::Ok(())
            }));
        }
        for task in tasks {
            task.await?.with_context(|| format!("round {round}"))?;
        }
        let page = db.store.search(&guest).await?;
        assert_eq!(paths(&page), Vec::<&str>::new(), "round {round}: deleted, still found");
    }
    Ok(())
}

/// Each process searches its own in-memory copy of the index: a second store on the same
/// database (another replica) sees what the first writes, updates and removes, at its next
/// search, and a third opened afterwards starts from the current state.
pub(super) async fn search_replicas_see_each_others_writes(db: Db) -> Result<()> {
    let acme = new_org(&db, "acme").await?;
    let replica = MetaStore::open(&db.location).await?;
    let guest = |text: &str| SearchRequest {
        text: Some(text.into()),
        viewer: Viewer::default(),
        ..request("MODEL")
    };
    assert_eq!(replica.search(&guest("shared")).await?.total, 0);
    let first = model(
        &db,
        &acme,
        "acme/shared-one",
        json!({"framework": "NeMo"}),
        AccessLevel::Guest,
    )
    .await?;
    let second = model(
        &db,
        &acme,
        "acme/shared-two",
        json!({"framework": "NeMo"}),
        AccessLevel::Guest,
    )
    .await?;
    let page = replica.search(&guest("shared")).await?;
    assert_eq!(paths(&page), ["acme/shared-one", "acme/shared-two"]);
    assert_eq!(facet(&page, "framework"), [("NeMo", 2)]);

    db.store
        .update_artifact(first.id, &json!({"framework": "PyTorch"}), AccessLevel::Guest)
        .await?;
    db.store.delete_artifact(second.id).await?;
    // The writer's own search refreshes the queued entries; the replica only loads them.
    db.store.search(&guest("shared")).await?;
    let page = replica.search(&guest("shared")).await?;
    assert_eq!(paths(&page), ["acme/shared-one"]);
    assert_eq!(facet(&page, "framework"), [("PyTorch", 1)]);
    // Without the writer searching first, the replica refreshes the queue itself.
    db.store
        .update_artifact(first.id, &json!({}), AccessLevel::Private)
        .await?;
    assert_eq!(replica.search(&guest("shared")).await?.total, 0);

    let third = MetaStore::open(&db.location).await?;
    db.store
        .update_artifact(first.id, &json!({}), AccessLevel::Guest)
        .await?;
    let page = third.search(&guest("shared")).await?;
    assert_eq!(
        (paths(&page), page.facets.iter().any(|f| f.field == "framework")),
        (vec!["acme/shared-one"], false)
    );
    Ok(())
}
