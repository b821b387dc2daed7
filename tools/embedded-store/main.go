// Command embedded-store runs FerretDB (a MongoDB wire-compatible database) in-process,
// keeping its data in SQLite files (default) or PostgreSQL. The ERIN gateway starts it
// when no MONGODB_URI is configured; tests run against it over the wire protocol.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "TCP address to listen on (port 0 picks a free port)")
	handler := flag.String("handler", "sqlite", "storage backend: sqlite or postgresql")
	sqliteDir := flag.String("sqlite-dir", "./data/store", "directory for SQLite files (handler sqlite)")
	postgresURL := flag.String("postgresql-url", "", "PostgreSQL URL of an existing UTF8 database (handler postgresql)")
	flag.Parse()

	cfg := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Handler:  *handler,
	}

	switch *handler {
	case "sqlite":
		dir, err := filepath.Abs(*sqliteDir)
		if err != nil {
			fail("bad -sqlite-dir: %v", err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			fail("cannot create %s: %v", dir, err)
		}
		cfg.SQLiteURL = "file:" + dir + "/"
	case "postgresql":
		if *postgresURL == "" {
			fail("-postgresql-url is required with -handler postgresql")
		}
		cfg.PostgreSQLURL = *postgresURL
	default:
		fail("unknown -handler %q (want sqlite or postgresql)", *handler)
	}

	// FerretDB logs through slog's default logger; keep it on stderr and quiet.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))

	db, err := ferretdb.New(cfg)
	if err != nil {
		fail("cannot start: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	if *handler == "sqlite" {
		dir, _ := filepath.Abs(*sqliteDir)
		go keepIDIndexes(ctx, dir, 2*time.Second)
	}

	// Listening has started in New, so the URI (with the real port) is known now.
	// The parent process reads this one line from stdout.
	fmt.Printf("LISTENING %s\n", db.MongoDBURI())

	db.Run(ctx)
	fmt.Fprintln(os.Stderr, "embedded-store: stopped")
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "embedded-store: "+format+"\n", args...)
	os.Exit(2)
}
