package migrate

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

const secret = "p@ss:w/rd?#%&=+ x!"

// The password never appears in errors, events, history rows, status or
// repair reports, in any of its spellings.
func TestPasswordNeverShown(t *testing.T) {
	engines(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		d := newDB(t, kind)
		user := "postgres" // trust authentication: any password is accepted and sent
		if kind == MySQL {
			user = "sec"
			d.exec(t, "CREATE USER IF NOT EXISTS 'sec'@'127.0.0.1' IDENTIFIED BY '"+strings.ReplaceAll(secret, "'", "''")+"'")
			d.exec(t, "GRANT ALL PRIVILEGES ON *.* TO 'sec'@'127.0.0.1'")
		}
		u, _ := url.Parse(d.url)
		u.User = url.UserPassword(user, secret)
		raw := u.String()
		userinfo := raw[strings.Index(raw, "://")+3 : strings.LastIndex(raw, "@")]
		spellings := []string{secret, url.QueryEscape(secret), url.PathEscape(secret), strings.TrimPrefix(userinfo, user+":")}
		var seen []string
		check := func(what string, s string) {
			t.Helper()
			seen = append(seen, what)
			for _, sp := range spellings {
				if strings.Contains(s, sp) {
					t.Errorf("%s shows the password (%q):\n%s", what, sp, s)
				}
			}
		}
		dir := writeDir(t, map[string]string{
			"1_a.up.sql":   "CREATE TABLE a (id int);",
			"1_a.down.sql": "DROP TABLE a;",
			"2_b.up.sql":   "CREATE TABLE b (id int); SELECT no_such_column FROM a;",
			"2_b.down.sql": "DROP TABLE b;",
		})
		var events strings.Builder
		r := open(t, raw, dir, func(o *Options) {
			o.Events = func(e Event) { fmt.Fprintf(&events, "%+v\n", e) }
		})
		check("Database()", r.Database())
		res, err := r.Up(ctx, -1, nil)
		if err == nil {
			t.Fatal("want a failure")
		}
		check("up error", err.Error())
		b, _ := json.Marshal(res)
		check("result", string(b))
		st, err := r.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b, _ = json.Marshal(st)
		check("status", string(b))
		rows, _ := r.History(ctx, 0)
		b, _ = json.Marshal(rows)
		check("history", string(b))
		ins, err := r.Repair(ctx, false)
		if err != nil {
			check("repair error", err.Error())
		} else {
			check("repair", ins.Text())
		}
		check("events", events.String())
		// a lock held by another run
		other := open(t, raw, dir)
		if err := other.acquire(ctx); err != nil && !strings.Contains(err.Error(), "dirty") {
			t.Fatal(err)
		}
		r2 := open(t, raw, dir, func(o *Options) { o.LockWait = 100 * time.Millisecond })
		if _, err := r2.Up(ctx, -1, nil); err != nil {
			check("lock error", err.Error())
		}
		other.release()
		// a server that is not there
		bad, _ := url.Parse(raw)
		bad.Host = "127.0.0.1:1"
		src, _ := LoadDir(dir)
		if _, err := Open(ctx, Options{DatabaseURL: bad.String(), Source: src}); err == nil {
			t.Fatal("connected to port 1")
		} else {
			check("connection error", err.Error())
		}
		// a URL that does not parse
		if _, err := Open(ctx, Options{DatabaseURL: "postgres://u:" + secret + "@h:5432/db", Source: src}); err != nil {
			check("parse error", err.Error())
		}
		if len(seen) < 9 {
			t.Fatalf("checked only %v", seen)
		}
	})
}
