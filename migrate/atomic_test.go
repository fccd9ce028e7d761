package migrate

import "testing"

func TestAtomicPG(t *testing.T) {
	for sql, want := range map[string]bool{
		"CREATE TABLE a (id int);":                                              true,
		"SET lock_timeout = '1s'; ALTER TABLE a ADD COLUMN b int;":              true,
		"CREATE TABLE a (id int); COMMIT; CREATE TABLE b (id int);":             false,
		"BEGIN; CREATE TABLE a (id int); COMMIT;":                               false,
		"CREATE INDEX CONCURRENTLY a_b ON a (b);":                               false,
		"-- CREATE INDEX CONCURRENTLY\nCREATE INDEX a_b ON a (b);":              true,
		"CREATE TABLE a (id int); CREATE INDEX CONCURRENTLY a_b ON a (b);":      true, // 25001 before anything
		"CREATE FUNCTION f() RETURNS int AS $$ BEGIN; COMMIT; $$ LANGUAGE sql;": true,
		"INSERT INTO t VALUES ('; COMMIT;');":                                   true,
		"DO $$ BEGIN COMMIT; END $$;":                                           false,
		"SELECT 'unterminated":                                                  false,
		"/* a /* nested */ comment */ CREATE TABLE a (id int);":                 true,
		"VACUUM a;": false,
	} {
		if got := atomicPG(sql); got != want {
			t.Errorf("atomicPG(%q) = %v, want %v", sql, got, want)
		}
	}
}
