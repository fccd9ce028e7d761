package migrate

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// Schema is a canonical snapshot of a database schema: one entry per
// object ("column public.users.email" → "text not null default ”"),
// without the runner's own tables and golang-migrate's.
type Schema struct {
	Objects map[string]string
}

// internalTables are the runner's and golang-migrate's tables: not part
// of the application's schema.
var internalTables = []string{"schema_migrations", "schema_migrations_pkey", "migsafe_history", "migsafe_rollback_verifications", "migsafe_scratch"}

func sqlList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	return strings.Join(q, ",")
}

// Fingerprint is a hash of the whole snapshot.
func (s *Schema) Fingerprint() string {
	keys := s.Keys()
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s\x00%s\n", k, s.Objects[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Keys returns the object keys, sorted.
func (s *Schema) Keys() []string {
	keys := make([]string, 0, len(s.Objects))
	for k := range s.Objects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Has reports whether the schema has an object.
func (s *Schema) Has(key string) bool { _, ok := s.Objects[key]; return ok }

// Difference is one object that differs between two snapshots; an empty
// Before means added, an empty After means removed.
type Difference struct {
	Key           string `json:"object"`
	Before, After string `json:",omitempty"`
}

func (d Difference) String() string {
	switch {
	case d.Before == "":
		return fmt.Sprintf("+ %s: %s", d.Key, d.After)
	case d.After == "":
		return fmt.Sprintf("- %s: %s", d.Key, d.Before)
	}
	return fmt.Sprintf("~ %s: %s → %s", d.Key, d.Before, d.After)
}

// Diff lists what changed from a to b, by object key.
func Diff(a, b *Schema) []Difference {
	var out []Difference
	seen := map[string]bool{}
	for _, k := range a.Keys() {
		seen[k] = true
		bv, ok := b.Objects[k]
		switch {
		case !ok:
			out = append(out, Difference{Key: k, Before: orPresent(a.Objects[k])})
		case bv != a.Objects[k]:
			out = append(out, Difference{Key: k, Before: orPresent(a.Objects[k]), After: orPresent(bv)})
		}
	}
	for _, k := range b.Keys() {
		if !seen[k] {
			out = append(out, Difference{Key: k, After: orPresent(b.Objects[k])})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func orPresent(s string) string {
	if s == "" {
		return "(present)"
	}
	return s
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// snapshotPG reads the schema of every non-system schema in one query.
const snapshotPG = `
WITH ns AS (
  SELECT oid, nspname FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog','information_schema') AND nspname NOT LIKE 'pg_toast%' AND nspname NOT LIKE 'pg_temp%'
), rel AS (
  SELECT c.oid, c.relname, c.relkind, ns.nspname FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
  WHERE c.relname NOT IN ({{internal}}) AND c.relname NOT LIKE 'migsafe\_%'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
)
SELECT 'table ' || nspname || '.' || relname, CASE relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'foreign table' END
  FROM rel WHERE relkind IN ('r','p','v','m','f')
UNION ALL
SELECT 'column ' || rel.nspname || '.' || rel.relname || '.' || a.attname,
  format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
  || COALESCE(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
  || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END
  || CASE WHEN a.attgenerated <> '' THEN ' generated' ELSE '' END
  FROM pg_attribute a JOIN rel ON rel.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE rel.relkind IN ('r','p','v','m','f') AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint ' || rel.nspname || '.' || rel.relname || '.' || con.conname, pg_get_constraintdef(con.oid)
  FROM pg_constraint con JOIN rel ON rel.oid = con.conrelid
UNION ALL
SELECT 'index ' || rel.nspname || '.' || rel.relname, pg_get_indexdef(rel.oid)
  FROM rel WHERE rel.relkind IN ('i','I')
UNION ALL
SELECT 'sequence ' || rel.nspname || '.' || rel.relname,
  format_type(s.seqtypid, NULL) || ' start ' || s.seqstart || ' increment ' || s.seqincrement || ' min ' || s.seqmin || ' max ' || s.seqmax || CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END
  FROM pg_sequence s JOIN rel ON rel.oid = s.seqrelid
UNION ALL
SELECT 'view ' || rel.nspname || '.' || rel.relname, pg_get_viewdef(rel.oid)
  FROM rel WHERE rel.relkind IN ('v','m')
UNION ALL
SELECT 'enum ' || ns.nspname || '.' || t.typname, string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder)
  FROM pg_type t JOIN ns ON ns.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
  GROUP BY ns.nspname, t.typname
UNION ALL
SELECT 'trigger ' || rel.nspname || '.' || rel.relname || '.' || tg.tgname, pg_get_triggerdef(tg.oid)
  FROM pg_trigger tg JOIN rel ON rel.oid = tg.tgrelid WHERE NOT tg.tgisinternal
UNION ALL
SELECT 'function ' || ns.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
  'returns ' || pg_get_function_result(p.oid) || ' language ' || l.lanname || ' body md5 ' || md5(p.prosrc)
  FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
  WHERE p.prokind IN ('f','p') AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT 'schema ' || nspname, 'schema' FROM ns WHERE nspname <> 'public'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = ns.oid AND d.deptype = 'e')`

// snapshotMySQL reads the current database's schema, one query per kind.
var snapshotMySQL = []string{
	`SELECT CONCAT('table ', TABLE_NAME), CONCAT(LOWER(TABLE_TYPE), ' ', COALESCE(ENGINE,''), ' ', COALESCE(TABLE_COLLATION,''))
	   FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT IN ({{internal}})`,
	`SELECT CONCAT('column ', TABLE_NAME, '.', COLUMN_NAME),
	   CONCAT(COLUMN_TYPE, IF(IS_NULLABLE = 'NO', ' not null', ''), COALESCE(CONCAT(' default ', COLUMN_DEFAULT), ''),
	     IF(EXTRA <> '', CONCAT(' ', EXTRA), ''), COALESCE(CONCAT(' collate ', COLLATION_NAME), ''))
	   FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT IN ({{internal}})`,
	`SELECT CONCAT('index ', TABLE_NAME, '.', INDEX_NAME),
	   CONCAT(IF(MAX(NON_UNIQUE) = 0, 'unique ', ''), MAX(INDEX_TYPE), ' (',
	     GROUP_CONCAT(CONCAT(COALESCE(COLUMN_NAME, ''), COALESCE(CONCAT('(', SUB_PART, ')'), '')) ORDER BY SEQ_IN_INDEX SEPARATOR ', '), ')')
	   FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT IN ({{internal}})
	   GROUP BY TABLE_NAME, INDEX_NAME`,
	`SELECT CONCAT('constraint ', tc.TABLE_NAME, '.', tc.CONSTRAINT_NAME),
	   CONCAT(tc.CONSTRAINT_TYPE, ' (', COALESCE(GROUP_CONCAT(k.COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR ', '), ''), ')',
	     COALESCE(CONCAT(' references ', MAX(k.REFERENCED_TABLE_NAME), ' (', GROUP_CONCAT(k.REFERENCED_COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR ', '), ')'), ''))
	   FROM information_schema.TABLE_CONSTRAINTS tc
	   LEFT JOIN information_schema.KEY_COLUMN_USAGE k ON k.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND k.TABLE_NAME = tc.TABLE_NAME AND k.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
	   WHERE tc.CONSTRAINT_SCHEMA = DATABASE() AND tc.TABLE_NAME NOT IN ({{internal}})
	   GROUP BY tc.TABLE_NAME, tc.CONSTRAINT_NAME, tc.CONSTRAINT_TYPE`,
	`SELECT CONCAT('view ', TABLE_NAME), VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()`,
	`SELECT CONCAT('trigger ', EVENT_OBJECT_TABLE, '.', TRIGGER_NAME), CONCAT(ACTION_TIMING, ' ', EVENT_MANIPULATION, ' ', ACTION_STATEMENT)
	   FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()`,
	`SELECT CONCAT(LOWER(ROUTINE_TYPE), ' ', ROUTINE_NAME), CONCAT('returns ', COALESCE(DTD_IDENTIFIER, ''), ' body md5 ', MD5(COALESCE(ROUTINE_DEFINITION, '')))
	   FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()`,
}

// Snapshot reads the schema of the database q is connected to.
func snapshot(ctx context.Context, q querier, kind string) (*Schema, error) {
	s := &Schema{Objects: map[string]string{}}
	var queries []string
	if kind == Postgres {
		queries = []string{strings.ReplaceAll(snapshotPG, "{{internal}}", sqlList(internalTables))}
	} else {
		for _, t := range snapshotMySQL {
			queries = append(queries, strings.ReplaceAll(t, "{{internal}}", sqlList(internalTables)))
		}
	}
	for _, query := range queries {
		rows, err := q.QueryContext(ctx, query)
		if err != nil {
			return nil, fmt.Errorf("reading the schema: %w", err)
		}
		for rows.Next() {
			var k, v sql.NullString
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading the schema: %w", err)
			}
			s.Objects[k.String] = v.String
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("reading the schema: %w", err)
		}
	}
	return s, nil
}
