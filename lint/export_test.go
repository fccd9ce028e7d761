package lint

// SetIndexFrom sets the number of files from which a history is compared
// with git's index instead of asked of git status (see indexFrom).
func SetIndexFrom(n int) (restore func()) {
	old := indexFrom
	indexFrom = n
	return func() { indexFrom = old }
}
