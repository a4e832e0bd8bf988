-- Models and resources (NGC "recipes"): versioned file sets with catalog metadata. The NGC
-- fields that are only stored and shown are kept as one JSON object per entity and version;
-- what queries need (names, status, sizes, latest version) has columns. Files point into the
-- shared blob store by digest, so a file stored once serves every version that has it.

CREATE TABLE artifacts (
    id {{id}},
    -- 'model' or 'resource'.
    kind TEXT NOT NULL,
    org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    team_id BIGINT REFERENCES teams(id) ON DELETE CASCADE,
    -- `org/[team/]name`.
    path TEXT NOT NULL,
    name TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    is_public BIGINT NOT NULL DEFAULT 0,
    -- The version set as latest, or the last one completed.
    latest_version TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    UNIQUE (kind, path)
);
CREATE INDEX artifacts_org ON artifacts (kind, org_id, team_id);

CREATE TABLE artifact_versions (
    id {{id}},
    artifact_id BIGINT NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
    version TEXT NOT NULL,
    -- 'UPLOAD_PENDING' until committed, then 'UPLOAD_COMPLETE'.
    status TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    UNIQUE (artifact_id, version)
);

CREATE TABLE artifact_files (
    version_id BIGINT NOT NULL REFERENCES artifact_versions(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    digest TEXT NOT NULL,
    size BIGINT NOT NULL,
    PRIMARY KEY (version_id, path)
);
CREATE INDEX artifact_files_digest ON artifact_files (digest);
