package lint

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestUnifiedDiff checks the diff's text, and with patch(1) where it is
// installed that it applies.
func TestUnifiedDiff(t *testing.T) {
	old := "CREATE TABLE a (id int);\nALTER TABLE a ADD COLUMN b int;\nSELECT 1;\nSELECT 2;\nSELECT 3;\nSELECT 4;\nSELECT 5;\nSELECT 6;\nSELECT 7;\nSELECT 8;\nDROP INDEX x;"
	new := "SET lock_timeout = '5s';\nCREATE TABLE a (id int);\nALTER TABLE a ADD COLUMN b int;\nSELECT 1;\nSELECT 2;\nSELECT 3;\nSELECT 4;\nSELECT 5;\nSELECT 6;\nSELECT 7;\nSELECT 8;\nDROP INDEX CONCURRENTLY x;"
	d := UnifiedDiff("m.sql", []byte(old), []byte(new))
	want := "--- a/m.sql\n+++ b/m.sql\n@@ -1,3 +1,4 @@\n+SET lock_timeout = '5s';\n CREATE TABLE a (id int);\n ALTER TABLE a ADD COLUMN b int;\n SELECT 1;\n@@ -8,4 +9,4 @@\n SELECT 6;\n SELECT 7;\n SELECT 8;\n-DROP INDEX x;\n\\ No newline at end of file\n+DROP INDEX CONCURRENTLY x;\n\\ No newline at end of file\n"
	if d != want {
		t.Errorf("diff:\n%s\nwant:\n%s", d, want)
	}
	if UnifiedDiff("m.sql", []byte(old), []byte(old)) != "" {
		t.Error("a diff of equal texts")
	}
	patch, err := exec.LookPath("patch")
	if err != nil {
		return
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "m.sql"), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "d.patch"), []byte(d), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(patch, "-p1", "-i", "d.patch")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("patch: %v\n%s", err, out)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "m.sql"))
	if string(got) != new {
		t.Errorf("patched:\n%s\nwant:\n%s", got, new)
	}
}
