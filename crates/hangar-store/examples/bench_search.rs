//! The catalog search benchmark (run by `scripts/bench-search`, release build): loads
//! `--entities` entities of every kind with realistic metadata into a fresh database (a database
//! given by hand that already holds them is measured again), builds the index the server uses
//! (the store's own refresh of every stale entry), then runs `--rounds` rounds of `--queries`
//! searches at `--clients` concurrent clients — free text, two filters and facet counts — as a
//! guest and as a member of an org with a subscription, and prints p50/p99 of each round and of
//! all together, and the queries. It only prints; it never fails on a figure.

use anyhow::{Context, Result};
use hangar_store::meta::{MetaStore, Place, PrivateScope, SearchRequest, Sort, Viewer};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WORDS: &[&str] = &[
    "speech",
    "vision",
    "detection",
    "segmentation",
    "translation",
    "recognition",
    "synthesis",
    "traffic",
    "medical",
    "retail",
    "robotics",
    "language",
    "transformer",
    "diffusion",
    "embedding",
    "retrieval",
    "classifier",
    "tracking",
    "pose",
    "depth",
    "audio",
    "video",
    "text",
    "image",
    "generation",
    "summary",
    "question",
    "answer",
    "chat",
    "assistant",
    "inference",
    "training",
    "pretrained",
    "finetuned",
    "quantized",
    "optimized",
    "multilingual",
    "english",
    "german",
    "japanese",
    "radiology",
    "pathology",
    "genomics",
    "drug",
    "protein",
    "weather",
    "climate",
    "energy",
    "finance",
    "fraud",
    "anomaly",
    "recommendation",
    "search",
    "ranking",
    "ocr",
    "document",
    "table",
    "graph",
    "point",
    "cloud",
    "lidar",
    "radar",
    "camera",
    "edge",
    "datacenter",
    "jetson",
    "triton",
    "tensorrt",
    "onnx",
    "pytorch",
    "tensorflow",
    "nemo",
    "riva",
    "clara",
    "metropolis",
    "isaac",
    "omniverse",
    "holoscan",
    "morpheus",
    "merlin",
    "rapids",
    "cuda",
    "container",
    "runtime",
    "toolkit",
    "sdk",
    "sample",
    "notebook",
    "pipeline",
    "workflow",
    "benchmark",
    "dataset",
    "checkpoint",
    "adapter",
    "lora",
    "distilled",
    "sparse",
    "dense",
    "large",
    "small",
    "tiny",
];
const FRAMEWORKS: &[&str] = &[
    "PyTorch",
    "TensorFlow",
    "NeMo",
    "TensorRT",
    "ONNX",
    "JAX",
    "Riva",
    "TAO",
];
const PRECISIONS: &[&str] = &["FP32", "FP16", "BF16", "INT8", "FP8"];
const APPLICATIONS: &[&str] = &[
    "OBJECT_DETECTION",
    "SPEECH_RECOGNITION",
    "TEXT_GENERATION",
    "SEGMENTATION",
    "CLASSIFICATION",
    "TRANSLATION",
    "OTHER",
];
const LEVELS: &[(&str, u32)] = &[
    ("GUEST", 40),
    ("AUTHENTICATED", 15),
    ("ENTITLED", 10),
    ("EXCLUSIVE", 5),
    ("APPROVAL", 5),
    ("PRIVATE", 25),
];
const ORGS: usize = 30;

struct Args {
    database: String,
    entities: usize,
    queries: usize,
    clients: usize,
    /// Measured rounds of `queries` each, after the warm-up round; 0: load the entities only.
    rounds: usize,
}

fn args() -> Result<Args> {
    let mut out = Args {
        database: String::new(),
        entities: 100_000,
        queries: 1000,
        clients: 8,
        rounds: 3,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().context("a flag needs a value")?;
        match flag.as_str() {
            "--database" => out.database = value,
            "--entities" => out.entities = value.parse()?,
            "--queries" => out.queries = value.parse()?,
            "--clients" => out.clients = value.parse()?,
            "--rounds" => out.rounds = value.parse()?,
            other => anyhow::bail!("unknown flag {other}"),
        }
    }
    anyhow::ensure!(!out.database.is_empty(), "--database is required");
    Ok(out)
}

fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[rng.random_range(0..from.len())]
}

fn level(rng: &mut StdRng) -> &'static str {
    let total: u32 = LEVELS.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total);
    for (level, weight) in LEVELS {
        if roll < *weight {
            return level;
        }
        roll -= weight;
    }
    "GUEST"
}

/// Orgs, products, a subscription, and the entities, in bulk through plain SQL on the source
/// tables; the index is then built by the store's own refresh.
async fn load(meta: &MetaStore, entities: usize) -> Result<()> {
    let pool = meta.pool();
    let mut rng = StdRng::seed_from_u64(15);
    let now = chrono::Utc::now().timestamp();
    for o in 0..ORGS {
        sqlx::query(
            "INSERT INTO orgs (name, display_name, description, created_at, updated_at) VALUES ($1, $1, '', $2, $2)",
        )
        .bind(format!("org{o}"))
        .bind(now)
        .execute(pool)
        .await
        .context("an org")?;
    }
    for p in ["nv-ai-enterprise", "riva-enterprise", "clara-enterprise"] {
        meta.create_product(p, p, "").await?;
    }
    let org3 = meta.require_org("org3").await?;
    let product = meta.require_product("nv-ai-enterprise").await?;
    meta.subscribe(org3.id, product.id, None).await?;
    let org_ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM orgs ORDER BY id")
        .fetch_all(pool)
        .await?;
    let product_ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM products ORDER BY id")
        .fetch_all(pool)
        .await?;
    let kinds = ["model", "resource", "chart", "collection", "repository"];
    let mut tx = pool.begin().await?;
    for i in 0..entities {
        let kind = kinds[i % kinds.len()];
        let org = rng.random_range(0..ORGS);
        let name = format!("{}-{}-{i}", pick(&mut rng, WORDS), pick(&mut rng, WORDS));
        let path = format!("org{org}/{name}");
        let description: Vec<&str> = (0..10).map(|_| pick(&mut rng, WORDS)).collect();
        let description = description.join(" ");
        let display = format!("{} {}", pick(&mut rng, WORDS), pick(&mut rng, WORDS));
        let labels = vec![pick(&mut rng, WORDS), pick(&mut rng, WORDS)];
        let level = level(&mut rng);
        let publisher = format!("Publisher {}", org % 7);
        let id: i64 = if kind == "repository" {
            sqlx::query_scalar(
                "INSERT INTO repositories (org_id, name, created_at, updated_at, display_name, short_description, \
                 labels, publisher, access_level) VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(org_ids[org])
            .bind(&path)
            .bind(now - i as i64)
            .bind(&display)
            .bind(&description)
            .bind(serde_json::to_string(&labels)?)
            .bind(&publisher)
            .bind(level)
            .fetch_one(&mut *tx)
            .await?
        } else {
            let metadata = serde_json::json!({
                "displayName": display, "shortDescription": description, "labelsV2": labels,
                "publisher": publisher, "framework": pick(&mut rng, FRAMEWORKS),
                "precision": pick(&mut rng, PRECISIONS), "application": pick(&mut rng, APPLICATIONS),
                "modelFormat": "onnx",
            });
            sqlx::query_scalar(
                "INSERT INTO artifacts (kind, org_id, path, name, created_at, updated_at, access_level, metadata) \
                 VALUES ($1, $2, $3, $4, $5, $5, $6, $7) RETURNING id",
            )
            .bind(kind)
            .bind(org_ids[org])
            .bind(&path)
            .bind(&name)
            .bind(now - i as i64)
            .bind(level)
            .bind(metadata.to_string())
            .fetch_one(&mut *tx)
            .await?
        };
        if matches!(level, "ENTITLED" | "EXCLUSIVE") || rng.random_range(0..10) == 0 {
            sqlx::query("INSERT INTO entity_products (entity_kind, entity_id, product_id) VALUES ($1, $2, $3)")
                .bind(kind)
                .bind(id)
                .bind(product_ids[rng.random_range(0..product_ids.len())])
                .execute(&mut *tx)
                .await?;
        }
        if i % 5000 == 4999 {
            tx.commit().await?;
            tx = pool.begin().await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

/// All `requests` at `clients` concurrent clients: each one's time, the hits, the wall time.
async fn round(
    meta: &Arc<MetaStore>,
    requests: &Arc<Vec<SearchRequest>>,
    clients: usize,
) -> Result<(Vec<Duration>, i64, Duration)> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let clock = Instant::now();
    let mut tasks = vec![];
    for _ in 0..clients {
        let (meta, requests, next) = (meta.clone(), requests.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut times = vec![];
            let mut hits = 0i64;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(request) = requests.get(i) else { break };
                let one = Instant::now();
                let page = meta.search(request).await?;
                times.push(one.elapsed());
                hits += page.total;
            }
            anyhow::Ok((times, hits))
        }));
    }
    let mut times = vec![];
    let mut hits = 0;
    for task in tasks {
        let (t, h) = task.await??;
        times.extend(t);
        hits += h;
    }
    Ok((times, hits, clock.elapsed()))
}

/// This process's resident memory in MiB (Linux).
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = args()?;
    let meta = MetaStore::open(&args.database).await?;
    let started = Instant::now();
    let orgs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orgs")
        .fetch_one(meta.pool())
        .await?;
    if orgs > 0 {
        // Kept from an earlier run (when the database is given by hand): measure again.
        println!("{:?}: reusing the entities already loaded", meta.backend());
    } else {
        load(&meta, args.entities).await?;
        let loaded = started.elapsed();
        let indexed = meta.catch_up_search_fully().await?;
        println!(
            "{:?}: {} entities loaded in {:.1?}; {} index entries built in {:.1?}",
            meta.backend(),
            args.entities,
            loaded,
            indexed,
            started.elapsed() - loaded
        );
    }
    if args.rounds == 0 {
        return Ok(()); // loading only (scripts/bench-web)
    }
    if meta.backend() == hangar_store::meta::Backend::Postgres {
        // What autovacuum would do within the minute after a bulk load; without it, it does so
        // during the measurement.
        let clock = Instant::now();
        sqlx::query("VACUUM ANALYZE").execute(meta.pool()).await?;
        println!("  VACUUM ANALYZE after the load: {:.1?}", clock.elapsed());
    }
    let before = rss_mib();
    let clock = Instant::now();
    let all = meta
        .search(&SearchRequest {
            kind: "MODEL".into(),
            text: None,
            resource_glob: None,
            filters: vec![],
            place: Place::Catalog,
            viewer: Viewer::default(),
            sort: Sort::Path,
            page: 0,
            page_size: 1,
        })
        .await?;
    println!(
        "  first search (loads the process's in-memory index of all entries): {:.1?}; RSS {before:.0} -> {:.0} MiB; {} guest-visible models",
        clock.elapsed(),
        rss_mib(),
        all.total
    );
    let meta = Arc::new(meta);
    let guest = Viewer::default();
    let member = Viewer {
        everything: false,
        subscribing_orgs: vec!["org3".into()],
        scopes: vec![PrivateScope {
            org: "org3".into(),
            team: None,
            entity: None,
        }],
    };
    for (who, viewer) in [("guest", guest), ("member of a subscribed org", member)] {
        let mut rng = StdRng::seed_from_u64(7);
        let requests: Vec<SearchRequest> = (0..args.queries)
            .map(|i| SearchRequest {
                kind: ["MODEL", "RESOURCE", "HELM_CHART", "CONTAINER"][i % 4].into(),
                text: Some(pick(&mut rng, WORDS).to_string()),
                resource_glob: None,
                filters: vec![
                    (
                        "accessLevel".into(),
                        vec!["GUEST".into(), "AUTHENTICATED".into(), "ENTITLED".into()],
                    ),
                    ("labels".into(), vec![pick(&mut rng, WORDS).to_string()]),
                ],
                place: Place::Catalog,
                viewer: viewer.clone(),
                sort: Sort::Relevance,
                page: 0,
                page_size: 25,
            })
            .collect();
        let requests = Arc::new(requests);
        // A warm-up round first (not measured): every pooled connection prepares its
        // statements once, and the database settles after the bulk load.
        let (_, _, _) = round(&meta, &requests, args.clients).await?;
        let mut all = vec![];
        for r in 1..=args.rounds {
            let (mut times, hits, wall) = round(&meta, &requests, args.clients).await?;
            times.sort();
            println!(
                "  {who}, round {r}: {} queries at {} clients in {:.2?} ({:.0}/s): p50 {:.2?}, p99 {:.2?}, max {:.2?}; {:.0} hits per query",
                times.len(),
                args.clients,
                wall,
                times.len() as f64 / wall.as_secs_f64(),
                percentile(&times, 0.50),
                percentile(&times, 0.99),
                times.last().copied().unwrap_or_default(),
                hits as f64 / times.len() as f64
            );
            all.extend(times);
        }
        all.sort();
        println!(
            "  {who}, all {} rounds: p50 {:.2?}, p99 {:.2?}, max {:.2?}",
            args.rounds,
            percentile(&all, 0.50),
            percentile(&all, 0.99),
            all.last().copied().unwrap_or_default(),
        );
    }
    println!(
        "  query: kind cycling MODEL/RESOURCE/HELM_CHART/CONTAINER; text: one vocabulary word (prefix); \
         filters: accessLevel in (GUEST, AUTHENTICATED, ENTITLED) and labels = one vocabulary word; \
         facet counts of all {} fields; sort by relevance; page size 25; RSS at the end {:.0} MiB",
        hangar_store::meta::FACET_FIELDS.len(),
        rss_mib()
    );
    Ok(())
}
