-- The triggers that queue an entity in catalog_stale (0011) on every write to what its search
-- entry shows (PostgreSQL: one trigger function per watched table).

CREATE FUNCTION catalog_stale_artifact() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO catalog_stale (entity_kind, entity_id) VALUES (OLD.kind, OLD.id);
    ELSE
        INSERT INTO catalog_stale (entity_kind, entity_id) VALUES (NEW.kind, NEW.id);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER stale_artifact AFTER INSERT OR UPDATE OR DELETE ON artifacts
    FOR EACH ROW EXECUTE FUNCTION catalog_stale_artifact();

CREATE FUNCTION catalog_stale_version() RETURNS trigger AS $$
BEGIN
    INSERT INTO catalog_stale (entity_kind, entity_id)
    SELECT kind, id FROM artifacts
    WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.artifact_id ELSE NEW.artifact_id END;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER stale_version AFTER INSERT OR UPDATE OR DELETE ON artifact_versions
    FOR EACH ROW EXECUTE FUNCTION catalog_stale_version();

CREATE FUNCTION catalog_stale_repository() RETURNS trigger AS $$
BEGIN
    INSERT INTO catalog_stale (entity_kind, entity_id)
    VALUES ('repository', CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END);
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER stale_repository AFTER INSERT OR UPDATE OR DELETE ON repositories
    FOR EACH ROW EXECUTE FUNCTION catalog_stale_repository();

CREATE FUNCTION catalog_stale_tag() RETURNS trigger AS $$
BEGIN
    INSERT INTO catalog_stale (entity_kind, entity_id)
    VALUES ('repository', CASE WHEN TG_OP = 'DELETE' THEN OLD.repository_id ELSE NEW.repository_id END);
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER stale_tag AFTER INSERT OR UPDATE OR DELETE ON tags
    FOR EACH ROW EXECUTE FUNCTION catalog_stale_tag();

CREATE FUNCTION catalog_stale_products() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO catalog_stale (entity_kind, entity_id) VALUES (OLD.entity_kind, OLD.entity_id);
    ELSE
        INSERT INTO catalog_stale (entity_kind, entity_id) VALUES (NEW.entity_kind, NEW.entity_id);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER stale_products AFTER INSERT OR DELETE ON entity_products
    FOR EACH ROW EXECUTE FUNCTION catalog_stale_products();
