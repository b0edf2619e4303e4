package flow

import (
	"context"
	"fmt"
	"strconv"

	"github.com/asyncflow-go/asyncflow/flow/codec"
)

// The functions in this file are called by code flowgen generates.

// Results starts decoding a result tuple that should hold n values. If the
// logged tuple holds another number (the method's results changed since it
// was logged), the flow ends as a replay failure.
func Results(ctx context.Context, what string, res []byte, n int) *codec.Decoder {
	d := codec.NewDecoder(res)
	if got := d.ReadList(); d.Err() == nil && got != n {
		Diverge(ctx, what+": the logged result "+codec.Format(res)+" has "+strconv.Itoa(got)+" values, the code expects "+strconv.Itoa(n))
	}
	return d
}

// Arguments starts decoding a flow's stored argument tuple of n values.
func Arguments(fc Context, name string, args []byte, n int) *codec.Decoder {
	d := codec.NewDecoder(args)
	if got := d.ReadList(); d.Err() == nil && got != n {
		Diverge(fc, name+": the stored arguments "+codec.Format(args)+" are "+strconv.Itoa(got)+" values, the flow takes "+strconv.Itoa(n))
	}
	return d
}

// Decoded ends decoding what Results or Arguments started; if the bytes did
// not fit, the flow ends as a replay failure naming what did not fit.
func Decoded(ctx context.Context, what string, d *codec.Decoder, b []byte) {
	if err := d.Done(); err != nil {
		Diverge(ctx, what+": "+codec.Format(b)+" does not decode: "+err.Error())
	}
}

// EncodeRef writes a host-interface value a flow holds: a guest proxy, as
// its reference.
func EncodeRef(e *codec.Encoder, v any, resolver string) {
	switch r := v.(type) {
	case nil:
		e.PutNil()
	case Referrer:
		r.FlowRef().MarshalFlow(e)
	default:
		e.Fail(fmt.Errorf("flow: a %T is not a %s a flow holds (a guest proxy)", v, resolver))
	}
}

// EncodeStartRef writes a host-interface argument given to Start: a proxy
// made with the generated …Ref function, or a keyed host object.
func EncodeStartRef(e *codec.Encoder, v any, resolver string) error {
	switch r := v.(type) {
	case nil:
		e.PutNil()
	case Referrer:
		r.FlowRef().MarshalFlow(e)
	case Keyed:
		ObjectRef(resolver, r.FlowKey()).MarshalFlow(e)
	default:
		return fmt.Errorf("a %T is neither a reference made by the generated Ref function nor a keyed host object (with a FlowKey method)", v)
	}
	return nil
}

// EncodeHostRef writes a host object a host method returns, as the reference
// it crosses as (see RefFor).
func EncodeHostRef(ctx context.Context, e *codec.Encoder, obj any, resolver string) error {
	ref, err := RefFor(ctx, obj, resolver)
	if err != nil {
		return err
	}
	if ref.IsZero() {
		e.PutNil()
		return nil
	}
	ref.MarshalFlow(e)
	return nil
}

// DecodeRef reads a reference.
func DecodeRef(d *codec.Decoder) Ref {
	var r Ref
	r.UnmarshalFlow(d)
	return r
}

// DecodeHostRef reads a reference a host method receives and returns the host
// object it stands for: the original object, not a proxy.
func DecodeHostRef[T any](ctx context.Context, d *codec.Decoder) (T, error) {
	var zero T
	ref := DecodeRef(d)
	if d.Err() != nil || ref.IsZero() {
		return zero, d.Err()
	}
	obj, err := HostObject(ctx, ref)
	if err != nil {
		return zero, err
	}
	t, ok := obj.(T)
	if !ok {
		return zero, fmt.Errorf("flow: %s is a %T, not a %T", ref, obj, zero)
	}
	return t, nil
}
