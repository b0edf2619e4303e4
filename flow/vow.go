package flow

import (
	"strconv"
	"time"

	"github.com/asyncflow-go/asyncflow/flow/codec"
	"github.com/asyncflow-go/asyncflow/flow/internal/bridge"
)

// Awaitable is anything a flow can wait for: a [Vow] or a [Future]. The
// combinators [All] and [Race] take Awaitables of any result type.
type Awaitable interface {
	AwaitKey() AwaitKey
}

// Promise is an Awaitable with a result of type T: a Vow[T] or a Future[T].
type Promise[T any] interface {
	Awaitable
	decodeValue(b []byte) (T, error)
}

// Vow is a durable promise of a T: an id in the store, settled at most once,
// awaitable by flows and by hosts, across restarts. A Vow crosses the membrane
// as its id, so a host can hand one to a flow and a flow can hand one back.
type Vow[T any] struct{ id VowID }

// VowOf returns the Vow[T] with the given id.
func VowOf[T any](id VowID) Vow[T] { return Vow[T]{id: id} }

// ID returns the vow's durable id.
func (v Vow[T]) ID() VowID { return v.id }

// AwaitKey implements Awaitable.
func (v Vow[T]) AwaitKey() AwaitKey { return AwaitKey{Vow: v.id} }

func (v Vow[T]) String() string { return "vow:" + v.id.String() }

// MarshalFlow implements codec.Marshaler.
func (v Vow[T]) MarshalFlow(e *codec.Encoder) { e.PutVow(v.id) }

// UnmarshalFlow implements codec.Unmarshaler.
func (v *Vow[T]) UnmarshalFlow(d *codec.Decoder) { v.id = d.ReadVow() }

func (v Vow[T]) decodeValue(b []byte) (T, error) {
	var t T
	err := codec.Unmarshal(b, &t)
	return t, err
}

// Future is the result of a host call a flow started without waiting (through
// an async guest proxy). It belongs to the activation that made it and cannot
// cross the membrane.
type Future[T any] struct{ n int }

// AwaitKey implements Awaitable.
func (f Future[T]) AwaitKey() AwaitKey { return AwaitKey{Future: f.n} }

func (f Future[T]) String() string { return "future#" + strconv.Itoa(f.n) }

// tupleUnmarshaler is flowimpl.TupleUnmarshaler: generated result structs of
// host methods with several results implement it, because the Future of such
// a method settles with the whole result tuple.
type tupleUnmarshaler interface {
	UnmarshalTuple(d *codec.Decoder, n int)
}

// setNumber makes f the future numbered n; flowimpl reaches it through
// bridge.SetFuture when an async proxy starts a call.
func (f *Future[T]) setNumber(n int) { f.n = n }

func init() {
	bridge.SetFuture = func(f any, n int) { f.(interface{ setNumber(int) }).setNumber(n) }
}

func (f Future[T]) decodeValue(b []byte) (T, error) {
	var t T
	d := codec.NewDecoder(b)
	n := d.ReadList()
	if tu, ok := any(&t).(tupleUnmarshaler); ok && d.Err() == nil {
		tu.UnmarshalTuple(d, n)
		return t, d.Done()
	}
	switch {
	case d.Err() != nil:
	case n == 1:
		d.Value(&t)
	case n != 0:
		d.Fail(&codec.MismatchError{Got: strconv.Itoa(n) + " results", Want: "one"})
	}
	return t, d.Done()
}

// Await waits for p to settle and returns its value or its rejection. Waiting
// on a vow may take days and span upgrades: the activation is suspended and,
// if evicted or restarted, replayed when the vow settles.
func Await[T any](fc Context, p Promise[T]) (T, error) {
	g := guestOf(fc)
	k := p.AwaitKey()
	g.Await([]AwaitKey{k}, false)
	return settled(g, k, p)
}

func settled[T any](g guest, k AwaitKey, p Promise[T]) (T, error) {
	b, err := g.Settlement(k)
	if err != nil {
		var zero T
		return zero, err
	}
	t, derr := p.decodeValue(b)
	if derr != nil {
		g.Diverge("the value of " + k.String() + ", " + codec.Format(b) + ", does not decode: " + derr.Error())
	}
	return t, nil
}

// All waits until every awaitable has settled. It returns nil if all were
// fulfilled, or else the rejection of the first rejected one in argument
// order. Read the values with Await afterwards; it returns at once. The order
// in which they settled is logged, so replay reproduces it.
func All(fc Context, as ...Awaitable) error {
	g := guestOf(fc)
	keys := keysOf(as)
	if len(keys) == 0 {
		return nil
	}
	g.Await(keys, false)
	for _, k := range keys {
		if err := g.Rejection(k); err != nil {
			return err
		}
	}
	return nil
}

// Race waits until one of the awaitables settles and returns its index. The
// winner is logged, so replay picks the same one; the others are not
// cancelled and can still be awaited. If several have already settled, the
// first in argument order wins.
func Race(fc Context, as ...Awaitable) int {
	if len(as) == 0 {
		panic("flow: Race needs at least one awaitable")
	}
	return guestOf(fc).Await(keysOf(as), true)
}

func keysOf(as []Awaitable) []AwaitKey {
	keys := make([]AwaitKey, len(as))
	for i, a := range as {
		keys[i] = a.AwaitKey()
	}
	return keys
}

// Now returns the current time. Live it reads the runtime's clock and logs
// the reading; replaying it returns the logged reading.
func Now(fc Context) time.Time { return guestOf(fc).Now() }

// After returns a vow fulfilled with its deadline — the logged current time
// plus d — once that deadline passes. The timer is durable: after a restart
// the vow is fulfilled when the deadline passes, and a flow waiting on it is
// woken.
func After(fc Context, d time.Duration) Vow[time.Time] {
	return Vow[time.Time]{id: guestOf(fc).After(d)}
}

// Sleep waits for a durable timer of duration d (see [After]).
func Sleep(fc Context, d time.Duration) {
	_, _ = Await(fc, After(fc, d))
}

// Patched reports whether the running activation reached this point under
// code that has the patch named id. Write new behaviour as
//
//	if flow.Patched(fc, "payout-fee") {
//		... new path ...
//	} else {
//		... old path, as the old code had it ...
//	}
//
// Live, the first call with an id in an activation records a marker and
// returns true. Replaying, it returns true and consumes the marker if the log
// holds it at this point; otherwise it returns false and consumes nothing.
// The answer is remembered per activation and id.
//
// Replay resolves what the log leaves open. An activation that ran past this
// point live under a build that had the new path but no patch has no marker,
// and the old branch does not reproduce its log. Replay calls no host, so
// the runtime then tries the id as true; if that reproduces the log, it
// keeps the decision (recorded in the log when the activation goes on live,
// so the next replay takes it directly). The search is bounded: at most
// eight replays, every combination of up to three such ids.
//
// A marker the code no longer asks for is not an effect: replay passes over
// it when what follows replays. So a patch can be retired — the call and
// the old branch deleted, the new path kept — once no activation that could
// take the old branch is unfinished. The replay gate (package
// runtime/verify, or flowtest.ReplayStore) run with the build without the
// patch lists any that still would.
func Patched(fc Context, id string) bool { return guestOf(fc).Patched(id) }
