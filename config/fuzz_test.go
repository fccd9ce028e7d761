package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// configSeeds generates configurations a pull request could commit: large
// and deeply nested YAML, many keys, duplicates, several documents,
// aliases, long values and ages at the edge of a time.Duration. The
// minimiser alone makes small inputs; these are the large ones.
func configSeeds() []string {
	var out []string
	nest := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "x" + strings.Repeat(close, n)
	}
	for _, n := range []int{10, 100, 1000, 10000} {
		out = append(out,
			"rules: "+nest("[", "]", n)+"\n",
			"rules: "+nest("{a: ", "}", n)+"\n",
			"exclude:\n"+strings.Repeat("  - db/**/*.sql\n", n),
			"rules:\n"+strings.Repeat("  drop-column: off\n", n),
			strings.Repeat("migrations:\n  layout: goose\n---\n", n),
			"migrations:\n  min-deprecation-age: "+strings.Repeat("9", n%40+1)+"d\n",
			"dialect: "+strings.Repeat("p", n)+"\n",
		)
		if n > 1000 {
			continue // 10,000 lines of deep indentation: 2 MB, too slow under the fuzzer's instrumentation
		}
		var b strings.Builder
		b.WriteString("migrations:\n")
		for i := range n {
			fmt.Fprintf(&b, "%s- x\n", strings.Repeat("  ", i%200+1))
		}
		out = append(out, b.String())
	}
	// an alias bomb, block scalars, anchors into keys
	out = append(out,
		"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nrules: [*c, *c, *c]\n",
		"rules: &r\n  drop-column: off\nmigrations: *r\n",
		"exclude: |\n  a\n  b\n",
		"? [a, b]\n: c\n",
		"migrations:\n  min-deprecation-age: 106751d\n",
		"migrations:\n  min-deprecation-age: 106752d\n",
		"migrations:\n  min-deprecation-age: 15250w\n",
		"migrations:\n  min-deprecation-age: 2562047h47m16.854775807s\n",
		"migrations:\n  min-deprecation-age: -1d\n",
		"version: 1\ndialect: mysql\ntarget-version: mariadb-10.11\nfail-on: warning\nrules:\n  MS201: error\nexclude:\n  - '**/seed_*.sql'\nmigrations:\n  layout: flyway\n  min-deprecation-age: 2w\n",
		"\xef\xbb\xbfrules: {}\n",
		"rules:\n  drop-column: off\n  drop-column: on\n",
		"--- \n...\n--- \n",
	)
	return out
}

// FuzzParse feeds configuration text to Parse (its generated seeds run in
// every `go test`): it never panics, an error
// is a *Error naming the file (with a line when it has one), and a
// configuration it accepts has a non-negative age and only the values it
// documents.
func FuzzParse(f *testing.F) {
	for _, s := range configSeeds() {
		f.Add([]byte(s))
	}
	names := []string{"drop-column", "MS201", "rename-column", "MS302"}
	isRule := func(s string) bool { return slices.Contains(names, s) }
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.yaml", data, isRule, names)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v is not a *config.Error", err, err)
			}
			if ce.Path != "f.yaml" || ce.Line < 0 || ce.Column < 0 {
				t.Fatalf("error without its place: %+v", ce)
			}
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error %q does not start with the file", err)
			}
			return
		}
		if c.Migrations.MinDeprecationAge < 0 {
			t.Fatalf("negative age %v from %q", c.Migrations.MinDeprecationAge, c.Migrations.MinDeprecationAgeText)
		}
		if c.Dialect != "" && c.Dialect != "postgres" && c.Dialect != "mysql" {
			t.Fatalf("dialect %q accepted", c.Dialect)
		}
		if c.FailOn != "" && c.FailOn != "error" && c.FailOn != "warning" && c.FailOn != "never" {
			t.Fatalf("fail-on %q accepted", c.FailOn)
		}
		for _, r := range c.Rules {
			if !isRule(r.Key) {
				t.Fatalf("rule %q accepted", r.Key)
			}
		}
	})
}
