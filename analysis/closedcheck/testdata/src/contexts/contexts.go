package contexts // want package:"analysed"

import (
	"context"
	"time"

	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:host
type Store interface { // want Store:"host"
	Put(ctx context.Context, k string) error
}

type key struct{}

//flowgen:flow
func Detached(fc flow.Context, s Store) error { // want `flow Detached is not closed: Detached → context.Background` Detached:`open: contexts\.Detached → context\.Background`
	return s.Put(context.Background(), "k") // want `context.Background: makes a context outside the flow's`
}

//flowgen:flow
func Todo(fc flow.Context, s Store) error { // want `flow Todo is not closed` Todo:`open: contexts\.Todo → context\.TODO`
	return s.Put(context.TODO(), "k") // want `context.TODO`
}

//flowgen:flow
func Timeout(fc flow.Context, s Store) error { // want `flow Timeout is not closed` Timeout:`open: contexts\.Timeout → context\.WithTimeout`
	ctx, cancel := context.WithTimeout(fc, time.Minute) // want `context.WithTimeout: measures time on the wall clock; race flow.After`
	defer cancel()
	return s.Put(ctx, "k")
}

//flowgen:flow
func Deadline(fc flow.Context, s Store) error { // want `flow Deadline is not closed` Deadline:`open: contexts\.Deadline → context\.WithDeadline`
	ctx, cancel := context.WithDeadline(fc, time.Unix(0, 0)) // want `context.WithDeadline`
	defer cancel()
	context.AfterFunc(ctx, func() {}) // want `context.AfterFunc: runs a function on another goroutine`
	return s.Put(ctx, "k")
}

//flowgen:flow
func Values(fc flow.Context, s Store) error {
	ctx := context.WithValue(fc, key{}, "v")
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if ctx.Value(key{}) == nil || ctx.Err() != nil {
		return nil
	}
	return s.Put(ctx, "k")
}
