-- The search index: one entry per entity of every kind with what search shows and filters on,
-- its facet values, the version counter and removals a process's in-memory copy loads from
-- (MetaStore::search), and a queue of entities whose entry is stale. Triggers (0012) fill the
-- queue on every write to what an entry shows, so no write path can forget it; the store
-- refreshes queued entries before it searches (MetaStore::catch_up_search).

CREATE TABLE catalog_entries (
    id {{id}},
    entity_kind TEXT NOT NULL,
    entity_id BIGINT NOT NULL,
    -- The search type: CONTAINER, MODEL, RECIPE, HELM_CHART or COLLECTION.
    kind TEXT NOT NULL,
    org_id BIGINT NOT NULL,
    team_id BIGINT,
    org_name TEXT NOT NULL,
    team_name TEXT,
    resource_id TEXT NOT NULL,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    description TEXT NOT NULL,
    publisher TEXT NOT NULL,
    -- Labels joined by spaces (words search matches); the facets hold them one by one.
    labels TEXT NOT NULL,
    access_level TEXT NOT NULL,
    signed BIGINT NOT NULL,
    -- NGC's `attributes` of the search result, a JSON array of {key, value}.
    attributes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    modified_at BIGINT NOT NULL,
    -- The newest queue entry this entry reflects: an older refresh never overwrites a newer.
    indexed_seq BIGINT NOT NULL DEFAULT 0,
    -- The catalog_version this entry was last written at (what a search index loads since).
    change_version BIGINT NOT NULL DEFAULT 0,
    UNIQUE (entity_kind, entity_id)
);
CREATE INDEX catalog_entries_change ON catalog_entries (change_version);

-- One counter every entry write takes the next value of, in the write's transaction: the row
-- lock orders them, so a reader that sees version v has every write below v too.
CREATE TABLE catalog_version (id BIGINT PRIMARY KEY, version BIGINT NOT NULL);
INSERT INTO catalog_version (id, version) VALUES (1, 0);
-- Entries removed, at the version of their removal.
CREATE TABLE catalog_removed (entry_id BIGINT PRIMARY KEY, change_version BIGINT NOT NULL);
CREATE INDEX catalog_removed_change ON catalog_removed (change_version);

CREATE TABLE catalog_facets (
    entry_id BIGINT NOT NULL REFERENCES catalog_entries(id) ON DELETE CASCADE,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (field, value, entry_id)
);
CREATE INDEX catalog_facets_entry ON catalog_facets (entry_id, field, value);

CREATE TABLE catalog_stale (
    seq {{id}},
    entity_kind TEXT NOT NULL,
    entity_id BIGINT NOT NULL
);

-- Every entity starts stale: the store builds its entry at the first search or start.
INSERT INTO catalog_stale (entity_kind, entity_id) SELECT kind, id FROM artifacts;
INSERT INTO catalog_stale (entity_kind, entity_id) SELECT 'repository', id FROM repositories;
