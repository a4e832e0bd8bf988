-- What the catalog shows about a container repository (NGC's repository metadata), and the tag
-- chosen as its latest (none: the most recently pushed tag).

ALTER TABLE repositories ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE repositories ADD COLUMN short_description TEXT NOT NULL DEFAULT '';
ALTER TABLE repositories ADD COLUMN description TEXT NOT NULL DEFAULT '';
-- A JSON array of strings.
ALTER TABLE repositories ADD COLUMN labels TEXT NOT NULL DEFAULT '[]';
ALTER TABLE repositories ADD COLUMN logo TEXT NOT NULL DEFAULT '';
ALTER TABLE repositories ADD COLUMN publisher TEXT NOT NULL DEFAULT '';
ALTER TABLE repositories ADD COLUMN built_by TEXT NOT NULL DEFAULT '';
ALTER TABLE repositories ADD COLUMN is_public BIGINT NOT NULL DEFAULT 0;
ALTER TABLE repositories ADD COLUMN is_multinode BIGINT NOT NULL DEFAULT 0;
ALTER TABLE repositories ADD COLUMN latest_tag TEXT;

CREATE INDEX repositories_org ON repositories (org_id, team_id);
