package sqlitestore_test

import (
	"fmt"
	"os"
	"testing"
)

// helpers are programs this test binary runs as when ASYNCFLOW_STORE_HELPER
// names one: tests that need a second process, or one they kill, run the
// test binary again instead of building another.
var helpers = map[string]func(args []string) int{
	"open":       helperOpen,
	"hold":       helperHold,
	"checkpoint": helperCheckpoint,
}

func TestMain(m *testing.M) {
	if name := os.Getenv("ASYNCFLOW_STORE_HELPER"); name != "" {
		h, ok := helpers[name]
		if !ok {
			fmt.Fprintln(os.Stderr, "no helper", name)
			os.Exit(2)
		}
		os.Exit(h(os.Args[1:]))
	}
	os.Exit(m.Run())
}
