package runner

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/migsafe/migsafe/rollout/checklist"
	"github.com/migsafe/migsafe/rollout/journal"
)

// Files written next to a run's journal (runs/ID.jsonl).
func postRollbackPath(store *journal.Store, id string) string {
	return filepath.Join(store.Dir, "runs", id+".post-rollback.json")
}

// PostmortemPath is where the post-mortem draft of a rolled-back run is
// written.
func PostmortemPath(store *journal.Store, id string) string {
	return filepath.Join(store.Dir, "runs", id+".postmortem.md")
}

func readPostRollback(store *journal.Store, id string) *checklist.Report {
	data, err := os.ReadFile(postRollbackPath(store, id))
	if err != nil {
		return nil
	}
	var r checklist.Report
	if json.Unmarshal(data, &r) != nil {
		return nil
	}
	return &r
}
