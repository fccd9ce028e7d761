package readfile

import (
	"io/fs"
	"syscall"
)

func stampOf(st fs.FileInfo) (Stamp, bool) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return Stamp{}, false
	}
	return Stamp{
		Size:  st.Size(),
		Mtime: sys.Mtim.Nano(),
		Ctime: sys.Ctim.Nano(),
		Ino:   sys.Ino,
		Dev:   uint64(sys.Dev), //nolint:unconvert // uint64 on some architectures only
		Mode:  uint32(st.Mode()),
	}, true
}
