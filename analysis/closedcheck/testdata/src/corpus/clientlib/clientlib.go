// Package clientlib is a client configured with functional options. // want package:"analysed"
package clientlib

import (
	"strings"
	"time"
)

// Client formats requests.
type Client struct {
	prefix  string
	retries int
	encode  func(string) string
	hooks   []func(string)
}

// Option configures a client.
type Option func(*Client)

// WithPrefix sets the prefix.
func WithPrefix(p string) Option { return func(c *Client) { c.prefix = p } }

// WithRetries sets the retries.
func WithRetries(n int) Option { return func(c *Client) { c.retries = n } }

// WithEncoder sets how requests are encoded.
func WithEncoder(f func(string) string) Option { return func(c *Client) { c.encode = f } } // want WithEncoder:`closed calls\(param 0 \)`

// WithHook adds a hook called on each request.
func WithHook(h func(string)) Option { return func(c *Client) { c.hooks = append(c.hooks, h) } } // want WithHook:`closed calls\(param 0 \)`

// WithStamp stamps requests with the host's clock.
func WithStamp() Option { // want WithStamp:`open: clientlib.WithStamp → time.Now`
	return func(c *Client) { c.prefix = time.Now().Format(time.Kitchen) }
}

// New makes a client.
func New(opts ...Option) *Client { // want New:`closed calls\(param 0\[\] \)`
	c := &Client{encode: strings.ToLower, retries: 1}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Request formats a request.
func (c *Client) Request(path string) string { // want Request:`closed calls\(param \-1\.encode \) calls\(param \-1\.hooks\[\] \)`
	r := c.prefix + c.encode(path)
	for _, h := range c.hooks {
		h(r)
	}
	return r
}
