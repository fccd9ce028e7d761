package readfile

import "syscall"

// lstamp is the stamp of full from lstat(2), without following a link,
// and whether full is a regular file; ok is false when it cannot be
// stat'ed. Each run stats every file of a history (200,000 for 100,000
// migrations), so without the allocations of os.Lstat.
func lstamp(full string) (s Stamp, regular, ok bool) {
	var st syscall.Stat_t
	err := syscall.Lstat(full, &st)
	for err == syscall.EINTR {
		err = syscall.Lstat(full, &st)
	}
	if err != nil {
		return s, false, false
	}
	return Stamp{
		Size:  st.Size,
		Mtime: st.Mtim.Nano(),
		Ctime: st.Ctim.Nano(),
		Ino:   st.Ino,
		Dev:   uint64(st.Dev), //nolint:unconvert // uint64 on some architectures only
		Mode:  st.Mode,
	}, st.Mode&syscall.S_IFMT == syscall.S_IFREG, true
}
