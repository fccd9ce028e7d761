package testservice

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The kubectl stand-in: the testservice binary answers as kubectl when it
// is called through a link named kubectl. It keeps Deployments and Argo
// Rollouts in a JSON file ($FAKE_KUBE_STATE), appends every argv as a JSON
// line to $FAKE_KUBE_LOG, and answers with the messages and exit codes of
// the real tools (kubectl pkg/cmd/rollout and pkg/polymorphichelpers,
// kubectl-argo-rollouts pkg/kubectl-argo-rollouts/cmd; runner.md §1):
//
//	rollout pause of a paused Deployment: error … is already paused (exit 1)
//	rollout resume of a running one:      error … is not paused (exit 1)
//	rollout undo of a paused one:         error: you cannot rollback a paused deployment; resume it first … (exit 1)
//	rollout status of a paused one:       waits; with --timeout: error: timed out waiting for the condition (exit 1)
//
// killParentIf makes it a crash point of the crash tests: a crash inside
// an action, after its effect.

// KubeState is the stand-in's cluster.
type KubeState struct {
	Deployments map[string]*FakeDeployment `json:"deployments"`
	Rollouts    map[string]*FakeRollout    `json:"rollouts"`
}

// FakeDeployment is a Deployment with one container.
type FakeDeployment struct {
	Image     string   `json:"image"`
	Paused    bool     `json:"paused"`
	Revisions []string `json:"revisions"` // images, oldest first
	// Stuck: the new pods never become ready, so rollout status waits
	// until its --timeout, as for a paused Deployment
	Stuck bool `json:"stuck,omitempty"`
}

// FakeRollout is an Argo Rollout whose canary steps are setWeight +
// pause{} pairs with the given weights.
type FakeRollout struct {
	Image     string   `json:"image"`
	Revisions []string `json:"revisions"`
	Steps     []int    `json:"steps"`
	Index     int      `json:"index"` // the setWeight step reached, -1 before set image
	Weight    int      `json:"weight"`
	Aborted   bool     `json:"aborted"`
}

// Kubectl runs the stand-in.
func Kubectl(args []string, stdout, stderr io.Writer) int {
	if f := os.Getenv("FAKE_KUBE_LOG"); f != "" {
		line, _ := json.Marshal(append([]string{"kubectl"}, args...))
		lf, err := os.OpenFile(f, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err == nil {
			_, _ = lf.Write(append(line, '\n'))
			_ = lf.Sync()
			lf.Close()
		}
	}
	path := os.Getenv("FAKE_KUBE_STATE")
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "error: the stand-in needs $FAKE_KUBE_STATE:", err)
		return 1
	}
	var st KubeState
	if err := json.Unmarshal(data, &st); err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	// drop -n NS
	var a []string
	for i := 0; i < len(args); i++ {
		if args[i] == "-n" || args[i] == "--namespace" {
			i++
			continue
		}
		a = append(a, args[i])
	}
	code := kubectl(&st, a, stdout, stderr)
	out, _ := json.MarshalIndent(&st, "", " ")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, out, 0o644); err == nil {
		_ = os.Rename(tmp, path)
	}
	killParentIf(append([]string{"kubectl"}, args...))
	return code
}

// timeoutFlag reads kubectl's --timeout=D or --timeout D.
func timeoutFlag(args []string) (time.Duration, bool) {
	for i, a := range args {
		v, ok := strings.CutPrefix(a, "--timeout=")
		if !ok && a == "--timeout" && i+1 < len(args) {
			v, ok = args[i+1], true
		}
		if ok {
			d, err := time.ParseDuration(v)
			return d, err == nil && d > 0
		}
	}
	return 0, false
}

// killParentIf is a crash inside a command, after its effect, for the
// crash tests: every stand-in command (nginx, kubectl, testservice mark
// and has) appends its argv as a JSON line to $MIGSAFE_TEST_COMMANDS, and
// the one whose line is number $MIGSAFE_TEST_KILL_AT kills its parent (the
// runner) with SIGKILL, once ($MIGSAFE_TEST_KILL_MARKER records it).
func killParentIf(args []string) {
	log := os.Getenv("MIGSAFE_TEST_COMMANDS")
	if log == "" {
		return
	}
	line, _ := json.Marshal(args)
	lf, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	_, _ = lf.Write(append(line, '\n'))
	lf.Close()
	at, _ := strconv.Atoi(os.Getenv("MIGSAFE_TEST_KILL_AT"))
	marker := os.Getenv("MIGSAFE_TEST_KILL_MARKER")
	if at <= 0 || marker == "" {
		return
	}
	data, _ := os.ReadFile(log)
	if bytes.Count(data, []byte("\n")) != at {
		return
	}
	if _, err := os.Stat(marker); errors.Is(err, os.ErrNotExist) {
		_ = os.WriteFile(marker, nil, 0o644)
		_ = syscall.Kill(os.Getppid(), syscall.SIGKILL)
	}
}

// CommandLog reads the commands the stand-ins ran ($MIGSAFE_TEST_COMMANDS
// of killParentIf), each as its joined argv.
func CommandLog(t testing.TB, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var argv []string
		if len(l) > 0 && json.Unmarshal(l, &argv) == nil {
			out = append(out, strings.Join(argv, " "))
		}
	}
	return out
}

// NginxWrapper runs the real nginx ($MIGSAFE_TEST_REAL_NGINX) with args,
// and then may kill its parent (killParentIf): a crash inside an nginx
// command, after its effect. With $MIGSAFE_TEST_NGINX_FAIL_RELOAD set, a
// reload fails as nginx's does when its master is gone.
func NginxWrapper(args []string, stdout, stderr io.Writer) int {
	if os.Getenv("MIGSAFE_TEST_NGINX_FAIL_RELOAD") != "" && slices.Equal(args[max(len(args)-2, 0):], []string{"-s", "reload"}) {
		fmt.Fprintln(stderr, `nginx: [error] kill(4242, 1) failed (3: No such process)`)
		return 1
	}
	cmd := exec.Command(os.Getenv("MIGSAFE_TEST_REAL_NGINX"), args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	code := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			fmt.Fprintln(stderr, "nginx wrapper:", err)
			return 1
		}
		code = ee.ExitCode()
	}
	killParentIf(append([]string{"nginx"}, args...))
	return code
}

func kubectl(st *KubeState, a []string, stdout, stderr io.Writer) int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, format+"\n", args...)
		return 1
	}
	dep := func(ref string) (string, *FakeDeployment) {
		name, ok := strings.CutPrefix(ref, "deployment/")
		if !ok {
			return name, nil
		}
		return name, st.Deployments[name]
	}
	switch {
	case len(a) >= 4 && a[0] == "set" && a[1] == "image" && strings.HasPrefix(a[2], "deployment/"):
		name, d := dep(a[2])
		if d == nil {
			return fail(`Error from server (NotFound): deployments.apps "%s" not found`, name)
		}
		_, img, _ := strings.Cut(a[3], "=")
		if img != d.Image {
			d.Image = img
			d.Revisions = append(d.Revisions, img)
		}
		fmt.Fprintf(stdout, "deployment.apps/%s image updated\n", name)
		return 0
	case len(a) >= 3 && a[0] == "rollout":
		name, d := dep(a[2])
		if d == nil {
			return fail(`Error from server (NotFound): deployments.apps "%s" not found`, name)
		}
		switch a[1] {
		case "pause":
			if d.Paused {
				return fail(`error: deployments.apps "%s" is already paused`, name)
			}
			d.Paused = true
			fmt.Fprintf(stdout, "deployment.apps/%s paused\n", name)
		case "resume":
			if !d.Paused {
				return fail(`error: deployments.apps "%s" is not paused`, name)
			}
			d.Paused = false
			fmt.Fprintf(stdout, "deployment.apps/%s resumed\n", name)
		case "undo":
			if d.Paused {
				return fail("error: you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again")
			}
			if len(d.Revisions) < 2 {
				return fail(`error: no rollout history found for deployment %q`, name)
			}
			prev := d.Revisions[len(d.Revisions)-2]
			if prev == d.Image {
				fmt.Fprintf(stdout, "deployment.apps/%s skipped rollback (current template already matches revision %d)\n", name, len(d.Revisions)-1)
				return 0
			}
			// the old revision becomes the newest
			d.Revisions = append(slices.Delete(d.Revisions, len(d.Revisions)-2, len(d.Revisions)-1), prev)
			d.Image = prev
			fmt.Fprintf(stdout, "deployment.apps/%s rolled back\n", name)
		case "status":
			if d.Paused || d.Stuck {
				fmt.Fprintf(stdout, "Waiting for deployment %q rollout to finish: 0 out of 3 new replicas have been updated...\n", name)
				wait, ok := timeoutFlag(a)
				if !ok {
					return fail("the stand-in will not wait forever: real kubectl rollout status would (give --timeout)")
				}
				time.Sleep(min(wait, 3*time.Second)) // kubectl waits its --timeout
				return fail("error: timed out waiting for the condition")
			}
			fmt.Fprintf(stdout, "deployment %q successfully rolled out\n", name)
		default:
			return fail("error: unknown command %q for \"kubectl rollout\"", a[1])
		}
		return 0
	case len(a) >= 4 && a[0] == "get":
		jp := ""
		for i, s := range a {
			if s == "-o" && i+1 < len(a) {
				jp = a[i+1]
			}
		}
		if name, ok := strings.CutPrefix(a[1], "deployment/"); ok {
			d := st.Deployments[name]
			if d == nil {
				return fail(`Error from server (NotFound): deployments.apps "%s" not found`, name)
			}
			if strings.Contains(jp, ".image") {
				fmt.Fprint(stdout, d.Image)
				return 0
			}
		}
		if name, ok := strings.CutPrefix(a[1], "rollout.argoproj.io/"); ok {
			r := st.Rollouts[name]
			if r == nil {
				return fail(`Error from server (NotFound): rollouts.argoproj.io "%s" not found`, name)
			}
			switch {
			case strings.Contains(jp, ".image"):
				fmt.Fprint(stdout, r.Image)
			case strings.Contains(jp, "weights.canary.weight"):
				fmt.Fprint(stdout, r.Weight)
			}
			return 0
		}
		return fail("error: the stand-in does not know %q", strings.Join(a, " "))
	case len(a) >= 4 && a[0] == "argo" && a[1] == "rollouts":
		return argo(st, a[2:], stdout, stderr)
	}
	return fail("error: the stand-in does not know %q", strings.Join(a, " "))
}

func argo(st *KubeState, a []string, stdout, stderr io.Writer) int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, format+"\n", args...)
		return 1
	}
	var name string
	switch a[0] {
	case "set":
		if len(a) >= 4 {
			name = a[2]
		}
	default:
		name = a[1]
	}
	r := st.Rollouts[name]
	if r == nil {
		return fail(`Error: rollouts.argoproj.io "%s" not found`, name)
	}
	switch a[0] {
	case "set":
		_, img, _ := strings.Cut(a[3], "=")
		if img != r.Image {
			r.Image = img
			r.Revisions = append(r.Revisions, img)
			// The controller runs the first setWeight and stops at its pause.
			r.Index, r.Weight, r.Aborted = 0, r.Steps[0], false
		}
		fmt.Fprintf(stdout, "rollout %q image updated\n", name)
	case "promote":
		if slices.Contains(a, "--full") {
			r.Index, r.Weight = len(r.Steps), 100
			fmt.Fprintf(stdout, "rollout '%s' fully promoted\n", name)
			return 0
		}
		r.Index++
		if r.Index < len(r.Steps) {
			r.Weight = r.Steps[r.Index]
		} else {
			r.Weight = 100
		}
		fmt.Fprintf(stdout, "rollout '%s' promoted\n", name)
	case "abort":
		r.Weight, r.Aborted = 0, true
		fmt.Fprintf(stdout, "rollout '%s' aborted\n", name)
	case "undo":
		if len(r.Revisions) < 2 {
			return fail("Error: no revision found for rollout %q", name)
		}
		prev := r.Revisions[len(r.Revisions)-2]
		if prev == r.Image {
			fmt.Fprintf(stdout, "skipped rollback (current template already matches revision 0)")
			return 0
		}
		r.Revisions = append(slices.Delete(r.Revisions, len(r.Revisions)-2, len(r.Revisions)-1), prev)
		r.Image = prev
		fmt.Fprintf(stdout, "rollout '%s' undo\n", name)
	case "status":
		switch {
		case r.Aborted:
			fmt.Fprintln(stdout, "Degraded - RolloutAborted: Rollout aborted update to revision", len(r.Revisions))
			return fail("Error: The rollout is in a degraded state with message: RolloutAborted: Rollout aborted update to revision %d", len(r.Revisions))
		case r.Weight == 100:
			fmt.Fprintln(stdout, "Healthy")
		default:
			fmt.Fprintln(stdout, "Paused - CanaryPauseStep")
			return fail("Error: Rollout status watch exceeded timeout")
		}
	default:
		return fail("Error: unknown command %q for \"kubectl-argo-rollouts\"", a[0])
	}
	return 0
}
