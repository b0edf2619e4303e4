// Package flow is a stub of the real flow package, with the names flows use.
package flow

import (
	"context"
	"time"
)

type ActivationID [16]byte

type Context interface {
	context.Context
	Activation() ActivationID
}

type Awaitable interface{ AwaitKey() int }

type Promise[T any] interface {
	Awaitable
	value() T
}

type Vow[T any] struct{ id [16]byte }

func (v Vow[T]) AwaitKey() int { return 0 }
func (v Vow[T]) value() T      { var t T; return t }

type Future[T any] struct{ n int }

func (f Future[T]) AwaitKey() int { return f.n }
func (f Future[T]) value() T      { var t T; return t }

func Await[T any](fc Context, p Promise[T]) (T, error) { return p.value(), nil }
func All(fc Context, as ...Awaitable) error            { return nil }
func Race(fc Context, as ...Awaitable) int             { return 0 }
func Now(fc Context) time.Time                         { return time.Now() }
func Sleep(fc Context, d time.Duration)                {}
func After(fc Context, d time.Duration) Vow[time.Time] { return Vow[time.Time]{} }
func Patched(fc Context, id string) bool               { return true }
func Random(fc Context) uint64                         { return 4 }
func UUID(fc Context) string                           { return "" }

type Signal[T any] struct{ name string }

func (s Signal[T]) Next(fc Context) Vow[T]        { return Vow[T]{} }
func (s Signal[T]) Receive(fc Context) (T, error) { var t T; return t, nil }

type Status[T any] struct{ name string }

func (s Status[T]) Set(fc Context, v T) {}
