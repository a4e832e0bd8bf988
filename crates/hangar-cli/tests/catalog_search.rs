//! The catalog's search on both backends, over REST and through NVIDIA's `ngc`: free text
//! ranked, filters as NGC sends them, facet counts under the other filters, sorting, stable
//! pages — and a private entity that appears in no result and no count for a caller who may not
//! see it, while its own org sees it.

mod common;

use common::ngc::{Ngc, bundle, column, ngc_paths};
use common::{Api, Auth, Server, Stores, admin_ok, outsider_key};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

/// Name, access level, products, precision, framework, short description.
type Model = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static str,
    &'static str,
);

const MODELS: [Model; 5] = [
    (
        "det",
        "GUEST",
        &[],
        "FP16",
        "PyTorch",
        "object detector for traffic cameras",
    ),
    (
        "seg",
        "AUTHENTICATED",
        &[],
        "FP32",
        "PyTorch",
        "segmentation of traffic scenes",
    ),
    ("asr", "ENTITLED", &["enterprise"], "FP16", "NeMo", "speech recognition"),
    (
        "tts",
        "EXCLUSIVE",
        &["enterprise"],
        "FP16",
        "NeMo",
        "speech synthesis for traffic announcements",
    ),
    (
        "secret",
        "PRIVATE",
        &[],
        "FP16",
        "PyTorch",
        "traffic detector not yet released",
    ),
];

fn q(body: Value) -> String {
    utf8_percent_encode(&body.to_string(), NON_ALPHANUMERIC).to_string()
}

async fn search(api: &Api, auth: &Auth, path: &str, body: Value) -> Value {
    let (status, reply) = api.get(&format!("{path}?q={}", q(body)), auth).await;
    assert_eq!(status, 200, "{reply}");
    reply
}

fn ids(reply: &Value) -> Vec<String> {
    reply["results"][0]["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r["resourceId"].as_str().unwrap().to_string())
        .collect()
}

/// [`ids`] sorted, for results in relevance order.
fn id_set(reply: &Value) -> Vec<String> {
    let mut ids = ids(reply);
    ids.sort();
    ids
}

/// The counts of one facet field: `[(value, count)]`.
fn facet(reply: &Value, field: &str) -> Vec<(String, i64)> {
    let facets = reply["facets"].as_array().expect("facets");
    let Some(found) = facets.iter().find(|f| f["field"] == field) else {
        return vec![];
    };
    found["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["value"].as_str().unwrap().to_string(), v["count"].as_i64().unwrap()))
        .collect()
}

fn counts(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
    pairs.iter().map(|(v, n)| (v.to_string(), *n)).collect()
}

async fn searching(stores: &Stores) {
    let dir = stores.dir.path();
    let (server, ca) = Server::start_tls(stores);
    let api = Api::new(&server.base, Some(ca.ca_pem.as_bytes()));
    let owner = Auth::Bearer(server.key());
    admin_ok(stores, &["product", "create", "enterprise"]);
    for (name, level, products, precision, framework, text) in MODELS {
        let body = json!({
            "name": name, "application": "OTHER", "framework": framework, "precision": precision,
            "modelFormat": "onnx", "shortDescription": text, "publisher": "Acme", "labelsV2": ["edge"],
            "accessType": level, "productNames": products,
        });
        let (status, reply) = api.post("/v2/org/acme/models", &owner, body).await;
        assert_eq!(status, 200, "{reply}");
    }
    let outsider = Auth::Bearer(outsider_key(stores, "beta"));
    let catalog = "/v2/search/catalog/resources/MODEL";

    // Free text and a filter, as a guest: the private model is in no result and no count.
    let traffic = json!({"query": "traffic", "filters": [{"field": "framework", "value": "PyTorch"}]});
    let guest = search(&api, &Auth::None, catalog, traffic.clone()).await;
    assert_eq!(id_set(&guest), ["acme/det", "acme/seg"], "{guest}");
    assert_eq!(guest["resultTotal"], 2);
    assert_eq!(facet(&guest, "precision"), counts(&[("FP16", 1), ("FP32", 1)]));
    // A field's counts apply the other filters, not its own: NeMo's traffic model is exclusive.
    assert_eq!(facet(&guest, "framework"), counts(&[("PyTorch", 2)]));
    assert_eq!(
        facet(&guest, "accessLevel"),
        counts(&[("AUTHENTICATED", 1), ("GUEST", 1)])
    );
    let own = search(&api, &owner, catalog, traffic.clone()).await;
    assert_eq!(
        id_set(&own),
        ["acme/det", "acme/secret", "acme/seg"],
        "its org sees it: {own}"
    );
    assert_eq!(facet(&own, "precision"), counts(&[("FP16", 2), ("FP32", 1)]));
    assert_eq!(facet(&own, "framework"), counts(&[("PyTorch", 3), ("NeMo", 1)]));

    // Ranking: a name match comes before a description match.
    let ranked = search(&api, &owner, catalog, json!({"query": "seg"})).await;
    assert_eq!(ids(&ranked)[0], "acme/seg", "{ranked}");
    let ranked = search(&api, &owner, catalog, json!({"query": "speech"})).await;
    assert_eq!(id_set(&ranked), ["acme/asr", "acme/tts"], "{ranked}");

    // NGC's access types and products.
    for (filter, expected) in [
        (json!({"field": "accessType", "value": "GUEST"}), vec!["acme/det"]),
        (
            json!({"field": "accessType", "value": "LISTED"}),
            vec!["acme/asr", "acme/det", "acme/seg"],
        ),
        (
            json!({"field": "productNames", "value": "enterprise"}),
            vec!["acme/asr"],
        ),
        (
            json!({"field": "precision", "value": ["FP32", "FP16"]}),
            vec!["acme/asr", "acme/det", "acme/seg"],
        ),
        (json!({"field": "signedModels", "value": true}), vec![]),
        (
            json!({"field": "releaseType", "value": "x"}),
            vec!["acme/asr", "acme/det", "acme/seg"],
        ),
    ] {
        let reply = search(&api, &outsider, catalog, json!({"query": "*", "filters": [filter]})).await;
        assert_eq!(ids(&reply), expected, "{filter}: {reply}");
    }
    // A subscriber sees the exclusive model, in the catalog and in the subscriber catalog.
    admin_ok(stores, &["product", "subscribe", "beta", "enterprise"]);
    let all = search(&api, &outsider, catalog, json!({"query": "*"})).await;
    assert_eq!(ids(&all), ["acme/asr", "acme/det", "acme/seg", "acme/tts"], "{all}");
    let gated = search(
        &api,
        &outsider,
        "/v2/search/subscriber/catalog/resources/MODEL",
        json!({}),
    )
    .await;
    assert_eq!(ids(&gated), ["acme/asr", "acme/tts"], "{gated}");
    admin_ok(stores, &["product", "unsubscribe", "beta", "enterprise"]);

    // Sorting and stable pages.
    let by_name = search(
        &api,
        &owner,
        catalog,
        json!({"query": "*", "orderBy": [{"field": "name", "value": "ASC"}]}),
    )
    .await;
    assert_eq!(
        ids(&by_name),
        ["acme/asr", "acme/det", "acme/secret", "acme/seg", "acme/tts"]
    );
    let mut paged = vec![];
    for page in 0..3 {
        let reply = search(
            &api,
            &owner,
            catalog,
            json!({"query": "*", "page": page, "pageSize": 2}),
        )
        .await;
        assert_eq!(reply["resultPageTotal"], 3, "{reply}");
        paged.extend(ids(&reply));
    }
    assert_eq!(paged, ids(&by_name), "pages cover everything once");

    // Collections are searched like any kind.
    let (status, reply) = api
        .post(
            "/v2/org/acme/collections",
            &owner,
            json!({"name": "picks", "shortDescription": "traffic picks", "accessType": "GUEST"}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let picks = search(
        &api,
        &Auth::None,
        "/v2/search/catalog/resources/COLLECTION",
        json!({"query": "traffic"}),
    )
    .await;
    assert_eq!(ids(&picks), ["acme/picks"], "{picks}");

    // An org's own search, and bad input.
    let (status, _) = api
        .get(
            &format!("/v2/search/org/acme/resources/MODEL?q={}", q(json!({}))),
            &outsider,
        )
        .await;
    assert_eq!(status, 403, "another org's private search");
    let (status, body) = api
        .get("/v2/search/catalog/resources/MODEL?q=%7Bnot-json", &owner)
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = api.get("/v2/search/catalog/resources/WIDGET", &owner).await;
    assert_eq!(status, 400, "{body}");
    let bad = json!({"filters": [{"field": "accessType", "value": "SOMETIMES"}]});
    let (status, body) = api.get(&format!("{catalog}?q={}", q(bad)), &owner).await;
    assert_eq!(status, 400, "{body}");

    // NVIDIA's ngc lists through the same search: a user of another org, with its filter.
    let Some(paths) = ngc_paths() else {
        return;
    };
    let bundle = bundle(dir, &ca.ca_pem);
    let beta_key = outsider_key_again(&outsider);
    let ngc = Ngc::new(&paths, &server.base, &bundle, dir.join("beta"))
        .with_key(&beta_key)
        .in_org("beta");
    let listed = ngc.json(&["registry", "model", "list", "acme/*"]);
    let mut names = column(&listed, "name");
    names.sort();
    assert_eq!(names, ["asr", "det", "seg"], "{listed}");
    let listed = ngc.json(&["registry", "model", "list", "acme/*", "--access-type", "EXCLUSIVE"]);
    assert!(column(&listed, "name").is_empty(), "{listed}");
    let listed = ngc.json(&["registry", "collection", "list", "acme/*"]);
    assert_eq!(column(&listed, "name"), ["picks"], "{listed}");
    let guest = Ngc::new(&paths, &server.base, &bundle, dir.join("guest"));
    let listed = guest.json(&["registry", "model", "list", "acme/*"]);
    let mut names = column(&listed, "name");
    names.sort();
    assert_eq!(names, ["asr", "det", "seg"], "{listed}");
}

fn outsider_key_again(auth: &Auth) -> String {
    match auth {
        Auth::Bearer(key) => key.clone(),
        _ => unreachable!("a key"),
    }
}
both_backends!(catalog_search, searching);
