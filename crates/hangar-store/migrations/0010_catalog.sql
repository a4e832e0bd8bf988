-- The Catalog (Catalog guide §4): every entity's access level, the products entities are gated
-- by and the orgs' subscriptions to them, per-user access approvals, and collections.

-- PRIVATE, GUEST, AUTHENTICATED, ENTITLED, EXCLUSIVE or APPROVAL (hangar_core::access). It
-- supersedes `is_public`, which is no longer read or written: public entities become GUEST.
ALTER TABLE repositories ADD COLUMN access_level TEXT NOT NULL DEFAULT 'PRIVATE';
UPDATE repositories SET access_level = 'GUEST' WHERE is_public <> 0;
ALTER TABLE artifacts ADD COLUMN access_level TEXT NOT NULL DEFAULT 'PRIVATE';
UPDATE artifacts SET access_level = 'GUEST' WHERE is_public <> 0;
CREATE INDEX repositories_access ON repositories (access_level);
CREATE INDEX artifacts_access ON artifacts (kind, access_level);

-- What platform admins sell or grant: `nv-ai-enterprise`, `riva-enterprise`, …
CREATE TABLE products (
    id {{id}},
    name TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

-- An org's right to a product's gated entities, until `expires_at` (NULL: no end).
CREATE TABLE subscriptions (
    id {{id}},
    org_id BIGINT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    expires_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, product_id)
);
CREATE INDEX subscriptions_product ON subscriptions (product_id);

-- The products an entity belongs to. `entity_kind` is 'repository' (container repositories)
-- or an artifacts.kind; `entity_id` is the row in that table.
CREATE TABLE entity_products (
    entity_kind TEXT NOT NULL,
    entity_id BIGINT NOT NULL,
    product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    PRIMARY KEY (entity_kind, entity_id, product_id)
);
CREATE INDEX entity_products_product ON entity_products (product_id);

-- A user's request for an APPROVAL entity and the publisher's answer:
-- PENDING, then APPROVED or DENIED; an approval may later be REVOKED.
CREATE TABLE access_requests (
    id {{id}},
    entity_kind TEXT NOT NULL,
    entity_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    requested_at BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    UNIQUE (entity_kind, entity_id, user_id)
);
CREATE INDEX access_requests_user ON access_requests (user_id, state);

-- A collection is an artifacts row of kind 'collection'; these are its entities, in order.
CREATE TABLE collection_items (
    collection_id BIGINT NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
    entity_kind TEXT NOT NULL,
    entity_id BIGINT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (collection_id, entity_kind, entity_id)
);
CREATE INDEX collection_items_entity ON collection_items (entity_kind, entity_id);
