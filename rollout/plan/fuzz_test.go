package plan

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/migsafe/migsafe/internal/readfile"
)

// A plan is user input: the file comes from the repository a pull request
// changes. FuzzParse feeds it bytes: Parse returns a plan or an error that
// names the file, never panics, and an accepted plan has steps and a
// rollback.
func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(good + "steps: [{set_weight: 50}, {pause: {}}, {bake: 1s}, promote]\n"))
	f.Add([]byte(good + "---\n" + good))
	f.Add([]byte("a: &a [*a, *a]\nsteps: *a\n"))
	f.Add([]byte(strings.Repeat("[", 5000) + strings.Repeat("]", 5000)))
	f.Add([]byte(strings.Repeat("- ", 3000) + "x\n"))
	f.Add([]byte("steps:\n" + strings.Repeat("  - set_weight: 1\n", 2000)))
	f.Add([]byte("name: \"\\x1b]0;owned\\x07\"\nservice: \"::warning::x\"\n"))
	if ex, err := os.ReadFile(filepath.Join("..", "..", "examples", "rollout", "rollout.yaml")); err == nil {
		f.Add(ex)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("rollout.yaml", data, Options{})
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "rollout.yaml") {
				t.Fatalf("error does not name the file: %q", msg)
			}
			if !utf8.ValidString(msg) && utf8.Valid(data) {
				t.Fatalf("error is not UTF-8: %q", msg)
			}
			return
		}
		if len(p.Steps) == 0 || len(p.Rollback) == 0 {
			t.Fatalf("accepted a plan without steps or rollback: %+v", p)
		}
	})
}

// TestParseHostile: what the fuzz target found by hand, kept as cases.
func TestParseHostile(t *testing.T) {
	for name, data := range map[string]string{
		"second document": good + "---\nname: other\n",
		"alias":           "a: &a {x: 1}\n" + good + "backend: *a\n",
		"deep":            strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
		"not a mapping":   "- a\n- b\n",
	} {
		_, err := Parse("rollout.yaml", []byte(data), Options{})
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		t.Logf("%s: %.200s", name, err)
	}
	_, err := Parse("rollout.yaml", []byte(good+"---\nname: other\n"), Options{})
	var pe *Error
	if !errors.As(err, &pe) || pe.Line == 0 || !strings.Contains(pe.Msg, "second YAML document") {
		t.Errorf("second document: %v", err)
	}
}

// TestLoadRefusesWhatIsNotAPlan: a named pipe would block the run forever
// and /dev/zero never ends; both are refused at once.
func TestLoadRefusesWhatIsNotAPlan(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "rollout.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	var nr *readfile.NotRegularError
	if _, err := Load(fifo, Options{}); !errors.As(err, &nr) {
		t.Errorf("fifo: %v", err)
	}
	link := filepath.Join(dir, "zero.yaml")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(link, Options{}); !errors.As(err, &nr) {
		t.Errorf("/dev/zero: %v", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("name: x\n"+strings.Repeat("# padding\n", MaxSize/10+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	var tl *readfile.TooLargeError
	if _, err := Load(big, Options{}); !errors.As(err, &tl) {
		t.Errorf("large: %v", err)
	}
}
