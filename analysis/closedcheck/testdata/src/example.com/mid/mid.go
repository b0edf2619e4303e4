package mid // want package:"analysed"

import "example.com/leaf"

// Fee calls leaf.Stamp: it is not closed, and the chain says why.
func Fee(cents int64) int64 { return cents/100 + leaf.Stamp()%2 } // want Fee:"open: mid.Fee → leaf.Stamp → time.Now"

// Label is closed across the packages.
func Label(s string) string { return leaf.Apply(leaf.Clean, s) }

// Shout passes its own parameter on: its callers must pass something closed.
func Shout(f func(string) string, s string) string { return leaf.Apply(f, s) } // want Shout:`closed calls\(param 0 \)`
