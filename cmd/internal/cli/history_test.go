package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/analyzer/analyzertest"
	"github.com/migsafe/migsafe/internal/historytest"
	"github.com/migsafe/migsafe/rules"
)

type jsonFinding struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	Path    string `json:"path"`
	Message string `json:"message"`
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
					if !w.met && w.path == fd.Path && w.line == fd.Start.Line && w.rule == fd.Name && (w.re == nil || w.re.MatchString(fd.Message)) {
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
