package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRolloutLiveView: on a terminal a status line (step, weight, time
// left) is drawn while a bake waits and cleared before the next event;
// elsewhere only plain lines are written.
func TestRolloutLiveView(t *testing.T) {
	dir := t.TempDir()
	plan := `name: web-v2
service: web
release: {stable: v1, canary: v2}
backend: {preset: exec, actions: {set_weight: [[true]], route_stable: [[true]]}}
steps:
  - set_weight: 5
  - analysis: {exec: ["true"]}
  - bake: 300ms
  - approve
  - promote
`
	if err := os.WriteFile(filepath.Join(dir, "rollout.yaml"), []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, terminal := range []bool{true, false} {
		var out, errOut bytes.Buffer
		code := Main(context.Background(), []string{"migsafe", "rollout", "start", "--state-dir", t.TempDir()},
			Env{Stdout: &out, Stderr: &errOut, Dir: dir, IsTerminal: func(io.Writer) bool { return terminal }})
		if code != ExitPaused {
			t.Fatalf("exit %d\n%s%s", code, out.String(), errOut.String())
		}
		live := strings.Contains(out.String(), "\r\033[K  step 3/5 bake 300ms · canary 5% · ")
		if live != terminal {
			t.Errorf("terminal %v, live line %v:\n%q", terminal, live, out.String())
		}
		if terminal && !strings.Contains(out.String(), " left · last gate Successful\r\033[K") {
			t.Errorf("the live line is not cleared before the next event:\n%q", out.String())
		}
	}
}
