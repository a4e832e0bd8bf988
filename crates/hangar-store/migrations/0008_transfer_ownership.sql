-- Who is putting a file upload's parts together (a completion, on some replica), so that an
-- assembly whose server died is seen as orphaned and taken over instead of waited for; and
-- which files each pending version received, so that a commit attaches only bytes the caller
-- uploaded (or may read elsewhere), never bytes it merely knows the digest of.

-- A random id per assembly attempt, and when it last said it was alive (Unix seconds).
ALTER TABLE file_uploads ADD COLUMN assembler TEXT;
ALTER TABLE file_uploads ADD COLUMN assembler_seen BIGINT;

-- Files put together for a version and not yet committed into it (or committed: rows go when
-- the version is complete, or when it stays pending past the upload expiry).
CREATE TABLE received_files (
    version_id BIGINT NOT NULL REFERENCES artifact_versions(id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (version_id, digest)
);
CREATE INDEX received_files_digest ON received_files (digest);
