// Package bridge carries what package flow lends package flowimpl without
// exporting it to flow authors: the context keys both read, and the
// constructors of flow's sealed types. Package flow fills the constructors
// in its init; flowimpl imports flow, so they are set before flowimpl runs.
package bridge

import "context"

// GuestKey is the context key under which a flow's Context holds its guest
// (the membrane, a flowimpl.Guest).
type GuestKey struct{}

// CallInfoKey is the context key under which the context of a host call
// holds its flow.CallInfo.
type CallInfoKey struct{}

// RetryKey is the context key under which a context made by flow.WithRetry
// holds its *flow.RetryPolicy.
type RetryKey struct{}

var (
	// NewContext returns the flow.Context of a running flow whose membrane is
	// guest, which must implement flowimpl.Guest.
	NewContext func(guest any) context.Context
	// SetFuture makes future, a *flow.Future[T], stand for the future numbered
	// n of the running activation.
	SetFuture func(future any, n int)
	// SetName names v, a *flow.Signal[T] or a *flow.Status[T].
	SetName func(v any, name string)
	// ErrorCode returns the code err crosses the membrane with, "" for none.
	ErrorCode func(err error) string
)
