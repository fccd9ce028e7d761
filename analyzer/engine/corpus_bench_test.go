package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/migsafe/migsafe/analyzer"
	"github.com/migsafe/migsafe/analyzer/engine"
	"github.com/migsafe/migsafe/dialects/mysql"
	"github.com/migsafe/migsafe/dialects/postgres"
	"github.com/migsafe/migsafe/rules"
)

// corpusDir is the shared corpus of real migrations (MIGSAFE_CORPUS
// overrides it, for a work tree elsewhere); benchmarks that need it skip
// when it is absent.
const corpusDir = "../../../shared/corpus"

func loadCorpus(b *testing.B, pattern string) ([]string, [][]byte) {
	b.Helper()
	corpusDir := corpusDir
	if d := os.Getenv("MIGSAFE_CORPUS"); d != "" {
		corpusDir = d
	}
	files, _ := filepath.Glob(filepath.Join(corpusDir, pattern))
	if len(files) == 0 {
		b.Skipf("no corpus at %s", corpusDir)
	}
	sort.Strings(files)
	srcs := make([][]byte, len(files))
	for i, f := range files {
		s, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		srcs[i] = s
	}
	return files, srcs
}

func defaultRules() []engine.RuleConfig {
	var rcs []engine.RuleConfig
	for _, r := range rules.All() {
		if !r.Off && r.AppliesTo(analyzer.Postgres) {
			rcs = append(rcs, engine.RuleConfig{Rule: r, Severity: r.Severity})
		}
	}
	return rcs
}

// BenchmarkCorpusPostgres lints every PostgreSQL file of the corpus (about
// 1,850 files, 1.3 MB) with the default rules, as `migsafe check` does
// minus file I/O and output. Compare with squawk through scripts/bench.
func BenchmarkCorpusPostgres(b *testing.B) {
	names, srcs := loadCorpus(b, "*/postgres/*.sql")
	d, err := postgres.New("")
	if err != nil {
		b.Fatal(err)
	}
	opt := engine.Options{Dialect: d, Rules: defaultRules(), Known: rules.All()}
	var bytes int64
	for _, s := range srcs {
		bytes += int64(len(s))
	}
	b.SetBytes(bytes)
	b.ReportAllocs()
	for b.Loop() {
		files := make([]*analyzer.File, len(srcs))
		for i, s := range srcs {
			files[i] = &analyzer.File{Path: names[i], Src: s, Lint: true, Deploy: i + 1}
		}
		res, err := engine.Run(context.Background(), files, opt)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Errors) > 0 {
			b.Fatal(res.Errors[0])
		}
	}
}

// BenchmarkParsePostgres measures the dialect alone on the same files: the
// share of the engine's time that is parsing.
func BenchmarkParsePostgres(b *testing.B) {
	d, err := postgres.New("")
	if err != nil {
		b.Fatal(err)
	}
	benchParse(b, "*/postgres/*.sql", d)
}

// BenchmarkParseMySQL measures the MySQL dialect alone on the corpus's
// MySQL files (about 1,200 files, 0.45 MB), for its time per MB against
// BenchmarkParsePostgres's.
func BenchmarkParseMySQL(b *testing.B) {
	d, err := mysql.New("")
	if err != nil {
		b.Fatal(err)
	}
	benchParse(b, "*/mysql/*.sql", d)
}

// benchParse parses every corpus file the pattern matches with d.
func benchParse(b *testing.B, pattern string, d analyzer.Dialect) {
	_, srcs := loadCorpus(b, pattern)
	var bytes int64
	for _, s := range srcs {
		bytes += int64(len(s))
	}
	b.SetBytes(bytes)
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range srcs {
			d.Parse(s, analyzer.Span{Start: 0, End: len(s)})
		}
	}
}
