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

// The raw parse (pg_query_internal.h): the parser's own tree, a List of
// RawStmt in a memory context that lives until it is exited, on the same
// thread (libpg_query's memory contexts are thread-local).
typedef struct {
	void *tree;
	char *stderr_buffer;
	MigsafePgQueryError *error;
} MigsafeRawParse;

MigsafeRawParse pg_query_raw_parse(const char *input, int parser_options);
void *pg_query_enter_memory_context(void);
void pg_query_exit_memory_context(void *ctx);
void pg_query_free_error(MigsafePgQueryError *error);

// MigsafeParse is the outcome of either parse.
typedef struct {
	MigsafePgQueryProtobufParseResult pb;
	MigsafeRawParse raw;
	void *ctx;
} MigsafeParse;

// migsafe_run parses input raw (into a memory context of its own) or as
// protobuf.
static void migsafe_run(const char *input, int raw, MigsafeParse *out) {
	if (raw) {
		out->ctx = pg_query_enter_memory_context();
		out->raw = pg_query_raw_parse(input, 0);
	} else {
		out->pb = pg_query_parse_protobuf(input);
	}
}

// migsafe_free_raw frees a raw parse: its memory context, on the thread
// that parsed, and what the parse allocated outside it.
static void migsafe_free_raw(MigsafeParse *p) {
	pg_query_exit_memory_context(p->ctx);
	if (p->raw.error != NULL) {
		pg_query_free_error(p->raw.error);
	}
	free(p->raw.stderr_buffer);
}

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
static __thread int migsafe_raw;
static __thread MigsafeParse *migsafe_out;
static __thread ucontext_t migsafe_caller, migsafe_callee;

static void migsafe_trampoline(void) {
	migsafe_run(migsafe_input, migsafe_raw, migsafe_out);
}

#define MIGSAFE_PAINT 0xA5

// migsafe_parse parses input into *out (raw or as protobuf) with at least
// need bytes of stack.
// It returns 0, or -1 if no stack could be allocated. With paint set the
// parse always runs on a stack of its own, painted first, and *used is the
// most of it the parse touched (for tests).
static int migsafe_parse(const char *input, size_t need, int paint, int raw,
                         MigsafeParse *out, size_t *used) {
	const size_t margin = 256 << 10;
	if (!paint && migsafe_stack_left() > need + margin) {
		migsafe_run(input, raw, out);
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
	migsafe_raw = raw;
	migsafe_out = out;
	int swapped = swapcontext(&migsafe_caller, &migsafe_callee);
	migsafe_out = NULL; // the caller's, not to be kept past the call
	if (swapped != 0) {
		munmap(base, size + page);
		return -1;
	}
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
	"runtime"
	"unsafe"

	pgparser "github.com/pganalyze/pg_query_go/v6/parser"

	"github.com/migsafe/migsafe/dialects/postgres/internal/pgtree"
)

// errNoStack is returned when no stack could be allocated for a parse.
var errNoStack = errors.New("no memory for the parser's stack")

// cParse parses text with libpg_query on a C stack of at least need bytes
// and reads the tree, nesting messages at most depth deep. With paint, it
// also returns how much of the stack the parse used.
//
// Where pgtree can read the parser's C tree in place (pgtree.CReadable),
// it does, on the thread that parsed, before the parse's memory context
// is deleted; else libpg_query writes the tree as protobuf, which pgtree
// decodes. Both give the same tree (TestCTree); reading in place spares
// protobuf-c's two passes over every tree (sizing, then packing) and the
// decoding of its bytes.
func cParse(text []byte, need uintptr, depth int, paint bool) (*pgtree.ParseResult, uintptr, error) {
	return parseWith(text, need, depth, paint, pgtree.CReadable)
}

func parseWith(text []byte, need uintptr, depth int, paint, raw bool) (*pgtree.ParseResult, uintptr, error) {
	// a NUL-terminated copy in C memory, without a Go string between
	// (cgo's C.malloc never returns nil: it crashes when out of memory)
	in := (*C.char)(C.malloc(C.size_t(len(text) + 1)))
	defer C.free(unsafe.Pointer(in))
	cin := unsafe.Slice((*byte)(unsafe.Pointer(in)), len(text)+1)
	copy(cin, text)
	cin[len(text)] = 0
	var res C.MigsafeParse
	var used C.size_t
	var p, r C.int
	if paint {
		p = 1
	}
	if raw {
		// the memory context is the thread's: parse, read and free it
		// there
		r = 1
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	if C.migsafe_parse(in, C.size_t(need), p, r, &res, &used) != 0 {
		return nil, 0, errNoStack
	}
	if raw {
		defer C.migsafe_free_raw(&res)
		if res.raw.error != nil {
			return nil, uintptr(used), parseError(res.raw.error)
		}
		tree, err := pgtree.FromC(res.raw.tree, depth)
		if err != nil {
			return nil, uintptr(used), err
		}
		return tree, uintptr(used), nil
	}
	defer C.pg_query_free_protobuf_parse_result(res.pb)
	if res.pb.error != nil {
		return nil, uintptr(used), parseError(res.pb.error)
	}
	// decoded from C memory, freed after: the decoder copies every
	// string it keeps
	buf := unsafe.Slice((*byte)(unsafe.Pointer(res.pb.parse_tree.data)), int(res.pb.parse_tree.len))
	tree, err := pgtree.Decode(buf, depth)
	if err != nil {
		return nil, uintptr(used), err
	}
	return tree, uintptr(used), nil
}

// parseError is libpg_query's error as pg_query_go gives it.
func parseError(e *C.MigsafePgQueryError) *pgparser.Error {
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
	return perr
}
