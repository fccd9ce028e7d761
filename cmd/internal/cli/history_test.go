package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/migsafe/migsafe/analyzer/analyzertest"
	"github.com/migsafe/migsafe/internal/historytest"
	"github.com/migsafe/migsafe/rules"
)

type jsonFinding struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	Path    string `json:"path"`
	Message string `json:"message"`
	Help    string `json:"help"`
	Start   struct {
		Line int `json:"line"`
	} `json:"start"`
	Suppressed any `json:"suppressed"`
}

type fileWant struct {
	path, rule string
	line       int
	re         *regexp.Regexp
	met        bool
}

var wantLine = regexp.MustCompile(`want:\s*(.*?)\s*(?:\*/)?$`)

// wantsOf reads the -- want: comments of a history's files.
func wantsOf(t *testing.T, h *analyzertest.History) []*fileWant {
	var out []*fileWant
	for _, f := range h.Files {
		for i, line := range strings.Split(string(f.Src), "\n") {
			c := strings.Index(line, "-- want:")
			if c < 0 {
				continue
			}
			m := wantLine.FindStringSubmatch(line[c:])
			rest := m[1]
			for rest != "" {
				rest = strings.TrimLeft(rest, " ,")
				end := strings.IndexAny(rest, " ,")
				if end < 0 {
					end = len(rest)
				}
				w := &fileWant{path: f.Path, line: i + 1, rule: rest[:end]}
				if r := rules.Lookup(w.rule); r != nil {
					w.rule = r.Name
				}
				rest = strings.TrimLeft(rest[end:], " ")
				if strings.HasPrefix(rest, `"`) {
					q := strings.Index(rest[1:], `"`)
					w.re = regexp.MustCompile(rest[1 : q+1])
					rest = rest[q+2:]
				}
				out = append(out, w)
			}
		}
	}
	return out
}

// TestRuleHistoriesInGit runs every history fixture of the rules through
// the command line in a real git repository whose commits carry the
// fixture's deploy dates (GIT_AUTHOR_DATE, GIT_COMMITTER_DATE), with
// --since at the last deploy: the findings must be the fixture's wants.
func TestRuleHistoriesInGit(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "fixtures", "rules", "*", "postgres", "*.txtar"))
	if len(files) == 0 {
		t.Fatal("no history fixtures")
	}
	for _, file := range files {
		rule := rules.Lookup(filepath.Base(filepath.Dir(filepath.Dir(file))))
		t.Run(rule.Name+"/"+filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			h, err := analyzertest.ParseHistory(file, data)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			run := historytest.Materialize(t, dir, h)
			var conf strings.Builder
			conf.WriteString(run.Config)
			conf.WriteString("rules:\n")
			for _, r := range rules.All() {
				on := r == rule || r == rules.SyntaxError || r == rules.UnusedSuppression
				fmt.Fprintf(&conf, "  %s: %s\n", r.Name, map[bool]string{true: "on", false: "off"}[on])
			}
			write(t, filepath.Join(dir, ".migsafe.yaml"), conf.String())
			args := append([]string{"check", "--format", "json", "--fail-on", "never"}, run.Args...)
			res := migsafe(t, dir, run.Env, false, append(args, ".")...)
			if res.code != 0 {
				t.Fatalf("exit %d\n%s", res.code, res.stderr)
			}
			var doc struct {
				Findings []jsonFinding `json:"findings"`
			}
			if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
				t.Fatalf("%v\n%s", err, res.stdout)
			}
			wants := wantsOf(t, h)
			for _, fd := range doc.Findings {
				if fd.Suppressed != nil {
					continue
				}
				matched := false
				for _, w := range wants {
					if !w.met && w.path == fd.Path && w.line == fd.Start.Line && w.rule == fd.Name && (w.re == nil || w.re.MatchString(fd.Message+" | help: "+fd.Help)) {
						w.met, matched = true, true
						break
					}
				}
				if !matched {
					t.Errorf("%s:%d: unexpected %s: %s", fd.Path, fd.Start.Line, fd.Name, fd.Message)
				}
			}
			for _, w := range wants {
				if !w.met {
					t.Errorf("%s:%d: expected %s matching %v, got none\n%s", w.path, w.line, w.rule, w.re, res.stderr)
				}
			}
		})
	}
}

// gitHistory writes files into a new git repository as commits dated
// days before now; a commit with date zero leaves its files uncommitted.
type gitCommit struct {
	daysAgo int // -1: not committed
	files   map[string]string
}

var testNow = time.Date(2024, 6, 10, 12, 0, 0, 0, time.UTC)

func gitHistory(t *testing.T, commits ...gitCommit) string {
	t.Helper()
	dir := t.TempDir()
	historytest.Git(t, dir, time.Time{}, "init", "-q")
	for _, c := range commits {
		for p, content := range c.files {
			write(t, filepath.Join(dir, filepath.FromSlash(p)), content)
			if c.daysAgo >= 0 {
				historytest.Git(t, dir, time.Time{}, "add", "--", p)
			}
		}
		if c.daysAgo >= 0 {
			historytest.Git(t, dir, testNow.AddDate(0, 0, -c.daysAgo), "commit", "-q", "-m", "deploy")
		}
	}
	return dir
}

var nowEnv = map[string]string{"MIGSAFE_NOW": testNow.Format(time.RFC3339)}

// TestSinceLintsOnlyNewFiles: with --since, the old migrations full of
// findings are replayed (their tables are known) but only the new file is
// linted.
func TestSinceLintsOnlyNewFiles(t *testing.T) {
	dir := gitHistory(t,
		gitCommit{40, map[string]string{
			"db/000001_users.up.sql":   "CREATE TABLE users (id bigint PRIMARY KEY, name text, legacy text);\nCREATE INDEX users_name ON users (name);\n",
			"db/000001_users.down.sql": "DROP TABLE users;\n",
		}},
		gitCommit{30, map[string]string{
			"db/000002_bad.up.sql":   "ALTER TABLE users ALTER COLUMN id TYPE numeric;\nALTER TABLE users RENAME COLUMN name TO full_name;\n",
			"db/000002_bad.down.sql": "ALTER TABLE users RENAME COLUMN full_name TO name;\n",
		}},
		gitCommit{20, map[string]string{
			"db/000003_deprecate.up.sql":   "-- migsafe:deprecate users.legacy\nSELECT 1;\n",
			"db/000003_deprecate.down.sql": "SELECT 1;\n",
		}},
	)
	historytest.Git(t, dir, time.Time{}, "update-ref", "refs/remotes/origin/main", "HEAD")
	write(t, filepath.Join(dir, "db", "000004_contract.up.sql"), "ALTER TABLE users DROP COLUMN legacy;\nALTER TABLE users DROP COLUMN full_name;\n")
	write(t, filepath.Join(dir, "db", "000004_contract.down.sql"), "ALTER TABLE users ADD COLUMN legacy text;\n")
	all := migsafe(t, dir, nowEnv, false, "check", "--format", "json", "--fail-on", "never", "db")
	since := migsafe(t, dir, nowEnv, false, "check", "--format", "json", "--fail-on", "never", "--since", "origin/main", "db")
	count := func(r result) map[string]int {
		var doc struct{ Findings []jsonFinding }
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatalf("%v\n%s%s", err, r.stdout, r.stderr)
		}
		n := map[string]int{}
		for _, f := range doc.Findings {
			n[filepath.Base(f.Path)]++
			if f.Name == "drop-column" && !strings.Contains(f.Message, "users.full_name") {
				t.Errorf("drop-column on %s: %s", f.Path, f.Message)
			}
		}
		return n
	}
	a, s := count(all), count(since)
	if a["000002_bad.up.sql"] == 0 || a["000004_contract.up.sql"] == 0 {
		t.Fatalf("without --since every file is linted: %v", a)
	}
	for p := range s {
		if !strings.HasPrefix(p, "000004_") {
			t.Errorf("--since linted %s: %v", p, s)
		}
	}
	if s["000004_contract.up.sql"] == 0 {
		t.Errorf("--since did not lint the new file: %v", s)
	}
	// the deprecation 20 days ago makes the first drop clean: the history
	// was replayed
	if !strings.Contains(since.stdout, `"drop-column"`) || strings.Contains(since.stdout, "contract-too-soon") {
		t.Errorf("findings:\n%s", since.stdout)
	}
}

// TestSinceOnBranchBehindRef: a feature branch linted against an
// origin/main that moved on since the branch left it. The migrations main
// gained are not deletions of the branch, and a migration main changed is
// not an edit of the branch; what the branch itself edits still is.
func TestSinceOnBranchBehindRef(t *testing.T) {
	dir := t.TempDir()
	day := func(n int) time.Time { return testNow.AddDate(0, 0, -n) }
	git := func(date time.Time, args ...string) { historytest.Git(t, dir, date, args...) }
	git(time.Time{}, "init", "-q")
	write(t, filepath.Join(dir, "db", "000001_users.up.sql"), "CREATE TABLE users (id bigint PRIMARY KEY, legacy text);\n")
	write(t, filepath.Join(dir, "db", "000001_users.down.sql"), "DROP TABLE users;\n")
	write(t, filepath.Join(dir, "db", "000002_dep.up.sql"), "-- migsafe:deprecate users.legacy\nSELECT 1;\n")
	write(t, filepath.Join(dir, "db", "000002_dep.down.sql"), "SELECT 1;\n")
	git(time.Time{}, "add", "db")
	git(day(30), "commit", "-q", "-m", "base")
	git(time.Time{}, "checkout", "-q", "-b", "feature")
	write(t, filepath.Join(dir, "db", "000004_drop.up.sql"), "SET lock_timeout = '5s';\nALTER TABLE users DROP COLUMN legacy;\n")
	write(t, filepath.Join(dir, "db", "000004_drop.down.sql"), "SET lock_timeout = '5s';\nALTER TABLE users ADD COLUMN legacy text;\n")
	git(time.Time{}, "add", "db")
	git(day(5), "commit", "-q", "-m", "drop")
	git(time.Time{}, "checkout", "-q", "main")
	write(t, filepath.Join(dir, "db", "000003_other.up.sql"), "CREATE TABLE other (id bigint);\n")
	write(t, filepath.Join(dir, "db", "000003_other.down.sql"), "DROP TABLE other;\n")
	write(t, filepath.Join(dir, "db", "000002_dep.down.sql"), "-- nothing to undo\nSELECT 1;\n")
	git(time.Time{}, "add", "db")
	git(day(4), "commit", "-q", "-m", "main moves on")
	git(time.Time{}, "update-ref", "refs/remotes/origin/main", "HEAD")
	git(time.Time{}, "checkout", "-q", "feature")
	r := migsafe(t, dir, nowEnv, false, "check", "--format", "concise", "--since", "origin/main", "db")
	if r.code != 0 || strings.Contains(r.stderr, "deleted") || strings.Contains(r.stdout, "edited-applied-migration") {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "origin/main has 2 migration files this branch does not (db/000003_other.down.sql, db/000003_other.up.sql)") {
		t.Errorf("no note of what origin/main has:\n%s", r.stderr)
	}
	// an edit the branch makes is still one
	write(t, filepath.Join(dir, "db", "000001_users.up.sql"), "CREATE TABLE users (id bigint PRIMARY KEY, legacy text, x int);\n")
	r = migsafe(t, dir, nowEnv, false, "check", "--format", "concise", "--since", "origin/main", "db")
	if !strings.Contains(r.stdout, "000001_users.up.sql:1:1: error[MS605] edited-applied-migration") || strings.Contains(r.stdout, "000002_dep.down.sql") {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// staged, it still is; staged and then put back in the work tree, it
	// is not (the index differs from origin/main, the work tree does not)
	git(time.Time{}, "add", "db/000001_users.up.sql")
	r = migsafe(t, dir, nowEnv, false, "check", "--format", "concise", "--since", "origin/main", "db")
	if !strings.Contains(r.stdout, "000001_users.up.sql:1:1: error[MS605] edited-applied-migration") {
		t.Errorf("a staged edit: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	write(t, filepath.Join(dir, "db", "000001_users.up.sql"), "CREATE TABLE users (id bigint PRIMARY KEY, legacy text);\n")
	r = migsafe(t, dir, nowEnv, false, "check", "--format", "concise", "--since", "origin/main", "db")
	if r.code != 0 || strings.Contains(r.stdout, "edited-applied-migration") {
		t.Errorf("a staged edit put back: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestMarkerAddedToShippedMigration: a deprecation written into a
// migration that shipped long ago is as old as the commit that added it
// (on the first-parent history: a merged branch counts from its merge),
// not as the migration; one not committed yet ships with the drop.
func TestMarkerAddedToShippedMigration(t *testing.T) {
	dir := t.TempDir()
	git := func(date time.Time, args ...string) { historytest.Git(t, dir, date, args...) }
	schema := "CREATE TABLE users (id bigint PRIMARY KEY, legacy text, old text);\n"
	git(time.Time{}, "init", "-q")
	write(t, filepath.Join(dir, "db", "000001_users.up.sql"), schema)
	write(t, filepath.Join(dir, "db", "000001_users.down.sql"), "DROP TABLE users;\n")
	git(time.Time{}, "add", "db")
	git(testNow.AddDate(0, 0, -120), "commit", "-q", "-m", "schema")
	git(time.Time{}, "checkout", "-q", "-b", "feature")
	write(t, filepath.Join(dir, "db", "000001_users.up.sql"), schema+"-- migsafe:deprecate users.legacy\n")
	git(time.Time{}, "add", "db")
	git(testNow.AddDate(0, 0, -60), "commit", "-q", "-m", "deprecate on a branch")
	git(time.Time{}, "checkout", "-q", "main")
	git(testNow.AddDate(0, 0, -2), "merge", "-q", "--no-ff", "feature", "-m", "merge")
	write(t, filepath.Join(dir, "db", "000001_users.up.sql"), schema+"-- migsafe:deprecate users.legacy\n-- migsafe:deprecate users.old\n")
	write(t, filepath.Join(dir, "db", "000002_drop.up.sql"), "SET lock_timeout = '5s';\nALTER TABLE users DROP COLUMN legacy, DROP COLUMN old;\n")
	write(t, filepath.Join(dir, "db", "000002_drop.down.sql"), "SET lock_timeout = '5s';\nALTER TABLE users ADD COLUMN legacy text, ADD COLUMN old text;\n")
	r := migsafe(t, dir, nowEnv, false, "check", "--format", "text", "db")
	for _, want := range []string{
		"contract-too-soon: Dropping column users.legacy 2 days after its deprecation shipped (000001_users.up.sql:2, the deploy of 2024-06-08",
		"contract-same-deploy: Dropping column users.old in the same deploy that deprecates it (step 5, 000001_users.up.sql:3)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("lacks %q:\n%s%s", want, r.stdout, r.stderr)
		}
	}
	for _, p := range []string{"000002_drop.up.sql", "000002_drop.down.sql"} {
		if err := os.Remove(filepath.Join(dir, "db", p)); err != nil {
			t.Fatal(err)
		}
	}
	s := migsafe(t, dir, nowEnv, false, "status", "db")
	if !strings.Contains(s.stdout, "allowed from 2024-06-15 12:00 UTC") || !strings.Contains(s.stdout, "written: 000001_users.up.sql:3, not deployed yet") {
		t.Errorf("status:\n%s%s", s.stdout, s.stderr)
	}
}

// TestFileArgumentsReplayTheirDirectory: pre-commit passes only the staged
// files; the rest of the directory is their history.
func TestFileArgumentsReplayTheirDirectory(t *testing.T) {
	dir := gitHistory(t,
		gitCommit{30, map[string]string{
			"db/000001_users.up.sql":   "CREATE TABLE users (id bigint PRIMARY KEY, nick text);\n",
			"db/000001_users.down.sql": "DROP TABLE users;\n",
			"db/000002_dep.up.sql":     "-- migsafe:deprecate users.nick\nSELECT 1;\n",
			"db/000002_dep.down.sql":   "SELECT 1;\n",
		}},
		gitCommit{-1, map[string]string{
			"db/000003_drop.up.sql":   "ALTER TABLE users DROP COLUMN nick;\nALTER TABLE users ALTER COLUMN id TYPE int;\n",
			"db/000003_drop.down.sql": "ALTER TABLE users ADD COLUMN nick text;\n",
		}},
	)
	historytest.Git(t, dir, time.Time{}, "add", "db")
	r := migsafe(t, dir, nowEnv, false, "check", "--format", "json", "--fail-on", "never", "db/000003_drop.up.sql")
	var doc struct{ Findings []jsonFinding }
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("%v\n%s", err, r.stderr)
	}
	names := map[string]bool{}
	for _, f := range doc.Findings {
		if f.Path != "db/000003_drop.up.sql" {
			t.Errorf("finding in %s, which was not named", f.Path)
		}
		names[f.Name] = true
	}
	// the drop is clean (deprecated 30 days ago in the history), the type
	// change is known to narrow bigint
	if names["drop-column"] || names["contract-too-soon"] || !names["change-column-type"] {
		t.Errorf("findings: %v\n%s", names, r.stdout)
	}
}

// statusHas checks that a status report has each of wants.
func statusHas(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}

// TestStatusNotDeployedYet: what is written but not deployed yet (not
// committed, or new since --since) is said to be so. A deprecation is
// written, not shipped, and the drop's date holds only if it ships now (a
// plain drop's steps 1 and 3 say there is no replacement); a drop does not
// end its change: step 6 is written, with whether it may ship now.
func TestStatusNotDeployedYet(t *testing.T) {
	users := gitCommit{60, map[string]string{"db/000001_users.up.sql": "CREATE TABLE users (id bigint PRIMARY KEY, legacy text, old text);\n", "db/000001_users.down.sql": "DROP TABLE users;\n"}}
	deprecate := map[string]string{"db/000002_dep.up.sql": "-- migsafe:deprecate users.legacy\n-- migsafe:deprecate users.old\nSELECT 1;\n", "db/000002_dep.down.sql": "SELECT 1;\n"}
	later := map[string]string{"MIGSAFE_NOW": testNow.AddDate(0, 0, 10).Format(time.RFC3339)}
	for _, c := range []struct {
		name     string
		commits  []gitCommit
		stage    bool // git add the pending files
		text     []string
		jsonEnv  map[string]string
		jsonArgs []string
		json     []string
	}{{
		name:    "deprecation",
		commits: []gitCommit{users, {-1, deprecate}},
		text: []string{
			"written: 000002_dep.up.sql:1, not deployed yet (not committed)\n",
			"6 drop users.legacy",
			"7 days after step 5 ships: 2024-06-17 12:00 UTC if it ships now\n",
		},
		jsonEnv: nowEnv,
		json:    []string{`"what": "add a replacement (none: a plain drop)"`, `"pending": true`},
	}, {
		name:    "drop",
		commits: []gitCommit{users, {3, deprecate}, {-1, map[string]string{"db/000003_drop.up.sql": "ALTER TABLE users DROP COLUMN legacy;\n", "db/000003_drop.down.sql": "ALTER TABLE users ADD COLUMN legacy text;\n"}}},
		stage:   true,
		text: []string{
			"users.legacy (drop-column): step 6 of 6",
			"written, not deployed yet (not committed): too soon, allowed from 2024-06-14 12:00 UTC\n",
			"users.old (drop-column): step 5 of 6",
		},
		jsonEnv:  later,
		jsonArgs: []string{"--since", "HEAD"},
		json:     []string{`"state": "written"`, `"deploy": "not deployed yet (since HEAD)"`, `"contract_allowed": true`},
	}} {
		t.Run(c.name, func(t *testing.T) {
			dir := gitHistory(t, c.commits...)
			r := migsafe(t, dir, nowEnv, false, "status", "db")
			statusHas(t, r.stdout, c.text...)
			if strings.Contains(r.stdout, "this deploy") {
				t.Errorf("status speaks of this deploy:\n%s", r.stdout)
			}
			if c.stage {
				historytest.Git(t, dir, time.Time{}, "add", "db")
			}
			j := migsafe(t, dir, c.jsonEnv, false, append(append([]string{"status", "--format", "json"}, c.jsonArgs...), "db")...)
			statusHas(t, j.stdout, c.json...)
			if strings.Contains(j.stdout, `"what": "add "`) {
				t.Errorf("json:\n%s", j.stdout)
			}
		})
	}
}

// TestStatus reports a change in flight with its steps and the date its
// drop becomes allowed, in text and JSON.
func TestStatus(t *testing.T) {
	dir := gitHistory(t,
		gitCommit{60, map[string]string{"db/000001_users.up.sql": "CREATE TABLE users (id bigint PRIMARY KEY, name text, legacy text);\nDO $$ BEGIN PERFORM 1; END $$;\n", "db/000001_users.down.sql": "DROP TABLE users;\n"}},
		gitCommit{30, map[string]string{
			"db/000002_full_name.up.sql":   "ALTER TABLE users ADD COLUMN full_name text;\n",
			"db/000002_full_name.down.sql": "ALTER TABLE users DROP COLUMN full_name;\n",
			"db/000003_backfill.up.sql":    "UPDATE users SET full_name = name WHERE full_name IS NULL;\n",
			"db/000003_backfill.down.sql":  "SELECT 1;\n",
		}},
		gitCommit{3, map[string]string{
			"db/000004_deprecate.up.sql":   "-- migsafe:deprecate users.name\n-- migsafe:deprecate users.legacy\nSELECT 1;\n",
			"db/000004_deprecate.down.sql": "SELECT 1;\n",
		}},
	)
	r := migsafe(t, dir, nowEnv, false, "status", "db")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{
		"db: golang-migrate, 4 migrations, 3 deploys (deploy dates from git)",
		"users.name → users.full_name (replace-column): step 5 of 6",
		"1 add users.full_name", "done: 000002_full_name.up.sql:1, the deploy of 2024-05-11",
		"3 backfill users.full_name from users.name", "done: 000003_backfill.up.sql:1",
		// the deprecation shipped at noon: the drop is not allowed on the
		// morning of the 14th
		"6 drop users.name", "allowed from 2024-06-14 12:00 UTC",
		"users.legacy (drop-column): step 5 of 6",
		// a drop without replacement: the application stops reading first
		"    4 stop reading users.legacy (application)",
		"\n  1 statement the schema model could not follow (--verbose lists them)\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, r.stdout)
		}
	}
	// the notes of a change's steps start in one column, after its
	// longest step
	for _, block := range strings.Split(r.stdout, "\n\n") {
		col := -1
		for _, line := range strings.Split(block, "\n") {
			if !strings.HasPrefix(line, "    ") {
				continue
			}
			i := strings.Index(line, "  done:")
			if i < 0 {
				i = strings.Index(line, "  allowed from")
			}
			if i < 0 {
				i = strings.Index(line, "  application")
			}
			if col >= 0 && i != col {
				t.Errorf("notes not aligned:\n%s", block)
				break
			}
			col = i
		}
	}
	j := migsafe(t, dir, nowEnv, false, "status", "--format", "json", "db")
	var doc struct {
		Histories []struct {
			Changes []struct {
				Object, Replacement, Kind string
				Step                      int
				From                      string `json:"contract_allowed_from"`
				At                        string `json:"contract_allowed_at"`
				Allowed                   bool   `json:"contract_allowed"`
			}
		}
	}
	if err := json.Unmarshal([]byte(j.stdout), &doc); err != nil || len(doc.Histories) != 1 || len(doc.Histories[0].Changes) != 2 {
		t.Fatalf("%v\n%s", err, j.stdout)
	}
	c := doc.Histories[0].Changes[1]
	if c.Object != "users.name" || c.Replacement != "users.full_name" || c.Step != 5 || c.From != "2024-06-14" || c.At != "2024-06-14T12:00:00Z" || c.Allowed {
		t.Errorf("change %+v", c)
	}
	// ten days later the drop is allowed
	later := migsafe(t, dir, map[string]string{"MIGSAFE_NOW": testNow.AddDate(0, 0, 10).Format(time.RFC3339)}, false, "status", "db")
	if !strings.Contains(later.stdout, "allowed now") {
		t.Errorf("ten days later:\n%s", later.stdout)
	}
}
