package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the SQLite driver FerretDB itself uses
)

// keepIDIndexes adds to every collection table in the SQLite directory an index on the
// expression FerretDB's lookup by _id filters on (`_ferretdb_sjson->'$._id'`). The unique
// index FerretDB creates spells the path differently (`->"_id"`), and SQLite only uses an
// index for the very expression it was built on, so without this one every lookup by _id
// scans its table. The index is FerretDB's business nowhere else: it is not in FerretDB's
// metadata, clients never see it, and it goes away with its table.
func keepIDIndexes(ctx context.Context, dir string, every time.Duration) {
	handles := map[string]*sql.DB{}
	defer func() {
		for _, db := range handles {
			_ = db.Close()
		}
	}()

	for {
		files, _ := filepath.Glob(filepath.Join(dir, "*.sqlite"))
		seen := map[string]bool{}
		for _, file := range files {
			seen[file] = true
			db := handles[file]
			if db == nil {
				var err error
				// The same busy timeout as FerretDB: an index build waits for its writes, and they for it.
				db, err = sql.Open("sqlite", "file:"+url.PathEscape(file)+"?_pragma=busy_timeout(10000)")
				if err != nil {
					continue
				}
				db.SetMaxOpenConns(1)
				handles[file] = db
			}
			if err := addIDIndexes(ctx, db); err != nil {
				slog.Debug("id index keeper", "file", file, "error", err)
			}
		}
		for file, db := range handles {
			if !seen[file] {
				_ = db.Close()
				delete(handles, file)
			}
		}

		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

func addIDIndexes(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `
		SELECT t.name FROM sqlite_master t
		WHERE t.type = 'table' AND t.name NOT LIKE '\_ferretdb\_%' ESCAPE '\'
		  AND NOT EXISTS (SELECT 1 FROM sqlite_master i WHERE i.type = 'index' AND i.tbl_name = t.name AND i.name = t.name || '__erin_id')`)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err == nil {
			tables = append(tables, name)
		}
	}
	_ = rows.Close()

	for _, table := range tables {
		quoted := `"` + strings.ReplaceAll(table, `"`, `""`) + `"`
		index := `"` + strings.ReplaceAll(table+"__erin_id", `"`, `""`) + `"`
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s (_ferretdb_sjson->'$._id')`, index, quoted)
		if _, err := db.ExecContext(ctx, q); err != nil && !strings.Contains(err.Error(), "no such table") {
			return err
		}
	}
	return nil
}
