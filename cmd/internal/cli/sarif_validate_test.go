package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer/analyzertest"
	"github.com/migsafe/migsafe/internal/historytest"
	"github.com/migsafe/migsafe/internal/testdb"
	"github.com/migsafe/migsafe/rules"
)

// sarifMultitool returns the directory where @microsoft/sarif-multitool is
// installed ($MIGSAFE_TOOLS, default ~/.cache/migsafe-tools; scripts/test
// installs it). It skips the test only when node or npm is missing; with
// both present, a missing validator fails the test.
func sarifMultitool(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm", "npx"} {
		if _, err := exec.LookPath(tool); err != nil {
			if testdb.Required() {
				t.Fatalf("%s is not installed: the SARIF validator cannot run (MIGSAFE_REQUIRE_TOOLS=1)", tool)
			}
			t.Skipf("%s is not installed: the SARIF validator cannot run", tool)
		}
	}
	dir := os.Getenv("MIGSAFE_TOOLS")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(home, ".cache", "migsafe-tools")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".bin", "sarif-multitool")); err != nil {
		t.Fatalf("node and npm are installed but the SARIF validator is not in %s: run ./scripts/test, or (cd %s && npm install @microsoft/sarif-multitool@5.7.0)", dir, dir)
	}
	return dir
}

// TestSARIFValidates runs migsafe over every rule's bad example (every rule
// enabled) and validates the SARIF logs with Microsoft's validator, with its
// SARIF rules and GitHub's ingestion rules: no result may be an error.
//
// The validator silently skips a file it cannot deserialize, so each log is
// also validated as a control copy with an unknown property added to every
// result: the validator must report that property, which proves it read
// the file.
func TestSARIFValidates(t *testing.T) {
	tools := sarifMultitool(t)
	out := t.TempDir()
	var enableAll strings.Builder
	enableAll.WriteString("rules:\n")
	for _, r := range rules.All() {
		fmt.Fprintf(&enableAll, "  %s: on\n", r.Name)
	}
	var files []string
	controls := map[string]int{} // control file → results in it
	for _, r := range rules.All() {
		for i, ex := range r.Doc.Examples {
			name := fmt.Sprintf("%s-%s-%d", r.Name, ex.Dialect, i)
			if !dialectSupported(t, ex.Dialect) {
				t.Logf("%s: the %s dialect is not supported by the command line yet", name, ex.Dialect)
				continue
			}
			dir := filepath.Join(t.TempDir(), name)
			sarifPath := filepath.Join(out, name+".sarif")
			args := []string{"check", "--dialect", ex.Dialect, "--format", "sarif=" + sarifPath, "--fail-on", "never"}
			if ex.Target != "" {
				args = append(args, "--target-version", ex.Target)
			}
			var env map[string]string
			if analyzertest.IsHistory([]byte(ex.Bad)) {
				// a history example: its files in a git repository dated
				// like its deploys
				h, err := analyzertest.ParseHistory(name, []byte(ex.Bad))
				if err != nil {
					t.Fatal(err)
				}
				run := historytest.Materialize(t, dir, h)
				write(t, filepath.Join(dir, ".migsafe.yaml"), enableAll.String()+run.Config)
				args, env = append(append(args, run.Args...), "."), run.Env
			} else {
				write(t, filepath.Join(dir, "example.sql"), ex.Bad)
				write(t, filepath.Join(dir, ".migsafe.yaml"), enableAll.String())
				args = append(args, "example.sql")
			}
			res := migsafe(t, dir, env, false, args...)
			if res.code != 0 {
				t.Errorf("%s: exit %d\n%s", name, res.code, res.stderr)
				continue
			}
			l := readSARIF(t, sarifPath)
			fired := false
			for _, result := range l.Runs[0].Results {
				// a secondary rule's finding folded into another one
				// on the same statement is named in its properties
				fired = fired || result.RuleID == r.Code || slices.Contains(result.Properties.AlsoRuleIDs, r.Code)
			}
			if !fired {
				t.Errorf("%s: the bad example has no %s result in SARIF", name, r.Code)
			}
			files = append(files, sarifPath)
			control := filepath.Join(out, name+".control.sarif")
			controls[control] = addCanary(t, sarifPath, control)
			files = append(files, control)
		}
	}
	if t.Failed() {
		return
	}
	validation := filepath.Join(out, "validation.sarif")
	// bin.js runs the validator through a shell (spawnSync with shell: true),
	// so the ';' of the rule kinds is quoted for that shell.
	// --log takes a list: the files go before the options.
	args := append(append([]string{"--no", "--", "sarif-multitool", "validate"}, files...), "--rule-kind", `"Sarif;Gh"`, "--output", validation, "--log", "ForceOverwrite")
	cmd := exec.Command("npx", args...)
	cmd.Dir = tools
	if outb, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sarif-multitool validate: %v\n%s", err, outb)
	}
	type vresult struct {
		RuleID    string `json:"ruleId"`
		RuleIndex *int   `json:"ruleIndex"`
		Level     string `json:"level"`
		Message   struct {
			Text      string   `json:"text"`
			ID        string   `json:"id"`
			Arguments []string `json:"arguments"`
		} `json:"message"`
		Locations []struct {
			PhysicalLocation struct {
				ArtifactLocation struct{ URI string } `json:"artifactLocation"`
			} `json:"physicalLocation"`
		} `json:"locations"`
	}
	var vlog struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID      string `json:"id"`
						Default struct {
							Level string `json:"level"`
						} `json:"defaultConfiguration"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results     []vresult `json:"results"`
			Invocations []struct {
				ExecutionSuccessful bool `json:"executionSuccessful"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	data, err := os.ReadFile(validation)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &vlog); err != nil || len(vlog.Runs) != 1 {
		t.Fatalf("validation log: %v", err)
	}
	run := vlog.Runs[0]
	if len(run.Invocations) != 1 || !run.Invocations[0].ExecutionSuccessful {
		t.Fatalf("the validator did not run successfully: %+v", run.Invocations)
	}
	canaries := map[string]int{}
	for _, res := range run.Results {
		level := res.Level
		if level == "" && res.RuleIndex != nil && *res.RuleIndex < len(run.Tool.Driver.Rules) {
			level = run.Tool.Driver.Rules[*res.RuleIndex].Default.Level
		}
		if level == "" {
			level = "warning"
		}
		file := ""
		if len(res.Locations) > 0 {
			file = strings.TrimPrefix(res.Locations[0].PhysicalLocation.ArtifactLocation.URI, "file://")
		}
		if strings.HasSuffix(file, ".control.sarif") {
			if res.RuleID == "JSON1005" && strings.Contains(strings.Join(res.Message.Arguments, " ")+res.Message.Text, "migsafeCanary") {
				canaries[file]++
			}
			continue
		}
		if level == "error" {
			t.Errorf("%s: %s %s %v", filepath.Base(file), res.RuleID, res.Message.ID+res.Message.Text, res.Message.Arguments)
		} else {
			t.Logf("%s: %s %s: %s %v", filepath.Base(file), level, res.RuleID, res.Message.ID+res.Message.Text, res.Message.Arguments)
		}
	}
	for control, n := range controls {
		if canaries[control] != n {
			t.Errorf("%s: the validator reported %d of the %d unknown properties added: it did not read the file", filepath.Base(control), canaries[control], n)
		}
	}
	t.Logf("validated %d SARIF logs (%d rules' bad examples)", len(files)/2, len(rules.All()))
}

// dialectSupported reports whether the command line can check a dialect
// (the MySQL dialect is being added).
func dialectSupported(t *testing.T, dialect string) bool {
	res := migsafe(t, t.TempDir(), nil, false, "check", "--dialect", dialect, "--no-git", ".")
	return !strings.Contains(res.stderr, "not supported yet")
}

// addCanary copies a SARIF log with a property the schema does not allow
// added to every result, and returns the number of results.
func addCanary(t *testing.T, from, to string) int {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	var l map[string]any
	if err := json.Unmarshal(data, &l); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range l["runs"].([]any) {
		for _, res := range r.(map[string]any)["results"].([]any) {
			res.(map[string]any)["migsafeCanary"] = true
			n++
		}
	}
	data, err = json.MarshalIndent(l, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	write(t, to, string(data))
	return n
}
