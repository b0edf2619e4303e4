package billing

import (
	"testing"

	"example.com/settings"
)

func TestSurcharge(t *testing.T) { // want TestSurcharge:`open: billing.TestSurcharge → package variable Surcharge`
	Surcharge = 4     // want `flow Surcharged reads billing.Surcharge, which the tests of package billing write at billing/billing_test.go:10:2`
	settings.Rate = 5 // want `flow Fee reads settings.Rate, which the tests of package billing write at billing/billing_test.go:11:11`
}
