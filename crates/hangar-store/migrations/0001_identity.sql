-- Identity: orgs, teams, users, role grants, API keys, invitations and the mail outbox.
-- Written once for SQLite and PostgreSQL; {{id}} becomes each database's auto-increment key.
-- Times are Unix seconds; flags are 0/1 integers, so every column means the same on both.

CREATE TABLE orgs (
    id {{id}},
    name TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE teams (
    id {{id}},
    org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE users (
    id {{id}},
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    starfleet_id TEXT NOT NULL UNIQUE,
    platform_admin BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One row per role held; team_id NULL means the role is held at org scope.
CREATE TABLE memberships (
    id {{id}},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    team_id BIGINT REFERENCES teams(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX memberships_unique ON memberships (user_id, org_id, COALESCE(team_id, 0), role);
CREATE INDEX memberships_scope ON memberships (org_id, team_id);

-- Personal keys have org and user; service keys only org; legacy keys only user.
CREATE TABLE api_keys (
    id {{id}},
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    org_id BIGINT REFERENCES orgs(id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
    services TEXT NOT NULL,
    scopes TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_value TEXT NOT NULL,
    active BIGINT NOT NULL,
    expires_at BIGINT,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX api_keys_one_legacy ON api_keys (user_id) WHERE kind = 'LEGACY';
CREATE INDEX api_keys_owner ON api_keys (org_id, user_id);

-- roles: comma-separated ROLE or ROLE@team.
CREATE TABLE invitations (
    id {{id}},
    org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    message TEXT NOT NULL,
    roles TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    invited_by BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT
);
CREATE INDEX invitations_org ON invitations (org_id, email);

-- Mail that would be sent if an SMTP server were configured.
CREATE TABLE outbox (
    id {{id}},
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Installation-wide values shared by every replica, such as the token signing key.
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
