package scaffold_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/lint"
	"github.com/migsafe/migsafe/scaffold"
)

// history writes a migration directory for the scaffold to read: a
// table with an ordinary, a capitalised and a keyword column.
func history(t testing.TB, dialect string) *lint.Settings {
	t.Helper()
	dir := t.TempDir()
	sql := "CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL, \"Label\" text, \"order\" int);\n"
	if dialect == analyzer.MySQL {
		sql = "CREATE TABLE users (id bigint PRIMARY KEY, name varchar(100) NOT NULL, `order` int);\n"
	}
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"000001_users.up.sql": sql, "000001_users.down.sql": "DROP TABLE users;\n"} {
		if err := os.WriteFile(filepath.Join(dir, "db", name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := lint.Resolve(lint.Options{Dir: dir, Dialect: dialect, NoGit: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A line break in a name would end the SQL comment the name is written
// in, and the rest of the name would run as a statement.
func TestNamesWithControlCharactersAreRefused(t *testing.T) {
	s := history(t, analyzer.Postgres)
	for _, args := range [][]string{
		{"users", "name", "x\nDROP TABLE users;"},
		{"users\nDROP TABLE users;", "name"},
		{"users", "name", "a\rb"},
		{"users", "name", "a\x00b"},
		{"users", "name", "\x1b[31mred"},
	} {
		change := "rename-column"
		if len(args) == 2 {
			change = "drop-column"
		}
		_, err := scaffold.Build(context.Background(), s, scaffold.Options{Dir: "db", Change: change, Args: args, BatchSize: 100})
		if err == nil || !strings.Contains(err.Error(), "control character") {
			t.Errorf("%s %q: err = %v, want a control character refused", change, args, err)
		}
	}
}

// scaffoldSeeds generates arguments: long names, quotes nested and
// doubled, dots, dollar signs, path pieces, keywords, types with deep
// parentheses and long arrays.
func scaffoldSeeds() [][4]string {
	var out [][4]string
	add := func(table, col, name, typ string) { out = append(out, [4]string{table, col, name, typ}) }
	add("users", "name", "full_name", "")
	add(`"Users"`, "name", "Name", "text")
	add("public.users", `"Label"`, "label", "")
	add("users", "order", "position", "")
	add("users", "name", "a$$b", "")
	add("users", "name", "x/../../../pwn", "")
	add("users", "name", `"a""b"`, "")
	add("users", "name", "`a``b`", "varchar(20)")
	add("users", "name", "x\nDROP TABLE users;", "int; DROP TABLE users; --")
	add("users", "name", "n", "int, evil int")
	add("users", "name", "n", "numeric(10,2)")
	add("users", "name", "n", "timestamp with time zone")
	for _, n := range []int{10, 100, 1000, 10000} {
		add("users", "name", strings.Repeat("a", n), "")
		add(strings.Repeat("s.", n)+"users", "name", "n", "")
		add(strings.Repeat(`"`, n), "name", strings.Repeat(`""`, n), "")
		add("users", "name", strings.Repeat("$", n), "")
		add("users", "name", strings.Repeat("../", n)+"x", "")
		add("users", "name", "n", strings.Repeat("(", n)+"int"+strings.Repeat(")", n))
		add("users", "name", "n", "int"+strings.Repeat("[]", n))
		add("users", "name", "n", fmt.Sprintf("varchar(%d)", n*1000000))
	}
	return out
}

// FuzzScaffoldArgs builds every change from fuzzed arguments (its
// generated seeds run in every `go test`): never a panic; when Build
// accepts them, every file name is a plain, distinct name made of safe
// characters, and no file holds a control character other than line
// breaks and tabs. Build itself parses and lints the files.
func FuzzScaffoldArgs(f *testing.F) {
	for _, s := range scaffoldSeeds() {
		f.Add(s[0], s[1], s[2], s[3], false)
	}
	f.Add("users", "name", "n", "", true)
	pg, my := history(f, analyzer.Postgres), history(f, analyzer.MySQL)
	f.Fuzz(func(t *testing.T, table, col, name, typ string, mysql bool) {
		s := pg
		if mysql {
			s = my
		}
		for change, args := range map[string][]string{
			"rename-column":      {table, col, name},
			"change-column-type": {table, col, typ},
			"drop-column":        {table, col},
		} {
			o := scaffold.Options{Dir: "db", Change: change, Args: args, Type: typ, BatchSize: 100}
			if change == "change-column-type" {
				o.Type = ""
			}
			p, err := scaffold.Build(context.Background(), s, o)
			if err != nil {
				continue
			}
			seen := map[string]bool{}
			for _, fl := range p.Files {
				if seen[fl.Name] || fl.Name != filepath.Base(fl.Name) || strings.ContainsAny(fl.Name, "/\\") || strings.Contains(fl.Name, "..") {
					t.Fatalf("%s %q: file name %q", change, args, fl.Name)
				}
				seen[fl.Name] = true
				if i := strings.IndexFunc(fl.Content, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }); i >= 0 {
					t.Fatalf("%s %q: %s holds a control character at %d", change, args, fl.Name, i)
				}
			}
		}
	})
}
