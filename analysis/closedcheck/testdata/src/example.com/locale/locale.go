// Package locale sets a default of another package: a library's write, seen // want package:"analysed"
// by the program that links it.
package locale

import "example.com/settings"

// Use sets the currency symbol.
func Use(sym string) { settings.Symbol = sym } // want Use:`open: locale\.Use → package variable settings\.Symbol`
