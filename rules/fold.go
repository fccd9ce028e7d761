package rules

import "github.com/migsafe/migsafe/analyzer"

// txFold is a rule's state of each transaction of a file, from its first
// statements up to next.
type txFold[T any] struct {
	next int
	txs  map[int]*T
}

// foldTx brings a rule's state of each transaction of p's file up to the
// statement being checked: step folds each earlier statement that runs in
// a transaction into its transaction's state, once, in order (statements
// are checked in order), so that a long transaction costs time in its
// length, not its square. key tells the rules' states apart.
func foldTx[T any](p *analyzer.Pass, key any, step func(s *analyzer.Statement, st *T)) map[int]*T {
	f := p.File.Memo(key, func() any { return &txFold[T]{txs: map[int]*T{}} }).(*txFold[T])
	for ; f.next < p.Stmt.Index && f.next < len(p.File.Stmts); f.next++ {
		s := p.File.Stmts[f.next]
		if !s.Tx.InTransaction() {
			continue
		}
		st := f.txs[s.Tx.ID]
		if st == nil {
			st = new(T)
			f.txs[s.Tx.ID] = st
		}
		step(s, st)
	}
	return f.txs
}
