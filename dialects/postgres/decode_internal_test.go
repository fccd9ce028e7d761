package postgres

import (
	"bytes"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/migsafe/migsafe/dialects/postgres/internal/gendecode"
)

// treeInputs returns the parse trees libpg_query gives for the SQL of the
// fixtures and, when it is there, of the shared corpus.
func treeInputs(t testing.TB) [][]byte {
	var files []string
	roots := []string{filepath.Join("..", "..", "fixtures")}
	corpus := filepath.Join("..", "..", "..", "shared", "corpus")
	if d := os.Getenv("MIGSAFE_CORPUS"); d != "" {
		corpus = d
	}
	roots = append(roots, corpus)
	for _, root := range roots {
		_ = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() && (strings.HasSuffix(p, ".sql") || strings.HasSuffix(p, ".txtar")) && !strings.Contains(p, "mysql") {
				files = append(files, p)
			}
			return nil
		})
	}
	var out [][]byte
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// a file that does not parse whole is parsed statement by
		// statement, as migsafe's windows end up doing
		for _, text := range append([][]byte{src}, bytes.Split(src, []byte(";\n"))...) {
			buf, err := pgparser.ParseToProtobuf(string(text))
			if err == nil {
				out = append(out, buf)
			}
		}
	}
	return out
}

// TestDecodeTree: the generated decoder gives what proto.Unmarshal gives,
// on every tree of the fixtures and the corpus, and on those trees cut
// short or with a byte changed (both refuse, or both give the same tree),
// and at the recursion limit.
func TestDecodeTree(t *testing.T) {
	trees := treeInputs(t)
	if len(trees) < 1000 {
		t.Fatalf("only %d parse trees to compare", len(trees))
	}
	same := func(buf []byte, limit int) {
		t.Helper()
		sameDecode(t, buf, limit)
	}
	rnd := rand.New(rand.NewSource(1))
	for _, buf := range trees {
		same(buf, 10000)
		cut := append([]byte(nil), buf[:rnd.Intn(len(buf)+1)]...)
		same(cut, 10000)
		if len(buf) > 0 {
			bent := append([]byte(nil), buf...)
			bent[rnd.Intn(len(bent))] ^= byte(1 + rnd.Intn(255))
			same(bent, 10000)
		}
	}
	// the deepest tree, at and around its depth
	deep := trees[0]
	for _, b := range trees {
		if len(b) > len(deep) {
			deep = b
		}
	}
	// (0 is proto.Unmarshal's default limit; cParse always sets one)
	for limit := 1; limit < 400; limit += 7 {
		same(deep, limit)
	}
	t.Logf("%d parse trees", len(trees))
}

// sameDecode fails t unless decodeTree and proto.Unmarshal both refuse
// buf or give the same tree.
func sameDecode(t testing.TB, buf []byte, limit int) {
	t.Helper()
	want := &pg_query.ParseResult{}
	werr := proto.UnmarshalOptions{RecursionLimit: limit}.Unmarshal(buf, want)
	// fields the schema does not know (a changed byte can make one) are
	// kept by proto.Unmarshal and dropped by decodeTree: nothing reads them
	discardUnknown(want.ProtoReflect())
	got, gerr := decodeTree(buf, limit)
	switch {
	case (werr == nil) != (gerr == nil):
		t.Fatalf("proto.Unmarshal: %v, decodeTree: %v (%d bytes: %x)", werr, gerr, len(buf), buf)
	case werr == nil && !proto.Equal(want, got):
		t.Fatalf("decodeTree differs from proto.Unmarshal on %d bytes:\n%v\n%v", len(buf), want, got)
	}
}

// FuzzDecodeTree: on any bytes, decodeTree does what proto.Unmarshal does
// (scripts/fuzz); the seeds are parse trees of a few statements.
func FuzzDecodeTree(f *testing.F) {
	for _, sql := range []string{
		"CREATE TABLE t (id bigint PRIMARY KEY, n numeric(10, 2) DEFAULT 1.5, s text[] NOT NULL)",
		"ALTER TABLE t ADD COLUMN c int, ALTER COLUMN n TYPE float8 USING n::float8",
		"SELECT 'x', B'101', true, 1e300, -2147483648 FROM t WHERE a IN (1, 2) ORDER BY 1",
		"CREATE INDEX CONCURRENTLY i ON t USING gin (s) WHERE n > 0",
	} {
		buf, err := pgparser.ParseToProtobuf(sql)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(buf, 1000)
	}
	f.Fuzz(func(t *testing.T, buf []byte, limit int) {
		if limit < 1 || limit > 100000 {
			return
		}
		sameDecode(t, buf, limit)
	})
}

func discardUnknown(m protoreflect.Message) {
	m.SetUnknown(nil)
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Message() == nil:
		case fd.IsList():
			for i := range v.List().Len() {
				discardUnknown(v.List().Get(i).Message())
			}
		default:
			discardUnknown(v.Message())
		}
		return true
	})
}

// TestDecodeGenerated: decode_gen.go is what the generator writes for the
// pg_query_go of go.mod (go generate ./dialects/postgres).
func TestDecodeGenerated(t *testing.T) {
	want, err := gendecode.Generate()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("decode_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("decode_gen.go is stale: run go generate ./dialects/postgres")
	}
}

func BenchmarkDecodeTree(b *testing.B) {
	trees := treeInputs(b)
	b.Run("generated", func(b *testing.B) {
		for b.Loop() {
			for _, buf := range trees {
				if _, err := decodeTree(buf, 10000); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("proto.Unmarshal", func(b *testing.B) {
		for b.Loop() {
			for _, buf := range trees {
				if err := proto.Unmarshal(buf, &pg_query.ParseResult{}); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
