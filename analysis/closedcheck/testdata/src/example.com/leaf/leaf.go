package leaf // want package:"analysed"

import (
	"errors"
	"strings"
	"time"
)

// ErrEmpty is a sentinel error: importers may read it.
var ErrEmpty = errors.New("empty") // want ErrEmpty:"sentinel"

// Rates is an exported table its package changes (SetRate below).
var Rates = map[string]int{"eur": 100} // want Rates:`written at leaf/leaf\.go:34:39`

// Stamp reads the clock.
func Stamp() int64 { return time.Now().Unix() } // want Stamp:"open: leaf.Stamp → time.Now: reads the wall clock"

// Clean is pure.
func Clean(s string) string { return strings.TrimSpace(s) }

// Apply calls what it is given.
func Apply(f func(string) string, s string) string { return f(s) } // want Apply:`closed calls\(param 0 \)`

// Each calls a method of its type parameter.
func Each[T interface{ Name() string }](xs []T) []string { // want Each:`closed calls\(typeparam 0 Name\)`
	var out []string
	for _, x := range xs {
		out = append(out, x.Name())
	}
	return out
}

// SetRate changes a rate: Rates is not a constant table.
func SetRate(cur string, cents int) { Rates[cur] = cents } // want SetRate:`open: leaf\.SetRate → package variable Rates`
