package logging // want package:"analysed"

import (
	"fmt"
	"io"
	"log"
	"log/slog"

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
