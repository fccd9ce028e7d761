//go:build unix

package readfile

import "syscall"

// openFlags: opening a named pipe does not wait for a writer.
const openFlags = syscall.O_NONBLOCK
