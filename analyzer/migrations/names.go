package migrations

import (
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/migsafe/migsafe/analyzer"
)

var (
	// Flyway: V<version>__<description>.sql, U… for undo, R__<description>.sql.
	flywayRE     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([VU])([0-9][0-9._]*?)__(.+)\.sql$`) })
	flywayRepRE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^R__(.+)\.sql$`) })
	versionedRE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9]+)(?:_(.*))?\.sql$`) })
	popxDialects = map[string]string{"postgres": analyzer.Postgres, "postgresql": analyzer.Postgres, "mysql": analyzer.MySQL, "cockroach": "cockroach", "cockroachdb": "cockroach", "sqlite": "sqlite", "sqlite3": "sqlite", "mssql": "mssql"}
)

// ParseUpDown reports whether a file name follows golang-migrate's
// {version}_{title}.up.sql / .down.sql scheme, and returns its parts.
//
// golang-migrate's own pattern (source/parse.go) restricted to .sql, in a
// loose form that also takes the V-prefixed, dot-separated names of
// runners modelled on it (authelia: V0001.Initial_Schema.up.sql):
// ^[Vv]?([0-9]+)[._](.*)\.(up|down)\.sql$, read by hand because it runs
// on every file of a history (updownRE in the tests is the pattern).
func ParseUpDown(name string) (version, title string, dir analyzer.Direction, ok bool) {
	base := path.Base(name)
	rest, up := strings.CutSuffix(base, ".up.sql")
	if !up {
		var down bool
		if rest, down = strings.CutSuffix(base, ".down.sql"); !down {
			return "", "", analyzer.Up, false
		}
		dir = analyzer.Down
	}
	if rest != "" && (rest[0] == 'V' || rest[0] == 'v') {
		rest = rest[1:]
	}
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	// the title is any run of characters but a newline ('.' in the pattern)
	if n == 0 || n == len(rest) || (rest[n] != '_' && rest[n] != '.') || strings.ContainsRune(rest[n+1:], '\n') {
		return "", "", analyzer.Up, false
	}
	return rest[:n], rest[n+1:], dir, true
}

// The checks below run on every file of a history: a cheap look at the
// name's ends rules most names out before a regular expression runs.

func isUpDown(base string) bool {
	_, _, _, ok := ParseUpDown(base)
	return ok
}

func isFlyway(base string) bool {
	if base == "" || !strings.ContainsRune("VUR", rune(base[0])) {
		return false
	}
	return flywayRE().MatchString(base) || flywayRepRE().MatchString(base)
}

// popxName is a parsed popx file name.
type popxName struct {
	version, name, dialect string
	autocommit             bool
	dir                    analyzer.Direction
}

func parsePopx(base string) (popxName, bool) {
	// popx (oryx/popx/match.go):
	// <version>_<name>[.<dialect>][.autocommit].(up|down).sql, read by
	// hand because it runs on every file of a history (popxRE in the tests
	// is the same pattern as a regular expression)
	var n popxName
	rest, ok := strings.CutSuffix(base, ".up.sql")
	if !ok {
		if rest, ok = strings.CutSuffix(base, ".down.sql"); !ok {
			return popxName{}, false
		}
		n.dir = analyzer.Down
	}
	digits := 0
	for digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9' {
		digits++
	}
	if digits == 0 || digits == len(rest) || rest[digits] != '_' {
		return popxName{}, false
	}
	n.version = rest[:digits]
	parts := strings.Split(rest[digits+1:], ".")
	if parts[0] == "" || len(parts) > 3 {
		return popxName{}, false
	}
	n.name = parts[0]
	switch len(parts) {
	case 3:
		if !lowerAlnum(parts[1]) || parts[2] != "autocommit" {
			return popxName{}, false
		}
		n.dialect, n.autocommit = parts[1], true
	case 2:
		if !lowerAlnum(parts[1]) {
			return popxName{}, false
		}
		n.dialect = parts[1]
	}
	if n.dialect == "autocommit" {
		n.dialect, n.autocommit = "", true
	}
	return n, true
}

func lowerAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < 'a' || s[i] > 'z') && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return s != ""
}

// popxTagged reports whether a name is a popx name with a dialect tag or
// the autocommit flag, which golang-migrate names do not have.
func popxTagged(base string) bool {
	n, ok := parsePopx(base)
	if !ok {
		return false
	}
	if n.autocommit {
		return true
	}
	_, known := popxDialects[n.dialect]
	return known
}

// compareVersions orders numeric versions ("2" < "10"), dotted versions
// part by part ("1.5.2" < "1.10.0") and anything else lexically.
func compareVersions(a, b string) int {
	// field by field without splitting: a sort of 100,000 migrations
	// compares about two million times
	for {
		var fa, fb string
		fa, a = nextVersionField(a)
		fb, b = nextVersionField(b)
		if fa == "" || fb == "" {
			return versionFields(fa, a) - versionFields(fb, b)
		}
		if c := compareNumeric(fa, fb); c != 0 {
			return c
		}
	}
}

// isVersionSep reports whether c separates the fields of a version.
func isVersionSep(c byte) bool { return c == '.' || c == '_' }

// nextVersionField returns the first field of v ("" when there is none)
// and what follows it.
func nextVersionField(v string) (field, rest string) {
	i := 0
	for i < len(v) && isVersionSep(v[i]) {
		i++
	}
	j := i
	for j < len(v) && !isVersionSep(v[j]) {
		j++
	}
	return v[i:j], v[j:]
}

// versionFields is the number of fields of field (one, or none when it is
// empty) and of rest.
func versionFields(field, rest string) int {
	n := 0
	if field != "" {
		n = 1
	}
	for {
		field, rest = nextVersionField(rest)
		if field == "" {
			return n
		}
		n++
	}
}

func splitVersion(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == '.' || r == '_' })
}

// compareNumeric compares digit strings by value (any length), and
// anything else lexically.
func compareNumeric(a, b string) int {
	if allDigits(a) && allDigits(b) {
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(a) != len(b) {
			return len(a) - len(b)
		}
	}
	return strings.Compare(a, b)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
