package lint

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/catalog"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/analyzer/parsecache"
	"github.com/migsafe/migsafe/rules"
)

// lintHistory replays and lints one history. With the result cache on, a
// history whose digest (historyDigest) is in the cache is not replayed:
// its findings, notes and unmodelled statements are read back, and its
// parts get no statements (Stmts and Comments stay nil, the catalog holds
// only Unmodeled); a history replayed is left in the same state once
// linted. The statement count of each part is returned either way.
func lintHistory(ctx context.Context, s *Settings, hs *History) (*engine.Result, []int, error) {
	var digest []byte
	if s.cache != nil && s.opt.Cache.Results {
		digest = historyDigest(s, hs)
		if r, ok := s.cache.Result(digest); ok && len(r.Stmts) == len(hs.Parts) {
			return fromResult(hs, r), r.Stmts, nil
		}
	}
	d := s.Dialect
	if digest != nil && !s.seenBefore(hs) {
		// the first run on this history (CI with an empty cache): its
		// result is kept, but each file's parse is neither looked up nor
		// written; they are from its next run on, when it changed and
		// will change again
		d = parsecache.Unwrap(d)
	}
	// with the result cache on, the caller needs only the findings (a
	// result read back from the cache has no statements either)
	res, err := engine.Run(ctx, hs.Parts, engine.Options{Dialect: d, Rules: s.Rules, Known: rules.All(), History: hs.Deploys, Forget: s.opt.Cache.Results})
	if err != nil {
		return nil, nil, err
	}
	stmts := res.Stmts
	if digest != nil && len(res.Errors) == 0 {
		// a rule that failed is not remembered: the next run tries again
		s.cache.PutResult(digest, &parsecache.Result{Findings: res.Findings, Notes: res.Notes, Unmodeled: res.Catalog.Unmodeled, Stmts: stmts})
	}
	if s.opt.Cache.Results {
		// the same result as one read back from the cache: its files'
		// statements (dropped as they were linted) and the catalog are
		// dropped, so that memory does not grow with the number of
		// histories linted
		cat := catalog.New()
		cat.Unmodeled = res.Catalog.Unmodeled
		res.Catalog = cat
	}
	return res, stmts, nil
}

// seenFormat is the kind of the cache entries that mark a history as
// linted before (seenBefore).
const seenFormat = "migsafe-seen-1"

// seenBefore reports whether a run has linted the history at hs.Root with
// this dialect and target before (its entry in the cache), and marks it.
// Each file's parse is cached from a history's second run on: writing an
// entry per file (a file created and renamed into place) costs more than
// the parse it saves once, and a first run (CI with an empty cache) may be
// the only one.
func (s *Settings) seenBefore(hs *History) bool {
	h := sha256.New()
	fmt.Fprintf(h, "%q %q %q", absPath(s.Dir, hs.Root), s.Dialect.Name(), s.Dialect.Target())
	return seenOnce(s.cache, seenFormat, h.Sum(nil))
}

// fromResult is the engine result a cached history result stands for.
func fromResult(hs *History, r *parsecache.Result) *engine.Result {
	for _, f := range hs.Parts {
		if f.Lint && f.Lines == nil {
			f.Lines = analyzer.NewLineIndex(f.Src)
		}
	}
	cat := catalog.New()
	cat.Unmodeled = r.Unmodeled
	return &engine.Result{Files: hs.Parts, Findings: r.Findings, Notes: r.Notes, Catalog: cat, History: hs.Deploys, Stmts: r.Stmts}
}

// historyDigest is a SHA-256 over everything the lint result of a history
// depends on, besides the build (the cache adds it): the dialect and its
// target version, the enabled rules and their severities, the deploys
// (and the time of the run when a dated pending deploy takes it), and
// every part in replay order with every field the loader set (its path,
// bytes, range, direction, version, deploy, whether it is linted, …;
// appendPart). The deploys' fields are read by reflection, so that a field
// added to analyzer.Deploy is part of the digest without anyone
// remembering to add it; TestPartDigestFields fails on a field added to
// analyzer.File and not to appendPart.
func historyDigest(s *Settings, hs *History) []byte {
	h := sha256.New()
	d := parsecache.Unwrap(s.Dialect)
	t := d.Target()
	fmt.Fprintf(h, "dialect %s %T %#v\x00", d.Name(), d, t)
	for _, rc := range s.Rules {
		fmt.Fprintf(h, "rule %s %d\x00", rc.Rule.Code, rc.Severity)
	}
	hist := analyzer.History{}
	if hs.Deploys != nil {
		hist = *hs.Deploys
	}
	if !hist.Dated || !readsNow(&hist, hs.Parts) {
		// a later run is the same run
		hist.Now = time.Time{}
	}
	// the deploys field by field: %#v of thousands of them was a tenth
	// of a warm pre-commit run
	deploys := hist.Deploys
	hist.Deploys = nil
	fmt.Fprintf(h, "history %#v %d\x00", hist, len(deploys))
	var b []byte
	for i := range deploys {
		b = appendFields(append(b[:0], "deploy"...), reflect.ValueOf(&deploys[i]).Elem())
		h.Write(append(b, 0))
	}
	// the parts in chunks of a fixed size (the digest does not depend on
	// the number of cores), each hashed as one stream on some core, then
	// the chunks' digests in order: 200,000 parts are 20 MB of source,
	// and a digest of each part cost about as much again
	sums := make([][sha256.Size]byte, (len(hs.Parts)+digestChunk-1)/digestChunk)
	eachParallel(len(sums), func(c int) {
		h := sha256.New()
		buf := make([]byte, 0, 64<<10)
		for _, f := range hs.Parts[c*digestChunk : min((c+1)*digestChunk, len(hs.Parts))] {
			buf = appendPart(buf, f, hs.NotSQL[f.Path])
			if len(buf) >= 32<<10 {
				h.Write(buf)
				buf = buf[:0]
			}
		}
		h.Write(buf)
		h.Sum(sums[c][:0])
	})
	for i := range sums {
		h.Write(sums[i][:])
	}
	return h.Sum(nil)
}

// digestChunk is the number of parts hashed as one stream (historyDigest).
const digestChunk = 4096

// appendPart appends a part for historyDigest: every field of
// analyzer.File the loader sets, and its source. The fields are written
// out here, not read by reflection (a fifth of a warm --since run on
// 100,000 migrations); TestPartDigestFields changes each exported field
// in turn, so that a field added to analyzer.File and not here fails it.
func appendPart(b []byte, f *analyzer.File, notSQL bool) []byte {
	b = appendDigestString(b, f.Path)
	b = appendDigestInt(b, len(f.Src))
	b = strconv.AppendBool(b, f.BOM)
	b = appendDigestInt(appendDigestInt(b, f.Range.Start), f.Range.End)
	b = appendDigestInt(b, int(f.Direction))
	b = appendDigestInt(b, int(f.TxMode))
	b = appendDigestString(b, f.TxModeWhy)
	b = appendDigestString(b, f.Version)
	b = strconv.AppendBool(b, f.Lint)
	b = appendDigestInt(b, f.Deploy)
	b = appendDigestString(b, f.Layout)
	b = appendDigestString(b, f.MissingDown)
	b = appendDigestString(b, f.Edited)
	b = appendDigestInt(b, len(f.MarkerDeploys))
	for _, line := range slices.Sorted(maps.Keys(f.MarkerDeploys)) {
		b = appendDigestInt(appendDigestInt(b, line), f.MarkerDeploys[line])
	}
	b = strconv.AppendBool(b, notSQL)
	return append(b, f.Src...)
}

// appendDigestString appends s, length-prefixed (unambiguous).
func appendDigestString(b []byte, s string) []byte {
	b = strconv.AppendInt(append(b, 's'), int64(len(s)), 10)
	return append(append(b, ':'), s...)
}

// appendDigestInt appends n and a terminator.
func appendDigestInt(b []byte, n int) []byte {
	return append(strconv.AppendInt(append(b, 'i'), int64(n), 10), ';')
}

// appendValue appends a value for the digest: the common kinds without
// fmt (a tenth of a warm run went into printing them), anything else as
// %#v.
func appendValue(b []byte, v reflect.Value) []byte {
	switch v.Kind() {
	case reflect.String:
		// length-prefixed, unambiguous
		b = strconv.AppendInt(append(b, " s"...), int64(v.Len()), 10)
		return append(append(b, ' '), v.String()...)
	case reflect.Int, reflect.Int64:
		if v.Type() == reflect.TypeFor[time.Duration]() {
			break
		}
		return strconv.AppendInt(append(b, " i"...), v.Int(), 10)
	case reflect.Bool:
		return strconv.AppendBool(append(b, " b"...), v.Bool())
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			t := v.Interface().(time.Time) // (only a time is boxed)
			// the instant and the zone, which %#v prints too
			b = strconv.AppendInt(append(b, " t"...), t.Unix(), 10)
			b = strconv.AppendInt(append(b, '.'), int64(t.Nanosecond()), 10)
			return append(append(b, ' '), t.Location().String()...)
		}
		return appendFields(b, v)
	case reflect.Map:
		if v.IsNil() {
			return append(b, " nil map"...)
		}
	}
	return fmt.Appendf(b, " %#v", v.Interface())
}

// appendFields appends a struct field by field, or as %#v when it has
// unexported fields.
func appendFields(b []byte, v reflect.Value) []byte {
	tp := v.Type()
	for i := range v.NumField() {
		if !tp.Field(i).IsExported() {
			return fmt.Appendf(b, " %#v", v.Interface())
		}
	}
	b = append(b, " {"...)
	for i := range v.NumField() {
		b = appendValue(b, v.Field(i))
	}
	return append(b, '}')
}

// readsNow reports whether a rule may read the time of the run: it is
// the time of a pending deploy without a date of its own (History.Time),
// and the one rule that measures time to it, contract-too-soon (rules/
// sequence.go), does so for a DROP in the pending deploy of an object a
// -- migsafe:deprecate marker deprecated. The look at the text errs on
// the side of yes; a new rule that reads History.Time must be added here
// (TestDigestTakesNow).
func readsNow(h *analyzer.History, parts []*analyzer.File) bool {
	// the pending parts first: they are few, and without a DROP in them
	// the rest is not read
	drop := false
	for _, f := range parts {
		if d := h.Deploy(f.Deploy); d != nil && d.Pending && d.Time.IsZero() && containsFold(f.Src, "drop") {
			drop = true
			break
		}
	}
	if !drop {
		return false
	}
	for _, f := range parts {
		if containsFold(f.Src, "deprecate") {
			return true
		}
	}
	return false
}

// containsFold reports whether s holds word (lower case ASCII) in any
// case, without a lower-cased copy of s.
func containsFold(s []byte, word string) bool {
	lo, up := word[0], word[0]-'a'+'A'
	for len(s) >= len(word) {
		i := bytes.IndexByte(s, lo)
		if j := bytes.IndexByte(s, up); j >= 0 && (i < 0 || j < i) {
			i = j
		}
		if i < 0 || len(s)-i < len(word) {
			return false
		}
		if bytes.EqualFold(s[i:i+len(word)], []byte(word)) {
			return true
		}
		s = s[i+1:]
	}
	return false
}
