-- Signed images (issue 18). An org's trusted keys: public keys (PEM) that publishers register
-- so that signatures they make on their own machines count; the org's own server-held key is
-- not here (it is kept sealed in settings).
CREATE TABLE trusted_keys (
    id {{id}},
    org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    public_pem TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, name),
    UNIQUE (org_id, fingerprint)
);

-- Each cosign signature pushed to a repository (one per layer of a `sha256-<digest>.sig`
-- manifest): what it signs, its payload and signature, and the verdict against the org's keys
-- (`verified_by` names the key; otherwise `problem` says why not). Verdicts are worked out
-- again when the org's keys change.
CREATE TABLE image_signatures (
    repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    signature_digest TEXT NOT NULL,
    layer BIGINT NOT NULL,
    subject_digest TEXT NOT NULL,
    payload {{bytes}} NOT NULL,
    signature TEXT NOT NULL,
    verified_by TEXT,
    problem TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (repository_id, signature_digest, layer)
);
CREATE INDEX image_signatures_subject ON image_signatures (repository_id, subject_digest);

-- Where pulls need a verified signature: an org (path 'acme'), a team ('acme/vision') or a
-- repository ('acme/[vision/]web').
CREATE TABLE signature_requirements (
    org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (kind, path)
);
