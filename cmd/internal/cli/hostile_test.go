package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hostileName is a file name a pull request can commit: on GitHub Actions a
// line that starts with "::" is a workflow command, and ESC drives the
// terminal.
const hostileName = "x\n::warning file=README.md,line=1::injected\x1b[31m\r::error::cr\u0085\n.sql"

// checkSafe fails when out could inject a workflow command or terminal
// control: a line starting with "::", an ESC, a CR or a C1 control.
func checkSafe(t *testing.T, what, out string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, " \t"), "::") {
			t.Errorf("%s: a line starts with \"::\": %q", what, line)
		}
	}
	if strings.ContainsAny(out, "\x1b\r\u0085") {
		t.Errorf("%s: raw control characters in %q", what, out)
	}
}

// TestAnnotationInjection is issue 11's failure 6: a file name with line
// breaks made the text and concise outputs (and the errors on stderr)
// print a workflow command verbatim, and ESC passed through raw.
func TestAnnotationInjection(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, hostileName), []byte("ALTER TABLE users DROP COLUMN c;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"text", "concise"} {
		code, stdout, stderr := runCLI(t, dir, "check", "--no-git", "--format", format, ".")
		if code != 1 || !strings.Contains(stdout, "drop-column") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", format, code, stdout, stderr)
		}
		if !strings.Contains(stdout, `x\n::warning`) {
			t.Errorf("%s: the path is not shown escaped: %q", format, stdout)
		}
		checkSafe(t, format+" stdout", stdout)
		checkSafe(t, format+" stderr", stderr)
	}
	// an error naming the path, on stderr
	code, stdout, stderr := runCLI(t, dir, "check", "--no-git", "missing"+hostileName)
	if code != 2 || stderr == "" {
		t.Errorf("missing file: exit %d, stderr %q", code, stderr)
	}
	checkSafe(t, "error stdout", stdout)
	checkSafe(t, "error stderr", stderr)
}

// TestNonUTF8PathInJSON is issue 11's failure 10: a file name that is not
// UTF-8 became U+FFFD in the JSON and GitLab paths, so the finding could not
// be traced to its file.
func TestNonUTF8PathInJSON(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "caf\xe9 100%.sql"), []byte("ALTER TABLE users DROP COLUMN c;\n"), 0o644); err != nil {
		t.Skip(err)
	}
	jsonOut, gitlabOut := filepath.Join(out, "o.json"), filepath.Join(out, "o.gitlab")
	code, _, stderr := runCLI(t, dir, "check", "--no-git", "--format", "json="+jsonOut, "--format", "gitlab="+gitlabOut, ".")
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, p := range []string{jsonOut, gitlabOut} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `caf%E9 100%25.sql"`) {
			t.Errorf("%s: the path is not percent-encoded: %s", filepath.Base(p), b)
		}
	}
}

// TestCROnlyLineEndings is failure 10's other half: with CR-only line
// endings every finding was on line 1.
func TestCROnlyLineEndings(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "001_m.sql"), "SET lock_timeout = '5s';\r-- a comment\rALTER TABLE users DROP COLUMN c;\r")
	code, stdout, stderr := runCLI(t, dir, "check", "--no-git", "--format", "concise", ".")
	if code != 1 || !strings.Contains(stdout, "001_m.sql:3:") {
		t.Errorf("exit %d, stdout %q, stderr %q: want the DROP COLUMN on line 3", code, stdout, stderr)
	}
}

// TestStatusAnnotationInjection: status prints the path of the migration
// holding a deprecation marker; a hostile name must not start a line with
// "::" there either, in text or in JSON.
func TestStatusAnnotationInjection(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, hostileName), []byte("CREATE TABLE users (id int, c int);\n-- migsafe:deprecate users.c\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"text", "json"} {
		code, stdout, stderr := runCLI(t, dir, "status", "--no-git", "--format", format, ".")
		if code != 0 || !strings.Contains(stdout, "users.c") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", format, code, stdout, stderr)
		}
		checkSafe(t, "status "+format, stdout)
		checkSafe(t, "status stderr", stderr)
		if format == "json" {
			var v any
			if err := json.Unmarshal([]byte(stdout), &v); err != nil {
				t.Errorf("status json: %v", err)
			}
		}
	}
}
