package top // want package:"analysed"

import (
	"strings"
	"time"

	"example.com/leaf"
	"example.com/mid"
	"github.com/asyncflow-go/asyncflow/flow"
)

type user struct{ name string }

func (u user) Name() string { return u.name }

type timed struct{}

func (timed) Name() string { return time.Now().String() } // want `time.Now` Name:`open: top\.timed\.Name → time\.Now`

//flowgen:flow
func Charge(fc flow.Context, cents int64) int64 { // want `flow Charge is not closed: Charge → mid.Fee → leaf.Stamp → time.Now: reads the wall clock; use flow.Now\(fc\), at leaf/leaf.go:16:34` Charge:`open: top\.Charge → mid\.Fee → leaf\.Stamp → time\.Now`
	return mid.Fee(cents) // want `mid.Fee is not closed: mid.Fee → leaf.Stamp → time.Now: reads the wall clock; use flow.Now\(fc\), at leaf/leaf.go:16:34 \(flow Charge: Charge → mid.Fee → leaf.Stamp → time.Now\)`
}

//flowgen:flow
func Tidy(fc flow.Context, s string) (string, error) {
	if s == "" {
		return "", leaf.ErrEmpty
	}
	names := leaf.Each([]user{{"a"}, {"b"}})
	return mid.Label(s) + mid.Shout(strings.ToUpper, s) + names[0], nil
}

//flowgen:flow
func Bad(fc flow.Context, s string) string { // want `flow Bad is not closed` Bad:`open: top\.Bad → top\.timed\.Name → time\.Now`
	_ = leaf.Each([]timed{{}})
	return mid.Shout(func(x string) string { return x + time.Now().String() }, s) // want `time.Now`
}

//flowgen:flow
func Table(fc flow.Context, c string) int { // want `flow Table is not closed` Table:`open: top\.Table → package variable leaf\.Rates`
	return leaf.Rates[c] // want `package variable leaf.Rates: reads a variable other packages can change: cannot prove closed`
}

//flowgen:flow
func Regional(fc flow.Context) string { // want `flow Regional is not closed: Regional → leaf.Region → os.Getenv: is I/O or ambient authority \(files, environment, processes\), at leaf/region.go:9:34 \(and 1 more\)` Regional:`open: top\.Regional → leaf\.Region → os\.Getenv`
	return leaf.Region() // want `leaf.Region is not closed: leaf.Region → os.Getenv` `leaf.Region is not closed: leaf.Region → time.Now`
}
