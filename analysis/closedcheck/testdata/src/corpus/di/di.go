// Package di wires services the way applications do: a container struct // want package:"analysed"
// of dependencies, strategies from another package's registry, type
// assertions.
package di

import (
	"context"

	"corpus/registry"
	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:host
type Sender interface { // want Sender:"host"
	Send(ctx context.Context, text string) error
}

// App holds what flows need.
type App struct { // want App:`fields \.fmtr\(Format: open\)`
	send  Sender
	fmtr  registry.Notifier
	names []string
}

func (a *App) notify(fc flow.Context, to, msg string) error { // want notify:`closed calls\(param \-1\.fmtr Format\)`
	return a.send.Send(fc, a.fmtr.Format(to, msg))
}

// Notify builds the app with a registered notifier.
//
//flowgen:flow
func Notify(fc flow.Context, s Sender, to, msg string) error {
	app := &App{send: s, fmtr: registry.New().Get("shout")}
	return app.notify(fc, to, msg)
}

// NotifyDated uses the notifier that reads the clock.
//
//flowgen:flow
func NotifyDated(fc flow.Context, s Sender, to, msg string) error { // want `flow NotifyDated is not closed: NotifyDated → registry.dated.Format → time.Now` NotifyDated:`open: di\.NotifyDated → registry\.dated\.Format → time\.Now`
	app := &App{send: s, fmtr: registry.Dated()}
	return app.notify(fc, to, msg) // want `registry.Dated\(…\).Format is not closed: registry.dated.Format → time.Now`
}

// Asserted picks a notifier out of an any.
//
//flowgen:flow
func Asserted(fc flow.Context, s Sender, to, msg string) error {
	var v any = registry.New().Get("plain")
	if n, ok := v.(registry.Notifier); ok {
		return s.Send(fc, n.Format(to, msg))
	}
	return nil
}
