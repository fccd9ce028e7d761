package integrations_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// actionMeta is the part of action.yml the runner reads.
type actionMeta struct {
	Name        string
	Description string
	Author      string
	Branding    struct{ Icon, Color string }
	Inputs      map[string]struct {
		Description string
		Default     string
		Required    bool
	}
	Outputs map[string]struct {
		Description string
		Value       string
	}
	Runs struct {
		Using string
		Steps []actionStep
	}
}

type actionStep struct {
	Name             string
	ID               string
	If               string
	Uses             string
	Shell            string
	Run              string
	WorkingDirectory string `yaml:"working-directory"`
	Env              map[string]string
	With             map[string]string
}

func loadAction(t *testing.T) actionMeta {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a actionMeta
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if a.Runs.Using != "composite" || a.Name == "" || a.Description == "" {
		t.Fatalf("action.yml: want a composite action with a name and a description")
	}
	return a
}

// ghRun is one run of the action.
type ghRun struct {
	code     int               // exit status of the failing step, else 0
	log      string            // what the steps printed
	commands []string          // the workflow commands among it, in order
	outputs  map[string]string // the action's outputs
}

// runAction runs action.yml the way the Actions runner runs a composite
// action: inputs with their defaults, ${{ }} expressions in if, env,
// working-directory and outputs, each run step as
// `bash --noprofile --norc -eo pipefail FILE` in the workspace, with the
// GITHUB_* and RUNNER_* variables the runner sets, $GITHUB_OUTPUT and
// $GITHUB_PATH files read after each step. A uses: step whose condition
// holds cannot run here and fails the test. extra are KEY=VALUE entries
// over the runner's variables: GITHUB_SERVER_URL (by default a loopback
// server without releases, so the action builds from source),
// GITHUB_ACTION_REF, RUNNER_ARCH, RUNNER_TOOL_CACHE; the ${{ }} contexts
// follow them.
func runAction(t *testing.T, a actionMeta, workspace string, with map[string]string, extra ...string) ghRun {
	t.Helper()
	inputs := map[string]string{}
	for name, in := range a.Inputs {
		inputs[name] = in.Default
	}
	for k, v := range with {
		if _, ok := a.Inputs[k]; !ok {
			t.Errorf("input %q is not declared in action.yml (GitHub warns: Unexpected input)", k)
		}
		inputs[k] = v
	}
	temp := t.TempDir()
	pathFile := filepath.Join(temp, "_path")
	write(t, pathFile, "")
	env := override(baseEnv(t),
		"CI=true", "GITHUB_ACTIONS=true", "GITHUB_WORKSPACE="+workspace, "GITHUB_ACTION_PATH="+root,
		"GITHUB_ACTION_REF=v0.1.0", "GITHUB_ACTION_REPOSITORY=migsafe/migsafe", "GITHUB_REPOSITORY=acme/shop",
		"GITHUB_EVENT_NAME=pull_request", "GITHUB_REF=refs/pull/7/merge", "GITHUB_SHA=0123456789abcdef0123456789abcdef01234567",
		"GITHUB_PATH="+pathFile, "GITHUB_ENV="+filepath.Join(temp, "_env"), "GITHUB_STEP_SUMMARY="+filepath.Join(temp, "_summary"),
		"GITHUB_SERVER_URL="+noReleases(t),
		"RUNNER_TEMP="+temp, "RUNNER_OS=Linux", "RUNNER_ARCH="+runnerArch(), "RUNNER_TOOL_CACHE="+filepath.Join(temp, "_tool"),
	)
	env = override(env, extra...)
	ctx := map[string]string{
		"github.action_path":       root,
		"github.action_ref":        lookup(env, "GITHUB_ACTION_REF"),
		"github.action_repository": lookup(env, "GITHUB_ACTION_REPOSITORY"),
		"github.server_url":        lookup(env, "GITHUB_SERVER_URL"),
		"github.workspace":         workspace,
		"runner.temp":              temp,
		"runner.os":                lookup(env, "RUNNER_OS"),
		"runner.arch":              lookup(env, "RUNNER_ARCH"),
		"runner.tool_cache":        lookup(env, "RUNNER_TOOL_CACHE"),
	}
	for k, v := range inputs {
		ctx["inputs."+k] = v
	}
	res := ghRun{outputs: map[string]string{}}
	failed := false
	for i, s := range a.Runs.Steps {
		cond := s.If
		if cond == "" {
			cond = "success()"
		} else if !regexp.MustCompile(`\b(success|failure|always|cancelled)\(\)`).MatchString(cond) {
			// as GitHub: without a status function, success() && applies
			cond = "success() && (" + strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(cond), "${{"), "}}") + ")"
		}
		ok, err := evalBool(cond, ctx, failed)
		if err != nil {
			t.Fatalf("step %q: if: %v", s.Name, err)
		}
		if !ok {
			continue
		}
		if s.Uses != "" {
			t.Fatalf("step %q uses %s, which cannot run here: the inputs must skip it", s.Name, s.Uses)
		}
		if s.Shell != "bash" {
			t.Fatalf("step %q: shell %q; the steps are written for bash", s.Name, s.Shell)
		}
		if strings.Contains(s.Run, "${{") {
			t.Errorf("step %q: an expression inside run: is injected into the script; pass it through env:", s.Name)
		}
		stepEnv := append([]string(nil), env...)
		outFile := filepath.Join(temp, fmt.Sprintf("_output_%d", i))
		write(t, outFile, "")
		stepEnv = override(stepEnv, "GITHUB_OUTPUT="+outFile)
		keys := make([]string, 0, len(s.Env))
		for k := range s.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, err := interpolate(s.Env[k], ctx)
			if err != nil {
				t.Fatalf("step %q: env %s: %v", s.Name, k, err)
			}
			stepEnv = override(stepEnv, k+"="+v)
		}
		// $GITHUB_PATH entries come first, newest first
		if data, err := os.ReadFile(pathFile); err == nil {
			lines := strings.Fields(string(data))
			for j := len(lines) - 1; j >= 0; j-- {
				stepEnv = override(stepEnv, "PATH="+lines[j]+string(os.PathListSeparator)+lookup(stepEnv, "PATH"))
			}
		}
		dir := workspace
		if s.WorkingDirectory != "" {
			wd, err := interpolate(s.WorkingDirectory, ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !filepath.IsAbs(wd) {
				wd = filepath.Join(workspace, wd)
			}
			dir = wd
		}
		script := filepath.Join(temp, fmt.Sprintf("_step_%d.sh", i))
		write(t, script, s.Run)
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", script)
		cmd.Dir, cmd.Env = dir, stepEnv
		out, err := cmd.CombinedOutput()
		res.log += string(out)
		for _, line := range strings.SplitAfter(string(out), "\n") {
			if strings.HasPrefix(line, "::") {
				res.commands = append(res.commands, strings.TrimSuffix(line, "\n"))
			}
		}
		outputs := readOutputs(t, outFile)
		for k, v := range outputs {
			if s.ID != "" {
				ctx["steps."+s.ID+".outputs."+k] = v
			}
		}
		if err != nil {
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatal(err)
			}
			failed, res.code = true, ee.ExitCode()
		}
	}
	for name, o := range a.Outputs {
		v, err := interpolate(o.Value, ctx)
		if err != nil {
			t.Fatalf("output %s: %v", name, err)
		}
		res.outputs[name] = v
	}
	return res
}

func lookup(env []string, key string) string {
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, key+"="); ok {
			return v
		}
	}
	return ""
}

// readOutputs parses a $GITHUB_OUTPUT file: name=value lines and
// name<<DELIMITER blocks.
func readOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if name, delim, ok := strings.Cut(line, "<<"); ok && !strings.Contains(name, "=") {
			var val []string
			for sc.Scan() && sc.Text() != delim {
				val = append(val, sc.Text())
			}
			out[name] = strings.Join(val, "\n")
		} else if name, val, ok := strings.Cut(line, "="); ok {
			out[name] = val
		} else if line != "" {
			t.Errorf("$GITHUB_OUTPUT: malformed line %q", line)
		}
	}
	return out
}

var exprRE = regexp.MustCompile(`\$\{\{(.*?)\}\}`)

// interpolate replaces each ${{ expression }} of s by its value.
func interpolate(s string, ctx map[string]string) (string, error) {
	var err error
	out := exprRE.ReplaceAllStringFunc(s, func(m string) string {
		v, e := eval(strings.TrimSpace(m[3:len(m)-2]), ctx, false)
		if e != nil {
			err = e
		}
		return v
	})
	return out, err
}

func evalBool(cond string, ctx map[string]string, failed bool) (bool, error) {
	cond = strings.TrimSpace(cond)
	if m := exprRE.FindStringSubmatch(cond); m != nil && m[0] == cond {
		cond = strings.TrimSpace(m[1])
	}
	v, err := eval(cond, ctx, failed)
	return v != "" && v != "false", err
}

// eval evaluates the subset of GitHub's expression language the action and
// the documented workflow use: property paths, 'strings', ==, !=, !, &&, ( ),
// and the status functions success(), failure(), always(), cancelled().
// Values are strings; "" and "false" are false.
func eval(expr string, ctx map[string]string, failed bool) (string, error) {
	expr = strings.TrimSpace(expr)
	if parts := splitTop(expr, "&&"); len(parts) > 1 {
		for _, p := range parts {
			v, err := eval(p, ctx, failed)
			if err != nil || v == "" || v == "false" {
				return "false", err
			}
		}
		return "true", nil
	}
	for _, op := range []string{"==", "!="} {
		if parts := splitTop(expr, op); len(parts) == 2 {
			a, err1 := eval(parts[0], ctx, failed)
			b, err2 := eval(parts[1], ctx, failed)
			if err1 != nil || err2 != nil {
				return "", errors.Join(err1, err2)
			}
			if strings.EqualFold(a, b) == (op == "==") {
				return "true", nil
			}
			return "false", nil
		}
	}
	switch {
	case strings.HasPrefix(expr, "(") && strings.HasSuffix(expr, ")"):
		// no && or == outside: the parentheses enclose it all
		return eval(expr[1:len(expr)-1], ctx, failed)
	case strings.HasPrefix(expr, "!"):
		v, err := eval(expr[1:], ctx, failed)
		if v == "" || v == "false" {
			return "true", err
		}
		return "false", err
	case strings.HasPrefix(expr, "'") && strings.HasSuffix(expr, "'") && len(expr) >= 2:
		return strings.ReplaceAll(expr[1:len(expr)-1], "''", "'"), nil
	case expr == "success()":
		return fmt.Sprint(!failed), nil
	case expr == "failure()":
		return fmt.Sprint(failed), nil
	case expr == "always()":
		return "true", nil
	case expr == "cancelled()":
		return "false", nil
	case regexp.MustCompile(`^[a-z_]+(\.[A-Za-z0-9_-]+)+$`).MatchString(expr):
		if v, ok := ctx[expr]; ok {
			return v, nil
		}
		if strings.HasPrefix(expr, "steps.") {
			return "", nil // an output a step did not set
		}
		return "", fmt.Errorf("unknown context %s", expr)
	}
	return "", fmt.Errorf("unsupported expression %q", expr)
}

// splitTop splits s at op outside quotes and parentheses.
func splitTop(s, op string) []string {
	var parts []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && strings.HasPrefix(s[i:], op):
			parts = append(parts, s[start:i])
			i += len(op) - 1
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// workspace makes a checked-out repository with migrations under
// services/api, one of them with ',', ':' and '%' in its name and in the
// objects it names, so that annotations need every escape.
func workspace(t *testing.T, sub string) string {
	t.Helper()
	ws := t.TempDir()
	if err := os.Mkdir(filepath.Join(ws, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(ws, filepath.FromSlash(sub), "db", "migrations")
	write(t, filepath.Join(dir, "000001_create_users.up.sql"), "CREATE TABLE users (id bigint PRIMARY KEY);\n")
	write(t, filepath.Join(dir, "000002_idx:a,b%.up.sql"), "CREATE INDEX \"idx,1:2%\" ON \"50%_off\" (x);\nALTER TABLE accounts\n  ADD COLUMN plan text NOT NULL;\n")
	write(t, filepath.Join(dir, "000003_drop_check.up.sql"), "ALTER TABLE accounts\n  DROP CONSTRAINT accounts_plan_check;\n")
	for _, down := range []string{"000001_create_users", "000002_idx:a,b%", "000003_drop_check"} {
		write(t, filepath.Join(dir, down+".down.sql"), "-- irreversible: kept on purpose\n")
	}
	return ws
}

// TestActionAnnotations runs the action's steps over a workspace and
// checks the workflow commands byte for byte, the outputs and the SARIF
// log.
func TestActionAnnotations(t *testing.T) {
	need(t, "bash", "go")
	a := loadAction(t)
	ws := workspace(t, "services/api")
	res := runAction(t, a, ws, map[string]string{
		"working-directory": "services/api",
		"paths":             "db/migrations",
		"fail-on":           "error",
		"setup-go":          "false", // Go is installed; actions/setup-go cannot run here
	})
	// Property values escape % : , (and CR LF); data escapes % (and CR LF):
	// the file name 000002_idx:a,b%.up.sql and the objects idx,1:2% and
	// 50%_off show both. The span over two lines has no col/endColumn. The
	// action at ref v0.1.0 links to the rule pages of that tag.
	const (
		file2           = "file=services/api/db/migrations/000002_idx%3Aa%2Cb%25.up.sql"
		file3           = "file=services/api/db/migrations/000003_drop_check.up.sql"
		docs            = "%0Adocs: https://github.com/migsafe/migsafe/blob/v0.1.0/docs/rules/"
		lockTimeoutHelp = "%0Ahelp: start the migration with SET lock_timeout = '5s' (or SET LOCAL inside the transaction)" + docs + "missing-lock-timeout.md"
	)
	want := []string{
		"::error " + file2 + ",line=1,col=1,endLine=1,endColumn=13,title=non-concurrent-index (PG101)::" +
			"Creating index idx,1:2%25 on 50%25_off without CONCURRENTLY takes a SHARE lock on 50%25_off, which blocks writes, and builds an index over the whole table while holding it" +
			"%0Ahelp: use CREATE INDEX CONCURRENTLY, in a migration that runs outside a transaction" + docs + "non-concurrent-index.md",
		"::warning " + file2 + ",line=1,col=1,endLine=1,endColumn=41,title=missing-lock-timeout (PG404)::" +
			"No lock_timeout is set before this statement, which takes a SHARE lock on 50%25_off (blocks writes); while it waits for the lock behind running queries, every new write to 50%25_off queues behind it" +
			lockTimeoutHelp,
		"::error " + file2 + ",line=3,col=3,endLine=3,endColumn=32,title=add-required-column (MS304)::" +
			"Adding NOT NULL column accounts.plan without a default fails if the table has rows, and old application code inserting rows without it fails; it takes an ACCESS EXCLUSIVE lock on accounts, which blocks reads and writes (briefly: no scan or rewrite)" +
			"%0Ahelp: add the column nullable or with a constant DEFAULT, backfill, then set NOT NULL safely" + docs + "add-required-column.md",
		"::warning " + file3 + ",line=1,endLine=2,title=missing-lock-timeout (PG404)::" +
			"No lock_timeout is set before this statement, which takes an ACCESS EXCLUSIVE lock on accounts (blocks reads and writes); while it waits for the lock behind running queries, every new query on accounts queues behind it" +
			lockTimeoutHelp,
	}
	if strings.Join(res.commands, "\n") != strings.Join(want, "\n") {
		t.Errorf("workflow commands:\n%s\nwant:\n%s", strings.Join(res.commands, "\n"), strings.Join(want, "\n"))
	}
	if res.code != 1 || res.outputs["exit-code"] != "1" {
		t.Errorf("exit %d, output exit-code %q: want 1 (errors at fail-on error)\n%s", res.code, res.outputs["exit-code"], res.log)
	}
	if !strings.Contains(res.log, "error[PG101] non-concurrent-index") || !strings.Contains(res.log, "migsafe version v0.1.0") {
		t.Errorf("the log lacks the text output or the version from the action's ref:\n%s", res.log)
	}
	sarif := filepath.Join(ws, "services", "api", "migsafe.sarif")
	if res.outputs["sarif-file"] != sarif {
		t.Errorf("output sarif-file = %q, want %s", res.outputs["sarif-file"], sarif)
	}
	checkSARIF(t, sarif, "services/api/db/migrations/000002_idx%3Aa%2Cb%25.up.sql", "v0.1.0")
}

func checkSARIF(t *testing.T, path, uri, version string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var l struct {
		Runs []struct {
			Tool struct {
				Driver struct{ Version string }
			}
			Results []struct {
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI, URIBaseID string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(data, &l); err != nil || len(l.Runs) != 1 || len(l.Runs[0].Results) == 0 {
		t.Fatalf("%s: %v", path, err)
	}
	if v := l.Runs[0].Tool.Driver.Version; v != strings.TrimPrefix(version, "v") {
		t.Errorf("SARIF tool version %q, want %s", v, version)
	}
	found := false
	for _, r := range l.Runs[0].Results {
		loc := r.Locations[0].PhysicalLocation.ArtifactLocation
		found = found || loc.URI == uri && loc.URIBaseID == "%SRCROOT%"
	}
	if !found {
		t.Errorf("no SARIF result at %s relative to %%SRCROOT%% (the workspace)", uri)
	}
}

// TestActionCleanRun: no finding at fail-on, exit 0, no annotation of that
// severity, the SARIF log written anyway; without sarif-file, none.
func TestActionCleanRun(t *testing.T) {
	need(t, "bash", "go")
	a := loadAction(t)
	ws := t.TempDir()
	write(t, filepath.Join(ws, "migrations", "000001_users.up.sql"), "CREATE TABLE users (id bigint PRIMARY KEY);\n")
	write(t, filepath.Join(ws, "migrations", "000001_users.down.sql"), "-- irreversible: kept on purpose\n")
	res := runAction(t, a, ws, map[string]string{"paths": "migrations", "setup-go": "false"})
	if res.code != 0 || res.outputs["exit-code"] != "0" || len(res.commands) != 0 {
		t.Errorf("clean run: exit %d, outputs %v, commands %q\n%s", res.code, res.outputs, res.commands, res.log)
	}
	if _, err := os.Stat(res.outputs["sarif-file"]); err != nil {
		t.Errorf("sarif-file output %q: %v", res.outputs["sarif-file"], err)
	}
	res = runAction(t, a, ws, map[string]string{"paths": "migrations", "setup-go": "false", "sarif-file": "", "args": "--format json=out.json"})
	if res.code != 0 || res.outputs["sarif-file"] != "" {
		t.Errorf("without sarif-file: exit %d, outputs %v\n%s", res.code, res.outputs, res.log)
	}
	if _, err := os.Stat(filepath.Join(ws, "out.json")); err != nil {
		t.Errorf("args were not passed on: %v", err)
	}
}

// TestWorkflowSnippet runs the GitHub Actions workflow of the getting
// started page: its migsafe step through the action (with setup-go off,
// the only change), then checks that the upload step's condition holds and
// its sarif_file is the log the action wrote, even though migsafe failed.
func TestWorkflowSnippet(t *testing.T) {
	need(t, "bash", "go")
	var wf struct {
		Permissions map[string]string
		Jobs        map[string]struct {
			Steps []actionStep
		}
	}
	if err := yaml.Unmarshal([]byte(snippet(t, "github-actions")), &wf); err != nil {
		t.Fatalf("the workflow snippet is not YAML: %v", err)
	}
	if wf.Permissions["security-events"] != "write" {
		t.Errorf("the workflow must grant security-events: write for upload-sarif; it has %v", wf.Permissions)
	}
	var steps []actionStep
	for _, j := range wf.Jobs {
		steps = j.Steps
	}
	var migsafe, upload *actionStep
	for i, s := range steps {
		switch {
		case strings.HasPrefix(s.Uses, "migsafe/migsafe@"):
			migsafe = &steps[i]
		case strings.HasPrefix(s.Uses, "github/codeql-action/upload-sarif@"):
			upload = &steps[i]
		}
	}
	if migsafe == nil || upload == nil || migsafe.ID == "" || !strings.HasPrefix(steps[0].Uses, "actions/checkout@") {
		t.Fatalf("the workflow needs checkout, then migsafe/migsafe with an id, then upload-sarif: %+v", steps)
	}
	if steps[0].With["fetch-depth"] != "0" {
		t.Errorf("the checkout must fetch the whole history (fetch-depth: 0) so that migsafe can date the deploys; it has %v", steps[0].With)
	}
	a := loadAction(t)
	ws := workspace(t, ".")
	with := map[string]string{"setup-go": "false"}
	for k, v := range migsafe.With {
		with[k] = v
	}
	res := runAction(t, a, ws, with)
	if res.code != 1 || len(res.commands) == 0 {
		t.Fatalf("the migsafe step: exit %d, %d annotations; want 1 and annotations\n%s", res.code, len(res.commands), res.log)
	}
	ctx := map[string]string{}
	for k, v := range res.outputs {
		ctx["steps."+migsafe.ID+".outputs."+k] = v
	}
	ok, err := evalBool(upload.If, ctx, true)
	if err != nil || !ok {
		t.Errorf("the upload step's condition %q is false after a failing migsafe step (%v): failing runs would not reach code scanning", upload.If, err)
	}
	sarif, err := interpolate(upload.With["sarif_file"], ctx)
	if err != nil || sarif == "" {
		t.Fatalf("upload-sarif sarif_file %q: %v", upload.With["sarif_file"], err)
	}
	checkSARIF(t, sarif, "db/migrations/000002_idx%3Aa%2Cb%25.up.sql", "v0.1.0")
}
