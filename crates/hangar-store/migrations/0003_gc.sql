-- Garbage collection of the blob store, and leases for jobs that one replica at a time runs.

-- Blobs found unreferenced by a GC pass: `first_seen` is when a pass first found the blob
-- unreferenced (a blob is deleted only by a later pass, at least the grace period after that),
-- `last_seen` when a pass last listed it (rows of blobs gone from the store are dropped).
-- `deleting` is 1 from the moment a pass decided to delete the blob until the blob is gone:
-- every write that makes a blob referenced first deletes its row here, and fails if that row
-- says `deleting` (see meta/gc.rs).
CREATE TABLE gc_candidates (
    digest TEXT PRIMARY KEY,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    deleting BIGINT NOT NULL DEFAULT 0
);

-- A lease per job name: held by `holder` until `expires_at` (Unix seconds).
CREATE TABLE gc_lease (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- The mark phase looks chunks up by digest and expires idle upload sessions.
CREATE INDEX upload_chunks_digest ON upload_chunks (digest);
CREATE INDEX uploads_updated ON uploads (updated_at);
