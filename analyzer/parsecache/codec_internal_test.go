package parsecache

import (
	"strings"
	"testing"
)

// TestEncodeUnexported: a struct with an unexported field cannot be read
// back, so encoding one fails, naming the field, also the second time,
// when the answer for its type is remembered.
func TestEncodeUnexported(t *testing.T) {
	type inner struct {
		A int
		b string
	}
	type outer struct {
		Name  string
		Inner inner
	}
	for range 2 {
		_, err := encode(nil, &outer{Name: "x", Inner: inner{A: 1, b: "y"}})
		if err == nil || !strings.Contains(err.Error(), "unexported field parsecache.inner.b") {
			t.Fatalf("encode: %v, want the unexported field named", err)
		}
	}
	type ok struct {
		A int
		B []string
	}
	for range 2 {
		if _, err := encode(nil, &ok{A: 1, B: []string{"z"}}); err != nil {
			t.Fatalf("encode: %v", err)
		}
	}
}
