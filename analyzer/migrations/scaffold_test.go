package migrations

import (
	"strings"
	"testing"
	"time"
)

func TestFilesFollowTheLayout(t *testing.T) {
	now := time.Date(2024, 6, 10, 12, 0, 0, 0, time.UTC)
	ms := []NewMigration{{Title: "add_x", Up: "UP;", Down: "DOWN;"}, {Title: "fill_x", Up: "FILL;", Down: "SELECT 1;", NoTx: true}}
	for _, c := range []struct {
		srcs []Source
		want string
	}{
		{srcs("db/000009_a.up.sql", "", "db/000009_a.down.sql", ""), "000010_add_x.up.sql 000010_add_x.down.sql 000011_fill_x.up.sql 000011_fill_x.down.sql"},
		{srcs("20230101000000_a.up.sql", ""), "20240610120000_add_x.up.sql 20240610120000_add_x.down.sql 20240610120001_fill_x.up.sql 20240610120001_fill_x.down.sql"},
		{srcs("00003_a.sql", "-- +goose Up\nSELECT 1;\n"), "00004_add_x.sql 00005_fill_x.sql"},
		{srcs("20230101000000_a.sql", "-- migrate:up\nSELECT 1;\n"), "20240610120000_add_x.sql 20240610120001_fill_x.sql"},
		{srcs("V1_5_2__a.sql", ""), "V1_5_3__add_x.sql U1_5_3__add_x.sql V1_5_4__fill_x.sql U1_5_4__fill_x.sql V1_5_4__fill_x.sql.conf"},
		{srcs("20200101000000000000_a.postgres.up.sql", ""), "20240610120000000000_add_x.postgres.up.sql 20240610120000000000_add_x.postgres.down.sql 20240610120001000000_fill_x.postgres.autocommit.up.sql 20240610120001000000_fill_x.postgres.autocommit.down.sql"},
		{srcs("010_a.sql", ""), "011_add_x.sql 012_fill_x.sql"},
	} {
		set := Build(c.srcs, Options{})
		var names []string
		for _, f := range set.Files(ms, now) {
			names = append(names, f.Name)
		}
		if got := strings.Join(names, " "); got != c.want {
			t.Errorf("%s: got %s, want %s", set.Layout, got, c.want)
		}
	}
	// goose and dbmate: both sections in one file, and no transaction
	// for the backfill
	goose := Build(srcs("00003_a.sql", "-- +goose Up\nSELECT 1;\n"), Options{}).Files(ms, now)
	if !strings.HasPrefix(goose[1].Content, "-- +goose NO TRANSACTION\n-- +goose Up\nFILL;\n-- +goose Down\nSELECT 1;") {
		t.Errorf("goose file:\n%s", goose[1].Content)
	}
	dbmate := Build(srcs("20230101000000_a.sql", "-- migrate:up\nSELECT 1;\n"), Options{}).Files(ms, now)
	if !strings.HasPrefix(dbmate[1].Content, "-- migrate:up transaction:false\nFILL;\n-- migrate:down transaction:false\nSELECT 1;") {
		t.Errorf("dbmate file:\n%s", dbmate[1].Content)
	}
	// what is written is read back as the same layout, in order
	written := goose
	var again []Source
	again = append(again, srcs("00003_a.sql", "-- +goose Up\nSELECT 1;\n")...)
	for _, f := range written {
		again = append(again, Source{Path: f.Name, Src: []byte(f.Content)})
	}
	back := Build(again, Options{})
	if back.Layout != Goose || len(back.Migrations) != 3 || back.Migrations[2].Up[0].TxMode != 0 || len(back.Migrations[2].Down) != 1 {
		t.Errorf("read back: %s", describe(back))
	}
}
