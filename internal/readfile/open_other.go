//go:build !unix

package readfile

import "os"

// readOpen opens full and reads it, refusing what is not a regular file
// once open.
func readOpen(full, name string, o Options, _ bool) ([]byte, error) {
	f, err := os.Open(full)
	if err != nil {
		return nil, PathError(name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, PathError(name, err)
	}
	if !st.Mode().IsRegular() {
		return nil, &NotRegularError{Name: name, Mode: st.Mode()}
	}
	return readAll(f.Read, name, st.Size(), o)
}

// readDirect is ReadInfo's fast path on Unix; here ReadInfo always takes
// its general path.
func readDirect(string, string, Options) ([]byte, Info, bool, error) {
	return nil, Info{}, false, nil
}
