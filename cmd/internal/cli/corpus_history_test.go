package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpus is the shared corpus of real migrations (skipped when absent).
const corpus = "../../../../shared/corpus"

// TestCorpusHistories replays every corpus history in its tool's order
// (the Ory ones as popx sets over their tagged and generic folders), for
// check and for status: no internal error, no unreadable file.
func TestCorpusHistories(t *testing.T) {
	if _, err := os.Stat(corpus); err != nil {
		t.Skipf("no corpus at %s", corpus)
	}
	abs, err := filepath.Abs(corpus)
	if err != nil {
		t.Fatal(err)
	}
	runs := [][]string{
		{"--dialect", "postgres", "ory-kratos"}, {"--dialect", "mysql", "ory-kratos"},
		{"--dialect", "postgres", "ory-hydra"}, {"--dialect", "mysql", "ory-hydra"},
	}
	for _, p := range []string{"authelia", "cloudfoundry-uaa", "ente", "flowable", "harbor", "supabase-auth", "synapse", "temporal"} {
		for _, d := range []string{"postgres", "mysql"} {
			if _, err := os.Stat(filepath.Join(abs, p, d)); err == nil {
				runs = append(runs, []string{"--dialect", d, filepath.Join(p, d)})
			}
		}
	}
	for _, args := range runs {
		t.Run(strings.Join(args[1:], "/"), func(t *testing.T) {
			for _, cmd := range [][]string{
				append([]string{"check", "--no-git", "--format", "json", "--fail-on", "never", "--quiet"}, args...),
				append([]string{"status", "--no-git", "--format", "json"}, args...),
			} {
				r := migsafe(t, abs, nil, false, cmd...)
				if r.code != 0 || strings.Contains(r.stderr, "internal error") || strings.Contains(r.stdout, `"tool_errors": 1`) {
					t.Errorf("migsafe %s: exit %d\n%s", strings.Join(cmd, " "), r.code, r.stderr)
				}
				if cmd[0] == "status" && !strings.Contains(r.stdout, `"histories"`) {
					t.Errorf("status: %s", r.stdout)
				}
			}
		})
	}
}
