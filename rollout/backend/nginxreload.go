package backend

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// nginx reloads by signal: nginx -s reload returns before the new workers
// run. With vars.pid_file, the backend waits until every worker serving
// requests belongs to the new generation (the old ones are gone or say
// "is shutting down", having closed their listening sockets), so that an
// action that returns has taken effect. Linux (/proc) only; elsewhere it
// does not wait.

const workerTitle = "nginx: worker process"

// nginxWorkers lists the pids of the master's children that are serving
// workers.
func nginxWorkers(master int) map[int]bool {
	out := map[int]bool{}
	// The kernel lists a thread's children (CONFIG_PROC_CHILDREN); the
	// master is single-threaded. Else scan every process.
	if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", master, master)); err == nil {
		for _, f := range strings.Fields(string(data)) {
			cmdline, _ := os.ReadFile(filepath.Join("/proc", f, "cmdline"))
			if pid, err := strconv.Atoi(f); err == nil && workerCmdline(cmdline) {
				out[pid] = true
			}
		}
		return out
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(master) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if workerCmdline(cmdline) {
			out[pid] = true
		}
	}
	return out
}

// workerCmdline: nginx sets a serving worker's title to "nginx: worker
// process" and an old one's to "… is shutting down".
func workerCmdline(cmdline []byte) bool {
	return strings.TrimRight(strings.ReplaceAll(string(cmdline), "\x00", " "), " ") == workerTitle
}

func readPid(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return pid
}

// waitReload waits until no worker of before serves any more and a new
// one does.
func waitReload(ctx context.Context, master int, before map[int]bool, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		now := nginxWorkers(master)
		fresh, stale := 0, 0
		for pid := range now {
			if before[pid] {
				stale++
			} else {
				fresh++
			}
		}
		if fresh > 0 && stale == 0 {
			return time.Since(start), nil
		}
		if time.Now().After(deadline) {
			return time.Since(start), fmt.Errorf("nginx (master pid %d) still had %d old and %d new workers %s after the reload", master, stale, fresh, timeout)
		}
		select {
		case <-ctx.Done():
			return time.Since(start), ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
