package engine_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/analyzer/migrations"
	"github.com/migsafe/migsafe/dialects/postgres"
	"github.com/migsafe/migsafe/rules"
)

// TestForget: with Options.Forget, every file's statements are dropped
// as it is linted, and the findings, notes and statement counts are what
// a run that keeps them gives (the sequence rules of the history generator
// look back across files through the catalog only).
func TestForget(t *testing.T) {
	d, err := postgres.New("")
	if err != nil {
		t.Fatal(err)
	}
	srcs := history(300)
	run := func(forget bool) (*engine.Result, []*analyzer.File) {
		parts := migrations.Build(srcs, migrations.Options{Dialect: analyzer.Postgres}).Parts()
		res, err := engine.Run(context.Background(), parts, engine.Options{Dialect: d, Rules: defaultRules(), Known: rules.All(), Forget: forget})
		if err != nil {
			t.Fatal(err)
		}
		return res, parts
	}
	kept, keptParts := run(false)
	forgot, forgotParts := run(true)
	if len(kept.Findings) == 0 {
		t.Fatal("the history gave no findings")
	}
	if !reflect.DeepEqual(kept.Findings, forgot.Findings) || !reflect.DeepEqual(kept.Notes, forgot.Notes) {
		t.Errorf("findings or notes differ with Forget: %d against %d findings", len(forgot.Findings), len(kept.Findings))
	}
	for i := range keptParts {
		if n := len(keptParts[i].Stmts); n == 0 || kept.Stmts[i] != n || forgot.Stmts[i] != n {
			t.Fatalf("%s: %d statements, counted %d, and %d with Forget", keptParts[i].Path, n, kept.Stmts[i], forgot.Stmts[i])
		}
		if forgotParts[i].Stmts != nil {
			t.Fatalf("%s: statements kept with Forget", forgotParts[i].Path)
		}
	}
}
