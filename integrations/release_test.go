package integrations_test

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// goreleaserConfig is the part of .goreleaser.yaml the tests read.
type goreleaserConfig struct {
	Version     int
	ProjectName string `yaml:"project_name"`
	Builds      []struct {
		ID      string
		Main    string
		Goos    []string
		Goarch  []string
		Env     []string
		Flags   []string
		Ldflags []string
		Skip    string
	}
	Archives []struct {
		IDs          []string
		NameTemplate string `yaml:"name_template"`
	}
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
		Algorithm    string
		Disable      bool
	}
	Release struct{ Disable bool }
}

func loadGoreleaser(t *testing.T, name string) goreleaserConfig {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	var c goreleaserConfig
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

// TestReleaseConfig checks the release configuration without goreleaser
// (a go install of it takes many minutes here; TestReleaseSnapshot runs
// it): the two configurations build migsafe for linux and darwin on amd64
// and arm64 with cgo, stamp the version, commit and date into variables
// internal/buildinfo declares, archive every build, and checksum into the
// checksums.txt the action reads; the workflow and scripts/release-snapshot
// use the same goreleaser.
func TestReleaseConfig(t *testing.T) {
	stamped := buildinfoVars(t)
	targets := map[string]bool{}
	for _, name := range []string{".goreleaser.yaml", ".goreleaser-darwin.yaml"} {
		c := loadGoreleaser(t, name)
		if c.Version != 2 || c.ProjectName != "migsafe" || len(c.Builds) == 0 || len(c.Archives) != 1 {
			t.Errorf("%s: want version 2, project migsafe, builds and one archive", name)
		}
		archived := map[string]bool{}
		for _, id := range c.Archives[0].IDs {
			archived[id] = true
		}
		for _, b := range c.Builds {
			if b.Main != "./cmd/migsafe" || !contains(b.Env, "CGO_ENABLED=1") || !contains(b.Flags, "-trimpath") || !archived[b.ID] {
				t.Errorf("%s: build %s: want main ./cmd/migsafe, CGO_ENABLED=1 (the parser is C), -trimpath, and an archive of it", name, b.ID)
			}
			ld := strings.Join(b.Ldflags, " ")
			for _, v := range []string{"Version", "Commit", "Date"} {
				re := regexp.MustCompile(`-X github\.com/migsafe/migsafe/internal/buildinfo\.` + v + `=\S+`)
				if !re.MatchString(ld) || !stamped[v] {
					t.Errorf("%s: build %s does not stamp internal/buildinfo.%s (a string variable there: %v)", name, b.ID, v, stamped[v])
				}
			}
			for _, goos := range b.Goos {
				for _, goarch := range b.Goarch {
					targets[goos+"/"+goarch] = true
				}
			}
		}
		if c.Archives[0].NameTemplate != "{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}" {
			t.Errorf("%s: archive name %q; action.yml asks for migsafe_VERSION_OS_ARCH.tar.gz", name, c.Archives[0].NameTemplate)
		}
	}
	var got []string
	for k := range targets {
		got = append(got, k)
	}
	sort.Strings(got)
	if strings.Join(got, " ") != "darwin/amd64 darwin/arm64 linux/amd64 linux/arm64" {
		t.Errorf("release targets %v; want linux and darwin, amd64 and arm64", got)
	}
	c := loadGoreleaser(t, ".goreleaser.yaml")
	if c.Checksum.NameTemplate != "checksums.txt" || c.Checksum.Algorithm != "sha256" || c.Release.Disable {
		t.Errorf(".goreleaser.yaml: checksums %q (%s): want checksums.txt in sha256, and a release", c.Checksum.NameTemplate, c.Checksum.Algorithm)
	}
	for _, b := range c.Builds {
		if contains(b.Goarch, "arm64") && !contains(b.Env, "CC=aarch64-linux-gnu-gcc") {
			t.Errorf(".goreleaser.yaml: build %s: want Debian's cross compiler, CC=aarch64-linux-gnu-gcc", b.ID)
		}
	}

	// the workflow and the script use one goreleaser, and the workflow
	// installs the cross compiler and passes the darwin archives on
	script := readFile(t, "scripts/release-snapshot")
	m := regexp.MustCompile(`(?m)^goreleaser_version=(v[0-9.]+)$`).FindStringSubmatch(script)
	if m == nil {
		t.Fatal("scripts/release-snapshot pins no goreleaser_version")
	}
	wf := readFile(t, ".github/workflows/release.yml")
	var w struct {
		On struct {
			Push struct{ Tags []string }
		}
		Jobs map[string]struct {
			RunsOn    string `yaml:"runs-on"`
			Container string
		}
	}
	if err := yaml.Unmarshal([]byte(wf), &w); err != nil {
		t.Fatalf("release.yml: %v", err)
	}
	if !contains(w.On.Push.Tags, "v*") || !strings.HasPrefix(w.Jobs["darwin"].RunsOn, "macos") || w.Jobs["release"].RunsOn == "" {
		t.Errorf("release.yml: want a push of v* tags, a darwin job on macOS and a release job: %+v", w)
	}
	// the linux archives are built where the snapshot is tested (Debian 12,
	// glibc 2.36, binaries that need 2.34), with go.mod's Go
	goVersion := regexp.MustCompile(`(?m)^go ([0-9.]+)$`).FindStringSubmatch(readFile(t, "go.mod"))
	if goVersion == nil || w.Jobs["release"].Container != "golang:"+goVersion[1]+"-bookworm" {
		t.Errorf("release.yml: the release job runs in %q; want golang:%v-bookworm", w.Jobs["release"].Container, goVersion)
	}
	for _, want := range []string{
		"github.com/goreleaser/goreleaser/v2@" + m[1], "gcc-aarch64-linux-gnu", "--config .goreleaser-darwin.yaml", "MIGSAFE_DARWIN_ARCHIVES:",
	} {
		if !strings.Contains(wf, want) {
			t.Errorf("release.yml lacks %q", want)
		}
	}
	if !strings.Contains(readFile(t, "action.yml"), `"$base/checksums.txt"`) {
		t.Error("action.yml does not verify against the release's checksums.txt")
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// buildinfoVars lists the package-level string variables of
// internal/buildinfo, which -ldflags -X can set.
func buildinfoVars(t *testing.T) map[string]bool {
	t.Helper()
	vars := map[string]bool{}
	files, err := filepath.Glob(filepath.Join(root, "internal", "buildinfo", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("internal/buildinfo: %v", err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "string" && len(vs.Values) == 0 {
					for _, n := range vs.Names {
						vars[n.Name] = true
					}
				}
			}
		}
	}
	return vars
}

// TestReleaseSnapshot builds the release archives the way a tag does, from
// a clean copy of this checkout tagged v0.1.0, with the one documented
// command (scripts/release-snapshot), then checks them: every archive is
// in checksums.txt and matches it; the linux/amd64 binary stamps the
// snapshot's version, commit and date, lints the examples and writes that
// version into SARIF; the linux/arm64 binary is an aarch64 executable that
// does the same under qemu-aarch64.
//
// It takes long (goreleaser is a large go install, and the arm64 build
// compiles the C parser again: about 33 s with both built before, 20 and
// 6 minutes from nothing on this two-core machine), so it runs only with
// MIGSAFE_RELEASE_SNAPSHOT=1; TestReleaseConfig checks the configuration
// in every run.
func TestReleaseSnapshot(t *testing.T) {
	if os.Getenv("MIGSAFE_RELEASE_SNAPSHOT") != "1" {
		t.Skip("the snapshot release takes minutes: MIGSAFE_RELEASE_SNAPSHOT=1 runs it")
	}
	// Debian: gcc-aarch64-linux-gnu (scripts/release-snapshot installs it
	// as root) and qemu-user, which runs the arm64 binary
	need(t, "bash", "git", "go", "aarch64-linux-gnu-gcc", "qemu-aarch64")
	// a clone, as a user makes one: goreleaser reads the commit and the
	// tag only where the repository has a remote
	src := filepath.Join(t.TempDir(), "migsafe")
	if out, code := run(t, root, baseEnv(t), "git", "clone", "-q", snapshot(t, "v0.1.0"), src); code != 0 {
		t.Fatalf("git clone: %s", out)
	}
	// the script may go install goreleaser: the module proxy is allowed
	env := override(baseEnv(t), "GOPROXY="+goEnv(t, "GOPROXY"), "GOSUMDB="+goEnv(t, "GOSUMDB"))
	out, code := run(t, src, env, "bash", "scripts/release-snapshot")
	if code != 0 {
		t.Fatalf("scripts/release-snapshot: exit %d\n%s", code, out)
	}
	// goreleaser's own validation of both configurations, with the
	// goreleaser the script used
	gr := filepath.Join(goEnv(t, "GOPATH"), "bin", "goreleaser")
	if p, err := exec.LookPath("goreleaser"); err == nil {
		gr = p
	}
	for _, cfg := range []string{".goreleaser.yaml", ".goreleaser-darwin.yaml"} {
		if out, code := run(t, src, env, gr, "check", "--config", cfg); code != 0 {
			t.Errorf("goreleaser check --config %s: exit %d\n%s", cfg, code, out)
		}
	}
	head, _ := run(t, src, env, "git", "rev-parse", "HEAD")
	head = strings.TrimSpace(head)
	version := "0.1.1-snapshot+" + head[:7]
	dist := filepath.Join(src, "dist")

	// checksums.txt lists every archive and each matches
	sums := map[string]string{}
	f, err := os.Open(filepath.Join(dist, "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Errorf("checksums.txt: malformed line %q", sc.Text())
		}
		sums[name] = sum
	}
	f.Close()
	archives, _ := filepath.Glob(filepath.Join(dist, "*.tar.gz"))
	var names []string
	for _, a := range archives {
		names = append(names, filepath.Base(a))
		data, err := os.ReadFile(a)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); sums[filepath.Base(a)] != got {
			t.Errorf("%s: sha256 %s, checksums.txt says %q", filepath.Base(a), got, sums[filepath.Base(a)])
		}
	}
	want := []string{"migsafe_" + version + "_linux_amd64.tar.gz", "migsafe_" + version + "_linux_arm64.tar.gz"}
	if strings.Join(names, " ") != strings.Join(want, " ") || len(sums) != len(want) {
		t.Fatalf("dist/ has %v, checksums.txt %d entries; want %v\n%s", names, len(sums), want, out)
	}

	// the amd64 binary: version, lint of the examples, SARIF
	bin := filepath.Join(t.TempDir(), "amd64")
	extract(t, filepath.Join(dist, want[0]), bin)
	migsafe := filepath.Join(bin, "migsafe")
	out, code = run(t, src, env, migsafe, "--version")
	for _, re := range []string{`^migsafe version v` + regexp.QuoteMeta(version) + "\n", `\ncommit:     ` + head + "\n", `\nbuilt:      20[0-9-]+T[0-9:]+Z\n`, `\npostgresql: 1[0-9]\.[0-9]+ `} {
		if code != 0 || !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("migsafe --version of the archive: exit %d, want %s:\n%s", code, re, out)
		}
	}
	sarif := filepath.Join(t.TempDir(), "out.sarif")
	out, code = run(t, src, env, migsafe, "check", "--format", "text", "--format", "sarif="+sarif, "examples/")
	if code != 1 || !regexp.MustCompile(`Checked [0-9]+ files \([0-9]+ statements\): [1-9][0-9]* errors?`).MatchString(out) {
		t.Errorf("migsafe check examples/ with the archive's binary: exit %d; want the examples' findings (exit 1)\n%s", code, out)
	}
	var log struct {
		Runs []struct {
			Tool struct{ Driver struct{ Version string } }
		}
	}
	data, err := os.ReadFile(sarif)
	if err != nil || json.Unmarshal(data, &log) != nil || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Version != version {
		t.Errorf("SARIF tool.driver.version: want %s (%v)\n%.500s", version, err, data)
	}

	// the arm64 binary is one
	arm := filepath.Join(t.TempDir(), "arm64")
	extract(t, filepath.Join(dist, want[1]), arm)
	ef, err := elf.Open(filepath.Join(arm, "migsafe"))
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	if ef.Machine != elf.EM_AARCH64 {
		t.Errorf("the linux_arm64 archive's migsafe is for %v", ef.Machine)
	}
	for _, bin := range []string{migsafe, filepath.Join(arm, "migsafe")} {
		if v := maxGlibc(t, bin); v > 34 {
			t.Errorf("%s needs glibc 2.%d; the release promises 2.34 (Ubuntu 22.04, Debian 12, RHEL 9)", bin, v)
		}
	}
	qemu := override(env, "QEMU_LD_PREFIX=/usr/aarch64-linux-gnu")
	out, code = run(t, src, qemu, "qemu-aarch64", filepath.Join(arm, "migsafe"), "--version")
	if code != 0 || !strings.HasPrefix(out, "migsafe version v"+version+"\ncommit:     "+head+"\n") || !strings.Contains(out, " linux/arm64\n") {
		t.Errorf("the arm64 binary under qemu-aarch64: exit %d\n%s", code, out)
	}
	out, code = run(t, src, qemu, "qemu-aarch64", filepath.Join(arm, "migsafe"), "check", "examples/")
	if code != 1 || !strings.Contains(out, "Checked ") {
		t.Errorf("the arm64 binary under qemu-aarch64: migsafe check examples/: exit %d\n%s", code, out)
	}
}

// maxGlibc is the highest GLIBC_2.N symbol version a binary imports (N).
func maxGlibc(t *testing.T, bin string) int {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.ImportedSymbols()
	if err != nil {
		t.Fatal(err)
	}
	highest := 0
	for _, s := range syms {
		if minor, ok := strings.CutPrefix(s.Version, "GLIBC_2."); ok {
			minor, _, _ = strings.Cut(minor, ".")
			if n, err := strconv.Atoi(minor); err == nil && n > highest {
				highest = n
			}
		}
	}
	if highest == 0 {
		t.Fatalf("%s imports no GLIBC_2.N symbol: not the dynamically linked cgo binary expected", bin)
	}
	return highest
}

// extract unpacks a .tar.gz into dir.
func extract(t *testing.T, archive, dir string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg || strings.Contains(h.Name, "..") || strings.HasPrefix(h.Name, "/") {
			t.Fatalf("%s: unexpected entry %q", archive, h.Name)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		write(t, p, string(data))
		if err := os.Chmod(p, os.FileMode(h.Mode).Perm()); err != nil {
			t.Fatal(err)
		}
	}
}
