//go:build unix

package readfile

import (
	"errors"
	"os"
	"syscall"
)

// readOpen opens full and reads it, refusing what is not a regular file
// once open. It uses the system calls directly: os.OpenFile would also
// register the descriptor with the runtime's poller (a failing epoll_ctl
// per file) and read once more to see the end. Opening is non-blocking,
// so a named pipe put in the file's place since it was looked at returns
// at once and is refused; noFollow refuses a symbolic link put there.
func readOpen(full, name string, o Options, noFollow bool) ([]byte, error) {
	flags := syscall.O_RDONLY | syscall.O_NONBLOCK | syscall.O_CLOEXEC
	if noFollow {
		flags |= syscall.O_NOFOLLOW
	}
	var fd int
	var err error
	for {
		fd, err = syscall.Open(full, flags, 0)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		if noFollow && errors.Is(err, syscall.ELOOP) {
			err = errors.New("replaced by a symbolic link while it was read")
		}
		return nil, PathError(name, &os.PathError{Op: "open", Path: full, Err: err})
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, PathError(name, &os.PathError{Op: "stat", Path: full, Err: err})
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		// rare: the mode for the message is what the path is now
		mode := os.ModeIrregular
		if fi, err := os.Stat(full); err == nil {
			mode = fi.Mode()
		}
		return nil, &NotRegularError{Name: name, Mode: mode}
	}
	return readAll(func(b []byte) (int, error) {
		for {
			n, err := syscall.Read(fd, b)
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			if err != nil {
				return 0, &os.PathError{Op: "read", Path: full, Err: err}
			}
			return n, nil
		}
	}, name, st.Size, o)
}
