package execgate

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/migsafe/migsafe/rollout/gate"
)

func TestPhases(t *testing.T) {
	w := gate.Window{Start: time.Unix(0, 0), End: time.Unix(60, 0), Stable: "v1", Canary: "v2", Weight: 5}
	cases := []struct {
		argv []string
		want gate.Phase
		msg  string
	}{
		{[]string{"sh", "-c", `echo "weight $MIGSAFE_WEIGHT $MIGSAFE_STABLE→$MIGSAFE_CANARY $MIGSAFE_WINDOW_END"`}, gate.Successful, "(weight 5 v1→v2 1970-01-01T00:01:00Z)"},
		{[]string{"sh", "-c", "echo too many errors; exit 1"}, gate.Failed, "exited 1 (too many errors)"},
		{[]string{"sh", "-c", "exit 2"}, gate.Error, "exited 2"},
		{[]string{"sh", "-c", "exec sleep 5"}, gate.Error, "no answer within 200ms"},
		{[]string{"/nonexistent/probe"}, gate.Error, "no such file"},
	}
	for _, c := range cases {
		g := &Gate{Argv: c.argv, Timeout: 200 * time.Millisecond}
		r := g.Evaluate(context.Background(), w)
		if r.Phase != c.want || !strings.Contains(r.Message, c.msg) {
			t.Errorf("%v: %s %q, want %s …%s…", c.argv, r.Phase, r.Message, c.want, c.msg)
		}
	}
}
