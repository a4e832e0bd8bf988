-- Accounts: passwords, accepted terms, browser and device sessions, one-time password links
-- and sign-in throttling. Every replica reads the same rows, so a session or a lock-out holds
-- whichever replica answers.

-- An argon2id PHC string; NULL until the user sets a password.
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN terms_accepted_at BIGINT;
-- The org and team the user last chose to work in; a new session starts there.
ALTER TABLE users ADD COLUMN context_org TEXT;
ALTER TABLE users ADD COLUMN context_team TEXT;

-- kind BROWSER: a signed-in browser (the secret is the cookie).
-- kind DEVICE: `ngc`'s e-mail login (the secret is its session key); user_id stays NULL until a
-- signed-in user approves it on the page named by approval_hash's code.
CREATE TABLE sessions (
    id {{id}},
    kind TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    context_org TEXT,
    context_team TEXT,
    device_id TEXT NOT NULL,
    requested_email TEXT NOT NULL,
    approval_hash TEXT UNIQUE,
    client_address TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    -- Seconds without use after which the session ends; 0: no idle limit.
    idle_seconds BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    approved_at BIGINT,
    -- A device login refused on its approval page: its key is answered 403 until it expires.
    denied_at BIGINT
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Links that let a user set a password without knowing the old one: the owner's first
-- start (SETUP) and resets sent by an owner or user admin (RESET).
CREATE TABLE password_links (
    id {{id}},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX password_links_user ON password_links (user_id);

-- Failed sign-ins per subject (`account:<email>` or `address:<ip>`) in the current window.
CREATE TABLE sign_in_failures (
    subject TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL
);
