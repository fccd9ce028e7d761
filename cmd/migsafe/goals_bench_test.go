//go:build unix

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkGoals measures the goals of issue 13 against squawk in the same
// run: each iteration runs every command once, one after the other, so a
// machine shared with other work slows them alike, and the ratios are
// reported as metrics (scripts/bench prints them next to their goals).
//
//	corpus: every PostgreSQL file of the corpus, --no-git, concise output;
//	        squawk --reporter gcc; migsafe --no-cache (cold) and with a
//	        cache the first two runs filled (warm)
//	file:   one small file (the pre-commit case), its directory replayed
//	        as history; squawk on the same file; and the floors any run
//	        stands on: a cgo program that only exits (hello), one that
//	        only initialises the two parsers (testdata/floor/parsers) and
//	        migsafe --version
//	mysql:  every MySQL file of the corpus, cold and warm (squawk has no
//	        MySQL: the time per MB is compared with PostgreSQL's)
//	git:    a repository whose 5,000 migrations arrived over 5,000
//	        commits (historyRepo) and one new staged migration: the folder
//	        with deploys dated from git against --no-git, and the staged
//	        file alone, warm, as a pre-commit hook runs it
//
// Metrics: X/squawk-wall and X/squawk-cpu are ratios of wall and CPU time
// (user + system) summed over the iterations; warm/cold-wall compares the
// two migsafe runs; X-rss-MiB is the largest peak resident size of X's
// runs, as GNU time measures it.
func BenchmarkGoals(b *testing.B) {
	corpusDir := corpusDir
	if d := os.Getenv("MIGSAFE_CORPUS"); d != "" {
		corpusDir = d
	}
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*", "postgres", "*.sql"))
	if len(files) == 0 {
		b.Skipf("no corpus at %s", corpusDir)
	}
	squawk := squawkPath()
	if squawk == "" {
		b.Skip("squawk not found: set MIGSAFE_SQUAWK or run scripts/bench, which installs squawk-cli@2.66.0")
	}
	myFiles, _ := filepath.Glob(filepath.Join(corpusDir, "*", "mysql", "*.sql"))
	size := func(fs []string) (n int64) {
		for _, f := range fs {
			if fi, err := os.Stat(f); err == nil {
				n += fi.Size()
			}
		}
		return n
	}
	pgMB, myMB := float64(size(files))/(1<<20), float64(size(myFiles))/(1<<20)
	for _, fs := range [][]string{files, myFiles} {
		sort.Strings(fs)
		for i, f := range fs {
			fs[i], _ = filepath.Rel(corpusDir, f)
		}
	}
	tmp := b.TempDir()
	bin := filepath.Join(tmp, "migsafe")
	// the floors: a cgo program that does nothing, and one that links and
	// initialises the two parsers and does nothing else
	hello, parsers := filepath.Join(tmp, "hello"), filepath.Join(tmp, "parsers")
	for out, pkg := range map[string]string{bin: ".", hello: "./testdata/floor/hello", parsers: "./testdata/floor/parsers"} {
		if msg, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
			b.Fatalf("go build %s: %v\n%s", pkg, err, msg)
		}
	}
	// Each executable is dropped from the page cache, so that the runs
	// map it as read back from disk, as an executable that was not just
	// written is. The linker writes its output through a memory map, and
	// the page cache then holds that file in large folios, which a run
	// maps whole: the peak resident size of `migsafe --version` was
	// 29 MiB from the linker's file and 19 MiB once read back (the same
	// bytes; squawk's, which npm wrote, did not change). The two warm-up
	// runs of each command below read them back.
	for _, f := range []string{bin, hello, parsers, squawk} {
		if err := dropCached(f); err != nil {
			b.Fatal(err)
		}
	}
	cache := filepath.Join(tmp, "cache")
	repo := filepath.Join(tmp, "repo")
	one := "authelia/postgres/V0017.OAuth2Claims.up.sql"
	if _, err := os.Stat(filepath.Join(corpusDir, one)); err != nil {
		b.Skip(err)
	}
	type cmd struct {
		name string
		argv []string
	}
	first := filepath.Join(tmp, "first")
	cases := []struct {
		name string
		cmds []cmd
	}{
		{"corpus", []cmd{
			{"squawk", append([]string{squawk, "--reporter", "gcc"}, files...)},
			{"cold", append([]string{bin, "check", "--no-git", "--no-cache", "--dialect", "postgres", "--format", "concise", "-q"}, files...)},
			{"warm", append([]string{bin, "check", "--no-git", "--cache-dir", cache, "--dialect", "postgres", "--format", "concise", "-q"}, files...)},
			// the default mode with an empty cache, as a CI job without a
			// restored cache runs it
			{"first", append([]string{bin, "check", "--no-git", "--cache-dir", first, "--dialect", "postgres", "--format", "concise", "-q"}, files...)},
		}},
		{"mysql", []cmd{
			{"cold", append([]string{bin, "check", "--no-git", "--no-cache", "--dialect", "mysql", "--format", "concise", "-q"}, myFiles...)},
			{"warm", append([]string{bin, "check", "--no-git", "--cache-dir", cache, "--dialect", "mysql", "--format", "concise", "-q"}, myFiles...)},
		}},
		{"file", []cmd{
			{"squawk", []string{squawk, "--reporter", "gcc", one}},
			{"cold", []string{bin, "check", "--no-git", "--no-cache", "--format", "concise", "-q", one}},
			{"warm", []string{bin, "check", "--no-git", "--cache-dir", cache, "--format", "concise", "-q", one}},
			// what any run pays before it reads a file
			{"hello", []string{hello}},
			{"parsers", []string{parsers}},
			{"version", []string{bin, "--version"}},
		}},
	}
	// The peak resident size is GNU time's (%M): a child that os/exec
	// starts (vfork, then exec) keeps this benchmark's own peak, about
	// 45 MiB, as a floor of its rusage, which hid squawk's 19 MiB.
	// GNU time forks the command from its own small process.
	gnuTime, err := exec.LookPath("/usr/bin/time")
	if err != nil {
		b.Fatal("peak memory needs GNU time at /usr/bin/time (apt-get install time)")
	}
	rssFile := filepath.Join(tmp, "rss")
	run := func(b *testing.B, argv []string) (wall, cpu time.Duration, rss float64) {
		argv = append([]string{gnuTime, "-f", "%M", "-o", rssFile}, argv...)
		c := exec.Command(argv[0], argv[1:]...)
		c.Dir = corpusDir
		if strings.HasPrefix(argv[len(argv)-1], "db/migrations") {
			c.Dir = repo // the git case runs in its repository
		}
		c.Stdout, c.Stderr = io.Discard, io.Discard
		start := time.Now()
		err := c.Run()
		wall = time.Since(start)
		var ee *exec.ExitError
		if err != nil && (!errors.As(err, &ee) || ee.ExitCode() != 1) {
			b.Fatalf("%v: %v", argv[5:min(7, len(argv))], err)
		}
		// the last line: a failing command's status comes before it
		out, err := os.ReadFile(rssFile)
		if err != nil {
			b.Fatal(err)
		}
		lines := strings.Fields(string(out))
		kib, err := strconv.ParseFloat(lines[len(lines)-1], 64)
		if err != nil {
			b.Fatalf("GNU time's peak memory: %q: %v", out, err)
		}
		// GNU time's own CPU is included (it waited for the command):
		// under a millisecond
		return wall, c.ProcessState.UserTime() + c.ProcessState.SystemTime(), kib / 1024
	}
	if err := historyRepo(repo, 5000); err != nil {
		b.Fatal(err)
	}
	// the migration a pre-commit hook checks: new, staged
	staged := "db/migrations/005001_new.up.sql"
	if err := os.WriteFile(filepath.Join(repo, staged), []byte("ALTER TABLE t1 ADD COLUMN y int;\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	if out, err := exec.Command("git", "-C", repo, "add", staged).CombinedOutput(); err != nil {
		b.Fatalf("git add: %v\n%s", err, out)
	}
	cases = append(cases, struct {
		name string
		cmds []cmd
	}{"git", []cmd{
		{"git", []string{bin, "check", "--no-cache", "--format", "concise", "-q", "db/migrations"}},
		{"nogit", []string{bin, "check", "--no-cache", "--no-git", "--format", "concise", "-q", "db/migrations"}},
		{"file", []string{bin, "check", "--cache-dir", cache, "--format", "concise", "-q", staged}},
	}})
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			for _, c := range tc.cmds {
				// fills the warm cache: twice, as a folder's sources are
				// kept from its second run on
				run(b, c.argv)
				run(b, c.argv)
			}
			wall := map[string]time.Duration{}
			cpu := map[string]time.Duration{}
			rss := map[string]float64{}
			for b.Loop() {
				for _, c := range tc.cmds {
					if c.name == "first" {
						// each "first" run starts from an empty cache
						if err := os.RemoveAll(first); err != nil {
							b.Fatal(err)
						}
					}
					w, u, m := run(b, c.argv)
					wall[c.name] += w
					cpu[c.name] += u
					rss[c.name] = max(rss[c.name], m)
				}
			}
			n := float64(b.N)
			if tc.name == "git" {
				b.ReportMetric(wall["git"].Seconds()/wall["nogit"].Seconds(), "git/nogit-wall")
				// CPU includes the git commands migsafe waited for
				b.ReportMetric(cpu["git"].Seconds()/cpu["nogit"].Seconds(), "git/nogit-cpu")
				b.ReportMetric(wall["git"].Seconds()*1e3/n, "git-ms")
				b.ReportMetric(wall["nogit"].Seconds()*1e3/n, "nogit-ms")
				b.ReportMetric(wall["file"].Seconds()*1e3/n, "file-ms")
				b.ReportMetric(cpu["file"].Seconds()*1e3/n, "file-cpu-ms")
				return
			}
			if tc.name == "mysql" {
				b.ReportMetric(wall["cold"].Seconds()*1e3/n, "cold-ms")
				b.ReportMetric(cpu["cold"].Seconds()*1e3/n, "cold-cpu-ms")
				b.ReportMetric(wall["cold"].Seconds()*1e3/n/myMB, "cold-ms-per-MB")
				b.ReportMetric(wall["warm"].Seconds()/wall["cold"].Seconds(), "warm/cold-wall")
				b.ReportMetric(rss["cold"], "cold-rss-MiB")
				return
			}
			sq := wall["squawk"].Seconds()
			sqc := cpu["squawk"].Seconds()
			b.ReportMetric(wall["cold"].Seconds()/sq, "cold/squawk-wall")
			b.ReportMetric(cpu["cold"].Seconds()/sqc, "cold/squawk-cpu")
			b.ReportMetric(wall["warm"].Seconds()/sq, "warm/squawk-wall")
			b.ReportMetric(cpu["warm"].Seconds()/sqc, "warm/squawk-cpu")
			b.ReportMetric(wall["warm"].Seconds()/wall["cold"].Seconds(), "warm/cold-wall")
			b.ReportMetric(cpu["warm"].Seconds()/cpu["cold"].Seconds(), "warm/cold-cpu")
			if _, ok := wall["first"]; ok {
				b.ReportMetric(wall["first"].Seconds()/wall["cold"].Seconds(), "first/cold-wall")
				b.ReportMetric(wall["first"].Seconds()*1e3/n, "first-ms")
			}
			b.ReportMetric(sq*1e3/n, "squawk-ms")
			b.ReportMetric(wall["cold"].Seconds()*1e3/n, "cold-ms")
			b.ReportMetric(wall["warm"].Seconds()*1e3/n, "warm-ms")
			b.ReportMetric(sqc*1e3/n, "squawk-cpu-ms")
			b.ReportMetric(cpu["cold"].Seconds()*1e3/n, "cold-cpu-ms")
			b.ReportMetric(cpu["warm"].Seconds()*1e3/n, "warm-cpu-ms")
			b.ReportMetric(rss["squawk"], "squawk-rss-MiB")
			b.ReportMetric(rss["cold"], "cold-rss-MiB")
			b.ReportMetric(rss["warm"], "warm-rss-MiB")
			b.ReportMetric(rss["cold"]/rss["squawk"], "cold/squawk-rss")
			if tc.name == "corpus" {
				b.ReportMetric(wall["cold"].Seconds()*1e3/n/pgMB, "cold-ms-per-MB")
			}
			if tc.name == "file" {
				for _, f := range []string{"hello", "parsers", "version"} {
					b.ReportMetric(wall[f].Seconds()/sq, f+"/squawk-wall")
					b.ReportMetric(wall[f].Seconds()*1e3/n, f+"-ms")
					b.ReportMetric(rss[f], f+"-rss-MiB")
				}
			}
		})
	}
}

// historyRepo writes a git repository whose migrations arrived over n
// first-parent commits, each also changing application code; every tenth
// migration carries a -- migsafe:deprecate marker.
func historyRepo(dir string, n int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if out, err := exec.Command("git", "-C", dir, "init", "-q", "-b", "main").CombinedOutput(); err != nil {
		return fmt.Errorf("git init: %w\n%s", err, out)
	}
	var stream strings.Builder
	t := int64(1600000000)
	for i := 1; i <= n; i++ {
		t += 3600
		mig := fmt.Sprintf("CREATE TABLE t%d (id bigint PRIMARY KEY, name text);\n", i)
		if i%10 == 0 {
			mig = fmt.Sprintf("-- migsafe:deprecate t%d.name\nALTER TABLE t%d ADD COLUMN x int;\n", i-5, i-1)
		}
		app := fmt.Sprintf("package app // %d\n", i)
		msg := fmt.Sprintf("commit %d\n", i)
		fmt.Fprintf(&stream, "commit refs/heads/main\ncommitter A <a@example.com> %d +0000\ndata %d\n%s", t, len(msg), msg)
		fmt.Fprintf(&stream, "M 644 inline db/migrations/%06d_m%d.up.sql\ndata %d\n%s", i, i, len(mig), mig)
		fmt.Fprintf(&stream, "M 644 inline app/f%d.go\ndata %d\n%s\n", i%50, len(app), app)
	}
	imp := exec.Command("git", "-C", dir, "fast-import", "--quiet")
	imp.Stdin = strings.NewReader(stream.String())
	if out, err := imp.CombinedOutput(); err != nil {
		return fmt.Errorf("git fast-import: %w\n%s", err, out)
	}
	if out, err := exec.Command("git", "-C", dir, "checkout", "-q", "main").CombinedOutput(); err != nil {
		return fmt.Errorf("git checkout: %w\n%s", err, out)
	}
	return nil
}
