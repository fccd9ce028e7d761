package postgres_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/catalog"
	"github.com/migsafe/migsafe/analyzer/change"
	"github.com/migsafe/migsafe/dialects/postgres"
	"github.com/migsafe/migsafe/internal/testdb"
)

// physicsSetup is the schema every case starts from, with rows in it.
const physicsSetup = `
CREATE TABLE t (id int PRIMARY KEY, v varchar(50), n numeric(10, 2), during tstzrange, ref int);
INSERT INTO t SELECT i, 'v' || i, i, tstzrange(now() + i * interval '1 day', now() + (i + 1) * interval '1 day'), i FROM generate_series(1, 200) i;
ALTER TABLE t ADD COLUMN w text DEFAULT 'w', ADD CONSTRAINT t_w_nn CHECK (w IS NOT NULL);
CREATE TABLE u (id int, x int);
INSERT INTO u SELECT i, i FROM generate_series(1, 200) i;
CREATE UNIQUE INDEX u_id_key ON u (id);
CREATE TABLE u2 (id int NOT NULL, x int);
INSERT INTO u2 SELECT i, i FROM generate_series(1, 200) i;
CREATE UNIQUE INDEX u2_id_key ON u2 (id);
CREATE TABLE r (id int PRIMARY KEY);
INSERT INTO r SELECT generate_series(1, 200);
CREATE INDEX t_v_idx ON t (v);
CREATE TABLE p (at date NOT NULL, v int) PARTITION BY RANGE (at);
CREATE TABLE p_2024 PARTITION OF p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE p_2025 (at date NOT NULL, v int);
CREATE MATERIALIZED VIEW mv AS SELECT ref FROM t;
CREATE UNIQUE INDEX mv_ref ON mv (ref);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE FUNCTION imm() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 1';
CREATE FUNCTION stab() RETURNS int LANGUAGE sql STABLE AS 'SELECT 1';
CREATE FUNCTION vol() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION now_us() RETURNS bigint AS $$ SELECT CAST(extract(EPOCH FROM now() AT TIME ZONE 'utc') * 1000000 AS bigint) $$ LANGUAGE sql;
CREATE FUNCTION rnd() RETURNS float8 LANGUAGE sql AS 'SELECT random()';
CREATE FUNCTION vol_pl() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;
CREATE FUNCTION vol_secdef() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1';
CREATE FUNCTION vol_from() RETURNS int LANGUAGE sql AS 'SELECT max(id) FROM r';
CREATE FUNCTION ret1() RETURNS int LANGUAGE sql RETURN 1;
CREATE FUNCTION imm_rnd() RETURNS float8 LANGUAGE sql IMMUTABLE AS 'SELECT random()';
CREATE FUNCTION calls_now_us() RETURNS bigint LANGUAGE sql AS 'SELECT now_us() + 1';
ALTER TABLE t ADD CONSTRAINT t_ref_fk FOREIGN KEY (ref) REFERENCES r (id) NOT VALID;
CREATE UNIQUE INDEX CONCURRENTLY t_n_key ON t (n);
CREATE VIEW vw AS SELECT x FROM u;
CREATE INDEX t_w_gin ON t USING gin (to_tsvector('simple', w));
CREATE INDEX t_during_gist ON t USING gist (during);
ALTER TABLE u2 ADD COLUMN ts timestamp DEFAULT now();
ALTER TABLE u2 ADD CONSTRAINT u2_x_pos CHECK (x > 0) NOT VALID;
CREATE INDEX p_v_idx ON ONLY p (v);
CREATE INDEX p_2024_v_idx ON p_2024 (v);
CREATE TABLE kid (id int, r_id int REFERENCES r (id));
CREATE TABLE par (id int PRIMARY KEY, v varchar(50), n numeric(10, 2), during tstzrange, ref int, w text);
CREATE TABLE ci (id int PRIMARY KEY, a text, b varchar(20), c citext, d text, e interval, f interval(3), g timestamp, h timestamp(3), k int NOT NULL, j interval day to second(3));
INSERT INTO ci SELECT i, 'a' || i, 'b' || i, 'c' || i, 'd' || i, i * interval '1.123456 second', i * interval '1.123 second', now(), now(), i, i * interval '1.123 second' FROM generate_series(1, 200) i;
CREATE INDEX ci_a ON ci (a);
CREATE INDEX ci_b ON ci (b);
CREATE INDEX ci_c ON ci (c);
CREATE INDEX ci_g ON ci (g);
CREATE INDEX ci_e ON ci (e);
CREATE SEQUENCE seq;
CREATE TRIGGER t_trg BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();
CREATE POLICY t_pol ON t USING (true);
CREATE DOMAIN posint AS int;
CREATE DOMAIN posint_chk AS int;
CREATE TABLE dm (id int, q posint, q2 posint_chk);
CREATE TABLE dm2 (id int, q posint);
INSERT INTO dm2 SELECT i, i FROM generate_series(1, 200) i;
ALTER DOMAIN posint_chk ADD CONSTRAINT posint_chk_pos CHECK (VALUE > 0) NOT VALID;
INSERT INTO dm SELECT i, i, i FROM generate_series(1, 200) i;
DROP PUBLICATION IF EXISTS pub_u;
CREATE PUBLICATION pub_u FOR TABLE u;
CREATE TYPE feel AS ENUM ('sad', 'ok');
CREATE PROCEDURE noop() LANGUAGE sql AS 'SELECT 1';
CREATE TYPE pair2 AS (a int, b int);
CREATE TYPE feel2 AS ENUM ('a', 'b');
CREATE DOMAIN posint2 AS int;
CREATE TABLE fl (id int, f feel2, g posint2);
`

// TestPhysicsAgainstPostgres checks the adapter's physics against a real
// PostgreSQL server: for each statement, the lock the server actually
// holds on the relation the effect names (the strongest mode, from
// pg_locks, inside a transaction that is rolled back) must be the lock
// migsafe says; the table must be read (pg_stat_get_xact_numscans) exactly
// when migsafe says the statement scans, builds an index over or rewrites
// it; and it must get a new relfilenode exactly when migsafe says the
// statement rewrites it.
func TestPhysicsAgainstPostgres(t *testing.T) {
	srv := testdb.PostgreSQL(t)
	psql := psqlFor(t, srv)
	cases := []struct {
		stmt    string
		rewrite bool // check the rewrite claim (not for TRUNCATE, which swaps files without copying)
	}{
		{"ALTER TABLE t ADD COLUMN c int", true},
		{"ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0", true},
		{"ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now()", true},
		{"ALTER TABLE t ADD COLUMN c timestamptz DEFAULT CURRENT_TIMESTAMP", true},
		{"ALTER TABLE t ADD COLUMN c jsonb DEFAULT '{}'::jsonb", true},
		{"ALTER TABLE t ADD COLUMN c text[] DEFAULT ARRAY[]::text[]", true},
		{"ALTER TABLE t ADD COLUMN c uuid DEFAULT gen_random_uuid()", true},
		{"ALTER TABLE t ADD COLUMN c float8 DEFAULT random()", true},
		{"ALTER TABLE t ADD COLUMN c timestamptz DEFAULT clock_timestamp()", true},
		{"ALTER TABLE t ADD COLUMN c int DEFAULT imm()", true},
		{"ALTER TABLE t ADD COLUMN c int DEFAULT stab()", true},
		{"ALTER TABLE t ADD COLUMN c int DEFAULT vol()", true},
		{"ALTER TABLE t ADD COLUMN c int DEFAULT NULL", true},
		{"ALTER TABLE t ADD COLUMN c bigint DEFAULT now_us()", true},
		{"ALTER TABLE t ADD COLUMN c bigint DEFAULT calls_now_us()", true},
		{"ALTER TABLE t ADD COLUMN c float8 DEFAULT rnd()", true},
		{"ALTER TABLE t ADD COLUMN c int DEFAULT vol_pl()", true},
		{"ALTER TABLE t ADD COLUMN c int DEFAULT vol_secdef()", true},
		{"ALTER TABLE t ADD COLUMN c int DEFAULT vol_from()", true},
		{"ALTER TABLE t ADD COLUMN c int DEFAULT ret1()", true},
		{"ALTER TABLE t ADD COLUMN c float8 DEFAULT imm_rnd()", true},
		{"ALTER TABLE t ADD COLUMN c int REFERENCES r (id)", true},
		{"ALTER TABLE t ADD COLUMN c int DEFAULT 1 REFERENCES r (id)", true},
		{"ALTER TABLE t ADD COLUMN c int CHECK (c > 0)", true},
		{"ALTER TABLE t ADD COLUMN c int DEFAULT 1 CHECK (c > 0)", true},
		{"ALTER TABLE t ADD COLUMN c int UNIQUE", true},
		{"ALTER TABLE t ADD COLUMN c bigserial", true},
		{"ALTER TABLE t ADD COLUMN c int GENERATED ALWAYS AS IDENTITY", true},
		{"ALTER TABLE t ADD COLUMN c int GENERATED ALWAYS AS (id * 2) STORED", true},
		{"ALTER TABLE t ALTER COLUMN v TYPE varchar(100)", true},
		{"ALTER TABLE t ALTER COLUMN v TYPE text", true},
		{"ALTER TABLE t ALTER COLUMN v TYPE varchar(50)", true},
		{"ALTER TABLE t ALTER COLUMN v TYPE varchar", true},
		{"ALTER TABLE t ALTER COLUMN v TYPE varchar(20)", true},
		{"ALTER TABLE t ALTER COLUMN id TYPE bigint", true},
		{"ALTER TABLE t ALTER COLUMN n TYPE numeric(12, 2)", true},
		{"ALTER TABLE t ALTER COLUMN n TYPE numeric(12, 3)", true},
		{"ALTER TABLE t ALTER COLUMN v SET NOT NULL", true},
		{"ALTER TABLE t ALTER COLUMN w SET NOT NULL", true}, // a validated CHECK (w IS NOT NULL): no scan
		{"ALTER TABLE u ADD CONSTRAINT u_pkey PRIMARY KEY USING INDEX u_id_key", true},
		{"ALTER TABLE u2 ADD CONSTRAINT u2_pkey PRIMARY KEY USING INDEX u2_id_key", true},
		{"ALTER TABLE t ALTER COLUMN v SET DEFAULT 'x'", true},
		{"ALTER TABLE t DROP COLUMN v", true},
		{"ALTER TABLE t RENAME COLUMN v TO v2", true},
		{"ALTER TABLE t RENAME TO t2", true},
		{"ALTER TABLE t RENAME CONSTRAINT t_ref_fk TO t_ref_fk2", true},
		{"ALTER TABLE t ADD CONSTRAINT t_n_pos CHECK (n > 0)", true},
		{"ALTER TABLE t ADD CONSTRAINT t_n_pos CHECK (n > 0) NOT VALID", true},
		{"ALTER TABLE t ADD CONSTRAINT t_id_fk FOREIGN KEY (id) REFERENCES r (id)", true},
		{"ALTER TABLE t ADD CONSTRAINT t_id_fk FOREIGN KEY (id) REFERENCES r (id) NOT VALID", true},
		{"ALTER TABLE t VALIDATE CONSTRAINT t_ref_fk", true},
		{"ALTER TABLE t VALIDATE CONSTRAINT t_w_nn", true}, // valid already: no scan
		{"ALTER MATERIALIZED VIEW mv SET (fillfactor = 50)", true},
		{"ALTER VIEW vw ALTER COLUMN x SET DEFAULT 1", true},
		{"ALTER TABLE t ALTER COLUMN v RESET (n_distinct)", true},
		{"ALTER TABLE t ADD CONSTRAINT t_v_key UNIQUE (v)", true},
		{"ALTER TABLE t ADD CONSTRAINT t_n_uq UNIQUE USING INDEX t_n_key", true},
		{"ALTER TABLE t ADD CONSTRAINT no_overlap EXCLUDE USING gist (during WITH &&)", true},
		{"ALTER TABLE t DROP CONSTRAINT t_ref_fk", true},

		{"ALTER TABLE t SET (fillfactor = 70)", true},
		{"ALTER TABLE t ALTER COLUMN v SET STATISTICS 500", true},
		{"ALTER TABLE t ENABLE ROW LEVEL SECURITY", true},
		{"ALTER TABLE t DISABLE TRIGGER ALL", true},
		{"ALTER TABLE t SET UNLOGGED", true},
		{"ALTER TABLE t REPLICA IDENTITY FULL", true},
		{"CREATE INDEX t_n_idx ON t (n)", true},
		{"DROP INDEX t_v_idx", true},
		{"ALTER INDEX t_v_idx RENAME TO t_v_idx2", true},
		{"REINDEX INDEX t_v_idx", true},
		{"REINDEX TABLE t", false}, // rebuilds the indexes, not the heap
		{"CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch()", true},
		{"CREATE POLICY t_all ON t USING (true)", true},
		{"CREATE TABLE c (id int, t_id int REFERENCES t (id))", true},
		{"CREATE TABLE p_2026 PARTITION OF p FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')", true},
		{"ALTER TABLE p ATTACH PARTITION p_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')", true},
		{"ALTER TABLE p DETACH PARTITION p_2024", true},
		{"REFRESH MATERIALIZED VIEW mv", true},
		{"REFRESH MATERIALIZED VIEW CONCURRENTLY mv", true},
		{"TRUNCATE t CASCADE", false},
		{"DROP TABLE r CASCADE", false},
		{"CLUSTER t USING t_pkey", true},
		{"LOCK TABLE t IN SHARE MODE", true},
		{"LOCK TABLE t IN ROW EXCLUSIVE MODE", true},
		{"ALTER TABLE t SET (toast_tuple_target = 256)", true},
		{"ALTER TABLE t SET (autovacuum_enabled = false)", true},
		{"ALTER TABLE t SET (parallel_workers = 2)", true},
		{"ALTER TABLE t RESET (fillfactor)", true},
		{"ALTER INDEX t_v_idx SET (fillfactor = 50)", true},
		{"ALTER TABLE t INHERIT par", true},
		{"ALTER TABLE t ALTER COLUMN v SET STORAGE EXTERNAL", true},
		{"ALTER TABLE t ALTER COLUMN w SET COMPRESSION pglz", true},
		{"ALTER TABLE t ALTER COLUMN v SET (n_distinct = 100)", true},
		{"ALTER TABLE t ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY", true},
		{"ALTER TABLE t CLUSTER ON t_pkey", true},
		{"ALTER TABLE t OWNER TO CURRENT_USER", true},
		{"ALTER TABLE t ALTER CONSTRAINT t_ref_fk DEFERRABLE", true},
		{"ALTER TABLE t ENABLE TRIGGER ALL", true},
		{"ALTER TABLE t SET WITHOUT CLUSTER", true},
		{"ALTER TABLE t ALTER COLUMN v TYPE text USING v::text", true},
		{"ALTER TABLE t ALTER COLUMN v TYPE varchar(100) USING v", true},
		{"ALTER TABLE t ALTER COLUMN v DROP DEFAULT", true},
		{"ALTER TABLE t ALTER COLUMN n TYPE numeric", true},
		{"ALTER TABLE t ALTER COLUMN n TYPE numeric(10, 2)", true},
		{"ALTER TABLE t ALTER COLUMN id TYPE int", true},
		{"ALTER TABLE t ALTER COLUMN id TYPE integer", true},
		{"ALTER TABLE t ALTER COLUMN v TYPE character varying(60)", true},
		{"ALTER TABLE t ALTER COLUMN during TYPE tstzrange", true},
		{"COMMENT ON TABLE t IS 'x'", true},
		{"ALTER INDEX p_v_idx ATTACH PARTITION p_2024_v_idx", true},
		{"ALTER TABLE u2 ALTER COLUMN x TYPE int", true}, // a NOT VALID CHECK is not checked again
		{"CREATE OR REPLACE VIEW vw AS SELECT x FROM u", true},
		{"DROP TABLE kid", false},
		{"TRUNCATE kid", false},
		{"ALTER TABLE kid DROP COLUMN r_id", true},
		{"ALTER TABLE kid RENAME TO kid2", true},
		{"SET LOCAL TimeZone = 'Europe/Paris'; ALTER TABLE u2 ALTER COLUMN ts TYPE timestamptz", true},
		{"ALTER VIEW vw SET (security_barrier = true)", true},
		{"ALTER TABLE t SET (user_catalog_table = true)", true},
		{"ALTER TABLE t SET (fillfactor = 70, user_catalog_table = true)", true},
		{"ALTER TABLE t ALTER COLUMN w TYPE text", true},
		{"ALTER TABLE t ALTER COLUMN w TYPE varchar", true},
		{"ALTER TABLE t ALTER COLUMN v TYPE varchar(100) COLLATE \"C\"", true},
		{"ALTER INDEX t_w_gin SET (fastupdate = off)", true},
		{"ALTER INDEX t_w_gin SET (gin_pending_list_limit = 1024)", true},
		{"ALTER INDEX t_during_gist SET (buffering = on)", true},
		{"ALTER INDEX t_during_gist RESET (buffering)", true},
		{"ALTER TABLE t RESET (user_catalog_table)", true},
		{"ALTER TABLE t ALTER COLUMN w TYPE text COLLATE \"C\"", true},
		{"CREATE INDEX p_at_idx ON p (at)", true},
		{"CREATE INDEX p_at_idx ON ONLY p (at)", true},
		{"CREATE INDEX t_w_only ON ONLY t (w)", true}, // ONLY on a plain table builds as usual
		{"UPDATE t SET v = 'x' WHERE id = 1", true},
		// text, varchar and citext are binary coercible, but an index
		// moves to citext's case-insensitive operator class: it is built
		// again (issue 12)
		{"ALTER TABLE ci ALTER COLUMN a TYPE citext", true},
		{"ALTER TABLE ci ALTER COLUMN b TYPE citext", true},
		{"ALTER TABLE ci ALTER COLUMN d TYPE citext", true},
		{"ALTER TABLE ci ALTER COLUMN c TYPE text", true},
		{"ALTER TABLE ci ALTER COLUMN c TYPE varchar", true},
		{"ALTER TABLE ci ALTER COLUMN c TYPE varchar(10)", true},
		{"ALTER TABLE ci ALTER COLUMN a TYPE varchar", true},
		// interval typmods: fields and fractional precision
		{"ALTER TABLE ci ALTER COLUMN e TYPE interval(3)", true},
		{"ALTER TABLE ci ALTER COLUMN e TYPE interval day to second", true},
		{"ALTER TABLE ci ALTER COLUMN e TYPE interval day", true},
		{"ALTER TABLE ci ALTER COLUMN e TYPE interval hour to minute", true},
		{"ALTER TABLE ci ALTER COLUMN f TYPE interval", true},
		{"ALTER TABLE ci ALTER COLUMN f TYPE interval(6)", true},
		{"ALTER TABLE ci ALTER COLUMN f TYPE interval(1)", true},
		{"ALTER TABLE ci ALTER COLUMN j TYPE interval(3)", true},
		{"ALTER TABLE ci ALTER COLUMN j TYPE interval day to second(1)", true},
		{"ALTER TABLE ci ALTER COLUMN j TYPE interval", true},
		// timestamp precision
		{"ALTER TABLE ci ALTER COLUMN h TYPE timestamp(6)", true},
		{"ALTER TABLE ci ALTER COLUMN h TYPE timestamp", true},
		{"ALTER TABLE ci ALTER COLUMN h TYPE timestamp(1)", true},
		{"ALTER TABLE ci ALTER COLUMN g TYPE timestamp(3)", true},
		// timestamp ↔ timestamptz in a session whose time zone is UTC
		{"SET LOCAL TimeZone = 'UTC'; ALTER TABLE ci ALTER COLUMN g TYPE timestamptz", true},
		{"SET LOCAL TimeZone = 'Etc/UTC'; ALTER TABLE u2 ALTER COLUMN ts TYPE timestamptz", true},
		{"SET LOCAL TIME ZONE 'GMT'; ALTER TABLE u2 ALTER COLUMN ts TYPE timestamptz", true},
		{"SET LOCAL TIME ZONE 0; ALTER TABLE u2 ALTER COLUMN ts TYPE timestamptz", true},
		{"SET LOCAL TimeZone = 'UTC'; ALTER TABLE u2 ALTER COLUMN ts TYPE timestamptz(3)", true},
		{"SET LOCAL TimeZone = 'UTC'; ALTER TABLE ci ALTER COLUMN h TYPE timestamptz", true},
		{"SET LOCAL TimeZone = 'UTC'; ALTER TABLE ci ALTER COLUMN h TYPE timestamptz(1)", true},
		// DDL inside a DO block takes the locks it takes outside
		{"DO $$ BEGIN CREATE INDEX t_n_idx2 ON t (n); END $$", true},
		{"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 't_v_key2') THEN ALTER TABLE t ADD CONSTRAINT t_v_key2 UNIQUE (v); END IF; END $$", true},
		// SET NOT NULL on a column that is NOT NULL already
		{"ALTER TABLE ci ALTER COLUMN k SET NOT NULL", true},
		{"ALTER TABLE r ALTER COLUMN id SET NOT NULL", true},
		{"ALTER TABLE ci ALTER COLUMN k DROP NOT NULL", true},
		{"DROP VIEW vw", false},
		{"ALTER TABLE p ATTACH PARTITION p_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01'); ALTER TABLE p DETACH PARTITION p_2025", true},
		// objects dropped ON a table lock the table
		{"DROP TRIGGER t_trg ON t", true},
		{"DROP POLICY t_pol ON t", true},
		// ALTER SEQUENCE locks the sequence against nextval()
		// (it writes the sequence's one row to a new file: no table rewrite)
		{"ALTER SEQUENCE seq RESTART", false},
		{"ALTER SEQUENCE seq RESTART WITH 10", false},
		{"ALTER SEQUENCE seq INCREMENT BY 2", false},
		// eugene's tracer tests (eugene/src/tracing.rs; fixtures/peers/eugene/trace_*)
		{"ALTER TABLE ci ALTER COLUMN d TYPE varchar(255)", true}, // text to varchar(n): rewritten (test_that_we_discover_column_type_changes)
		{"ALTER TABLE ci ALTER COLUMN k TYPE bigint", true},       // widening int: rewritten (test_widening_type_causes_rewrite)
		{"ALTER TABLE u ADD COLUMN meta json", true},              // ACCESS EXCLUSIVE, catalog only (test_that_we_see_access_exclusive_lock_on_alter)
		// COMMENT ON COLUMN locks the table SHARE UPDATE EXCLUSIVE, as
		// COMMENT ON TABLE does (squawk's lock table in
		// require_timeout_settings.rs)
		{"COMMENT ON COLUMN t.v IS 'an opaque id'", false},
		// statements that create objects no one uses yet, or only set
		// the session, lock no table of the schema
		{"CREATE SCHEMA s2", true},
		{"CREATE SCHEMA s3 CREATE TABLE s3t (id int)", true},
		{"CREATE TYPE mood2 AS ENUM ('sad', 'ok')", true},
		{"CREATE FUNCTION f2() RETURNS int LANGUAGE sql AS 'SELECT 1'", true},
		{"SET LOCAL lock_timeout = '1s'", true},
		{"SELECT set_config('lock_timeout', '1s', true)", true},
		// statements that read a table or its statistics
		{"ANALYZE t", true},
		{"SELECT count(*) FROM t", true},
		{"SELECT count(*) FROM u JOIN t ON t.id = u.id", true},
		{"WITH w AS (SELECT 1 AS one) SELECT * FROM w", true},
		{"COPY t TO STDOUT", true},
		{"CREATE STATISTICS t_st ON v, n FROM t", true},
		{"GRANT SELECT ON t TO PUBLIC", true},
		{"CREATE RULE t_r AS ON INSERT TO t DO ALSO NOTIFY t", true},
		{"ALTER DOMAIN posint ADD CONSTRAINT posint_pos CHECK (VALUE > 0)", true},
		{"ALTER DOMAIN posint ADD CONSTRAINT posint_pos CHECK (VALUE > 0) NOT VALID", true},
		{"ALTER DOMAIN posint SET NOT NULL", true},
		{"ALTER DOMAIN posint DROP NOT NULL", true},
		{"ALTER DOMAIN posint_chk VALIDATE CONSTRAINT posint_chk_pos", true},
		{"ALTER DOMAIN posint SET DEFAULT 1", true},
		{"ALTER PUBLICATION pub_u DROP TABLE u", true},
		{"CREATE PUBLICATION pub_t FOR TABLE t", true},
		{"ALTER PUBLICATION pub_u ADD TABLE t", true},
		{"ALTER FUNCTION vol() STABLE", true},
		{"CREATE AGGREGATE mysum (int) (SFUNC = int4pl, STYPE = int)", true},
		{"CREATE TYPE pair AS (a int, b int)", true},
		{"ALTER TYPE feel RENAME TO feel3", true},
		{"NOTIFY t", true},
		{"CALL noop()", true},
		{"EXPLAIN SELECT * FROM t", true},
		{"EXPLAIN ANALYZE UPDATE t SET ref = ref WHERE id = 1", true},
		{"PREPARE upd AS UPDATE t SET ref = ref WHERE id = 1", true},
		{"CHECKPOINT", true},
		{"ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC", true},
		{"ALTER FUNCTION vol() OWNER TO CURRENT_USER", true},
		{"ALTER FUNCTION vol() SET SCHEMA public", true},
		{"CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = int4eq)", true},
		{"CREATE TEXT SEARCH CONFIGURATION ts2 (COPY = simple)", true},
		{"ALTER STATISTICS IF EXISTS nope SET STATISTICS 10", true},
		{"CREATE CAST (posint AS text) WITH INOUT", true},
		{"CREATE EXTENSION IF NOT EXISTS pg_trgm", true},
		{"CREATE SEQUENCE seq2 OWNED BY t.id", true},
		{"ALTER TYPE pair2 ADD ATTRIBUTE c int", true},
		{"CREATE DOMAIN posint3 AS int CHECK (VALUE > 0)", true},
		{"DISCARD PLANS", true},
		{"LISTEN ch", true},
		{"SHOW lock_timeout", true},
		{"ALTER ROLE CURRENT_USER SET lock_timeout = '1s'", true},
		{"CREATE TRIGGER t_upd AFTER UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch()", true},
		{"DROP FUNCTION vol_pl()", true},
		{"DROP TYPE feel", true},
		{"DROP TYPE feel CASCADE", true},
		{"DROP TYPE feel2 CASCADE", true},
		{"DROP DOMAIN posint2 CASCADE", true},
		{"EXPLAIN (ANALYZE, COSTS off) SELECT count(*) FROM u", true},
		{"EXPLAIN DELETE FROM t WHERE id = 1", true},
		{"PREPARE sel AS SELECT * FROM t", true},
		{"DROP SEQUENCE seq", true},
		{"DROP DOMAIN posint_chk CASCADE", true},
		{"DROP EXTENSION IF EXISTS pg_trgm", true},
		{"REVOKE ALL ON t FROM PUBLIC", true},
		{"ALTER TABLE t SET SCHEMA public", true},
		{"ALTER MATERIALIZED VIEW mv RENAME TO mv2", true},
		{"ALTER VIEW vw RENAME TO vw2", true},
		{"ALTER INDEX t_v_idx SET TABLESPACE pg_default", true},
		{"ALTER TABLE t ALTER COLUMN v SET COMPRESSION pglz", true},
		{"ALTER TABLE t ALTER COLUMN v SET STORAGE EXTERNAL", true},
		{"DROP MATERIALIZED VIEW mv", true},
	}
	d, err := postgres.New(fmt.Sprint(majorOf(srv.Version)))
	if err != nil {
		t.Fatal(err)
	}
	// what waits behind what, with two sessions: the claims that a lock
	// blocks more than its mode says (issue 12)
	for _, c := range []struct {
		name, holder, waiter string
		waits                bool
	}{
		// REINDEX INDEX locks the index ACCESS EXCLUSIVE, and planning
		// any query on the table locks all its indexes: a read that
		// does not use the index waits too
		{"REINDEX INDEX blocks reads of the table", "REINDEX INDEX t_v_idx", "SELECT id FROM t WHERE id = 1", true},
		{"REINDEX TABLE blocks reads of the table", "REINDEX TABLE u", "SELECT x FROM u", true},
		// the control: its SHARE lock alone does not
		{"a SHARE lock lets reads through", "LOCK TABLE t IN SHARE MODE", "SELECT id FROM t WHERE id = 1", false},
		// DETACH PARTITION CONCURRENTLY waits for an ACCESS EXCLUSIVE
		// lock on the partition: a reader of the partition holds it up
		{"DETACH CONCURRENTLY waits for readers of the partition", "SELECT count(*) FROM p_2024", "ALTER TABLE p DETACH PARTITION p_2024 CONCURRENTLY", true},
		// ALTER SEQUENCE blocks nextval()
		{"ALTER SEQUENCE blocks nextval", "ALTER SEQUENCE seq RESTART", "SELECT nextval('seq')", true},
		// a statement after an ACCESS EXCLUSIVE lock runs with it held
		// (eugene's E4)
		{"a lock is held through the statements after it", "ALTER TABLE t ADD COLUMN c int; SELECT count(*) FROM u", "SELECT id FROM t WHERE id = 1", true},
		// REINDEX SYSTEM (no CONCURRENTLY for catalogs) waits for a
		// transaction that read a catalog by its index: it locks each
		// catalog index it rebuilds (squawk passes it; fixtures/peers)
		{"REINDEX SYSTEM waits for readers of the catalogs", "SET LOCAL enable_seqscan = off; SELECT relname FROM pg_class WHERE oid = 1259", "REINDEX SYSTEM " + srv.Database, true},
		// statements squawk wants a lock_timeout for whose locks no read
		// or write of the table waits behind (fixtures/peers/squawk)
		{"COMMENT ON COLUMN lets writes through", "COMMENT ON COLUMN t.v IS 'an opaque id'", "UPDATE t SET ref = ref WHERE id = 1", false},
		{"LOCK TABLE IN ACCESS SHARE MODE lets writes through", "LOCK TABLE t IN ACCESS SHARE MODE", "UPDATE t SET ref = ref WHERE id = 1", false},
		{"CREATE TYPE lets writes through", "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')", "UPDATE t SET ref = ref WHERE id = 1", false},
		{"VACUUM (FULL false) does not wait for writers", "UPDATE t SET ref = ref WHERE id = 1", "VACUUM (FULL false) t", false},
		// DROP TRIGGER … ON t blocks reads of t
		{"DROP TRIGGER blocks reads", "DROP TRIGGER t_trg ON t", "SELECT id FROM t WHERE id = 1", true},
		// VACUUM FULL waits for a reader of the table (squawk passes it
		// before PostgreSQL 19; fixtures/peers/squawk/repack_*)
		{"VACUUM FULL waits for readers", "SELECT count(*) FROM t", "VACUUM FULL t", true},
		// a migration that creates a table and alters it locks no
		// existing table (squawk asks for a lock_timeout;
		// fixtures/peers/squawk/timeout_fix_multiple_ddl.sql)
		{"CREATE TABLE and ALTER of it let writes through", "CREATE TABLE users (id serial); ALTER TABLE users ADD COLUMN email text", "UPDATE t SET ref = ref WHERE id = 1", false},
		{"SELECT INTO a new table lets writes through", "SELECT 1 a INTO t9", "UPDATE t SET ref = ref WHERE id = 1", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			waits, err := lockWaits(srv, psql, physicsSetup, c.holder, c.waiter)
			if err != nil {
				t.Fatal(err)
			}
			if waits != c.waits {
				t.Errorf("after %q in an open transaction, %q waited for a lock: %v, want %v", c.holder, c.waiter, waits, c.waits)
			}
		})
	}
	// one ALTER TABLE proves every SET NOT NULL and CHECK in one scan and
	// makes every type change in one rewrite; separate statements each do
	// their own (rules/repeated_table_scan.go)
	for _, c := range []struct {
		stmt  string
		scans int
	}{
		{"ALTER TABLE u ALTER COLUMN x SET NOT NULL; ALTER TABLE u ALTER COLUMN id SET NOT NULL", 2},
		{"ALTER TABLE u ALTER COLUMN x SET NOT NULL, ALTER COLUMN id SET NOT NULL", 1},
		{"ALTER TABLE u ALTER COLUMN x SET NOT NULL; ALTER TABLE u ADD CONSTRAINT u_x_pos CHECK (x > 0)", 2},
		{"ALTER TABLE u ALTER COLUMN x SET NOT NULL, ADD CONSTRAINT u_x_pos CHECK (x > 0)", 1},
		// catalog-only changes read nothing, split or not (eugene's W12
		// flags them; fixtures/peers/eugene/lint_two_add_columns.sql)
		{"ALTER TABLE u ADD COLUMN a jsonb; ALTER TABLE u ADD COLUMN b numeric", 0},
		// a foreign key on a column added by an earlier statement is
		// validated by reading the table, though the column holds only
		// NULLs (eugene's test_that_we_discover_new_foreign_key_constraint)
		{"ALTER TABLE u ADD COLUMN r_id int; ALTER TABLE u ADD CONSTRAINT u_r_fk FOREIGN KEY (r_id) REFERENCES r (id)", 1},
		// in one statement PostgreSQL skips that validation
		{"ALTER TABLE u ADD COLUMN r_id int REFERENCES r (id)", 0},
	} {
		t.Run("passes/"+c.stmt, func(t *testing.T) {
			m, err := measure(psql, physicsSetup, c.stmt)
			if err != nil {
				t.Fatal(err)
			}
			if m.scans["u"] != c.scans {
				t.Errorf("PostgreSQL %s read u %d times, want %d", srv.Version, m.scans["u"], c.scans)
			}
		})
	}
	// every kind of change the translator produces is measured (read
	// from its source, so that a new kind cannot be left out), except
	// those whose lock is not on a relation (pg_locks shows it as an
	// object lock) or that cannot run in a transaction
	measured := map[string]bool{}
	notMeasured := map[string]string{
		"*change.Vacuum":          "VACUUM cannot run inside a transaction block",
		"*change.DropSchema":      "the lock is on the schema object; each relation in it is dropped under its own lock",
		"*change.RenameEnumValue": "the lock is on the type object, not on a relation",
		"*change.AddEnumValue":    "the lock is on the type object, not on a relation",
		"*change.Transaction":     "BEGIN and COMMIT: each case runs in a transaction of its own, and the two-session cases hold locks across statements",
		"*change.Unknown":         "a statement kind migsafe does not model: it claims no lock, and its findings say the statement was not checked",
	}
	kinds := translatedKinds(t)
	for k := range notMeasured {
		if !slices.Contains(kinds, k) {
			t.Errorf("notMeasured names %s, which the translator does not produce", k)
		}
	}
	defer func() {
		for _, k := range kinds {
			if !measured[k] && notMeasured[k] == "" && !t.Failed() {
				t.Errorf("no case measures the physics of %s on the server", k)
			}
		}
	}()
	for _, c := range cases {
		t.Run(c.stmt, func(t *testing.T) {
			eff, ch := effectOf(t, d, physicsSetup, c.stmt)
			measured[fmt.Sprintf("%T", ch)] = true
			m, err := measure(psql, physicsSetup, c.stmt)
			if err != nil {
				t.Fatal(err)
			}
			locks, before, after, scans := m.locks, m.before, m.after, m.scans
			on := strings.TrimPrefix(eff.On, "public.")
			got := strongest(locks[on])
			want := eff.Lock
			if want == "" {
				want = "(none)"
			}
			if got != want {
				t.Errorf("%T: migsafe says %s on %q, PostgreSQL %s holds %s (all locks: %v)", ch, want, on, srv.Version, got, locks)
			}
			// no relation named: the statement must lock no table of
			// the setup either (the comparison above would be vacuous)
			if on == "" {
				for rel, modes := range locks {
					if _, existed := before[rel]; existed {
						t.Errorf("%T: migsafe names no relation, PostgreSQL %s holds %v on %s", ch, srv.Version, modes, rel)
					}
				}
			}
			// a note "and on every other table with a column of posint (2
			// in all)" names the setup's other tables with such a column
			if m := typeUsersNote.FindStringSubmatch(eff.Note); m != nil {
				users := map[string][]string{"posint": {"dm", "dm2"}}[m[1]]
				if fmt.Sprint(len(users)) != m[2] {
					t.Errorf("%T: migsafe says %s tables have a column of %s, the setup has %v", ch, m[2], m[1], users)
				}
				for _, u := range users {
					if got := strongest(locks[u]); got != eff.Lock {
						t.Errorf("%T: migsafe says %s on every table with a column of %s, PostgreSQL holds %s on %s", ch, eff.Lock, m[1], got, u)
					}
				}
			}
			// a note "and a SHARE ROW EXCLUSIVE lock on r" names a second lock
			if m := secondLock.FindStringSubmatch(eff.Note); m != nil && m[2] != "each" {
				if got := strongest(locks[m[2]]); got != m[1] {
					t.Errorf("%T: migsafe says %s on %q too, PostgreSQL holds %s (all locks: %v)", ch, m[1], m[2], got, locks)
				}
			}
			// a scan, an index build and a rewrite all read the table
			reads := false // reads what it asks for, which is not the migration's scan
			if x, ok := ch.(*change.Other); ok {
				reads = x.Kind == "SELECT" || x.Kind == "COPY TO"
			}
			switch ch.(type) {
			case *change.DML, *change.Truncate, *change.DropTable, *change.RefreshMatView:
				// DML reads what it must; TRUNCATE and DROP read nothing
				// but rebuild or drop files; REFRESH reads the query's
				// tables, not the view
			default:
				if reads {
					break
				}
				if before[on] == "0" {
					break // a partitioned table has no storage: its partitions are read
				}
				if claims, read := eff.Work != change.WorkNone, scans[on] > 0; claims != read {
					t.Errorf("%T: migsafe says %q on %s, PostgreSQL read it %d times", ch, eff.Work, on, scans[on])
				}
			}
			if c.rewrite {
				table := on
				if _, ok := before[table]; !ok {
					return // a lock on an index or a new table: no rewrite to compare
				}
				rewritten := before[table] != after[table] && after[table] != ""
				if claims := eff.Work == change.WorkRewrite; claims != rewritten {
					t.Errorf("%T: migsafe says rewrite=%v (%s), PostgreSQL rewrote %s: %v", ch, claims, eff.Note, table, rewritten)
				}
				// the table's existing indexes: all rebuilt by a rewrite,
				// none by a catalog change or a scan, some by an index
				// build of ALTER COLUMN TYPE
				var rebuilt, kept []string
				for _, ix := range m.indexes[table] {
					now := after[ix]
					if now == "" {
						// ALTER COLUMN TYPE drops and creates the index
						// again under a new oid, reusing its storage
						// when it can
						now = m.afterByName[ix]
					}
					switch {
					case now == "":
						// dropped
					case now != before[ix]:
						rebuilt = append(rebuilt, ix)
					default:
						kept = append(kept, ix)
					}
				}
				switch eff.Work {
				case change.WorkRewrite:
					if len(kept) > 0 {
						t.Errorf("%T: migsafe says the table is rewritten, but PostgreSQL kept its indexes %v", ch, kept)
					}
				case change.WorkNone, change.WorkScan:
					if len(rebuilt) > 0 {
						t.Errorf("%T: migsafe says %q, but PostgreSQL rebuilt the indexes %v", ch, eff.Work, rebuilt)
					}
				case change.WorkIndexBuild:
					if _, ok := ch.(*change.AlterColumnType); ok && len(rebuilt) == 0 {
						t.Errorf("%T: migsafe says an index is built again (%s), PostgreSQL rebuilt none of %v", ch, eff.Note, kept)
					}
				}
			}
		})
	}
}

// TestPostgresRejects runs statements of the peers' test suites that
// PostgreSQL refuses, and checks the error it gives (fixtures/peers: a
// peer's verdict on a statement that cannot run).
func TestPostgresRejects(t *testing.T) {
	srv := testdb.PostgreSQL(t)
	psql := psqlFor(t, srv)
	for _, c := range []struct{ stmt, err string }{
		// squawk's assume_in_transaction passes a lone CREATE INDEX
		// CONCURRENTLY; the transaction it assumes makes it fail
		{"BEGIN; CREATE UNIQUE INDEX CONCURRENTLY t_n_key2 ON t (n); COMMIT", "CREATE INDEX CONCURRENTLY cannot run inside a transaction block"},
		// squawk's default_random_with_args_err: now() takes no argument
		{`ALTER TABLE t ADD COLUMN foo timestamptz DEFAULT now(123)`, "function now(integer) does not exist"},
		// squawk's ban_char_field all_the_types: "int array[]" is not
		// PostgreSQL's grammar (int ARRAY or int ARRAY[n] is)
		{"CREATE TABLE t2 (b char(100), m int array[])", `syntax error at or near "]"`},
	} {
		t.Run(c.stmt, func(t *testing.T) {
			_, err := psql("SET client_min_messages = warning;\nCREATE EXTENSION IF NOT EXISTS citext SCHEMA public;\nDROP SCHEMA IF EXISTS physr CASCADE;\nCREATE SCHEMA physr;\nSET search_path = physr, public;\n" + physicsSetup + "\n" + c.stmt + ";\n")
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("PostgreSQL %s answered %q with %v, want an error with %q", srv.Version, c.stmt, err, c.err)
			}
		})
	}
}

// effectOf replays setup and returns the effect of the single change of stmt
// that locks the most (the first one when the statement has several).
func effectOf(t *testing.T, d *postgres.Dialect, setup, stmt string) (change.Effect, change.Change) {
	t.Helper()
	src := []byte(setup + "\n" + stmt + ";\n")
	stmts, _ := d.Parse(src, analyzer.Span{Start: 0, End: len(src)})
	cat := catalog.New()
	var sess analyzer.Session
	for i, s := range stmts {
		if s.SyntaxError != nil {
			t.Fatalf("does not parse: %s", s.SyntaxError.Message)
		}
		s.Index = i
		s.Session = sess
		for _, ch := range s.Changes {
			// the session settings the physics reads, as the engine
			// keeps them
			if sp, ok := ch.(*change.SetParam); ok && sp.Name == "timezone" {
				sess.TimeZone = sp.Value
			}
		}
		d.Analyze(s, cat)
		if i == len(stmts)-1 {
			if len(s.Changes) == 0 {
				t.Fatal("no change")
			}
			return s.Changes[0].Base().Effect, s.Changes[0]
		}
		for _, ch := range s.Changes {
			cat.Apply(ch, catalog.Origin{Path: "setup.sql", Deploy: 1, Stmt: i})
		}
	}
	t.Fatal("no statement")
	return change.Effect{}, nil
}

// measurement is what the server did for one statement, by relation name
// (as named before the statement).
type measurement struct {
	locks         map[string][]string // lock modes held
	before, after map[string]string   // relfilenodes
	scans         map[string]int      // sequential and index scans of the table
	indexes       map[string][]string // a table's indexes before the statement
	afterByName   map[string]string   // relfilenodes after, by the relation's name then
}

// measure runs setup in a fresh schema, then stmt in a transaction, and
// returns the locks the transaction holds on each relation of the schema
// and the relfilenodes before and after (rolled back afterwards).
func measure(psql func(string) (string, error), setup, stmt string) (measurement, error) {
	script := `SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS citext SCHEMA public;
DROP SCHEMA IF EXISTS phys CASCADE;
CREATE SCHEMA phys;
SET search_path = phys, public;
` + setup + `
BEGIN;
SELECT 'before', oid, relname, relfilenode FROM pg_class WHERE relnamespace = 'phys'::regnamespace;
SELECT 'index', indexrelid, '', indrelid FROM pg_index WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'phys'::regnamespace);
SELECT 'scans0', oid, '', pg_stat_get_xact_numscans(oid) FROM pg_class WHERE relnamespace = 'phys'::regnamespace;
` + stmt + `;
SELECT 'scans1', oid, '', pg_stat_get_xact_numscans(oid) FROM pg_class WHERE relnamespace = 'phys'::regnamespace;
SELECT 'lock', relation, '', mode FROM pg_locks WHERE pid = pg_backend_pid() AND granted AND locktype = 'relation';
SELECT 'after', oid, relname, relfilenode FROM pg_class WHERE relnamespace = 'phys'::regnamespace;
ROLLBACK;
`
	out, err := psql(script)
	if err != nil {
		return measurement{}, err
	}
	scans := map[string]int{}
	indexes := map[string][]string{}
	// relations are named as they were before the statement (it may
	// rename or drop them), found by their oid
	locks, before, after := map[string][]string{}, map[string]string{}, map[string]string{}
	names := map[string]string{}
	afterByName := map[string]string{}
	var lines [][]string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Split(line, "|"); len(f) == 4 {
			lines = append(lines, f)
			if f[0] == "after" {
				afterByName[f[2]] = f[3]
			}
			if f[0] == "before" {
				names[f[1]] = f[2]
				before[f[2]] = f[3]
			}
		}
	}
	for _, f := range lines {
		name, ok := names[f[1]]
		if !ok {
			continue // a relation of another schema, or a new one
		}
		switch f[0] {
		case "lock":
			locks[name] = append(locks[name], f[3])
		case "after":
			after[name] = f[3]
		case "scans0":
			scans[name] -= atoi(f[3])
		case "scans1":
			scans[name] += atoi(f[3])
		case "index":
			if table, ok := names[f[3]]; ok {
				indexes[table] = append(indexes[table], name)
			}
		}
	}
	return measurement{locks: locks, before: before, after: after, scans: scans, indexes: indexes, afterByName: afterByName}, nil
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			n = n*10 + int(c-'0')
		}
	}
	return n
}

var typeUsersNote = regexp.MustCompile(`and on every other table with a column of (?:public\.)?(\w+) \((\d+) in all\)`)

var secondLock = regexp.MustCompile(`and an? ([A-Z ]+) lock on (?:public\.)?(\w+)`)

var lockStrength = []string{"AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}

// strongest names the strongest of the modes the way migsafe writes them.
func strongest(modes []string) string {
	best := -1
	for _, m := range modes {
		for i, s := range lockStrength {
			if s == m && i > best {
				best = i
			}
		}
	}
	if best < 0 {
		return "(none)"
	}
	name := strings.TrimSuffix(lockStrength[best], "Lock")
	var words []string
	start := 0
	for i := 1; i <= len(name); i++ {
		if i == len(name) || (name[i] >= 'A' && name[i] <= 'Z') {
			words = append(words, strings.ToUpper(name[start:i]))
			start = i
		}
	}
	return strings.Join(words, " ")
}

// psqlFor returns a function that runs a script with psql against srv,
// statement by statement, stopping at the first error.
func psqlFor(t *testing.T, srv *testdb.Server) func(string) (string, error) {
	psql := psqlPath()
	return func(script string) (string, error) {
		cmd := exec.Command(psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", srv.Host, "-p", fmt.Sprint(srv.Port), "-U", srv.User, "-d", srv.Database, "-f", "-")
		cmd.Stdin = strings.NewReader(script)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("%w: %s", err, out)
		}
		return string(out), nil
	}
}

func majorOf(version string) int {
	n := 0
	for _, c := range version {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// lockWaits runs setup in a fresh schema, then holder in a transaction
// that stays open in one session, and reports whether waiter, in another
// session with a short lock_timeout, had to wait for a lock.
func lockWaits(srv *testdb.Server, psql func(string) (string, error), setup, holder, waiter string) (bool, error) {
	if _, err := psql(`SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS citext SCHEMA public;
DROP SCHEMA IF EXISTS physw CASCADE;
CREATE SCHEMA physw;
SET search_path = physw, public;
` + setup); err != nil {
		return false, err
	}
	holdCmd := exec.Command(psqlPath(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", srv.Host, "-p", fmt.Sprint(srv.Port), "-U", srv.User, "-d", srv.Database, "-f", "-")
	holdCmd.Env = append(os.Environ(), "PGAPPNAME=migsafe_holder")
	holdCmd.Stdin = strings.NewReader("SET search_path = physw, public;\nBEGIN;\n" + holder + ";\nSELECT 'held';\nSELECT pg_sleep(30);\nROLLBACK;\n")
	var out strings.Builder
	holdCmd.Stdout, holdCmd.Stderr = &out, &out
	if err := holdCmd.Start(); err != nil {
		return false, err
	}
	defer func() {
		_, _ = psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'migsafe_holder'")
		_ = holdCmd.Wait()
	}()
	// wait until the holder sleeps with its locks
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'migsafe_holder' AND query LIKE '%pg_sleep%' AND state = 'active'")
		if err != nil {
			return false, err
		}
		if strings.TrimSpace(got) == "1" {
			break
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("the holder never got its locks: %s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, err := psql("SET search_path = physw, public;\nSET lock_timeout = '300ms';\n" + waiter + ";\n")
	if err == nil {
		return false, nil
	}
	if strings.Contains(err.Error(), "lock timeout") {
		return true, nil
	}
	return false, err
}

// psqlPath is the newest installed psql.
func psqlPath() string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/psql")
	sort.Strings(matches)
	if len(matches) > 0 {
		return matches[len(matches)-1]
	}
	return "psql"
}

// translatedKinds lists the kinds of change the PostgreSQL translator
// produces: every &change.X{…} in the package's sources whose type embeds
// change.Meta.
func translatedKinds(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	isChange := map[string]bool{}
	f, err := parser.ParseFile(fset, filepath.Join("..", "..", "analyzer", "change", "change.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if ts, ok := n.(*ast.TypeSpec); ok {
			if st, ok := ts.Type.(*ast.StructType); ok {
				for _, fl := range st.Fields.List {
					if id, ok := fl.Type.(*ast.Ident); ok && len(fl.Names) == 0 && id.Name == "Meta" {
						isChange[ts.Name.Name] = true
					}
				}
			}
		}
		return true
	})
	srcs, _ := filepath.Glob("*.go")
	seen := map[string]bool{}
	for _, src := range srcs {
		if strings.HasSuffix(src, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, src, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if u, ok := n.(*ast.UnaryExpr); ok && u.Op == token.AND {
				if cl, ok := u.X.(*ast.CompositeLit); ok {
					if sel, ok := cl.Type.(*ast.SelectorExpr); ok && isChange[sel.Sel.Name] {
						if id, ok := sel.X.(*ast.Ident); ok && id.Name == "change" {
							seen["*change."+sel.Sel.Name] = true
						}
					}
				}
			}
			return true
		})
	}
	if len(seen) < 30 {
		t.Fatalf("found only %d kinds of change in the translator's sources: %v", len(seen), seen)
	}
	return slices.Sorted(maps.Keys(seen))
}
