package cli_test

import (
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
