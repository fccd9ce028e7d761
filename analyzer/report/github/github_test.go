package github_test

import (
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/report"
	"github.com/migsafe/migsafe/analyzer/report/github"
)

// parse reads a workflow command the way the Actions runner does
// (ActionCommand.TryParseV2): "::name k=v,k=v::data", properties split on
// ',' and '=', then unescaped.
func parse(t *testing.T, line string) (name string, props map[string]string, data string) {
	t.Helper()
	if !strings.HasPrefix(line, "::") {
		t.Fatalf("not a command: %q", line)
	}
	rest := line[2:]
	end := strings.Index(rest, "::")
	if end < 0 {
		t.Fatalf("no data separator: %q", line)
	}
	head, data := rest[:end], rest[end+2:]
	name, list, _ := strings.Cut(head, " ")
	props = map[string]string{}
	for _, kv := range strings.Split(list, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("bad property %q in %q", kv, line)
		}
		props[k] = unescape(v, true)
	}
	return name, props, unescape(data, false)
}

func unescape(s string, property bool) string {
	pairs := []string{"%0D", "\r", "%0A", "\n"}
	if property {
		pairs = append(pairs, "%3A", ":", "%2C", ",")
	}
	pairs = append(pairs, "%25", "%")
	return strings.NewReplacer(pairs...).Replace(s)
}

func TestAnnotationRoundTrip(t *testing.T) {
	src := []byte("-- 📝\nCREATE INDEX \"a,b:c%\" ON t (x);\nALTER TABLE t\n  ADD COLUMN y int;\n")
	li := analyzer.NewLineIndex(src)
	run := &report.Run{
		WorkDir: "/repo/app", Root: "/repo",
		Rules:   []report.RuleInfo{{Code: "PG101", Name: "non-concurrent-index", URL: "https://example.com/r"}},
		Sources: func(string) *analyzer.LineIndex { return li },
	}
	msg := "index \"a,b:c%\"::\r\nblocks writes, 100%"
	single := analyzer.Finding{Code: "PG101", Name: "non-concurrent-index", Severity: analyzer.SeverityError, Path: "db/a,b:c%.sql",
		Start: li.Position(8), End: li.Position(39), Message: msg, Help: "use CONCURRENTLY"}
	line := github.Annotation(run, single)
	if strings.ContainsAny(line, "\r\n") {
		t.Fatalf("the command has a line break: %q", line)
	}
	name, props, data := parse(t, line)
	want := map[string]string{"file": "app/db/a,b:c%.sql", "line": "2", "col": "1", "endLine": "2", "endColumn": "32", "title": "non-concurrent-index (PG101)"}
	if name != "error" || len(props) != len(want) {
		t.Fatalf("got %s %v", name, props)
	}
	for k, v := range want {
		if props[k] != v {
			t.Errorf("%s = %q, want %q", k, props[k], v)
		}
	}
	if wantData := msg + "\nhelp: use CONCURRENTLY\ndocs: https://example.com/r"; data != wantData {
		t.Errorf("data = %q, want %q", data, wantData)
	}

	// A span over two lines has no columns: GitHub drops them.
	multi := analyzer.Finding{Code: "X1", Name: "x", Severity: analyzer.SeverityNote, Path: "db/m.sql",
		Start: li.Position(strings.Index(string(src), "ALTER")), End: li.Position(len(src) - 1)}
	name, props, _ = parse(t, github.Annotation(run, multi))
	if name != "notice" || props["line"] != "3" || props["endLine"] != "4" || props["col"] != "" || props["endColumn"] != "" {
		t.Errorf("multi-line: %s %v", name, props)
	}

	// A span that ends at the start of a line ends on the line before.
	upToBreak := multi
	upToBreak.Start, upToBreak.End = li.Position(8), li.Position(40)
	_, props, _ = parse(t, github.Annotation(run, upToBreak))
	if props["endLine"] != "2" || props["col"] != "1" || props["endColumn"] != "32" {
		t.Errorf("span ending at a line start: %v", props)
	}

	// Columns count UTF-16 code units: the emoji is two.
	emoji := multi
	emoji.Start, emoji.End = li.Position(3), li.Position(7)
	_, props, _ = parse(t, github.Annotation(run, emoji))
	if props["col"] != "4" || props["endColumn"] != "6" {
		t.Errorf("UTF-16 columns: %v", props)
	}
}

func TestEscaping(t *testing.T) {
	if got := github.EscapeData("a%b\r\nc:d,e"); got != "a%25b%0D%0Ac:d,e" {
		t.Errorf("EscapeData = %q", got)
	}
	if got := github.EscapeProperty("a%b\r\nc:d,e"); got != "a%25b%0D%0Ac%3Ad%2Ce" {
		t.Errorf("EscapeProperty = %q", got)
	}
	if got := github.EscapeProperty("%3A"); got != "%253A" {
		t.Errorf("an escape-looking value must be escaped itself: %q", got)
	}
}
