// Package sqlite is parley's embedded storage backend: a single SQLite file
// through the pure-Go modernc.org/sqlite driver, so parley builds with
// CGO_ENABLED=0 and needs nothing installed.
//
// Connection discipline: one writer connection owned by one goroutine, and a
// pool of read-only connections. The file is in WAL mode, so readers never
// wait for the writer, and synchronous=FULL, so a commit is on disk (fsynced)
// before Update returns.
//
// Group commit: an fsync costs about a millisecond, which would cap durable
// writes near 1,000 a second if every request paid for its own. The writer
// goroutine therefore takes every write request that is waiting, runs each
// in its own SAVEPOINT inside one transaction, and commits them with one
// fsync. A request that fails rolls back to its savepoint and leaves the
// others alone; every caller learns the outcome only after the COMMIT.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"slices"
	"sync"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/migrate"
	"github.com/parleyhq/parley/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// maxBatch bounds how many write requests share one commit, so that one
// batch cannot hold the write lock for long.
const maxBatch = 256

// Options tune a Store; the zero value is what parley runs with.
type Options struct {
	// Readers is the size of the read connection pool; 0 means one per
	// CPU (GOMAXPROCS), at least 2. Each connection keeps a page cache of
	// its own, so a few connections with large caches hit more often than
	// many with small ones, and more connections than CPUs add no
	// parallelism for reads that are all CPU.
	Readers int
	// Synchronous overrides PRAGMA synchronous (default FULL). Only
	// benchmarks that want to show the cost of durability set it.
	Synchronous string
	// Existing refuses (with migrate.ErrNotSetUp) a file that does not
	// exist or that no parley has set up, instead of creating parley's
	// tables in it.
	Existing bool
}

// Store is a parley.Store on one SQLite file.
type Store struct {
	path    string
	writeDB *sql.DB // exactly one connection, used only by the writer goroutine
	wconn   *sql.Conn
	readDB  *sql.DB
	reads   *stmtCache
	view    *sqlstore.Tx // what View hands out
	writes  *stmtCache

	mu       sync.RWMutex // guards closed against sends on queue
	closed   bool
	queue    chan *writeRequest
	quit     chan struct{}
	finished chan struct{}

	// commits are the group commit's batch sizes (Stats).
	commits commitCounts
}

// commitBounds are the buckets of the writes-per-commit histogram: powers
// of two up to maxBatch, the most a commit can carry.
var commitBounds = [...]float64{1, 2, 4, 8, 16, 32, 64, 128, maxBatch}

// commitCounts is a histogram of the writes each commit carried, in
// commitBounds' buckets (not cumulative here; Stats sums them). The writer
// adds to it and Stats reads it, under mu: a scrape then never sees a
// commit in a bucket and not yet in the totals.
type commitCounts struct {
	mu              sync.Mutex
	buckets         [len(commitBounds)]uint64
	commits, writes uint64
}

func (c *commitCounts) add(writes int) {
	i, _ := slices.BinarySearch(commitBounds[:], float64(writes))
	c.mu.Lock()
	c.buckets[i]++
	c.commits++
	c.writes += uint64(writes)
	c.mu.Unlock()
}

// Stats reports the two pools (the writer's single connection, always in
// use by the writer goroutine, and the readers) and the group commit's
// batch sizes (parley.StatsReporter).
func (s *Store) Stats() parley.StoreStats {
	pool := func(name string, db *sql.DB) parley.PoolStats {
		st := db.Stats()
		return parley.PoolStats{Name: name, Max: st.MaxOpenConnections, Open: st.OpenConnections, InUse: st.InUse,
			Idle: st.Idle, Waits: st.WaitCount, WaitTime: st.WaitDuration}
	}
	c := &parley.CommitStats{Bounds: slices.Clone(commitBounds[:]), Counts: make([]uint64, len(commitBounds))}
	s.commits.mu.Lock()
	var sum uint64
	for i, n := range s.commits.buckets {
		sum += n
		c.Counts[i] = sum
	}
	c.Commits, c.Writes = s.commits.commits, s.commits.writes
	s.commits.mu.Unlock()
	return parley.StoreStats{Pools: []parley.PoolStats{pool("write", s.writeDB), pool("read", s.readDB)}, Commits: c}
}

type writeRequest struct {
	ctx  context.Context
	fn   func(parley.Tx) error
	done chan error
	// alone runs fn in a transaction of its own with foreign keys off
	// (Reset).
	alone bool
}

// Open opens (creating if needed) the SQLite database at path, applies the
// embedded migrations, and starts the writer. It refuses a database whose
// schema is newer than this build knows.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	syncMode := "FULL"
	if opts.Synchronous != "" {
		syncMode = opts.Synchronous
	}
	readers := opts.Readers
	if readers <= 0 {
		readers = max(2, runtime.GOMAXPROCS(0))
	}

	base := "file:" + (&url.URL{Path: path}).EscapedPath()
	mode := "" // read-write, creating the file if needed
	if opts.Existing {
		mode = "&mode=rw"
	}
	// An 8 MiB page cache per connection (SQLite's default is 2 MiB) keeps
	// the upper levels of the indexes of a million users in memory; peak
	// RSS stays under 70 MiB at that size (see the README's Performance).
	common := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=cache_size(-8192)"
	writeDB, err := sql.Open("sqlite", base+"?"+common+mode+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous("+syncMode+")")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	writeDB.SetMaxOpenConns(1)
	writeDB.SetMaxIdleConns(1)
	writeDB.SetConnMaxLifetime(0)
	wconn, err := writeDB.Conn(ctx)
	if err != nil {
		writeDB.Close()
		if opts.Existing {
			if _, statErr := os.Stat(path); errors.Is(statErr, os.ErrNotExist) {
				return nil, fmt.Errorf("sqlite: %s: %w", path, migrate.ErrNotSetUp)
			}
		}
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s := &Store{path: path, writeDB: writeDB, wconn: wconn}
	if err := s.migrate(ctx, opts.Existing); err != nil {
		wconn.Close()
		writeDB.Close()
		return nil, err
	}

	readDB, err := sql.Open("sqlite", base+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		wconn.Close()
		writeDB.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	readDB.SetMaxOpenConns(readers)
	readDB.SetMaxIdleConns(readers)
	readDB.SetConnMaxLifetime(0)

	s.readDB = readDB
	s.reads = newStmtCache(readDB)
	// A read-only Tx holds nothing of one call, so every View shares one.
	s.view = sqlstore.New(conn{st: s.reads}, dialect, false)
	s.writes = newStmtCache(wconn)
	s.queue = make(chan *writeRequest, maxBatch)
	s.quit = make(chan struct{})
	s.finished = make(chan struct{})
	go s.writer()
	return s, nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// View runs fn on the read pool, outside any transaction.
func (s *Store) View(ctx context.Context, fn func(parley.Tx) error) error {
	return fn(s.view)
}

// Update queues fn for the writer and waits until the batch holding it has
// committed (or fn failed). Once queued, fn's outcome is always waited for,
// even if ctx is cancelled meanwhile, so a caller never abandons a write that
// may yet commit.
func (s *Store) Update(ctx context.Context, fn func(parley.Tx) error) error {
	return s.enqueue(&writeRequest{ctx: ctx, fn: fn, done: make(chan error, 1)})
}

// Reset runs ResetData and fn alone, in one transaction, with foreign
// keys off: then each DELETE FROM is SQLite's truncation, which frees the
// table's pages without visiting its rows (checking the keys of 100,000
// messages took 270 ms, truncating them a few). The tables go in an order
// that would satisfy the keys anyway, and fn writes only rows that
// satisfy them. Being the writer's only transaction, it runs wholly
// before or after every other write, and reads see it whole (WAL).
func (s *Store) Reset(ctx context.Context, keepKeys bool, fn func(parley.Tx) error) error {
	return s.enqueue(&writeRequest{ctx: ctx, alone: true, done: make(chan error, 1), fn: sqlstore.Reset(ctx, keepKeys, fn)})
}

func (s *Store) enqueue(req *writeRequest) error {
	ctx := req.ctx
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return parley.ErrClosed
	}
	select {
	case s.queue <- req:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	return <-req.done
}

// Close stops accepting writes, finishes the queued ones, and closes the
// database.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.quit)
	<-s.finished
	s.reads.close()
	s.writes.close()
	err := errors.Join(s.readDB.Close(), s.wconn.Close())
	return errors.Join(err, s.writeDB.Close())
}

func (s *Store) writer() {
	defer close(s.finished)
	batch := make([]*writeRequest, 0, maxBatch)
	for {
		select {
		case req := <-s.queue:
			// A request that must run alone ends the batch: what was
			// queued before it commits first, then it, in queue order.
			batch = batch[:0]
			alone := req
			if !req.alone {
				batch, alone = append(batch, req), nil
			}
		drain:
			for alone == nil && len(batch) < maxBatch {
				select {
				case r := <-s.queue:
					if r.alone {
						alone = r
					} else {
						batch = append(batch, r)
					}
				default:
					break drain
				}
			}
			if len(batch) > 0 {
				s.commit(batch)
			}
			if alone != nil {
				s.commitAlone(alone)
			}
		case <-s.quit:
			// Close holds no sender any more: everything that will ever be
			// queued is in the channel now.
			for {
				select {
				case req := <-s.queue:
					if req.alone {
						s.commitAlone(req)
					} else {
						s.commit([]*writeRequest{req})
					}
				default:
					return
				}
			}
		}
	}
}

// commit runs one batch in one transaction and answers every request.
func (s *Store) commit(batch []*writeRequest) {
	// The writer's statements must not be interrupted by one caller's
	// cancellation half-way through a shared transaction.
	ctx := context.Background()
	results := make([]error, len(batch))
	fail := func(err error) {
		for i, req := range batch {
			if results[i] == nil {
				results[i] = err
			}
			req.done <- results[i]
		}
	}
	if err := s.control(ctx, "BEGIN IMMEDIATE"); err != nil {
		fail(fmt.Errorf("sqlite: begin: %w", err))
		return
	}
	ran := 0
	for i, req := range batch {
		if err := req.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if err := s.control(ctx, "SAVEPOINT w"); err != nil {
			s.rollback(ctx)
			fail(fmt.Errorf("sqlite: savepoint: %w", err))
			return
		}
		results[i] = runFn(req.fn, sqlstore.New(conn{st: s.writes, fixed: ctx}, dialect, true))
		if results[i] != nil {
			if err := s.control(ctx, "ROLLBACK TO w"); err != nil {
				// SQLite rolls a whole transaction back by itself after
				// some errors (disk full, I/O): nothing of the batch
				// survives, so nobody may be told it committed.
				s.rollback(ctx)
				fail(fmt.Errorf("sqlite: rollback to savepoint: %w", err))
				return
			}
		} else {
			ran++
		}
		if err := s.control(ctx, "RELEASE w"); err != nil {
			s.rollback(ctx)
			fail(fmt.Errorf("sqlite: release savepoint: %w", err))
			return
		}
	}
	if ran == 0 {
		s.rollback(ctx)
	} else if err := s.control(ctx, "COMMIT"); err != nil {
		s.rollback(ctx)
		commitErr := fmt.Errorf("sqlite: commit: %w", err)
		for i := range results {
			if results[i] == nil {
				results[i] = commitErr
			}
		}
	} else {
		s.commits.add(ran)
	}
	for i, req := range batch {
		req.done <- results[i]
	}
}

// commitAlone commits req in a transaction of its own, with foreign keys
// off (PRAGMA foreign_keys is a no-op inside a transaction, so it is set
// around it) and on again after.
func (s *Store) commitAlone(req *writeRequest) {
	ctx := context.Background()
	if _, err := s.wconn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		req.done <- fmt.Errorf("sqlite: foreign keys off: %w", err)
		return
	}
	s.commit([]*writeRequest{req})
	if _, err := s.wconn.ExecContext(ctx, "PRAGMA foreign_keys = ON"); err != nil {
		// Every later write would go unchecked: better none at all.
		panic(fmt.Sprintf("sqlite: foreign keys back on: %v", err))
	}
}

// control runs a transaction control statement (BEGIN, SAVEPOINT, …)
// on the writer's connection, prepared once: the writer runs two of them
// for every write and SQLite's parser is not free.
func (s *Store) control(ctx context.Context, query string) error {
	st, err := s.writes.get(ctx, query)
	if err == nil {
		_, err = st.ExecContext(ctx)
	}
	return err
}

func (s *Store) rollback(ctx context.Context) {
	// An error here means no transaction is open any more, which is the
	// state rollback wants.
	_, _ = s.wconn.ExecContext(ctx, "ROLLBACK")
}

// runFn calls fn, turning a panic into an error so that one bad request
// cannot take the writer (and every other caller) down with it.
func runFn(fn func(parley.Tx) error, t parley.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlite: panic in write: %v", p)
		}
	}()
	return fn(t)
}

// migrate applies the embedded migrations in order, each in its own
// immediate transaction, which also serialises processes starting at once.
func (s *Store) migrate(ctx context.Context, existing bool) error {
	migs, err := migrate.Load(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if existing {
		var applied int
		err := s.wconn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master
			WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&applied)
		if err == nil && applied > 0 {
			err = s.wconn.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&applied)
		}
		if err != nil {
			return fmt.Errorf("sqlite: %s: %w", s.path, err)
		}
		if applied == 0 {
			return fmt.Errorf("sqlite: %s: %w", s.path, migrate.ErrNotSetUp)
		}
	}
	if _, err := s.wconn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrations table: %w", err)
	}
	known := migs[len(migs)-1].Version
	for _, m := range migs {
		if err := s.applyMigration(ctx, m, known); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) applyMigration(ctx context.Context, m migrate.Migration, known int) (err error) {
	if _, err := s.wconn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlite: migration %d: %w", m.Version, err)
	}
	defer func() {
		if err != nil {
			s.rollback(ctx)
		}
	}()
	var current int
	if err := s.wconn.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return fmt.Errorf("sqlite: schema version: %w", err)
	}
	if current > known {
		return fmt.Errorf("sqlite: %w", migrate.Newer(current, known))
	}
	if current >= m.Version {
		_, err := s.wconn.ExecContext(ctx, "COMMIT")
		return err
	}
	if _, err := s.wconn.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("sqlite: migration %d (%s): %w", m.Version, m.Name, err)
	}
	if _, err := s.wconn.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, unixepoch())", m.Version); err != nil {
		return fmt.Errorf("sqlite: migration %d: %w", m.Version, err)
	}
	if _, err := s.wconn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("sqlite: migration %d: commit: %w", m.Version, err)
	}
	return nil
}

// preparer is what a stmtCache prepares on: the read pool or the writer's
// connection.
type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// stmtCache keeps one prepared statement per query text, so each request
// skips SQLite's parse and plan.
type stmtCache struct {
	on preparer
	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

func newStmtCache(on preparer) *stmtCache {
	return &stmtCache{on: on, m: make(map[string]*sql.Stmt)}
}

func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.RLock()
	st, ok := c.m[query]
	c.mu.RUnlock()
	if ok {
		return st, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st, nil
	}
	st, err := c.on.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	c.m[query] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	clear(c.m)
}
