package gitlog

// SetMaxNamed sets maxNamed for a test and returns a function that puts
// it back.
func SetMaxNamed(n int) (restore func()) {
	old := maxNamed
	maxNamed = n
	return func() { maxNamed = old }
}

// SetSplitFrom sets splitFrom for a test and returns a function that
// puts it back.
func SetSplitFrom(n int) (restore func()) {
	old := splitFrom
	splitFrom = n
	return func() { splitFrom = old }
}

// Walks is the number of git log walks run so far.
func Walks() int64 { return walks.Load() }

// Maps returns the log as the files added (with their commits) and those
// modified since, for the tests.
func (l *Log) Maps() (map[string]Commit, map[string]bool) {
	added, modified := map[string]Commit{}, map[string]bool{}
	for i, p := range l.t.paths {
		if e := l.t.vals[i]; e.added {
			added[p] = e.c
		}
		if l.t.vals[i].modified {
			modified[p] = true
		}
	}
	return added, modified
}
