package migrate

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/golang-migrate/migrate/v4/database"
	"github.com/jackc/pgx/v5/pgconn"
)

// dbError digs the server's error out of golang-migrate's wrapping:
// database.Error has no Unwrap, and the pgx driver returns it by value.
func dbError(err error) (de *database.Error, pg *pgconn.PgError, my *mysql.MySQLError) {
	var v database.Error
	var p *database.Error
	switch {
	case errors.As(err, &v):
		de = &v
	case errors.As(err, &p):
		de = p
	}
	inner := err
	if de != nil && de.OrigErr != nil {
		inner = de.OrigErr
	}
	errors.As(inner, &pg)
	errors.As(inner, &my)
	return de, pg, my
}

// pgDetail keeps golang-migrate's error but makes sure the server's
// message is in it.
func pgDetail(err error) error {
	de, pg, _ := dbError(err)
	if de != nil && pg != nil && !strings.Contains(de.Error(), pg.Message) {
		return fmt.Errorf("%w: %s (SQLSTATE %s)", err, pg.Message, pg.Code)
	}
	return err
}

// missingTable reports an undefined table error (42P01, MySQL 1146).
func missingTable(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == "42P01" {
		return true
	}
	var my *mysql.MySQLError
	return errors.As(err, &my) && my.Number == 1146
}

// transientStates are the PostgreSQL failures worth retrying: the
// statement lost a race, not an argument.
var transientStates = map[string]string{
	"55P03": "lock_not_available",
	"57014": "query_canceled",
	"40P01": "deadlock_detected",
	"40001": "serialization_failure",
}

// failure is a classified migration failure.
type failure struct {
	state     string // SQLSTATE or MySQL error number
	transient bool
	timeout   bool // statement timeout
	message   string
	statement string // the statement golang-migrate reports, when it does
	line      uint
}

func classify(err error, kind string, cancelledByUs bool) failure {
	de, pg, my := dbError(err)
	f := failure{message: err.Error()}
	if de != nil {
		f.statement = strings.TrimSpace(string(de.Query))
		f.line = de.Line
	}
	switch {
	case pg != nil:
		f.state = pg.Code
		if pg.Position == 0 {
			f.line = 0 // golang-migrate computes line 1 from no position
		}
		f.message = pg.Message
		if pg.Detail != "" {
			f.message += " (" + pg.Detail + ")"
		}
		_, f.transient = transientStates[pg.Code]
		if pg.Code == "57014" && strings.Contains(pg.Message, "statement timeout") {
			// it would time out again
			f.transient, f.timeout = false, true
		}
		if pg.Code == "57014" && cancelledByUs {
			f.transient = false
		}
	case my != nil:
		f.state = fmt.Sprintf("MySQL error %d", my.Number)
		f.message = my.Message
		// 1969: MariaDB max_statement_time; 3024: MySQL max_execution_time
		f.timeout = my.Number == 1969 || my.Number == 3024
	}
	if kind == MySQL {
		// DDL commits implicitly: a failure may be partial, never retried
		f.transient = false
	}
	return f
}

func (f failure) describe() string {
	s := f.message
	if f.state != "" && !strings.Contains(s, f.state) {
		s += " [" + f.state + "]"
	}
	return s
}

// failedOnServer reports whether the server answered the migration with
// an error (so its transaction ended), rather than the connection failing.
func failedOnServer(err error) bool {
	_, pg, my := dbError(err)
	return pg != nil || my != nil
}
