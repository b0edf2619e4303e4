// Package client holds flows using another package's client, configured // want package:"analysed"
// with functional options.
package client

import (
	"context"
	"strings"

	"corpus/clientlib"
	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:host
type Transport interface { // want Transport:"host"
	Send(ctx context.Context, req string) (string, error)
}

// Plain makes a client with closed options.
//
//flowgen:flow
func Plain(fc flow.Context, t Transport, path string) (string, error) {
	var sent []string
	c := clientlib.New(clientlib.WithPrefix("/v1"), clientlib.WithRetries(3), clientlib.WithEncoder(strings.ToUpper),
		clientlib.WithHook(func(r string) { sent = append(sent, r) }))
	return t.Send(fc, c.Request(path))
}

// Stamped adds an option that reads the clock.
//
//flowgen:flow
func Stamped(fc flow.Context, t Transport, path string) (string, error) { // want `flow Stamped is not closed: Stamped → clientlib.WithStamp → time.Now` Stamped:`open: client\.Stamped → clientlib\.WithStamp → time\.Now`
	c := clientlib.New(clientlib.WithStamp()) // want `clientlib.WithStamp is not closed`
	return t.Send(fc, c.Request(path))
}
