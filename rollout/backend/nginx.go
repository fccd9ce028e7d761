package backend

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// nginxBackend splits traffic with an nginx upstream: set_weight writes
// the upstream file (stable and canary servers with weights), checks the
// whole configuration with nginx -t, and reloads. A failed check or
// reload puts the previous file back, so nginx keeps serving what it
// served. The file is replaced by an atomic rename, so a crash leaves the
// old file or the new one, never half of one; writing the same weight
// again is harmless, which makes the action safe to repeat on resume.
type nginxBackend struct {
	*commandBackend
}

func (b *nginxBackend) Do(ctx context.Context, a Action, p Params, rec Recorder) error {
	if cmds, ok := b.overrides[a]; ok {
		return b.run(ctx, cmds, p, rec)
	}
	switch a {
	case SetWeight:
		return b.setWeight(ctx, p, rec)
	case Promote:
		p.Weight = 100
		return b.setWeight(ctx, p, rec)
	case RouteStable:
		p.Weight = 0
		return b.setWeight(ctx, p, rec)
	}
	// deploy and undo: the instances are started and stopped outside
	// nginx (a plan adds actions for them when it wants).
	return nil
}

// Upstream renders the upstream block for a weight.
func Upstream(name, stable, canary string, weight int, p Params) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# written by migsafe rollout: run %s, step %s, canary weight %d%%\n", p.RunID, p.Step, weight)
	fmt.Fprintf(&b, "upstream %s {\n", name)
	if weight < 100 {
		fmt.Fprintf(&b, "    server %s weight=%d;\n", stable, 100-weight)
	}
	if weight > 0 {
		fmt.Fprintf(&b, "    server %s weight=%d;\n", canary, weight)
	}
	b.WriteString("}\n")
	return b.String()
}

func (b *nginxBackend) nginx(args ...string) []string {
	return append([]string{b.vars["nginx"], "-p", b.vars["prefix"], "-c", b.vars["conf"], "-e", b.vars["error_log"]}, args...)
}

func (b *nginxBackend) setWeight(ctx context.Context, p Params, rec Recorder) error {
	if p.Weight < 0 || p.Weight > 100 {
		return fmt.Errorf("weight %d is not within 0..100", p.Weight)
	}
	path := b.vars["upstream_file"]
	old, err := os.ReadFile(path)
	hadOld := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("nginx: reading %s: %w", path, err)
	}
	content := Upstream(b.vars["upstream"], b.vars["stable"], b.vars["canary"], p.Weight, p)
	if err := WriteFileAtomic(path, []byte(content)); err != nil {
		return fmt.Errorf("nginx: %w", err)
	}
	rec(Record{Argv: []string{"write", path}, Note: fmt.Sprintf("stable %d%%, canary %d%%", 100-p.Weight, p.Weight)})
	restore := func(why error) error {
		var rerr error
		if hadOld {
			rerr = WriteFileAtomic(path, old)
		} else {
			rerr = os.Remove(path)
		}
		rec(Record{Argv: []string{"restore", path}, Note: "previous upstream file put back"})
		if rerr != nil {
			return fmt.Errorf("%w; and putting the previous %s back failed: %w", why, path, rerr)
		}
		return fmt.Errorf("%w (the previous %s is back in place)", why, path)
	}
	master := 0
	var before map[int]bool
	if pf := b.vars["pid_file"]; pf != "" {
		if master = readPid(pf); master > 0 {
			before = nginxWorkers(master)
		}
	}
	for _, args := range [][]string{{"-t"}, {"-s", "reload"}} {
		argv := b.nginx(args...)
		start := time.Now()
		code, out, err := RunCommand(ctx, argv, p.env(), b.timeout)
		rec(Record{Argv: argv, Exit: code, Output: out, Duration: time.Since(start)})
		if err != nil {
			return restore(fmt.Errorf("nginx: %s: %w", strings.Join(argv, " "), err))
		}
		if code != 0 {
			return restore(fmt.Errorf("nginx: %s exited %d: %s", strings.Join(argv, " "), code, strings.TrimSpace(Tail(out, 300))))
		}
	}
	if master > 0 && before != nil {
		timeout := b.timeout
		if timeout <= 0 {
			timeout = 30 * time.Second
		}
		took, err := waitReload(ctx, master, before, timeout)
		rec(Record{Argv: []string{"wait", "reload", strconv.Itoa(master)}, Duration: took, Note: "the new workers serve"})
		if err != nil {
			// The new file is valid and nginx was told; the weights
			// are in place or will be. Say it, do not undo it.
			return fmt.Errorf("nginx: %w", err)
		}
	}
	return nil
}

// WriteFileAtomic writes data to a temporary file beside path, syncs it,
// renames it over path and syncs the directory.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
