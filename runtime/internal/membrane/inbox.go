package membrane

import (
	"strconv"
	"sync"

	"github.com/asyncflow-go/asyncflow/flow"
)

// eventKind says what reached a guest.
type eventKind int

// Events that reach a guest.
const (
	evVow        eventKind = iota + 1 // a vow it may wait for settled
	evFuture                          // a future's call came back
	evHostFailed                      // a future's call panicked or found no target
	evEvict                           // the runtime asks it to leave while parked
	evStop                            // the run is stopped
	evRetry                           // a future's attempt failed and is to be made again: log it
)

func (k eventKind) String() string {
	switch k {
	case evVow:
		return "vow"
	case evFuture:
		return "future"
	case evHostFailed:
		return "host-failed"
	case evEvict:
		return "evict"
	case evStop:
		return "stop"
	case evRetry:
		return "retry"
	}
	return "event(" + strconv.Itoa(int(k)) + ")"
}

type event struct {
	kind    eventKind
	vow     flow.VowID   // evVow
	future  int          // evFuture, evHostFailed, evRetry
	out     outcome      // evVow, evFuture
	cut     bool         // evFuture: shutdown cut the call short
	failure *hostFailure // evHostFailed
	retry   *retry       // evRetry
}

// inbox is an unbounded queue of events for one guest.
type inbox struct {
	mu     sync.Mutex
	events []event
	signal chan struct{}
	// gone is closed once the run is over, however it ends: nil until a
	// goroutine of the run asks for it (most runs, parked by the thousand,
	// never do), closedChan once the run is over.
	gone chan struct{}
}

// closedChan is the gone of every run that is over.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// end marks the run over.
func (b *inbox) end() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.gone != closedChan {
		if b.gone != nil {
			close(b.gone)
		}
		b.gone = closedChan
	}
}

// goneChan returns a channel closed once the run is over.
func (b *inbox) goneChan() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.gone == nil {
		b.gone = make(chan struct{})
	}
	return b.gone
}

func (b *inbox) push(e event) {
	b.mu.Lock()
	b.events = append(b.events, e)
	b.mu.Unlock()
	select {
	case b.signal <- struct{}{}:
	default:
	}
}

func (b *inbox) take() (event, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.events) == 0 {
		return event{}, false
	}
	e := b.events[0]
	b.events = b.events[1:]
	return e, true
}

func (b *inbox) pending() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.events) > 0
}

func (b *inbox) wait() event {
	for {
		if e, ok := b.take(); ok {
			return e
		}
		<-b.signal
	}
}
