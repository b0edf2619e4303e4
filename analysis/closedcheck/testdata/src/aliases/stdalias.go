package aliases

import (
	"bytes"

	"github.com/asyncflow-go/asyncflow/flow"
)

// raw is written through what bytes.TrimSpace returns: part of raw itself.
var raw = []byte(" x ")

// pristine is only written through a copy.
var pristine = []byte(" y ")

func upcase() { // want upcase:`open: aliases.upcase → package variable raw`
	b := bytes.TrimSpace(raw)
	b[0] = 'X'
	c := bytes.Clone(pristine)
	c[0] = 'Y'
}

// Trimmed reads raw, which upcase writes through what the standard
// library returned.
//
//flowgen:flow
func Trimmed(fc flow.Context) string { // want `flow Trimmed is not closed: Trimmed → package variable raw: reads package state that is written at aliases/stdalias.go:17:2` Trimmed:`open: aliases.Trimmed → package variable raw`
	return string(raw) // want `package variable raw: reads package state that is written at aliases/stdalias.go:17:2`
}

// Cloned reads pristine, which nothing writes.
//
//flowgen:flow
func Cloned(fc flow.Context) string {
	return string(pristine)
}
