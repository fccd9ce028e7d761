package integrations_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/migsafe/migsafe/internal/testdb"
)

// TestDockerfile checks the container image definition without a
// container engine (there is none here): dockerfile-utils (npm; hadolint
// is neither a Debian nor an npm package) validates the syntax, and the
// checks below the properties the image promises: a build stage and a
// final stage that holds only the migsafe binary, runs as a non-root
// user, pins its base images, stamps the version, and builds with the Go
// that go.mod asks for.
func TestDockerfile(t *testing.T) {
	text := readFile(t, "Dockerfile")
	lint := filepath.Join(toolsDir(t), "node_modules", ".bin", "dockerfile-utils")
	if _, err := os.Stat(lint); err != nil {
		if _, nerr := exec.LookPath("npm"); nerr != nil {
			testdb.MissingTool(t, "npm is not installed: dockerfile-utils cannot run")
		}
		t.Fatalf("dockerfile-utils is not installed in %s: run ./scripts/test, or (cd %s && npm install dockerfile-utils@0.16.3)", toolsDir(t), toolsDir(t))
	}
	if out, code := run(t, root, baseEnv(t), lint, "lint", filepath.Join(root, "Dockerfile")); code != 0 || strings.TrimSpace(out) != "" {
		t.Errorf("dockerfile-utils lint Dockerfile: exit %d\n%s", code, out)
	}

	// the stages, by their FROM lines
	var stages [][]string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "FROM ") {
			stages = append(stages, nil)
		}
		if len(stages) > 0 {
			stages[len(stages)-1] = append(stages[len(stages)-1], line)
		}
	}
	if len(stages) != 2 {
		t.Fatalf("Dockerfile: %d stages; want a build stage and the image", len(stages))
	}
	gomod := readFile(t, "go.mod")
	goVersion := regexp.MustCompile(`(?m)^go ([0-9.]+)$`).FindStringSubmatch(gomod)
	if goVersion == nil || !strings.HasPrefix(stages[0][0], "FROM golang:"+goVersion[1]+"-") || !strings.HasSuffix(stages[0][0], " AS build") {
		t.Errorf("Dockerfile: the build stage is %q; want FROM golang:%v-… AS build (go.mod's Go)", stages[0][0], goVersion)
	}
	build := strings.Join(stages[0], "\n")
	for _, v := range []string{"Version", "Commit", "Date"} {
		if !strings.Contains(build, "-X github.com/migsafe/migsafe/internal/buildinfo."+v+"=") {
			t.Errorf("Dockerfile: the build does not stamp internal/buildinfo.%s", v)
		}
	}
	if !strings.Contains(build, "CGO_ENABLED=1") || !strings.Contains(build, "-trimpath") {
		t.Error("Dockerfile: the build needs CGO_ENABLED=1 (the parser is C) and -trimpath")
	}
	final := stages[1]
	if strings.Contains(final[0], ":latest") || !strings.Contains(final[0], ":") {
		t.Errorf("Dockerfile: the image's base %q is not pinned", final[0])
	}
	var user string
	for _, line := range final {
		op, arg, _ := strings.Cut(line, " ")
		switch op {
		case "COPY":
			if line != "COPY --from=build /out/migsafe /usr/local/bin/migsafe" {
				t.Errorf("Dockerfile: the image copies %q; want the binary only", line)
			}
		case "USER":
			user = arg
		case "RUN", "ADD":
			t.Errorf("Dockerfile: the image stage runs or adds %q; it should hold the binary only", line)
		case "ENTRYPOINT":
			if arg != `["/usr/local/bin/migsafe"]` {
				t.Errorf("Dockerfile: ENTRYPOINT %s; want the binary in exec form", arg)
			}
		}
	}
	if name, _, _ := strings.Cut(user, ":"); name == "" || name == "root" || name == "0" {
		t.Errorf("Dockerfile: the image runs as %q; want a non-root user", user)
	}
}

// toolsDir is where scripts/test installs the npm tools.
func toolsDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("MIGSAFE_TOOLS"); dir != "" {
		return dir
	}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(home, ".cache", "migsafe-tools")
}
