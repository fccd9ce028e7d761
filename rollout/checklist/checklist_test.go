package checklist

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/migsafe/migsafe/internal/testprom"
	"github.com/migsafe/migsafe/rollout/flags"
	"github.com/migsafe/migsafe/rollout/gate"
	"github.com/migsafe/migsafe/rollout/notify"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func parse(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	return &n
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

const postRollback = `
- name: smoke checks pass
  fix: run ./scripts/smoke by hand against stable and read its output
  check:
    metrics:
      - name: smoke
        provider: {exec: {argv: ["true"]}}
- name: CI is green for the revert commit
  fix: open the CI run of the revert commit and fix or re-run it
  check:
    metrics:
      - name: ci
        provider: {exec: {argv: ["false"]}}
- name: no new errors in the logs
  waive: the service writes no logs on this host
`

func TestRunAndReports(t *testing.T) {
	items, err := Compile(parse(t, postRollback))
	if err != nil {
		t.Fatal(err)
	}
	r := Run(context.Background(), "post-rollback checklist", items, gate.Window{Stable: "1.41.0", Canary: "1.42.0"})
	if r.Passed || len(r.Outcomes) != 3 || !r.Outcomes[0].Passed || r.Outcomes[1].Passed || !r.Outcomes[2].Passed {
		t.Fatalf("%+v", r)
	}
	var text, md, js bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	golden(t, "post-rollback.txt", text.Bytes())
	golden(t, "post-rollback.md", md.Bytes())
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Passed || len(back.Outcomes) != 3 || back.Outcomes[1].Fix == "" || back.Outcomes[2].Waived == "" {
		t.Errorf("JSON: %v\n%s", err, js.String())
	}
}

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"- name: x\n  fixx: y\n  waive: z\n", `line 2, column 3: unknown key "fixx" in a checklist item; did you mean "fix"?`},
		{"- name: x\n  fix: y\n", `line 1, column 3: checklist item "x" needs a check, or waive:`},
		{"- fix: y\n  waive: z\n", `needs a name`},
		{"name: x\n", `a checklist is a list`},
		{"- name: x\n  check:\n    metrics:\n      - name: m\n        provider: {exec: {argv: [true]}}\n        countt: 2\n", `line 6, column 9: unknown key "countt" in metrics item; did you mean "count"?`},
	} {
		_, err := Compile(parse(t, c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.src, err, c.want)
		}
	}
}

func TestRevertCommit(t *testing.T) {
	dir := t.TempDir()
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@t.invalid"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("commit", "-q", "--allow-empty", "-m", "release 1.41.0")
	git("tag", "v1.41.0")
	head := git("rev-parse", "HEAD")
	ctx := context.Background()
	for _, c := range []struct {
		commit string
		want   gate.Phase
	}{
		{head, gate.Successful}, {head[:7], gate.Successful}, {"v1.41.0", gate.Successful},
		{"0123456789abcdef0123456789abcdef01234567", gate.Failed}, {"", gate.Failed}, {"--all", gate.Failed},
	} {
		r := RevertCommit(dir, c.commit).Evaluate(ctx, gate.Window{})
		if r.Phase != c.want {
			t.Errorf("%q: %s (%s), want %s", c.commit, r.Phase, r.Message, c.want)
		}
	}
}

func TestFlagsSafe(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "flagctl")
	// The test's stand-in flag command: get prints the word stored in a
	// file named after the flag, or "missing".
	script := "#!/bin/sh\nif [ -f \"$(dirname \"$0\")/$2\" ]; then cat \"$(dirname \"$0\")/$2\"; else echo missing; fi\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, word := range map[string]string{"dark": "off", "live": "on"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(word+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := flags.NewExec([]string{bin, "set"}, []string{bin, "get", "{{.Key}}"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range []struct {
		keys []string
		want gate.Phase
		msg  string
	}{
		{[]string{"dark"}, gate.Successful, "flags exist and are off: dark"},
		{[]string{"dark", "live", "gone"}, gate.Failed, "live is already on for 100%; gone does not exist"},
		{nil, gate.Failed, "names no feature flag"},
	} {
		r := FlagsSafe(b, c.keys).Evaluate(ctx, gate.Window{})
		if r.Phase != c.want || !strings.Contains(r.Message, c.msg) {
			t.Errorf("%v: %s: %s", c.keys, r.Phase, r.Message)
		}
	}
}

// AlertRules against a real Prometheus that loaded a rule file.
func TestAlertRules(t *testing.T) {
	p := testprom.Start(t, testprom.Options{Rules: `
groups:
  - name: checkout
    rules:
      - alert: CheckoutErrors
        expr: sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.01
        for: 5m
      - record: checkout:latency:p99
        expr: histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))
`})
	ctx := context.Background()
	r := AlertRules(p.URL, []string{"http_requests_total"}).Evaluate(ctx, gate.Window{})
	if r.Phase != gate.Successful || !strings.Contains(r.Message, "http_requests_total (CheckoutErrors)") {
		t.Errorf("%s: %s", r.Phase, r.Message)
	}
	// A recording rule is not an alert; a metric name inside another one
	// does not count.
	r = AlertRules(p.URL, []string{"http_requests_total", "http_request_duration_seconds_bucket", "http_requests"}).Evaluate(ctx, gate.Window{})
	if r.Phase != gate.Failed || r.Message != "no alerting rule watches http_request_duration_seconds_bucket, http_requests" {
		t.Errorf("%s: %s", r.Phase, r.Message)
	}
	p.Stop()
	r = AlertRules(p.URL, []string{"http_requests_total"}).Evaluate(ctx, gate.Window{})
	if r.Phase != gate.Error {
		t.Errorf("Prometheus stopped: %s: %s", r.Phase, r.Message)
	}
}

// The post-rollback CI item: `gh run list` through an exec check. GitHub
// cannot be reached from the tests, so a stand-in gh first on PATH prints
// what the real one prints for
// `gh run list --commit SHA --json conclusion,status,headSha`.
func TestCIGreen(t *testing.T) {
	dir := t.TempDir()
	script := `#!/bin/sh
# stand-in for: gh run list --commit SHA --json conclusion,status,headSha
case "$4" in
5ab0c11) echo '[{"conclusion":"success","headSha":"5ab0c11","status":"completed"}]' ;;
9d81e07) echo '[{"conclusion":"failure","headSha":"9d81e07","status":"completed"}]' ;;
*) echo '[]' ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "gh"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	item := func(commit string) string {
		return `
- name: CI is green for the revert commit
  fix: open the CI run of the revert commit
  check:
    metrics:
      - name: ci
        provider:
          exec: {argv: [gh, run, list, --commit, "` + commit + `", --json, "conclusion,status,headSha"]}
        successCondition: result == 0 && len(fromJSON(stdout)) > 0 && all(fromJSON(stdout), {.status == "completed" && .conclusion == "success"})
`
	}
	for commit, want := range map[string]bool{"5ab0c11": true, "9d81e07": false, "0000000": false} {
		items, err := Compile(parse(t, item(commit)))
		if err != nil {
			t.Fatal(err)
		}
		r := Run(context.Background(), "post-rollback checklist", items, gate.Window{})
		if r.Passed != want {
			t.Errorf("%s: passed %v, want %v: %s", commit, r.Passed, want, r.Outcomes[0].Message)
		}
	}
}

func TestOnCallNotified(t *testing.T) {
	var got []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m notify.SlackMessage
		if json.NewDecoder(r.Body).Decode(&m) != nil || m.Text == "" {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, m.Text)
		mu.Unlock()
	}))
	defer srv.Close()
	ev := notify.Event{Kind: "readiness", Run: "r-1", Service: "checkout"}
	ctx := context.Background()
	ok := OnCallNotified("Ada", []notify.Sink{&notify.Webhook{URL: srv.URL}, &notify.Exec{Argv: []string{"false"}}}, ev, time.Second).Evaluate(ctx, gate.Window{})
	if ok.Phase != gate.Successful || ok.Message != "Ada was notified through 1 of 2 sinks" || len(got) != 1 || !strings.Contains(got[0], "on call: Ada") {
		t.Errorf("%s: %s; webhook got %q", ok.Phase, ok.Message, got)
	}
	for _, c := range []struct {
		person string
		sinks  []notify.Sink
		msg    string
	}{
		{"", []notify.Sink{&notify.Webhook{URL: srv.URL}}, "no on-call person is named"},
		{"Ada", nil, "no notification sink"},
		{"Ada", []notify.Sink{&notify.Exec{Argv: []string{"false"}}}, "no sink accepted the message for Ada: exec false: exit status 1"},
	} {
		r := OnCallNotified(c.person, c.sinks, ev, time.Second).Evaluate(ctx, gate.Window{})
		if r.Phase != gate.Failed || !strings.Contains(r.Message, c.msg) {
			t.Errorf("%q: %s: %s", c.person, r.Phase, r.Message)
		}
	}
}
