package cli

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

// TestReachableCommandsAnswerAlike: a run that names a command builds that
// command alone (reachable); each command, each of its subcommands, and
// a usage error of each answer as with every command built.
func TestReachableCommandsAnswerAlike(t *testing.T) {
	runWith := func(every bool, args ...string) string {
		var out, errOut bytes.Buffer
		env := Env{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
		code := run(context.Background(), append([]string{"migsafe"}, args...), env, every)
		return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	var cases [][]string
	for _, c := range commands(Env{}, Env{}) {
		cmd := c.build()
		if cmd.Name != c.name {
			t.Errorf("command %q is listed as %q: reachable would not find it", cmd.Name, c.name)
		}
		cases = append(cases, []string{c.name, "--help"}, []string{"help", c.name}, []string{c.name, "--no-such-flag"})
		for _, sub := range cmd.Commands {
			cases = append(cases, []string{c.name, sub.Name, "--help"}, []string{c.name, sub.Name, "--no-such-flag"})
		}
	}
	cases = append(cases, []string{"--help"}, []string{"chek"}, []string{"check", "--no-git", "--no-cache", "does-not-exist.sql"}, []string{"rollout", "no-such-subcommand"})
	for _, args := range cases {
		if got, want := runWith(false, args...), runWith(true, args...); got != want {
			t.Errorf("migsafe %q with only the named command built:\n%s\nwith every command built:\n%s", args, got, want)
		}
	}
	// the case that matters: a named command is built alone; and the
	// comparison above was with the whole tree
	if got := reachable(commands(Env{}, Env{}), []string{"migsafe", "check", "x.sql"}, false); len(got) != 1 || got[0].Name != "check" {
		t.Errorf("reachable built %d commands for migsafe check", len(got))
	}
	if got, want := len(reachable(commands(Env{}, Env{}), []string{"migsafe", "check", "x.sql"}, true)), len(commands(Env{}, Env{})); got != want {
		t.Errorf("with every set, reachable built %d commands, want %d", got, want)
	}
}
