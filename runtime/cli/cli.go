package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/adminhttp"
	"github.com/asyncflow-go/asyncflow/runtime/store"
	"github.com/asyncflow-go/asyncflow/runtime/store/sqlitestore"
	"github.com/asyncflow-go/asyncflow/runtime/verify"
)

// Exit codes: a script can rely on them.
const (
	exitOK           = 0 // done
	exitFailed       = 1 // any other failure
	exitUsage        = 2 // unknown command, bad flags or arguments
	exitNotFound     = 3 // no activation has that id, outcome vow or start key
	exitRefused      = 4 // its state does not allow it, the key names several, it needs the running process (or the one that holds it) or flows, or backup's file exists
	exitNotStore     = 5 // not an asyncflow store, damaged, or a schema this build cannot read
	exitInUse        = 6 // a running process holds the store: use -addr
	exitUnauthorized = 7 // the admin handler wants its token, or has none for mutations
	exitUnreachable  = 8 // nothing answers at -addr
	exitStranded     = 9 // verify: the build does not replay every unfinished activation
)

const usage = `NAME: operate flows — on a store file no process holds, or on a
running process through the admin handler its host mounts.

Usage:
  NAME [flags] command [flags] [arguments]

Where:
  -store PATH     a store file (or a postgres:// URL); $ASYNCFLOW_STORE
  -addr URL       a running process's admin handler, such as
                  http://127.0.0.1:8080/asyncflow/; $ASYNCFLOW_ADDR
  -token TOKEN    the handler's token; $ASYNCFLOW_TOKEN
  -json           answer in JSON, for scripts (errors too, on stderr)
  -timeout D      give up after D (default: none)

Commands:
  list [-state S] [-flow F] [-build B] [-since T] [-until T] [-limit N] [-after CURSOR] [-all]
                  activations, newest first; S is running, suspended, failed or done;
                  T is a time (2026-12-01, RFC 3339) or a duration ago (24h, 7d)
  show REF        one activation — REF is its id, its outcome vow or its start key —
                  with its waits, times, builds and, if it is stuck, why
  log REF         its timeline: step, kind, when, the build that wrote it, what
  failures        every failed activation, with its diagnostic
  unregistered    unfinished activations of flows the running build does not
                  register (needs -addr)
  retry REF       replay a failed activation now (needs -addr)
  wake REF        replay a suspended one now, to see if this build still
                  reproduces its log (needs -addr)
  cancel [-reason R] REF
                  request an activation's cancellation: its flow is told (it
                  awaits flow.Cancellation), undoes what it did and returns;
                  its unfinished child flows are told too; a flow that does
                  not look runs on
  terminate REF   give an activation up at once: its outcome is rejected as
                  terminated, and it runs nothing more, no compensation
  purge -before T | -older-than D
                  delete done activations finished before T (or longer ago than D)
  backup FILE     write a consistent copy of the store to FILE, a new file, while
                  it runs (with -addr) or from a file no process holds: the
                  snapshot verify replays
  verify [-workers N] [SNAPSHOT]
                  the replay gate: replay every unfinished activation of SNAPSHOT
                  against the flows this build of the command registersVERIFYFLOWS,
                  and say which the build would strand and why; with -addr and
                  no SNAPSHOT, the running process's store against its own build
  help            this

Exit codes:
  0  done
  1  failed (any other error)
  2  usage: unknown command, bad flags or arguments
  3  not found: no activation has that id, outcome vow or start key
  4  refused: its state does not allow it (retry of one not failed, cancel or
     terminate of one done), the key names several activations, the command
     needs the running process (-addr) or a build with flows (verify), another
     process runs the activation (PostgreSQL: use -addr on that one), or
     backup's FILE exists
  5  not a store: not an asyncflow store, damaged, or a schema this build
     cannot read
  6  in use: a running process holds the store; use -addr
  7  unauthorized: the admin handler wants its token (or another), or was
     mounted without one and so refuses mutations
  8  unreachable: nothing answers at -addr
  9  stranded: verify found unfinished activations the build does not
     replay: deployed, it would leave them stuck
`

// backend is what the commands need: a runtime.Admin on a store file, or an
// adminhttp.Client on a running process.
type backend interface {
	List(ctx context.Context, o runtime.ListOptions) ([]runtime.ActivationInfo, error)
	Find(ctx context.Context, ref string) (runtime.ActivationInfo, error)
	Log(ctx context.Context, id flow.ActivationID) ([]runtime.LogEntry, error)
	Failures(ctx context.Context) ([]runtime.ActivationInfo, error)
	Unregistered(ctx context.Context) ([]runtime.ActivationInfo, error)
	Retry(ctx context.Context, id flow.ActivationID) error
	RequestCancel(ctx context.Context, id flow.ActivationID, reason string) error
	Terminate(ctx context.Context, id flow.ActivationID) error
	Wake(ctx context.Context, id flow.ActivationID) error
	Purge(ctx context.Context, before time.Time, progress func(int)) (int, error)
	Backup(ctx context.Context, dest string) error
	Verify(ctx context.Context, opts verify.Options) (*verify.Report, error)
}

var (
	_ backend = (*runtime.Admin)(nil)
	_ backend = (*adminhttp.Client)(nil)
)

// cli is one run of the command.
type cli struct {
	name        string                 // the command's name, in messages
	register    func(runtime.Registry) // the flows verify replays against, if any
	out, errOut io.Writer
	store, addr string
	token       string
	json        bool
	timeout     time.Duration
	now         time.Time
	write       bool   // the command writes to a store file
	done        func() // closes what open opened
}

// usageError is a mistake in how the command was called.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// commands: each parses its own flags and arguments, then runs.
type command struct {
	write bool // opens a store file for writing
	run   func(c *cli, ctx context.Context, fs *flag.FlagSet, args []string) error
	flags func(fs *flag.FlagSet)
}

func run(ctx context.Context, name string, args []string, out, errOut io.Writer, register func(runtime.Registry)) int {
	if name == "" {
		name = "asyncflow"
	}
	c := &cli{name: name, register: register, out: out, errOut: errOut, store: os.Getenv("ASYNCFLOW_STORE"), addr: os.Getenv("ASYNCFLOW_ADDR"), token: os.Getenv("ASYNCFLOW_TOKEN"), now: time.Now()}
	err := c.main(ctx, args)
	if err == nil {
		return exitOK
	}
	code, name := exitCode(err)
	msg := err.Error()
	if code == exitInUse {
		msg = inUse(c.store, err)
	}
	if c.json {
		_ = json.NewEncoder(errOut).Encode(map[string]any{"error": msg, "code": name, "exit": code})
	} else {
		fmt.Fprintf(errOut, "%s: %s\n", c.name, msg)
		if code == exitUsage {
			fmt.Fprintf(errOut, "Run %s help for the commands and their flags.\n", c.name)
		}
	}
	return code
}

func inUse(path string, err error) string {
	if pid := sqlitestore.LockHolder(path); pid > 0 {
		return fmt.Sprintf("store %s is in use by process %d; use -addr to reach it through its admin handler", path, pid)
	}
	return fmt.Sprintf("store %s is in use by another process; use -addr to reach it through its admin handler (%v)", path, err)
}

func exitCode(err error) (int, string) {
	var ue *usageError
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.As(err, &ue):
		return exitUsage, "usage"
	case errors.Is(err, errStranded):
		return exitStranded, "stranded"
	case errors.Is(err, runtime.ErrUnknownActivation):
		return exitNotFound, "not_found"
	case errors.Is(err, runtime.ErrNotFailed), errors.Is(err, runtime.ErrFinished), errors.Is(err, runtime.ErrAmbiguous),
		errors.Is(err, runtime.ErrUnregistered), errors.Is(err, runtime.ErrNoRuntime), errors.Is(err, runtime.ErrElsewhere),
		errors.Is(err, store.ErrReadOnly),
		errors.Is(err, errors.ErrUnsupported), errors.Is(err, errExists), errors.Is(err, errNoFlows):
		return exitRefused, "refused"
	case errors.Is(err, store.ErrNotStore), errors.Is(err, store.ErrCorrupt), errors.Is(err, store.ErrNewerSchema), errors.Is(err, store.ErrNeedsMigration):
		return exitNotStore, "not_store"
	case errors.Is(err, store.ErrLocked):
		return exitInUse, "in_use"
	case errors.Is(err, adminhttp.ErrUnauthorized), errors.Is(err, adminhttp.ErrForbidden):
		return exitUnauthorized, "unauthorized"
	case errors.Is(err, runtime.ErrBadCursor), errors.Is(err, runtime.ErrUnknownState):
		return exitUsage, "usage"
	case errors.As(err, &oe) && oe.Op == "dial", errors.As(err, &ne) && ne.Timeout():
		return exitUnreachable, "unreachable"
	}
	return exitFailed, "failed"
}

// common binds the flags every command takes, before or after its name.
func (c *cli) common(fs *flag.FlagSet) {
	fs.StringVar(&c.store, "store", c.store, "a store file, or a postgres:// URL")
	fs.StringVar(&c.addr, "addr", c.addr, "a running process's admin handler")
	fs.StringVar(&c.token, "token", c.token, "the admin handler's token")
	fs.BoolVar(&c.json, "json", c.json, "answer in JSON")
	fs.DurationVar(&c.timeout, "timeout", c.timeout, "give up after this long")
}

// parse parses flags wherever they are among the arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usagef("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func (c *cli) main(ctx context.Context, args []string) error {
	top := flag.NewFlagSet(c.name, flag.ContinueOnError)
	top.SetOutput(io.Discard)
	c.common(top)
	if err := top.Parse(args); err != nil {
		return usagef("%v", err)
	}
	args = top.Args()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(c.out, c.usage())
		return nil
	}
	name := args[0]
	cmd, ok := commands()[name]
	if !ok {
		return usagef("no command %q", name)
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.common(fs)
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	c.write = cmd.write
	defer func() {
		if c.done != nil {
			c.done()
		}
	}()
	return cmd.run(c, ctx, fs, pos)
}

// open opens what -store or -addr names, once the arguments are checked.
func (c *cli) open(ctx context.Context) (backend, error) {
	b, done, err := c.backend(ctx, c.write)
	if err != nil {
		return nil, err
	}
	c.done = done
	return b, nil
}

// backend opens what -store or -addr names.
func (c *cli) backend(ctx context.Context, write bool) (backend, func(), error) {
	switch {
	case c.store != "" && c.addr != "":
		return nil, nil, usagef("give -store or -addr, not both")
	case c.addr != "":
		return &adminhttp.Client{Base: c.addr, Token: c.token}, func() {}, nil
	case c.store != "":
		if _, err := os.Stat(c.store); err != nil && !strings.Contains(c.store, "://") {
			return nil, nil, fmt.Errorf("store %s: %w: there is no such file", c.store, store.ErrNotStore)
		}
		ad, err := runtime.OpenAdmin(ctx, c.store, runtime.AdminOptions{Write: write, Build: "asyncflow-command"})
		if err != nil {
			return nil, nil, err
		}
		return ad, func() { _ = ad.Close(context.Background()) }, nil
	}
	return nil, nil, usagef("say where the activations are: -store PATH (a store file no process holds) or -addr URL (a running process's admin handler)")
}

// printJSON writes v as indented JSON.
func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// progress reports on stderr how a long operation goes.
func (c *cli) progress(format string, args ...any) {
	fmt.Fprintf(c.errOut, format+"\n", args...)
}

// usage is the help text, with the command's name.
func (c *cli) usage() string {
	flows := "\n                  (this one registers none: make one that does with package\n                  github.com/asyncflow-go/asyncflow/runtime/cli)"
	if c.register != nil {
		flows = ""
	}
	return strings.NewReplacer("NAME", c.name, "VERIFYFLOWS", flows).Replace(usage)
}
