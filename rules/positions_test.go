package rules_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/analyzertest"
	"github.com/migsafe/migsafe/dialects/postgres"
	"github.com/migsafe/migsafe/rules"
)

// TestPositionsPostgres pins the column of findings, which the fixtures'
// want comments (one per line) cannot: each finding starts at its clause,
// and a statement-level finding at the statement's first token, never at a
// comment before it. Columns count code points.
func TestPositionsPostgres(t *testing.T) {
	cases := []struct {
		src  string
		want map[string]string // rule name → the text the finding starts with
	}{
		{
			src: `/* c */ ALTER TABLE "üsers" DROP COLUMN a, ALTER COLUMN b SET NOT NULL, ADD COLUMN c int NOT NULL, ADD CONSTRAINT k CHECK (x > 0), ALTER COLUMN d TYPE bigint, ALTER COLUMN e DROP NOT NULL, ADD CONSTRAINT u UNIQUE (f), ADD COLUMN g uuid DEFAULT gen_random_uuid();`,
			want: map[string]string{
				"missing-lock-timeout":         `ALTER TABLE "üsers"`,
				"drop-column":                  "DROP COLUMN a",
				"set-not-null":                 "ALTER COLUMN b SET NOT NULL",
				"add-required-column":          "ADD COLUMN c int NOT NULL",
				"constraint-without-not-valid": "ADD CONSTRAINT k CHECK",
				"change-column-type":           "ALTER COLUMN d TYPE bigint",
				"drop-not-null":                "ALTER COLUMN e DROP NOT NULL",
				"add-unique-constraint":        "ADD CONSTRAINT u UNIQUE",
				"add-column-rewrite":           "ADD COLUMN g uuid",
			},
		},
		{
			src:  `SET lock_timeout = '1s'; /* é */ ALTER TABLE ONLY app.t RENAME COLUMN a TO b;`,
			want: map[string]string{"rename-column": "RENAME COLUMN a TO b"},
		},
		{
			src: `SET lock_timeout = '1s'; -- x` + "\n" + `  CREATE UNIQUE INDEX i ON t (a); DROP INDEX j; ALTER TABLE t ADD PRIMARY KEY (a), ADD CONSTRAINT e EXCLUDE USING gist (r WITH &&);`,
			want: map[string]string{
				"non-concurrent-index":      "CREATE UNIQUE INDEX i",
				"non-concurrent-index-drop": "DROP INDEX j",
				"add-primary-key":           "ADD PRIMARY KEY (a)",
				"exclusion-constraint":      "ADD CONSTRAINT e EXCLUDE",
			},
		},
		{
			src:  `SELECT 1; ALTER TABLE t ADD COLUMN;`,
			want: map[string]string{"syntax-error": ";"},
		},
	}
	d, err := postgres.New("")
	if err != nil {
		t.Fatal(err)
	}
	var enabled []*analyzer.Rule
	for _, r := range rules.All() {
		if r.AppliesTo(analyzer.Postgres) && !r.Off {
			enabled = append(enabled, r)
		}
	}
	for _, c := range cases {
		res, err := analyzertest.LintSource(d, "positions.sql", []byte(c.src), enabled, rules.All())
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]analyzer.Position{}
		for _, f := range res.Findings {
			if _, dup := got[f.Name]; !dup {
				got[f.Name] = f.Start
			}
		}
		for name, text := range c.want {
			off := strings.Index(c.src, text)
			if name == "syntax-error" {
				off = strings.LastIndex(c.src, text)
			}
			line := strings.Count(c.src[:off], "\n") + 1
			col := utf8.RuneCountInString(c.src[strings.LastIndex(c.src[:off], "\n")+1:off]) + 1
			want := fmt.Sprintf("%d:%d", line, col)
			p, ok := got[name]
			if !ok {
				t.Errorf("%s: no %s finding", c.src, name)
				continue
			}
			if g := fmt.Sprintf("%d:%d", p.Line, p.Column); g != want {
				t.Errorf("%s: %s at %s, want %s (%q)", c.src, name, g, want, text)
			}
		}
	}
}
