package backend_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/migsafe/migsafe/internal/testservice"
	"github.com/migsafe/migsafe/rollout/backend"
)

func bin(t *testing.T) string {
	return testservice.Build(t, "./internal/testservice/testservice")
}

func do(t *testing.T, b backend.Backend, a backend.Action, w int) error {
	t.Helper()
	p := backend.Params{Weight: w, Stable: "v1", Canary: "v2", RunID: "r1", Step: string(a)}
	if b.Name() != "nginx" {
		p.Stable, p.Canary = "reg/web:1", "reg/web:2"
	}
	return b.Do(context.Background(), a, p, func(backend.Record) {})
}

func TestNginx(t *testing.T) {
	bin := bin(t)
	stable := testservice.StartService(t, bin, "v1", 0)
	canary := testservice.StartService(t, bin, "v2", 0)
	ngx := testservice.StartNginx(t, stable.Addr)
	spec := backend.Spec{Preset: "nginx", Vars: map[string]string{
		"upstream_file": ngx.Upstream, "stable": stable.Addr, "canary": canary.Addr,
		"prefix": ngx.Prefix, "conf": ngx.Conf, "nginx": ngx.Binary, "error_log": filepath.Join(ngx.Prefix, "error.log"),
		"pid_file": ngx.PidFile,
	}}
	b, err := backend.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	testservice.WaitShare(t, ngx.URL, "v2", 100, 0, 5*time.Second)
	for _, w := range []int{1, 25, 100, 0} {
		if err := do(t, b, backend.SetWeight, w); err != nil {
			t.Fatal(err)
		}
		// The action returns when the new workers serve (pid_file), and
		// nginx's weighted round robin is exact over each cycle of 100:
		// the very next 100 requests have the share.
		if c := testservice.Send(ngx.URL, 100); c.Requests["v2"] != w || c.Failed != 0 {
			t.Errorf("weight %d: right after the action the canary got %d of 100 (%v)", w, c.Requests["v2"], c.Requests)
		}
	}

	// A configuration nginx -t refuses is not installed: the previous
	// upstream file stays and traffic does not move.
	before, _ := os.ReadFile(ngx.Upstream)
	spec.Vars["canary"] = "127.0.0.1:99999"
	bad, _ := backend.New(spec)
	err = do(t, bad, backend.SetWeight, 50)
	if err == nil || !strings.Contains(err.Error(), "-t exited 1") || !strings.Contains(err.Error(), "previous") {
		t.Fatalf("bad config: %v", err)
	}
	after, _ := os.ReadFile(ngx.Upstream)
	if string(after) != string(before) {
		t.Errorf("the upstream file changed:\n%s", after)
	}
	testservice.WaitShare(t, ngx.URL, "v2", 100, 0, 5*time.Second)

	// A reload that fails (nginx -t passed) puts the previous file back:
	// what is on disk stays what nginx serves.
	t.Setenv("MIGSAFE_TEST_REAL_NGINX", ngx.Binary)
	t.Setenv("MIGSAFE_TEST_NGINX_FAIL_RELOAD", "1")
	spec.Vars["canary"] = canary.Addr
	spec.Vars["nginx"] = filepath.Join(testservice.NginxWrapperPath(t, bin), "nginx")
	failing, err := backend.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	err = do(t, failing, backend.SetWeight, 50)
	if err == nil || !strings.Contains(err.Error(), "reload exited 1") || !strings.Contains(err.Error(), "previous") {
		t.Fatalf("failed reload: %v", err)
	}
	if after, _ := os.ReadFile(ngx.Upstream); string(after) != string(before) {
		t.Errorf("after a failed reload the upstream file is\n%s\nnot the previous\n%s", after, before)
	}
	testservice.WaitShare(t, ngx.URL, "v2", 100, 0, 5*time.Second)
}

func TestKubectlDeployment(t *testing.T) {
	dir, stateFile, logFile := testservice.KubectlPath(t, bin(t), testservice.KubeState{
		Deployments: map[string]*testservice.FakeDeployment{"web": {Image: "reg/web:1", Revisions: []string{"reg/web:1"}}},
	})
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_KUBE_STATE", stateFile)
	t.Setenv("FAKE_KUBE_LOG", logFile)
	b, err := backend.New(backend.Spec{Preset: "kubectl-deployment", Vars: map[string]string{"deployment": "web", "container": "app", "namespace": "shop", "status_timeout": "5s"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []backend.Action{backend.Deploy, backend.Deploy, backend.SetWeight, backend.RouteStable, backend.RouteStable} {
		if err := do(t, b, a, 5); err != nil {
			t.Fatalf("%s: %v", a, err)
		}
	}
	want := []string{
		// deploy, twice: the second pause answers "is already paused"
		"kubectl -n shop set image deployment/web app=reg/web:2",
		"kubectl -n shop rollout pause deployment/web",
		"kubectl -n shop set image deployment/web app=reg/web:2",
		"kubectl -n shop rollout pause deployment/web",
		// set_weight 5: a Deployment has no weights; nothing to run
		// route_stable: resume before undo (undo refuses a paused
		// Deployment), the image read before undo, then status with a timeout
		"kubectl -n shop rollout resume deployment/web",
		`kubectl -n shop get deployment/web -o jsonpath={.spec.template.spec.containers[?(@.name=="app")].image}`,
		"kubectl -n shop rollout undo deployment/web",
		"kubectl -n shop rollout status deployment/web --timeout=5s",
		// again (a resumed rollback): not paused is fine; the image is
		// stable already, so no second undo (it would go back further)
		"kubectl -n shop rollout resume deployment/web",
		`kubectl -n shop get deployment/web -o jsonpath={.spec.template.spec.containers[?(@.name=="app")].image}`,
		"kubectl -n shop rollout status deployment/web --timeout=5s",
	}
	if got := testservice.KubectlLog(t, logFile); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("argv:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	st := testservice.ReadKubeState(t, stateFile)
	if d := st.Deployments["web"]; d.Image != "reg/web:1" || d.Paused {
		t.Errorf("deployment %+v", d)
	}
}

// TestKubectlUndoRefusesPaused: without the resume first, the stand-in
// refuses undo as kubectl does, and the backend reports it.
func TestKubectlUndoRefusesPaused(t *testing.T) {
	dir, stateFile, logFile := testservice.KubectlPath(t, bin(t), testservice.KubeState{
		Deployments: map[string]*testservice.FakeDeployment{"web": {Image: "reg/web:2", Paused: true, Revisions: []string{"reg/web:1", "reg/web:2"}}},
	})
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_KUBE_STATE", stateFile)
	t.Setenv("FAKE_KUBE_LOG", logFile)
	b, _ := backend.New(backend.Spec{Preset: "kubectl-deployment", Vars: map[string]string{"deployment": "web", "container": "app"},
		Actions: map[backend.Action][]backend.Command{backend.RouteStable: {{Argv: []string{"kubectl", "rollout", "undo", "deployment/web"}}}}})
	err := do(t, b, backend.RouteStable, 0)
	if err == nil || !strings.Contains(err.Error(), "you cannot rollback a paused deployment; resume it first") {
		t.Fatalf("undo while paused: %v", err)
	}
}

func TestArgoRollouts(t *testing.T) {
	dir, stateFile, logFile := testservice.KubectlPath(t, bin(t), testservice.KubeState{
		Rollouts: map[string]*testservice.FakeRollout{"web": {Image: "reg/web:1", Revisions: []string{"reg/web:1"}, Steps: []int{1, 5, 25}, Index: -1}},
	})
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_KUBE_STATE", stateFile)
	t.Setenv("FAKE_KUBE_LOG", logFile)
	b, err := backend.New(backend.Spec{Preset: "argo-rollouts", Vars: map[string]string{"rollout": "web", "container": "app"}})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		a backend.Action
		w int
	}{{backend.Deploy, 0}, {backend.SetWeight, 1}, {backend.SetWeight, 5}, {backend.SetWeight, 5}, {backend.RouteStable, 0}, {backend.Undo, 0}, {backend.Undo, 0}}
	for _, s := range steps {
		if err := do(t, b, s.a, s.w); err != nil {
			t.Fatalf("%s: %v", s.a, err)
		}
	}
	if r := testservice.ReadKubeState(t, stateFile).Rollouts["web"]; r.Image != "reg/web:1" || r.Weight != 0 {
		t.Errorf("rolled back: rollout %+v", r)
	}
	// then a release that is promoted: full promotion, and status waits
	// with a timeout (kubectl argo rollouts status waits forever without)
	for _, s := range steps[:2] {
		if err := do(t, b, s.a, s.w); err != nil {
			t.Fatalf("%s: %v", s.a, err)
		}
	}
	if err := do(t, b, backend.Promote, 100); err != nil {
		t.Fatalf("promote: %v", err)
	}
	weight := "kubectl -n default get rollout.argoproj.io/web -o jsonpath={.status.canary.weights.canary.weight}"
	image := `kubectl -n default get rollout.argoproj.io/web -o jsonpath={.spec.template.spec.containers[?(@.name=="app")].image}`
	want := []string{
		"kubectl argo rollouts -n default set image web app=reg/web:2",
		weight, // 1 already: Argo ran the first setWeight by itself
		weight, "kubectl argo rollouts -n default promote web",
		weight, // 5 already: no second promote (it would skip a step)
		"kubectl argo rollouts -n default abort web",
		image, "kubectl argo rollouts -n default undo web",
		image, // stable already: no second undo
		"kubectl argo rollouts -n default set image web app=reg/web:2",
		weight,
		"kubectl argo rollouts -n default promote web --full",
		"kubectl argo rollouts -n default status web --timeout 120s",
	}
	if got := testservice.KubectlLog(t, logFile); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("argv:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r := testservice.ReadKubeState(t, stateFile).Rollouts["web"]; r.Image != "reg/web:2" || r.Weight != 100 {
		t.Errorf("promoted: rollout %+v", r)
	}
}

func TestValidateValue(t *testing.T) {
	for _, v := range []string{"-rf", "a b", "x;y", "$(id)", "", "a\nb"} {
		if backend.ValidateValue("v", v) == nil {
			t.Errorf("%q passed", v)
		}
	}
	for _, v := range []string{"reg/web:1.2@sha256:ab", "127.0.0.1:8080", "shop"} {
		if err := backend.ValidateValue("v", v); err != nil {
			t.Error(err)
		}
	}
}

// TestKubectlStatusDeadline: rollout status waits its own --timeout
// (status_timeout), and the runner's deadline for the command is longer,
// so a rollout that never becomes ready fails with kubectl's own words,
// not a kill. A status_timeout of zero (kubectl: wait forever) or not a
// duration is refused.
func TestKubectlStatusDeadline(t *testing.T) {
	dir, stateFile, logFile := testservice.KubectlPath(t, bin(t), testservice.KubeState{
		Deployments: map[string]*testservice.FakeDeployment{"web": {Image: "reg/web:1", Revisions: []string{"reg/web:1"}, Stuck: true}},
	})
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_KUBE_STATE", stateFile)
	t.Setenv("FAKE_KUBE_LOG", logFile)
	vars := map[string]string{"deployment": "web", "container": "app", "status_timeout": "1s"}
	b, err := backend.New(backend.Spec{Preset: "kubectl-deployment", Vars: vars, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = do(t, b, backend.Promote, 100)
	if err == nil || !strings.Contains(err.Error(), "timed out waiting for the condition") {
		t.Fatalf("promote of a stuck rollout: %v", err)
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("status returned after %s, before its own --timeout", took)
	}
	for _, bad := range []string{"0", "0s", "forever", "-5s"} {
		vars["status_timeout"] = bad
		for _, preset := range []string{"kubectl-deployment", "argo-rollouts"} {
			v := maps.Clone(vars)
			v["rollout"] = "web"
			if _, err := backend.New(backend.Spec{Preset: preset, Vars: v}); err == nil || !strings.Contains(err.Error(), "vars.status_timeout") {
				t.Errorf("%s status_timeout %q: %v", preset, bad, err)
			}
		}
	}
}
