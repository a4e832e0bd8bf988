-- Helm charts are artifacts of kind 'chart' (the `artifacts` and `artifact_versions` tables).
-- A chart version is one archive (.tgz) in the blob store, by digest, plus what was read out of
-- it when it was pushed: its Chart.yaml and the list of files inside.

CREATE TABLE chart_archives (
    version_id BIGINT PRIMARY KEY REFERENCES artifact_versions(id) ON DELETE CASCADE,
    -- `sha256:<hex>` of the archive.
    digest TEXT NOT NULL,
    size BIGINT NOT NULL,
    -- This version's entry of a Helm repository index (Chart.yaml's fields plus digest,
    -- created and urls) as JSON, and the same entry already rendered as the YAML of one list
    -- item of `entries.<name>`: an index is then put together, not rendered, however many
    -- versions it lists.
    entry TEXT NOT NULL,
    entry_yaml TEXT NOT NULL
);
CREATE INDEX chart_archives_digest ON chart_archives (digest);

CREATE TABLE chart_files (
    version_id BIGINT NOT NULL REFERENCES chart_archives(version_id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    size BIGINT NOT NULL,
    PRIMARY KEY (version_id, path)
);

-- Each chart's part of its repository index: the entries of its complete versions, newest
-- first, put together from `entry_yaml` whenever a version comes or goes (in the same
-- transaction). An index is then one row per chart, not one per version.
CREATE TABLE chart_indexes (
    artifact_id BIGINT PRIMARY KEY REFERENCES artifacts(id) ON DELETE CASCADE,
    versions BIGINT NOT NULL,
    entries_yaml TEXT NOT NULL
);
