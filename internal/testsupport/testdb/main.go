// Command itemcrypto-testdb runs a MongoDB-wire-compatible test server:
// FerretDB v1, embedded, with its SQLite backend in a temporary directory.
//
// It lives in its own Go module so that the library's go.mod never carries
// FerretDB's dependencies. It is built and started by scripts/ferretdb.sh;
// tests find it through ITEMCRYPTO_MONGODB_URI.
//
//	itemcrypto-testdb [-listen 127.0.0.1:0] [-uri-file PATH] [-parent-pid PID] [-log-level warn]
//
// Once the server accepts connections it prints one line
//
//	URI mongodb://127.0.0.1:<port>/
//
// to stdout (and writes the bare URI to -uri-file, if set). It runs until
// SIGTERM or SIGINT (or until the -parent-pid process is gone), then shuts
// down and removes its data directory. Logs go to stderr.
//
// Build with -tags ferretdb_no_postgresql to leave out the PostgreSQL backend
// (smaller, faster build); scripts/ferretdb.sh does. Keep it a release build
// (no -race, no -tags ferretdb_debug): those make a FerretDB debug build,
// which behaves differently (see FerretDB's build/version package), and
// internal/mongotest pins down the release behaviour — e.g. a Decimal128
// value makes v1 panic, which a release build confines to that connection.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "itemcrypto-testdb:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:0", "TCP `address` to listen on (port 0: pick a free port)")
	uriFile := flag.String("uri-file", "", "write the MongoDB URI to this `file` once ready")
	logLevel := flag.String("log-level", "warn", "FerretDB log `level`: debug, info, warn, error")
	parentPID := flag.Int("parent-pid", 0, "exit when the process with this `pid` is gone (0: do not watch)")
	flag.Parse()
	if flag.NArg() != 0 {
		return fmt.Errorf("unexpected arguments: %q", flag.Args())
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	dir, err := os.MkdirTemp("", "itemcrypto-testdb-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// Port 0 works: FerretDB binds it and MongoDBURI reports the real port.
	// Check the syntax here so a bad -listen value fails with a clear message.
	if _, _, err := net.SplitHostPort(*listen); err != nil {
		return fmt.Errorf("-listen %q: %w", *listen, err)
	}

	// SQLiteURL must be a "file:" URI naming a directory, with a trailing slash.
	sqliteURL := "file:" + filepath.ToSlash(dir) + "/"
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		return fmt.Errorf("ferretdb.New: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *parentPID > 0 {
		ctx = watchParent(ctx, *parentPID, logger)
	}

	// ferretdb.New has already bound the TCP listener (a busy port fails
	// there), so the URI, with the real port, is final and the kernel accepts
	// connections from now on; Run serves them.
	uri := f.MongoDBURI()

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	if *uriFile != "" {
		// Write atomically so a reader never sees a partial URI.
		tmp := *uriFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(uri+"\n"), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, *uriFile); err != nil {
			return err
		}
	}
	fmt.Printf("URI %s\n", uri)
	_ = os.Stdout.Sync()

	select {
	case err := <-done:
		if ctx.Err() == nil {
			return fmt.Errorf("FerretDB stopped unexpectedly: %v", err)
		}
		return err
	case <-ctx.Done():
	}

	select {
	case err := <-done:
		return err
	case <-time.After(15 * time.Second):
		return errors.New("FerretDB did not shut down within 15s")
	}
}

// watchParent returns a context that is canceled when process pid is gone,
// so a server whose test script died (kill -9, no trap) does not linger.
func watchParent(ctx context.Context, pid int, logger *slog.Logger) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
					logger.Warn("parent process is gone; shutting down", "pid", pid)
					cancel()
					return
				}
			}
		}
	}()
	return ctx
}
