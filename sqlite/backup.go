package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
)

// Backup writes a consistent copy of the database at path to dst with
// SQLite's VACUUM INTO, on a connection of its own: it reads one snapshot
// (a read transaction, which in WAL mode holds back no writer), so a
// server may run on the database meanwhile. The copy is compact, and a
// database parley opens as it would the original. dst must not exist.
func Backup(ctx context.Context, path, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("sqlite: backup: %s exists already", dst)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		os.Remove(dst) // nothing half-written is left for a restore to find
		return fmt.Errorf("sqlite: backup %s into %s: %w", path, dst, err)
	}
	return nil
}
