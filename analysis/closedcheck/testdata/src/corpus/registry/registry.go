// Package registry keeps named strategies, registered at start-up. // want package:"analysed"
package registry

import (
	"strings"
	"time"
)

// Notifier formats a notification.
type Notifier interface {
	Format(to, msg string) string
}

type plain struct{}

func (plain) Format(to, msg string) string { return to + ": " + msg }

type shouting struct{}

func (shouting) Format(to, msg string) string { return strings.ToUpper(to + ": " + msg) }

type dated struct{}

func (dated) Format(to, msg string) string { return time.Now().Format(time.DateOnly) + " " + msg } // want Format:`open: registry.dated.Format → time.Now`

// Registry holds notifiers by name.
type Registry struct{ byName map[string]Notifier }

// New makes a registry with the plain notifiers.
func New() *Registry {
	r := &Registry{byName: map[string]Notifier{}}
	r.byName["plain"] = plain{}
	r.byName["shout"] = shouting{}
	return r
}

// Get returns a notifier.
func (r *Registry) Get(name string) Notifier {
	if n, ok := r.byName[name]; ok {
		return n
	}
	return plain{}
}

// Dated returns the dated notifier.
func Dated() Notifier { return dated{} } // want Dated:`result0\(Format: open\)`
