package logging // want package:"analysed"

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"strings"

	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:flow
func Output(fc flow.Context, who string) {
	fmt.Println("hello", who)
	fmt.Printf("%s\n", who)
	log.Printf("working for %s", who)
	slog.Info("working", "who", who)
	slog.Default().Warn("careful")
	l := log.New(io.Discard, "", 0)
	l.Println("to a local logger")
}

//flowgen:flow
func Fatal(fc flow.Context, err error) { // want `flow Fatal is not closed: Fatal → log.Fatal: ends the host process` Fatal:`open: logging\.Fatal → log\.Fatal`
	log.Fatal(err) // want `log.Fatal: ends the host process`
}

//flowgen:flow
func Panics(fc flow.Context, err error) { // want `flow Panics is not closed` Panics:`open: logging\.Panics → log\.Panicf`
	log.Panicf("bad: %v", err) // want `log.Panicf: unwinds the host`
}

//flowgen:flow
func Global(fc flow.Context) { // want `flow Global is not closed` Global:`open: logging\.Global → log\.SetOutput`
	log.SetOutput(io.Discard)                      // want `log.SetOutput: changes the host's global logger`
	slog.SetDefault(slog.New(slog.DiscardHandler)) // want `slog.SetDefault`
}

//flowgen:flow
func PanicIsFine(fc flow.Context, err error) {
	if err != nil {
		panic(err) // a panic fails the activation, with its stack: allowed
	}
}

// Journal keeps a log in a buffer it returns: each line has the time.
//
//flowgen:flow
func Journal(fc flow.Context, steps []string) string { // want `flow Journal is not closed: Journal → log.New: writes wall-clock timestamps` Journal:`open: logging\.Journal → log\.New`
	var buf bytes.Buffer
	l := log.New(&buf, "journal ", log.LstdFlags) // want `log.New: writes wall-clock timestamps into &buf`
	for _, s := range steps {
		l.Printf("step %s", s)
	}
	return buf.String()
}

// PlainJournal keeps a log without timestamps.
//
//flowgen:flow
func PlainJournal(fc flow.Context, steps []string) string {
	var buf strings.Builder
	l := log.New(&buf, "journal ", log.Lmsgprefix)
	for _, s := range steps {
		l.Printf("step %s", s)
	}
	return buf.String()
}

// Console logs with timestamps to the console.
//
//flowgen:flow
func Console(fc flow.Context, who string) {
	l := log.New(os.Stderr, "flow ", log.LstdFlags|log.Lmicroseconds)
	l.Println("hello", who)
	s := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	s.Info("hello", "who", who)
}

// Structured keeps slog's text, with its time attribute.
//
//flowgen:flow
func Structured(fc flow.Context, who string) string { // want `flow Structured is not closed` Structured:`open: logging\.Structured → slog\.NewTextHandler`
	buf := new(bytes.Buffer)
	s := slog.New(slog.NewTextHandler(buf, nil)) // want `slog.NewTextHandler: writes wall-clock timestamps into buf`
	s.Info("hello", "who", who)
	return buf.String()
}

// StructuredNoTime drops the time attribute.
//
//flowgen:flow
func StructuredNoTime(fc flow.Context, who string) string {
	var buf bytes.Buffer
	opts := &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}}
	slog.New(slog.NewJSONHandler(&buf, opts)).Info("hello", "who", who)
	return buf.String()
}

// Reflagged turns timestamps on later.
//
//flowgen:flow
func Reflagged(fc flow.Context) string { // want `flow Reflagged is not closed` Reflagged:`open: logging\.Reflagged → \(\*log\.Logger\)\.SetFlags`
	var buf bytes.Buffer
	l := log.New(&buf, "", 0)
	l.SetFlags(log.Ldate) // want `SetFlags: puts wall-clock timestamps into &buf`
	l.Print("x")
	return buf.String()
}

// recorder keeps what a flow logged.
type recorder struct {
	buf bytes.Buffer
	log *log.Logger
}

// Recorded logs into a buffer held by a struct.
//
//flowgen:flow
func Recorded(fc flow.Context, who string) string { // want `flow Recorded is not closed` Recorded:`open: logging\.Recorded → log\.New`
	var r recorder
	r.log = log.New(&r.buf, "", log.Ldate|log.Ltime) // want `log.New: writes wall-clock timestamps into &r.buf`
	r.log.Printf("hello %s", who)
	return r.buf.String()
}
