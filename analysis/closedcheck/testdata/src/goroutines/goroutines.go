package goroutines // want package:"analysed"

import (
	"sync"
	"sync/atomic"

	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:flow
func Spawn(fc flow.Context) { // want `flow Spawn is not closed: Spawn → go statement` Spawn:`open: goroutines\.Spawn → go statement`
	go func() {}() // want `go statement: starts a goroutine`
}

//flowgen:flow
func Channels(fc flow.Context) int { // want `flow Channels is not closed` Channels:`open: goroutines\.Channels → channel send`
	ch := make(chan int, 1)
	ch <- 1   // want `channel send`
	v := <-ch // want `channel receive`
	select {  // want `select statement`
	case v = <-ch: // want `channel receive`
	default:
	}
	for x := range ch { // want `range over a channel`
		v += x
	}
	close(ch) // want `close of a channel`
	return v
}

//flowgen:flow
func Locks(fc flow.Context) int { // want `flow Locks is not closed` Locks:`open: goroutines\.Locks → \(\*sync\.Mutex\)\.Lock`
	var mu sync.Mutex
	mu.Lock()   // want `\(\*sync.Mutex\).Lock: synchronizes goroutines`
	mu.Unlock() // want `Unlock`
	var wg sync.WaitGroup
	wg.Wait() // want `WaitGroup\).Wait`
	var once sync.Once
	once.Do(func() {}) // want `Once\).Do`
	var n atomic.Int64
	n.Add(1) // want `Int64\).Add`
	var m int64
	atomic.AddInt64(&m, 1) // want `atomic.AddInt64`
	return int(m)
}

// worker is reached from a flow through a helper.
func worker(n int) int { // want worker:`open: goroutines\.worker → go statement`
	done := make(chan int)
	go func() { done <- n }() // want `go statement` `channel send`
	return <-done             // want `channel receive`
}

//flowgen:flow
func Indirect(fc flow.Context) int { // want `flow Indirect is not closed: Indirect → worker → go statement` Indirect:`open: goroutines\.Indirect → goroutines\.worker → go statement`
	return worker(2)
}
