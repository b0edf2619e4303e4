// Package robust holds inputs that once crashed the analysis (each is a
// regression test: a crash is reported as "cannot be proved closed" and
// fails the test), and odd corners of Go the analysis must take in its
// stride.
package robust

import (
	"context"
	"strings"
	"time"

	"example.com/ptrlib"
	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:host
type Store interface { // want Store:"host"
	Put(ctx context.Context, k, v string) error
}

// A field of type *Doer stored from a parameter: the interface is reached
// through a pointer (this crashed the analysis: a pointer is no interface).
type holder struct {
	d  *ptrlib.Doer
	dd **ptrlib.Doer
}

func (h *holder) set(d *ptrlib.Doer) { h.d = d } // want set:`^closed calls\(param 0 Do\) writes\[-1\] stores\(-1.d ← 0\)$`

func (h *holder) setBoth(d *ptrlib.Doer, dd **ptrlib.Doer) { h.d, h.dd = d, dd } // want setBoth:`^closed calls\(param 0 Do\) calls\(param 1 Do\) writes\[-1\] stores\(-1.d ← 0\) stores\(-1.dd ← 1\)$`

//flowgen:flow
func PointerToInterface(fc flow.Context, s Store) error {
	box := &struct{ d ptrlib.Doer }{ptrlib.Pure{}}
	h := &holder{}
	h.set(&box.d)
	return s.Put(fc, "k", (*h.d).Do())
}

//flowgen:flow
func PointerToInterfaceOpen(fc flow.Context, s Store) error { // want `flow PointerToInterfaceOpen is not closed: PointerToInterfaceOpen → ptrlib.Clocky.Do → time.Now` PointerToInterfaceOpen:`^open: robust.PointerToInterfaceOpen → ptrlib.Clocky.Do → time.Now`
	box := &struct{ d ptrlib.Doer }{ptrlib.Pure{}}
	h := &holder{}
	h.set(&box.d)
	*h.d = ptrlib.Clocky{}
	return s.Put(fc, "k", (*h.d).Do()) // want `ptrlib.Clocky.Do is not closed: ptrlib.Clocky.Do → time.Now`
}

// Through another package's field of type *Doer (its type fact).
//
//flowgen:flow
func PointerToInterfaceOtherPackage(fc flow.Context, s Store) error { // want `flow PointerToInterfaceOtherPackage is not closed: PointerToInterfaceOtherPackage → ptrlib.Clocky.Do → time.Now` PointerToInterfaceOtherPackage:`^open: robust.PointerToInterfaceOtherPackage → ptrlib.Clocky.Do → time.Now`
	box := &struct{ d ptrlib.Doer }{ptrlib.Clocky{}}
	return s.Put(fc, "k", ptrlib.NewHolder(&box.d).Run()) // want `ptrlib.Clocky.Do is not closed: ptrlib.Clocky.Do → time.Now`
}

// What a new(*Doer) points to cannot be traced: every implementation of
// Doer is judged, and Clocky is not closed.
//
//flowgen:flow
func PointerToPointer(fc flow.Context, s Store) error { // want `flow PointerToPointer is not closed: PointerToPointer → ptrlib.Clocky.Do → time.Now` PointerToPointer:`^open: robust.PointerToPointer → ptrlib.Clocky.Do → time.Now`
	box := &struct{ d ptrlib.Doer }{ptrlib.Pure{}}
	pp := new(*ptrlib.Doer)
	*pp = &box.d
	h := &holder{}
	h.setBoth(&box.d, pp)
	var l ptrlib.Loop
	l.P = &l.P
	return s.Put(fc, "k", (**h.dd).Do()) // want `ptrlib.Clocky.Do is not closed: ptrlib.Clocky.Do → time.Now` `ptrlib.Doer.Do: is called through an interface whose value cannot be traced, and its implementation ptrlib.Clocky is not closed`
}

// An unexported method named by another package's obligation: found in
// the method set of the type given (it was "cannot be resolved").
//
//flowgen:flow
func UnexportedMethod(fc flow.Context, s Store) error {
	return s.Put(fc, "k", ptrlib.Render(ptrlib.NewStmt("a"), ptrlib.NewStmt("b")))
}

//flowgen:flow
func UnexportedMethodOpen(fc flow.Context, s Store) error { // want `flow UnexportedMethodOpen is not closed: UnexportedMethodOpen → ptrlib.Clock.render → time.Now` UnexportedMethodOpen:`^open: robust.UnexportedMethodOpen → ptrlib.Clock.render → time.Now`
	return s.Put(fc, "k", ptrlib.Render(ptrlib.NewStmt("a"), ptrlib.NewClock())) // want `ptrlib.Clock.render is not closed: ptrlib.Clock.render → time.Now`
}

// A method called only if a type assertion finds it: a type without it is
// not called (it was "cannot be resolved").
type recorder struct{ msgs []string }

func (r *recorder) Errorf(format string, args ...any) { r.msgs = append(r.msgs, format) } // want Errorf:`^closed writes\[-1\] stores\(-1.msgs\[\] ← 0\)$`

type stampingRecorder struct{ recorder }

func (r *stampingRecorder) Helper() { r.msgs = append(r.msgs, time.Now().String()) } // want Helper:`^open: robust.stampingRecorder.Helper → time.Now` `time.Now: reads the wall clock; use flow.Now\(fc\) \(flow MissingMethodOpen: MissingMethodOpen → stampingRecorder.Helper → time.Now\)`

//flowgen:flow
func MissingMethod(fc flow.Context, s Store, ok bool) error {
	r := &recorder{}
	ptrlib.Check(r, ok)
	return s.Put(fc, "k", strings.Join(r.msgs, ","))
}

//flowgen:flow
func MissingMethodOpen(fc flow.Context, s Store, ok bool) error { // want `flow MissingMethodOpen is not closed: MissingMethodOpen → stampingRecorder.Helper → time.Now` MissingMethodOpen:`^open: robust.MissingMethodOpen → robust.stampingRecorder.Helper → time.Now`
	r := &stampingRecorder{}
	ptrlib.Check(r, ok)
	return s.Put(fc, "k", strings.Join(r.msgs, ","))
}
