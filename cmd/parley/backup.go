package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/parleyhq/parley/sqlite"
)

// runBackup is `parley backup [--db parley.db] FILE`: a consistent copy of
// a SQLite database, made while a server may be running on it
// (sqlite.Backup). PostgreSQL has pg_dump for that (README, Backups).
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("parley backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.flags(fs)
	if err := parseFlags(fs, args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: parley backup [--db parley.db] FILE")
	}
	if isPostgres(c.db) {
		return errors.New("parley backup copies SQLite databases; for PostgreSQL use pg_dump (see the README's Backups)")
	}
	// A database parley has set up, at this build's schema.
	store, _, err := openStore(ctx, c.db, true)
	if err != nil {
		return err
	}
	if err := store.Close(); err != nil {
		return err
	}
	dst := fs.Arg(0)
	if err := sqlite.Backup(ctx, c.db, dst); err != nil {
		return err
	}
	info, err := os.Stat(dst)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s (%d bytes)\n", c.db, dst, info.Size())
	return nil
}
