// want package:"analysed"
// Package settings holds configuration defaults as exported variables.
// Nothing here writes them after initialisation: whether they are
// constant depends on the programs that link this package.
package settings

import (
	"errors"
	"regexp"
	"strings"
)

// Rate is a default nothing writes: reading it is closed.
var Rate = 3

// Limit is a default package main overrides at start-up.
var Limit = 100

// Regions is a lookup table.
var Regions = map[string]string{"eu": "Europe", "us": "Americas"}

// SKU is a compiled pattern.
var SKU = regexp.MustCompile(`^[A-Z]{3}-\d{4}$`)

// Currency is a constant-like name declared as a variable.
var Currency = "EUR"

// Upper is a table of pure functions.
var Upper = strings.ToUpper

// Settings is live configuration.
type Settings struct {
	Retries int
	Burst   int
}

// Default is a configuration nothing writes.
var Default = &Settings{Retries: 3, Burst: 10}

// live is configuration the server changes at run time, through Live.
var live = &Settings{Retries: 1, Burst: 5}

// Live returns the live configuration: whoever holds it can change it.
func Live() *Settings { return live } // want Live:`closed reads\(example.com/settings.live\) aliases\(example.com/settings.live\)`

// ErrClosed is a sentinel.
var ErrClosed = errors.New("closed") // want ErrClosed:"sentinel"

// Symbol is a default package locale changes.
var Symbol = "€"
