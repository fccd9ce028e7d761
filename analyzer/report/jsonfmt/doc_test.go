package jsonfmt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// docTable is one "### `name`" section of docs/json-output.md: field →
// "type|presence".
type docTable map[string]string

// readDoc parses the object tables of docs/json-output.md.
func readDoc(t *testing.T) (map[string]docTable, string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "json-output.md"))
	if err != nil {
		t.Fatal(err)
	}
	heading := regexp.MustCompile("^### `([a-z]+)`")
	row := regexp.MustCompile("^\\| `([a-z_]+)` \\| `?([a-z_\\[\\]]+)`? \\| (always|optional) \\|")
	tables := map[string]docTable{}
	var cur docTable
	for _, line := range strings.Split(string(data), "\n") {
		if m := heading.FindStringSubmatch(line); m != nil {
			cur = docTable{}
			tables[m[1]] = cur
			continue
		}
		if strings.HasPrefix(line, "## ") {
			cur = nil
		}
		if m := row.FindStringSubmatch(line); m != nil {
			if cur == nil {
				t.Fatalf("docs/json-output.md: field row outside an object table: %s", line)
			}
			cur[m[1]] = m[2] + "|" + m[3]
		} else if cur != nil && strings.HasPrefix(line, "| `") {
			t.Errorf("docs/json-output.md: malformed field row: %s", line)
		}
	}
	return tables, string(data)
}

// jsonType names a Go type the way the doc does.
func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return jsonType(t.Elem())
	case reflect.Slice:
		return jsonType(t.Elem()) + "[]"
	case reflect.Struct:
		return t.Name()
	case reflect.String:
		return "string"
	case reflect.Int:
		return "integer"
	case reflect.Bool:
		return "boolean"
	}
	return t.String()
}

// goTables walks the document type: object name → its fields.
func goTables(t reflect.Type, out map[string]docTable) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || out[t.Name()] != nil {
		return
	}
	tab := docTable{}
	out[t.Name()] = tab
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		presence := "always"
		if strings.Contains(opts, "omitempty") {
			presence = "optional"
		}
		tab[name] = jsonType(f.Type) + "|" + presence
		goTables(f.Type, out)
	}
}

// TestDocMatchesSchema fails when docs/json-output.md and the Go types of
// the document disagree: an object, a field, its type or whether it may be
// left out.
func TestDocMatchesSchema(t *testing.T) {
	doc, text := readDoc(t)
	code := map[string]docTable{}
	goTables(reflect.TypeOf(document{}), code)
	names := func(m map[string]docTable) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	if a, b := fmt.Sprint(names(code)), fmt.Sprint(names(doc)); a != b {
		t.Errorf("objects: the code has %s, docs/json-output.md documents %s", a, b)
	}
	for obj, fields := range code {
		for f, want := range fields {
			if got, ok := doc[obj][f]; !ok {
				t.Errorf("%s.%s (%s) is not documented in docs/json-output.md", obj, f, want)
			} else if got != want {
				t.Errorf("%s.%s: the doc says %s, the code %s", obj, f, got, want)
			}
		}
		for f := range doc[obj] {
			if _, ok := fields[f]; !ok {
				t.Errorf("docs/json-output.md documents %s.%s, which the code does not write", obj, f)
			}
		}
	}
	if !strings.Contains(text, fmt.Sprintf("`\"version\": %d`", Version)) {
		t.Errorf("docs/json-output.md does not state the current version %d", Version)
	}
}

// TestDocExample checks that the example in the doc is a document of the
// current schema: it decodes with no unknown field and every object has its
// always-present fields.
func TestDocExample(t *testing.T) {
	_, text := readDoc(t)
	m := regexp.MustCompile("(?s)```json\n(.*?)```").FindStringSubmatch(text)
	if m == nil {
		t.Fatal("docs/json-output.md has no json example")
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(m[1])))
	dec.DisallowUnknownFields()
	var d document
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("the example does not decode as a document: %v", err)
	}
	if d.Version != Version || len(d.Findings) == 0 || d.Findings[0].Lock == nil || len(d.Findings[0].Fixes) == 0 {
		t.Errorf("the example should show version %d and a finding with a lock and a fix", Version)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(m[1]), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"version", "tool", "summary", "findings"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("the example lacks %q", k)
		}
	}
}
