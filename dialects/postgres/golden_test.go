package postgres_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/analyzertest"
	"github.com/migsafe/migsafe/analyzer/catalog"
	"github.com/migsafe/migsafe/analyzer/change"
	"github.com/migsafe/migsafe/dialects/postgres"
)

var update = flag.Bool("update", false, "rewrite the golden files of fixtures/dialects/postgres")

// TestTranslationGolden parses each fixtures/dialects/postgres/*.sql, replays
// it statement by statement like the engine does (Analyze with the schema
// before the statement, then Apply), and compares the change model and the
// effects with the .golden file next to it. `go test -update` rewrites the
// golden files; review the diff.
//
// A "-- fixture: target=N" header sets the PostgreSQL version.
func TestTranslationGolden(t *testing.T) {
	files, err := filepath.Glob("../../fixtures/dialects/postgres/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no fixtures in fixtures/dialects/postgres")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			d, err := postgres.New(analyzertest.Header(string(src))["target"])
			if err != nil {
				t.Fatal(err)
			}
			got := renderModel(d, src)
			golden := strings.TrimSuffix(file, ".sql") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./dialects/postgres -run TestTranslationGolden -update)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s differs from the golden file (-want +got); if the change is right, run with -update:\n%s", filepath.Base(file), diff)
			}
		})
	}
}

// renderModel prints every statement with its position, its changes and
// their effects, one fact per line.
func renderModel(d *postgres.Dialect, src []byte) string {
	stmts, _ := d.Parse(src, analyzer.Span{Start: 0, End: len(src)})
	li := analyzer.NewLineIndex(src)
	cat := catalog.New()
	var b strings.Builder
	fmt.Fprintf(&b, "# target %s\n", d.Target())
	for i, s := range stmts {
		s.Index = i
		pos := li.Position(s.Span.Start)
		fmt.Fprintf(&b, "\n%d:%d %s: %s\n", pos.Line, pos.Column, s.Kind, oneLine(string(src[s.Span.Start:s.Span.End])))
		if s.SyntaxError != nil {
			ep := li.Position(s.SyntaxError.Offset)
			fmt.Fprintf(&b, "  syntax error at %d:%d: %s\n", ep.Line, ep.Column, s.SyntaxError.Message)
			continue
		}
		d.Analyze(s, cat)
		for _, ch := range s.Changes {
			m := ch.Base()
			fmt.Fprintf(&b, "  %s %s\n", reflect.TypeOf(ch).Elem().Name(), fields(ch))
			if m.Span != (change.Span{}) {
				p := li.Position(m.Span.Start)
				fmt.Fprintf(&b, "    at %d:%d: %s\n", p.Line, p.Column, oneLine(string(src[m.Span.Start:m.Span.End])))
			}
			if e := m.Effect; e.Known() {
				fmt.Fprintf(&b, "    effect: %s lock on %q, blocks %s, %s", e.Lock, e.On, e.Blocks, e.Work)
				if e.Note != "" {
					fmt.Fprintf(&b, " (%s)", e.Note)
				}
				b.WriteString("\n")
			}
		}
		for _, ch := range s.Changes {
			cat.Apply(ch, catalog.Origin{Path: "golden.sql", Deploy: 1, Stmt: i})
		}
	}
	return b.String()
}

// fields renders a change's own fields (not its Meta) as JSON without the
// zero values, keys sorted.
func fields(ch change.Change) string {
	raw, err := json.Marshal(ch)
	if err != nil {
		return "!" + err.Error()
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return "!" + err.Error()
	}
	delete(m, "Span")
	delete(m, "Effect")
	out, _ := json.Marshal(prune(m))
	return string(out)
}

// prune drops zero values (false, 0, "", null, empty lists and objects).
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		delete(x, "Span") // clause positions are printed as "at" lines
		for k, e := range x {
			if p := prune(e); p == nil {
				delete(x, k)
			} else {
				x[k] = p
			}
		}
		if len(x) == 0 {
			return nil
		}
		return x
	case []any:
		var out []any
		for _, e := range x {
			if p := prune(e); p != nil {
				out = append(out, p)
			} else {
				out = append(out, e) // keep positions in lists
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case bool:
		if !x {
			return nil
		}
	case float64:
		if x == 0 {
			return nil
		}
	case string:
		if x == "" {
			return nil
		}
	case nil:
		return nil
	}
	return v
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 160 {
		s = string(r[:157]) + "…"
	}
	return s
}
