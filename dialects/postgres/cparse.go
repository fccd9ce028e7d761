//go:build linux

package postgres

/*
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

// The parts of libpg_query's C API (pgtree.h) migsafe calls. The symbols
// are linked from github.com/pganalyze/pg_query_go/v6/parser, which this
// package imports.
typedef struct {
	char *message;
	char *funcname;
	char *filename;
	int lineno;
	int cursorpos;
	char *context;
} MigsafePgQueryError;

typedef struct {
	size_t len;
	char *data;
} MigsafePgQueryProtobuf;

typedef struct {
	MigsafePgQueryProtobuf parse_tree;
	char *stderr_buffer;
	MigsafePgQueryError *error;
} MigsafePgQueryProtobufParseResult;

MigsafePgQueryProtobufParseResult pg_query_parse_protobuf(const char *input);
void pg_query_free_protobuf_parse_result(MigsafePgQueryProtobufParseResult result);

// The parse runs on the calling thread when it has room enough on its
// stack, else on a stack of its own (makecontext/swapcontext on the same
// thread, so libpg_query's thread-local state is the same). libpg_query's
// own stack-depth check is disabled (its stack base is never set), so the
// size is the caller's estimate.

static __thread char *migsafe_stack_lo;

// migsafe_stack_left returns the bytes left on the calling thread's stack
// (0 if unknown), trusting at most 64 MB of it.
static size_t migsafe_stack_left(void) {
	char here;
	if (migsafe_stack_lo == NULL) {
		pthread_attr_t a;
		void *addr;
		size_t size;
		if (pthread_getattr_np(pthread_self(), &a) != 0) {
			return 0;
		}
		if (pthread_attr_getstack(&a, &addr, &size) != 0) {
			pthread_attr_destroy(&a);
			return 0;
		}
		pthread_attr_destroy(&a);
		migsafe_stack_lo = (char *)addr;
	}
	if (&here <= migsafe_stack_lo) {
		return 0;
	}
	size_t left = (size_t)(&here - migsafe_stack_lo);
	if (left > ((size_t)64 << 20)) {
		left = (size_t)64 << 20;
	}
	return left;
}

static __thread const char *migsafe_input;
static __thread MigsafePgQueryProtobufParseResult migsafe_result;
static __thread ucontext_t migsafe_caller, migsafe_callee;

static void migsafe_trampoline(void) {
	migsafe_result = pg_query_parse_protobuf(migsafe_input);
}

#define MIGSAFE_PAINT 0xA5

// migsafe_parse parses input into *out with at least need bytes of stack.
// It returns 0, or -1 if no stack could be allocated. With paint set the
// parse always runs on a stack of its own, painted first, and *used is the
// most of it the parse touched (for tests).
static int migsafe_parse(const char *input, size_t need, int paint,
                         MigsafePgQueryProtobufParseResult *out, size_t *used) {
	const size_t margin = 256 << 10;
	if (!paint && migsafe_stack_left() > need + margin) {
		*out = pg_query_parse_protobuf(input);
		return 0;
	}
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t size = need + margin;
	size = (size + page - 1) / page * page;
	char *base = mmap(NULL, size + page, PROT_READ | PROT_WRITE,
	                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (base == MAP_FAILED) {
		return -1;
	}
	// a guard page below the stack: an overflow faults instead of
	// writing over other memory
	mprotect(base, page, PROT_NONE);
	char *lo = base + page;
	if (paint) {
		memset(lo, MIGSAFE_PAINT, size);
	}
	if (getcontext(&migsafe_callee) != 0) {
		munmap(base, size + page);
		return -1;
	}
	migsafe_callee.uc_stack.ss_sp = lo;
	migsafe_callee.uc_stack.ss_size = size;
	migsafe_callee.uc_link = &migsafe_caller;
	makecontext(&migsafe_callee, migsafe_trampoline, 0);
	migsafe_input = input;
	if (swapcontext(&migsafe_caller, &migsafe_callee) != 0) {
		munmap(base, size + page);
		return -1;
	}
	*out = migsafe_result;
	if (paint) {
		size_t i = 0;
		while (i < size && (unsigned char)lo[i] == MIGSAFE_PAINT) {
			i++;
		}
		*used = size - i;
	}
	munmap(base, size + page);
	return 0;
}
*/
import "C"

import (
	"errors"
	"unsafe"

	pgparser "github.com/pganalyze/pg_query_go/v6/parser"

	"github.com/migsafe/migsafe/dialects/postgres/internal/pgtree"
)

// errNoStack is returned when no stack could be allocated for a parse.
var errNoStack = errors.New("no memory for the parser's stack")

// cParse parses text with libpg_query on a C stack of at least need bytes
// and decodes the tree with a protobuf recursion limit of depth levels.
// With paint, it also returns how much of the stack the parse used.
func cParse(text []byte, need uintptr, depth int, paint bool) (*pgtree.ParseResult, uintptr, error) {
	// a NUL-terminated copy in C memory, without a Go string between
	// (cgo's C.malloc never returns nil: it crashes when out of memory)
	in := (*C.char)(C.malloc(C.size_t(len(text) + 1)))
	defer C.free(unsafe.Pointer(in))
	cin := unsafe.Slice((*byte)(unsafe.Pointer(in)), len(text)+1)
	copy(cin, text)
	cin[len(text)] = 0
	var res C.MigsafePgQueryProtobufParseResult
	var used C.size_t
	p := C.int(0)
	if paint {
		p = 1
	}
	if C.migsafe_parse(in, C.size_t(need), p, &res, &used) != 0 {
		return nil, 0, errNoStack
	}
	defer C.pg_query_free_protobuf_parse_result(res)
	if res.error != nil {
		e := res.error
		perr := &pgparser.Error{
			Message:   C.GoString(e.message),
			Lineno:    int(e.lineno),
			Cursorpos: int(e.cursorpos),
		}
		if e.funcname != nil {
			perr.Funcname = C.GoString(e.funcname)
		}
		if e.filename != nil {
			perr.Filename = C.GoString(e.filename)
		}
		return nil, uintptr(used), perr
	}
	// decoded from C memory, freed after: the decoder copies every
	// string it keeps
	buf := unsafe.Slice((*byte)(unsafe.Pointer(res.parse_tree.data)), int(res.parse_tree.len))
	tree, err := pgtree.Decode(buf, depth)
	if err != nil {
		return nil, uintptr(used), err
	}
	return tree, uintptr(used), nil
}
