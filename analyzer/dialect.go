package analyzer

import "github.com/migsafe/migsafe/analyzer/catalog"

// Dialect is what a SQL dialect adapter implements. Adapters own parsing and
// the physics of each operation on the target version (locks, rewrites,
// algorithms); rules own the policy.
//
// To add a dialect: implement this interface in dialects/<name>, translate
// every statement into change values (untranslated constructs become
// change.Unknown, never nothing), give every change an Effect, and run the
// dialect through the fixture suite under fixtures/.
type Dialect interface {
	// Name is Postgres or MySQL.
	Name() string
	// Target is the server version advice is given for.
	Target() Target
	// Parse splits and parses the byte range rng of src. A statement that
	// does not parse is returned with SyntaxError set; Parse never fails and
	// never panics on any input. Comments are those inside rng.
	Parse(src []byte, rng Span) ([]*Statement, []Comment)
	// Analyze completes the effects of stmt's changes that depend on the
	// schema before it (for example whether a type change is binary
	// coercible, or whether a validated CHECK lets SET NOT NULL skip its
	// scan). cat must not be modified.
	Analyze(stmt *Statement, cat *catalog.Catalog)
}

// Transactions is implemented by a dialect whose transaction semantics are
// not PostgreSQL's. The engine asks it when it assigns each statement its
// transaction; a dialect that does not implement it gets PostgreSQL's
// model (DDL is transactional, several statements sent in one call run as
// one implicit transaction).
type Transactions interface {
	// CommitsImplicitly reports whether the statement commits the open
	// transaction before it runs and runs outside any (MySQL DDL).
	CommitsImplicitly(stmt *Statement) bool
	// MultiStatementTransaction reports whether statements sent to the
	// server in one call share an implicit transaction.
	MultiStatementTransaction() bool
}
