-- Expand: v2 writes a note; v1 never reads it, so both versions run on
-- this schema and a rollback of the release needs no down migration.
SET lock_timeout = '5s';
ALTER TABLE orders ADD COLUMN note text;
