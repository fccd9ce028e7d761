package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// dropCached writes the file's pages back and asks the kernel to drop
// them from the page cache (posix_fadvise DONTNEED drops clean pages
// only): only this file's, so other work on a shared machine keeps its
// cache.
func dropCached(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}
