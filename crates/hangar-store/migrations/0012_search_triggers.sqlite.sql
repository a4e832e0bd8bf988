-- The triggers that queue an entity in catalog_stale (0011) on every write to what its search
-- entry shows (SQLite).

CREATE TRIGGER stale_artifact_insert AFTER INSERT ON artifacts BEGIN
    INSERT INTO catalog_stale (entity_kind, entity_id) VALUES (new.kind, new.id);
END;
CREATE TRIGGER stale_artifact_update AFTER UPDATE ON artifacts BEGIN
    INSERT INTO catalog_stale (entity_kind, entity_id) VALUES (new.kind, new.id);
END;
CREATE TRIGGER stale_artifact_delete AFTER DELETE ON artifacts BEGIN
    INSERT INTO catalog_stale (entity_kind, entity_id) VALUES (old.kind, old.id);
END;
CREATE TRIGGER stale_version_insert AFTER INSERT ON artifact_versions BEGIN
    INSERT INTO catalog_stale (entity_kind, entity_id)
    SELECT kind, id FROM artifacts WHERE id = new.artifact_id;
END;
CREATE TRIGGER stale_version_update AFTER UPDATE ON artifact_versions BEGIN
    INSERT INTO catalog_stale (entity_kind, entity_id)
    SELECT kind, id FROM artifacts WHERE id = new.artifact_id;
END;
CREATE TRIGGER stale_version_delete AFTER DELETE ON artifact_versions BEGIN
    INSERT INTO catalog_stale (entity_kind, entity_id)
    SELECT kind, id FROM artifacts WHERE id = old.artifact_id;
END;
CREATE TRIGGER stale_repository_insert AFTER INSERT ON repositories BEGIN
    INSERT INTO catalog_stale (entity_kind, entity_id) VALUES ('repository', new.id);
END;
CREATE TRIGGER stale_repository_update AFTER UPDATE ON repositories BEGIN
    INSERT INTO catalog_stale (entity_kind, entity_id) VALUES ('repository', new.id);
END;
CREATE TRIGGER stale_repository_delete AFTER DELETE ON repositories BEGIN
    INSERT INTO catalog_stale (entity_kind, entity_id) VALUES ('repository', old.id);
END;
CREATE TRIGGER stale_tag_insert AFTER INSERT ON tags BEGIN
    INSERT INTO catalog_stale (entity_kind, entity_id) VALUES ('repository', new.repository_id);
END;
CREATE TRIGGER stale_tag_update AFTER UPDATE ON tags BEGIN
    INSERT INTO catalog_stale (entity_kind, entity_id) VALUES ('repository', new.repository_id);
END;
CREATE TRIGGER stale_tag_delete AFTER DELETE ON tags BEGIN
    INSERT INTO catalog_stale (entity_kind, entity_id) VALUES ('repository', old.repository_id);
END;
CREATE TRIGGER stale_products_insert AFTER INSERT ON entity_products BEGIN
    INSERT INTO catalog_stale (entity_kind, entity_id) VALUES (new.entity_kind, new.entity_id);
END;
CREATE TRIGGER stale_products_delete AFTER DELETE ON entity_products BEGIN
    INSERT INTO catalog_stale (entity_kind, entity_id) VALUES (old.entity_kind, old.entity_id);
END;
