package flow

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// ActivationID identifies one activation: a random 128-bit value, or one
// derived from the flow name and a caller-given id for StartWithID.
type ActivationID [16]byte

// String returns the id as 32 hexadecimal digits.
func (id ActivationID) String() string { return hex.EncodeToString(id[:]) }

// IsZero reports whether id is the zero id, which names no activation.
func (id ActivationID) IsZero() bool { return id == ActivationID{} }

// ParseActivationID parses the form String returns.
func ParseActivationID(s string) (ActivationID, error) {
	var id ActivationID
	err := parseHexID(id[:], s, "activation")
	return id, err
}

// NewActivationID returns a random id.
func NewActivationID() ActivationID {
	var id ActivationID
	_, _ = rand.Read(id[:]) // never fails
	return id
}

// VowID identifies a vow durably: a host can store it and look the vow up
// later, in another incarnation.
type VowID [16]byte

// String returns the id as 32 hexadecimal digits.
func (id VowID) String() string { return hex.EncodeToString(id[:]) }

// IsZero reports whether id is the zero id, which names no vow.
func (id VowID) IsZero() bool { return id == VowID{} }

// ParseVowID parses the form String returns.
func ParseVowID(s string) (VowID, error) {
	var id VowID
	err := parseHexID(id[:], s, "vow")
	return id, err
}

// NewVowID returns a random id.
func NewVowID() VowID {
	var id VowID
	_, _ = rand.Read(id[:]) // never fails
	return id
}

func parseHexID(dst []byte, s, what string) error {
	if len(s) != 2*len(dst) {
		return fmt.Errorf("flow: %s id %q: want %d hexadecimal digits", what, s, 2*len(dst))
	}
	if _, err := hex.Decode(dst, []byte(s)); err != nil {
		return fmt.Errorf("flow: %s id %q: %w", what, s, err)
	}
	return nil
}
