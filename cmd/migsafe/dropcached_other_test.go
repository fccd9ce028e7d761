//go:build unix && !linux

package main

// dropCached does nothing where posix_fadvise is not offered: the peak
// memory of a freshly linked executable may then read high (see
// BenchmarkGoals).
func dropCached(string) error { return nil }
