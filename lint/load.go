package lint

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/migsafe/migsafe/analyzer"
)

// MaxFileSize is the default largest migration file migsafe reads.
const MaxFileSize = 16 << 20

// discover expands the command-line paths into SQL files: files are taken
// as given, directories are searched recursively for *.sql (hidden
// directories skipped). Paths are returned relative to dir when below it.
func discover(paths []string, dir string, excluded func(string) bool) ([]string, []error) {
	var files []string
	var errs []error
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] && !excluded(p) {
			seen[p] = true
			files = append(files, p)
		}
	}
	for _, arg := range paths {
		full := arg
		if !filepath.IsAbs(full) {
			full = filepath.Join(dir, arg)
		}
		st, err := os.Stat(full)
		if err != nil {
			errs = append(errs, PathError(arg, err))
			continue
		}
		if !st.IsDir() {
			add(Display(dir, full))
			continue
		}
		n := 0
		err = filepath.WalkDir(full, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, PathError(Display(dir, p), err))
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				if p != full && strings.HasPrefix(d.Name(), ".") {
					return fs.SkipDir
				}
				return nil
			}
			if strings.EqualFold(filepath.Ext(d.Name()), ".sql") {
				n++
				add(Display(dir, p))
			}
			return nil
		})
		if err != nil {
			errs = append(errs, PathError(arg, err))
		}
		if n == 0 {
			errs = append(errs, fmt.Errorf("%s: no .sql files found in this directory (searched recursively)", arg))
		}
	}
	return files, errs
}

// PathError words a file system error about p for a message: "no such
// file or directory", "permission denied", else the error itself.
func PathError(p string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: no such file or directory", p)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s: permission denied", p)
	}
	return fmt.Errorf("%s: %w", p, err)
}

// Display returns p relative to dir when p is inside it, slash-separated.
func Display(dir, p string) string {
	if rel, err := filepath.Rel(dir, p); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(p)
}

// ReadSQL reads a migration and checks that it is text migsafe can parse:
// not larger than max, no NUL byte, valid UTF-8. A leading BOM is removed.
func ReadSQL(dir, name string, max int64) ([]byte, bool, error) {
	full := name
	if !filepath.IsAbs(full) {
		full = filepath.Join(dir, filepath.FromSlash(name))
	}
	st, err := os.Stat(full)
	if err != nil {
		return nil, false, PathError(name, err)
	}
	if !st.Mode().IsRegular() {
		// opening a named pipe would wait for a writer forever
		return nil, false, fmt.Errorf("%s: not a regular file (%s); migsafe reads only regular files", name, fileKind(st.Mode()))
	}
	if st.Size() > max {
		return nil, false, fmt.Errorf("%s: file is %s, larger than the %s limit: migrations this large are usually data dumps; exclude it or raise --max-file-size", name, size(st.Size()), size(max))
	}
	src, err := os.ReadFile(full)
	if err != nil {
		return nil, false, PathError(name, err)
	}
	if i := bytes.IndexByte(src, 0); i >= 0 {
		li := analyzer.NewLineIndex(src[:i])
		p := li.Position(i)
		return nil, false, fmt.Errorf("%s:%d:%d: binary file (NUL byte at offset %d), not SQL", name, p.Line, p.Column, i)
	}
	bom := bytes.HasPrefix(src, []byte("\xef\xbb\xbf"))
	if bom {
		src = src[3:]
	}
	if !utf8.Valid(src) {
		off := 0
		for off < len(src) {
			r, n := utf8.DecodeRune(src[off:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		p := analyzer.NewLineIndex(src).Position(off)
		return nil, false, fmt.Errorf("%s:%d:%d: invalid UTF-8 (byte 0x%02x): migrations must be UTF-8 encoded; convert the file (iconv -f latin1 -t utf-8)", name, p.Line, p.Column, src[off])
	}
	return src, bom, nil
}

// size formats a byte count for messages: "900 bytes", "12.5 KiB", "16 MiB".
func size(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/(1<<10)), ".0") + " KiB"
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/(1<<20)), ".0") + " MiB"
}

// fileKind names a file mode that is not a regular file.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	}
	return "mode " + m.String()
}
