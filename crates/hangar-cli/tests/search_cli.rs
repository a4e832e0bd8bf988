//! `hangar registry … list` with `--query` and `--filter`, on both backends: the search's free
//! text beside the wildcard, facet filters, and a private model shown to its own org only.

mod common;

use common::cli::Cli;
use common::ngc::column;
use common::{Api, Auth, Server, Stores};
use serde_json::json;

fn sorted_names(listed: &serde_json::Value) -> Vec<String> {
    let mut names = column(listed, "name");
    names.sort();
    names
}

async fn listing(stores: &Stores) {
    let dir = stores.dir.path();
    let server = Server::start(stores);
    let api = Api::new(&server.base, None);
    let owner = Auth::Bearer(server.key());
    for (name, level, precision, framework, text) in [
        ("det", "GUEST", "FP16", "PyTorch", "object detector for traffic cameras"),
        (
            "seg",
            "AUTHENTICATED",
            "FP32",
            "PyTorch",
            "segmentation of traffic scenes",
        ),
        ("asr", "GUEST", "FP16", "NeMo", "speech recognition"),
        (
            "secret",
            "PRIVATE",
            "FP16",
            "PyTorch",
            "traffic detector not yet released",
        ),
    ] {
        let body = json!({
            "name": name, "application": "OTHER", "framework": framework, "precision": precision,
            "modelFormat": "onnx", "shortDescription": text, "accessType": level,
        });
        let (status, reply) = api.post("/v2/org/acme/models", &owner, body).await;
        assert_eq!(status, 200, "{reply}");
    }
    let models = |cli: &Cli| cli.prefix(&["registry", "model"]);
    let own = models(&Cli::new(&server, &dir.join("owner")).key(&server.key()).org("acme"));
    let guest = models(&Cli::new(&server, &dir.join("guest")));

    let traffic = ["list", "acme/*", "--query", "traffic", "--filter", "framework=PyTorch"];
    assert_eq!(sorted_names(&own.json(&traffic)), ["det", "secret", "seg"]);
    assert_eq!(sorted_names(&guest.json(&traffic)), ["det", "seg"]);
    let both = [
        "list",
        "acme/*",
        "--filter",
        "precision=FP16",
        "--filter",
        "framework=PyTorch",
    ];
    assert_eq!(sorted_names(&guest.json(&both)), ["det"]);
    assert_eq!(sorted_names(&own.json(&both)), ["det", "secret"]);
    let words = ["list", "--query", "speech recog"];
    assert_eq!(sorted_names(&guest.json(&words)), ["asr"]);
    let level = ["list", "acme/*", "--filter", "accessType=NOT_LISTED"];
    assert_eq!(sorted_names(&guest.json(&level)), Vec::<String>::new());
    assert_eq!(sorted_names(&own.json(&level)), ["secret"]);

    let refused = own.fails(&["list", "acme/det", "--query", "traffic"]);
    assert!(refused.contains("pattern with a wildcard"), "{refused}");
    let out = own.output(&["list", "acme/*", "--filter", "framework"]);
    assert_ne!(out.status.code(), Some(0), "a filter without a value is refused");
}

both_backends!(search_cli, listing);
