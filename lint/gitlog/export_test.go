package gitlog

// SetMaxNamed sets maxNamed for a test and returns a function that puts
// it back.
func SetMaxNamed(n int) (restore func()) {
	old := maxNamed
	maxNamed = n
	return func() { maxNamed = old }
}
