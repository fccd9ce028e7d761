package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer/report"
	"github.com/migsafe/migsafe/analyzer/ruledoc"
	"github.com/migsafe/migsafe/cmd/internal/cli"
	"github.com/migsafe/migsafe/rules"
)

// result is one in-process run of the command line.
type result struct {
	code           int
	stdout, stderr string
}

// migsafe runs the command line in dir with the given environment
// variables (nothing else of the process's environment is seen).
func migsafe(t *testing.T, dir string, env map[string]string, terminal bool, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	e := cli.Env{Stdout: &out, Stderr: &errb, Dir: dir, Getenv: func(k string) string { return env[k] }}
	if terminal {
		e.IsTerminal = func(w io.Writer) bool { return w == &out }
	}
	code := cli.Main(context.Background(), append([]string{"migsafe"}, args...), e)
	return result{code, out.String(), errb.String()}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// project makes a repository (a .git directory) with a migration in
// app/db: two findings, an error and a warning.
func project(t *testing.T) (root, app string) {
	root = t.TempDir()
	if err := os.Mkdir(filepath.Join(root, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	app = filepath.Join(root, "app")
	write(t, filepath.Join(app, "db", "000001_plan.up.sql"), "ALTER TABLE users ADD COLUMN plan text NOT NULL;\n")
	// the formats are tested on two findings; a lone up migration would
	// also be missing-down-migration
	write(t, filepath.Join(root, ".migsafe.yaml"), "rules:\n  missing-down-migration: off\n")
	return root, app
}

type sarifLog struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Name, Version string
				Rules         []struct {
					ID, Name         string
					HelpURI          string `json:"helpUri"`
					ShortDescription struct{ Text string }
					FullDescription  struct{ Text string }
					Help             struct{ Text, Markdown string }
					Default          struct{ Level string } `json:"defaultConfiguration"`
				}
			}
		}
		OriginalURIBaseIDs map[string]struct{ URI string } `json:"originalUriBaseIds"`
		Results            []struct {
			RuleID    string
			RuleIndex *int
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct{ URI, URIBaseID string } `json:"artifactLocation"`
					Region           struct{ StartLine, StartColumn, EndLine, EndColumn int }
				}
			}
			PartialFingerprints map[string]string
			Suppressions        []struct{ Kind, Justification string }
			Properties          struct {
				AlsoRuleIDs []string `json:"alsoRuleIds"`
			}
		}
	}
}

func readSARIF(t *testing.T, path string) sarifLog {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var l sarifLog
	if err := json.Unmarshal(data, &l); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(l.Runs) != 1 {
		t.Fatalf("%s: %d runs", path, len(l.Runs))
	}
	return l
}

func TestSeveralFormatsAtOnce(t *testing.T) {
	root, app := project(t)
	r := migsafe(t, app, nil, false, "check", "--format", "text", "--format", "sarif=out/migsafe.sarif", "-f", "json=report.json,concise=concise.txt", "db")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (an error finding)\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "error[MS304] add-required-column") || !strings.HasSuffix(r.stdout, "Checked 1 file (1 statement): 1 error, 1 warning; target PostgreSQL 14\n") {
		t.Errorf("text on stdout:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "\x1b[") {
		t.Error("colour on a writer that is not a terminal")
	}
	if _, err := os.Stat(filepath.Join(app, "out", "migsafe.sarif")); err != nil {
		t.Errorf("the SARIF file's directory is created: %v", err)
	}
	var doc struct {
		Findings []struct{ Code, Path string }
	}
	data, err := os.ReadFile(filepath.Join(app, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &doc); err != nil || len(doc.Findings) != 2 {
		t.Fatalf("report.json: %v, %d findings", err, len(doc.Findings))
	}
	concise, _ := os.ReadFile(filepath.Join(app, "concise.txt"))
	line := regexp.MustCompile(`^db/000001_plan\.up\.sql:1:\d+: (error|warning)\[[A-Z]{2}\d{3}\] [a-z-]+: .+$`)
	lines := strings.Split(strings.TrimSuffix(string(concise), "\n"), "\n")
	if len(lines) != 2 {
		t.Errorf("concise: %d lines, want one per finding:\n%s", len(lines), concise)
	}
	for _, l := range lines {
		if !line.MatchString(l) {
			t.Errorf("concise line %q does not read path:line:col: severity[CODE] name: message", l)
		}
	}
	_ = root
}

// TestOutputFileError: a file that cannot be written fails the run (exit
// 2, naming it) before anything is printed.
func TestOutputFileError(t *testing.T) {
	_, app := project(t)
	r := migsafe(t, app, nil, false, "check", "--format", "text", "--format", "sarif=db", "db")
	if r.code != 2 || !strings.Contains(r.stderr, "migsafe: db: ") || r.stdout != "" {
		t.Errorf("exit %d, stdout %q, stderr %q: want 2 naming the file, nothing on stdout", r.code, r.stdout, r.stderr)
	}
}

func TestFormatUsageErrors(t *testing.T) {
	_, app := project(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "sarf"}, `unknown format "sarf" (want text, concise, json, sarif, github, gitlab); did you mean "sarif"?`},
		{[]string{"--format", "text", "--format", "json"}, "only one format can go to standard output"},
		{[]string{"--color", "alway"}, `--color "alway": want auto, always or never; did you mean "always"?`},
	} {
		r := migsafe(t, app, nil, false, append(append([]string{"check"}, c.args...), "db")...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) || r.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", c.args, r.code, r.stdout, r.stderr, c.want)
		}
	}
}

func TestColor(t *testing.T) {
	_, app := project(t)
	for _, c := range []struct {
		name     string
		env      map[string]string
		terminal bool
		args     []string
		want     bool
	}{
		{"terminal", nil, true, nil, true},
		{"pipe", nil, false, nil, false},
		{"NO_COLOR", map[string]string{"NO_COLOR": "1"}, true, nil, false},
		{"empty NO_COLOR", map[string]string{"NO_COLOR": ""}, true, nil, true},
		{"dumb terminal", map[string]string{"TERM": "dumb"}, true, nil, false},
		{"always beats NO_COLOR", map[string]string{"NO_COLOR": "1"}, false, []string{"--color", "always"}, true},
		{"never", nil, true, []string{"--color=never"}, false},
		{"concise", nil, true, []string{"-f", "concise"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := migsafe(t, app, c.env, c.terminal, append(append([]string{"check"}, c.args...), "db")...)
			if got := strings.Contains(r.stdout, "\x1b["); got != c.want {
				t.Errorf("colour %v, want %v:\n%s", got, c.want, r.stdout)
			}
		})
	}
}

var githubEnv = map[string]string{"GITHUB_ACTIONS": "true", "CI": "true"}

func TestGitHubAnnotationsWithText(t *testing.T) {
	_, app := project(t)
	const annotation = "::error file=app/db/000001_plan.up.sql,line=1,col=19,endLine=1,endColumn=48,title=add-required-column (MS304)::"
	r := migsafe(t, app, githubEnv, false, "check", "db")
	text, ann, ok := strings.Cut(r.stdout, "target PostgreSQL 14\n")
	if !ok || !strings.Contains(text, "error[MS304]") || !strings.HasPrefix(ann, "::warning file=app/db/000001_plan.up.sql,line=1,col=1,") || !strings.Contains(ann, "\n"+annotation) {
		t.Errorf("in GitHub Actions, text then annotations on stdout; got:\n%s", r.stdout)
	}
	if n := strings.Count(r.stdout, "\n::"); n != 2 {
		t.Errorf("%d annotations, want 2", n)
	}
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want int
	}{
		{"not in Actions", nil, nil, 0},
		{"opted out", map[string]string{"GITHUB_ACTIONS": "true", "MIGSAFE_GITHUB_ANNOTATIONS": "false"}, nil, 0},
		{"github format asked for", githubEnv, []string{"--format", "github"}, 2},
		{"text to a file", githubEnv, []string{"--format", "text=out.txt"}, 0},
		{"json on stdout", githubEnv, []string{"--format", "json"}, 0},
		{"concise", githubEnv, []string{"--format", "concise", "--format", "sarif=x.sarif"}, 2},
	} {
		r := migsafe(t, app, c.env, false, append(append([]string{"check"}, c.args...), "db")...)
		if n := strings.Count("\n"+r.stdout, "\n::"); n != c.want {
			t.Errorf("%s: %d annotations, want %d:\n%s", c.name, n, c.want, r.stdout)
		}
	}
}

// TestRepositoryRoot: SARIF and GitHub paths are relative to the directory
// holding .git, whatever the working directory; without .git, to the
// working directory.
func TestRepositoryRoot(t *testing.T) {
	root, app := project(t)
	r := migsafe(t, app, nil, false, "check", "-f", "sarif", "db")
	l := sarifLogFrom(t, r.stdout)
	loc := l.Runs[0].Results[0].Locations[0].PhysicalLocation.ArtifactLocation
	if loc.URI != "app/db/000001_plan.up.sql" || loc.URIBaseID != "%SRCROOT%" {
		t.Errorf("artifact %+v", loc)
	}
	if got := l.Runs[0].OriginalURIBaseIDs["%SRCROOT%"].URI; got != "file://"+filepath.ToSlash(root)+"/" {
		t.Errorf("%%SRCROOT%% = %s, want the repository root %s", got, root)
	}
	if err := os.Remove(filepath.Join(root, ".git")); err != nil {
		t.Fatal(err)
	}
	r = migsafe(t, app, nil, false, "check", "-f", "github", "db")
	if !strings.HasPrefix(r.stdout, "::warning file=db/000001_plan.up.sql,") {
		t.Errorf("without .git, paths are relative to the working directory: %s", r.stdout)
	}
}

func sarifLogFrom(t *testing.T, s string) sarifLog {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.sarif")
	write(t, p, s)
	return readSARIF(t, p)
}

// TestFingerprintsSurviveMovedLines: adding lines above a statement moves
// its region but keeps its partialFingerprints, so code scanning keeps the
// same alert.
func TestFingerprintsSurviveMovedLines(t *testing.T) {
	_, app := project(t)
	path := filepath.Join(app, "db", "000001_plan.up.sql")
	write(t, path, "ALTER TABLE users ADD COLUMN plan text NOT NULL;\nCREATE INDEX users_plan ON users (plan);\n")
	before := sarifLogFrom(t, migsafe(t, app, nil, false, "check", "-f", "sarif", "db").stdout)
	write(t, path, "-- Plans for users.\n-- See the billing design.\n\nSET statement_timeout = '1min';\n\nALTER TABLE users ADD COLUMN plan text NOT NULL;\n\n\nCREATE INDEX users_plan ON users (plan);\n")
	after := sarifLogFrom(t, migsafe(t, app, nil, false, "check", "-f", "sarif", "db").stdout)
	fps := map[string]int{}
	for _, r := range before.Runs[0].Results {
		fps[r.RuleID+" "+r.PartialFingerprints["migsafeFingerprint/v1"]] = r.Locations[0].PhysicalLocation.Region.StartLine
	}
	if len(fps) < 3 {
		t.Fatalf("want at least 3 findings before, got %v", fps)
	}
	for _, r := range after.Runs[0].Results {
		key := r.RuleID + " " + r.PartialFingerprints["migsafeFingerprint/v1"]
		line, ok := fps[key]
		if !ok {
			continue
		}
		if now := r.Locations[0].PhysicalLocation.Region.StartLine; now == line {
			t.Errorf("%s did not move (line %d): the test proves nothing", r.RuleID, line)
		}
		delete(fps, key)
	}
	if len(fps) != 0 {
		t.Errorf("fingerprints changed when lines moved: %v", fps)
	}
	// and a changed statement is a new alert
	write(t, path, "ALTER TABLE users ADD COLUMN tier text NOT NULL;\n")
	changed := sarifLogFrom(t, migsafe(t, app, nil, false, "check", "-f", "sarif", "db").stdout)
	for _, r := range changed.Runs[0].Results {
		for _, b := range before.Runs[0].Results {
			if r.RuleID == b.RuleID && r.PartialFingerprints["migsafeFingerprint/v1"] == b.PartialFingerprints["migsafeFingerprint/v1"] {
				t.Errorf("%s: a different statement kept the fingerprint", r.RuleID)
			}
		}
	}
}

// TestSuppressionsInSARIF: an ignored finding is a result with an
// inSource suppression whose justification is the reason.
func TestSuppressionsInSARIF(t *testing.T) {
	_, app := project(t)
	write(t, filepath.Join(app, "db", "000001_plan.up.sql"), "SET lock_timeout = '2s';\n-- migsafe:ignore add-required-column the table is empty in every environment\nALTER TABLE users ADD COLUMN plan text NOT NULL;\n")
	r := migsafe(t, app, nil, false, "check", "-f", "sarif", "db")
	if r.code != 0 {
		t.Errorf("exit %d: the only error is suppressed\n%s", r.code, r.stderr)
	}
	l := sarifLogFrom(t, r.stdout)
	found := false
	for _, res := range l.Runs[0].Results {
		if res.RuleID == "MS304" {
			found = true
			if len(res.Suppressions) != 1 || res.Suppressions[0].Kind != "inSource" || res.Suppressions[0].Justification != "the table is empty in every environment" {
				t.Errorf("suppressions %+v", res.Suppressions)
			}
		}
	}
	if !found {
		t.Error("the suppressed finding is missing from SARIF")
	}
	text := migsafe(t, app, nil, false, "check", "db").stdout
	if strings.Contains(text, "MS304") || !strings.Contains(text, "(1 suppressed)") {
		t.Errorf("text hides suppressed findings and counts them:\n%s", text)
	}
}

// TestRulesMetadataIsShared: `migsafe rules --format json`, the rules of the
// SARIF output, `migsafe explain` and docs/rules/*.md say the same things.
func TestRulesMetadataIsShared(t *testing.T) {
	_, app := project(t)
	r := migsafe(t, app, nil, false, "rules", "--format", "json")
	var entries []struct {
		Code, Name, Summary, Severity, Fix, URL string
		Dialects                                []string
		Enabled                                 bool `json:"enabled_by_default"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &entries); err != nil || r.code != 0 {
		t.Fatalf("rules --format json: exit %d, %v\n%s", r.code, err, r.stderr)
	}
	if len(entries) != len(rules.All()) {
		t.Fatalf("%d entries for %d rules", len(entries), len(rules.All()))
	}
	l := sarifLogFrom(t, migsafe(t, app, nil, false, "check", "-f", "sarif", "db").stdout)
	sarifRules := map[string]int{}
	for i, sr := range l.Runs[0].Tool.Driver.Rules {
		sarifRules[sr.ID] = i
	}
	table := migsafe(t, app, nil, false, "rules").stdout
	for i, rule := range rules.All() {
		e := entries[i]
		ri := report.Describe(rule, !rule.Off)
		if e.Code != rule.Code || e.Name != rule.Name || e.Summary != rule.Summary || e.Severity != rule.Severity.String() ||
			e.Enabled == rule.Off || e.Fix != rule.Fix.String() || e.URL != ruledoc.URL(rule) || strings.Join(e.Dialects, ",") != strings.Join(ri.Dialects, ",") {
			t.Errorf("rules --format json entry %+v does not match rule %s", e, rule.Name)
		}
		if !regexp.MustCompile(`(?m)^` + rule.Code + `\s+` + rule.Name + `\s+` + strings.Join(ri.Dialects, ",") + `\s+` + rule.Severity.String() + `\s+(yes|no)\s+` + rule.Fix.String() + `\s+`).MatchString(table) {
			t.Errorf("rules table has no row for %s", rule.Name)
		}
		page, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "rules", rule.Name+".md"))
		if err != nil {
			t.Fatal(err)
		}
		body := ruledoc.Body(rule)
		if !strings.HasSuffix(string(page), body) {
			t.Errorf("docs/rules/%s.md does not end with the rule's body (go generate ./docs?)", rule.Name)
		}
		explain := migsafe(t, app, nil, false, "explain", rule.Code)
		if explain.code != 0 || !strings.Contains(explain.stdout, body) || !strings.Contains(explain.stdout, rule.Summary) {
			t.Errorf("explain %s does not print the rule's page", rule.Code)
		}
		if !rule.AppliesTo("postgres") {
			continue
		}
		idx, ok := sarifRules[rule.Code]
		if !ok {
			t.Errorf("SARIF rules[] lacks %s", rule.Code)
			continue
		}
		sr := l.Runs[0].Tool.Driver.Rules[idx]
		if sr.Name != rule.Name || sr.ShortDescription.Text != rule.Summary || sr.HelpURI != ruledoc.URL(rule) || sr.Help.Markdown != body ||
			sr.Help.Text != ri.Help || sr.FullDescription.Text != ri.Why || sr.Default.Level != rule.Severity.String() {
			t.Errorf("SARIF rule %s does not carry the rule's metadata: %+v", rule.Code, sr)
		}
	}
	for _, res := range l.Runs[0].Results {
		if res.RuleIndex == nil || l.Runs[0].Tool.Driver.Rules[*res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %s: ruleIndex does not point at its rule", res.RuleID)
		}
	}
	if r := migsafe(t, app, nil, false, "explain", "drop-colum"); r.code != 2 || !strings.Contains(r.stderr, `did you mean "drop-column"?`) {
		t.Errorf("explain of a misspelt rule: exit %d, %s", r.code, r.stderr)
	}
}
