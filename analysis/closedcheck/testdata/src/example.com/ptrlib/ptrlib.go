// Package ptrlib holds shapes that once crashed the analysis of its // want package:`analysed impl\(example.com/ptrlib.Code \*example.com/ptrlib.Clock render: open\) impl\(example.com/ptrlib.Code \*example.com/ptrlib.Stmt\) impl\(example.com/ptrlib.Doer example.com/ptrlib.Clocky Do: open\) impl\(example.com/ptrlib.Doer example.com/ptrlib.Pure\)\}$`
// importers: interfaces reached through pointers in fields, and obligations
// naming unexported methods.
package ptrlib

import "time"

// Doer does something.
type Doer interface{ Do() string }

// Holder keeps a pointer to an interface value it is given.
type Holder struct{ d *Doer }

// NewHolder stores d, a parameter, in a field of type *Doer.
func NewHolder(d *Doer) *Holder { return &Holder{d: d} } // want NewHolder:`^closed calls\(param 0 Do\)$`

// Run calls the method of what d points to.
func (h *Holder) Run() string { return (*h.d).Do() } // want Run:`^closed calls\(param -1.d Do\)$`

// Pure does nothing with the world.
type Pure struct{}

func (Pure) Do() string { return "pure" }

// Clocky reads the clock.
type Clocky struct{}

func (Clocky) Do() string { return time.Now().String() } // want Do:`^open: ptrlib.Clocky.Do → time.Now`

// P is a pointer to itself: legal Go, a loop for whoever follows pointers.
type P *P

// Loop holds one.
type Loop struct {
	P  P
	DS **[]Doer
}

// Code has an unexported method: importers can call Render, never render.
type Code interface{ render() string }

// Stmt is the package's Code.
type Stmt struct{ text string }

func (s *Stmt) render() string { return s.text }

// Clock is a Code that reads the clock.
type Clock struct{}

func (*Clock) render() string { return time.Now().String() } // want render:`^open: ptrlib.Clock.render → time.Now`

// NewStmt returns a Stmt as its concrete type.
func NewStmt(text string) *Stmt { return &Stmt{text: text} }

// NewClock returns a Clock.
func NewClock() *Clock { return &Clock{} }

// Render renders every Code it is given.
func Render(cs ...Code) string { // want Render:`^closed calls\(param 0\[\] render\)$`
	out := ""
	for _, c := range cs {
		out += c.render()
	}
	return out
}

// T is what Check reports to.
type T interface {
	Errorf(format string, args ...any)
}

type helper interface{ Helper() }

// Check calls Helper on t only if t has one.
func Check(t T, ok bool) { // want Check:`^closed calls\(param 0 Helper\) calls\(param 0 Errorf\)$`
	if h, isHelper := t.(helper); isHelper {
		h.Helper()
	}
	if !ok {
		t.Errorf("not ok")
	}
}
