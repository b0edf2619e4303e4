// Package billing holds flows that read configuration. // want package:"analysed"
package billing

import (
	"context"

	"example.com/settings"
	"github.com/asyncflow-go/asyncflow/flow"
)

//flowgen:host
type Ledger interface { // want Ledger:"host"
	Post(ctx context.Context, account string, cents int64) error
}

// Fee reads a default nothing writes: closed.
//
//flowgen:flow
func Fee(fc flow.Context, l Ledger, account string, cents int64) error { // want Fee:`closed reads\(example\.com/settings\.Currency example\.com/settings\.Default example\.com/settings\.Rate example\.com/settings\.Regions example\.com/settings\.SKU example\.com/settings\.Upper\)`
	fee := cents * int64(settings.Rate) / 100
	if !settings.SKU.MatchString(account) || settings.Currency != "EUR" {
		return settings.ErrClosed
	}
	return l.Post(fc, settings.Upper(account), cents+fee+int64(settings.Default.Retries)+int64(len(settings.Regions["eu"])))
}

// Quota reads Limit, which package main writes: reported there.
//
//flowgen:flow
func Quota(fc flow.Context, l Ledger, account string, cents int64) error { // want Quota:`closed reads\(example\.com/settings\.Limit\)`
	if cents > int64(settings.Limit) {
		return settings.ErrClosed
	}
	return l.Post(fc, account, cents)
}

// Burst reads the live configuration, which the server changes through
// the pointer settings.Live returns.
//
//flowgen:flow
func Burst(fc flow.Context, l Ledger, account string) error { // want Burst:`closed reads\(example\.com/settings\.live\)`
	return l.Post(fc, account, int64(settings.Live().Burst))
}

// Discount is an exported default of this package nothing writes.
var Discount = 5

// Discounted reads it: closed.
//
//flowgen:flow
func Discounted(fc flow.Context, l Ledger, account string, cents int64) error { // want Discounted:`closed reads\(example\.com/billing\.Discount\)`
	return l.Post(fc, account, cents-int64(Discount))
}

// Surcharge is exported, and this package's tests change it.
var Surcharge = 2

// Surcharged reads it: the tests' write is reported in the test.
//
//flowgen:flow
func Surcharged(fc flow.Context, l Ledger, account string, cents int64) error { // want Surcharged:`closed reads\(example\.com/billing\.Surcharge\)`
	return l.Post(fc, account, cents+int64(Surcharge))
}

// Label reads Symbol, which package locale writes: reported at the program
// that links both, at its import of locale.
//
//flowgen:flow
func Label(fc flow.Context, l Ledger, account string, cents int64) error { // want Label:`closed reads\(example\.com/settings\.Symbol\)`
	return l.Post(fc, settings.Symbol+account, cents)
}
