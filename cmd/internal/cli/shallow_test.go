package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/migsafe/migsafe/internal/historytest"
)

// TestShallowClone: CI checkouts are often shallow (one commit), which
// would make every migration look added by that commit: one deploy in which
// every table is new and nothing is a finding. migsafe must notice, warn,
// and fall back to one deploy per version; --since must refuse.
func TestShallowClone(t *testing.T) {
	src := gitHistory(t,
		gitCommit{40, map[string]string{
			"db/000001_users.up.sql":   "CREATE TABLE users (id bigint PRIMARY KEY, legacy text);\n",
			"db/000001_users.down.sql": "DROP TABLE users;\n",
		}},
		gitCommit{30, map[string]string{
			"db/000002_drop.up.sql":   "ALTER TABLE users DROP COLUMN legacy;\n",
			"db/000002_drop.down.sql": "ALTER TABLE users ADD COLUMN legacy text;\n",
		}},
	)
	full := migsafe(t, src, nowEnv, false, "check", "--format", "concise", "db")
	dir := filepath.Join(t.TempDir(), "clone")
	historytest.Git(t, filepath.Dir(dir), time.Time{}, "clone", "-q", "--depth", "1", "file://"+src, dir)

	res := migsafe(t, dir, nowEnv, false, "check", "--format", "concise", "db")
	if res.code != 1 || !strings.Contains(res.stdout, "000002_drop.up.sql:1:19: error[MS201] drop-column") {
		t.Errorf("shallow clone: exit %d, want 1 with the drop-column finding\n%s%s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stderr, "migsafe: warning: db is in a shallow git clone") || !strings.Contains(res.stderr, "fetch-depth: 0") {
		t.Errorf("no warning about the shallow clone:\n%s", res.stderr)
	}
	if res.stdout != full.stdout {
		t.Errorf("the shallow clone's findings differ from the full clone's:\nshallow:\n%s\nfull:\n%s", res.stdout, full.stdout)
	}

	res = migsafe(t, dir, nowEnv, false, "check", "--since", "HEAD", "db")
	if res.code != 2 || !strings.Contains(res.stderr, "--since HEAD: db is in a shallow git clone") {
		t.Errorf("--since in a shallow clone: exit %d, want 2 with an explanation\n%s", res.code, res.stderr)
	}
}
