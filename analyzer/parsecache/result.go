package parsecache

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/catalog"
)

// Result is what linting one migration history found, stored whole: a
// run over a history in which nothing changed (no file, no setting, not
// the build) reads it back instead of replaying the history. The caller
// computes the digest of everything the result depends on; the cache adds
// the build, as for parse entries, and the same framing (checksum,
// temporary file renamed into place, Trim).
type Result struct {
	Findings []analyzer.Finding
	// Notes are the notices the rules gave, in order.
	Notes []string
	// Unmodeled are the statements the schema model could not follow.
	Unmodeled []catalog.Unmodeled
	// Stmts is the number of statements of each part, in replay order.
	Stmts []int
}

// resultFormat is part of a result's key: change it when Result or a
// type it holds changes shape in a way the build key would not catch.
const resultFormat = "migsafe-result-1"

// valueKey is the entry name of a value of a kind stored under a digest.
func (c *Cache) valueKey(kind string, digest []byte) string {
	h := sha256.New()
	h.Write(c.build)
	h.Write([]byte("\x00" + kind + "\x00"))
	h.Write(digest)
	return hex.EncodeToString(h.Sum(nil))
}

// Value reads the value of a kind stored under digest into v, a pointer
// to what PutValue was given (structs, slices, strings, numbers and
// booleans); ok is false when there is none, or it is corrupt or
// truncated.
func (c *Cache) Value(kind string, digest []byte, v any) (ok bool) {
	return c.get(c.valueKey(kind, digest), v)
}

// PutValue stores v under a kind and digest. A failure to store is not an
// error: the cache only saves time.
func (c *Cache) PutValue(kind string, digest []byte, v any) {
	_ = c.put(c.valueKey(kind, digest), v)
}

// Result returns the result stored under digest; ok is false when there
// is none, or it is corrupt or truncated (then it is not used).
func (c *Cache) Result(digest []byte) (r *Result, ok bool) {
	r = &Result{}
	if !c.Value(resultFormat, digest, r) {
		return nil, false
	}
	c.results.Add(1)
	return r, true
}

// PutResult stores r under digest.
func (c *Cache) PutResult(digest []byte, r *Result) {
	c.PutValue(resultFormat, digest, r)
}
