package flow

import "encoding/hex"

// Random returns 64 random bits. Live it draws them from a cryptographic
// source and logs them as a marker, like [Now]; replaying it returns the
// logged bits. A flow needs no host interface to draw a number that replays.
func Random(fc Context) uint64 { return guestOf(fc).Random() }

// UUID returns a random (version 4) UUID in its canonical form,
// "xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx". Live it draws 122 random bits and
// logs the UUID as a marker; replaying it returns the logged one. Use it to
// mint an id a flow hands to hosts, such as an idempotency key of its own.
func UUID(fc Context) string {
	u := guestOf(fc).UUID()
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}
