package engine

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/migsafe/migsafe/rollout/journal"
)

// Mirror copies journal events elsewhere; Record may get an event again.
type Mirror interface {
	Record(runID string, events []journal.Event) error
}

// mirrorQueue hands journal events to the Mirror from a goroutine of its
// own, so that a slow or unanswering database never delays the run: a
// rollback must not wait for its copy. Events that could not be copied
// stay queued and go with the next attempt; what is still queued when the
// run ends is said, and a resumed run copies its whole journal again.
type mirrorQueue struct {
	m     Mirror
	runID string

	mu       sync.Mutex
	pending  []journal.Event
	inFlight int
	failed   bool
	notices  []string // what to say on Loud, said by the driver's goroutine

	wake chan struct{}
	stop chan struct{}
	done chan struct{}
}

// mirrorRetry is the wait after a failed copy before the next attempt.
var mirrorRetry = 2 * time.Second

// mirrorFlush bounds the wait for the queue when a run ends.
var mirrorFlush = 3 * time.Second

func startMirror(m Mirror, runID string) *mirrorQueue {
	q := &mirrorQueue{m: m, runID: runID, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go q.loop()
	return q
}

// add queues events; it never blocks on the database.
func (q *mirrorQueue) add(events []journal.Event) {
	q.mu.Lock()
	q.pending = append(q.pending, events...)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *mirrorQueue) loop() {
	defer close(q.done)
	stopping := false
	for {
		q.mu.Lock()
		batch := q.pending
		q.pending, q.inFlight = nil, len(batch)
		q.mu.Unlock()
		if len(batch) > 0 {
			err := q.m.Record(q.runID, batch)
			q.mu.Lock()
			q.inFlight = 0
			switch {
			case err != nil:
				q.pending = append(batch, q.pending...)
				if !q.failed {
					q.notices = append(q.notices, fmt.Sprintf("migsafe: warning: the copy of the journal in the database failed (the run goes on without waiting for it; the local journal is complete): %v", oneLine(err.Error())))
				}
				q.failed = true
			case q.failed:
				q.failed = false
				q.notices = append(q.notices, "migsafe: the copy of the journal in the database works again")
			}
			q.mu.Unlock()
			if err != nil {
				if stopping {
					return
				}
				select {
				case <-q.stop:
					stopping = true // one last attempt, within close's flush
				case <-time.After(mirrorRetry):
				}
				continue
			}
		}
		if stopping {
			return
		}
		select {
		case <-q.wake:
		case <-q.stop:
			stopping = true // once more, for the run's last events
		}
	}
}

// say writes the queue's notices on w.
func (q *mirrorQueue) say(w io.Writer) {
	q.mu.Lock()
	notices := q.notices
	q.notices = nil
	q.mu.Unlock()
	if w == nil {
		return
	}
	for _, n := range notices {
		fmt.Fprintln(w, n)
	}
}

// close waits up to mirrorFlush for the queued events to be copied, then
// says what is left; the copy goes on no longer than the process.
func (q *mirrorQueue) close(w io.Writer) {
	close(q.stop)
	select {
	case <-q.done:
	case <-time.After(mirrorFlush):
	}
	q.say(w)
	q.mu.Lock()
	left := len(q.pending) + q.inFlight
	q.mu.Unlock()
	if left > 0 && w != nil {
		fmt.Fprintf(w, "migsafe: warning: %d journal event(s) are not in the database's copy (waited %s for it at the end); the local journal has them, and resuming the run copies them\n", left, mirrorFlush)
	}
}
