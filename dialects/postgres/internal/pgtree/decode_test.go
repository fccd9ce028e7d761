package pgtree

import (
	"bytes"
	"fmt"
	"io/fs"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/migsafe/migsafe/dialects/postgres/internal/gentree"
)

// treeInputs returns the parse trees libpg_query gives for the SQL of the
// fixtures and, when it is there, of the shared corpus.
func treeInputs(t testing.TB) [][]byte {
	var files []string
	repo := filepath.Join("..", "..", "..", "..")
	roots := []string{filepath.Join(repo, "fixtures")}
	corpus := filepath.Join(repo, "..", "shared", "corpus")
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

// TestDecodeTree: Decode gives what proto.Unmarshal gives into
// pg_query_go's types, field by field, on every tree of the fixtures and
// the corpus, and on those trees cut short or with a byte changed (both
// refuse, or both give the same tree), and at the recursion limit.
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

// sameDecode fails t unless Decode and proto.Unmarshal both refuse buf or
// give the same tree.
func sameDecode(t testing.TB, buf []byte, limit int) {
	t.Helper()
	want := &pg_query.ParseResult{}
	werr := proto.UnmarshalOptions{RecursionLimit: limit}.Unmarshal(buf, want)
	got, gerr := Decode(buf, limit)
	switch {
	case (werr == nil) != (gerr == nil):
		t.Fatalf("proto.Unmarshal: %v, Decode: %v (%d bytes: %x)", werr, gerr, len(buf), buf)
	case werr == nil:
		// fields the schema does not know (a changed byte can make one)
		// are kept by proto.Unmarshal, unexported, and dropped by Decode:
		// nothing reads them
		if d := sameValue(reflect.ValueOf(want), reflect.ValueOf(got), "ParseResult"); d != "" {
			t.Fatalf("Decode differs from proto.Unmarshal on %d bytes: %s\n%v", len(buf), d, want)
		}
	}
}

// sameValue compares a value of pg_query_go's types with one of pgtree's:
// the same type names, exported fields, oneof members and values. It
// returns where they first differ, or "".
func sameValue(w, g reflect.Value, at string) string {
	if w.Kind() != g.Kind() || w.Type().Name() != g.Type().Name() {
		return fmt.Sprintf("%s: %s against %s", at, w.Type(), g.Type())
	}
	switch w.Kind() {
	case reflect.Pointer, reflect.Interface:
		if w.IsNil() != g.IsNil() {
			return fmt.Sprintf("%s: nil %v against %v", at, w.IsNil(), g.IsNil())
		}
		if w.IsNil() {
			return ""
		}
		return sameValue(w.Elem(), g.Elem(), at)
	case reflect.Struct:
		n := 0
		for i := range w.NumField() {
			f := w.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			n++
			gf := g.FieldByName(f.Name)
			if !gf.IsValid() {
				return fmt.Sprintf("%s.%s: not in pgtree", at, f.Name)
			}
			if d := sameValue(w.Field(i), gf, at+"."+f.Name); d != "" {
				return d
			}
		}
		if n != g.NumField() {
			return fmt.Sprintf("%s: %d fields against %d", at, n, g.NumField())
		}
	case reflect.Slice:
		if w.Len() != g.Len() {
			return fmt.Sprintf("%s: %d elements against %d", at, w.Len(), g.Len())
		}
		for i := range w.Len() {
			if d := sameValue(w.Index(i), g.Index(i), fmt.Sprintf("%s[%d]", at, i)); d != "" {
				return d
			}
		}
	case reflect.String:
		if w.String() != g.String() {
			return fmt.Sprintf("%s: %q against %q", at, w.String(), g.String())
		}
	case reflect.Bool:
		if w.Bool() != g.Bool() {
			return fmt.Sprintf("%s: %v against %v", at, w.Bool(), g.Bool())
		}
	case reflect.Int32, reflect.Int64:
		if w.Int() != g.Int() {
			return fmt.Sprintf("%s: %d against %d", at, w.Int(), g.Int())
		}
	case reflect.Uint32, reflect.Uint64:
		if w.Uint() != g.Uint() {
			return fmt.Sprintf("%s: %d against %d", at, w.Uint(), g.Uint())
		}
	case reflect.Float64:
		if math.Float64bits(w.Float()) != math.Float64bits(g.Float()) {
			return fmt.Sprintf("%s: %v against %v", at, w.Float(), g.Float())
		}
	default:
		return fmt.Sprintf("%s: kind %s not compared", at, w.Kind())
	}
	return ""
}

// TestWalkOrder: Walk visits the messages of every tree of the fixtures
// and the corpus in the order their fields are declared (a oneof where its
// first member is), which a walk over pg_query_go's descriptors gives, and
// skips what that walk skips when f returns false.
//
// (dml.go walked with protoreflect's Range before: its order is declared
// order with one pair of adjacent fields swapped per message type,
// depending on a hash of the executable (protobuf-go's detrand), so the
// lists of columns and tables built from it could differ from build to
// build.)
func TestWalkOrder(t *testing.T) {
	trees := treeInputs(t)
	for i, buf := range trees {
		want := &pg_query.ParseResult{}
		if err := proto.Unmarshal(buf, want); err != nil {
			t.Fatal(err)
		}
		got, err := Decode(buf, 10000)
		if err != nil {
			t.Fatal(err)
		}
		for k, raw := range want.Stmts {
			// every message, then every third one refusing to be entered
			for _, every := range []int{0, 3} {
				var ws, gs []string
				declaredWalk(raw.Stmt.ProtoReflect(), func(m protoreflect.Message) bool {
					ws = append(ws, reflect.TypeOf(m.Interface()).Elem().Name())
					return every == 0 || len(ws)%every != 0
				})
				Walk(got.Stmts[k].Stmt, func(m any) bool {
					gs = append(gs, reflect.TypeOf(m).Elem().Name())
					return every == 0 || len(gs)%every != 0
				})
				if !slices.Equal(ws, gs) {
					t.Fatalf("tree %d, statement %d (every %d): in declared order\n%v\nWalk visits\n%v", i, k, every, ws, gs)
				}
			}
		}
	}
}

// declaredWalk calls f on m and the messages under it, field by field in
// the order the descriptor declares them.
func declaredWalk(m protoreflect.Message, f func(protoreflect.Message) bool) {
	if !f(m) {
		return
	}
	fs := m.Descriptor().Fields()
	for i := range fs.Len() {
		fd := fs.Get(i)
		if od := fd.ContainingOneof(); od != nil {
			if od.Fields().Get(0) != fd {
				continue // the oneof is visited at its first member
			}
			fd = m.WhichOneof(od)
			if fd == nil {
				continue
			}
		}
		switch {
		case fd.Message() == nil || !m.Has(fd):
		case fd.IsList():
			l := m.Get(fd).List()
			for i := range l.Len() {
				declaredWalk(l.Get(i).Message(), f)
			}
		default:
			declaredWalk(m.Get(fd).Message(), f)
		}
	}
}

// TestEnumString: an enum value's String is protobuf-go's: its name, or its
// number when the schema does not know it.
func TestEnumString(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{ObjectType_OBJECT_TABLE.String(), pg_query.ObjectType_OBJECT_TABLE.String()},
		{AlterTableType_AT_AddColumn.String(), pg_query.AlterTableType_AT_AddColumn.String()},
		{ObjectType(9999).String(), pg_query.ObjectType(9999).String()},
		{ObjectType(-1).String(), pg_query.ObjectType(-1).String()},
	} {
		if c.got != c.want {
			t.Errorf("String() = %q, protobuf-go says %q", c.got, c.want)
		}
	}
}

// FuzzDecodeTree: on any bytes, Decode does what proto.Unmarshal does
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

// TestGenerated: tree_gen.go and decode_gen.go are what the generator
// writes for the pg_query_go of go.mod (go generate ./dialects/postgres/internal/pgtree).
func TestGenerated(t *testing.T) {
	tree, decode, err := gentree.Generate()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"tree_gen.go": tree, "decode_gen.go": decode}
	if runtime.GOARCH == "amd64" {
		// ctree_gen.go holds amd64's layout, read by a C program compiled
		// against pg_query_go's headers
		ctree, err := gentree.GenerateCTree()
		if err != nil {
			t.Fatal(err)
		}
		files["ctree_gen.go"] = ctree
	}
	for name, want := range files {
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./dialects/postgres/internal/pgtree", name)
		}
	}
}

func BenchmarkDecodeTree(b *testing.B) {
	trees := treeInputs(b)
	b.Run("generated", func(b *testing.B) {
		for b.Loop() {
			for _, buf := range trees {
				if _, err := Decode(buf, 10000); err != nil {
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
