package flags

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// flagctl is the test's stand-in for a user's flag command: it keeps each
// flag's percentage in a file next to it.
const flagctl = `#!/bin/sh
dir=$(dirname "$0")
case "$1" in
set) echo "$3" > "$dir/flag-$2" ;;
get)
  if [ ! -f "$dir/flag-$2" ]; then echo missing; exit 0; fi
  p=$(cat "$dir/flag-$2")
  if [ "$p" = 0 ]; then echo '{"exists": true, "enabled": false, "percent": 0}'
  else echo "{\"exists\": true, \"enabled\": true, \"percent\": $p}"; fi ;;
word) echo "$2" ;;
fail) echo "flag service unreachable" >&2; exit 7 ;;
esac
`

func TestExec(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "flagctl")
	if err := os.WriteFile(bin, []byte(flagctl), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	e, err := NewExec([]string{bin, "set", "{{.Key}}", "{{.Percent}}"}, []string{bin, "get", "{{.Key}}"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := e.Get(ctx, "new_path"); err != nil || s.Exists {
		t.Fatalf("before: %v %v", s, err)
	}
	for _, p := range []int{5, 50, 0} {
		if err := e.Set(ctx, "new_path", p); err != nil {
			t.Fatal(err)
		}
		s, err := e.Get(ctx, "new_path")
		if err != nil || s != (State{Exists: true, Enabled: p > 0, Percent: p}) {
			t.Fatalf("after Set %d: %v %v", p, s, err)
		}
	}
	for word, want := range map[string]State{"on": {true, true, 100}, "false": {Exists: true}, "missing": {}} {
		w, _ := NewExec([]string{bin, "set"}, []string{bin, "word", word}, 0)
		if s, err := w.Get(ctx, "x"); err != nil || s != want {
			t.Errorf("%s: %v %v, want %v", word, s, err, want)
		}
	}
	f, _ := NewExec([]string{bin, "fail"}, []string{bin, "word", "maybe"}, 0)
	if err := f.Set(ctx, "x", 0); err == nil || !strings.Contains(err.Error(), "exit status 7: flag service unreachable") {
		t.Errorf("failing set: %v", err)
	}
	if _, err := f.Get(ctx, "x"); err == nil || !strings.Contains(err.Error(), `printed "maybe"`) {
		t.Errorf("bad get output: %v", err)
	}
	slow, _ := NewExec([]string{"sleep", "10"}, nil, 200*time.Millisecond)
	if err := slow.Set(ctx, "x", 0); err == nil || !strings.Contains(err.Error(), "did not finish within 200ms") {
		t.Errorf("slow set: %v", err)
	}
	if _, err := NewExec([]string{bin, "{{.Keyy}}"}, nil, 0); err == nil {
		t.Error("a misspelt template field was accepted")
	}
}
