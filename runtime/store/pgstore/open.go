package pgstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/internal/handoff"
)

// DefaultSchema is the PostgreSQL schema a store lives in unless
// Options.Schema names another.
const DefaultSchema = "asyncflow"

// Options configure a PostgreSQL store. The zero value is sensible.
type Options struct {
	// Schema is the PostgreSQL schema that holds the store's tables and
	// functions, created if it does not exist; default "asyncflow". Several
	// stores may share a database under different schemas. A lower-case
	// identifier: letters, digits and underscores.
	Schema string
	// NoGroupCommit applies each submission in its own transaction instead
	// of sharing transactions between concurrent submitters. It exists to
	// measure what group commit buys.
	NoGroupCommit bool
	// MaxBatch bounds the submissions in one transaction; default 4096.
	MaxBatch int
	// MaxConns bounds the connections used for reads, besides the one
	// that commits; default 8.
	MaxConns int32
	// Lease is how long this handle owns its activations without renewing
	// its lease; it renews it every Lease/4. Once it lapses, other handles
	// take over what it owned, and fence it. Default 10s.
	Lease time.Duration
	// Poll is how often the handle looks for work others left (Adopt) and
	// timers others set, besides what their notifications say. Default 1s.
	Poll time.Duration
	// Logger receives diagnostics; default slog.Default().
	Logger *slog.Logger
}

// Store is the store on PostgreSQL.
type Store struct {
	name    string // host:port/database, for errors; never the password
	schema  string
	opts    Options
	log     *slog.Logger
	pool    *pgxpool.Pool   // reads and the store's own short transactions
	connCfg *pgx.ConnConfig // for the committer's connection

	queue    chan *job
	wr       handoff.Writer[*job] // the hold on c
	c        *committer           // the committing session, used with wr held
	inflight atomic.Int64         // submissions queued or being committed
	submitMu sync.RWMutex         // held to queue a submission, and to stop queueing
	stop     chan struct{}
	stopped  chan struct{}
	closing  atomic.Bool
	closeMu  sync.Mutex
	closeErr error
	closed   bool

	commits atomic.Int64 // transactions committed by the committer

	// The handle as a member of the store: its lease and what it hears.
	member  int64
	epoch   atomic.Int64
	build   atomic.Pointer[string]
	events  chan store.Event
	missed  atomic.Bool   // an event was dropped, or the listener reconnected
	kick    chan struct{} // renew the lease now: the handle was found fenced
	bgStop  chan struct{}
	bg      sync.WaitGroup
	fenced  atomic.Bool // its lease was taken over; waiting for Rejoin
	paused  atomic.Bool // tests: the heartbeat does not renew
	deaf    atomic.Bool // tests: notifications are lost
	adoptMu sync.Mutex  // one Adopt at a time

	readOnly bool // OpenReadOnly: no member, no committer, no writes
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Shared = (*Store)(nil)
)

// IsURL reports whether s is a PostgreSQL connection URL
// (postgres://… or postgresql://…) rather than a file path.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,39}$`)

// Open opens the store at the PostgreSQL database url, a postgres:// URL
// (or a key=value connection string) as pgx reads it, creating its schema if
// it does not exist. See the package documentation for what is checked.
func Open(ctx context.Context, url string, opts Options) (_ *Store, err error) {
	s, err := newStore(ctx, url, opts, false)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.pool.Close()
		}
	}()
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	if err := s.join(ctx); err != nil {
		return nil, err
	}
	// The committer's session is named after the member, so that a handle
	// that fences it can end a transaction it left open; a transaction left
	// idle longer than a lease is ended by the server.
	s.connCfg.RuntimeParams["application_name"] = s.memberApp()
	s.connCfg.RuntimeParams["idle_in_transaction_session_timeout"] = strconv.FormatInt(s.opts.Lease.Milliseconds(), 10)
	s.c = &committer{s: s}
	go s.commitLoop()
	s.bg.Add(3)
	go s.heartbeat()
	go s.listen()
	go s.poll()
	return s, nil
}

// newStore applies the defaults to opts and connects the pool; it checks
// and writes nothing. A read-only store's sessions refuse writes.
func newStore(ctx context.Context, url string, opts Options, readOnly bool) (*Store, error) {
	if opts.Schema == "" {
		opts.Schema = DefaultSchema
	}
	if !identifier.MatchString(opts.Schema) {
		return nil, fmt.Errorf("pgstore: schema %q: want a lower-case identifier of letters, digits and underscores", opts.Schema)
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 4096
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 8
	}
	if opts.Lease <= 0 {
		opts.Lease = 10 * time.Second
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx masks the password in the URL it quotes.
		return nil, fmt.Errorf("pgstore: open: %w", err)
	}
	cc := cfg.ConnConfig
	if cc.RuntimeParams == nil {
		cc.RuntimeParams = map[string]string{}
	}
	cc.RuntimeParams["search_path"] = opts.Schema
	// The fence relies on each statement reading with a snapshot of its
	// own (see schema 11), whatever the server's or the role's default.
	cc.RuntimeParams["default_transaction_isolation"] = "read committed"
	if cc.RuntimeParams["application_name"] == "" {
		cc.RuntimeParams["application_name"] = "asyncflow"
	}
	if readOnly {
		cc.RuntimeParams["default_transaction_read_only"] = "on"
	}
	cfg.MaxConns = opts.MaxConns
	s := &Store{
		name:     cc.Host + ":" + strconv.Itoa(int(cc.Port)) + "/" + cc.Database,
		schema:   opts.Schema,
		opts:     opts,
		log:      opts.Logger,
		readOnly: readOnly,
		connCfg:  cc.Copy(),
		queue:    make(chan *job, 4096),
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),
		events:   make(chan store.Event, 4096),
		kick:     make(chan struct{}, 1),
		bgStop:   make(chan struct{}),
	}
	s.build.Store(new(string))
	if opts.Schema != DefaultSchema {
		s.name += " schema " + opts.Schema
	}
	s.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, s.wrap("open", err)
	}
	return s, nil
}

// Schema returns the PostgreSQL schema the store lives in.
func (s *Store) Schema() string { return s.schema }

// wrap names the operation and the store around an error, and marks a
// server's error as one of the store package's where one fits. An error that
// already is one of the store package's errors is wrapped as it is.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if sentinel := classify(err); sentinel != nil && !errors.Is(err, sentinel) {
		return fmt.Errorf("pgstore: %s %s: %w: %w", op, s.name, sentinel, err)
	}
	return fmt.Errorf("pgstore: %s %s: %w", op, s.name, err)
}

// classify says what a failed operation means for trying it again, by the
// server's SQLSTATE: refused for good (a constraint, a value too big), or
// unavailable for now (a full disk, a server shutting down, a lost
// serialization, a connection lost before anything was sent). An error
// after which the outcome of a commit is unknown is neither.
func classify(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "AF001", // finish over a settled outcome
			strings.HasPrefix(pe.Code, "23"), // integrity constraint violation
			pe.Code == "54000",               // program limit exceeded
			pe.Code == "22001":               // string data right truncation
			return store.ErrRefused
		case pe.Code == "AF002":
			return store.ErrCorrupt
		case strings.HasPrefix(pe.Code, "53"), // insufficient resources: disk full, out of memory, too many connections
			strings.HasPrefix(pe.Code, "08"),       // connection exception
			strings.HasPrefix(pe.Code, "57P"),      // the server shutting down or starting
			pe.Code == "58030",                     // I/O error
			pe.Code == "40001", pe.Code == "40P01", // serialization failure, deadlock
			pe.Code == "25006": // read-only transaction: a standby
			return store.ErrUnavailable
		}
		return nil
	}
	if pgconn.SafeToRetry(err) {
		return store.ErrUnavailable // nothing reached the server
	}
	return nil
}

func (s *Store) closedErr() error {
	return fmt.Errorf("pgstore: %s: %w", s.name, store.ErrClosed)
}
