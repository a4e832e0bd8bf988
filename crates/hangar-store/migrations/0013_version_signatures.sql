-- A model's or resource's version signature (an OpenSSF model-signing sigstore bundle: an
-- in-toto statement of every file's path and SHA-256 in a DSSE envelope, with the certificate
-- chain that verifies it). One per version; signing again replaces it; a new version, cloned
-- or not, has none until it is signed.
CREATE TABLE version_signatures (
    version_id BIGINT PRIMARY KEY REFERENCES artifact_versions(id) ON DELETE CASCADE,
    bundle TEXT NOT NULL,
    signed_by BIGINT,
    created_at BIGINT NOT NULL
);
