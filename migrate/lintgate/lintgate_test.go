package lintgate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/lint"
	"github.com/migsafe/migsafe/migrate"
)

func gateOf(t *testing.T, phase string, files map[string]string) (*Gate, []*migrate.Migration) {
	t.Helper()
	dir := t.TempDir()
	mig := filepath.Join(dir, "migrations")
	if err := os.Mkdir(mig, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(mig, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := migrate.LoadDir(mig)
	if err != nil {
		t.Fatal(err)
	}
	s, err := lint.Resolve(lint.Options{Dir: dir, Dialect: "postgres", Paths: []string{mig}})
	if err != nil {
		t.Fatal(err)
	}
	return New(s, src, phase), src.Migrations
}

const (
	create = "CREATE TABLE orders (id bigint PRIMARY KEY, legacy text);\n"
	add    = "SET lock_timeout = '5s';\nALTER TABLE orders ADD COLUMN note text;\n"
	drop   = "SET lock_timeout = '5s';\n-- migsafe:ignore drop-column the contract step of this test\nALTER TABLE orders DROP COLUMN legacy;\n"
)

func TestExpandStopsBeforeContract(t *testing.T) {
	files := map[string]string{"1_create.up.sql": create, "1_create.down.sql": "DROP TABLE orders;\n",
		"2_add.up.sql": add, "2_add.down.sql": "SET lock_timeout = '5s';\nALTER TABLE orders DROP COLUMN note;\n",
		"3_drop.up.sql": drop, "3_drop.down.sql": "SET lock_timeout = '5s';\nALTER TABLE orders ADD COLUMN legacy text;\n"}
	g, pending := gateOf(t, migrate.PhaseExpand, files)
	allow, why, err := g.Review(context.Background(), pending)
	if err != nil || allow != 2 || !strings.Contains(why, "stops before 3_drop") || !strings.Contains(why, "drops a column") {
		t.Errorf("expand: allow %d, %q, %v", allow, why, err)
	}
	// only the pending ones count: from version 2 on, 2 may go
	allow, _, err = g.Review(context.Background(), pending[1:])
	if err != nil || allow != 1 {
		t.Errorf("expand from 2: allow %d, %v", allow, err)
	}
	n, notes, err := g.Check(context.Background(), pending)
	if err != nil || len(notes) != 1 || !strings.Contains(notes[0], "3_drop is a contract step") {
		t.Errorf("check: %d findings, %q, %v", n, notes, err)
	}
	g, pending = gateOf(t, migrate.PhaseAll, files)
	if allow, why, err := g.Review(context.Background(), pending); err != nil || allow != 3 || why != "" {
		t.Errorf("all: allow %d, %q, %v", allow, why, err)
	}
}

func TestRefusal(t *testing.T) {
	g, pending := gateOf(t, migrate.PhaseExpand, map[string]string{
		"1_create.up.sql": create, "2_index.up.sql": "CREATE INDEX orders_legacy ON orders (legacy);\n"})
	allow, _, err := g.Review(context.Background(), pending)
	var refused *Refused
	if !errors.As(err, &refused) || allow != 0 || len(refused.Findings) == 0 || !strings.Contains(err.Error(), "2_index.up.sql:1:1: error non-concurrent-index") {
		t.Fatalf("allow %d, %v", allow, err)
	}
	// the first migration alone is fine
	if allow, _, err := g.Review(context.Background(), pending[:1]); err != nil || allow != 1 {
		t.Errorf("1 alone: allow %d, %v", allow, err)
	}
	if _, _, err := g.Check(context.Background(), pending); !errors.As(err, &refused) {
		t.Errorf("check: %v", err)
	}
}

func TestLocks(t *testing.T) {
	g, pending := gateOf(t, migrate.PhaseAll, map[string]string{
		"1_create.up.sql": create, "1_create.down.sql": "DROP TABLE orders;\n",
		"2_add.up.sql": add, "2_add.down.sql": "SET lock_timeout = '5s';\nALTER TABLE orders DROP COLUMN note;\n",
		"3_index.up.sql": "CREATE INDEX CONCURRENTLY orders_note ON orders (note);\n"})
	if g.Locks(pending[1], "up") != nil {
		t.Error("locks before a review")
	}
	if _, _, err := g.Review(context.Background(), pending); err != nil {
		t.Fatal(err)
	}
	str := func(ls []migrate.Lock) string {
		var s []string
		for _, l := range ls {
			s = append(s, fmt.Sprintf("%d: %s", l.Line, l))
		}
		return strings.Join(s, "; ")
	}
	for _, c := range []struct {
		m    *migrate.Migration
		dir  string
		want string
	}{
		{pending[1], "up", "2: ACCESS EXCLUSIVE on orders (blocks reads and writes)"},
		{pending[1], "down", "2: ACCESS EXCLUSIVE on orders (blocks reads and writes)"},
		{pending[2], "up", "1: SHARE UPDATE EXCLUSIVE on orders (blocks nothing; builds an index over the whole table)"},
	} {
		if got := str(g.Locks(c.m, c.dir)); got != c.want {
			t.Errorf("%s %s: got %q, want %q", c.m.Label(), c.dir, got, c.want)
		}
	}
}

// The contract phase drops only what was deprecated at least the minimum
// age ago, measured from when this database applied the deprecation.
func TestContractPhaseAge(t *testing.T) {
	deprecate := "-- migsafe:deprecate orders.legacy\nCOMMENT ON COLUMN orders.legacy IS 'deprecated';\n"
	dropLegacy := "SET lock_timeout = '5s';\nALTER TABLE orders DROP COLUMN legacy;\n"
	files := map[string]string{"1_create.up.sql": create, "2_deprecate.up.sql": deprecate, "3_drop.up.sql": dropLegacy}
	now := time.Now()
	g, ms := gateOf(t, migrate.PhaseContract, files)
	ctx := context.Background()
	// deprecated a day ago in this database: too early
	_, _, err := g.ReviewApplied(ctx, ms[2:], map[uint]time.Time{1: now.Add(-30 * 24 * time.Hour), 2: now.Add(-24 * time.Hour)})
	var early *TooEarly
	if !errors.As(err, &early) || len(early.Reasons) != 1 ||
		!strings.Contains(err.Error(), "3_drop.up.sql:2: drops orders.legacy, deprecated by 2_deprecate (applied to this database ") ||
		!strings.Contains(err.Error(), "allowed from "+analyzer.FormatMoment(now.Add(6 * 24 * time.Hour).Truncate(time.Second))[:10]) {
		t.Fatalf("a day after: %v", err)
	}
	// ten days ago: allowed
	if allow, _, err := g.ReviewApplied(ctx, ms[2:], map[uint]time.Time{2: now.Add(-10 * 24 * time.Hour)}); err != nil || allow != 1 {
		t.Fatalf("ten days after: %d %v", allow, err)
	}
	// the deprecation is pending in the same run
	_, _, err = g.ReviewApplied(ctx, ms[1:], map[uint]time.Time{1: now})
	if !errors.As(err, &early) || !strings.Contains(err.Error(), "deprecated by 2_deprecate, which this database has not applied yet") {
		t.Fatalf("pending deprecation: %v", err)
	}
	// no record and no git: nothing says it is old enough
	_, _, err = g.ReviewApplied(ctx, ms[2:], map[uint]time.Time{})
	if !errors.As(err, &early) || !strings.Contains(err.Error(), "when that shipped is unknown") {
		t.Fatalf("unknown: %v", err)
	}
	// never deprecated
	g, ms = gateOf(t, migrate.PhaseContract, map[string]string{"1_create.up.sql": create, "2_drop.up.sql": "-- migsafe:ignore drop-column the test's\n" + dropLegacy})
	_, _, err = g.ReviewApplied(ctx, ms[1:], map[uint]time.Time{1: now.Add(-30 * 24 * time.Hour)})
	if !errors.As(err, &early) || !strings.Contains(err.Error(), "2_drop.up.sql:3: drops orders.legacy, which no earlier migration deprecates (-- migsafe:deprecate orders.legacy)") {
		t.Fatalf("never deprecated: %v", err)
	}
	// the other phases do not ask
	g, ms = gateOf(t, migrate.PhaseAll, files)
	if allow, _, err := g.ReviewApplied(ctx, ms[2:], map[uint]time.Time{2: now}); err != nil || allow != 1 {
		t.Fatalf("phase all: %d %v", allow, err)
	}
}
