package migrate

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// predictGate lets everything through and predicts one lock per file.
type predictGate struct{ locks map[uint][]Lock }

func (g predictGate) Review(_ context.Context, pending []*Migration) (int, string, error) {
	return len(pending), "", nil
}

func (g predictGate) Locks(m *Migration, _ string) []Lock { return g.locks[m.Version] }

// A migration waiting for a lock another session holds reports, while it
// waits, the lock, its holder and the statement; the events place it in
// the run (migration N of M) and carry the predicted locks.
func TestProgressShowsLockWait(t *testing.T) {
	engines(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		d := newDB(t, kind)
		d.exec(t, "CREATE TABLE busy (id int)")
		dir := writeDir(t, map[string]string{
			"1_first.up.sql": "CREATE TABLE first (id int);",
			"2_alter.up.sql": "CREATE TABLE second (id int);\nALTER TABLE busy ADD COLUMN note text;",
			"3_last.up.sql":  "CREATE TABLE last (id int);",
		})
		alterLock := Lock{Mode: "ACCESS EXCLUSIVE", On: "busy", Blocks: "reads and writes", Line: 2}
		var mu sync.Mutex
		var events []Event
		r := open(t, d.url, dir, func(o *Options) {
			o.Gate = predictGate{locks: map[uint][]Lock{2: {alterLock}}}
			o.ProgressEvery = 150 * time.Millisecond
			o.LockTimeout = 30 * time.Second
			o.Events = func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
		})
		// another session holds the table: the ALTER waits
		tx, err := d.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec("SELECT * FROM busy"); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { _, err := r.Up(ctx, -1, nil); done <- err }()
		var got *Event
		for deadline := time.Now().Add(20 * time.Second); got == nil && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			mu.Lock()
			for i := range events {
				if e := events[i]; e.Kind == "progress" && e.Progress != nil && e.Progress.Waiting != "" {
					got = &e
				}
			}
			mu.Unlock()
		}
		_ = tx.Rollback()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got == nil {
			t.Fatalf("no progress event with a lock wait: %+v", events)
		}
		if got.Version != 2 || got.Index != 2 || got.Total != 3 || got.Duration < 150*time.Millisecond || got.Elapsed < got.Duration {
			t.Errorf("progress event: %+v", got)
		}
		p := got.Progress
		if kind == Postgres {
			if !strings.Contains(p.Waiting, "ACCESS EXCLUSIVE on busy (held by pid ") || p.Statement != "line 2: ALTER TABLE busy ADD COLUMN note text;" || p.State != "Lock/relation" {
				t.Errorf("PostgreSQL progress: %+v", p)
			}
		} else if !strings.Contains(p.Waiting, "metadata lock") || p.Statement != "ALTER TABLE busy ADD COLUMN note text" {
			t.Errorf("MariaDB progress: %+v", p)
		}
		if !strings.Contains(got.Message, "waiting for") {
			t.Errorf("message %q", got.Message)
		}
		var done2 *Event
		for i := range events {
			if events[i].Kind == "done" && events[i].Version == 2 {
				done2 = &events[i]
			}
		}
		if done2 == nil || len(done2.Locks) != 1 || done2.Locks[0] != alterLock || done2.Index != 2 {
			t.Errorf("done event: %+v", done2)
		}
		res, _ := r.Status(ctx)
		if res.Version != 3 {
			t.Errorf("version %d", res.Version)
		}
	})
}
