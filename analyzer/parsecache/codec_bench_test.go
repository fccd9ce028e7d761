package parsecache

import (
	"fmt"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/change"
)

// benchResult is a history's result of the corpus's size: 3,200 findings
// (what the 1,851 PostgreSQL files give), most with a lock effect, some
// with a fix.
func benchResult() *Result {
	r := &Result{}
	for i := range 3200 {
		f := analyzer.Finding{
			Code: "PG404", Name: "missing-lock-timeout", Severity: analyzer.SeverityWarning,
			Path:    fmt.Sprintf("authelia/postgres/V%04d.Something.up.sql", i/3),
			Span:    analyzer.Span{Start: i, End: i + 80},
			Start:   analyzer.Position{Line: i, Column: 1, Offset: i},
			End:     analyzer.Position{Line: i + 2, Column: 3, Offset: i + 80},
			Message: "No lock_timeout is set before this statement, which takes ACCESS EXCLUSIVE on public.users: it waits behind every running query and blocks all reads and writes while it waits.",
			Help:    "SET lock_timeout = '2s'; before the statement, and retry on timeout.",
			Objects: []string{"public.users", "public.users.email"},
			Effect:  &change.Effect{Lock: "ACCESS EXCLUSIVE", On: "public.users", Blocks: change.BlocksReadsAndWrites},
			Stmt:    i % 7, StmtText: "ALTER TABLE users ADD COLUMN email text",
		}
		if i%5 == 0 {
			f.Fixes = []analyzer.Fix{{Description: "set lock_timeout", Edits: []analyzer.Edit{{Span: analyzer.Span{Start: i, End: i}, NewText: "SET lock_timeout = '2s';\n"}}}}
		}
		r.Findings = append(r.Findings, f)
	}
	r.Stmts = make([]int, 1851)
	return r
}

// BenchmarkDecodeResult reads back a result of the corpus's size, as a
// warm run does for each history. Reading is bound by its allocations
// (12,000 for 3,200 findings, 1.4 MiB): a codec built once per type,
// writing through unsafe pointers instead of reflect.Value (tried on
// 2026-12-04), wrote 2.4 times faster but read only about 15% faster, and
// a warm run over the corpus did not measure faster; it was not kept.
func BenchmarkDecodeResult(b *testing.B) {
	payload, err := encode(nil, benchResult())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if err := decode(payload, &Result{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeResult writes it, as the run that fills the cache does.
func BenchmarkEncodeResult(b *testing.B) {
	r := benchResult()
	var buf []byte
	for b.Loop() {
		var err error
		if buf, err = encode(buf[:0], r); err != nil {
			b.Fatal(err)
		}
	}
}
