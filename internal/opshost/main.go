// Command opshost is a host program for the operator tools' tests: it runs
// the testkit flow on a store, mounts the admin handler on a loopback
// address it prints, and holds the store until its standard input closes.
//
//	opshost -store app.db -build v1 -variant v1 -start order-1,order-2 -token T
//
// The flow echoes a greeting, asks for an approval and waits for it. With
// -variant v2 the greeting differs, so v1's activations no longer replay.
// While the file named by -broken exists, the host's Echo panics: a host
// bug, fixed when the file goes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
	"github.com/asyncflow-go/asyncflow/internal/testkit"
	"github.com/asyncflow-go/asyncflow/runtime"
	"github.com/asyncflow-go/asyncflow/runtime/adminhttp"
	"github.com/asyncflow-go/asyncflow/runtime/cli"
)

func main() {
	// opshost ops VARIANT ARGS… is the operators' command of this build,
	// with the flows of VARIANT registered: as a team builds its own, so
	// that verify replays a snapshot against them.
	if len(os.Args) > 2 && os.Args[1] == "ops" {
		variant := os.Args[2]
		os.Exit(cli.Run(context.Background(), "opshost ops", os.Args[3:], os.Stdout, os.Stderr, func(r runtime.Registry) {
			testkit.ProvideTeller(r, "host", nil)
			register(r, "ops.Approve", variant)
		}))
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "opshost:", err)
		os.Exit(1)
	}
}

func run() error {
	path := flag.String("store", "", "store file")
	build := flag.String("build", "v1", "build id")
	variant := flag.String("variant", "v1", "flow code: v1, or v2 (another greeting)")
	start := flag.String("start", "", "comma-separated start keys to start activations with")
	token := flag.String("token", "", "admin token")
	broken := flag.String("broken", "", "while this file exists, Echo panics")
	wakeAll := flag.Bool("wake-all", false, "replay every unfinished activation at start")
	answer := flag.String("answer", "", "comma-separated start keys whose approval is answered yes")
	flowName := flag.String("flow", "ops.Approve", "the flow's durable name")
	sourceRoot := flag.String("source-root", "", "where the console reads the flow's source")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))

	ctx := context.Background()
	rt, err := runtime.Open(ctx, *path, runtime.Options{Build: *build, WakeAll: *wakeAll, ReplayStall: 10 * time.Second})
	if err != nil {
		return err
	}
	rec := &testkit.Recorder{
		NewVow: func(ctx context.Context) (flow.Vow[string], error) { return runtime.NewVow[string](ctx, rt) },
		Hook: func(ctx context.Context, method string, args ...any) error {
			if method == "Echo" && *broken != "" {
				if _, err := os.Stat(*broken); err == nil {
					panic("ledger unreachable: " + *broken + " exists")
				}
			}
			return nil
		},
	}
	testkit.ProvideTeller(rt, "host", rec)
	h := register(rt, *flowName, *variant)
	if err := rt.Start(ctx); err != nil {
		return err
	}
	for _, key := range split(*start) {
		if _, err := h.StartWithID(ctx, key, testkit.TellerRef("host"), key); err != nil {
			return err
		}
	}
	for _, key := range split(*answer) {
		if err := answerWhenAsked(ctx, rt, rec, key); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/asyncflow/", http.StripPrefix("/asyncflow", adminhttp.Handler(rt.Admin(), adminhttp.Options{Token: *token, SourceRoot: *sourceRoot})))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("LISTEN http://%s/asyncflow/\n", ln.Addr())

	_, _ = io.Copy(io.Discard, os.Stdin)
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return rt.Close(sctx)
}

// register registers the flow as the variant has it.
func register(r runtime.Registry, name, variant string) testkit.Handle[string, string] {
	greeting := "hi "
	if variant == "v2" {
		greeting = "hello "
	}
	return testkit.Register(r, name, func(fc flow.Context, t testkit.Teller, a string) (string, error) {
		g, err := t.Echo(fc, greeting+a)
		if err != nil {
			return "", err
		}
		v, err := t.Ask(fc, "approve "+a)
		if err != nil {
			return "", err
		}
		ok, err := flow.Await(fc, v)
		if err != nil {
			return "", err
		}
		return t.Echo(fc, g+": "+ok)
	})
}

// answerWhenAsked answers yes to the approval key's activation asks for.
func answerWhenAsked(ctx context.Context, rt *runtime.Runtime, rec *testkit.Recorder, key string) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if id, ok := rec.Asked("approve " + key); ok {
			return runtime.Resolve(ctx, rt, flow.VowOf[string](id), "yes")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return errors.New("no approval asked for " + key)
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
