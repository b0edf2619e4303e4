// Package ops holds flows with the non-determinism bugs users report // want package:"analysed"
// against workflow engines, each beside a version that is closed.
package ops

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"log"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:host
type Tickets interface { // want Tickets:"host"
	Open(ctx context.Context, id, title string) error
}

// Config is the live configuration of the process.
type Config struct {
	Region  string
	Retries int
}

// Current is changed by SetRegion when an operator reconfigures.
var Current = &Config{Region: "eu", Retries: 3} // want Current:`written at ops/ops\.go:41:28`

// SetRegion changes the configuration at run time.
func SetRegion(r string) { Current.Region = r } // want SetRegion:`open: ops\.SetRegion → package variable Current`

// Regions never changes.
var Regions = map[string]string{"eu": "Europe", "us": "Americas"}

// Routed reads configuration the process changes.
//
//flowgen:flow
func Routed(fc flow.Context, t Tickets, id string) error { // want `flow Routed is not closed: Routed → package variable Current` Routed:`open: ops\.Routed → package variable Current`
	return t.Open(fc, id, "region "+Current.Region) // want `package variable Current: reads an exported variable other packages can change`
}

// Named reads a table nothing changes.
//
//flowgen:flow
func Named(fc flow.Context, t Tickets, id, region string) error { // want Named:`closed reads\(corpus/ops\.Regions\)`
	return t.Open(fc, id, "region "+Regions[region])
}

// newID draws random bytes.
func newID() string { // want newID:`open: ops\.newID → rand\.Read`
	b := make([]byte, 8)
	_, _ = rand.Read(b) // want `rand.Read`
	return hex.EncodeToString(b)
}

// Identified names a ticket with a random id.
//
//flowgen:flow
func Identified(fc flow.Context, t Tickets) error { // want `flow Identified is not closed: Identified → newID → rand.Read` Identified:`open: ops\.Identified → ops\.newID → rand\.Read`
	return t.Open(fc, newID(), "new")
}

// Derived names it from the activation, which replay gives back.
//
//flowgen:flow
func Derived(fc flow.Context, t Tickets, seq int) error {
	a := fc.Activation()
	return t.Open(fc, hex.EncodeToString(a[:])+fmt.Sprint(seq), "new")
}

var seed = maphash.MakeSeed() // want `maphash.MakeSeed`

// Bucketed hashes with a seed drawn at start-up.
//
//flowgen:flow
func Bucketed(fc flow.Context, key string) uint64 { // want `flow Bucketed is not closed` Bucketed:`open: ops\.Bucketed → maphash\.String`
	return maphash.String(seed, key) % 16 // want `maphash.String` `package variable seed: is initialised by code that is not closed`
}

// Fetched calls a web service behind the membrane's back.
//
//flowgen:flow
func Fetched(fc flow.Context, url string) (int, error) { // want `flow Fetched is not closed: Fetched → http.Get` Fetched:`open: ops\.Fetched → http\.Get`
	resp, err := http.Get(url) // want `http.Get`
	if err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

var (
	mu    sync.Mutex
	cache = map[string]string{}
)

func cached(k string) string { // want cached:`open: ops\.cached → package variable mu`
	mu.Lock()         // want `sync.Mutex\).Lock` `package variable mu: writes package state`
	defer mu.Unlock() // want `sync.Mutex\).Unlock` `package variable mu: writes package state`
	return cache[k]   // never written: reading it is closed
}

// Memoised reads a cache the process shares.
//
//flowgen:flow
func Memoised(fc flow.Context, k string) string { // want `flow Memoised is not closed` Memoised:`open: ops\.Memoised → ops\.cached → package variable mu`
	return cached(k)
}

// WithDeadline gives the call a wall-clock deadline.
//
//flowgen:flow
func WithDeadline(fc flow.Context, t Tickets, id string) error { // want `flow WithDeadline is not closed` WithDeadline:`open: ops\.WithDeadline → context\.WithTimeout`
	ctx, cancel := context.WithTimeout(fc, time.Minute) // want `context.WithTimeout`
	defer cancel()
	return t.Open(ctx, id, "x")
}

type traceKey struct{}

// WithValue passes a value down the flow's context.
//
//flowgen:flow
func WithValue(fc flow.Context, t Tickets, id string) error {
	ctx := context.WithValue(fc, traceKey{}, id)
	return t.Open(ctx, id, "x")
}

// Described prints a map: fmt and encoding/json sort its keys.
//
//flowgen:flow
func Described(fc flow.Context, t Tickets, id string, labels map[string]string) error {
	js, err := json.Marshal(labels)
	if err != nil {
		return err
	}
	return t.Open(fc, id, fmt.Sprintf("%v %s", labels, js))
}

// Joined joins labels in map order.
//
//flowgen:flow
func Joined(fc flow.Context, t Tickets, id string, labels map[string]string) error { // want `flow Joined is not closed` Joined:`open: ops\.Joined → range over a map`
	var parts []string
	for k, v := range labels { // want `range over a map`
		parts = append(parts, k+"="+v)
	}
	return t.Open(fc, id, strings.Join(parts, ","))
}

// JoinedSorted sorts them first.
//
//flowgen:flow
func JoinedSorted(fc flow.Context, t Tickets, id string, labels map[string]string) error {
	var parts []string
	for k, v := range labels {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return t.Open(fc, id, strings.Join(parts, ","))
}

// audit is a log kept in memory with timestamps.
var (
	auditBuf bytes.Buffer
	audit    = log.New(&auditBuf, "audit ", log.LstdFlags) // want `log.New: writes wall-clock timestamps into &auditBuf`
)

// Audited writes the in-memory log into the ticket.
//
//flowgen:flow
func Audited(fc flow.Context, t Tickets, id string) error { // want `flow Audited is not closed` Audited:`open: ops\.Audited → package variable audit`
	audit.Printf("opening %s", id)           // want `package variable audit`
	return t.Open(fc, id, auditBuf.String()) // want `package variable auditBuf`
}

// Traced logs to the console, with timestamps: output that leaves.
//
//flowgen:flow
func Traced(fc flow.Context, t Tickets, id string) error {
	log.Printf("opening %s", id)
	fmt.Fprintln(os.Stderr, "opening", id)
	return t.Open(fc, id, "x")
}

// Busy looks at the Go runtime.
//
//flowgen:flow
func Busy(fc flow.Context) int { // want `flow Busy is not closed` Busy:`open: ops\.Busy → runtime\.NumGoroutine`
	return runtime.NumGoroutine() // want `runtime.NumGoroutine`
}

// Waited waits on a channel and a timer.
//
//flowgen:flow
func Waited(fc flow.Context, done chan struct{}) bool { // want `flow Waited is not closed` Waited:`open: ops\.Waited → select statement`
	select { // want `select statement`
	case <-done: // want `channel receive`
		return true
	case <-time.After(time.Second): // want `time.After` `channel receive`
		return false
	}
}

// ErrNotFound is a sentinel.
var ErrNotFound = errors.New("not found") // want ErrNotFound:"sentinel"

// NotFoundError carries an id.
type NotFoundError struct{ ID string }

func (e *NotFoundError) Error() string        { return "not found: " + e.ID }
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Classified tells errors apart with errors.Is and errors.As.
//
//flowgen:flow
func Classified(fc flow.Context, t Tickets, id string) (string, error) {
	err := t.Open(fc, id, "x")
	var nf *NotFoundError
	switch {
	case errors.As(err, &nf):
		return "missing " + nf.ID, nil
	case errors.Is(err, ErrNotFound):
		return "missing", nil
	}
	return "", err
}

// Timed measures its steps with the flow's clock.
//
//flowgen:flow
func Timed(fc flow.Context, t Tickets, id string) (time.Duration, error) {
	start := flow.Now(fc)
	err := t.Open(fc, id, "x")
	return flow.Now(fc).Sub(start).Round(time.Millisecond), err
}
