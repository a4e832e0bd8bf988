-- Server-driven multipart uploads of model and resource files (ngc-api.md §5.1): one session
-- per file of a version, kept across client runs so that an interrupted upload resumes; each
-- part is stored as a blob of its own until the session completes into the file's blob.

CREATE TABLE file_uploads (
    id TEXT PRIMARY KEY,
    version_id BIGINT NOT NULL REFERENCES artifact_versions(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    size BIGINT NOT NULL,
    -- The file's SHA-256 as the client announced it: `sha256:<hex>`.
    digest TEXT NOT NULL,
    part_size BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (version_id, path)
);

CREATE TABLE file_upload_parts (
    upload_id TEXT NOT NULL REFERENCES file_uploads(id) ON DELETE CASCADE,
    -- 1-based, as the client numbers them.
    part BIGINT NOT NULL,
    digest TEXT NOT NULL,
    size BIGINT NOT NULL,
    PRIMARY KEY (upload_id, part)
);
CREATE INDEX file_upload_parts_digest ON file_upload_parts (digest);
