package backend

import "testing"

func TestRedact(t *testing.T) {
	r := NewRedactor([]string{"DB_PASSWORD=hunter22", "GITHUB_TOKEN=ghp_abc123", "HOME=/root", "SHORT_TOKEN=ab"})
	rec := r.Record(Record{
		Argv:   []string{"psql", "postgres://app:s3cr3t@db:5432/app", "--token=ghp_abc123"},
		Output: "login as app with hunter22 failed; HOME=/root",
	})
	if rec.Argv[1] != "postgres://app:***@db:5432/app" || rec.Argv[2] != "--token=***" {
		t.Errorf("argv %q", rec.Argv)
	}
	if rec.Output != "login as app with *** failed; HOME=/root" {
		t.Errorf("output %q", rec.Output)
	}
}
